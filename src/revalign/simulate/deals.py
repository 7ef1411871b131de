"""New-business opportunities of one chunk: their stages, field history (amount, owner, close date, lead
source) and how they end (won: customer, onboarding, advocacy; lost: recycled).

Each opportunity is planned when it is created (stage durations, win or the stage it is lost at, a pushed
close date, skipped stages); the ledger then records only what happened by the simulation end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.special import expit

from revalign.model.tables import OPPORTUNITY_STAGES
from revalign.simulate.chunk import Chunk, pick_other
from revalign.simulate.company import HOUR
from revalign.simulate.config import ADVOCACY_REASONS, LOST_REASONS
from revalign.simulate.handoff import Handoff, Recreated
from revalign.simulate.writer import dates, ids, take

OPEN_STAGES = OPPORTUNITY_STAGES[:5]
WON, LOST = 5, 6


@dataclass
class DealPlan:
    """The opportunities as created (aligned arrays, one per deal): who, when, how each stage goes, the end."""

    lead: np.ndarray  # position of the original lead in the chunk
    lead_row: np.ndarray  # row of the deal's lead in the chunk's lead rows: originals, then re-created ones
    recreated: np.ndarray  # the deal belongs to a re-created lead
    ids: pa.Array
    owner0: np.ndarray  # owner at creation (user index)
    segment: np.ndarray
    created: np.ndarray
    source0: np.ndarray  # lead source at creation (channel index)
    nominal: np.ndarray  # [deal, stage] nominal stage days of the segment
    stage_days: np.ndarray  # [deal, stage] drawn stage durations
    win_p: np.ndarray
    won: np.ndarray
    push: np.ndarray  # the rep pushes the close date quarter after quarter
    entry: np.ndarray  # [deal, stage] entry time of each open stage
    t_close: np.ndarray
    entered: np.ndarray  # [deal, stage] stage entered (won deals may skip some)
    skip: np.ndarray
    closed: np.ndarray  # closed by the end
    lost_reason: np.ndarray  # code, −1 when won

    @property
    def m(self) -> int:
        return len(self.lead)


@dataclass
class Deals:
    """The opportunities at the simulation end: the plan plus what the field history made of it."""

    plan: DealPlan
    stage: np.ndarray  # current stage code (−1 none yet)
    amount: np.ndarray
    owner: np.ndarray  # current owner (user index)
    close_day: np.ndarray  # close date (float day)
    expected_close: np.ndarray  # the close date the CRM held before any push or close (float day)
    pushed: np.ndarray  # the close date was pushed quarter after quarter (it reads the current quarter's end)
    source: np.ndarray  # current lead source (channel index)
    overwritten: np.ndarray  # the AE overwrote the lead source
    lead_ids: pa.Array
    customer: np.ndarray  # closed and won


def run_deals(ch: Chunk, h: Handoff, rc: Recreated) -> Deals:
    """Plan the chunk's opportunities and record their stages, field history and ends, in that order."""
    p = plan_deals(ch, h, rc)
    stage = _record_stages(ch, p)
    amount = _amount_changes(ch, p)
    owner = _owner_changes(ch, p)
    close_day, expected_close, pushed = _close_dates(ch, p, owner)
    source, overwritten = _source_overwrites(ch, p)
    lead_ids = pa.concat_arrays([ch.jr.ids, rc.ids]).take(pa.array(p.lead_row))
    customer = _outcomes(ch, p, owner, lead_ids)
    return Deals(p, stage, amount, owner, close_day, expected_close, pushed, source, overwritten, lead_ids, customer)


