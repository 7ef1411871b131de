"""The backtest window's defaults and refusals, and the rules' scores at each lead's scoring time.

The window is checked against the simulator's span (leads created over 2024-2025) and the ledger's last change,
read with pandas; the rule scores against the library's plain ``score_leads`` (a different path: it cuts touches
at the MQL only because the model says ``touches_until: mql``).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from revalign.analytics.scoring.comparison import BacktestWindow, backtest_window, rule_scores_at_scoring_time
from revalign.analytics.scoring.rules import score_leads
from revalign.definitions.scoring import DEFAULT_DIR, load_scoring
from revalign.engine import Engine, connect
from revalign.errors import ConfigError
from revalign.model.access import Tables
from revalign.simulate import simulate


@pytest.fixture(scope="module")
def tables() -> Tables:
    engine = connect("duckdb://")
    simulate(scale="xs", seed=4).write(engine)
    return Tables(engine)


def test_default_window_and_refusals(tables: Tables) -> None:
    leads = tables.to_pandas(tables.table("leads").select("created_at"))["created_at"]
    last = tables.to_pandas(tables.table("ledger").select("recorded_at"))["recorded_at"].max()
    assert (leads.min().year, leads.max().year) == (2024, 2025)  # so the middle is 2025-01-01, 3/4 is 2025-07-01
    as_of = (last + pd.Timedelta(microseconds=1)).to_pydatetime()
    w = backtest_window(tables)
    assert w == BacktestWindow(dt.datetime(2025, 1, 1), dt.datetime(2025, 7, 1), as_of)
    late = backtest_window(tables, split=dt.datetime(2025, 10, 1))  # after the default test end: test to the end
    assert late.test_end == (leads.max() + pd.Timedelta(microseconds=1)).to_pydatetime()
    with pytest.raises(ConfigError, match="leaves no leads"):
        backtest_window(tables, split=dt.datetime(2023, 6, 1))
    with pytest.raises(ConfigError, match="must be after the split"):
        backtest_window(tables, split=dt.datetime(2025, 3, 1), test_end=dt.datetime(2025, 2, 1))


def test_rule_scores_count_only_touches_before_the_scoring_time(tables: Tables) -> None:
    model = load_scoring(DEFAULT_DIR / "simulator.yaml")  # touches_until: mql
    w = backtest_window(tables)
    plain = tables.to_pandas(score_leads(tables, model, w.as_of).select("lead_id", "score")).set_index("lead_id")
    at_scoring = rule_scores_at_scoring_time(tables, model, w).set_index("lead_id")
    assert len(at_scoring) > 100
    pd.testing.assert_series_equal(at_scoring["score"], plain.loc[at_scoring.index, "score"], check_names=False)
    # without touches_until the plain score counts the follow-up touches; at the scoring time it still does not
    loose = model.model_copy(update={"touches_until": None})
    loose_plain = tables.to_pandas(score_leads(tables, loose, w.as_of).select("lead_id", "score"))
    loose_plain = loose_plain.set_index("lead_id").loc[at_scoring.index, "score"]
    assert (loose_plain > at_scoring["score"]).any()
    loose_at = rule_scores_at_scoring_time(tables, loose, w).set_index("lead_id")["score"]
    pd.testing.assert_series_equal(loose_at, at_scoring["score"], check_names=False)


def test_the_same_window_and_rule_scores_on_every_engine(engine: Engine, tables: Tables) -> None:
    """The window and the rules' scores at scoring time are Ibis on the engine: Postgres and Spark agree with DuckDB."""
    simulate(scale="xs", seed=4).write(engine)
    other = Tables(engine)
    model = load_scoring(DEFAULT_DIR / "simulator.yaml")
    w = backtest_window(other)
    assert w == backtest_window(tables)
    got = rule_scores_at_scoring_time(other, model, w).sort_values("lead_id").reset_index(drop=True)
    want = rule_scores_at_scoring_time(tables, model, w).sort_values("lead_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
