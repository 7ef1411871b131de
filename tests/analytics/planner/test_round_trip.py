"""Planner round trip on the simulator: plan for a revenue target, re-simulate the company with the planned lead
volume, and land on the target within a tolerance set by the simulator's own randomness.

Baseline: the simulated company at scale s (seed 0). The plan is for new revenue of 15,000,000 in 2025 (the
baseline made about 9.5M), at the rates of the 12 months before 2025-07. The simulator's lead volume is one knob
(``Scale.leads``, spread over the days by its response curve), so the re-simulation multiplies it by the planned
leads ÷ the baseline's leads in the window the plan says they are due in; the channel mix stays the simulator's,
which is the mix the plan measured. The re-simulation uses another seed (1): a new draw of the same company.

**Tolerance.** Two random quantities meet here. The re-simulated year's revenue is a compound Poisson sum of won deals,
relative standard deviation ``sqrt(Σ amount²) / Σ amount`` over its deals (about 0.09 at this size); the plan's
revenue per lead is estimated from the history window's deals, with the same formula over those (about 0.11). The
test allows 2.5 standard deviations of their sum, about 35 %. Deal counts are Poisson, ``sqrt(1/N_resim + 1/N_hist)``,
about 0.09, so 2.5σ ≈ 23 %. Measured over seeds 0, 1 and 2 the re-simulations landed at +4.7 %, −1.6 % and +12.2 %
of the target (docs/planner.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from revalign.analytics.planner import RevenuePlan, needed_by
from revalign.model.calendar import add_periods
from revalign.project import Project
from revalign.simulate import simulate
from revalign.simulate.config import get_scale

TARGET = 15_000_000.0
PERIOD = "2025"
HISTORY_END = dt.date(2025, 7, 1)
Z = 2.5


def _project(folder: Path, leads: int | None, seed: int) -> Project:
    scale = get_scale("s") if leads is None else dataclasses.replace(get_scale("s"), leads=leads)
    project = Project(folder, engine="duckdb://:memory:")
    simulate(scale=scale, seed=seed).write(project.engine)
    return project


def _won(project: Project, start: dt.date, end: dt.date) -> pd.Series:
    """Amounts of the new-business deals won in ``[start, end)``."""
    o = project.tables.table("opportunities")
    o = o.filter(o.is_won & (o.deal_type == "new_business") & (o.closed_at >= start) & (o.closed_at < end))
    return project.tables.to_pandas(o.select("amount"))["amount"].astype(float)


def _rel_sd(amounts: pd.Series) -> float:
    return float(np.sqrt((amounts**2).sum()) / amounts.sum())


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    project = _project(tmp_path_factory.mktemp("base"), None, 0)
    yield project
    project.close()


@pytest.fixture(scope="module")
def plan(baseline: Project) -> RevenuePlan:
    return baseline.revenue_plan(TARGET, PERIOD, history_end=HISTORY_END)


@pytest.fixture(scope="module")
def resimulated(baseline: Project, plan: RevenuePlan, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    first = needed_by(plan, "new_leads")
    leads = baseline.tables.table("leads")
    due = leads.filter((leads.created_at >= first) & (leads.created_at < add_periods(first, "year", 1)))
    factor = plan.volume("new_leads") / float(baseline.tables.execute(due.count()))
    project = _project(tmp_path_factory.mktemp("resim"), round(get_scale("s").leads * factor), 1)
    yield project
    project.close()


def test_resimulated_revenue_lands_on_the_target(baseline: Project, plan: RevenuePlan, resimulated: Project) -> None:
    year = (dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    got = resimulated.kpi("new_revenue").grain("year").period(*year).to_pandas()["value"].sum()
    history = _won(baseline, plan.rates.start, plan.rates.end)  # the deals the plan's revenue per lead came from
    sigma = float(np.hypot(_rel_sd(_won(resimulated, *year)), _rel_sd(history)))
    assert 0.2 < Z * sigma < 0.45, f"tolerance {Z * sigma:.0%} is not what the docstring reasons"
    assert abs(got / TARGET - 1) <= Z * sigma, f"re-simulated {got:,.0f} vs target {TARGET:,.0f} (±{Z * sigma:.0%})"


def test_resimulated_deals_land_on_the_planned_deals(
    baseline: Project, plan: RevenuePlan, resimulated: Project
) -> None:
    got = float(len(_won(resimulated, dt.date(2025, 1, 1), dt.date(2026, 1, 1))))
    planned = plan.volume("deals_won")
    history = float(len(_won(baseline, plan.rates.start, plan.rates.end)))
    sigma = float(np.sqrt(1 / planned + 1 / history))
    assert abs(got / planned - 1) <= Z * sigma, (
        f"re-simulated {got:.0f} deals vs {planned:.0f} planned (±{Z * sigma:.0%})"
    )
