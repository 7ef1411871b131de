"""Credit lines: who a comp plan credits, for which record, in which period, on which measure, and by how much.

One line is one person's credit from one record (a deal, or a lead's lifecycle event) on one measure of a plan:
``base`` (the deal's amount, or 1 for a counted lead) × ``share`` (the split or overlay share) × ``multiplier`` (the
plan's sourced multiplier for the deal's source group) = ``credit``. Payouts and statements
(:mod:`.payout`) are computed from these lines alone, so a statement can name the record behind every amount, and
the perverse-incentive check (:mod:`.check`) can change one record and recompute.

The records come from Ibis expressions on the canonical tables (filtered on the engine: won or created
new-business deals in the window, the leads' ``sql``/``mql`` events, the accounts' churn dates); only one row per
record reaches pandas, where the plan's credit rules — splits, overlays, multipliers, SPIFs — turn records into
lines. As audited: pass :func:`~revalign.analytics.audit.credit.audited_tables` instead of the tables; the deals
then carry their restored lead sources.

Who is credited:

- deal measures (``credited_new_revenue`` by close date, ``sourced_pipeline`` — deals from sales channels —
  and ``influenced_pipeline`` — deals whose lead had a marketing touch before the deal — by creation date): the
  opportunity owner and, with a ``lead_owner`` split, the lead's owner when that is someone else (else the owner
  takes the whole deal); overlays on top (the owner's manager, or a named person on a team's deals);
- ``team_new_revenue``: every plan member of the deal owner's team, the whole amount, no multiplier (a shared
  north-star component);
- lead measures (``accepted_sqls``, ``mqls``): the lead's owner, once per lead (its first such event).

Only the plan's members (``users.role`` in ``roles`` or ``team_id`` in ``teams``) get lines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.definitions.comp import CompPlan, Measure
from revalign.model.access import Tables

DateLike = str | dt.date | dt.datetime | None

LINE_COLUMNS = (
    "user_id",
    "period",
    "measure",
    "record_type",
    "record_id",
    "occurred_at",
    "role",
    "base",
    "share",
    "multiplier",
    "credit",
    "source",
    "source_group",
    "spif",
    "spif_amount",
    "churned_at",
)
"""The columns of a credit-lines frame (``role``: opportunity_owner, lead_owner, overlay, team or lead_owner)."""

DEAL_KINDS = frozenset({"credited_new_revenue", "sourced_pipeline", "influenced_pipeline", "team_new_revenue"})
LEAD_EVENTS = {"accepted_sqls": "sql", "mqls": "mql"}
"""Lead measure → the lifecycle stage (in the ledger) whose first entry counts."""


@dataclass(frozen=True)
class Records:
    """One row per record a plan may credit: ``deals``, ``leads`` (first sql/mql entry) and the ``people``."""

    deals: pd.DataFrame
    leads: pd.DataFrame
    people: pd.DataFrame


def period_label(when: pd.Series, period: str) -> pd.Series:
    """``2025-Q1`` (quarter) or ``2025-03`` (month) of each timestamp (calendar periods)."""
    ts = pd.to_datetime(when)
    if period == "month":
        return ts.dt.strftime("%Y-%m")
    return ts.dt.year.astype("Int64").astype("string") + "-Q" + ts.dt.quarter.astype("Int64").astype("string")


def period_start(label: str) -> pd.Timestamp:
    """The first day of a :func:`period_label` period."""
    if "-Q" in label:
        year, q = label.split("-Q")
        return pd.Timestamp(int(year), 3 * int(q) - 2, 1)
    return pd.Timestamp(label + "-01")


def next_period_start(label: str) -> pd.Timestamp:
    """The first day of the period after ``label`` (a close date pushed "into the next period" lands there)."""
    months = 3 if "-Q" in label else 1
    return period_start(label) + pd.DateOffset(months=months)


def _bounds(t: ir.Table, column: str, start: DateLike, end: DateLike) -> ir.BooleanValue:
    cond = t[column].notnull()
    if start is not None:
        cond &= t[column] >= pd.Timestamp(start).to_pydatetime()
    if end is not None:
        cond &= t[column] < pd.Timestamp(end).to_pydatetime()
    return cond


def _churn(tables: Tables) -> ir.Table:
    """``account_id, churned_at``: the day after an account's last billed day, for accounts with no active line."""
    s = tables.table("subscriptions")
    g = s.group_by("account_id").aggregate(active=s.end_date.isnull().any(), churned_at=s.end_date.max())
    return g.filter(~g.active).select("account_id", "churned_at")


