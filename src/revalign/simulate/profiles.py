"""Recorded fields that reveal the latent propensity: account firmographics and the lead's role.

Real B2B CRMs record what drives a lead's propensity to buy: how the account is growing and whether its
technology fits (firmographic and technographic enrichment), and who the person is (seniority, function).
The simulator's conversion logit carries a latent propensity = account effect (sd ``account_effect_sd``) +
lead effect (sd ``lead_effect_sd``); these fields are noisy views of those two effects, so a model can learn
most of the propensity from the data, but not all of it::

    z_a = account effect / account_effect_sd,  z_l = lead effect / lead_effect_sd
    accounts.employee_growth = 0.06 + 0.10 · (z_a + e1)   e1 ~ N(0, growth_noise_sd)
    accounts.tech_fit        = bin of z_a + e2             e2 ~ N(0, tech_fit_noise_sd)
    leads.job_level          = bin of z_l + e3             e3 ~ N(0, person_noise_sd)
    leads.job_function       = bin of z_l + e4             e4 ~ N(0, person_noise_sd)

    tech_fit:      low 30 % | medium 40 % | high 30 %
    job_level:     individual_contributor 35 % | manager 30 | director 20 | vp 10 | c_level 5
    job_function:  other 15 % | hr 10 | finance 15 | it 15 | marketing 20 | sales 15 | revenue_operations 10

Bins are cut at fixed quantiles of the noisy score's normal distribution, so a field's shares do not depend on
the chunk. With the default noises the best predictor of the propensity from these four fields explains
about 90 % of its variance (``tests/simulate/test_profiles.py`` measures it on the ground truth).

The noises come from their own random stream (``SeedSequence([seed, 4, chunk])``, see
:mod:`revalign.simulate.generator`): adding these fields changed no earlier draw, so every other table,
label and ground-truth figure is what it was before they existed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from revalign.simulate.config import SimulationConfig

TECH_FIT_SHARES = (0.30, 0.40, 0.30)
JOB_LEVEL_SHARES = (0.35, 0.30, 0.20, 0.10, 0.05)
JOB_FUNCTION_SHARES = (0.15, 0.10, 0.15, 0.15, 0.20, 0.15, 0.10)
"""Shares of each code, in the order of ``revalign.model.tables`` (``TECH_FIT``, ``JOB_LEVELS``,
``JOB_FUNCTIONS``): the least propensity first."""


@dataclass
class AccountProfile:
    """Per account: 12-month head-count growth and the tech-fit code (index into ``TECH_FIT``)."""

    employee_growth: np.ndarray
    tech_fit: np.ndarray


@dataclass
class LeadProfile:
    """Per lead: job level and job function codes (indices into ``JOB_LEVELS`` / ``JOB_FUNCTIONS``)."""

    job_level: np.ndarray
    job_function: np.ndarray


def _standard(effect: np.ndarray, sd: float) -> np.ndarray:
    return effect / sd if sd > 0 else np.zeros_like(effect)


def noisy_bins(z: np.ndarray, noise_sd: float, shares: tuple[float, ...], rng: np.random.Generator) -> np.ndarray:
    """Code of each ``z + noise`` among bins holding ``shares`` of N(0, 1 + noise_sd²) (0 = lowest)."""
    cuts = ndtri(np.cumsum(shares)[:-1]) * np.sqrt(1.0 + noise_sd**2)
    return np.searchsorted(cuts, z + rng.normal(0.0, noise_sd, len(z))).astype(np.int64)


def account_profile(cfg: SimulationConfig, effect: np.ndarray, rng: np.random.Generator) -> AccountProfile:
    """Growth and tech fit of accounts with latent ``effect`` (noises from ``rng``, the profiles' own stream)."""
    z = _standard(effect, cfg.account_effect_sd)
    growth = np.round(0.06 + 0.10 * (z + rng.normal(0.0, cfg.growth_noise_sd, len(z))), 3)
    return AccountProfile(growth, noisy_bins(z, cfg.tech_fit_noise_sd, TECH_FIT_SHARES, rng))


def lead_profile(cfg: SimulationConfig, lead_effect: np.ndarray, rng: np.random.Generator) -> LeadProfile:
    """Job level and function of leads with latent ``lead_effect`` (noises from the profiles' stream)."""
    z = _standard(lead_effect, cfg.lead_effect_sd)
    return LeadProfile(
        job_level=noisy_bins(z, cfg.person_noise_sd, JOB_LEVEL_SHARES, rng),
        job_function=noisy_bins(z, cfg.person_noise_sd, JOB_FUNCTION_SHARES, rng),
    )
