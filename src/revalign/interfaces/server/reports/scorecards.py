"""The scorecards page: a department's KPIs (and the north star) or the joint card, with period-over-period."""

from __future__ import annotations

import pandas as pd

from revalign.analytics.governance.scorecard import Scorecard
from revalign.errors import RevalignError
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report, departments_frame, records_link, require_data
from revalign.project import Project

SCORECARD_COLUMNS = (
    "kpi",
    "label",
    "department",
    "period",
    "actual",
    "target",
    "attainment",
    "status",
    "previous_period",
    "previous",
    "change",
    "pct_change",
    "movement",
    "trend_direction",
    "unit",
    "direction",
)


def sliceable(project: Project, names: list[str], dims: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Split ``names`` into KPIs that can be sliced by every dimension in ``dims`` and those that cannot.

    Compiling a query touches no data, so this asks the KPI compiler itself rather than guessing.
    """
    ok, left_out = [], []
    for name in names:
        try:
            project.kpi(name).by(*dims).to_ibis()
            ok.append(name)
        except RevalignError:
            left_out.append(name)
    return ok, left_out


def scorecard_card(project: Project, department: str, filters: Filters) -> tuple[Scorecard, list[str]]:
    """The library's scorecard for ``department`` (``joint``: every KPI) in the filters' period and grain.

    When the filters slice by a dimension that some KPIs do not have (spend has no segment), those KPIs are
    left out and returned beside the card instead of failing the whole card.
    """
    require_data(project, "Scorecards")
    by = tuple(d for d in (filters.by, "segment" if filters.segment and filters.by != "segment" else None) if d)
    dept = None if department == "joint" else department
    kpis: list[str] | None = None
    left_out: list[str] = []
    if by:
        cat = project.catalog
        names = list(cat.kpis) if dept is None else [k.name for k in cat.by_department(dept)]
        star = cat.north_star
        if star and star not in names:
            names = [star, *names]
        kpis, left_out = sliceable(project, names, by)
    card = project.scorecard(dept, period=filters.period, grain=filters.grain or "quarter", by=by, kpis=kpis)
    return card, left_out


def scorecard_frame(project: Project, card: Scorecard, filters: Filters) -> pd.DataFrame:
    """The card's rows (its slices first), with a ``_drill`` link to the records behind each actual."""
    frame = card.to_pandas()
    if filters.segment is not None and "segment" in frame.columns:
        frame = frame[frame["segment"] == filters.segment]
    dims = [c for c in card.by if c in frame.columns]
    frame = frame[[*dims, *[c for c in SCORECARD_COLUMNS if c in frame.columns]]].reset_index(drop=True)
    frame["_drill"] = [
        records_link(project, k, p, filters.segment) for k, p in zip(frame["kpi"], frame["period"], strict=True)
    ]
    return frame


def card_notices(card: Scorecard, left_out: list[str]) -> list[str]:
    """The KPIs left out of a sliced card, then the card's own notices (ignored target rows…)."""
    notices = list(card.notices)
    if left_out:
        dims = ", ".join(card.by)
        notices.insert(
            0, f"{len(left_out)} KPIs cannot be sliced by {dims} and are left out: {', '.join(sorted(left_out))}."
        )
    return notices


def scorecard(project: Project, department: str, filters: Filters) -> Report:
    """A department's scorecard (its KPIs and the north star) or the joint one, with period-over-period."""
    card, left_out = scorecard_card(project, department, filters)
    title = "Joint scorecard" if department == "joint" else f"{department.replace('_', ' ').capitalize()} scorecard"
    report = Report(page="scorecards", title=title)
    frame = scorecard_frame(project, card, filters)
    report.notices.extend(card_notices(card, left_out))
    report.add("scorecard", f"{title}, {card.period}", frame)
    report.add("department_status", "Departments", departments_frame(card.department_status()))
    report.meta.update(
        period=card.period,
        grain=card.grain,
        north_star=card.north_star,
        drill={"scorecard": {"columns": ["actual"]}},
        charts=[
            {
                "table": "scorecard",
                "x": "label",
                "y": "attainment",
                "kind": "bar",
                "title": "Attainment vs target (100% = on target)",
            }
        ],
    )
    return report
