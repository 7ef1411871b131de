"""Volume SLAs: a KPI that must reach a minimum per slice and month ("marketing delivers 20 SMB MQLs a month").

The KPI is the catalog's (the same number the scorecard shows), evaluated per month and per ``by`` slice under
the agreement version in force on the month's first day. A month still running when the data ends is ``open``
(it can still be met); a finished month is ``met`` or ``breached``, with ``short`` = how many were missing.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from revalign.definitions.agreements.loader import AgreementBook
from revalign.definitions.kpis.catalog import Catalog
from revalign.kpis.query import KpiQuery
from revalign.model.access import Tables

VOLUME_COLUMNS = ("sla", "agreement", "version", "period", "slice", "value", "at_least", "short", "status")


def volume_slas(
    catalog: Catalog,
    tables: Tables,
    book: AgreementBook,
    *,
    agreement: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    """One row per volume SLA, month and slice named in ``at_least`` (``all``: the whole, unsliced)."""
    rows: list[dict[str, object]] = []
    names = {s.name for v in book.history(agreement) for s in v.slas if s.type == "volume"}
    for name in sorted(names):
        versions = [v for v in book.history(agreement) if v.sla(name) is not None]
        sla = versions[-1].sla(name)
        assert sla is not None and sla.kpi is not None
        query = KpiQuery(catalog, tables, (sla.kpi,)).grain("month").period(start, end).no_cache()
        frame = (query.by(sla.by) if sla.by else query).to_pandas()
        for rec in frame.to_dict("records"):
            month = pd.Timestamp(rec["period_start"]).date()
            version = book.in_force(month, agreement)
            spec = version.sla(name) if version is not None else None
            if version is None or spec is None:
                continue
            key = str(rec[sla.by]) if sla.by else "all"
            if key not in spec.at_least:
                continue
            value, floor = float(rec["value"] or 0.0), spec.at_least[key]
            done = as_of is None or (pd.Timestamp(month) + pd.offsets.MonthBegin(1)).date() <= as_of
            status = ("met" if value >= floor else "breached") if done else "open"
            rows.append(
                {
                    "sla": name,
                    "agreement": version.agreement,
                    "version": version.version,
                    "period": month,
                    "slice": key,
                    "value": value,
                    "at_least": floor,
                    "short": max(floor - value, 0.0),
                    "status": status,
                }
            )
    return pd.DataFrame(rows, columns=list(VOLUME_COLUMNS))


__all__ = ["VOLUME_COLUMNS", "volume_slas"]