def deal_records(tables: Tables, plan: CompPlan, *, start: DateLike = None, end: DateLike = None) -> pd.DataFrame:
    """New-business deals won (``closed_at``) or created (``created_at``) in ``[start, end)``, one row each, with the
    lead's owner, whether a marketing touch came before the deal, and the account's churn date."""
    o, leads = tables.table("opportunities"), tables.table("leads")
    o = o.filter(
        (o.deal_type == "new_business") & (_bounds(o, "closed_at", start, end) | _bounds(o, "created_at", start, end))
    )
    lo = leads.select(l_id=leads.lead_id, lead_owner=leads.owner_id)
    tp = tables.table("touchpoints")
    tp = tp.filter(tp.channel.isin(list(plan.credit.marketing_channels)))
    first_touch = tp.group_by(t_id=tp.lead_id).aggregate(first_touch=tp.occurred_at.min())
    churn = _churn(tables).rename(c_account="account_id")
    j = o.left_join(lo, o.lead_id == lo.l_id).left_join(first_touch, o.lead_id == first_touch.t_id)
    j = j.left_join(churn, j.account_id == churn.c_account)
    expr = j.select(
        "opportunity_id",
        "account_id",
        "owner_id",
        "lead_owner",
        "amount",
        "lead_source",
        "segment",
        "created_at",
        "closed_at",
        "is_won",
        influenced=ibis.coalesce(j.first_touch < j.created_at, False),
        churned_at=j.churned_at,
    )
    deals = tables.to_pandas(expr)
    deals["won_in_window"] = deals["is_won"].astype(bool) & _in(deals["closed_at"], start, end)
    deals["created_in_window"] = _in(deals["created_at"], start, end)
    return deals.sort_values("opportunity_id", kind="stable").reset_index(drop=True)


def _in(when: pd.Series, start: DateLike, end: DateLike) -> pd.Series:
    ts = pd.to_datetime(when)
    keep = ts.notna()
    if start is not None:
        keep &= ts >= pd.Timestamp(start)
    if end is not None:
        keep &= ts < pd.Timestamp(end)
    return keep


def lead_records(tables: Tables, *, start: DateLike = None, end: DateLike = None) -> pd.DataFrame:
    """``lead_id, owner_id, stage, occurred_at, score``: each lead's first ``sql`` and first ``mql`` in the window."""
    ledger, leads = tables.table("ledger"), tables.table("leads")
    ev = ledger.filter(
        (ledger.entity_type == "lead") & (ledger.kind == "lifecycle") & ledger.name.isin(list(LEAD_EVENTS.values()))
    )
    first = ev.group_by(e_id=ev.entity_id, stage=ev.name).aggregate(occurred_at=ev.occurred_at.min())
    first = first.filter(_bounds(first, "occurred_at", start, end))
    j = first.join(leads, first.e_id == leads.lead_id)
    return tables.to_pandas(
        j.select(lead_id=j.e_id, owner_id=j.owner_id, stage=j.stage, occurred_at=j.occurred_at, score=j.score)
    )


def people_records(tables: Tables) -> pd.DataFrame:
    """``user_id, role, team_id, manager_id`` (a small dimension table)."""
    u = tables.table("users")
    return tables.to_pandas(u.select("user_id", "role", "team_id", "manager_id"))


