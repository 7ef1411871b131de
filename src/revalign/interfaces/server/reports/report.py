"""What every report page shares: the :class:`Report` itself, "not available" notices, period and drill links.

A report is named pandas tables plus notices and page metadata; the page and its JSON twin both show it. When
an analytic cannot run for this project yet (no data loaded), the report says so (``available=False``)
instead of showing zeros.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal, get_args
from urllib.parse import urlencode

import pandas as pd

from revalign.analytics.drills import drill_of
from revalign.analytics.governance.scorecard import SCORECARD_DEPARTMENTS
from revalign.analytics.records import RECORD_TABLES
from revalign.errors import RevalignError
from revalign.interfaces.server.errors import NotAvailable
from revalign.interfaces.server.filters import Filters
from revalign.kpis.request import NONE_LABEL
from revalign.model.calendar import parse_period, period_label
from revalign.project import Project

DepartmentName = Literal["joint", "marketing", "sales", "revops", "customer_success"]
"""Whose scorecard a page can show; ``joint`` is the shared one tied to the north star (OpenAPI's enum)."""

if get_args(DepartmentName) != SCORECARD_DEPARTMENTS:  # the OpenAPI enum must list the library's departments
    raise AssertionError(f"DepartmentName {get_args(DepartmentName)} != {SCORECARD_DEPARTMENTS}")


@dataclass
class Report:
    """What one page shows: named tables (in display order), notices, and page-specific metadata."""

    page: str
    title: str
    tables: dict[str, tuple[str, pd.DataFrame]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    available: bool = True

    def add(self, name: str, title: str, frame: pd.DataFrame) -> None:
        self.tables[name] = (title, frame)


def unavailable(page: str, title: str, exc: NotAvailable) -> Report:
    return Report(page=page, title=title, available=False, notices=[str(exc)])


def guarded(page: str, title: str, build: Callable[..., Report], *args: Any) -> Report:
    """``build(*args)``, or an "available: false" report naming what is missing."""
    try:
        return build(*args)
    except NotAvailable as exc:
        return unavailable(page, title, exc)


def require_data(project: Project, feature: str) -> None:
    """:class:`NotAvailable` when nothing was loaded: an empty project shows a hint, not a page of zeros."""
    if not any(project.engine.has_table(t) for t in ("leads", "opportunities")):
        raise NotAvailable(feature, "this project has no data yet. Run `revalign demo` or `revalign ingest`.")


def period_range(filters: Filters) -> tuple[date | None, date | None]:
    """``start``/``end`` for the library, whose date ranges are half-open: the API's inclusive ``end`` + 1 day."""
    end = filters.end + timedelta(days=1) if filters.end is not None else None
    return filters.start, end


def departments_frame(status: Mapping[str, str]) -> pd.DataFrame:
    """A scorecard's roll-up (department → status) as the "Departments" table."""
    return pd.DataFrame({"department": list(status), "status": list(status.values())})


# -- drill links --------------------------------------------------------------------------------------------------


def fiscal_start(project: Project) -> int:
    return int(project.settings.fiscal_year_start_month)


def period_bounds(project: Project, label: str) -> tuple[date, date]:
    """First and last day (inclusive) of a period label, by the project's fiscal calendar."""
    p = parse_period(label, fiscal_start(project))
    return p.start, p.end - timedelta(days=1)


DRILL_SLICES = {"segment": "segment", "channel": "channel", "stage": "stage", "owner": "owner_id"}
"""Dimensions a drill can be cut by (→ its query parameter); a number sliced by another has no drill link."""


def records_link(
    project: Project,
    kpi: str,
    label: str | None,
    segment: str | None = None,
    *,
    start: date | None = None,
    end: date | None = None,
    dims: Mapping[str, Any] | None = None,
) -> str | None:
    """The link to the records behind ``kpi`` in period ``label`` (or ``start``..``end``), or None.

    A KPI that lists rows of one table (a count or sum) links to ``/records/<table>?kpi=…``; every other KPI
    (a ratio's numerator and denominator, a cumulative window, a snapshot, a derived KPI's inputs) to
    ``/records?kpi=…``, which shows each part. ``segment`` and ``dims`` (dimension → value of the sliced
    number) narrow the rows as the number was narrowed. ``None`` — no link rather than a list that is not this
    number's — for an unknown KPI, a label that is not a period, or a slice the drill cannot take (a dimension
    outside :data:`DRILL_SLICES`, one the KPI's rows lack, a missing value).
    """
    try:
        drill = drill_of(project.catalog, kpi)
    except RevalignError:
        return None
    if label:
        try:
            start, end = period_bounds(project, label)
        except ValueError:
            return None  # a link without the period would list every period's rows: no link is better
    params: dict[str, Any] = {"kpi": kpi}
    if start is not None:
        params["start"] = start.isoformat()
    if end is not None:
        params["end"] = end.isoformat()
    for dim, value in {**(dims or {}), **({"segment": segment} if segment else {})}.items():
        if value is None:
            continue
        sliceable = all(project.catalog.can_slice(p.rows_kpi, [dim]) for p in drill.parts)
        if dim not in DRILL_SLICES or not sliceable or not isinstance(value, str) or value == NONE_LABEL:
            return None
        params[DRILL_SLICES[dim]] = value
    path = "/records"
    if len(drill.parts) == 1 and drill.parts[0].mode == "period" and drill.parts[0].rows_kpi == kpi:
        table = project.catalog.semantic_model(project.catalog.get(kpi).semantic_model or "").table
        path = f"/records/{table}" if table in RECORD_TABLES else path
    return f"{path}?{urlencode(params)}"


def with_drill(project: Project, kpi: str, frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """``frame`` (KPI values per ``period_start``, maybe per dimension) plus a ``_drill`` link to each value's
    records, narrowed to the row's slice (a row per owner opens that owner's rows)."""
    if frame.empty or "period_start" not in frame.columns:
        return frame
    grain = filters.grain or "month"
    dims = [d for d in frame.columns if d not in ("kpi", "period_start", "value") and not d.startswith("_")]
    links = []
    for row in frame.to_dict("records"):
        label = period_label(pd.Timestamp(row["period_start"]).date(), grain, fiscal_start(project))
        sliced = {d: row[d] for d in dims}
        segment = filters.segment if "segment" not in sliced else None
        links.append(records_link(project, kpi, label, segment, dims=sliced))
    return frame.assign(_drill=links)
