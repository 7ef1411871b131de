"""Cumulative KPIs with trailing windows, by hand: day/week/month/quarter grain, period_agg, dimensions, filters,
start/end, fiscal quarters, grain-to-date and as-of (docs/kpis.md, "Cumulative KPIs").

The input is ``pipeline_created`` (sum of new-business amounts by created day) over six deals:

    day          segment      amount
    2026-01-03   smb             100
    2026-01-20   enterprise      200
    2026-02-05   smb             400
    2026-02-28   enterprise      800   (was 500 until 2026-03-05, per the ledger)
    2026-03-31   smb            1600
    2026-05-15   smb            3200
    (+ an expansion deal on 2026-01-10 that pipeline_created leaves out)

A day's total covers ``(day - window, day]``; a day counts only when that range holds a deal; a period shows its
first/last such day (or their average); days run to the end of the period holding the last deal.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revalign.definitions.kpis.catalog import Catalog
from revalign.engine import Engine, connect
from revalign.kpis import evaluate, load_catalog
from revalign.model.tables import TABLES
from revalign.project import Project

D = dt.date
DEALS = [  # (id, created day, segment, amount, deal type)
    ("O1", D(2026, 1, 3), "smb", 100.0, "new_business"),
    ("O2", D(2026, 1, 20), "enterprise", 200.0, "new_business"),
    ("O3", D(2026, 2, 5), "smb", 400.0, "new_business"),
    ("O4", D(2026, 2, 28), "enterprise", 800.0, "new_business"),
    ("O5", D(2026, 3, 31), "smb", 1600.0, "new_business"),
    ("O6", D(2026, 5, 15), "smb", 3200.0, "new_business"),
    ("O7", D(2026, 1, 10), "smb", 9999.0, "expansion"),
]
COMMON = """\
    type: cumulative
    unit: currency
    owner: cmo
    department: marketing
    direction: higher_is_better
    timing: leading
    parent: pipeline_created
    description: A test KPI.