def records(tables: Tables, plan: CompPlan, *, start: DateLike = None, end: DateLike = None) -> Records:
    """Everything :func:`lines_from_records` needs, read once."""
    return Records(
        deals=deal_records(tables, plan, start=start, end=end),
        leads=lead_records(tables, start=start, end=end),
        people=people_records(tables),
    )


def members(plan: CompPlan, people: pd.DataFrame) -> pd.Series:
    """The user ids the plan applies to (role in ``roles`` or team in ``teams``)."""
    keep = people["role"].isin(list(plan.roles)) | people["team_id"].isin(list(plan.teams))
    return people.loc[keep, "user_id"]


def _parties(deals: pd.DataFrame, plan: CompPlan, people: pd.DataFrame) -> pd.DataFrame:
    """Deal × credited person: ``opportunity_id, user_id, role, share`` (splits, then overlays on top)."""
    splits = plan.credit.splits
    lead_share = float(splits.get("lead_owner", 0.0))
    other = deals["lead_owner"].notna() & (deals["lead_owner"] != deals["owner_id"]) & (lead_share > 0)
    owner_share = float(splits.get("opportunity_owner", 0.0)) + lead_share * (~other).astype(float)
    parts = [
        pd.DataFrame(
            {
                "opportunity_id": deals["opportunity_id"],
                "user_id": deals["owner_id"],
                "role": "opportunity_owner",
                "share": owner_share,
            }
        ),
        pd.DataFrame(
            {
                "opportunity_id": deals.loc[other, "opportunity_id"],
                "user_id": deals.loc[other, "lead_owner"],
                "role": "lead_owner",
                "share": lead_share,
            }
        ),
    ]
    team = people.set_index("user_id")["team_id"]
    manager = people.set_index("user_id")["manager_id"]
    for o in plan.credit.overlays:
        if o.relation == "manager":
            who = deals["owner_id"].map(manager)
            keep = who.notna()
        else:
            keep = deals["owner_id"].map(team) == o.team
            who = pd.Series(o.user, index=deals.index)
        parts.append(
            pd.DataFrame(
                {
                    "opportunity_id": deals.loc[keep, "opportunity_id"],
                    "user_id": who[keep],
                    "role": "overlay",
                    "share": o.share,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    return out[out["user_id"].notna() & (out["share"] > 0)]


def _spifs(deals: pd.DataFrame, plan: CompPlan) -> pd.DataFrame:
    """``opportunity_id, spif, spif_amount``: the first SPIF each won deal qualifies for (one bonus per deal)."""
    name = pd.Series(pd.NA, index=deals.index, dtype="object")
    amount = pd.Series(0.0, index=deals.index)
    for s in reversed(plan.spifs):  # the first listed wins
        ok = deals["amount"].fillna(0) >= s.min_amount
        if s.segments:
            ok &= deals["segment"].isin(list(s.segments))
        name[ok], amount[ok] = s.name, s.amount
    return pd.DataFrame({"opportunity_id": deals["opportunity_id"], "spif": name, "spif_amount": amount})


def _deal_lines(deals: pd.DataFrame, m: Measure, plan: CompPlan, people: pd.DataFrame, spif: bool) -> pd.DataFrame:
    if m.kind == "credited_new_revenue":
        d, when = deals[deals["won_in_window"]], "closed_at"
    elif m.kind == "sourced_pipeline":
        d, when = (
            deals[deals["created_in_window"] & deals["lead_source"].isin(list(plan.credit.sales_channels))],
            "created_at",
        )
    elif m.kind == "influenced_pipeline":
        d, when = deals[deals["created_in_window"] & deals["influenced"].astype(bool)], "created_at"
    else:
        return _team_lines(deals[deals["won_in_window"]], m, plan, people)
    group = d["lead_source"].map(plan.credit.source_group)
    base = d.assign(occurred_at=d[when], source_group=group, multiplier=group.map(plan.credit.multiplier).astype(float))
    j = _parties(d, plan, people).merge(base, on="opportunity_id")
    if spif and plan.spifs:
        j = j.merge(_spifs(d, plan), on="opportunity_id")
        j.loc[j["role"] == "overlay", ["spif", "spif_amount"]] = [pd.NA, 0.0]
        j["spif_amount"] = j["spif_amount"] * j["share"].where(j["role"] != "overlay", 0.0)
    return _finish(
        j.rename(columns={"opportunity_id": "record_id", "amount": "base", "lead_source": "source"}),
        m,
        "opportunity",
        plan,
    )


def _team_lines(won: pd.DataFrame, m: Measure, plan: CompPlan, people: pd.DataFrame) -> pd.DataFrame:
    team = people.set_index("user_id")["team_id"]
    d = won.assign(team_id=won["owner_id"].map(team), occurred_at=won["closed_at"])
    mates = people.loc[people["user_id"].isin(members(plan, people)), ["user_id", "team_id"]]
    j = d.drop(columns=["owner_id"]).merge(mates, on="team_id")
    j = j.assign(role="team", share=1.0, multiplier=1.0, source_group=j["lead_source"].map(plan.credit.source_group))
    return _finish(
        j.rename(columns={"opportunity_id": "record_id", "amount": "base", "lead_source": "source"}),
        m,
        "opportunity",
        plan,
    )


def _lead_lines(leads: pd.DataFrame, m: Measure, plan: CompPlan) -> pd.DataFrame:
    d = leads[leads["stage"] == LEAD_EVENTS[m.kind]]
    j = d.assign(
        user_id=d["owner_id"],
        record_id=d["lead_id"],
        role="lead_owner",
        base=1.0,
        share=1.0,
        multiplier=1.0,
        source=pd.NA,
        source_group=pd.NA,
        churned_at=pd.NaT,
    )
    return _finish(j, m, "lead", plan)


def _finish(j: pd.DataFrame, m: Measure, record_type: str, plan: CompPlan) -> pd.DataFrame:
    j = j.assign(measure=m.name, record_type=record_type, base=j["base"].fillna(0.0).astype(float))
    for col, empty in (("spif", pd.NA), ("spif_amount", 0.0), ("churned_at", pd.NaT)):
        if col not in j:
            j[col] = empty
    j["credit"] = j["base"] * j["share"].astype(float) * j["multiplier"].astype(float)
    j["period"] = period_label(j["occurred_at"], plan.period)
    return j[list(LINE_COLUMNS)]


def lines_from_records(recs: Records, plan: CompPlan) -> pd.DataFrame:
    """The plan's credit lines (:data:`LINE_COLUMNS`) from ``recs``; pure pandas, so a what-if can edit records."""
    parts = []
    spif_done = False
    for m in plan.measures:
        if m.kind in DEAL_KINDS:
            first_revenue = m.kind == "credited_new_revenue" and not spif_done
            spif_done = spif_done or first_revenue
            parts.append(_deal_lines(recs.deals, m, plan, recs.people, first_revenue))
        else:
            parts.append(_lead_lines(recs.leads, m, plan))
    lines = pd.concat(
        [p for p in parts if not p.empty] or [pd.DataFrame(columns=list(LINE_COLUMNS))], ignore_index=True
    )
    lines = lines[lines["user_id"].isin(members(plan, recs.people))]
    return lines.sort_values(["user_id", "period", "measure", "record_id"], kind="stable").reset_index(drop=True)


def credit_lines(tables: Tables, plan: CompPlan, *, start: DateLike = None, end: DateLike = None) -> pd.DataFrame:
    """The credit lines of ``plan`` over ``[start, end)`` on ``tables`` (as recorded, or as audited)."""
    return lines_from_records(records(tables, plan, start=start, end=end), plan)


__all__ = [
    "DEAL_KINDS",
    "LEAD_EVENTS",
    "LINE_COLUMNS",
    "Records",
    "credit_lines",
    "deal_records",
    "lead_records",
    "lines_from_records",
    "members",
    "next_period_start",
    "people_records",
    "period_label",
    "period_start",
    "records",
]
