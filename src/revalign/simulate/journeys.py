"""Accounts, leads and their pre-conversion journeys, and the true conversion model.

The conversion model (what attribution is scored against)::

    x_ic   = 1 if channel c appears in lead i's journey (the touches up to its conversion), else 0
    logit  = intercept[segment_i] + propensity_i + Σ_c effect_c · x_ic
    P(lead i becomes an opportunity) = 1 / (1 + exp(−logit))

``propensity_i`` is latent (account effect + lead effect) and also raises the number of touches, so channel
presence is confounded with engagement, as in real data. The CRM records noisy views of both effects (account
growth and tech fit, the lead's job level and function: :mod:`revalign.simulate.profiles`), as real CRMs
record firmographics and roles, so most of the propensity is observable, not all. The incremental
conversions of channel c are ``Σ_i x_ic · (p_i − p_i without c)``; the ground truth sums them exactly over all
leads.

A converting lead requests a demo on its last journey touch (interaction ``demo_request``) and becomes an MQL
two minutes later: that MQL time is the conversion time, and every journey touch is at or before it. (A few
non-converting leads request a demo too; sales rejects or recycles them.)

The MQL scoring rule (``SimulationConfig``): score = fit points of the segment (5/15/25) + 5 per journey touch
(at most 40) + 60 for a demo request; MQL when the score reaches 60, at the end of the journey.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.special import expit

from revalign.simulate.company import MINUTE, Calendar, Marketing, Org
from revalign.simulate.config import INDUSTRIES, SimulationConfig
from revalign.simulate.profiles import AccountProfile, LeadProfile, account_profile, lead_profile
from revalign.simulate.writer import ids

_SYLLABLES_A = (
    "Ac",
    "Bor",
    "Cal",
    "Dyn",
    "Ev",
    "Fal",
    "Gal",
    "Hel",
    "Ion",
    "Jun",
    "Kor",
    "Lum",
    "Mer",
    "Nex",
    "Or",
    "Pol",
    "Quan",
    "Ros",
    "Sol",
    "Tal",
    "Ul",
    "Ver",
    "Wex",
    "Xan",
    "Yor",
    "Zen",
)
_SYLLABLES_B = ("ara", "ex", "ion", "ora", "um", "is", "on", "ia", "ant", "ero", "ify", "ly", "ix", "os")
_SUFFIX = ("Inc", "LLC", "GmbH", "Ltd", "SA", "Group", "Labs", "Systems", "Technologies", "Partners")


@dataclass
class Accounts:
    """The accounts of one chunk (aligned arrays; ``owner`` is the AE's user index)."""

    n: int
    ids: pa.Array
    segment: np.ndarray
    region: np.ndarray
    industry: np.ndarray
    employees: np.ndarray
    effect: np.ndarray
    owner: np.ndarray  # user index (AE)
    name: list[str]
    domain: list[str]
    profile: AccountProfile  # recorded firmographics that reveal ``effect`` (simulate.profiles)


@dataclass
class Journeys:
    """Leads of one chunk and their journey touches (``t_*`` are float days since the start)."""

    n: int
    number: np.ndarray
    ids: pa.Array
    account: np.ndarray  # index into Accounts
    segment: np.ndarray
    region: np.ndarray
    source: np.ndarray  # true sourcing channel (index)
    campaign: np.ndarray  # sourcing campaign (index, −1 none)
    t0: np.ndarray
    propensity: np.ndarray
    lead_effect: np.ndarray  # the lead's part of the propensity (the rest is its account's effect)
    profile: LeadProfile  # recorded job level and function that reveal ``lead_effect`` (simulate.profiles)
    x: np.ndarray  # [lead, channel] presence in the journey
    p: np.ndarray  # true conversion probability
    logit: np.ndarray
    converted: np.ndarray  # latent conversion (may fall after as_of)
    demo: np.ndarray  # requested a demo on the last journey touch (every converting lead, a few others)
    t_conv: np.ndarray  # last journey touch + 2 minutes (conversion / MQL time when MQL)
    n_observed: np.ndarray  # journey touches on or before as_of
    # touches
    touch_lead: np.ndarray
    touch_t: np.ndarray
    touch_channel: np.ndarray
    touch_campaign: np.ndarray
    touch_interaction: np.ndarray  # object array of strings


def generate_accounts(
    cfg: SimulationConfig,
    org: Org,
    n_leads: int,
    first_number: int,
    rng: np.random.Generator,
    profile_rng: np.random.Generator,
) -> Accounts:
    """The chunk's accounts; ``profile_rng`` (the profiles' own stream) draws only their recorded firmographics."""
    n = max(1, round(n_leads / cfg.leads_per_account))
    segment = rng.choice(3, n, p=np.asarray(cfg.segment_mix))
    region = rng.choice(len(cfg.region_mix), n, p=np.asarray(cfg.region_mix))
    lo = np.array([5, 200, 2000])[segment]
    hi = np.array([200, 2000, 50_000])[segment]
    employees = np.exp(rng.uniform(np.log(lo), np.log(hi))).astype(np.int64)
    number = first_number + np.arange(n)
    a = rng.integers(0, len(_SYLLABLES_A), n)
    b = rng.integers(0, len(_SYLLABLES_B), n)
    s = rng.integers(0, len(_SUFFIX), n)
    base = [_SYLLABLES_A[i] + _SYLLABLES_B[j] for i, j in zip(a, b, strict=True)]
    name = [f"{w} {_SUFFIX[k]}" for w, k in zip(base, s, strict=True)]
    domain = [f"{w.lower()}{num}.example.com" for w, num in zip(base, number, strict=True)]
    industry = rng.integers(0, len(INDUSTRIES), n)  # same draw order as ever: industry, effect, owner
    effect = rng.normal(0.0, cfg.account_effect_sd, n)
    owner = org.reps_in_region(org.ae, region, rng)
    return Accounts(
        n=n,
        ids=ids("A", number, 9),
        segment=segment,
        region=region,
        industry=industry,
        employees=employees,
        effect=effect,
        owner=owner,
        name=name,
        domain=domain,
        profile=account_profile(cfg, effect, profile_rng),
    )


def within_group_position(counts: np.ndarray) -> np.ndarray:
    """0, 1, … within each group of consecutive rows, for groups of the given sizes."""
    total = int(counts.sum())
    starts = np.cumsum(counts) - counts
    return np.arange(total) - np.repeat(starts, counts)


def campaign_for(
    mkt: Marketing, cal: Calendar, channel: np.ndarray, t: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A campaign of ``channel`` running on day ``t`` (−1 when the channel runs none)."""
    day = np.clip(np.floor(t).astype(np.int64), 0, cal.days - 1)
    q = cal.quarter[day]
    k = np.floor(rng.random(len(channel)) * np.maximum(mkt.per_quarter[channel], 1)).astype(np.int64)
    return mkt.lookup[channel, q, k]


@dataclass
class _Path:
    """Every journey touch of the chunk, grouped by lead in time order (the first one is the sourcing touch)."""

    lead: np.ndarray  # lead of each touch
    pos: np.ndarray  # position within the lead's journey
    channel: np.ndarray
    t: np.ndarray
    first: np.ndarray  # per lead: index of its first touch …
    last: np.ndarray  # … and of its last
    span: np.ndarray  # per lead: days from first to last touch


def _touch_path(
    cfg: SimulationConfig, source: np.ndarray, t0: np.ndarray, propensity: np.ndarray, rng: np.random.Generator
) -> _Path:
    """More touches for more engaged leads; gaps exponential, journeys squeezed into ``max_journey_days``."""
    chans = cfg.channels
    n_ch = len(chans)
    mean_extra = np.clip(cfg.extra_touches_mean + cfg.extra_touches_per_propensity * propensity, 0.3, None)
    extra = np.minimum(rng.poisson(mean_extra), 25)
    counts = 1 + extra
    lead_of = np.repeat(np.arange(len(source)), counts)
    pos = within_group_position(counts)
    weights = np.array([c.touch_weight for c in chans])
    other = rng.choice(n_ch, len(pos), p=weights / weights.sum())
    channel = np.where(pos == 0, source[lead_of], other)
    gaps = np.where(pos == 0, 0.0, rng.exponential(cfg.touch_gap_days, len(pos)))
    first = np.cumsum(counts) - counts
    cum = np.cumsum(gaps)
    cum = cum - np.repeat(cum[first], counts)
    last = np.cumsum(counts) - 1
    shrink = np.minimum(1.0, cfg.max_journey_days / np.maximum(cum[last], 1e-9))
    cum = cum * shrink[lead_of]
    # touches keep their order and never share a minute with the one before
    cum = cum + pos * MINUTE
    return _Path(lead_of, pos, channel, t0[lead_of] + cum, first, last, cum[last])


def generate_journeys(
    cfg: SimulationConfig,
    cal: Calendar,
    mkt: Marketing,
    acc: Accounts,
    n: int,
    first_number: int,
    rng: np.random.Generator,
    profile_rng: np.random.Generator,
) -> Journeys:
    """``n`` leads (numbered from ``first_number``) arriving by the marketing curve, their journeys, and
    whether each converts under the true model (``profile_rng`` draws only the leads' job level and function)."""
    chans = cfg.channels
    n_ch = len(chans)
    as_of = float(cal.days)
    probs = (mkt.arrival / mkt.arrival.sum()).ravel()
    flat = rng.choice(len(probs), n, p=probs)
    day, source = flat // n_ch, flat % n_ch
    t0 = day + (8.0 + 10.0 * rng.beta(2.0, 2.0, n)) / 24.0
    account = rng.integers(0, acc.n, n)
    segment = acc.segment[account]
    lead_effect = rng.normal(0.0, cfg.lead_effect_sd, n)
    propensity = acc.effect[account] + lead_effect

    path = _touch_path(cfg, source, t0, propensity, rng)
    lead_of, channel, t = path.lead, path.channel, path.t

    x = np.zeros((n, n_ch), dtype=bool)
    x[lead_of, channel] = True
    effect = np.array([c.effect for c in chans])
    logit = np.asarray(cfg.intercept)[segment] + propensity + x.astype(np.float64) @ effect
    p = expit(logit)
    converted = rng.random(n) < p
    demo = converted | (rng.random(n) < cfg.false_demo_rate)  # some requests go nowhere
    t_conv = t0 + path.span + 2 * MINUTE

    interaction = np.where(
        path.pos == 0,
        np.array([c.first_interaction for c in chans], dtype=object)[channel],
        np.array([c.interaction for c in chans], dtype=object)[channel],
    )
    interaction[path.last[demo]] = "demo_request"
    campaign = campaign_for(mkt, cal, channel, t, rng)
    observed = t <= as_of
    n_observed = np.bincount(lead_of[observed], minlength=n)
    number = first_number + np.arange(n)
    return Journeys(
        n=n,
        number=number,
        ids=ids("L", number, 9),
        account=account,
        segment=segment,
        region=acc.region[account],
        source=source,
        campaign=campaign[path.first],
        t0=t0,
        propensity=propensity,
        lead_effect=lead_effect,
        profile=lead_profile(cfg, lead_effect, profile_rng),
        x=x,
        p=p,
        logit=logit,
        converted=converted,
        demo=demo,
        t_conv=t_conv,
        n_observed=n_observed,
        touch_lead=lead_of[observed],
        touch_t=t[observed],
        touch_channel=channel[observed],
        touch_campaign=campaign[observed],
        touch_interaction=interaction[observed],
    )
