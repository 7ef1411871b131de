"""The company's fixed parts: calendar, people and teams, campaigns, spend and the lead-arrival curve.

These are small (thousands of rows at any scale) and generated once, before the lead chunks. Spend drives
lead volume through a concave response curve per channel, so the ground truth can state how many leads a
channel's spend bought and what the next dollar buys (diminishing returns).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.special import ndtr

from revalign.simulate.config import REGIONS, Scale, SimulationConfig
from revalign.simulate.writer import canonical, dates, ids, take

MINUTE = 1.0 / 1440.0
HOUR = 1.0 / 24.0
"""Times in the simulator are float days since the start; these are the fractions of a day."""


@dataclass
class Calendar:
    """Day index → weekday, quarter; the seasonal multiplier of demand."""

    start: dt.date
    days: int
    annual_growth: float | None = None
    """Demand growth per year, compounded (a steady company); None: +40 % spread evenly over the whole run."""

    def __post_init__(self) -> None:
        d = np.arange(self.days)
        day_dates = np.datetime64(self.start) + d.astype("timedelta64[D]")
        self.weekday = (d + self.start.weekday()) % 7
        months = day_dates.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
        self.month = months
        self.quarter = (months - months[0] + (months[0] % 3)) // 3  # 0 = the start's quarter
        self.n_quarters = int(self.quarter.max()) + 1
        self.quarter_start = np.array([d[self.quarter == q].min() for q in range(self.n_quarters)])
        self.quarter_end = np.array([d[self.quarter == q].max() + 1 for q in range(self.n_quarters)])  # exclusive
        self.month_start = np.flatnonzero(np.r_[True, np.diff(months) != 0])
        doy = (day_dates - day_dates.astype("datetime64[Y]")).astype(np.int64)
        annual = 1.0 + 0.15 * np.cos(2 * np.pi * (doy - 280) / 365.0)
        annual = np.where((doy >= 350) | (doy < 3), annual * 0.55, annual)  # holidays
        annual = np.where((doy >= 213) & (doy < 244), annual * 0.85, annual)  # August
        compounded = self.annual_growth is not None
        growth = (1.0 + (self.annual_growth or 0.0)) ** (d / 365.25) if compounded else 1.0 + 0.4 * d / self.days
        self.weekday_factor = np.where(self.weekday >= 5, 0.3, 1.0)
        self.season = annual * growth * self.weekday_factor
        self.spend_season = annual * growth * np.where(self.weekday >= 5, 0.7, 1.0)

    def quarter_ends_between(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """How many quarter ends fall strictly inside (t0, t1) for each pair (vectorised)."""
        ends = self.quarter_end.astype(np.float64)
        return np.searchsorted(ends, t1, side="left") - np.searchsorted(ends, t0, side="right")


ROLE_SALARY = {
    "executive": 25_000.0,
    "manager": 14_000.0,
    "ae": 11_000.0,
    "sdr": 6_500.0,
    "csm": 8_000.0,
    "marketer": 9_000.0,
    "revops": 10_000.0,
}


@dataclass
class Org:
    """People: user table columns plus the arrays the generator picks reps from."""

    users: pa.Table
    teams: pa.Table
    user_ids: np.ndarray  # object array of ids
    role: np.ndarray
    department: np.ndarray
    sdr: np.ndarray  # indices into users
    ae: np.ndarray
    rep_region: np.ndarray  # region code per user (−1 for global roles)
    followup_mu: np.ndarray  # per SDR (aligned with ``sdr``): log-hours lognormal location
    followup_sigma: np.ndarray
    gamer: np.ndarray  # per AE (aligned with ``ae``): overwrites lead sources

    def reps_in_region(self, reps: np.ndarray, region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A random rep (user index) from ``reps`` for each lead, in the lead's region when one covers it."""
        out = np.empty(len(region), dtype=np.int64)
        for r in range(len(REGIONS)):
            sel = np.flatnonzero(region == r)
            pool = reps[self.rep_region[reps] == r]
            if len(pool) == 0:
                pool = reps
            out[sel] = pool[rng.integers(0, len(pool), len(sel))]
        return out

    def user_ids_at(self, idx: np.ndarray) -> pa.Array:
        """User ids of user indices (−1 → null), as an Arrow string array."""
        return take(self.user_ids.tolist(), np.asarray(idx))

    def followup_truth(self, sla_hours: float) -> list[dict]:
        """Per-SDR follow-up delay distribution (lognormal hours) and its true SLA breach probability."""
        out = []
        for k, u in enumerate(self.sdr):
            mu, sigma = float(self.followup_mu[k]), float(self.followup_sigma[k])
            out.append(
                {
                    "user_id": str(self.user_ids[u]),
                    "distribution": "lognormal_hours",
                    "mu": mu,
                    "sigma": sigma,
                    "median_hours": float(np.exp(mu)),
                    "breach_probability": float(1.0 - ndtr((np.log(sla_hours) - mu) / sigma)),
                }
            )
        return out


