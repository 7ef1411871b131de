"""The recorded profile fields (account growth and tech fit, the lead's job level and function) reveal the
latent propensity as :mod:`revalign.simulate.profiles` documents, and adding them moved no other draw.

References use only the per-lead truth (``account_effect``, ``lead_effect``), the canonical tables and the
documented formulas, with plain numpy/pandas.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtri

from revalign.model.tables import JOB_FUNCTIONS, JOB_LEVELS, TECH_FIT
from revalign.simulate import SimulatedCompany, SimulationConfig, simulate
from revalign.simulate.profiles import JOB_FUNCTION_SHARES, JOB_LEVEL_SHARES

CFG = SimulationConfig()
PROFILE_COLUMNS = {"accounts": ("employee_growth", "tech_fit"), "leads": ("job_level", "job_function")}


@pytest.fixture(scope="module")
def people(frames: dict[str, pd.DataFrame], truth_leads: pd.DataFrame) -> pd.DataFrame:
    """Original leads with their latent effects and the fields the CRM recorded for them and their account."""
    leads = frames["leads"][["lead_id", "job_level", "job_function"]]
    accounts = frames["accounts"][["account_id", "employee_growth", "tech_fit"]]
    t = truth_leads[["lead_id", "account_id", "segment", "propensity", "account_effect", "lead_effect"]]
    return t.merge(leads, on="lead_id").merge(accounts, on="account_id")


def test_the_propensity_is_the_sum_of_the_two_recorded_effects(people: pd.DataFrame) -> None:
    assert np.array_equal(people.propensity, people.account_effect + people.lead_effect)
    assert people.account_effect.std() == pytest.approx(CFG.account_effect_sd, rel=0.1)
    assert people.lead_effect.std() == pytest.approx(CFG.lead_effect_sd, rel=0.1)


def test_every_account_and_lead_has_a_profile(frames: dict[str, pd.DataFrame]) -> None:
    """Every row gets the fields, re-created and duplicate rows included (the same person, the same company)."""
    acc, leads = frames["accounts"], frames["leads"]
    assert acc.employee_growth.notna().all() and acc.tech_fit.isin(TECH_FIT).all()
    assert leads.job_level.isin(JOB_LEVELS).all() and leads.job_function.isin(JOB_FUNCTIONS).all()
    by_email = leads.assign(email=leads.email.str.lower().str.replace("+crm", "", regex=False))
    assert (by_email.groupby("email")[["job_level", "job_function"]].nunique() == 1).all().all()


def test_fields_correlate_with_the_latent_effects_as_documented(people: pd.DataFrame) -> None:
    """employee_growth = 0.06 + 0.10 · (z_a + e), e ~ N(0, 0.3): slope 0.10 on z_a, residual sd 0.03."""
    acc = people.drop_duplicates("account_id")
    z_a = acc.account_effect / CFG.account_effect_sd
    slope, intercept = np.polyfit(z_a, acc.employee_growth, 1)
    assert slope == pytest.approx(0.10, abs=0.01) and intercept == pytest.approx(0.06, abs=0.01)
    resid = acc.employee_growth - (0.06 + 0.10 * z_a)
    assert resid.std() == pytest.approx(0.10 * CFG.growth_noise_sd, rel=0.1)  # 0.03 (+ rounding to 0.001)
    expected_r = 1 / np.sqrt(1 + CFG.growth_noise_sd**2)  # corr(z_a, z_a + e) = 0.958
    assert np.corrcoef(z_a, acc.employee_growth)[0, 1] == pytest.approx(expected_r, abs=0.02)
    # categorical fields: the mean latent effect rises with every level, most junior / least fitting first
    for column, codes, effect, frame in (
        ("tech_fit", TECH_FIT, "account_effect", acc),
        ("job_level", JOB_LEVELS, "lead_effect", people),
        ("job_function", JOB_FUNCTIONS, "lead_effect", people),
    ):
        means = frame.groupby(column)[effect].mean().reindex(list(codes))
        assert means.notna().all() and (np.diff(means.to_numpy()) > 0).all(), (column, means)


@pytest.mark.parametrize(
    ("column", "codes", "shares", "noise"),
    [
        ("job_level", JOB_LEVELS, JOB_LEVEL_SHARES, CFG.person_noise_sd),
        ("job_function", JOB_FUNCTIONS, JOB_FUNCTION_SHARES, CFG.person_noise_sd),
    ],
)
def test_person_fields_are_bins_of_the_noisy_lead_effect(
    people: pd.DataFrame, column: str, codes: tuple[str, ...], shares: tuple[float, ...], noise: float
) -> None:
    """Shares within 4 binomial standard errors; a lead far below the lowest cut (above the highest) is in the
    lowest (highest) bin."""
    n = len(people)
    got = people[column].value_counts().reindex(list(codes)).to_numpy() / n
    share = np.asarray(shares)
    assert np.all(np.abs(got - share) < 4 * np.sqrt(share * (1 - share) / n))
    cuts = ndtri(np.cumsum(shares)[:-1]) * np.sqrt(1 + noise**2)
    z = people.lead_effect / CFG.lead_effect_sd
    far = 4 * noise  # a lead four noise sds from a cut crosses it with probability 3e-5 (and the seed is fixed)
    low, high = z < cuts[0] - far, z > cuts[-1] + far
    assert low.sum() > 5 and high.sum() > 5
    assert (people[column][low] == codes[0]).all() and (people[column][high] == codes[-1]).all()


def test_the_fields_explain_most_but_not_all_of_the_propensity(people: pd.DataFrame) -> None:
    """The best predictor from the four fields (cell means) explains about 90 % of the propensity's variance."""
    growth_bin = pd.qcut(people.employee_growth, 20, labels=False)
    e_acc = people.groupby([growth_bin, people.tech_fit]).account_effect.transform("mean")
    e_lead = people.groupby(["job_level", "job_function"]).lead_effect.transform("mean")
    r2 = 1 - np.var(people.propensity - e_acc - e_lead) / np.var(people.propensity)
    assert 0.8 < r2 < 0.95, r2


def test_profile_noise_moves_no_other_draw(company: SimulatedCompany) -> None:
    """The profiles draw from their own stream: other profile noises change the profile columns and nothing
    else — every other column of every table, the labels and the per-lead truth are identical."""
    cfg = dataclasses.replace(CFG, growth_noise_sd=1.0, tech_fit_noise_sd=0.1, person_noise_sd=2.0)
    other = simulate(scale="s", seed=0, config=cfg)
    for name, table in company.tables.items():
        new = PROFILE_COLUMNS.get(name, ())
        keep = [c for c in table.column_names if c not in new]
        assert other.tables[name].select(keep).equals(table.select(keep)), name
        for c in new:
            assert not other.tables[name].column(c).equals(table.column(c)), (name, c)
    assert other.truth.labels.equals(company.truth.labels)
    assert other.truth.leads.equals(company.truth.leads)
    assert other.truth.totals == company.truth.totals
