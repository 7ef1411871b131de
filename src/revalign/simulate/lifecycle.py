"""From journey to customer: one chunk of leads through its lifecycle stages, and the chunk's tables.

One call handles one chunk of leads, vectorised. The order of events per converting lead is::

    lead (t0) → journey touches → mql (demo request, t_conv) → SDR follow-up call (rep's lognormal delay)
    → accepted → sql → opportunity (AE) → discovery … negotiation → closed_won | closed_lost
    → customer → onboarded → advocate        (lost: → recycled)

The stages run in this order, each drawing from the chunk's random stream in its turn (see
:mod:`revalign.simulate.chunk`): the hand-off (:mod:`~revalign.simulate.handoff`), the re-created leads,
the opportunities (:mod:`~revalign.simulate.deals`), later touches, the duplicates
(:mod:`~revalign.simulate.duplicates`), then the tables below and the subscriptions
(:mod:`~revalign.simulate.billing`). Events after the simulation end (``as_of``) are cut, so recent leads and
deals are open, as in a live CRM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import expit

from revalign.model.tables import JOB_FUNCTIONS, JOB_LEVELS, OPPORTUNITY_STAGES, TECH_FIT
from revalign.simulate.billing import NewDeals, subscriptions
from revalign.simulate.chunk import Chunk
from revalign.simulate.company import HOUR, Marketing
from revalign.simulate.config import INDUSTRIES, LOST_REASONS, REGIONS, SEGMENTS, SimulationConfig
from revalign.simulate.deals import Deals, run_deals
from revalign.simulate.duplicates import Duplicates, duplicate_leads
from revalign.simulate.forecasts import Schedule, pipeline_basis
from revalign.simulate.handoff import Handoff, Recreated, hand_off, record_handoff, recreate_leads
from revalign.simulate.journeys import Journeys, campaign_for
from revalign.simulate.ledger import LedgerBuilder
from revalign.simulate.writer import canonical, dates, ids, take, timestamps


@dataclass
class ChunkResult:
    """One chunk's rows of each canonical table, and its parts of the ground truth (summed over chunks)."""

    tables: dict[str, pa.Table]
    labels: pa.Table
    truth_leads: pa.Table
    won_by_quarter: np.ndarray
    channel_stats: dict[str, np.ndarray]
    leads_by_day: np.ndarray  # [day, channel] leads created (by current source)
    forecast_basis: dict[str, np.ndarray]  # [call slot, AE] parts of each forecast call (simulate.forecasts)


@dataclass
class Lifecycle:
    """What the stages of one chunk produced, in stage order."""

    handoff: Handoff
    recreated: Recreated
    deals: Deals
    duplicates: Duplicates


@dataclass
class LeadRows:
    """Every lead row of the chunk: the original leads, then the re-created ones, then the duplicates."""

    ids: pa.Array
    created: np.ndarray
    source: np.ndarray  # current lead source (channel index)
    account_ids: pa.Array
    account: np.ndarray  # account index of the original and re-created rows


def run_lifecycle(ch: Chunk, sched: Schedule) -> ChunkResult:
    """Run the chunk's stages in order and return its tables, labels and ground-truth parts."""
    h = hand_off(ch)
    record_handoff(ch, h)
    rc = recreate_leads(ch, h)
    d = run_deals(ch, h, rc)
    _later_touches(ch, h, rc, d)
    dup = duplicate_leads(ch, first_row=ch.jr.n + rc.n)
    return _result(ch, sched, Lifecycle(h, rc, d, dup))


def _later_touches(ch: Chunk, h: Handoff, rc: Recreated, d: Deals) -> None:
    """Sales meetings at each stage entered, the re-creating AE's call, nurture emails after conversion."""
    p, rng, n = d.plan, ch.rng, ch.jr.n
    s_row, s_col = np.nonzero(p.entered & (p.entry <= ch.as_of))
    ch.touches.add(p.lead_row[s_row], p.entry[s_row, s_col] + 0.5 * HOUR, ch.outbound, -1, "meeting")
    ch.touches.add(n + np.arange(rc.n), h.t_new[rc.orig], ch.outbound, -1, "call")
    n_nurture = rng.poisson(1.0, n) * h.conv
    rows = np.repeat(np.arange(n), n_nurture)
    t_nur = ch.jr.t_conv[rows] + rng.uniform(1.0, 90.0, len(rows))
    keep = t_nur <= ch.as_of
    rows, t_nur = rows[keep], t_nur[keep]
    campaign = campaign_for(ch.mkt, ch.cal, np.full(len(rows), ch.email), t_nur, rng)
    ch.touches.add(rows, t_nur, ch.email, campaign, "email_click")