TEAMS: tuple[tuple[str, str, str, str | None], ...] = (
    ("T01", "Leadership", "executive", None),
    ("T02", "Marketing", "marketing", None),
    ("T03", "Revenue Operations", "revops", None),
    ("T04", "Customer Success", "customer_success", None),
    *(
        team
        for r, region in enumerate(REGIONS)
        for team in (
            (f"T{5 + 2 * r:02d}", f"SDR {region.upper()}", "sales", region),
            (f"T{6 + 2 * r:02d}", f"AE {region.upper()}", "sales", region),
        )
    ),
)
"""(team id, name, department, region): the global teams, then an SDR and an AE team per region."""

FIRST_NAMES = (
    "Alex",
    "Sam",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Quinn",
    "Robin",
    "Drew",
)
LAST_NAMES = ("Smith", "Garcia", "Chen", "Okafor", "Novak", "Silva", "Kumar", "Larsen", "Moreau", "Tanaka", "Rossi")


@dataclass
class _Person:
    role: str
    department: str
    team: str
    region: int  # region code, −1 for global roles
    manager: int | None  # row of the manager


def _regions_for(cfg: SimulationConfig, n: int) -> np.ndarray:
    """Region codes of ``n`` reps: largest-remainder allocation by lead share, every region covered if n allows."""
    region_order = np.argsort(-np.asarray(cfg.region_mix), kind="stable")
    share = np.asarray(cfg.region_mix) * n
    counts = np.floor(share).astype(int)
    for r in np.argsort(-(share - counts), kind="stable")[: n - counts.sum()]:
        counts[r] += 1
    if n >= len(REGIONS):  # biggest regions first when reps are fewer than regions
        for r in region_order[::-1]:
            if counts[r] == 0:
                counts[np.argmax(counts)] -= 1
                counts[r] = 1
    return np.repeat(np.arange(len(REGIONS)), counts)


def _people(cfg: SimulationConfig, scale: Scale) -> list[_Person]:
    """Everyone in the company, managers before their reports (row order = user number)."""
    rows: list[_Person] = []

    def add(role: str, dept: str, team: str, region: int, manager: int | None) -> int:
        rows.append(_Person(role, dept, team, region, manager))
        return len(rows) - 1

    cro = add("executive", "executive", "T01", -1, None)
    managers = {
        "T02": add("manager", "marketing", "T02", -1, cro),
        "T03": add("manager", "revops", "T03", -1, cro),
        "T04": add("manager", "customer_success", "T04", -1, cro),
    }
    for _ in range(scale.marketers):
        add("marketer", "marketing", "T02", -1, managers["T02"])
    add("revops", "revops", "T03", -1, managers["T03"])
    for _ in range(scale.csms):
        add("csm", "customer_success", "T04", -1, managers["T04"])
    for rep_role, offset, n in (("sdr", 5, scale.sdrs), ("ae", 6, scale.aes)):
        for region in _regions_for(cfg, n):
            team = f"T{offset + 2 * int(region):02d}"
            if team not in managers:
                managers[team] = add("manager", "sales", team, int(region), cro)
            add(rep_role, "sales", team, int(region), managers[team])
    return rows


