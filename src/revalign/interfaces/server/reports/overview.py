"""The overview page: the north star, its trend, why it moved (driver-tree decomposition), alignment warnings."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from revalign.analytics.governance.departments import department_summary
from revalign.analytics.governance.scorecard import Scorecard
from revalign.errors import RevalignError
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report
from revalign.interfaces.server.reports.scorecards import card_covers, scorecard_card, scorecard_frame
from revalign.model.calendar import parse_period
from revalign.project import Project

ACCEPTS = ("period", "grain")
"""The filters the page honours (any other is a 422 naming it): the driver tree and the alignment check are
company-wide, so slicing by a dimension or a segment belongs to the Scorecards page."""
DRIVER_TREE_COLUMNS = (
    "kpi",
    "label",
    "department",
    "level",
    "value_from",
    "value_to",
    "change",
    "contribution",
    "contribution_pct",
    "kind",
    "is_leaf",
)


def north_star_trend(report: Report, card: Scorecard) -> list[dict[str, Any]]:
    """The north star's values over the card's trend periods (a line chart), when the card has its row."""
    try:
        row = card.row(card.north_star) if card.north_star else None
    except RevalignError:
        row = None
    if row is None:
        return []
    trend = pd.DataFrame(
        {"period": list(row.trend_periods), "value": list(row.trend), "target": list(row.trend_targets)}
    )
    report.add("north_star_trend", f"{row.label} by {card.grain}", trend)
    chart = {"table": "north_star_trend", "x": "period", "y": "value", "kind": "line", "title": f"{row.label} trend"}
    return [chart | {"target": "target"}]


def driver_tree(project: Project, report: Report, card: Scorecard, chosen: bool) -> list[dict[str, Any]]:
    """Why the north star moved: each driver's contribution (a bar chart of the leaves), and the leader sentence.

    With a period ``chosen`` by the reader, into that period; otherwise into the latest *mature* one (cohort
    KPIs of the tree still converting would blame the funnel for missing time), with a note saying so.
    """
    dec = project.decompose(end=card.period if chosen else None, grain=card.grain)
    tree = dec.to_pandas()
    keep = [c for c in DRIVER_TREE_COLUMNS if c in tree.columns]
    report.add("driver_tree", f"Why {dec.label} moved ({dec.period_from} → {dec.period_to})", tree[keep])
    report.meta["decomposition_summary"] = dec.summary()
    report.meta["decomposition_note"] = dec.note
    if not (math.isfinite(dec.value_from) and math.isfinite(dec.value_to)):  # a day with no value: nothing to bridge
        return []
    # start bar, one bar per driver, end bar: each bar in the root's unit (not the driver's own)
    report.add("north_star_waterfall", f"{dec.label}: {dec.period_from} → {dec.period_to}", dec.waterfall())
    unit = project.catalog.get(dec.root).unit or "number"
    report.meta.setdefault("units", {})["north_star_waterfall"] = {"value": unit, "running": unit}
    return [
        {
            "table": "north_star_waterfall",
            "x": "label",
            "y": "value",
            "measure": "measure",
            "kind": "waterfall",
            "title": f"How {dec.label} got from {dec.period_from} to {dec.period_to}, driver by driver",
        }
    ]


FORECAST_KPI = "new_revenue"
"""The KPI the quarter forecast projects (new-business revenue won, :mod:`revalign.analytics.forecast`): the north
star's tile shows where the quarter lands only when the north star is that KPI."""


def forecast_landing(project: Project, report: Report, star: str | None) -> None:
    """Where the quarter of the data's last day lands (the Pipeline page's number), for the north star's tile."""
    if star != FORECAST_KPI or not project.tables.has("ledger"):
        return
    try:
        land = project.quarter_landing()
    except RevalignError:
        return
    frame = land.frame[["won", "weighted_open", "run_rate", "landing"]].assign(
        quarter=land.quarter, as_of=land.as_of.isoformat()
    )
    report.add("north_star_forecast", f"Where {land.quarter} lands", frame)
    units = dict.fromkeys(("won", "weighted_open", "run_rate", "landing"), "currency")
    report.meta.setdefault("units", {})["north_star_forecast"] = units


AUDIT_LINK = "/audit?kind=lead_source_overwrite"


def overview(project: Project, filters: Filters) -> Report:
    """The north star, its trend, why it moved (driver-tree decomposition) and alignment warnings."""
    card = scorecard_card(project, "joint", filters)
    report = Report(page="overview", title="Overview")
    frame = scorecard_frame(project, card, filters)
    report.notices.extend(card.notices)
    star = card.north_star
    star_rows = frame[frame["kpi"] == star] if star else frame.iloc[0:0]
    report.add("north_star", "North star", star_rows.reset_index(drop=True))
    charts = north_star_trend(report, card)
    forecast_landing(project, report, star)
    report.add("department_status", "Departments", department_summary(card))
    charts += driver_tree(project, report, card, chosen=filters.period is not None)
    findings = project.alignment(period=card.period, grain=card.grain, card=card)
    report.add("alignment", "Alignment warnings (most revenue at stake first)", findings.to_pandas())
    report.meta.update(
        period=card.period,
        grain=card.grain,
        covers=card_covers(project, card),
        north_star=star,
        warnings=[f.message for f in findings.findings],
        warning_groups=[{"title": t, "messages": [f.message for f in fs]} for t, fs in findings.by_kind().items()],
        headline="north_star",
        drill={"north_star": {"columns": ["actual"]}},
        charts=charts,
        process=process_lines(project, card.period),
    )
    return report


def process_lines(project: Project, period: str) -> list[dict[str, str]]:
    """Who games credit (all history) and who breaches the follow-up SLA (the card's period): one sentence each,
    linking to the rows, so the first minute on the overview shows the people behind the numbers."""
    lines = []
    try:
        audit = project.audit_concentration("lead_source_overwrite")
        if audit.total:
            lines.append({"id": "audit", "text": audit.sentence(project.settings.currency), "href": AUDIT_LINK})
    except RevalignError:  # no ledger yet: no audit line; the SLA line does not depend on it
        pass
    try:
        p = parse_period(period, project.fiscal_year_start_month)
        sla = project.sla_concentration(start=p.start, end=p.end)
        if sla.total:
            lines.append({"id": "sla", "text": f"{period}: {sla.sentence()}", "href": "/sla"})
    except RevalignError:  # no agreement in force or no lifecycle events: no SLA line
        pass
    return lines
