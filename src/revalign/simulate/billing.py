"""Subscriptions after a won deal: annual terms, renewals, mid-term expansions and churn.

Each won new-business deal starts a subscription line (MRR = amount / 12). In every contract year the customer
may expand (the line ends and a new one with a higher MRR starts, with a closed-won expansion deal); at each
anniversary it churns (the line ends, nothing follows) or renews (a new line with the same MRR, with a
closed-won renewal deal). Lines still running at the simulation end have no end date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from revalign.simulate.chunk import Chunk
from revalign.simulate.config import REGIONS, SEGMENTS
from revalign.simulate.ledger import LedgerBuilder
from revalign.simulate.writer import canonical, dates, ids, take, timestamps

PLANS = ("starter", "growth", "enterprise")


@dataclass
class NewDeals:
    """The chunk's new-business opportunities (aligned arrays); the won ones start subscriptions."""

    ids: pa.Array
    account_ids: pa.Array
    segment: np.ndarray
    region: np.ndarray
    owner: np.ndarray  # user index
    closed_at: np.ndarray  # float day (meaningful for won deals)
    won: np.ndarray  # closed and won by the end
    amount: np.ndarray


@dataclass
class _Lines:
    """Subscription lines emitted so far (one part per emit)."""

    account: list[pa.Array] = field(default_factory=list)
    opportunity: list[pa.Array] = field(default_factory=list)
    start: list[np.ndarray] = field(default_factory=list)
    end: list[np.ndarray] = field(default_factory=list)
    mrr: list[np.ndarray] = field(default_factory=list)
    plan: list[np.ndarray] = field(default_factory=list)


@dataclass
class _RenewalDeals:
    """Expansion and renewal deals emitted so far (one part per batch)."""

    ids: list[pa.Array] = field(default_factory=list)
    account: list[pa.Array] = field(default_factory=list)
    owner: list[np.ndarray] = field(default_factory=list)
    created: list[np.ndarray] = field(default_factory=list)
    closed: list[np.ndarray] = field(default_factory=list)
    amount: list[np.ndarray] = field(default_factory=list)
    deal_type: list[str] = field(default_factory=list)
    segment: list[np.ndarray] = field(default_factory=list)
    region: list[np.ndarray] = field(default_factory=list)


@dataclass
class _Contracts:
    """The customers' contracts (one per won deal, position ``c`` among the new deals) while years pass."""

    ch: Chunk
    ledger: LedgerBuilder
    deals: NewDeals
    c: np.ndarray  # positions of the won deals
    start: np.ndarray  # first contract day
    line_start: np.ndarray  # start of the running line
    mrr: np.ndarray  # MRR of the running line
    line_opp: pa.Array  # deal behind the running line
    churned: np.ndarray
    lines: _Lines = field(default_factory=_Lines)
    renewals: _RenewalDeals = field(default_factory=_RenewalDeals)

    def end_lines(self, sel: np.ndarray, end: np.ndarray) -> None:
        """The running lines of contracts ``sel`` end at ``end`` (NaN: still running)."""
        c = self.c[sel]
        self.lines.account.append(self.deals.account_ids.take(pa.array(c)))
        self.lines.opportunity.append(self.line_opp.take(pa.array(sel)))
        self.lines.start.append(self.line_start[sel])
        self.lines.end.append(end)
        self.lines.mrr.append(self.mrr[sel])
        self.lines.plan.append(self.deals.segment[c])

    def close_deals(
        self, sel: np.ndarray, created: np.ndarray, closed: np.ndarray, value: np.ndarray, kind: str
    ) -> pa.Array:
        """Closed-won ``kind`` deals for contracts ``sel`` (rows and stage events); their ids."""
        c = self.c[sel]
        deal_ids = ids("O", self.ch.counters.take("opportunity", len(sel)), 9)
        r = self.renewals
        r.ids.append(deal_ids)
        r.account.append(self.deals.account_ids.take(pa.array(c)))
        r.owner.append(self.deals.owner[c])
        r.created.append(created)
        r.closed.append(closed)
        r.amount.append(value)
        r.deal_type += [kind] * len(sel)
        r.segment.append(self.deals.segment[c])
        r.region.append(self.deals.region[c])
        _stage_events(self.ledger, deal_ids, created, closed, self.ch.users(self.deals.owner[c]))
        return deal_ids

    def contract_year(self, year: int, exp_rate: np.ndarray, churn_rate: np.ndarray) -> None:
        """Expansions inside contract year ``year``, then churn or renewal at its anniversary."""
        rng, as_of, n = self.ch.rng, self.ch.as_of, len(self.c)
        term = self.start + 365.0 * year
        anniversary = term + 365.0
        alive = ~self.churned & (term < as_of)
        t_e = np.floor(term + rng.uniform(60.0, 300.0, n))
        sel = np.flatnonzero(alive & (rng.random(n) < exp_rate) & (t_e < np.minimum(anniversary, as_of)))
        if len(sel):
            self.end_lines(sel, t_e[sel])
            new_mrr = np.round(self.mrr[sel] * rng.uniform(1.1, 1.6, len(sel)), 2)
            created = t_e[sel] - rng.uniform(10.0, 30.0, len(sel))
            value = np.round((new_mrr - self.mrr[sel]) * 12, 2)
            deal_ids = self.close_deals(sel, created, t_e[sel] + 10 / 24, value, "expansion")
            self.line_start[sel] = t_e[sel]
            self.mrr[sel] = new_mrr
            self.line_opp = _replace(self.line_opp, sel, deal_ids)
        due = alive & (anniversary < as_of)
        churn = due & (rng.random(n) < churn_rate)
        sel = np.flatnonzero(churn)
        self.end_lines(sel, anniversary[sel])
        self.churned |= churn
        sel = np.flatnonzero(due & ~churn)
        if len(sel):
            self.end_lines(sel, anniversary[sel])
            created = anniversary[sel] - rng.uniform(20.0, 60.0, len(sel))
            closed = anniversary[sel] - 1.0 + 15 / 24
            deal_ids = self.close_deals(sel, created, closed, np.round(self.mrr[sel] * 12, 2), "renewal")
            self.line_start[sel] = anniversary[sel]
            self.line_opp = _replace(self.line_opp, sel, deal_ids)


