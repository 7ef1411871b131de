"""The hand-off from marketing to sales: scoring and MQL, the SDR's follow-up, acceptance, and the
no-opportunity trick (a converting lead closed as "no opportunity" and re-created as an outbound lead).

Non-converting leads may still become MQLs by the scoring rule (fit + engagement, or a demo request that goes
nowhere); sales rejects most of them with a reason and recycles the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from revalign.simulate.chunk import Chunk, pick_other
from revalign.simulate.company import HOUR, MINUTE
from revalign.simulate.config import REJECTION_REASONS
from revalign.simulate.writer import ids, take


@dataclass
class Handoff:
    """Per original lead of the chunk (aligned with the journeys): what marketing and sales did with it."""

    score: np.ndarray
    mql: np.ndarray
    conv: np.ndarray  # converting and an MQL: becomes an opportunity (when by the end)
    sdr: np.ndarray  # user index of the SDR following up
    delay_h: np.ndarray  # follow-up delay, hours
    t_fu: np.ndarray
    breach: np.ndarray  # the follow-up SLA was breached
    is_outbound: np.ndarray
    accepted: np.ndarray
    rejected: np.ndarray
    t_decide: np.ndarray
    acc_owner: np.ndarray  # user index of the account's AE
    recreate: np.ndarray  # closed as "no opportunity" and re-created by another AE
    t_dq: np.ndarray
    t_new: np.ndarray
    ae2: np.ndarray  # the AE who re-creates the lead
    t_sql: np.ndarray
    t_opp: np.ndarray
    has_opp: np.ndarray  # an opportunity exists by the end


@dataclass
class Recreated:
    """The re-created leads (rows after the chunk's original leads)."""

    orig: np.ndarray  # position of the original lead
    ids: pa.Array

    @property
    def n(self) -> int:
        return len(self.orig)


def hand_off(ch: Chunk) -> Handoff:
    """Score the leads, assign and time the follow-up, decide acceptance and who games the credit."""
    cfg, jr, org, rng, as_of = ch.cfg, ch.jr, ch.org, ch.rng, ch.as_of
    n = jr.n
    seen = jr.t_conv <= as_of
    score = (
        np.asarray(cfg.fit_points)[jr.segment]
        + np.minimum(cfg.touch_points * jr.n_observed, cfg.max_touch_points)
        + cfg.demo_points * (jr.demo & seen)
    )
    threshold = np.full(n, cfg.mql_threshold)
    if cfg.mql_threshold_change is not None:
        when, lowered = cfg.mql_threshold_change
        threshold = np.where(jr.t_conv >= (when - cfg.start).days, lowered, threshold)
    mql = (score >= threshold) & seen
    conv = jr.converted & mql
    sdr = org.reps_in_region(org.sdr, jr.region, rng)
    sdr_pos = np.full(len(org.user_ids), -1)
    sdr_pos[org.sdr] = np.arange(len(org.sdr))
    k = sdr_pos[sdr]
    delay_h = np.exp(org.followup_mu[k] + org.followup_sigma[k] * rng.standard_normal(n))
    t_fu = jr.t_conv + delay_h * HOUR
    is_outbound = jr.source == ch.outbound
    accepted = conv | (mql & ~conv & (rng.random(n) >= cfg.rejection_rate))
    t_decide = t_fu + rng.uniform(5 * MINUTE, 3 * HOUR, n)
    acc_owner = ch.acc.owner[jr.account]
    # gaming choices among converting, marketing-sourced leads
    recreate = conv & ~is_outbound & (rng.random(n) < cfg.recreate_rate)
    t_dq = t_decide + rng.uniform(1.0, 5.0, n)
    t_new = t_dq + rng.uniform(1.0, cfg.recreate_max_days, n)
    ae2 = pick_other(org.ae, acc_owner, rng)
    recreate &= t_new + 2 * HOUR <= as_of  # the re-created deal exists by the end
    t_sql = np.where(recreate, t_new + HOUR, t_decide + rng.gamma(2.0, 1.0, n))
    t_opp = np.where(recreate, t_new + 2 * HOUR, t_sql + rng.uniform(0.05, 1.0, n))
    return Handoff(
        score=score,
        mql=mql,
        conv=conv,
        sdr=sdr,
        delay_h=delay_h,
        t_fu=t_fu,
        breach=mql & (delay_h > cfg.sla_hours) & (t_fu <= as_of),
        is_outbound=is_outbound,
        accepted=accepted,
        rejected=mql & ~accepted,
        t_decide=t_decide,
        acc_owner=acc_owner,
        recreate=recreate,
        t_dq=t_dq,
        t_new=t_new,
        ae2=ae2,
        t_sql=t_sql,
        t_opp=t_opp,
        has_opp=conv & (t_opp <= as_of),
    )


def record_handoff(ch: Chunk, h: Handoff) -> None:
    """The hand-off's ledger events, the follow-up calls, and the SLA-breach labels."""
    _record_qualification(ch, h)
    _record_conversion(ch, h)
    i = np.flatnonzero(h.mql & (h.t_fu <= ch.as_of))
    ch.touches.add(i, h.t_fu[i], ch.outbound, -1, "call")
    i = np.flatnonzero(h.breach)
    ch.labels.add(
        "sla_breach",
        "lead",
        ch.lead_ids(i),
        h.t_fu[i],
        actor=ch.users(h.sdr[i]),
        detail=pa.array(np.round(h.delay_h[i], 2)).cast(pa.string()),
    )


def _record_qualification(ch: Chunk, h: Handoff) -> None:
    """Lead → MQL → accepted or rejected (with a reason), and the SDR taking over inbound MQLs."""
    jr, ledger, rng = ch.jr, ch.ledger, ch.rng
    ledger.lifecycle(jr.ids, jr.t0, "lead", actor=ch.users(np.where(h.is_outbound, h.sdr, -1)))
    i = np.flatnonzero(h.mql)
    ledger.lifecycle(ch.lead_ids(i), jr.t_conv[i], "mql")
    i = np.flatnonzero(h.mql & ~h.is_outbound)
    ledger.event("lead", ch.lead_ids(i), "field", "owner_id", jr.t_conv[i] + MINUTE, new=ch.users(h.sdr[i]))
    i = np.flatnonzero(h.accepted)
    ledger.lifecycle(ch.lead_ids(i), h.t_decide[i], "accepted", actor=ch.users(h.sdr[i]))
    i = np.flatnonzero(h.rejected)
    reasons = take(REJECTION_REASONS, rng.integers(0, len(REJECTION_REASONS), len(i)))
    ledger.lifecycle(ch.lead_ids(i), h.t_decide[i], "rejected", reason=reasons, actor=ch.users(h.sdr[i]))


def _record_conversion(ch: Chunk, h: Handoff) -> None:
    """Accepted non-converters recycled to nurture; converters disqualified (the trick) or SQL → opportunity."""
    ledger = ch.ledger
    i = np.flatnonzero(h.accepted & ~h.conv)
    ledger.lifecycle(
        ch.lead_ids(i),
        h.t_decide[i] + ch.rng.uniform(14, 60, len(i)),
        "recycled",
        reason=pa.array(["nurture"] * len(i)),
        actor=ch.users(h.sdr[i]),
    )
    i = np.flatnonzero(h.recreate)
    ledger.lifecycle(
        ch.lead_ids(i),
        h.t_dq[i],
        "disqualified",
        reason=pa.array(["no_opportunity"] * len(i)),
        actor=ch.users(h.sdr[i]),
    )
    i = np.flatnonzero(h.conv & ~h.recreate)
    ledger.lifecycle(ch.lead_ids(i), h.t_sql[i], "sql", actor=ch.users(h.sdr[i]))
    ledger.lifecycle(ch.lead_ids(i), h.t_opp[i], "opportunity", actor=ch.users(h.acc_owner[i]))
    ledger.event(
        "lead",
        ch.lead_ids(i),
        "field",
        "owner_id",
        h.t_opp[i],
        old=ch.users(h.sdr[i]),
        new=ch.users(h.acc_owner[i]),
        actor=ch.users(h.acc_owner[i]),
    )


def recreate_leads(ch: Chunk, h: Handoff) -> Recreated:
    """New lead rows for the leads closed as "no opportunity", owned and converted by another AE."""
    orig = np.flatnonzero(h.recreate)
    new_ids = ids("L", ch.counters.take("lead", len(orig)), 9)
    actor = ch.users(h.ae2[orig])
    ch.ledger.lifecycle(new_ids, h.t_new[orig], "lead", actor=actor)
    ch.ledger.lifecycle(new_ids, h.t_sql[orig], "sql", actor=actor)
    ch.ledger.lifecycle(new_ids, h.t_opp[orig], "opportunity", actor=actor)
    ch.labels.add(
        "no_opportunity_recreate",
        "lead",
        new_ids,
        h.t_new[orig],
        related_id=ch.lead_ids(orig),
        field_name="lead_source",
        original=take(ch.cfg.channel_names, ch.jr.source[orig]),
        new="outbound_sales",
        actor=actor,
        detail=pa.array(np.round(h.t_new[orig] - h.t_dq[orig], 2)).cast(pa.string()),
    )
    return Recreated(orig, new_ids)