def _result(ch: Chunk, sched: Schedule, lc: Lifecycle) -> ChunkResult:
    """The chunk's tables (the ledger first: building it draws from the stream), then its truth parts."""
    cfg, jr = ch.cfg, ch.jr
    ledger = ch.ledger.table()
    rows = _lead_rows(ch, lc)
    leads = _leads_table(ch, lc, rows, current_lifecycle(ledger))
    accounts = _accounts_table(ch, lc.duplicates)
    forecast_basis = _forecast_basis(ch, sched, lc.deals)
    opportunities = _opportunities_table(ch, lc.deals)
    touchpoints = _touchpoints_table(ch, rows)
    # the ledger above is final (the leads' lifecycle stage is read from it); the renewal deals' stage events
    # get their own builder, whose table is drawn after the subscriptions' draws
    renewal_ledger = LedgerBuilder(cfg.start, ch.as_of, ch.rng)
    p = lc.deals.plan
    new_deals = NewDeals(
        ids=p.ids,
        account_ids=ch.acc.ids.take(pa.array(jr.account[p.lead])),
        segment=p.segment,
        region=jr.region[p.lead],
        owner=lc.deals.owner,
        closed_at=p.t_close,
        won=lc.deals.customer,
        amount=lc.deals.amount,
    )
    subs, renewals, won_q = subscriptions(ch, renewal_ledger, new_deals)
    day = np.clip(np.floor(rows.created).astype(int), 0, ch.cal.days - 1)
    leads_by_day = np.zeros((ch.cal.days, len(cfg.channels)))
    np.add.at(leads_by_day, (day, rows.source), 1.0)
    return ChunkResult(
        tables={
            "accounts": accounts,
            "leads": leads,
            "touchpoints": touchpoints,
            "opportunities": pa.concat_tables([opportunities, renewals]),
            "subscriptions": subs,
            "ledger": pa.concat_tables([ledger, renewal_ledger.table()]),
        },
        labels=ch.labels.table(),
        truth_leads=_truth_leads(ch, lc.handoff),
        won_by_quarter=won_q,
        channel_stats=_channel_stats(cfg, jr, lc.handoff, lc.deals),
        leads_by_day=leads_by_day,
        forecast_basis=forecast_basis,
    )


def _lead_rows(ch: Chunk, lc: Lifecycle) -> LeadRows:
    jr, rc, dup = ch.jr, lc.recreated, lc.duplicates
    source = np.concatenate([jr.source, np.full(rc.n, ch.outbound), dup.source])
    source[lc.deals.plan.lead[lc.deals.overwritten]] = ch.outbound
    account = np.concatenate([jr.account, jr.account[rc.orig]])
    return LeadRows(
        ids=pa.concat_arrays([jr.ids, rc.ids, dup.ids]),
        created=np.concatenate([jr.t0, lc.handoff.t_new[rc.orig], dup.t]),
        source=source,
        account_ids=pa.concat_arrays([ch.acc.ids.take(pa.array(account)), pa.array(dup.account_ids, pa.string())]),
        account=account,
    )


def _lead_owners(lc: Lifecycle) -> np.ndarray:
    """Current owner of every lead row: the SDR once an MQL (outbound: from the start), then the deal's AE."""
    h, rc = lc.handoff, lc.recreated
    owner = np.where(h.mql & ~h.is_outbound, h.sdr, -1)
    owner = np.where(h.is_outbound, h.sdr, owner)
    owner = np.where(h.conv & ~h.recreate & h.has_opp, h.acc_owner, owner)
    return np.concatenate([owner, h.ae2[rc.orig], np.full(lc.duplicates.n, -1)])


def _leads_table(ch: Chunk, lc: Lifecycle, rows: LeadRows, stage_now: tuple[pa.Array, pa.Array]) -> pa.Table:
    cfg, jr, acc = ch.cfg, ch.jr, ch.acc
    h, rc, dup = lc.handoff, lc.recreated, lc.duplicates
    n, n_new = jr.n, rc.n
    overwritten = lc.deals.plan.lead[lc.deals.overwritten]
    detail = np.array([c.first_interaction for c in cfg.channels], dtype=object)[rows.source]
    detail[overwritten] = "self_sourced"
    converted = np.zeros(n + n_new + dup.n, dtype=bool)
    converted[lc.deals.plan.lead_row[lc.deals.customer]] = True
    seg, region, orig = jr.segment, jr.region, rc.orig
    emails = dup.lead_emails
    level, func = jr.profile.job_level, jr.profile.job_function  # a re-created or duplicate lead: same person
    return canonical(
        "leads",
        {
            "lead_id": rows.ids,
            "account_id": rows.account_ids,
            "email": pa.array(emails.tolist() + emails[orig].tolist() + dup.emails, pa.string()),
            "created_at": timestamps(rows.created, cfg.start),
            "lead_source": take(cfg.channel_names, rows.source),
            "lead_source_detail": pa.array(detail.tolist(), pa.string()),
            "campaign_id": _campaign_ids(ch.mkt, np.concatenate([jr.campaign, np.full(n_new, -1), dup.campaign])),
            "owner_id": ch.users(_lead_owners(lc)),
            "segment": take(SEGMENTS, np.concatenate([seg, seg[orig], seg[dup.lead]])),
            "region": take(REGIONS, np.concatenate([region, region[orig], region[dup.lead]])),
            "industry": take(
                INDUSTRIES, np.concatenate([acc.industry[rows.account], acc.industry[jr.account[dup.lead]]])
            ),
            "lifecycle_stage": _lookup(stage_now, rows.ids),
            "score": pa.array(
                np.concatenate([h.score, np.zeros(n_new + dup.n)]), mask=np.arange(n + n_new + dup.n) >= n
            ),
            "is_converted": converted,
            "job_level": take(JOB_LEVELS, np.concatenate([level, level[orig], level[dup.lead]])),
            "job_function": take(JOB_FUNCTIONS, np.concatenate([func, func[orig], func[dup.lead]])),
        },
    )


