"""Knobs of the simulated company: scales, channels and the behavioural parameters, as frozen dataclasses.

Everything the generator draws from is here, so the ground truth can quote it verbatim (``to_dict``) and a
test can change one knob without touching the generator. Numbers are chosen to look like a mid-size B2B SaaS
company (lead→opportunity about 10–15 %, win rate about 30 %, SMB cycles of weeks, enterprise of months).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from revalign.errors import UnknownNameError


@dataclass(frozen=True)
class ChannelConfig:
    """One acquisition channel: its volume, its spend, and its true incremental effect on conversion.

    ``effect`` is the channel's additive term on the log-odds of conversion (lead → opportunity) when the
    channel appears at least once in the lead's pre-conversion journey; it is the number attribution models
    are scored against. Leads sourced per day follow ``unit × (base × season(d) + spend_share ×
    (spend(d) / daily_budget) ** beta)``: ``beta < 1`` gives diminishing returns on spend.
    """

    name: str
    effect: float
    base: float  # relative daily lead volume that does not depend on spend (organic, word of mouth)
    spend_share: float  # relative daily lead volume when spending exactly the daily budget
    daily_budget: float  # mean media/program spend per day (0: no media spend)
    beta: float = 0.6  # response-curve exponent
    touch_weight: float = 1.0  # relative frequency as a non-sourcing touch in journeys
    touch_type: str = "marketing"
    interaction: str = "visit"
    first_interaction: str = "form_fill"
    spend_category: str = "media"
    campaign_type: str = "ads"
    campaigns_per_quarter: int = 0
    web: bool = True  # whether it brings website sessions
    visitor_to_lead: float = 0.03  # share of web sessions that turn into a lead


DEFAULT_CHANNELS: tuple[ChannelConfig, ...] = (
    ChannelConfig("organic_search", 0.30, base=3.0, spend_share=0.0, daily_budget=0.0, touch_weight=1.0),
    ChannelConfig(
        "paid_search",
        0.40,
        0.3,
        2.5,
        2500.0,
        beta=0.55,
        touch_weight=1.2,
        interaction="ad_click",
        campaigns_per_quarter=3,
        visitor_to_lead=0.025,
    ),
    ChannelConfig(
        "paid_social",
        0.10,
        0.2,
        2.0,
        1800.0,
        beta=0.5,
        touch_weight=1.5,
        interaction="ad_click",
        campaigns_per_quarter=3,
        visitor_to_lead=0.015,
    ),
    ChannelConfig(
        "email",
        0.20,
        0.5,
        0.5,
        150.0,
        beta=0.7,
        touch_weight=3.0,
        interaction="email_click",
        spend_category="tools",
        campaign_type="nurture",
        campaigns_per_quarter=2,
        visitor_to_lead=0.05,
    ),
    ChannelConfig(
        "events",
        0.70,
        0.1,
        1.0,
        1200.0,
        beta=0.7,
        touch_weight=0.4,
        interaction="event_attended",
        first_interaction="badge_scan",
        spend_category="events",
        campaign_type="event",
        campaigns_per_quarter=2,
        web=False,
    ),
    ChannelConfig(
        "webinar",
        0.50,
        0.1,
        1.0,
        400.0,
        beta=0.65,
        touch_weight=0.8,
        interaction="webinar_attended",
        first_interaction="webinar_registration",
        spend_category="programs",
        campaign_type="webinar",
        campaigns_per_quarter=2,
        visitor_to_lead=0.08,
    ),
    ChannelConfig(
        "content",
        0.15,
        0.8,
        1.0,
        500.0,
        beta=0.6,
        touch_weight=2.0,
        interaction="content_download",
        spend_category="programs",
        campaign_type="content",
        campaigns_per_quarter=1,
        visitor_to_lead=0.02,
    ),
    ChannelConfig(
        "partner_referral",
        0.80,
        0.8,
        0.4,
        300.0,
        beta=0.8,
        touch_weight=0.3,
        interaction="referral",
        first_interaction="referral",
        spend_category="programs",
        campaign_type="partner",
        campaigns_per_quarter=1,
        visitor_to_lead=0.06,
    ),
    ChannelConfig("direct", 0.0, 1.5, 0.0, 0.0, touch_weight=1.2, visitor_to_lead=0.03),
    ChannelConfig(
        "outbound_sales",
        0.60,
        2.0,
        0.0,
        0.0,
        touch_weight=0.8,
        touch_type="sales",
        interaction="call",
        first_interaction="call",
        web=False,
    ),
)


@dataclass(frozen=True)
class Scale:
    """How big the company is. ``chunk_leads`` bounds memory: each chunk is generated and written alone."""

    name: str
    leads: int
    sdrs: int
    aes: int
    csms: int
    marketers: int
    chunk_leads: int = 100_000


SCALES: dict[str, Scale] = {
    "xs": Scale("xs", 800, sdrs=3, aes=4, csms=2, marketers=3, chunk_leads=400),
    "s": Scale("s", 6_000, sdrs=6, aes=8, csms=3, marketers=5, chunk_leads=3_000),
    "m": Scale("m", 100_000, sdrs=20, aes=30, csms=10, marketers=12, chunk_leads=50_000),
    "l": Scale("l", 1_000_000, sdrs=80, aes=120, csms=40, marketers=30, chunk_leads=100_000),
    "xl": Scale("xl", 10_000_000, sdrs=300, aes=450, csms=150, marketers=80, chunk_leads=100_000),
}
"""``xs`` is for unit tests, ``s`` for the demo (seconds), ``l`` is about 1M leads / 10M touches, ``xl`` 100M."""


SEGMENTS = ("smb", "mid_market", "enterprise")
REGIONS = ("na", "emea", "apac", "latam")
INDUSTRIES = ("software", "financial_services", "healthcare", "manufacturing", "retail", "education", "media")
REJECTION_REASONS = ("not_a_fit", "no_budget", "no_response", "bad_contact_data", "competitor", "student")
LOST_REASONS = ("price", "competitor", "no_decision", "timing", "no_budget", "missing_feature")
ADVOCACY_REASONS = ("reference", "referral", "review")


@dataclass(frozen=True)
class SimulationConfig:
    """All behavioural parameters. Per-segment tuples follow ``SEGMENTS`` (smb, mid_market, enterprise)."""

    start: dt.date = dt.date(2024, 1, 1)
    days: int = 731  # 2024-01-01 … 2025-12-31: eight full quarters
    annual_growth: float | None = None  # compounded demand growth per year; None: +40 % over the whole run
    channels: tuple[ChannelConfig, ...] = DEFAULT_CHANNELS
    # conversion (lead → opportunity): logit p = intercept[segment] + propensity + Σ effect_c · x_c
    intercept: tuple[float, float, float] = (-4.0, -3.7, -3.4)
    segment_mix: tuple[float, float, float] = (0.55, 0.30, 0.15)
    region_mix: tuple[float, float, float, float] = (0.50, 0.30, 0.15, 0.05)
    leads_per_account: float = 2.5
    account_effect_sd: float = 0.6  # latent propensity = account effect + lead effect
    lead_effect_sd: float = 0.8
    # recorded fields that reveal the propensity (simulate.profiles): noise sd on the standardised effect
    growth_noise_sd: float = 0.3  # accounts.employee_growth ← account effect
    tech_fit_noise_sd: float = 0.5  # accounts.tech_fit ← account effect
    person_noise_sd: float = 0.3  # leads.job_level and leads.job_function ← lead effect (independent noises)
    extra_touches_mean: float = 8.5  # Poisson mean of journey touches after the sourcing one
    extra_touches_per_propensity: float = 0.8  # engaged leads touch more (a confounder for naive attribution)
    touch_gap_days: float = 6.0
    max_journey_days: float = 120.0
    # lead scoring rule: fit + 5 per journey touch (max 40) + 60 for a demo request; MQL when score >= 60
    fit_points: tuple[float, float, float] = (5.0, 15.0, 25.0)
    touch_points: float = 5.0
    max_touch_points: float = 40.0
    demo_points: float = 60.0
    mql_threshold: float = 60.0
    # (from this date, threshold): marketing loosens the MQL bar to hit its volume target (more MQLs, fewer convert)
    mql_threshold_change: tuple[dt.date, float] | None = None
    false_demo_rate: float = 0.04  # non-converting leads that still request a demo
    rejection_rate: float = 0.65  # non-converting MQLs that sales rejects (others are accepted, then recycled)
    sla_hours: float = 24.0
    # opportunities
    win_intercept: tuple[float, float, float] = (-0.8, -1.1, -1.4)
    win_per_propensity: float = 0.6
    amount_median: tuple[float, float, float] = (12_000.0, 45_000.0, 150_000.0)
    amount_sigma: float = 0.6
    stage_days: tuple[tuple[float, ...], ...] = (
        (4.0, 6.0, 8.0, 6.0, 4.0),
        (8.0, 12.0, 18.0, 12.0, 8.0),
        (15.0, 25.0, 35.0, 25.0, 18.0),
    )
    lost_at_stage: tuple[float, ...] = (0.30, 0.25, 0.20, 0.15, 0.10)
    amount_change_rate: float = 0.2
    owner_change_rate: float = 0.05
    # customers
    onboard_rate: float = 0.85
    onboard_days: tuple[float, float, float] = (14.0, 30.0, 60.0)
    advocate_rate: float = 0.2
    churn_rate: tuple[float, float, float] = (0.25, 0.12, 0.06)  # per annual renewal
    expansion_rate: tuple[float, float, float] = (0.15, 0.25, 0.35)  # per contract year
    # injected credit-gaming and data faults
    gamer_share: float = 0.25  # share of AEs who overwrite lead sources
    overwrite_rate_gamer: float = 0.4
    overwrite_rate_other: float = 0.02
    recreate_rate: float = 0.04
    recreate_max_days: int = 30
    duplicate_lead_rate: float = 0.02
    duplicate_account_share: float = 0.4
    close_push_rate: float = 0.05
    stage_skip_rate: float = 0.05
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def channel_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.channels)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["start"] = self.start.isoformat()
        if self.mql_threshold_change is not None:
            d["mql_threshold_change"] = [self.mql_threshold_change[0].isoformat(), self.mql_threshold_change[1]]
        return d


def get_scale(name: str | Scale) -> Scale:
    """The :class:`Scale` called ``name`` (xs, s, m, l, xl)."""
    if isinstance(name, Scale):
        return name
    try:
        return SCALES[name]
    except KeyError:
        raise UnknownNameError("simulator scale", name, SCALES) from None


DEMO_CONFIG = SimulationConfig(
    start=dt.date(2023, 1, 1), days=1096, annual_growth=0.20, mql_threshold_change=(dt.date(2025, 1, 1), 40.0)
)
"""The demo company: three years (2023-01-01 … 2025-12-31), demand growing 20 % a year with the same seasons.

From 2025 marketing lowers its MQL bar from 60 to 40 points to hit its volume target: MQLs jump, sales rejects
more of them, and new revenue misses the board's plan. That is the story a newcomer sees in the first minute:
marketing green on MQL volume, the north star red.

The reported year (2025) has two full years before it, so its pipeline, customer base, renewals and churn are
in steady state: "last year +20 %" targets give believable attainments, and churn has a history to plan from.
The default :class:`SimulationConfig` (two years) stays as it is for tests and benchmarks.
"""


def demo_scale(name: str | Scale, config: SimulationConfig = DEMO_CONFIG) -> Scale:
    """``name``'s scale with as many leads per day as the default two-year run (leads grow with the days)."""
    scale = get_scale(name)
    leads = round(scale.leads * config.days / SimulationConfig().days)
    return dataclasses.replace(scale, leads=leads)
