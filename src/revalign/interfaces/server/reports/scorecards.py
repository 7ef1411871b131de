"""The scorecards page: a department's KPIs (and the north star) or the joint card, with period-over-period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd

from revalign.analytics.governance.scorecard import Scorecard
from revalign.display import department_label
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.covers import covers
from revalign.interfaces.server.reports.report import (
    Report,
    departments_frame,
    period_bounds,
    records_link,
    require_data,
)
from revalign.project import Project

ACCEPTS = ("period", "grain", "by", "segment")
"""The filters the page honours besides ``department`` (any other is a 422 naming it)."""
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


def template_sections(project: Project, template: str) -> dict[str, str]:
    """KPI → section of the catalog's scorecard template ``template`` (first section wins), in template order;
    an unknown name raises UnknownNameError naming the templates there are."""
    sections: dict[str, str] = {}
    for section in project.catalog.scorecard(template).sections:
        for kpi in section.kpis:
            sections.setdefault(kpi, section.name)
    return sections


def scorecard_card(project: Project, department: str, filters: Filters, template: str | None = None) -> Scorecard:
    """The library's scorecard for ``department`` (``joint``: every KPI) in the filters' period and grain; with a
    ``template`` (a ``scorecards:`` entry of the catalog, e.g. ``idc``), only that template's KPIs.

    When the filters slice by a dimension that some KPIs do not have (spend has no segment or owner), the library
    leaves those KPIs out and names them in the card's notices instead of failing the whole card.
    """
    require_data(project, "Scorecards")
    by = tuple(d for d in (filters.by, "segment" if filters.segment and filters.by != "segment" else None) if d)
    dept = None if department == "joint" else department
    kpis = list(template_sections(project, template)) if template else None
    return project.scorecard(dept, period=filters.period, grain=filters.grain or "quarter", by=by, kpis=kpis)


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


def card_covers(project: Project, card: Scorecard) -> dict[str, Any]:
    """``meta["covers"]`` of a scorecard: its period's first and last day (the trend shows earlier periods)."""
    first, last = period_bounds(project, card.period)
    return covers(first, last + timedelta(days=1), card.period)


def scorecard(project: Project, department: str, filters: Filters, template: str | None = None) -> Report:
    """A department's scorecard (its KPIs and the north star) or the joint one, with period-over-period; with a
    ``template`` (``idc``: IDC's Customer Creation Scorecard), that template's KPIs with a ``section`` column."""
    card = scorecard_card(project, department, filters, template)
    title = "Joint scorecard" if department == "joint" else f"{department_label(department)} scorecard"
    if template:
        title = project.catalog.scorecard(template).label or template
    report = Report(page="scorecards", title=title)
    frame = scorecard_frame(project, card, filters)
    if template:
        sections = template_sections(project, template)
        frame.insert(0, "section", frame["kpi"].map(sections).fillna("north star"))
        order = {kpi: i for i, kpi in enumerate(sections)}  # the template's order: section by section
        frame = frame.sort_values("kpi", key=lambda k: k.map(order), kind="stable").reset_index(drop=True)
        report.meta.update(template=template)
    report.notices.extend(card.notices)
    report.add("scorecard", f"{title}, {card.period}", frame)
    report.add("department_status", "Departments", departments_frame(card.department_status()))
    report.meta.update(
        period=card.period,
        grain=card.grain,
        covers=card_covers(project, card),
        north_star=card.north_star,
        drill={"scorecard": {"columns": ["actual"]}},
        charts=[
            {
                "table": "scorecard",
                "x": "label",
                "y": "attainment",
                "kind": "bar",
                "skip_null": True,  # only KPIs with a target: a row of empty slots says nothing
                "title": "Attainment vs target (100% = on target)",
            }
        ],
    )
    return report
