"""The pipeline waterfall reconciles: opening + created + amount changed − won − lost = closing, every week.

Checked against an independent pandas computation over the ledger on the simulated company (scale s): the open
pipeline at each Monday rebuilt deal by deal (created before it, not closed before it, at its amount then), and the
week's flows summed from the deals and the ledger's amount edits; and on a hand-worked book.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from revalign.analytics.waterfall import pipeline_waterfall
from revalign.model.access import Tables
from revalign.simulate import simulate
from tests.analytics.funnel.builders import write

START, END = dt.date(2025, 3, 3), dt.date(2025, 6, 2)  # 13 weeks, Monday to Monday


@pytest.fixture(scope="module")
def company():
    return simulate(scale="s", seed=0)


@pytest.fixture(scope="module")
def tables(module_engine, company):
    company.write(module_engine)
    return Tables(module_engine)


def pandas_pipeline(company) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(deals with amount at creation and at close, amount edits while open), in plain pandas."""
    o = company.tables["opportunities"].to_pandas()
    o = o[o.deal_type == "new_business"].set_index("opportunity_id")
    led = company.tables["ledger"].to_pandas()
    ed = led[(led.entity_type == "opportunity") & (led.kind == "field") & (led.name == "amount")].copy()
    ed = ed[ed.entity_id.isin(o.index)]
    ed["delta"] = ed.new_value.astype(float) - ed.old_value.astype(float)
    o["amount0"] = o.amount - ed.groupby("entity_id").delta.sum().reindex(o.index).fillna(0.0)
    return o, ed


def open_amount_at(o: pd.DataFrame, ed: pd.DataFrame, t: pd.Timestamp) -> float:
    live = o[(o.created_at < t) & (o.closed_at.isna() | (o.closed_at >= t))]
    e = ed[ed.entity_id.isin(live.index) & (ed.occurred_at < t)]
    return float(live.amount0.sum() + e.delta.sum())


def test_weeks_reconcile_with_pandas_over_the_ledger(tables, company):
    w = pipeline_waterfall(tables, start=START, end=END).frame
    assert len(w) == 13 and list(w.week) == list(pd.date_range(START, END, freq="7D", inclusive="left").date)
    o, ed = pandas_pipeline(company)
    for row in w.itertuples():
        lo, hi = pd.Timestamp(row.week), pd.Timestamp(row.week) + pd.Timedelta(days=7)
        assert row.opening == pytest.approx(open_amount_at(o, ed, lo))
        assert row.closing == pytest.approx(open_amount_at(o, ed, hi))
        assert row.opening + row.created + row.amount_changed - row.won - row.lost == pytest.approx(row.closing)
        made = o[(o.created_at >= lo) & (o.created_at < hi)]
        assert row.created == pytest.approx(made.amount0.sum())
        closed = o[(o.closed_at >= lo) & (o.closed_at < hi)]
        assert row.won == pytest.approx(closed[closed.is_won].amount.sum())
        assert row.lost == pytest.approx(closed[~closed.is_won].amount.sum())
    assert w.created.sum() > 0 and w.won.sum() > 0 and w.amount_changed.abs().sum() > 0
    assert w.advanced.sum() > 0


def test_groups_add_up_to_the_company(tables):
    company = pipeline_waterfall(tables, start=START, end=END).frame.set_index("week")
    for by in ("team", "channel"):
        split = pipeline_waterfall(tables, start=START, end=END, by=[by]).frame
        summed = split.groupby("week")[["opening", "created", "won", "lost", "closing"]].sum()
        assert np.allclose(summed.to_numpy(), company[summed.columns].to_numpy())
        assert split[by].nunique() > 1


@pytest.fixture
def book(duckdb_engine):
    """P 100 created Tue 2024-01-02, edited to 150 on 01-09, won 01-10; Q 200 created 2023-12-20 (open before),
    advanced 01-03, close date pushed on 01-12 from 03-31 (in Q1) to 06-30 (out of it), lost 01-16; R 50 created
    01-15, close date pulled in on 01-17 from 05-15 to 02-28. Weeks of 2024-01-01, 01-08 and 01-15."""
    write(
        duckdb_engine,
        opportunities=[
            {
                "opportunity_id": "P",
                "created_at": "2024-01-02",
                "closed_at": "2024-01-10",
                "is_closed": True,
                "is_won": True,
                "amount": 150.0,
                "deal_type": "new_business",
                "stage": "closed_won",
            },
            {
                "opportunity_id": "Q",
                "created_at": "2023-12-20",
                "closed_at": "2024-01-16",
                "is_closed": True,
                "is_won": False,
                "amount": 200.0,
                "deal_type": "new_business",
                "stage": "closed_lost",
            },
            {
                "opportunity_id": "R",
                "created_at": "2024-01-15",
                "amount": 50.0,
                "deal_type": "new_business",
                "stage": "discovery",
            },
        ],
        ledger=[
            {
                "event_id": "e1",
                "entity_type": "opportunity",
                "entity_id": "P",
                "kind": "field",
                "name": "amount",
                "old_value": "100.0",
                "new_value": "150.0",
                "occurred_at": "2024-01-09",
                "recorded_at": "2024-01-09",
            },
            {
                "event_id": "e2",
                "entity_type": "opportunity",
                "entity_id": "Q",
                "kind": "stage",
                "name": "solution",
                "old_value": "discovery",
                "new_value": "solution",
                "occurred_at": "2024-01-03",
                "recorded_at": "2024-01-03",
            },
            {
                "event_id": "e3",
                "entity_type": "opportunity",
                "entity_id": "Q",
                "kind": "field",
                "name": "close_date",
                "old_value": "2024-03-31",
                "new_value": "2024-06-30",
                "occurred_at": "2024-01-12",
                "recorded_at": "2024-01-12",
            },
            {
                "event_id": "e4",
                "entity_type": "opportunity",
                "entity_id": "R",
                "kind": "field",
                "name": "close_date",
                "old_value": "2024-05-15",
                "new_value": "2024-02-28",
                "occurred_at": "2024-01-17",
                "recorded_at": "2024-01-17",
            },
        ],
    )
    return Tables(duckdb_engine)


def test_hand_worked_weeks(book):
    w = pipeline_waterfall(book, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 22)).frame
    cols = ["opening", "created", "amount_changed", "won", "lost", "closing", "advanced", "pushed_out", "pulled_in"]
    assert w[cols].to_numpy().tolist() == [
        [200.0, 100.0, 0.0, 0.0, 0.0, 300.0, 200.0, 0.0, 0.0],  # P created at 100; Q advanced
        [300.0, 0.0, 50.0, 150.0, 0.0, 200.0, 0.0, 200.0, 0.0],  # P edited to 150, won at 150; Q pushed out
        [200.0, 50.0, 0.0, 0.0, 200.0, 50.0, 0.0, 0.0, 50.0],  # R created and pulled in, Q lost
    ]
