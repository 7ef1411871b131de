"""Run the audit: every detector (or the kinds asked for) over one engine's tables, as one sorted findings frame.

The detectors are listed here explicitly (:data:`DETECTORS`), in :data:`FINDING_KINDS` order; none registers
itself by being imported. Each is an Ibis expression run on the engine, except that the duplicate detectors pull
the small candidate sets they block in Ibis into pandas to score names (see their modules). Findings are few
(hundreds per thousand leads), so the frame is small whatever the engine holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping

import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.audit.common import empty_findings, finalise
from revalign.analytics.audit.findings import FINDING_KINDS
from revalign.analytics.audit.lead_source_overwrite import lead_source_overwrite
from revalign.analytics.audit.no_opportunity_recreate import no_opportunity_recreate
from revalign.definitions.audit import AuditSettings
from revalign.errors import UnknownNameError
from revalign.model.access import Tables

Detector = Callable[[Tables, AuditSettings], "ir.Table | pd.DataFrame"]
"""A detector: the tables and the settings → findings (an Ibis table, or a frame when it scores in pandas)."""

DETECTORS: Mapping[str, Detector] = {
    "lead_source_overwrite": lead_source_overwrite,
    "no_opportunity_recreate": no_opportunity_recreate,
}
"""Every detector by kind, in the order the audit lists them."""


def _kinds(kinds: Iterable[str] | str | None) -> list[str]:
    if kinds is None:
        return list(DETECTORS)
    asked = [kinds] if isinstance(kinds, str) else list(kinds)
    for kind in asked:
        if kind not in FINDING_KINDS:
            raise UnknownNameError("audit finding kind", kind, FINDING_KINDS)
    return [k for k in DETECTORS if k in asked]


def _since(value: dt.date | dt.datetime | str | None) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value)


def detect(
    tables: Tables,
    settings: AuditSettings | None = None,
    *,
    kinds: Iterable[str] | str | None = None,
    since: dt.date | dt.datetime | str | None = None,
) -> pd.DataFrame:
    """Findings of ``kinds`` (default every kind) that occurred at or after ``since``: columns
    :data:`~revalign.analytics.audit.findings.FINDING_COLUMNS`, sorted by kind, time and record."""
    settings = settings or AuditSettings()
    start = _since(since)
    frames = []
    for kind in _kinds(kinds):
        found = DETECTORS[kind](tables, settings)
        if isinstance(found, ir.Table):
            if start is not None:
                found = found.filter(found.occurred_at >= start.to_pydatetime())
            frame = tables.to_pandas(found)
        else:
            frame = found if start is None else found[found["occurred_at"] >= start]
        if len(frame):
            frames.append(frame)
    if not frames:
        return empty_findings()
    return finalise(pd.concat(frames, ignore_index=True))
