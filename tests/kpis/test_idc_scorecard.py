"""The IDC-style Customer Creation Scorecard (template ``idc``) against independent pandas computations.

The scorecard's actuals come from the library (Ibis on DuckDB); the expectations from tests/reference/kpis.py (plain
pandas over the simulated company at scale s, month grain) and, at quarter grain, from sums written out below.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from revalign.kpis import default_catalog
from revalign.project import Project
from tests.reference.kpis import REFERENCE

IDC = {
    "investment": ["sales_marketing_spend_share", "spend_per_head", "cac"],
    "staff_efficiency": ["revenue_per_sales_head", "deals_per_rep", "quota_attainment"],
    "productivity_levers": ["sales_enablement_score", "lead_management_score"],
}
IDC_KPIS = [k for kpis in IDC.values() for k in kpis]


def test_idc_template_has_eight_kpis_in_three_categories() -> None:
    template = default_catalog().scorecard("idc")
    assert {s.name: s.kpis for s in template.sections} == IDC
    for name in IDC_KPIS:
        assert default_catalog().get(name).description, f"{name} has no documented definition"


@pytest.mark.parametrize("month", ["2025-01", "2025-04", "2025-10"])  # quotas start each quarter
def test_idc_scorecard_equals_pandas_by_month(sim_project: Project, sim_tables: dict, month: str) -> None:
    card = sim_project.scorecard(None, period=month, grain="month", kpis=IDC_KPIS, trend_periods=2)
    start = dt.date(int(month[:4]), int(month[5:]), 1)
    for name in IDC_KPIS:
        expected = REFERENCE[name](sim_tables).get(start)
        assert expected is not None and np.isfinite(expected), f"{name}: the oracle has no value in {month}"
        np.testing.assert_allclose(card.row(name).actual, expected, rtol=1e-9, err_msg=f"{name} {month}")


def test_idc_investment_by_quarter_equals_pandas_sums(sim_project: Project, sim_tables: dict) -> None:
    """2025-Q2 at quarter grain: spend over revenue, per head (people hired by the first day), per new customer."""
    card = sim_project.scorecard(None, period="2025-Q2", grain="quarter", kpis=IDC_KPIS, trend_periods=2)
    lo, hi = pd.Timestamp("2025-04-01"), pd.Timestamp("2025-07-01")
    spend = sim_tables["spend"]
    in_q = (pd.to_datetime(spend.date) >= lo) & (pd.to_datetime(spend.date) < hi)
    acq = spend.loc[in_q & spend.department.isin(["sales", "marketing"]), "amount"].sum()
    o = sim_tables["opportunities"]
    closed = pd.to_datetime(o.closed_at)
    won = o[o.is_won.astype(bool) & (closed >= lo) & (closed < hi)]
    users = sim_tables["users"]
    heads = (users.department.isin(["sales", "marketing"]) & (pd.to_datetime(users.hired_at) <= lo)).sum()
    new_customers = won.loc[won.deal_type == "new_business", "account_id"].nunique()
    np.testing.assert_allclose(card.row("sales_marketing_spend_share").actual, acq / won.amount.sum(), rtol=1e-9)
    np.testing.assert_allclose(card.row("spend_per_head").actual, acq / heads, rtol=1e-9)
    np.testing.assert_allclose(card.row("cac").actual, acq / new_customers, rtol=1e-9)


def test_idc_scores_stay_within_0_and_100(sim_project: Project) -> None:
    values = sim_project.kpi("sales_enablement_score", "lead_management_score").grain("quarter").to_pandas()
    assert len(values) > 0 and values["value"].between(0, 100).all()