def _accounts_table(ch: Chunk, dup: Duplicates) -> pa.Table:
    """The chunk's accounts, each created just before its first lead, and the duplicate accounts."""
    acc, jr, rng = ch.acc, ch.jr, ch.rng
    first_t = np.full(acc.n, np.nan)
    order = np.argsort(jr.t0, kind="stable")[::-1]
    first_t[jr.account[order]] = jr.t0[order]
    no_lead = np.isnan(first_t)
    first_t[no_lead] = rng.uniform(0.0, ch.as_of, int(no_lead.sum()))
    acc_t = first_t - rng.uniform(1.0, 48.0, acc.n) * HOUR
    src = dup.acc_of
    return canonical(
        "accounts",
        {
            "account_id": pa.concat_arrays([acc.ids, dup.acc_ids]),
            "name": acc.name + dup.acc_names,
            "segment": take(SEGMENTS, np.concatenate([acc.segment, acc.segment[src]])),
            "industry": take(INDUSTRIES, np.concatenate([acc.industry, acc.industry[src]])),
            "region": take(REGIONS, np.concatenate([acc.region, acc.region[src]])),
            "employees": np.concatenate([acc.employees, acc.employees[src]]),
            "owner_id": ch.users(np.concatenate([acc.owner, acc.owner[src]])),
            "created_at": timestamps(np.concatenate([acc_t, dup.acc_t]), ch.cfg.start),
            "employee_growth": np.concatenate([acc.profile.employee_growth, acc.profile.employee_growth[src]]),
            "tech_fit": take(TECH_FIT, np.concatenate([acc.profile.tech_fit, acc.profile.tech_fit[src]])),
        },
    )


def _forecast_basis(ch: Chunk, sched: Schedule, d: Deals) -> dict[str, np.ndarray]:
    org, p = ch.org, d.plan
    ae_pos = np.full(len(org.user_ids), -1)
    ae_pos[org.ae] = np.arange(len(org.ae))
    return pipeline_basis(
        ch.cfg,
        ch.cal,
        sched,
        ae_pos[d.owner],
        len(org.ae),
        created=p.created,
        stage_days=p.stage_days,
        entry=p.entry,
        entered=p.entered,
        closed_at=np.where(p.closed, p.t_close, np.nan),
        won=p.won,
        win_p=p.win_p,
        amount=d.amount,
        segment=p.segment,
        crm_close=d.expected_close,
        pushed=d.pushed,
    )


def _opportunities_table(ch: Chunk, d: Deals) -> pa.Table:
    cfg, jr, p = ch.cfg, ch.jr, d.plan
    return canonical(
        "opportunities",
        {
            "opportunity_id": p.ids,
            "account_id": ch.acc.ids.take(pa.array(jr.account[p.lead])),
            "lead_id": d.lead_ids,
            "owner_id": ch.users(d.owner),
            "created_at": timestamps(p.created, cfg.start),
            "close_date": dates(d.close_day, cfg.start),
            "closed_at": timestamps(np.where(p.closed, p.t_close, np.nan), cfg.start),
            "stage": take(OPPORTUNITY_STAGES, d.stage),
            "is_closed": p.closed,
            "is_won": p.closed & p.won,
            "amount": d.amount,
            "deal_type": pa.array(["new_business"] * p.m, pa.string()),
            "lead_source": take(cfg.channel_names, d.source),
            "segment": take(SEGMENTS, p.segment),
            "region": take(REGIONS, jr.region[p.lead]),
            "lost_reason": take(LOST_REASONS, np.where(p.closed, p.lost_reason, -1)),
        },
        length=p.m,
    )