def _users_table(
    cfg: SimulationConfig, people: list[_Person], user_ids: np.ndarray, rng: np.random.Generator
) -> pa.Table:
    n = len(people)
    names = [
        f"{FIRST_NAMES[rng.integers(len(FIRST_NAMES))]} {LAST_NAMES[rng.integers(len(LAST_NAMES))]}" for _ in range(n)
    ]
    hired = -rng.integers(90, 5 * 365, n).astype(np.float64)
    return canonical(
        "users",
        {
            "user_id": pa.array(user_ids.tolist(), pa.string()),
            "name": names,
            "email": [
                f"{nm.lower().replace(' ', '.')}.{uid.lower()}@revalign-demo.com"
                for nm, uid in zip(names, user_ids, strict=True)
            ],
            "role": [p.role for p in people],
            "department": [p.department for p in people],
            "team_id": [p.team for p in people],
            "manager_id": [None if p.manager is None else user_ids[p.manager] for p in people],
            "hired_at": dates(hired, cfg.start),
        },
    )


def _teams_table(people: list[_Person]) -> pa.Table:
    """The teams somebody works in, in :data:`TEAMS` order."""
    used = {p.team for p in people}
    kept = [t for t in TEAMS if t[0] in used]
    return canonical(
        "teams",
        {
            "team_id": [t[0] for t in kept],
            "name": [t[1] for t in kept],
            "department": [t[2] for t in kept],
            "region": [t[3] for t in kept],
        },
    )


def _followup_medians(n_sdr: int, rng: np.random.Generator) -> np.ndarray:
    """Median follow-up hours per SDR: most answer within hours (10 min – 6 h); about a third are slow
    (18–48 h) and breach the 24-hour SLA often."""
    n_slow = max(1, round(0.3 * n_sdr))
    slow = np.zeros(n_sdr, dtype=bool)
    slow[rng.permutation(n_sdr)[:n_slow]] = True
    return np.where(
        slow,
        np.exp(rng.uniform(np.log(18.0), np.log(48.0), n_sdr)),
        np.exp(rng.uniform(np.log(1 / 6), np.log(6.0), n_sdr)),
    )


def build_org(cfg: SimulationConfig, scale: Scale, rng: np.random.Generator) -> Org:
    """Teams per department and region, reps spread over regions by their share of leads."""
    people = _people(cfg, scale)
    user_ids = np.array([f"U{i + 1:04d}" for i in range(len(people))], dtype=object)
    role = np.array([p.role for p in people])
    users = _users_table(cfg, people, user_ids, rng)
    sdr = np.flatnonzero(role == "sdr")
    ae = np.flatnonzero(role == "ae")
    median_hours = _followup_medians(len(sdr), rng)
    return Org(
        users=users,
        teams=_teams_table(people),
        user_ids=user_ids,
        role=role,
        department=np.array([p.department for p in people]),
        sdr=sdr,
        ae=ae,
        rep_region=np.array([p.region for p in people]),
        followup_mu=np.log(median_hours),
        followup_sigma=rng.uniform(0.5, 1.1, len(sdr)),
        gamer=np.isin(np.arange(len(ae)), rng.permutation(len(ae))[: max(1, round(cfg.gamer_share * len(ae)))]),
    )


@dataclass
class Marketing:
    """Campaigns, daily spend per channel and campaign, and the lead-arrival distribution it implies."""

    campaigns: pa.Table
    campaign_channel: np.ndarray  # channel index per campaign
    campaign_quarter: np.ndarray  # quarter index per campaign
    lookup: np.ndarray  # [channel, quarter, k] → campaign index (−1 = none)
    per_quarter: np.ndarray  # campaigns per quarter per channel
    spend: np.ndarray  # [day, channel] media/program spend
    campaign_weight: np.ndarray  # share of its channel's daily spend per campaign
    arrival: np.ndarray  # [day, channel] expected leads per day
    unit: float  # leads per unit of the response curve


