"""The feature matrix built on the engine equals a plain pandas computation on the simulator's own tables.

The oracle is written from the definitions in ``features.py``'s docstring (scoring time = first MQL or the
as-of; touches strictly before it; the label = an ``opportunity`` lifecycle event before the as-of), over the
tables as generated, before any engine saw them. One body per engine (DuckDB always; PostgreSQL and Spark
marked).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from revalign.analytics.scoring.features import lead_features
from revalign.analytics.scoring.leakage import check_cutoff
from revalign.engine import Engine
from revalign.model.access import Tables
from revalign.simulate import simulate

AS_OF = dt.datetime(2025, 3, 1)


@pytest.fixture(scope="module")
def company():
    return simulate(scale="xs", seed=11)


@pytest.fixture(scope="module")
def tables(module_engine: Engine, company) -> Iterator[Tables]:
    company.write(module_engine)
    yield Tables(module_engine)


def _first(ledger: pd.DataFrame, name: str) -> pd.Series:
    ev = ledger[
        (ledger.kind == "lifecycle")
        & (ledger.entity_type == "lead")
        & (ledger.name == name)
        & (ledger.occurred_at < AS_OF)
    ]
    return ev.groupby("entity_id")["occurred_at"].min()


@pytest.fixture(scope="module")
def oracle(company) -> pd.DataFrame:
    leads = company.tables["leads"].to_pandas()
    ledger = company.tables["ledger"].to_pandas()
    tp = company.tables["touchpoints"].to_pandas()
    leads = leads[leads.created_at < AS_OF].set_index("lead_id")
    cutoff = _first(ledger, "mql").reindex(leads.index).fillna(pd.Timestamp(AS_OF))
    cutoff = cutoff.where(cutoff >= leads.created_at, leads.created_at)  # never before the lead's creation
    opp = _first(ledger, "opportunity")
    tp = tp[tp.lead_id.isin(leads.index)]
    tp = tp[tp.occurred_at < tp.lead_id.map(cutoff)]
    demo = tp.interaction == "demo_request"
    engaged = tp[(tp.touch_type == "marketing") & ~demo]
    out = pd.DataFrame(index=leads.index)
    out["cutoff"] = cutoff
    out["n_marketing"] = engaged.groupby("lead_id").size()
    out["n_sales"] = tp[tp.touch_type == "sales"].groupby("lead_id").size()
    out["n_demo_request"] = tp[demo].groupby("lead_id").size()
    out["n_email"] = engaged[engaged.channel == "email"].groupby("lead_id").size()
    out = out.fillna({c: 0 for c in out.columns if c.startswith("n_")})
    out["converted"] = out.index.isin(opp.index)
    prior = []
    for lead_id, row in leads.iterrows():  # other leads of the account with an opportunity before my cutoff
        others = leads.index[(leads.account_id == row.account_id) & (leads.index != lead_id)]
        won = opp.reindex(others).dropna()
        prior.append(int((won < cutoff[lead_id]).sum()))
    out["account_prior_opportunities"] = prior
    accounts = company.tables["accounts"].to_pandas().set_index("account_id")
    firm = accounts.reindex(leads.account_id)  # the account's firmographics, as recorded (none when unmatched)
    out["employees"] = firm["employees"].to_numpy(dtype=float)
    out["employee_growth"] = firm["employee_growth"].to_numpy(dtype=float)
    out["tech_fit"] = firm["tech_fit"].fillna("unknown").to_numpy()
    out["job_level"] = leads.job_level.fillna("unknown")
    out["job_function"] = leads.job_function.fillna("unknown")
    return out


def test_features_match_pandas(tables: Tables, oracle: pd.DataFrame) -> None:
    got = lead_features(tables, as_of=AS_OF).set_index("lead_id").sort_index()
    want = oracle.sort_index()
    assert list(got.index) == list(want.index)
    for col in ("n_marketing", "n_sales", "n_demo_request", "n_email", "account_prior_opportunities"):
        np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy(dtype=float), err_msg=col)
    np.testing.assert_array_equal(got["converted"].to_numpy(), want["converted"].to_numpy())
    for col in ("employees", "employee_growth"):
        np.testing.assert_allclose(got[col].to_numpy(), want[col].to_numpy(), err_msg=col)
    for col in ("tech_fit", "job_level", "job_function"):
        assert (got[col].to_numpy() == want[col].to_numpy()).all(), col
    assert (pd.to_datetime(got["cutoff"]) == pd.to_datetime(want["cutoff"])).all()
    assert check_cutoff(got) == []  # no input dated after a lead's scoring time
    assert want["converted"].sum() > 20 and want["account_prior_opportunities"].sum() > 0  # the case is not empty


def test_window_filters_by_creation(tables: Tables) -> None:
    start, end = dt.datetime(2024, 6, 1), dt.datetime(2024, 9, 1)
    got = lead_features(tables, as_of=AS_OF, created_from=start, created_before=end)
    created = pd.to_datetime(got["created_at"])
    assert len(got) > 0 and created.min() >= start and created.max() < end
