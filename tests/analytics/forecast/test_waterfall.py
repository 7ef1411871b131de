"""The pipeline waterfall reconciles: opening + created + amount changed − won − lost = closing, every week.

Checked against an independent pandas computation over the ledger on the simulated company (scale s): the open
pipeline at each Monday rebuilt deal by deal (created before it, not closed before it, at its amount then), and the
week's flows summed from the deals and the ledger's amount edits (DuckDB and PostgreSQL: loading the company
into Spark costs minutes; the hand-worked book in test_waterfall_hand.py runs on all three engines).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from revalign.analytics.waterfall import pipeline_waterfall
from revalign.model.access import Tables
from revalign.simulate import simulate

START, END = dt.date(2025, 3, 3), dt.date(2025, 6, 2)  # 13 weeks, Monday to Monday


@pytest.fixture(scope="module")
def company():
    return simulate(scale="s", seed=0)


@pytest.fixture(scope="module")
def tables(module_sql_engine, company):
    company.write(module_sql_engine)
    return Tables(module_sql_engine)


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


def test_groups_add_up_to_the_company(tables, company):
    whole = pipeline_waterfall(tables, start=START, end=END).frame.set_index("week")
    for by in ("team", "channel"):
        split = pipeline_waterfall(tables, start=START, end=END, by=[by]).frame
        summed = split.groupby("week")[["opening", "created", "won", "lost", "closing"]].sum()
        assert np.allclose(summed.to_numpy(), whole[summed.columns].to_numpy())
        assert split[by].nunique() > 1
    by_team = pipeline_waterfall(tables, start=START, end=END, by=["team"]).frame
    assert set(by_team["team"]) <= set(company.tables["teams"].to_pandas()["name"])  # names, not ids