def subscriptions(ch: Chunk, ledger: LedgerBuilder, deals: NewDeals) -> tuple[pa.Table, pa.Table, np.ndarray]:
    """Subscription lines and the expansion/renewal opportunities; also won new-business amount per quarter.

    Stage events of the expansion and renewal deals go to ``ledger``.
    """
    cal, cfg = ch.cal, ch.cfg
    c = np.flatnonzero(deals.won)
    won_q = np.zeros(cal.n_quarters)
    q = cal.quarter[np.clip(np.floor(deals.closed_at[c]).astype(int), 0, cal.days - 1)]
    np.add.at(won_q, q, deals.amount[c])
    start = np.floor(deals.closed_at[c])
    contracts = _Contracts(
        ch,
        ledger,
        deals,
        c,
        start=start,
        line_start=start.copy(),
        mrr=np.round(deals.amount[c] / 12.0, 2),
        line_opp=deals.ids.take(pa.array(c)),
        churned=np.zeros(len(c), dtype=bool),
    )
    exp_rate = np.asarray(cfg.expansion_rate)[deals.segment[c]]
    churn_rate = np.asarray(cfg.churn_rate)[deals.segment[c]]
    for year in range(int(np.ceil(cfg.days / 365)) + 1):
        contracts.contract_year(year, exp_rate, churn_rate)
    sel = np.flatnonzero(~contracts.churned)  # lines still running at the end
    contracts.end_lines(sel, np.full(len(sel), np.nan))
    return _lines_table(ch, contracts.lines), _renewals_table(ch, contracts.renewals), won_q


def _stage_events(
    ledger: LedgerBuilder, deal_ids: pa.Array, created: np.ndarray, closed: np.ndarray, actor: pa.Array
) -> None:
    """discovery at creation, proposal half-way, closed_won at the close (each with the stage before it)."""
    n = len(created)
    old = pa.nulls(n, pa.string())
    for stage, t in (("discovery", created), ("proposal", created + 0.5 * (closed - created)), ("closed_won", closed)):
        new = pa.array([stage] * n)
        ledger.event("opportunity", deal_ids, "stage", stage, t, old=old, new=new, actor=actor)
        old = new


def _lines_table(ch: Chunk, lines: _Lines) -> pa.Table:
    n_lines = sum(len(x) for x in lines.start)
    sub_num = ch.counters.take("subscription", n_lines)
    plan = np.concatenate(lines.plan) if lines.plan else np.zeros(0, dtype=np.int64)
    return canonical(
        "subscriptions",
        {
            "subscription_id": ids("S", sub_num, 9),
            "account_id": pa.concat_arrays(lines.account) if lines.account else pa.array([], pa.string()),
            "opportunity_id": pa.concat_arrays(lines.opportunity) if lines.opportunity else pa.array([], pa.string()),
            "start_date": dates(np.concatenate(lines.start) if lines.start else np.zeros(0), ch.cfg.start),
            "end_date": dates(np.concatenate(lines.end) if lines.end else np.zeros(0), ch.cfg.start),
            "mrr": np.concatenate(lines.mrr) if lines.mrr else np.zeros(0),
            "plan": take(PLANS, plan),
        },
        length=n_lines,
    )


def _renewals_table(ch: Chunk, r: _RenewalDeals) -> pa.Table:
    k = sum(len(x) for x in r.created)
    if not k:
        return canonical("opportunities", {}, length=0)
    created = np.concatenate(r.created)
    closed = np.concatenate(r.closed)
    start = ch.cfg.start
    return canonical(
        "opportunities",
        {
            "opportunity_id": pa.concat_arrays(r.ids),
            "account_id": pa.concat_arrays(r.account),
            "lead_id": pa.nulls(k, pa.string()),
            "owner_id": ch.users(np.concatenate(r.owner)),
            "created_at": timestamps(created, start),
            "close_date": dates(closed, start),
            "closed_at": timestamps(closed, start),
            "stage": pa.array(["closed_won"] * k, pa.string()),
            "is_closed": np.ones(k, dtype=bool),
            "is_won": np.ones(k, dtype=bool),
            "amount": np.concatenate(r.amount),
            "deal_type": pa.array(r.deal_type, pa.string()),
            "segment": take(SEGMENTS, np.concatenate(r.segment)),
            "region": take(REGIONS, np.concatenate(r.region)),
        },
        length=k,
    )


def _replace(values: pa.Array, positions: np.ndarray, new: pa.Array) -> pa.Array:
    out = np.array(values.to_pylist(), dtype=object)
    out[positions] = new.to_pylist()
    return pa.array(out.tolist(), pa.string())
