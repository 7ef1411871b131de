"""The planner's live rates against plain pandas over the same tables, on every engine (simulated company, scale xs)."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from revalign.analytics.planner import live_rates
from revalign.engine import Engine
from revalign.kpis import default_catalog
from revalign.model.access import Tables
from revalign.model.tables import TABLES
from revalign.simulate import simulate

END = dt.date(2025, 10, 1)
START = dt.date(2024, 10, 1)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {name: t.to_pandas() for name, t in simulate(scale="xs", seed=3).tables.items()}


@pytest.fixture(scope="module")
def tables(frames: dict[str, pd.DataFrame], module_engine: Engine) -> Tables:
    for name, frame in frames.items():
        module_engine.write(name, frame, schema=TABLES[name].schema)
    return Tables(module_engine)


def _month(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.to_period("M").dt.start_time.dt.date


def _in(values: pd.Series) -> pd.Series:
    t = pd.to_datetime(values)
    return (t >= pd.Timestamp(START)) & (t < pd.Timestamp(END))


def _events(f: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Stage → its events (``time`` and the lead's ``created``), as the catalog's stage KPIs count them."""
    leads = f["leads"][["lead_id", "created_at"]].rename(columns={"created_at": "created"})
    led = f["ledger"]
    life = led[(led.entity_type == "lead") & (led.kind == "lifecycle")]
    o = f["opportunities"]
    nb = o[o.deal_type == "new_business"]
    won = nb[nb.is_won.astype(bool)]
    out = {"new_leads": leads.assign(time=leads.created)}
    for stage, name in (("mqls", "mql"), ("sqls", "sql")):
        e = life[life.name == name][["entity_id", "occurred_at"]]
        out[stage] = e.merge(leads, left_on="entity_id", right_on="lead_id", how="left").rename(
            columns={"occurred_at": "time"}
        )
    out["opportunities_created"] = nb.merge(leads, on="lead_id", how="left").assign(time=lambda d: d.created_at)
    out["deals_won"] = won.merge(leads, on="lead_id", how="left").assign(time=lambda d: d.closed_at)
    return out


def _lag_days(e: pd.DataFrame) -> float:
    e = e[_in(e.time) & e.created.notna()]
    return float(((pd.to_datetime(e.time) - pd.to_datetime(e.created)).dt.total_seconds() / 86400).median())


def test_live_rates_equal_pandas(tables: Tables, frames: dict[str, pd.DataFrame]) -> None:
    rates = live_rates(tables, default_catalog(), end=END, months=12)
    events = _events(frames)
    lags = {s: (_lag_days(e) if s != "new_leads" else 0.0) for s, e in events.items()}
    np.testing.assert_allclose([rates.lag_days[s] for s in lags], list(lags.values()), rtol=1e-6)
    months = {s: round(d / 30.44) for s, d in lags.items()}
    assert rates.lag_months == months
    counts = {s: e.groupby(_month(e.time)).size() for s, e in events.items()}
    window = pd.period_range(START, periods=12, freq="M").start_time.date
    stages = list(events)
    for above, stage in pairwise(stages):
        shift = max(0, months[stage] - months[above])
        fed = pd.period_range(START, periods=12, freq="M") - shift
        expected = (
            counts[stage].reindex(window).fillna(0).sum() / counts[above].reindex(fed.start_time.date).fillna(0).sum()
        )
        assert rates.yields[stage] == pytest.approx(expected, rel=1e-9), stage
    won = events["deals_won"][_in(events["deals_won"].time)]
    assert rates.average_deal_size == pytest.approx(won.amount.mean(), rel=1e-9)


def test_channel_mix_equals_pandas(tables: Tables, frames: dict[str, pd.DataFrame]) -> None:
    mix = live_rates(tables, default_catalog(), end=END, months=12).channels.set_index("channel")
    leads = frames["leads"][_in(frames["leads"].created_at)]
    n = leads.groupby(leads.lead_source.fillna("unknown")).size()
    spend = frames["spend"]
    spend = spend[spend.channel.notna() & _in(spend.date)].groupby("channel").amount.sum()
    assert mix["leads"].to_dict() == n.astype(float).to_dict()
    np.testing.assert_allclose(mix["share"], (n / n.sum()).reindex(mix.index), rtol=1e-12)
    cpl = (spend.reindex(n.index).fillna(0.0) / n).reindex(mix.index)
    np.testing.assert_allclose(mix["cost_per_lead"], cpl, rtol=1e-9)
