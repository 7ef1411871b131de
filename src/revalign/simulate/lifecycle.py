"""From journey to customer: scoring, hand-off, follow-up, acceptance, opportunities and their stages.

One call handles one chunk of leads, vectorised. The order of events per converting lead is::

    lead (t0) → journey touches → mql (demo request, t_conv) → SDR follow-up call (rep's lognormal delay)
    → accepted → sql → opportunity (AE) → discovery … negotiation → closed_won | closed_lost
    → customer → onboarded → advocate        (lost: → recycled)

Non-converting leads may still become MQLs by the scoring rule (fit + engagement, or a demo request that
goes nowhere); sales rejects most of them with a reason and recycles the rest. Events after the simulation
end (``as_of``) are cut, so recent leads and deals are open, as in a live CRM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import expit

from revalign.model.tables import OPPORTUNITY_STAGES
from revalign.simulate.company import Calendar, Marketing, Org
from revalign.simulate.config import (
    ADVOCACY_REASONS,
    INDUSTRIES,
    LOST_REASONS,
    REGIONS,
    REJECTION_REASONS,
    SEGMENTS,
    SimulationConfig,
)
from revalign.simulate.forecasts import Schedule, pipeline_basis
from revalign.simulate.gaming import Labels, variant_email, variant_name
from revalign.simulate.journeys import MINUTE, Accounts, Journeys, campaign_for
from revalign.simulate.ledger import LedgerBuilder
from revalign.simulate.writer import canonical, dates, ids, take, timestamps

HOUR = 1.0 / 24.0
OPEN_STAGES = OPPORTUNITY_STAGES[:5]
WON, LOST = 5, 6


class Counters:
    """Running id numbers shared by all chunks, so ids stay unique and generation stays sequential."""

    def __init__(self, scale_leads: int) -> None:
        self.next = {"lead": scale_leads, "account": scale_leads, "opportunity": 0, "touch": 0, "subscription": 0}

    def take(self, kind: str, n: int) -> np.ndarray:
        first = self.next[kind]
        self.next[kind] = first + n
        return np.arange(first, first + n, dtype=np.int64)


@dataclass
class Touches:
    """Touch rows gathered from several steps (lead index into the chunk's lead rows)."""

    lead: list[np.ndarray]
    t: list[np.ndarray]
    channel: list[np.ndarray]
    campaign: list[np.ndarray]
    interaction: list[np.ndarray]

    def add(
        self, lead: np.ndarray, t: np.ndarray, channel: np.ndarray, campaign: np.ndarray, interaction: object
    ) -> None:
        n = len(lead)
        self.lead.append(np.asarray(lead, dtype=np.int64))
        self.t.append(np.asarray(t, dtype=np.float64))
        self.channel.append(np.broadcast_to(np.asarray(channel, dtype=np.int64), (n,)))
        self.campaign.append(np.broadcast_to(np.asarray(campaign, dtype=np.int64), (n,)))
        self.interaction.append(np.broadcast_to(np.asarray(interaction, dtype=object), (n,)))


@dataclass
class ChunkResult:
    tables: dict[str, pa.Table]
    labels: pa.Table
    truth_leads: pa.Table
    won_by_quarter: np.ndarray
    channel_stats: dict[str, np.ndarray]
    leads_by_day: np.ndarray  # [day, channel] leads created (by current source)
    forecast_basis: dict[str, np.ndarray]  # [call slot, AE] parts of each forecast call (simulate.forecasts)


def users_of(org: Org, idx: np.ndarray) -> pa.Array:
    return take(org.user_ids.tolist(), np.asarray(idx))


def pick_other(pool: np.ndarray, avoid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random member of ``pool`` different from ``avoid`` (when the pool has more than one)."""
    k = rng.integers(0, len(pool), len(avoid))
    out = pool[k]
    clash = out == avoid
    if len(pool) > 1:
        out[clash] = pool[(k[clash] + 1 + rng.integers(0, len(pool) - 1, int(clash.sum()))) % len(pool)]
    return out


def run_lifecycle(
    cfg: SimulationConfig,
    cal: Calendar,
    org: Org,
    mkt: Marketing,
    acc: Accounts,
    jr: Journeys,
    counters: Counters,
    rng: np.random.Generator,
    sched: Schedule,
) -> ChunkResult:
    as_of = float(cal.days)
    n = jr.n
    chans = cfg.channels
    n_ch = len(chans)
    outbound = cfg.channel_names.index("outbound_sales")
    email_ch = cfg.channel_names.index("email")
    ledger = LedgerBuilder(cfg.start, as_of, rng)
    labels = Labels(cfg.start, as_of)
    seg = jr.segment

    # ---- scoring and MQL ------------------------------------------------------------------------------------
    demo = jr.demo
    seen = jr.t_conv <= as_of
    score = (
        np.asarray(cfg.fit_points)[seg]
        + np.minimum(cfg.touch_points * jr.n_observed, cfg.max_touch_points)
        + cfg.demo_points * (demo & seen)
    )
    mql = (score >= cfg.mql_threshold) & seen
    conv = jr.converted & mql
    t_mql = jr.t_conv

    # ---- owners and follow-up -------------------------------------------------------------------------------
    sdr = org.reps_in_region(org.sdr, jr.region, rng)
    sdr_pos = np.full(len(org.user_ids), -1)
    sdr_pos[org.sdr] = np.arange(len(org.sdr))
    k = sdr_pos[sdr]
    delay_h = np.exp(org.followup_mu[k] + org.followup_sigma[k] * rng.standard_normal(n))
    t_fu = t_mql + delay_h * HOUR
    breach = mql & (delay_h > cfg.sla_hours) & (t_fu <= as_of)
    is_outbound = jr.source == outbound
    accepted = conv | (mql & ~conv & (rng.random(n) >= cfg.rejection_rate))
    rejected = mql & ~accepted
    t_decide = t_fu + rng.uniform(5 * MINUTE, 3 * HOUR, n)
    acc_owner = acc.owner[jr.account]

    # gaming choices among converting, marketing-sourced leads
    marketing_sourced = ~is_outbound
    recreate = conv & marketing_sourced & (rng.random(n) < cfg.recreate_rate)
    t_dq = t_decide + rng.uniform(1.0, 5.0, n)
    t_new = t_dq + rng.uniform(1.0, cfg.recreate_max_days, n)
    ae2 = pick_other(org.ae, acc_owner, rng)
    recreate &= t_new + 2 * HOUR <= as_of  # the re-created deal exists by the end
    t_sql = np.where(recreate, t_new + HOUR, t_decide + rng.gamma(2.0, 1.0, n))
    t_opp = np.where(recreate, t_new + 2 * HOUR, t_sql + rng.uniform(0.05, 1.0, n))
    has_opp = conv & (t_opp <= as_of)

    lid = jr.ids
    lead_actor = np.where(is_outbound, sdr, -1)
    ledger.lifecycle(lid, jr.t0, "lead", actor=users_of(org, lead_actor))
    i = np.flatnonzero(mql)
    ledger.lifecycle(lid.take(pa.array(i)), t_mql[i], "mql")
    i_in = np.flatnonzero(mql & ~is_outbound)
    ledger.event(
        "lead", lid.take(pa.array(i_in)), "field", "owner_id", t_mql[i_in] + MINUTE, new=users_of(org, sdr[i_in])
    )
    i = np.flatnonzero(accepted)
    ledger.lifecycle(lid.take(pa.array(i)), t_decide[i], "accepted", actor=users_of(org, sdr[i]))
    i = np.flatnonzero(rejected)
    reasons = take(REJECTION_REASONS, rng.integers(0, len(REJECTION_REASONS), len(i)))
    ledger.lifecycle(lid.take(pa.array(i)), t_decide[i], "rejected", reason=reasons, actor=users_of(org, sdr[i]))
    i = np.flatnonzero(accepted & ~conv)
    ledger.lifecycle(
        lid.take(pa.array(i)),
        t_decide[i] + rng.uniform(14, 60, len(i)),
        "recycled",
        reason=pa.array(["nurture"] * len(i)),
        actor=users_of(org, sdr[i]),
    )
    i = np.flatnonzero(recreate)
    ledger.lifecycle(
        lid.take(pa.array(i)),
        t_dq[i],
        "disqualified",
        reason=pa.array(["no_opportunity"] * len(i)),
        actor=users_of(org, sdr[i]),
    )
    i = np.flatnonzero(conv & ~recreate)
    ledger.lifecycle(lid.take(pa.array(i)), t_sql[i], "sql", actor=users_of(org, sdr[i]))
    ledger.lifecycle(lid.take(pa.array(i)), t_opp[i], "opportunity", actor=users_of(org, acc_owner[i]))
    ledger.event(
        "lead",
        lid.take(pa.array(i)),
        "field",
        "owner_id",
        t_opp[i],
        old=users_of(org, sdr[i]),
        new=users_of(org, acc_owner[i]),
        actor=users_of(org, acc_owner[i]),
    )

    touches = Touches([], [], [], [], [])
    touches.add(jr.touch_lead, jr.touch_t, jr.touch_channel, jr.touch_campaign, jr.touch_interaction)
    i = np.flatnonzero(mql & (t_fu <= as_of))
    touches.add(i, t_fu[i], outbound, -1, "call")
    truth_cols = {
        "mql": mql,
        "followup_hours": np.where(mql, delay_h, np.nan),
        "sla_breached": breach,
        "sdr": np.where(mql, sdr, -1),
    }
    i = np.flatnonzero(breach)
    labels.add(
        "sla_breach",
        "lead",
        lid.take(pa.array(i)),
        t_fu[i],
        actor=users_of(org, sdr[i]),
        detail=pa.array(np.round(delay_h[i], 2)).cast(pa.string()),
    )

    # ---- re-created leads (the no-opportunity trick) -------------------------------------------------------
    orig = np.flatnonzero(recreate)
    new_num = counters.take("lead", len(orig))
    new_ids = ids("L", new_num, 9)
    n_new = len(orig)
    ledger.lifecycle(new_ids, t_new[orig], "lead", actor=users_of(org, ae2[orig]))
    ledger.lifecycle(new_ids, t_sql[orig], "sql", actor=users_of(org, ae2[orig]))
    ledger.lifecycle(new_ids, t_opp[orig], "opportunity", actor=users_of(org, ae2[orig]))
    labels.add(
        "no_opportunity_recreate",
        "lead",
        new_ids,
        t_new[orig],
        related_id=lid.take(pa.array(orig)),
        field_name="lead_source",
        original=take(cfg.channel_names, jr.source[orig]),
        new="outbound_sales",
        actor=users_of(org, ae2[orig]),
        detail=pa.array(np.round(t_new[orig] - t_dq[orig], 2)).cast(pa.string()),
    )

    # ---- opportunities -------------------------------------------------------------------------------------
    o_lead = np.flatnonzero(has_opp)  # index into the chunk's original leads
    m = len(o_lead)
    o_rec = recreate[o_lead]
    # row of the opportunity's lead in the combined leads table: originals first, then re-created ones
    new_row = np.full(n, -1)
    new_row[orig] = n + np.arange(n_new)
    o_lead_row = np.where(o_rec, new_row[o_lead], o_lead)
    o_owner0 = np.where(o_rec, ae2[o_lead], acc_owner[o_lead])
    o_seg = seg[o_lead]
    o_t = t_opp[o_lead]
    o_num = counters.take("opportunity", m)
    o_ids = ids("O", o_num, 9)
    o_source0 = np.where(o_rec, outbound, jr.source[o_lead])
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
    closed = t_close <= as_of
    # stage ledger rows, each with the stage before it
    prev = np.full(m, -1)
    current = np.full(m, -1)
    for s in range(5):
        i = np.flatnonzero(entered[:, s] & (entry[:, s] <= as_of))
        ledger.event(
            "opportunity",
            o_ids.take(pa.array(i)),
            "stage",
            OPEN_STAGES[s],
            entry[i, s],
            old=take(OPPORTUNITY_STAGES, prev[i]),
            new=pa.array([OPEN_STAGES[s]] * len(i)),
            actor=users_of(org, o_owner0[i]),
        )
        prev[i] = s
        current[i] = s
    final = np.where(won, WON, LOST)
    i = np.flatnonzero(closed)
    lost_reason = np.where(won, -1, rng.integers(0, len(LOST_REASONS), m))
    ledger.event(
        "opportunity",
        o_ids.take(pa.array(i)),
        "stage",
        take(OPPORTUNITY_STAGES, final[i]),
        t_close[i],
        old=take(OPPORTUNITY_STAGES, prev[i]),
        new=take(OPPORTUNITY_STAGES, final[i]),
        reason=take(LOST_REASONS, lost_reason[i]),
        actor=users_of(org, o_owner0[i]),
    )
    current[i] = final[i]
    i = np.flatnonzero(skip & closed)
    labels.add(
        "stage_skip",
        "opportunity",
        o_ids.take(pa.array(i)),
        t_close[i],
        detail=pa.array([",".join(s for s, e in zip(OPEN_STAGES, row, strict=True) if not e) for row in entered[i]]),
    )

    # amounts, owners and close dates (field history)
    amount0 = np.round(np.asarray(cfg.amount_median)[o_seg] * rng.lognormal(0.0, cfg.amount_sigma, m), -2)
    amount0 = np.maximum(amount0, 500.0)
    t_end = np.minimum(t_close, as_of)
    amount = amount0.copy()
    chg = rng.random(m) < cfg.amount_change_rate
    t_chg = o_t + rng.uniform(0.2, 0.9, m) * (t_close - o_t)
    chg &= t_chg <= as_of
    new_amount = np.maximum(np.round(amount0 * rng.uniform(0.6, 1.4, m), -2), 500.0)
    amount[chg] = new_amount[chg]
    i = np.flatnonzero(chg)
    ledger.event(
        "opportunity",
        o_ids.take(pa.array(i)),
        "field",
        "amount",
        t_chg[i],
        old=pa.array(amount0[i]).cast(pa.string()),
        new=pa.array(new_amount[i]).cast(pa.string()),
        actor=users_of(org, o_owner0[i]),
    )
    owner = o_owner0.copy()
    och = rng.random(m) < cfg.owner_change_rate
    t_och = o_t + rng.uniform(0.1, 0.9, m) * (t_close - o_t)
    och &= t_och <= as_of
    new_owner = pick_other(org.ae, o_owner0, rng)
    owner[och] = new_owner[och]
    i = np.flatnonzero(och)
    ledger.event(
        "opportunity",
        o_ids.take(pa.array(i)),
        "field",
        "owner_id",
        t_och[i],
        old=users_of(org, o_owner0[i]),
        new=users_of(org, new_owner[i]),
        actor=users_of(org, o_owner0[i]),
    )
    expected = o_t + nominal.sum(axis=1) * rng.lognormal(0.0, 0.3, m)
    close_day = np.where(closed, np.floor(t_close), np.floor(expected))
    # quarter-to-quarter pushes: the close date starts at the creation quarter's last day and moves on a
    # quarter each time it lapses, until the quarter the deal really closes in (or the simulation ends)
    pushes = cal.quarter_ends_between(o_t, t_end)
    push &= pushes >= 2
    i = np.flatnonzero(push)
    if len(i):
        reps = pushes[i]
        row = np.repeat(i, reps)
        step = np.concatenate([np.arange(r) for r in reps])
        q0 = cal.quarter[np.clip(np.floor(o_t[row]).astype(int), 0, cal.days - 1)]
        qe = cal.quarter_end  # exclusive end day per quarter
        q_last_day = np.r_[qe, qe[-1] + 91] - 1  # last day of quarter q (one beyond the horizon)
        old_d = q_last_day[q0 + step].astype(np.float64)
        new_d = q_last_day[q0 + step + 1].astype(np.float64)
        t_push = qe[q0 + step] - 1 + 17 * HOUR  # on the quarter's last afternoon
        ledger.event(
            "opportunity",
            o_ids.take(pa.array(row)),
            "field",
            "close_date",
            t_push,
            old=dates(old_d, cfg.start).cast(pa.string()),
            new=dates(new_d, cfg.start).cast(pa.string()),
            actor=users_of(org, owner[row]),
        )
        labels.add(
            "close_date_push",
            "opportunity",
            o_ids.take(pa.array(row)),
            t_push,
            field_name="close_date",
            original=dates(old_d, cfg.start).cast(pa.string()),
            new=dates(new_d, cfg.start).cast(pa.string()),
            actor=users_of(org, owner[row]),
            detail=pa.array(reps[np.searchsorted(i, row)]).cast(pa.string()),
        )
        last_new = np.zeros(m)
        np.maximum.at(last_new, row, new_d)
        close_day = np.where(push & ~closed, last_new, close_day)

    # lead source overwrite after hand-off (by the AE owning the deal)
    o_source = o_source0.copy()
    gamer = np.zeros(len(org.user_ids), dtype=bool)
    gamer[org.ae[org.gamer]] = True
    rate = np.where(gamer[o_owner0], cfg.overwrite_rate_gamer, cfg.overwrite_rate_other)
    t_ow = o_t + rng.uniform(0.5, 10.0, m)
    ow = (o_source0 != outbound) & ~o_rec & (rng.random(m) < rate) & (t_ow <= as_of)
    o_source[ow] = outbound
    i = np.flatnonzero(ow)
    old_src = take(cfg.channel_names, o_source0[i])
    ow_lead = lid.take(pa.array(o_lead[i]))
    for etype, eid in (("lead", ow_lead), ("opportunity", o_ids.take(pa.array(i)))):
        ledger.event(
            etype,
            eid,
            "field",
            "lead_source",
            t_ow[i],
            old=old_src,
            new=pa.array(["outbound_sales"] * len(i)),
            actor=users_of(org, o_owner0[i]),
        )
    labels.add(
        "lead_source_overwrite",
        "lead",
        ow_lead,
        t_ow[i],
        related_id=o_ids.take(pa.array(i)),
        field_name="lead_source",
        original=old_src,
        new="outbound_sales",
        actor=users_of(org, o_owner0[i]),
    )

    # ---- won: customer, onboarding, advocacy; lost: recycled ------------------------------------------------
    all_lead_ids = pa.concat_arrays([lid, new_ids])
    o_lid = all_lead_ids.take(pa.array(o_lead_row))
    i = np.flatnonzero(closed & won)
    ledger.lifecycle(o_lid.take(pa.array(i)), t_close[i], "customer", actor=users_of(org, owner[i]))
    onboard = rng.random(m) < cfg.onboard_rate
    t_onb = t_close + rng.gamma(2.0, np.asarray(cfg.onboard_days)[o_seg] / 2.0)
    i = np.flatnonzero(closed & won & onboard)
    ledger.lifecycle(o_lid.take(pa.array(i)), t_onb[i], "onboarded")
    adv = closed & won & onboard & (rng.random(m) < cfg.advocate_rate)
    t_adv = t_onb + rng.uniform(30.0, 240.0, m)
    i = np.flatnonzero(adv)
    ledger.lifecycle(
        o_lid.take(pa.array(i)),
        t_adv[i],
        "advocate",
        reason=take(ADVOCACY_REASONS, rng.integers(0, len(ADVOCACY_REASONS), len(i))),
    )
    i = np.flatnonzero(closed & ~won)
    ledger.lifecycle(o_lid.take(pa.array(i)), t_close[i] + 1.0, "recycled", reason=pa.array(["closed_lost"] * len(i)))
    customer = closed & won
    is_converted_row = np.zeros(n + n_new, dtype=bool)
    is_converted_row[o_lead_row[customer]] = True

    # sales meetings at each stage entered, nurture emails after conversion
    s_row, s_col = np.nonzero(entered & (entry <= as_of))
    touches.add(o_lead_row[s_row], entry[s_row, s_col] + 0.5 * HOUR, outbound, -1, "meeting")
    i = np.flatnonzero(orig >= 0)
    touches.add(n + i, t_new[orig], outbound, -1, "call")
    n_nurture = rng.poisson(1.0, n) * conv
    rows = np.repeat(np.arange(n), n_nurture)
    t_nur = t_mql[rows] + rng.uniform(1.0, 90.0, len(rows))
    keep = t_nur <= as_of
    rows, t_nur = rows[keep], t_nur[keep]
    touches.add(rows, t_nur, email_ch, campaign_for(mkt, cal, np.full(len(rows), email_ch), t_nur, rng), "email_click")

    # ---- duplicates ----------------------------------------------------------------------------------------
    dup = np.flatnonzero(rng.random(n) < cfg.duplicate_lead_rate)
    t_dup = jr.t0[dup] + rng.uniform(1.0, 90.0, len(dup))
    dup = dup[t_dup <= as_of]
    t_dup = t_dup[t_dup <= as_of]
    n_dup = len(dup)
    dup_num = counters.take("lead", n_dup)
    dup_ids = ids("L", dup_num, 9)
    dup_source = rng.choice(n_ch, n_dup)
    dup_acc_new = rng.random(n_dup) < cfg.duplicate_account_share
    n_dacc = int(dup_acc_new.sum())
    dacc_num = counters.take("account", n_dacc)
    dacc_ids = ids("A", dacc_num, 9)
    dacc_src = jr.account[dup[dup_acc_new]]
    base_emails = np.array(
        [f"p{num}@{acc.domain[a]}" for num, a in zip(jr.number, jr.account, strict=True)], dtype=object
    )
    variant_k = rng.integers(0, 3, n_dup)
    dup_emails = [variant_email(base_emails[d], int(k)) for d, k in zip(dup, variant_k, strict=True)]
    dup_account_ids = acc.ids.take(pa.array(jr.account[dup])).to_pylist()
    for j, a in zip(np.flatnonzero(dup_acc_new), dacc_ids.to_pylist(), strict=True):
        dup_account_ids[j] = a
    ledger.lifecycle(dup_ids, t_dup, "lead")
    dup_campaign = campaign_for(mkt, cal, dup_source, t_dup, rng)
    touches.add(
        n + n_new + np.arange(n_dup),
        t_dup,
        dup_source,
        dup_campaign,
        np.array([c.first_interaction for c in chans], dtype=object)[dup_source],
    )
    labels.add(
        "duplicate_lead",
        "lead",
        dup_ids,
        t_dup,
        related_id=lid.take(pa.array(dup)),
        field_name="email",
        original=pa.array(base_emails[dup].tolist(), pa.string()),
        new=pa.array(dup_emails, pa.string()),
    )
    dacc_t = t_dup[dup_acc_new] - HOUR
    labels.add(
        "duplicate_account",
        "account",
        dacc_ids,
        dacc_t,
        related_id=acc.ids.take(pa.array(dacc_src)),
        field_name="name",
        original=pa.array([acc.name[a] for a in dacc_src], pa.string()),
        new=pa.array(
            [variant_name(acc.name[a], int(k)) for a, k in zip(dacc_src, variant_k[dup_acc_new], strict=True)],
            pa.string(),
        ),
    )

    # ---- tables --------------------------------------------------------------------------------------------
    all_rows_lead_t = np.concatenate([jr.t0, t_new[orig], t_dup])
    ledger_table = ledger.table()
    stage_now = current_lifecycle(ledger_table)
    lead_ids_all = pa.concat_arrays([lid, new_ids, dup_ids])
    src_now = np.concatenate([jr.source, np.full(n_new, outbound), dup_source])
    ow_rows = o_lead[ow]
    src_now[ow_rows] = outbound
    detail = np.array([c.first_interaction for c in chans], dtype=object)[src_now]
    detail[ow_rows] = "self_sourced"
    owner_now = np.where(mql & ~is_outbound, sdr, -1)
    owner_now = np.where(is_outbound, sdr, owner_now)
    had_opp_owner = conv & ~recreate & (t_opp <= as_of)
    owner_now = np.where(had_opp_owner, acc_owner, owner_now)
    owner_all = np.concatenate([owner_now, ae2[orig], np.full(n_dup, -1)])
    acc_rows = np.concatenate([jr.account, jr.account[orig]])
    leads = canonical(
        "leads",
        {
            "lead_id": lead_ids_all,
            "account_id": pa.concat_arrays([acc.ids.take(pa.array(acc_rows)), pa.array(dup_account_ids, pa.string())]),
            "email": pa.array(base_emails.tolist() + base_emails[orig].tolist() + dup_emails, pa.string()),
            "created_at": timestamps(all_rows_lead_t, cfg.start),
            "lead_source": take(cfg.channel_names, src_now),
            "lead_source_detail": pa.array(detail.tolist(), pa.string()),
            "campaign_id": _campaign_ids(mkt, np.concatenate([jr.campaign, np.full(n_new, -1), dup_campaign])),
            "owner_id": users_of(org, owner_all),
            "segment": take(SEGMENTS, np.concatenate([seg, seg[orig], seg[dup]])),
            "region": take(REGIONS, np.concatenate([jr.region, jr.region[orig], jr.region[dup]])),
            "industry": take(INDUSTRIES, np.concatenate([acc.industry[acc_rows], acc.industry[jr.account[dup]]])),
            "lifecycle_stage": _lookup(stage_now, lead_ids_all),
            "score": pa.array(np.concatenate([score, np.zeros(n_new + n_dup)]), mask=np.arange(n + n_new + n_dup) >= n),
            "is_converted": np.concatenate([is_converted_row, np.zeros(n_dup, dtype=bool)]),
        },
    )
    # accounts: created just before their first lead
    first_t = np.full(acc.n, np.nan)
    order = np.argsort(jr.t0, kind="stable")[::-1]
    first_t[jr.account[order]] = jr.t0[order]
    no_lead = np.isnan(first_t)
    first_t[no_lead] = rng.uniform(0.0, as_of, int(no_lead.sum()))
    acc_t = first_t - rng.uniform(1.0, 48.0, acc.n) * HOUR
    accounts = canonical(
        "accounts",
        {
            "account_id": pa.concat_arrays([acc.ids, dacc_ids]),
            "name": acc.name
            + [variant_name(acc.name[a], int(k)) for a, k in zip(dacc_src, variant_k[dup_acc_new], strict=True)],
            "segment": take(SEGMENTS, np.concatenate([acc.segment, acc.segment[dacc_src]])),
            "industry": take(INDUSTRIES, np.concatenate([acc.industry, acc.industry[dacc_src]])),
            "region": take(REGIONS, np.concatenate([acc.region, acc.region[dacc_src]])),
            "employees": np.concatenate([acc.employees, acc.employees[dacc_src]]),
            "owner_id": users_of(org, np.concatenate([acc.owner, acc.owner[dacc_src]])),
            "created_at": timestamps(np.concatenate([acc_t, dacc_t]), cfg.start),
        },
    )
    o_amount = amount
    ae_pos = np.full(len(org.user_ids), -1)
    ae_pos[org.ae] = np.arange(len(org.ae))
    forecast_basis = pipeline_basis(
        cfg,
        sched,
        ae_pos[owner],
        len(org.ae),
        created=o_t,
        stage_days=dur,
        closed_at=np.where(closed, t_close, np.nan),
        won=won,
        win_p=win_p,
        amount=amount,
    )
    opportunities = canonical(
        "opportunities",
        {
            "opportunity_id": o_ids,
            "account_id": acc.ids.take(pa.array(jr.account[o_lead])),
            "lead_id": o_lid,
            "owner_id": users_of(org, owner),
            "created_at": timestamps(o_t, cfg.start),
            "close_date": dates(close_day, cfg.start),
            "closed_at": timestamps(np.where(closed, t_close, np.nan), cfg.start),
            "stage": take(OPPORTUNITY_STAGES, current),
            "is_closed": closed,
            "is_won": closed & won,
            "amount": o_amount,
            "deal_type": pa.array(["new_business"] * m, pa.string()),
            "lead_source": take(cfg.channel_names, o_source),
            "segment": take(SEGMENTS, o_seg),
            "region": take(REGIONS, jr.region[o_lead]),
            "lost_reason": take(LOST_REASONS, np.where(closed, lost_reason, -1)),
        },
        length=m,
    )
    touch_lead = np.concatenate(touches.lead)
    touch_t = np.concatenate(touches.t)
    order = np.lexsort((touch_t, touch_lead))
    touch_lead, touch_t = touch_lead[order], touch_t[order]
    touch_ch = np.concatenate(touches.channel)[order]
    touch_num = counters.take("touch", len(order))
    touch_acc = pa.concat_arrays([acc.ids.take(pa.array(acc_rows)), pa.array(dup_account_ids, pa.string())])
    touchpoints = canonical(
        "touchpoints",
        {
            "touchpoint_id": ids("T", touch_num, 10),
            "lead_id": lead_ids_all.take(pa.array(touch_lead)),
            "account_id": touch_acc.take(pa.array(touch_lead)),
            "occurred_at": timestamps(touch_t, cfg.start),
            "channel": take(cfg.channel_names, touch_ch),
            "campaign_id": _campaign_ids(mkt, np.concatenate(touches.campaign)[order]),
            "touch_type": pa.array(
                np.array([c.touch_type for c in chans], dtype=object)[touch_ch].tolist(), pa.string()
            ),
            "interaction": pa.array(np.concatenate(touches.interaction)[order].tolist(), pa.string()),
        },
    )

    from revalign.simulate.billing import subscriptions

    subs, extra_opps, won_q = subscriptions(
        cfg,
        cal,
        org,
        counters,
        rng,
        ledger_table_builder := LedgerBuilder(cfg.start, as_of, rng),
        acc_ids=acc.ids.take(pa.array(jr.account[o_lead])),
        seg=o_seg,
        owner=owner,
        t_close=t_close,
        customer=customer,
        amount=o_amount,
        opp_ids=o_ids,
        region=jr.region[o_lead],
    )
    ledger_table = pa.concat_tables([ledger_table, ledger_table_builder.table()])
    opportunities = pa.concat_tables([opportunities, extra_opps])

    truth_leads = _truth_leads(
        cfg,
        jr,
        acc,
        org,
        truth_cols,
        win_p_all=expit(np.asarray(cfg.win_intercept)[seg] + cfg.win_per_propensity * jr.propensity),
        conv=conv,
        has_opp=has_opp,
    )
    stats = _channel_stats(cfg, jr, conv, has_opp, o_lead, customer, o_source0)
    day = np.clip(np.floor(all_rows_lead_t).astype(int), 0, cal.days - 1)
    leads_by_day = np.zeros((cal.days, n_ch))
    np.add.at(leads_by_day, (day, src_now), 1.0)
    return ChunkResult(
        tables={
            "accounts": accounts,
            "leads": leads,
            "touchpoints": touchpoints,
            "opportunities": opportunities,
            "subscriptions": subs,
            "ledger": ledger_table,
        },
        labels=labels.table(),
        truth_leads=truth_leads,
        won_by_quarter=won_q,
        channel_stats=stats,
        leads_by_day=leads_by_day,
        forecast_basis=forecast_basis,
    )


def _campaign_ids(mkt: Marketing, idx: np.ndarray) -> pa.Array:
    return take(mkt.campaigns.column("campaign_id").to_pylist(), idx)


def current_lifecycle(ledger: pa.Table) -> tuple[pa.Array, pa.Array]:
    """Last lifecycle stage per lead (the ledger is already filtered to ``as_of``)."""
    lc = ledger.filter(pc.equal(ledger.column("kind"), "lifecycle"))
    lc = lc.sort_by([("entity_id", "ascending"), ("occurred_at", "ascending")])
    ent = lc.column("entity_id").to_numpy(zero_copy_only=False)
    stage = lc.column("name")
    # ties at the same instant: keep funnel order (the builder sorted by stage code within a time)
    last = np.r_[ent[1:] != ent[:-1], True] if len(ent) else np.zeros(0, dtype=bool)
    return pa.array(ent[last].tolist(), pa.string()), stage.filter(pa.array(last))


def _lookup(pairs: tuple[pa.Array, pa.Array], keys: pa.Array) -> pa.Array:
    idx = pc.index_in(keys, value_set=pairs[0])
    return pc.take(pairs[1], idx)


def _truth_leads(
    cfg: SimulationConfig,
    jr: Journeys,
    acc: Accounts,
    org: Org,
    cols: dict,
    win_p_all: np.ndarray,
    conv: np.ndarray,
    has_opp: np.ndarray,
) -> pa.Table:
    data: dict[str, pa.Array | np.ndarray] = {
        "lead_id": jr.ids,
        "account_id": acc.ids.take(pa.array(jr.account)),
        "segment": take(SEGMENTS, jr.segment),
        "true_source": take(cfg.channel_names, jr.source),
        "created_at": timestamps(jr.t0, cfg.start),
        "propensity": jr.propensity,
        "logit": jr.logit,
        "p_convert": jr.p,
        "p_win": win_p_all,
        "converted": jr.converted,
        "conversion_at": timestamps(jr.t_conv, cfg.start),
        "converted_by_end": conv,
        "opportunity_by_end": has_opp,
        "mql": cols["mql"],
        "followup_hours": pa.array(cols["followup_hours"], mask=np.isnan(cols["followup_hours"])),
        "sla_breached": cols["sla_breached"],
        "sdr_id": users_of(org, cols["sdr"]),
    }
    for c, name in enumerate(cfg.channel_names):
        data[f"x_{name}"] = jr.x[:, c]
    return pa.table(data)


def _channel_stats(
    cfg: SimulationConfig,
    jr: Journeys,
    conv: np.ndarray,
    has_opp: np.ndarray,
    o_lead: np.ndarray,
    customer: np.ndarray,
    o_source0: np.ndarray,
) -> dict[str, np.ndarray]:
    """Per-channel sums over this chunk's leads (added up across chunks for the ground truth)."""
    effect = np.array([c.effect for c in cfg.channels])
    x = jr.x
    without = expit(jr.logit[:, None] - effect[None, :])
    incr = (jr.p[:, None] - without) * x
    win_p = expit(np.asarray(cfg.win_intercept)[jr.segment] + cfg.win_per_propensity * jr.propensity)
    n_ch = len(effect)
    won_lead = np.zeros(jr.n, dtype=bool)
    won_lead[o_lead[customer]] = True
    return {
        "leads_sourced": np.bincount(jr.source, minlength=n_ch).astype(float),
        "leads_touched": x.sum(axis=0).astype(float),
        "converted_touched": (x & jr.converted[:, None]).sum(axis=0).astype(float),
        "expected_touched": (x * jr.p[:, None]).sum(axis=0),
        "variance_touched": (x * (jr.p * (1 - jr.p))[:, None]).sum(axis=0),
        "incremental_conversions": incr.sum(axis=0),
        "incremental_customers": (incr * win_p[:, None]).sum(axis=0),
        "converted_sourced": np.bincount(jr.source[jr.converted], minlength=n_ch).astype(float),
        "opportunities_sourced": np.bincount(jr.source[has_opp], minlength=n_ch).astype(float),
        "customers_sourced": np.bincount(jr.source[won_lead], minlength=n_ch).astype(float),
        "expected_conversions_total": np.array([jr.p.sum()]),
        "converted_total": np.array([float(jr.converted.sum())]),
        "leads_total": np.array([float(jr.n)]),
    }
