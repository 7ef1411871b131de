"""The run-rate forecast and data freshness on DuckDB, PostgreSQL and Spark, against hand-worked numbers.

Leads created 2025-01-05, 2025-01-20, 2025-02-10 and 2025-03-30 (2025-Q1 has 90 days). The KPI ``new_leads``
(a count) has 4 leads in the quarter; the data reaches 2025-03-30, the quarter's 89th day, so the run rate is
4 × 90 / 89 = 4.0449…. Freshness: the latest lead time is 2025-03-30 16:00; nothing was ingested (no load log).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from revalign.analytics.freshness import data_freshness
from revalign.analytics.pace import forecast_period, run_rate
from revalign.project import Project
from tests.interfaces.server.conftest import write_canonical

LEADS = pd.DataFrame(
    {
        "lead_id": ["l1", "l2", "l3", "l4"],
        "created_at": pd.to_datetime(["2025-01-05 09:00", "2025-01-20 10:00", "2025-02-10 11:00", "2025-03-30 16:00"]),
    }
)


def test_run_rate_and_freshness_on_every_engine(engine, tmp_path):
    project = Project(tmp_path, engine=engine)
    write_canonical(project, "leads", LEADS)
    fc = forecast_period(project.tables, project.catalog, "new_leads", "2025-Q1")
    assert (fc.actual, fc.as_of, fc.elapsed_days, fc.period_days, fc.additive) == (
        4.0,
        dt.date(2025, 3, 30),
        89,
        90,
        True,
    )
    assert fc.forecast == pytest.approx(4 * 90 / 89) and not fc.complete
    fresh = data_freshness(project.tables)
    assert fresh.latest_data == dt.datetime(2025, 3, 30, 16, 0) and fresh.latest_load is None


def test_run_rate_by_hand_and_a_finished_period_is_its_actual():
    assert run_rate(30.0, 90, 90) == 30.0 and run_rate(30.0, 45, 90) == 60.0
    with pytest.raises(ValueError, match="elapsed day"):
        run_rate(1.0, 0, 90)
