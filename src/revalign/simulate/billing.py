"""Subscriptions after a won deal: annual terms, renewals, mid-term expansions and churn.

Each won new-business deal starts a subscription line (MRR = amount / 12). In every contract year the customer
may expand (the line ends and a new one with a higher MRR starts, with a closed-won expansion deal); at each
anniversary it churns (the line ends, nothing follows) or renews (a new line with the same MRR, with a
closed-won renewal deal). Lines still running at the simulation end have no end date.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from revalign.simulate.company import Calendar, Org
from revalign.simulate.config import REGIONS, SEGMENTS, SimulationConfig
from revalign.simulate.ledger import LedgerBuilder
from revalign.simulate.writer import canonical, dates, ids, take, timestamps

PLANS = ("starter", "growth", "enterprise")


def subscriptions(
    cfg: SimulationConfig,
    cal: Calendar,
    org: Org,
    counters,
    rng: np.random.Generator,
    ledger: LedgerBuilder,
    *,
    acc_ids: pa.Array,
    seg: np.ndarray,
    owner: np.ndarray,
    t_close: np.ndarray,
    customer: np.ndarray,
    amount: np.ndarray,
    opp_ids: pa.Array,
    region: np.ndarray,
) -> tuple[pa.Table, pa.Table, np.ndarray]:
    """Subscription lines and the expansion/renewal opportunities; also won new-business amount per quarter."""
    as_of = float(cal.days)
    won_q = np.zeros(cal.n_quarters)
    c = np.flatnonzero(customer)
    q = cal.quarter[np.clip(np.floor(t_close[c]).astype(int), 0, cal.days - 1)]
    np.add.at(won_q, q, amount[c])

    start = np.floor(t_close[c])
    line_start = start.copy()
    mrr = np.round(amount[c] / 12.0, 2)
    line_opp = opp_ids.take(pa.array(c))
    alive = np.ones(len(c), dtype=bool)
    out_acc, out_opp, out_start, out_end, out_mrr, out_plan = [], [], [], [], [], []
    extra: dict[str, list] = {
        "ids": [],
        "acc": [],
        "owner": [],
        "created": [],
        "closed": [],
        "amount": [],
        "type": [],
        "seg": [],
        "region": [],
        "row": [],
    }

    def emit(sel: np.ndarray, end: np.ndarray) -> None:
        out_acc.append(acc_ids.take(pa.array(c[sel])))
        out_opp.append(line_opp.take(pa.array(sel)))
        out_start.append(line_start[sel])
        out_end.append(end)
        out_mrr.append(mrr[sel])
        out_plan.append(seg[c[sel]])

    def deals(sel: np.ndarray, created: np.ndarray, closed: np.ndarray, value: np.ndarray, kind: str) -> pa.Array:
        num = counters.take("opportunity", len(sel))
        deal_ids = ids("O", num, 9)
        extra["ids"].append(deal_ids)
        extra["acc"].append(acc_ids.take(pa.array(c[sel])))
        extra["owner"].append(owner[c[sel]])
        extra["created"].append(created)
        extra["closed"].append(closed)
        extra["amount"].append(value)
        extra["type"] += [kind] * len(sel)
        extra["seg"].append(seg[c[sel]])
        extra["region"].append(region[c[sel]])
        actor = take(org.user_ids.tolist(), owner[c[sel]])
        none = pa.nulls(len(sel), pa.string())
        ledger.event(
            "opportunity",
            deal_ids,
            "stage",
            "discovery",
            created,
            old=none,
            new=pa.array(["discovery"] * len(sel)),
            actor=actor,
        )
        mid = created + 0.5 * (closed - created)
        ledger.event(
            "opportunity",
            deal_ids,
            "stage",
            "proposal",
            mid,
            old=pa.array(["discovery"] * len(sel)),
            new=pa.array(["proposal"] * len(sel)),
            actor=actor,
        )
        ledger.event(
            "opportunity",
            deal_ids,
            "stage",
            "closed_won",
            closed,
            old=pa.array(["proposal"] * len(sel)),
            new=pa.array(["closed_won"] * len(sel)),
            actor=actor,
        )
        return deal_ids

    exp_rate = np.asarray(cfg.expansion_rate)[seg[c]]
    churn_rate = np.asarray(cfg.churn_rate)[seg[c]]
    churned = np.zeros(len(c), dtype=bool)
    for year in range(int(np.ceil(cfg.days / 365)) + 1):
        term = start + 365.0 * year
        anniversary = term + 365.0
        alive = ~churned & (term < as_of)
        # expansion inside the contract year
        t_e = np.floor(term + rng.uniform(60.0, 300.0, len(c)))
        sel = np.flatnonzero(alive & (rng.random(len(c)) < exp_rate) & (t_e < np.minimum(anniversary, as_of)))
        if len(sel):
            emit(sel, t_e[sel])
            new_mrr = np.round(mrr[sel] * rng.uniform(1.1, 1.6, len(sel)), 2)
            created = t_e[sel] - rng.uniform(10.0, 30.0, len(sel))
            deal_ids = deals(sel, created, t_e[sel] + 10 / 24, np.round((new_mrr - mrr[sel]) * 12, 2), "expansion")
            line_start[sel] = t_e[sel]
            mrr[sel] = new_mrr
            line_opp = _replace(line_opp, sel, deal_ids)
        # anniversary: churn or renew
        due = alive & (anniversary < as_of)
        churn = due & (rng.random(len(c)) < churn_rate)
        sel = np.flatnonzero(churn)
        emit(sel, anniversary[sel])
        churned |= churn
        sel = np.flatnonzero(due & ~churn)
        if len(sel):
            emit(sel, anniversary[sel])
            created = anniversary[sel] - rng.uniform(20.0, 60.0, len(sel))
            deal_ids = deals(sel, created, anniversary[sel] - 1.0 + 15 / 24, np.round(mrr[sel] * 12, 2), "renewal")
            line_start[sel] = anniversary[sel]
            line_opp = _replace(line_opp, sel, deal_ids)
    sel = np.flatnonzero(~churned)  # lines still running at the end
    emit(sel, np.full(len(sel), np.nan))

    n_lines = sum(len(x) for x in out_start)
    sub_num = counters.take("subscription", n_lines)
    plan = np.concatenate(out_plan) if out_plan else np.zeros(0, dtype=np.int64)
    subs = canonical(
        "subscriptions",
        {
            "subscription_id": ids("S", sub_num, 9),
            "account_id": pa.concat_arrays(out_acc) if out_acc else pa.array([], pa.string()),
            "opportunity_id": pa.concat_arrays(out_opp) if out_opp else pa.array([], pa.string()),
            "start_date": dates(np.concatenate(out_start) if out_start else np.zeros(0), cfg.start),
            "end_date": dates(np.concatenate(out_end) if out_end else np.zeros(0), cfg.start),
            "mrr": np.concatenate(out_mrr) if out_mrr else np.zeros(0),
            "plan": take(PLANS, plan),
        },
        length=n_lines,
    )
    k = sum(len(x) for x in extra["created"])
    if k:
        created = np.concatenate(extra["created"])
        closed = np.concatenate(extra["closed"])
        deal_ids = pa.concat_arrays(extra["ids"])
        opps = canonical(
            "opportunities",
            {
                "opportunity_id": deal_ids,
                "account_id": pa.concat_arrays(extra["acc"]),
                "lead_id": pa.nulls(k, pa.string()),
                "owner_id": take(org.user_ids.tolist(), np.concatenate(extra["owner"])),
                "created_at": timestamps(created, cfg.start),
                "close_date": dates(closed, cfg.start),
                "closed_at": timestamps(closed, cfg.start),
                "stage": pa.array(["closed_won"] * k, pa.string()),
                "is_closed": np.ones(k, dtype=bool),
                "is_won": np.ones(k, dtype=bool),
                "amount": np.concatenate(extra["amount"]),
                "deal_type": pa.array(extra["type"], pa.string()),
                "segment": take(SEGMENTS, np.concatenate(extra["seg"])),
                "region": take(REGIONS, np.concatenate(extra["region"])),
            },
            length=k,
        )
    else:
        opps = canonical("opportunities", {}, length=0)
    return subs, opps, won_q


def _replace(values: pa.Array, positions: np.ndarray, new: pa.Array) -> pa.Array:
    out = np.array(values.to_pylist(), dtype=object)
    out[positions] = new.to_pylist()
    return pa.array(out.tolist(), pa.string())