def build_marketing(cfg: SimulationConfig, scale: Scale, cal: Calendar, rng: np.random.Generator) -> Marketing:
    """Quarterly campaigns per channel, daily spend with seasonality and noise, and the response curve."""
    chans = cfg.channels
    n_ch = len(chans)
    per_quarter = np.array([c.campaigns_per_quarter for c in chans])
    lookup = -np.ones((n_ch, cal.n_quarters, max(1, per_quarter.max())), dtype=np.int64)
    rows: list[tuple[int, int, int]] = []
    for c, ch in enumerate(chans):
        for q in range(cal.n_quarters):
            for k in range(ch.campaigns_per_quarter):
                lookup[c, q, k] = len(rows)
                rows.append((c, q, k))
    camp_channel = np.array([r[0] for r in rows], dtype=np.int64)
    camp_quarter = np.array([r[1] for r in rows], dtype=np.int64)
    weight = rng.dirichlet(np.ones(3) * 2.0, size=len(rows))[:, 0] if rows else np.zeros(0)
    # normalise weights within (channel, quarter)
    for c in range(n_ch):
        for q in range(cal.n_quarters):
            sel = (camp_channel == c) & (camp_quarter == q)
            if sel.any():
                weight[sel] = weight[sel] / weight[sel].sum()

    budget = np.array([c.daily_budget for c in chans])
    noise = rng.lognormal(0.0, 0.2, (cal.days, n_ch))
    spend = np.round(budget[None, :] * cal.spend_season[:, None] * noise, 2)

    base = np.array([c.base for c in chans])
    share = np.array([c.spend_share for c in chans])
    beta = np.array([c.beta for c in chans])
    rel = np.divide(spend, budget[None, :], out=np.zeros_like(spend), where=budget[None, :] > 0)
    curve = base[None, :] * cal.season[:, None] + share[None, :] * rel ** beta[None, :] * cal.weekday_factor[:, None]
    unit = scale.leads / curve.sum()
    quarter_names = [
        f"Q{(q + (cfg.start.month - 1) // 3) % 4 + 1} {cfg.start.year + (q + (cfg.start.month - 1) // 3) // 4}"
        for q in range(cal.n_quarters)
    ]
    starts = cal.quarter_start[camp_quarter].astype(np.float64)
    ends = cal.quarter_end[camp_quarter].astype(np.float64) - 1
    spent = np.array([spend[cal.quarter == q, c].sum() for c, q in zip(camp_channel, camp_quarter, strict=True)])
    campaigns = canonical(
        "campaigns",
        {
            "campaign_id": ids("C", np.arange(1, len(rows) + 1), 4),
            "name": [
                f"{quarter_names[q]} {chans[c].name.replace('_', ' ').title()} {chans[c].campaign_type.title()} {k + 1}"
                for c, q, k in rows
            ],
            "channel": take(cfg.channel_names, camp_channel),
            "type": [chans[c].campaign_type for c in camp_channel],
            "start_date": dates(starts, cfg.start),
            "end_date": dates(ends, cfg.start),
            "budget": np.round(spent * weight * rng.uniform(0.9, 1.1, len(rows)), -2),
        },
        length=len(rows),
    )
    return Marketing(
        campaigns, camp_channel, camp_quarter, lookup, per_quarter, spend, weight, curve * unit, float(unit)
    )