def plan_deals(ch: Chunk, h: Handoff, rc: Recreated) -> DealPlan:
    """Opportunities of the leads that have one by the end, with their whole course drawn up front."""
    cfg, jr, rng, n = ch.cfg, ch.jr, ch.rng, ch.jr.n
    o_lead = np.flatnonzero(h.has_opp)
    m = len(o_lead)
    o_rec = h.recreate[o_lead]
    new_row = np.full(n, -1)
    new_row[rc.orig] = n + np.arange(rc.n)
    o_seg = jr.segment[o_lead]
    o_t = h.t_opp[o_lead]
    o_ids = ids("O", ch.counters.take("opportunity", m), 9)
    nominal = np.asarray(cfg.stage_days)[o_seg]  # [m, 5]
    dur = rng.gamma(2.0, nominal / 2.0)
    win_p = expit(np.asarray(cfg.win_intercept)[o_seg] + cfg.win_per_propensity * jr.propensity[o_lead])
    won = rng.random(m) < win_p
    lost_at = rng.choice(5, m, p=np.asarray(cfg.lost_at_stage))
    last_open = np.where(won, 4, lost_at)
    push = rng.random(m) < cfg.close_push_rate
    dur = np.where(push[:, None], dur * rng.uniform(3.0, 6.0, (m, 1)), dur)
    entry = o_t[:, None] + np.concatenate([np.zeros((m, 1)), np.cumsum(dur[:, :4], axis=1)], axis=1)
    t_close = o_t + np.cumsum(dur, axis=1)[np.arange(m), last_open]
    entered = np.arange(5)[None, :] <= last_open[:, None]
    skip = won & (rng.random(m) < cfg.stage_skip_rate)
    if skip.any():
        s_first = rng.integers(1, 4, m)
        s_len = rng.integers(1, 3, m)
        cols = np.arange(5)[None, :]
        skipped = skip[:, None] & (cols >= s_first[:, None]) & (cols < np.minimum(s_first + s_len, 4)[:, None])
        entered &= ~skipped
    return DealPlan(
        lead=o_lead,
        lead_row=np.where(o_rec, new_row[o_lead], o_lead),
        recreated=o_rec,
        ids=o_ids,
        owner0=np.where(o_rec, h.ae2[o_lead], h.acc_owner[o_lead]),
        segment=o_seg,
        created=o_t,
        source0=np.where(o_rec, ch.outbound, jr.source[o_lead]),
        nominal=nominal,
        stage_days=dur,
        win_p=win_p,
        won=won,
        push=push,
        entry=entry,
        t_close=t_close,
        entered=entered,
        skip=skip,
        closed=t_close <= ch.as_of,
        lost_reason=np.where(won, -1, rng.integers(0, len(LOST_REASONS), m)),
    )


def _record_stages(ch: Chunk, p: DealPlan) -> np.ndarray:
    """Stage events (each with the stage before it), the close, and the stage-skip labels; the current stage."""
    prev = np.full(p.m, -1)
    current = np.full(p.m, -1)
    for s in range(5):
        i = np.flatnonzero(p.entered[:, s] & (p.entry[:, s] <= ch.as_of))
        ch.ledger.event(
            "opportunity",
            p.ids.take(pa.array(i)),
            "stage",
            OPEN_STAGES[s],
            p.entry[i, s],
            old=take(OPPORTUNITY_STAGES, prev[i]),
            new=pa.array([OPEN_STAGES[s]] * len(i)),
            actor=ch.users(p.owner0[i]),
        )
        prev[i] = s
        current[i] = s
    final = np.where(p.won, WON, LOST)
    i = np.flatnonzero(p.closed)
    ch.ledger.event(
        "opportunity",
        p.ids.take(pa.array(i)),
        "stage",
        take(OPPORTUNITY_STAGES, final[i]),
        p.t_close[i],
        old=take(OPPORTUNITY_STAGES, prev[i]),
        new=take(OPPORTUNITY_STAGES, final[i]),
        reason=take(LOST_REASONS, p.lost_reason[i]),
        actor=ch.users(p.owner0[i]),
    )
    current[i] = final[i]
    i = np.flatnonzero(p.skip & p.closed)
    ch.labels.add(
        "stage_skip",
        "opportunity",
        p.ids.take(pa.array(i)),
        p.t_close[i],
        detail=pa.array([",".join(s for s, e in zip(OPEN_STAGES, row, strict=True) if not e) for row in p.entered[i]]),
    )
    return current


