"""The perverse-incentive check: how much more a plan pays for each known way of gaming it, on the company's records.

For each gaming action and each record it could be done to, the check applies the action to that one record and
recomputes what the people credited would earn: **gain = earned(after the action) − earned(as is)**, per person
and record (earned = the statement before draws, :func:`~.payout.earnings`; a draw moves cash between periods, not
what the plan pays for). The actions:

- ``relabel_self_sourced`` — strip or overwrite a deal's lead source to a sales channel;
- ``recreate_as_own_lead`` — close the lead as "no opportunity" and re-create it as one's own: the deal becomes
  sales-sourced and the rep is also the lead's owner (takes the SDR's split);
- ``push_close_date`` — a won deal closes on the first day of the next period instead;
- ``split_deal`` — a won deal becomes two deals of half the amount (SPIFs are per deal);
- ``inflate_mqls`` — one more MQL from a low-score lead, per person and period (pays only under an MQL measure);
- ``sandbag_forecast`` — call low to beat the call: no measure reads the forecasts, so it pays nothing here.

An action that changes nothing under the plan has gain 0 and is not flagged. Many scenarios are computed in one
vectorised pass: each scenario's affected person-periods are copied under a scenario key.

The check also flags the **measures not tied to the north star** (activity and vanity measures), and
:func:`gaming_gains` ranks people by what gaming *actually* paid them: payout as recorded − payout as audited
(:func:`~revalign.analytics.audit.credit.audited_tables` undoes the overwritten and re-created sources).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from revalign.analytics.incentives.credit import (
    Records,
    lines_from_records,
    members,
    next_period_start,
    period_label,
    period_start,
)
from revalign.analytics.incentives.payout import Payouts, earnings
from revalign.definitions.comp import CompPlan
from revalign.display.units import format_value
from revalign.jsonsafe import records as json_records

ACTIONS = (
    "relabel_self_sourced",
    "recreate_as_own_lead",
    "push_close_date",
    "split_deal",
    "inflate_mqls",
    "sandbag_forecast",
)
PHRASES = {
    "relabel_self_sourced": "re-labelling deal {record} as self-sourced",
    "recreate_as_own_lead": "closing deal {record}'s lead as no-opportunity and re-creating it as their own",
    "push_close_date": "pushing the close of deal {record} into the next period",
    "split_deal": "splitting deal {record} in two",
    "inflate_mqls": "one more low-score MQL in {record}",
    "sandbag_forecast": "sandbagging the forecast",
}
CENT = 0.005
GAIN_COLUMNS = ("action", "user_id", "record_id", "gain", "sentence")


@dataclass(frozen=True)
class PerverseCheck:
    """``gains`` (action, person, record, gain, sentence; flagged rows only), ``actions`` (one row per action) and
    ``measures`` (each measure, and whether it is flagged as not tied to the north star)."""

    plan: str
    gains: pd.DataFrame
    actions: pd.DataFrame
    measures: pd.DataFrame

    @property
    def flagged(self) -> bool:
        return bool(self.actions["flagged"].any() or self.measures["flagged"].any())

    def to_pandas(self) -> pd.DataFrame:
        return self.gains

    def to_dict(self) -> dict[str, object]:
        return {
            "plan": self.plan,
            "gains": json_records(self.gains),
            "actions": json_records(self.actions),
            "measures": json_records(self.measures),
        }


def _relabel(deals: pd.DataFrame, plan: CompPlan, *, own: bool = False) -> pd.DataFrame:
    cand = deals[
        ~deals["lead_source"].isin(list(plan.credit.sales_channels))
        & (deals["won_in_window"] | deals["created_in_window"])
    ]
    out = cand.assign(lead_source=plan.credit.sales_channels[0] if plan.credit.sales_channels else "outbound_sales")
    return out.assign(lead_owner=out["owner_id"]) if own else out


def _push(deals: pd.DataFrame, plan: CompPlan) -> pd.DataFrame:
    won = deals[deals["won_in_window"]]
    labels = period_label(won["closed_at"], plan.period)
    return won.assign(closed_at=[next_period_start(lb) for lb in labels])


def _split(deals: pd.DataFrame, plan: CompPlan) -> pd.DataFrame:
    won = deals[deals["won_in_window"]]
    halves = [won.assign(opportunity_id=won["opportunity_id"] + f"#{i}", amount=won["amount"] / 2) for i in (1, 2)]
    return pd.concat(halves, ignore_index=True)


DEAL_ACTIONS: dict[str, Callable[[pd.DataFrame, CompPlan], pd.DataFrame]] = {
    "relabel_self_sourced": _relabel,
    "recreate_as_own_lead": lambda d, p: _relabel(d, p, own=True),
    "push_close_date": _push,
    "split_deal": _split,
}


def _scenario_gains(
    base: pd.DataFrame, old: pd.DataFrame, new: pd.DataFrame, plan: CompPlan, quotas: pd.DataFrame
) -> pd.DataFrame:
    """``scenario, user_id, gain``: earnings with ``new`` lines instead of ``old`` ones (both carry ``scenario``),
    over the affected person-periods only."""
    affected = pd.concat([old, new], ignore_index=True)[["scenario", "user_id", "period"]].drop_duplicates()
    context = affected.merge(base, on=["user_id", "period"])
    context = context[context["record_id"] != context["scenario"]]

    def earned(changed: pd.DataFrame) -> pd.Series:
        lines = pd.concat([context, changed], ignore_index=True)
        st = earnings(lines, plan, quotas, keys=("scenario", "user_id"))
        return st.groupby(["scenario", "user_id"])["amount"].sum()

    after, before = earned(new), earned(old)
    gain = after.sub(before, fill_value=0.0).rename("gain").reset_index()
    return gain


def _deal_action(
    action: str, recs: Records, base: pd.DataFrame, plan: CompPlan, quotas: pd.DataFrame
) -> tuple[int, pd.DataFrame]:
    mutated = DEAL_ACTIONS[action](recs.deals, plan)
    ids = mutated["opportunity_id"].str.split("#").str[0]
    new = lines_from_records(Records(mutated, recs.leads.iloc[0:0], recs.people), plan)
    new = new.assign(scenario=new["record_id"].str.split("#").str[0])
    old = base[base["record_id"].isin(set(ids))].assign(scenario=lambda f: f["record_id"])
    gains = _scenario_gains(base, old, new, plan, quotas)
    return ids.nunique(), gains.rename(columns={"scenario": "record_id"})


def _inflate(recs: Records, base: pd.DataFrame, plan: CompPlan, quotas: pd.DataFrame) -> tuple[int, pd.DataFrame]:
    if not any(m.kind == "mqls" for m in plan.measures) or base.empty:
        return 0, pd.DataFrame(columns=["record_id", "user_id", "gain"])
    who = base[["user_id", "period"]].drop_duplicates()
    who = who[who["user_id"].isin(members(plan, recs.people))]
    scenario = who["user_id"] + "@" + who["period"]
    leads = pd.DataFrame(
        {
            "lead_id": scenario,
            "owner_id": who["user_id"],
            "stage": "mql",
            "occurred_at": who["period"].map(period_start),
            "score": 0.0,
        }
    )
    new = lines_from_records(Records(recs.deals.iloc[0:0], leads, recs.people), plan)
    new = new.assign(scenario=new["record_id"])
    gains = _scenario_gains(base, new.iloc[0:0], new, plan, quotas)
    gains["record_id"] = gains["scenario"].str.split("@").str[1]
    return len(who), gains.drop(columns="scenario")


def perverse_incentives(recs: Records, plan: CompPlan, quotas: pd.DataFrame, *, currency: str = "USD") -> PerverseCheck:
    """Every gaming action's gain per person and record under ``plan`` (see the module docstring)."""
    base = lines_from_records(recs, plan)
    rows, found = [], []
    for action in ACTIONS:
        if action in DEAL_ACTIONS:
            n, g = _deal_action(action, recs, base, plan, quotas)
        elif action == "inflate_mqls":
            n, g = _inflate(recs, base, plan, quotas)
        else:
            n, g = 0, pd.DataFrame(columns=["record_id", "user_id", "gain"])
        g = g[g["gain"] > CENT].assign(action=action)
        found.append(g)
        rows.append(
            {
                "action": action,
                "records": n,
                "flagged_records": int(g["record_id"].nunique()),
                "total_gain": float(g["gain"].sum()),
                "max_gain": float(g["gain"].max()) if len(g) else 0.0,
                "flagged": bool(len(g)),
            }
        )
    gains = pd.concat(
        [f for f in found if not f.empty] or [pd.DataFrame(columns=list(GAIN_COLUMNS))], ignore_index=True
    )
    gains["sentence"] = [
        f"this plan pays {u} {format_value(x, 'currency', currency=currency)} more for " + PHRASES[a].format(record=r)
        for a, u, r, x in zip(gains["action"], gains["user_id"], gains["record_id"], gains["gain"], strict=True)
    ]
    gains = gains[list(GAIN_COLUMNS)].sort_values(["action", "gain", "record_id"], ascending=[True, False, True])
    measures = pd.DataFrame(
        [
            {
                "measure": m.name,
                "kind": m.kind,
                "north_star": m.north_star,
                "weight": m.weight,
                "flagged": not m.north_star,
            }
            for m in plan.measures
        ]
    )
    return PerverseCheck(plan.name, gains.reset_index(drop=True), pd.DataFrame(rows), measures)


def gaming_gains(recorded: Payouts, audited: Payouts) -> pd.DataFrame:
    """``user_id, payout_recorded, payout_audited, gained, rank``: each person's payout as recorded and as audited
    over the same periods, and what gaming actually paid them (recorded − audited), largest first."""
    rec = recorded.totals.groupby("user_id")["payout"].sum().rename("payout_recorded")
    aud = audited.totals.groupby("user_id")["payout"].sum().rename("payout_audited")
    out = pd.concat([rec, aud], axis=1).fillna(0.0)
    out["gained"] = out["payout_recorded"] - out["payout_audited"]
    out = (
        out.sort_values(["gained", "payout_recorded"], ascending=False)
        .reset_index()
        .rename(columns={"index": "user_id"})
    )
    out["rank"] = range(1, len(out) + 1)
    return out


__all__ = ["ACTIONS", "GAIN_COLUMNS", "PHRASES", "PerverseCheck", "gaming_gains", "perverse_incentives"]
