"""Plain pandas references for the forecast KPIs (from forecast snapshots); registered into ``REFERENCE``.

Written from docs/forecasts.md without revalign code. The opening call is found here by sorting submissions
(the last commit each owner submitted before the month's first day), not through the ``superseded_at`` column
the KPI filters on, so a wrong ``superseded_at`` shows up as a mismatch.
"""

from __future__ import annotations

import pandas as pd

from tests.reference.monthly import by_month, combine, div, ratio
from tests.reference.registry import Tables, kpi, ref


def opening_calls(t: Tables, category: str = "commit", grain: str = "month") -> pd.DataFrame:
    """Per owner and period: the last ``category`` call submitted before the period's first day."""
    f = t["forecasts"]
    f = f[(f.category == category) & (f.period_grain == grain)].copy()
    f = f[pd.to_datetime(f.submitted_at) < pd.to_datetime(f.period_start)]
    f = f.sort_values(["submitted_at", "forecast_id"])
    return f.groupby(["owner_id", "period_start"], as_index=False).tail(1)


@kpi("commit_forecast", additive=True)
def commit_forecast(t: Tables) -> pd.Series:
    return by_month(opening_calls(t), "period_start", "amount", "sum")


@kpi("forecast_accuracy")
def forecast_accuracy(t: Tables) -> pd.Series:
    return combine(
        lambda f, r: 1 - div((f - r).abs(), r), (ref("commit_forecast", t), True), (ref("new_revenue", t), True)
    )


@kpi("forecast_bias")
def forecast_bias(t: Tables) -> pd.Series:
    return combine(lambda f, r: div(f, r) - 1, (ref("commit_forecast", t), True), (ref("new_revenue", t), True))


@kpi("pipeline_realisation_rate")
def pipeline_realisation_rate(t: Tables) -> pd.Series:
    return ratio(t, "new_revenue", "pipeline_in_period")


@kpi("pipeline_forecast", additive=True)
def pipeline_forecast(t: Tables) -> pd.Series:
    return by_month(opening_calls(t, "pipeline"), "period_start", "amount", "sum")


@kpi("forecast_coverage")
def forecast_coverage(t: Tables) -> pd.Series:
    return ratio(t, "pipeline_forecast", "commit_forecast")