def _amount_changes(ch: Chunk, p: DealPlan) -> np.ndarray:
    """The amount at creation, changed once in the course of some deals; the current amount."""
    cfg, rng, m = ch.cfg, ch.rng, p.m
    amount0 = np.round(np.asarray(cfg.amount_median)[p.segment] * rng.lognormal(0.0, cfg.amount_sigma, m), -2)
    amount0 = np.maximum(amount0, 500.0)
    amount = amount0.copy()
    chg = rng.random(m) < cfg.amount_change_rate
    t_chg = p.created + rng.uniform(0.2, 0.9, m) * (p.t_close - p.created)
    chg &= t_chg <= ch.as_of
    new_amount = np.maximum(np.round(amount0 * rng.uniform(0.6, 1.4, m), -2), 500.0)
    amount[chg] = new_amount[chg]
    i = np.flatnonzero(chg)
    ch.ledger.event(
        "opportunity",
        p.ids.take(pa.array(i)),
        "field",
        "amount",
        t_chg[i],
        old=pa.array(amount0[i]).cast(pa.string()),
        new=pa.array(new_amount[i]).cast(pa.string()),
        actor=ch.users(p.owner0[i]),
    )
    return amount


def _owner_changes(ch: Chunk, p: DealPlan) -> np.ndarray:
    """Some deals pass to another AE in their course; the current owner."""
    rng, m = ch.rng, p.m
    owner = p.owner0.copy()
    och = rng.random(m) < ch.cfg.owner_change_rate
    t_och = p.created + rng.uniform(0.1, 0.9, m) * (p.t_close - p.created)
    och &= t_och <= ch.as_of
    new_owner = pick_other(ch.org.ae, p.owner0, rng)
    owner[och] = new_owner[och]
    i = np.flatnonzero(och)
    ch.ledger.event(
        "opportunity",
        p.ids.take(pa.array(i)),
        "field",
        "owner_id",
        t_och[i],
        old=ch.users(p.owner0[i]),
        new=ch.users(new_owner[i]),
        actor=ch.users(p.owner0[i]),
    )
    return owner


