"""Alignment findings a leader can act on: ranked by revenue impact, once each, never a running total against the
KPI it accumulates, one banner per kind; and the decomposition explains the latest *mature* period by default."""

from __future__ import annotations

import itertools

import pandas as pd

from revalign.analytics.governance.alignment import KIND_TITLES, alignment_findings
from revalign.analytics.governance.maturity import after_window, mature_period
from revalign.analytics.governance.scorecard import build_scorecard
from tests.analytics.test_alignment import CATALOG, VALUES, findings
from tests.analytics.test_scorecard import K, T, quarterly


def test_findings_are_ranked_by_impact_within_severity():
    impact = {"new_leads": 12_000.0, "win_rate": -55_000.0, "new_revenue": 999_999.0}
    ranked = findings(impact=impact)
    high = [f for f in ranked.findings if f.severity == "high"]
    with_impact = [f for f in high if f.impact is not None]
    # win_rate's −55,000 outranks new_leads' +12,000; the north star's own change is not a finding's impact
    assert [(f.kpis[0], f.impact) for f in with_impact[:2]] == [("win_rate", 55_000.0)] * 2  # (b) and (c)
    assert {f.impact for f in with_impact[2:]} == {12_000.0}  # every finding naming new_leads
    assert all(a.impact >= b.impact for a, b in itertools.pairwise(with_impact))
    # findings without an impact come after those with one, within a severity
    positions = [f.impact is None for f in high]
    assert positions == sorted(positions)


def test_each_finding_once_even_when_edges_repeat_the_catalog():
    plain = findings()
    doubled = findings(edges=[("new_leads", "new_revenue"), ("new_leads", "new_revenue"), ("win_rate", "new_revenue")])
    assert [(f.kind, f.kpis) for f in doubled.findings] == [(f.kind, f.kpis) for f in plain.findings]


def test_running_total_is_not_compared_with_what_it_accumulates():
    catalog = dict(CATALOG)
    catalog["new_leads_ytd"] = K(
        "new_leads_ytd", "marketing", "higher_is_better", parent="new_revenue", targets=[T("2025-Q2", 1000)]
    )
    values = pd.concat([VALUES, pd.DataFrame(quarterly("new_leads_ytd", 700, 1500, 950, 2100))])
    card = build_scorecard(values, catalog, period="2025-Q2", grain="quarter")
    flagged = {f.kpis for f in alignment_findings(card).findings}
    assert ("new_leads_ytd", "new_revenue") in flagged  # an ordinary driver: compared
    quiet = {f.kpis for f in alignment_findings(card, running_totals={"new_leads_ytd": "new_revenue"}).findings}
    assert ("new_leads_ytd", "new_revenue") not in quiet
    assert quiet == flagged - {("new_leads_ytd", "new_revenue")}


def test_one_banner_per_kind():
    result = findings()
    groups = result.by_kind()
    assert set(groups) <= set(KIND_TITLES.values())
    assert sum(len(v) for v in groups.values()) == len(result.findings)
    for title, members in groups.items():
        assert {f.title for f in members} == {title}
        assert len({f.kind for f in members}) == 1
    assert len(set(KIND_TITLES.values())) == len(KIND_TITLES) == 3


def test_mature_period_waits_for_the_longest_window():
    # data ends 2025-12-31 (latest quarter 2025-Q4); a 180-day cohort of Q2 (ends 2025-06-30) closes 2025-12-27
    m = mature_period("2025-Q4", "quarter", ("Lead-to-opportunity", "180 days"), 1)
    assert m.period == "2025-Q2" and m.latest == "2025-Q4"
    assert "2025-Q2" in (m.note or "") and "180 days" in (m.note or "")
    # a 90-day window: Q3's leads (to 2025-09-30) are complete on 2025-12-29, within the data
    assert mature_period("2025-Q4", "quarter", ("x", "90 days"), 1).period == "2025-Q3"
    # no cohort KPI: the latest period, no note
    none = mature_period("2025-Q4", "quarter", None, 1)
    assert none.period == "2025-Q4" and none.note is None
    # months, and fiscal quarters of a year starting in February
    assert mature_period("2025-12", "month", ("x", "1 month"), 1).period == "2025-11"
    assert mature_period("FY2026-Q4", "quarter", ("x", "3 months"), 2).period == "FY2026-Q3"


def test_after_window_is_calendar_arithmetic():
    import datetime as dt

    assert after_window(dt.date(2025, 1, 31), "1 month") == dt.date(2025, 2, 28)
    assert after_window(dt.date(2025, 10, 1), "90 days") == dt.date(2025, 12, 30)
    assert after_window(dt.date(2024, 2, 29), "1 year") == dt.date(2025, 2, 28)
    assert after_window(dt.date(2025, 1, 1), "2 quarters") == dt.date(2025, 7, 1)


def test_scorecard_marks_immature_cohort_rows_and_leaves_them_out_of_the_roll_up():
    from types import SimpleNamespace as NS

    from revalign.analytics.governance.scorecard import _mark_immature

    catalog = dict(CATALOG)
    catalog["lead_conversion"] = K("lead_conversion", "marketing", "higher_is_better", targets=[T("2025-Q2", 0.5)])
    catalog["lead_conversion"] = NS(**{**vars(catalog["lead_conversion"]), "type": "conversion", "window": "90 days"})
    catalog["sla"] = NS(**{**vars(K("sla", "revops", "higher_is_better")), "type": "conversion", "window": "1 day"})
    for name in CATALOG:
        catalog[name] = NS(**{**vars(catalog[name]), "type": "simple", "window": None})
    values = pd.concat([VALUES, pd.DataFrame(quarterly("lead_conversion", 0.5, 0.5, 0.5, 0.1))])
    card = build_scorecard(values, catalog, period="2025-Q2", grain="quarter")
    assert card.row("lead_conversion").status == "red"
    assert card.department_status()["marketing"] == "red"
    # data ends with 2025-Q2: its 90-day cohorts are open (immature); a 1-day window leaves only the last day open
    marked = _mark_immature(card, catalog, "2025-Q2", 1)
    assert [r.kpi for r in marked.rows if r.immature] == ["lead_conversion"]
    assert marked.department_status()["marketing"] == "green"  # new_leads and mqls alone
    assert "lead_conversion" in marked.notices[-1].lower().replace(" ", "_") and "90 days" in marked.notices[-1]
    # once the data runs a quarter further, 2025-Q2 is mature
    assert _mark_immature(card, catalog, "2025-Q3", 1) == card