"""
KPIS = {
    "p_10d": "input_metric: pipeline_created\n    window: 10 days",
    "p_10d_avg": "input_metric: pipeline_created\n    window: 10 days\n    period_agg: average",
    "p_45d_last": "input_metric: pipeline_created\n    window: 45 days\n    period_agg: last",
    "p_1m_last": "input_metric: pipeline_created\n    window: 1 month\n    period_agg: last",
    "p_2w_last": "input_metric: pipeline_created\n    window: 2 weeks\n    period_agg: last",
    "p_1q_last": "input_metric: pipeline_created\n    window: 1 quarter\n    period_agg: last",
    "p_ytd_last": "input_metric: pipeline_created\n    grain_to_date: year\n    period_agg: last",
    "p_all_first": "input_metric: pipeline_created",
    "p_1m_ent": (
        "input_metric: {name: pipeline_created, filter: \"segment = 'enterprise'\"}\n    window: 1 month\n"
        "    period_agg: last"
    ),
}


def catalog_dir(folder: Path) -> Path:
    body = "".join(f"  - name: {name}\n    {spec}\n{COMMON}" for name, spec in KPIS.items())
    (folder / "rolling.yaml").write_text("kpis:\n" + body)
    return folder


def write_deals(engine: Engine, deals: list[tuple] = DEALS, ledger: bool = True) -> None:
    rows = [
        {
            "opportunity_id": oid,
            "account_id": "a1",
            "owner_id": "u1",
            "created_at": pd.Timestamp(day) + pd.Timedelta(hours=10),
            "close_date": day + dt.timedelta(days=60),
            "closed_at": pd.NaT,
            "stage": "discovery",
            "is_closed": False,
            "is_won": False,
            "amount": amount,
            "deal_type": kind,
            "lead_source": "webinar",
            "segment": segment,
            "region": "emea",
        }
        for oid, day, segment, amount, kind in deals
    ]
    opps = pd.DataFrame(rows, columns=TABLES["opportunities"].column_names)
    opps["closed_at"] = pd.to_datetime(opps["closed_at"])
    engine.write("opportunities", opps, schema=TABLES["opportunities"].schema)
    change = {
        "event_id": "e1",
        "entity_type": "opportunity",
        "entity_id": "O4",
        "kind": "field",
        "name": "amount",
        "old_value": "500.0",
        "new_value": "800.0",
        "occurred_at": pd.Timestamp("2026-03-05 09:00"),
        "recorded_at": pd.Timestamp("2026-03-05 09:00"),
    }
    led = pd.DataFrame([change] if ledger else [], columns=TABLES["ledger"].column_names)
    led["occurred_at"] = pd.to_datetime(led["occurred_at"])
    led["recorded_at"] = pd.to_datetime(led["recorded_at"])
    engine.write("ledger", led, schema=TABLES["ledger"].schema)


def project_on(engine: Engine, folder: Path, fiscal_start: int = 1) -> Project:
    project = Project(folder, engine=engine)
    project.settings = project.settings.model_copy(update={"fiscal_year_start_month": fiscal_start})
    return project


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return load_catalog(catalog_dir(tmp_path_factory.mktemp("cat")))


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = connect("duckdb://:memory:")
    write_deals(engine)
    return engine


def values(project: Project, catalog: Catalog, kpi: str, **kw) -> dict:
    """{period_start: value} or, with dimensions, {(period_start, dim…): value}."""
    fs = project.settings.fiscal_year_start_month
    frame = evaluate(project.tables, catalog, [kpi], fiscal_year_start_month=fs, **kw)
    by = list(kw.get("by", ()))
    keys = frame[["period_start", *by]].itertuples(index=False, name=None)
    return {(k if by else k[0]): v for k, v in zip(keys, frame["value"], strict=True)}


# (case id, KPI, evaluate keywords, fiscal start, expected) — the arithmetic is in the comments
CASES = [
    # month, first (MetricFlow's default): the first day of the month whose 10-day window holds a deal.
    # Jan: Jan 3 (100). Feb: Feb 1's window Jan 23–Feb 1 is empty, first is Feb 5 (400). Mar 1: Feb 20–Mar 1
    # holds Feb 28 (800). Apr 1: Mar 23–Apr 1 holds Mar 31 (1600). May: first is May 15 (3200).
    ("month-first", "p_10d", {"grain": "month"}, 1, {D(2026, 1, 1): 100, D(2026, 2, 1): 400, D(2026, 3, 1): 800,
                                                    D(2026, 4, 1): 1600, D(2026, 5, 1): 3200}),
    # month, last, 1 calendar month = (day - 1 month, day]: Jan 31: (Dec 31, Jan 31] = 100 + 200 = 300;
    # Feb 28: (Jan 28, Feb 28] = 400 + 800; Mar 31: Mar 31 - 1 month = Feb 28 (clamped), so (Feb 28, Mar 31] = 1600
    # (Feb 28 is out); Apr 30: (Mar 30, Apr 30] = 1600; May 31: 3200.
    ("month-last-1m", "p_1m_last", {"grain": "month"}, 1, {D(2026, 1, 1): 300, D(2026, 2, 1): 1200,
                                                          D(2026, 3, 1): 1600, D(2026, 4, 1): 1600,
                                                          D(2026, 5, 1): 3200}),
    # by segment. smb: 100, 400, 1600, 1600, 3200 as above. enterprise: Jan 200, Feb 800, and no March: a slice's
    # days end with the month holding its last deal (Feb 28), as if the query were filtered to that segment.
    ("month-last-by-segment", "p_1m_last", {"grain": "month", "by": ("segment",)}, 1, {
        (D(2026, 1, 1), "smb"): 100, (D(2026, 2, 1), "smb"): 400, (D(2026, 3, 1), "smb"): 1600,
        (D(2026, 4, 1), "smb"): 1600, (D(2026, 5, 1), "smb"): 3200,
        (D(2026, 1, 1), "enterprise"): 200, (D(2026, 2, 1), "enterprise"): 800,
    }),
    # a filter on the query: only smb deals.
    ("month-last-where", "p_1m_last", {"grain": "month", "where": "segment = 'smb'"}, 1, {
        D(2026, 1, 1): 100, D(2026, 2, 1): 400, D(2026, 3, 1): 1600, D(2026, 4, 1): 1600, D(2026, 5, 1): 3200}),
    # a filter on the input metric: only enterprise deals (as by-segment above).
    ("month-input-filter", "p_1m_ent", {"grain": "month"}, 1, {D(2026, 1, 1): 200, D(2026, 2, 1): 800}),
    # start in March: March's window must still see February. p_10d: Mar 800 (Feb 28), Apr 1600, May 3200.
    ("month-start-lookback", "p_10d", {"grain": "month", "start": "2026-03"}, 1, {
        D(2026, 3, 1): 800, D(2026, 4, 1): 1600, D(2026, 5, 1): 3200}),
    # 45 days is no multiple of a month: Mar 31 - 45 days = Feb 14, (Feb 14, Mar 31] = 800 + 1600 = 2400;
    # Apr 30 - 45 = Mar 16: 1600. May 31 - 45 = Apr 16: 3200. (start: 2026-03, end: 2026-05 inclusive.)
    ("month-45d-start-end", "p_45d_last", {"grain": "month", "start": "2026-03", "end": "2026-05"}, 1, {
        D(2026, 3, 1): 2400, D(2026, 4, 1): 1600, D(2026, 5, 1): 3200}),
    # average over the month's days whose 10-day window holds a deal. Jan: Jan 3–12 at 100 and Jan 20–29 at 200:
    # (10*100 + 10*200)/20 = 150. Feb: Feb 5–14 at 400 and Feb 28 at 800: (4000 + 800)/11. Mar: Mar 1–9 at 800
    # and Mar 31 at 1600: (7200 + 1600)/10 = 880. Apr: Apr 1–9 at 1600. May: May 15–24 at 3200.
    ("month-average", "p_10d_avg", {"grain": "month"}, 1, {D(2026, 1, 1): 150, D(2026, 2, 1): 4800 / 11,
                                                          D(2026, 3, 1): 880, D(2026, 4, 1): 1600,
                                                          D(2026, 5, 1): 3200}),
    # ISO weeks, 2 weeks = days d-13..d, last day with a deal in its window, weeks from Feb 9 to before Mar 16.
    # Feb 9–15: Feb 15 window Feb 2–15 = 400. Feb 16–22: Feb 22 (Feb 9–22) is empty; the last day still seeing
    # Feb 5 is Feb 18 = 400. Feb 23–Mar 1: Mar 1 (Feb 16–Mar 1) = 800. Mar 2–8: (Feb 23–Mar 8) = 800.
    # Mar 9–15: last day seeing Feb 28 is Mar 13 = 800.
    ("week-last", "p_2w_last", {"grain": "week", "start": D(2026, 2, 9), "end": D(2026, 3, 16)}, 1, {
        D(2026, 2, 9): 400, D(2026, 2, 16): 400, D(2026, 2, 23): 800, D(2026, 3, 2): 800, D(2026, 3, 9): 800}),
    # days Feb 26–Mar 2, 10-day windows d-9..d: Feb 26 (Feb 17–26) and Feb 27 hold no deal, so no total;
    # Feb 28, Mar 1 and Mar 2 hold Feb 28 = 800.
    ("day", "p_10d", {"grain": "day", "start": D(2026, 2, 26), "end": D(2026, 3, 3)}, 1, {
        D(2026, 2, 28): 800, D(2026, 3, 1): 800, D(2026, 3, 2): 800}),
    # calendar quarters, 1 quarter = 3 months: Mar 31 - 3 months = Dec 31: all five Q1 deals = 3100;
    # Jun 30 - 3 months = Mar 30: Mar 31 + May 15 = 4800.
    ("quarter", "p_1q_last", {"grain": "quarter"}, 1, {D(2026, 1, 1): 3100, D(2026, 4, 1): 4800}),
    # fiscal quarters starting in February (Nov–Jan, Feb–Apr, May–Jul): Jan 31: (Oct 31, Jan 31] = 300;
    # Apr 30: (Jan 30, Apr 30] = 400 + 800 + 1600 = 2800; Jul 31: (Apr 30, Jul 31] = 3200.
    ("fiscal-quarter", "p_1q_last", {"grain": "quarter"}, 2, {D(2025, 11, 1): 300, D(2026, 2, 1): 2800,
                                                             D(2026, 5, 1): 3200}),
    # fiscal year to date (year starts Feb 1), read monthly: Jan 300 (FY from Feb 2025); Feb restarts: 1200;
    # Mar 2800; Apr 2800; May 6000.
    ("fiscal-ytd", "p_ytd_last", {"grain": "month"}, 2, {D(2026, 1, 1): 300, D(2026, 2, 1): 1200,
                                                       D(2026, 3, 1): 2800, D(2026, 4, 1): 2800,
                                                       D(2026, 5, 1): 6000}),
    # all-time, first day of each quarter with a total: Q1 first is Jan 3 = 100; Q2 Apr 1 = 100+200+400+800+1600.
    ("all-time-first", "p_all_first", {"grain": "quarter"}, 1, {D(2026, 1, 1): 100, D(2026, 4, 1): 3100}),
    # as of Mar 1: deals created later are unknown and O4 was still 500: Jan 300, Feb 400 + 500 = 900.
    ("as-of", "p_1m_last", {"grain": "month", "as_of": "2026-03-01"}, 1, {D(2026, 1, 1): 300, D(2026, 2, 1): 900}),
]  # fmt: skip
SPARK_CASES = ("month-last-by-segment",)


@pytest.mark.parametrize(("case", "kpi", "kw", "fiscal", "expected"), CASES, ids=[c[0] for c in CASES])
def test_window_by_hand(
    case: str, kpi: str, kw: dict, fiscal: int, expected: dict, duck: Engine, catalog: Catalog, tmp_path: Path
) -> None:
    got = values(project_on(duck, tmp_path, fiscal), catalog, kpi, **kw)
    assert got.keys() == expected.keys(), case
    np.testing.assert_allclose([got[k] for k in expected], list(expected.values()), rtol=1e-12, err_msg=case)


def test_windows_on_every_engine(engine: Engine, catalog: Catalog, tmp_path: Path) -> None:
    """The same hand-computed values on DuckDB, PostgreSQL and Spark (Spark: one case, it plans slowly)."""
    if engine.name != "spark":  # no input rows at all: no days, no periods, no error
        assert evaluate(project_on(engine, tmp_path).tables, catalog, ["p_1m_last"], by=("segment",)).empty
    write_deals(engine)
    for case, kpi, kw, fiscal, expected in CASES:
        if engine.name == "spark" and case not in SPARK_CASES:
            continue
        got = values(project_on(engine, tmp_path, fiscal), catalog, kpi, **kw)
        assert got.keys() == expected.keys(), case
        np.testing.assert_allclose([got[k] for k in expected], list(expected.values()), rtol=1e-9, err_msg=case)


def test_window_with_grain_to_date_is_refused(catalog: Catalog, duck: Engine, tmp_path: Path) -> None:
    from revalign.errors import CatalogError

    bad = catalog.get("p_1m_last").model_copy(update={"grain_to_date": "month"})
    catalog.kpis["p_bad"] = bad.model_copy(update={"name": "p_bad"})
    try:
        with pytest.raises(CatalogError, match="window or grain_to_date"):
            evaluate(project_on(duck, tmp_path).tables, catalog, ["p_bad"])
    finally:
        del catalog.kpis["p_bad"]


# -- a property: a 7-day window read weekly (last day) is the week's own total, in every week with a deal ---------
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.integers(0, 120), st.sampled_from(["smb", "enterprise"]), st.integers(1, 1000)),
        min_size=1,
        max_size=25,
    )
)
def test_seven_days_read_weekly_is_the_weekly_sum(catalog: Catalog, tmp_path: Path, events: list) -> None:
    start = D(2026, 1, 1)
    deals = [
        (f"X{i}", start + dt.timedelta(days=d), seg, float(a), "new_business") for i, (d, seg, a) in enumerate(events)
    ]
    engine = connect("duckdb://:memory:")
    write_deals(engine, deals, ledger=False)
    cat = catalog
    if "p_7d_last" not in cat.kpis:
        cat.kpis["p_7d_last"] = cat.get("p_1m_last").model_copy(update={"name": "p_7d_last", "window": "7 days"})
    got = values(project_on(engine, tmp_path), cat, "p_7d_last", grain="week", by=("segment",))
    frame = pd.DataFrame(deals, columns=["id", "day", "segment", "amount", "kind"])
    frame["week"] = [d - dt.timedelta(days=d.weekday()) for d in frame.day]
    weekly = frame.groupby(["week", "segment"]).amount.sum()
    for key, total in weekly.items():
        assert got[key] == pytest.approx(total)
    # and every other week shown is one whose window reached back into the previous week's deals
    for week, seg in set(got) - set(weekly.index):
        prev = (week - dt.timedelta(days=7), seg)
        assert prev in weekly.index


def test_metricflow_1x_nesting_is_read(tmp_path: Path) -> None:
    """``type_params: {input_metric, cumulative_type_params: {window, period_agg}}`` reads as the flat keys."""
    nested = (
        "type: cumulative\n    type_params:\n      input_metric: new_leads\n"
        "      cumulative_type_params: {window: 90 days, period_agg: average}\n"
    )
    (tmp_path / "old.yaml").write_text("kpis:\n  - name: k_old\n" + COMMON.replace("type: cumulative\n", nested))
    cat = load_catalog(tmp_path)
    kpi = cat.get("k_old")
    assert (kpi.input_metric.name, kpi.window, kpi.period_agg, kpi.grain_to_date) == (
        "new_leads",
        "90 days",
        "average",
        None,
    )
    assert [i.rule for i in cat.validate() if i.kpi == "k_old"] == ["deprecated_keys"]


@pytest.mark.parametrize("period_agg", ["last", "first", "average"])
def test_ttm_by_segment_at_quarter_on_simulated_data(
    sim_project: Project, sim_tables: dict, period_agg: str, tmp_path: Path
) -> None:
    """new_revenue_ttm by segment at quarter grain (and with first/average) against the pandas reference, per
    segment: a 12-month window read quarterly, across new_revenue's 2024-07 revision."""
    from tests.reference.kpis_rolling import _new_revenue_daily, trailing

    cat = load_catalog()  # a fresh copy: the shared default catalog must not be mutated
    cat.kpis["ttm_x"] = cat.get("new_revenue_ttm").model_copy(update={"name": "ttm_x", "period_agg": period_agg})
    got = evaluate(sim_project.tables, cat, ["ttm_x"], grain="quarter", by=("segment",))
    segments = sorted(sim_tables["opportunities"].segment.dropna().unique())
    assert set(got.segment) <= set(segments) and len(set(got.segment)) > 1
    for seg in segments:
        expected = trailing(
            _new_revenue_daily(sim_tables, seg), window_months=12, period_agg=period_agg, grain="quarter"
        )
        mine = got[got.segment == seg].set_index("period_start")["value"].sort_index()
        assert list(mine.index) == list(expected.index), seg
        np.testing.assert_allclose(mine.to_numpy(), expected.to_numpy(), rtol=1e-9, err_msg=seg)