def _touchpoints_table(ch: Chunk, rows: LeadRows) -> pa.Table:
    """Every touch gathered by the stages, in (lead, time) order, numbered in that order."""
    touches, chans = ch.touches, ch.cfg.channels
    touch_lead = np.concatenate(touches.lead)
    touch_t = np.concatenate(touches.t)
    order = np.lexsort((touch_t, touch_lead))
    touch_lead, touch_t = touch_lead[order], touch_t[order]
    touch_ch = np.concatenate(touches.channel)[order]
    touch_num = ch.counters.take("touch", len(order))
    touch_type = np.array([c.touch_type for c in chans], dtype=object)[touch_ch]
    return canonical(
        "touchpoints",
        {
            "touchpoint_id": ids("T", touch_num, 10),
            "lead_id": rows.ids.take(pa.array(touch_lead)),
            "account_id": rows.account_ids.take(pa.array(touch_lead)),
            "occurred_at": timestamps(touch_t, ch.cfg.start),
            "channel": take(ch.cfg.channel_names, touch_ch),
            "campaign_id": _campaign_ids(ch.mkt, np.concatenate(touches.campaign)[order]),
            "touch_type": pa.array(touch_type.tolist(), pa.string()),
            "interaction": pa.array(np.concatenate(touches.interaction)[order].tolist(), pa.string()),
        },
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


def _win_probability(cfg: SimulationConfig, jr: Journeys) -> np.ndarray:
    """True win probability of every lead's would-be opportunity."""
    return expit(np.asarray(cfg.win_intercept)[jr.segment] + cfg.win_per_propensity * jr.propensity)


def _truth_leads(ch: Chunk, h: Handoff) -> pa.Table:
    """Per-lead ground truth of the chunk's original leads (latent propensity, true source, follow-up)."""
    cfg, jr = ch.cfg, ch.jr
    followup_hours = np.where(h.mql, h.delay_h, np.nan)
    data: dict[str, pa.Array | np.ndarray] = {
        "lead_id": jr.ids,
        "account_id": ch.acc.ids.take(pa.array(jr.account)),
        "segment": take(SEGMENTS, jr.segment),
        "true_source": take(cfg.channel_names, jr.source),
        "created_at": timestamps(jr.t0, cfg.start),
        "propensity": jr.propensity,
        "account_effect": ch.acc.effect[jr.account],
        "lead_effect": jr.lead_effect,
        "logit": jr.logit,
        "p_convert": jr.p,
        "p_win": _win_probability(cfg, jr),
        "converted": jr.converted,
        "conversion_at": timestamps(jr.t_conv, cfg.start),
        "converted_by_end": h.conv,
        "opportunity_by_end": h.has_opp,
        "mql": h.mql,
        "followup_hours": pa.array(followup_hours, mask=np.isnan(followup_hours)),
        "sla_breached": h.breach,
        "sdr_id": ch.users(np.where(h.mql, h.sdr, -1)),
    }
    for c, name in enumerate(cfg.channel_names):
        data[f"x_{name}"] = jr.x[:, c]
    return pa.table(data)


def _channel_stats(cfg: SimulationConfig, jr: Journeys, h: Handoff, d: Deals) -> dict[str, np.ndarray]:
    """Per-channel sums over this chunk's leads (added up across chunks for the ground truth)."""
    effect = np.array([c.effect for c in cfg.channels])
    x = jr.x
    without = expit(jr.logit[:, None] - effect[None, :])
    incr = (jr.p[:, None] - without) * x
    win_p = _win_probability(cfg, jr)
    n_ch = len(effect)
    won_lead = np.zeros(jr.n, dtype=bool)
    won_lead[d.plan.lead[d.customer]] = True
    return {
        "leads_sourced": np.bincount(jr.source, minlength=n_ch).astype(float),
        "leads_touched": x.sum(axis=0).astype(float),
        "converted_touched": (x & jr.converted[:, None]).sum(axis=0).astype(float),
        "expected_touched": (x * jr.p[:, None]).sum(axis=0),
        "variance_touched": (x * (jr.p * (1 - jr.p))[:, None]).sum(axis=0),
        "incremental_conversions": incr.sum(axis=0),
        "incremental_customers": (incr * win_p[:, None]).sum(axis=0),
        "converted_sourced": np.bincount(jr.source[jr.converted], minlength=n_ch).astype(float),
        "opportunities_sourced": np.bincount(jr.source[h.has_opp], minlength=n_ch).astype(float),
        "customers_sourced": np.bincount(jr.source[won_lead], minlength=n_ch).astype(float),
        "expected_conversions_total": np.array([jr.p.sum()]),
        "converted_total": np.array([float(jr.converted.sum())]),
        "leads_total": np.array([float(jr.n)]),
    }