def _close_dates(ch: Chunk, p: DealPlan, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The close date: the real one once closed, else the expected one, or the last pushed one; also the
    expected one (what the CRM held before a push or the close) and which deals were pushed, for the reps' calls.

    Quarter-to-quarter pushes: the close date starts at the creation quarter's last day and moves on a quarter
    each time it lapses, until the quarter the deal really closes in (or the simulation ends).
    """
    cal, start = ch.cal, ch.cfg.start
    expected = p.created + p.nominal.sum(axis=1) * ch.rng.lognormal(0.0, 0.3, p.m)
    close_day = np.where(p.closed, np.floor(p.t_close), np.floor(expected))
    pushes = cal.quarter_ends_between(p.created, np.minimum(p.t_close, ch.as_of))
    push = p.push & (pushes >= 2)
    i = np.flatnonzero(push)
    expected_day = np.floor(expected)
    if not len(i):
        return close_day, expected_day, push
    reps = pushes[i]
    row = np.repeat(i, reps)
    step = np.concatenate([np.arange(r) for r in reps])
    q0 = cal.quarter[np.clip(np.floor(p.created[row]).astype(int), 0, cal.days - 1)]
    qe = cal.quarter_end  # exclusive end day per quarter
    q_last_day = np.r_[qe, qe[-1] + 91] - 1  # last day of quarter q (one beyond the horizon)
    old_d = dates(q_last_day[q0 + step].astype(np.float64), start).cast(pa.string())
    new_d = q_last_day[q0 + step + 1].astype(np.float64)
    t_push = qe[q0 + step] - 1 + 17 * HOUR  # on the quarter's last afternoon
    deal_ids, actor = p.ids.take(pa.array(row)), ch.users(owner[row])
    new_text = dates(new_d, start).cast(pa.string())
    ch.ledger.event("opportunity", deal_ids, "field", "close_date", t_push, old=old_d, new=new_text, actor=actor)
    ch.labels.add(
        "close_date_push",
        "opportunity",
        deal_ids,
        t_push,
        field_name="close_date",
        original=old_d,
        new=new_text,
        actor=actor,
        detail=pa.array(reps[np.searchsorted(i, row)]).cast(pa.string()),
    )
    last_new = np.zeros(p.m)
    np.maximum.at(last_new, row, new_d)
    return np.where(push & ~p.closed, last_new, close_day), expected_day, push


def _source_overwrites(ch: Chunk, p: DealPlan) -> tuple[np.ndarray, np.ndarray]:
    """The AE owning the deal sets the lead source to outbound after the hand-off (gamers more often).

    Returns the current lead source per deal and which deals were overwritten.
    """
    cfg, org, rng = ch.cfg, ch.org, ch.rng
    gamer = np.zeros(len(org.user_ids), dtype=bool)
    gamer[org.ae[org.gamer]] = True
    rate = np.where(gamer[p.owner0], cfg.overwrite_rate_gamer, cfg.overwrite_rate_other)
    t_ow = p.created + rng.uniform(0.5, 10.0, p.m)
    ow = (p.source0 != ch.outbound) & ~p.recreated & (rng.random(p.m) < rate) & (t_ow <= ch.as_of)
    source = p.source0.copy()
    source[ow] = ch.outbound
    i = np.flatnonzero(ow)
    old_src = take(cfg.channel_names, p.source0[i])
    ow_lead = ch.lead_ids(p.lead[i])
    actor = ch.users(p.owner0[i])
    for etype, eid in (("lead", ow_lead), ("opportunity", p.ids.take(pa.array(i)))):
        ch.ledger.event(
            etype,
            eid,
            "field",
            "lead_source",
            t_ow[i],
            old=old_src,
            new=pa.array(["outbound_sales"] * len(i)),
            actor=actor,
        )
    ch.labels.add(
        "lead_source_overwrite",
        "lead",
        ow_lead,
        t_ow[i],
        related_id=p.ids.take(pa.array(i)),
        field_name="lead_source",
        original=old_src,
        new="outbound_sales",
        actor=actor,
    )
    return source, ow


def _outcomes(ch: Chunk, p: DealPlan, owner: np.ndarray, lead_ids: pa.Array) -> np.ndarray:
    """Won: the lead becomes a customer, maybe onboarded, maybe an advocate; lost: recycled. The customers."""
    rng, ledger = ch.rng, ch.ledger
    customer = p.closed & p.won
    i = np.flatnonzero(customer)
    ledger.lifecycle(lead_ids.take(pa.array(i)), p.t_close[i], "customer", actor=ch.users(owner[i]))
    onboard = rng.random(p.m) < ch.cfg.onboard_rate
    t_onb = p.t_close + rng.gamma(2.0, np.asarray(ch.cfg.onboard_days)[p.segment] / 2.0)
    i = np.flatnonzero(customer & onboard)
    ledger.lifecycle(lead_ids.take(pa.array(i)), t_onb[i], "onboarded")
    adv = customer & onboard & (rng.random(p.m) < ch.cfg.advocate_rate)
    t_adv = t_onb + rng.uniform(30.0, 240.0, p.m)
    i = np.flatnonzero(adv)
    ledger.lifecycle(
        lead_ids.take(pa.array(i)),
        t_adv[i],
        "advocate",
        reason=take(ADVOCACY_REASONS, rng.integers(0, len(ADVOCACY_REASONS), len(i))),
    )
    i = np.flatnonzero(p.closed & ~p.won)
    lost = pa.array(["closed_lost"] * len(i))
    ledger.lifecycle(lead_ids.take(pa.array(i)), p.t_close[i] + 1.0, "recycled", reason=lost)
    return customer