def spend_table(cfg: SimulationConfig, cal: Calendar, mkt: Marketing, org: Org) -> pa.Table:
    """Daily media/program spend per campaign, plus monthly salaries and tools per department."""
    n_camp = len(mkt.campaign_channel)
    day_idx: list[np.ndarray] = []
    camp_idx: list[np.ndarray] = []
    amount: list[np.ndarray] = []
    for k in range(n_camp):  # every day of the campaign's quarter
        days = np.flatnonzero(cal.quarter == mkt.campaign_quarter[k])
        day_idx.append(days)
        camp_idx.append(np.full(len(days), k))
        amount.append(np.round(mkt.spend[days, mkt.campaign_channel[k]] * mkt.campaign_weight[k], 2))
    d = np.concatenate(day_idx) if day_idx else np.zeros(0, dtype=np.int64)
    j = np.concatenate(camp_idx) if camp_idx else np.zeros(0, dtype=np.int64)
    a = np.concatenate(amount) if amount else np.zeros(0)
    keep = a > 0
    d, j, a = d[keep], j[keep], a[keep]
    ch = mkt.campaign_channel[j]
    category = np.array([c.spend_category for c in cfg.channels])[ch]
    camp_ids = mkt.campaigns.column("campaign_id").to_numpy(zero_copy_only=False)[j]

    # monthly people and tools costs (CAC needs them)
    months = cal.month_start.astype(np.float64)
    salary = np.array([ROLE_SALARY[r] for r in org.role])
    dept_costs = []
    for dept in ("marketing", "sales", "customer_success", "revops", "executive"):
        total = float(salary[org.department == dept].sum())
        dept_costs.append((dept, "salaries", total))
    dept_costs.append(("marketing", "tools", 400.0 * int((org.role == "marketer").sum()) + 2_000.0))
    dept_costs.append(("sales", "tools", 150.0 * int(np.isin(org.role, ("sdr", "ae")).sum()) + 1_000.0))
    m_days, m_dept, m_cat, m_amt = [], [], [], []
    for dept, cat, total in dept_costs:
        m_days.append(months)
        m_dept += [dept] * len(months)
        m_cat += [cat] * len(months)
        m_amt.append(np.full(len(months), round(total, 2)))
    all_days = np.concatenate([d.astype(np.float64), *m_days])
    n_media = len(d)
    return canonical(
        "spend",
        {
            "date": dates(all_days, cfg.start),
            "channel": pa.concat_arrays([take(cfg.channel_names, ch), pa.nulls(len(all_days) - n_media, pa.string())]),
            "campaign_id": camp_ids.tolist() + [None] * (len(all_days) - n_media),
            "department": ["marketing"] * n_media + m_dept,
            "category": category.tolist() + m_cat,
            "amount": np.concatenate([a, *m_amt]),
        },
        length=len(all_days),
    )


def web_traffic_table(cfg: SimulationConfig, leads_by_day: np.ndarray, rng: np.random.Generator) -> pa.Table:
    """Sessions per day and web channel, so that visitor→lead conversion is the channel's configured rate."""
    web = [c for c, ch in enumerate(cfg.channels) if ch.web]
    rows_d, rows_c, sessions = [], [], []
    for c in web:
        rate = cfg.channels[c].visitor_to_lead
        expected = leads_by_day[:, c] / rate * 1.25  # sessions per visitor ≈ 1.25
        s = rng.poisson(expected + 1.0)
        rows_d.append(np.arange(len(s)))
        rows_c.append(np.full(len(s), c))
        sessions.append(s)
    s = np.concatenate(sessions)
    visitors = rng.binomial(s, 0.8)
    new_visitors = rng.binomial(visitors, 0.6)
    return canonical(
        "web_traffic",
        {
            "date": dates(np.concatenate(rows_d).astype(np.float64), cfg.start),
            "channel": take(cfg.channel_names, np.concatenate(rows_c)),
            "sessions": s.astype(np.int64),
            "visitors": visitors.astype(np.int64),
            "new_visitors": new_visitors.astype(np.int64),
        },
    )


def quotas_table(
    cfg: SimulationConfig, cal: Calendar, org: Org, won_by_quarter: np.ndarray, rng: np.random.Generator
) -> pa.Table:
    """Quarterly quotas per AE: 115 % of the average AE's bookings that quarter, varied per rep."""
    n_ae = len(org.ae)
    per_ae = won_by_quarter / max(n_ae, 1)
    rep_factor = rng.lognormal(0.0, 0.1, n_ae)
    q_idx = np.repeat(np.arange(cal.n_quarters), n_ae)
    a_idx = np.tile(np.arange(n_ae), cal.n_quarters)
    amount = np.round(np.maximum(per_ae[q_idx] * 1.15 * rep_factor[a_idx], 1_000.0), -3)
    return canonical(
        "quotas",
        {
            "user_id": org.user_ids[org.ae[a_idx]].tolist(),
            "period_start": dates(cal.quarter_start[q_idx].astype(np.float64), cfg.start),
            "period_end": dates(cal.quarter_end[q_idx].astype(np.float64) - 1, cfg.start),
            "amount": amount,
        },
        length=len(q_idx),
    )
