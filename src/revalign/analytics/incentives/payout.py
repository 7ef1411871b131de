"""Payouts and line-item statements: what a plan pays each person per period, and why, amount by amount.

From the credit lines (:mod:`.credit`), the plan and the quotas, per person and period, in this order:

1. **measures** — each measure's credit total against its quota: with ``tiers``, marginal tiers over attainment
   (the credit between ``lo × quota`` and ``hi × quota`` earns that tier's rate; a person without a quota earns
   the first tier's rate on all of it); else the flat ``rate``. A measure ``cap`` cuts what is above it;
2. **SPIFs** — the bonus per qualifying deal (times the person's split share);
3. **SLA** — a gate (below the threshold, variable pay is 0) or a modifier (× ``multiplier``), when a compliance
   per person and period is given;
4. **plan cap** — the most the plan pays in a period;
5. **clawbacks** — a won deal whose account churned within ``within_days`` of the close: the deal's credit times
   the rate its measure paid in the period it was credited (earned ÷ credit), taken back in the period of the churn;
6. **draws** — a floor on the period's pay. Non-recoverable: the top-up is a gift. Recoverable: the top-ups are a
   balance taken back from later earnings above the draw.

Every step is a statement line (``line``, ``measure``, ``base``, ``rate``, ``amount``, ``detail``), and a period's
payout is the sum of its lines, so a statement explains every amount. :func:`earnings` stops before draws: it is
what a person *earned*, the quantity the perverse-incentive check compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from revalign.analytics.incentives.credit import members, period_label, period_start
from revalign.analytics.privacy import Viewer, pay_scope, visible_values
from revalign.definitions.comp import REVENUE_KINDS, CompPlan, Measure
from revalign.jsonsafe import records as json_records
from revalign.model.access import Tables

STATEMENT_COLUMNS = ("user_id", "period", "line", "measure", "base", "rate", "amount", "detail")
"""A statement line (``line``: tier, cap, spif, sla, plan_cap, clawback, draw, draw_recovery)."""
COUNT_KINDS = frozenset({"accepted_sqls", "mqls"})
"""Measures that count records (paid per record) rather than sum money (paid a share of it)."""
TOTAL_COLUMNS = ("user_id", "period", "quota", "earned", "draw", "payout")


@dataclass(frozen=True)
class Payouts:
    """One plan's ``statements`` (line items) and ``totals`` (one row per person and period)."""

    plan: str
    version: int
    statements: pd.DataFrame
    totals: pd.DataFrame
    hidden: int = 0
    """Rows left out for privacy (:func:`visible_payouts`)."""

    def to_pandas(self) -> pd.DataFrame:
        return self.totals

    def to_dict(self) -> dict[str, object]:
        return {
            "plan": self.plan,
            "version": self.version,
            "totals": json_records(self.totals),
            "statements": json_records(self.statements),
            "hidden": self.hidden,
        }

    def statement(self, user_id: str, period: str) -> pd.DataFrame:
        """One person's statement for one period, in the order it is computed."""
        s = self.statements
        return s[(s["user_id"] == user_id) & (s["period"] == period)].reset_index(drop=True)


def quota_by_period(tables: Tables, plan: CompPlan) -> pd.DataFrame:
    """``user_id, period, quota``: the quotas table summed into the plan's periods (monthly quotas add up to a
    quarter's; a quarterly quota under a monthly plan is not split, so it stays in its first month)."""
    q = tables.table("quotas")
    frame = tables.to_pandas(q.select("user_id", "period_start", "amount"))
    frame = frame.assign(period=period_label(frame["period_start"], plan.period))
    return frame.groupby(["user_id", "period"], as_index=False)["amount"].sum().rename(columns={"amount": "quota"})


def compliance_by_period(compliance: pd.DataFrame, plan: CompPlan) -> pd.DataFrame:
    """``user_id, period, compliance`` from SLA compliance by owner (``analytics.sla.sla_compliance(by=("owner_id",),
    grain=plan.period)``: ``period`` is the period's first day, ``compliance_rate`` met ÷ due) in the plan's labels.
    A person with no SLA clock in a period has no row, and so no SLA line."""
    frame = compliance.dropna(subset=["owner_id"])
    return pd.DataFrame(
        {
            "user_id": frame["owner_id"].astype(str).to_numpy(),
            "period": period_label(frame["period"], plan.period).to_numpy(),
            "compliance": frame["compliance_rate"].astype(float).to_numpy(),
        }
    )


def _quota(frame: pd.DataFrame, m: Measure, quotas: pd.DataFrame) -> pd.Series:
    if m.quota == "quotas":
        got = frame[["user_id", "period"]].merge(quotas, on=["user_id", "period"], how="left")["quota"]
        return pd.Series(got.to_numpy(dtype=float), index=frame.index)
    return pd.Series(np.nan if m.quota is None else float(m.quota), index=frame.index)


def _tiers(totals: pd.DataFrame, m: Measure, keys: list[str]) -> pd.DataFrame:
    """The measure's tier lines (one per tier with credit in it) for ``totals`` (keys, period, total, quota)."""
    if not m.tiers:
        return totals.assign(line="rate", base=totals["total"], rate=m.rate, detail="flat rate")
    parts, lo = [], 0.0
    quota = totals["quota"]
    no_quota = quota.isna() | (quota <= 0)
    for i, t in enumerate(m.tiers):
        hi = np.inf if t.upto is None else t.upto
        lo_amt, hi_amt = lo * quota, hi * quota
        base = (totals["total"].clip(lower=lo_amt, upper=hi_amt) - lo_amt).where(
            ~no_quota, totals["total"] if i == 0 else 0.0
        )
        span = f"{lo:.0%}–{'' if t.upto is None else f'{hi:.0%}'} of quota"
        detail = np.where(no_quota, "no quota: first tier", span)
        parts.append(totals.assign(line=f"tier {i + 1}", base=base, rate=t.rate, detail=detail))
        lo = hi
    out = pd.concat(parts, ignore_index=True)
    return out[out["base"] > 0]


def _measure_lines(lines: pd.DataFrame, plan: CompPlan, quotas: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Tier and cap lines of every measure, and ``credit``/``earned`` per key, period and measure (for clawbacks)."""
    out = []
    for m in plan.measures:
        mine = lines[lines["measure"] == m.name]
        if mine.empty:
            continue
        totals = mine.groupby([*keys, "period"], as_index=False)["credit"].sum().rename(columns={"credit": "total"})
        totals["quota"] = _quota(totals, m, quotas)
        tier = _tiers(totals, m, keys).assign(measure=m.name)
        tier["amount"] = tier["base"] * tier["rate"]
        if m.kind in COUNT_KINDS:  # money per record, not a share: said in words, the rate column is for shares
            tier["detail"] = tier["detail"] + tier["rate"].map(lambda r: f"; {r:,.2f} per record")
            tier["rate"] = np.nan
        out.append(tier)
        if m.cap is not None:
            earned = tier.groupby([*keys, "period"], as_index=False)["amount"].sum()
            over = earned[earned["amount"] > m.cap]
            out.append(
                over.assign(
                    line="cap",
                    measure=m.name,
                    base=over["amount"],
                    rate=np.nan,
                    amount=m.cap - over["amount"],
                    detail=f"measure cap {m.cap:,.2f}",
                )
            )
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=[*keys, *STATEMENT_COLUMNS[1:]])


def _spif_lines(lines: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    s = lines[lines["spif_amount"] > 0]
    g = s.groupby([*keys, "period", "spif"], as_index=False).agg(
        base=("record_id", "nunique"), amount=("spif_amount", "sum")
    )
    per_deal = (g["amount"] / g["base"]).map(lambda a: f"{a:,.2f} per qualifying deal (after splits)")
    return g.assign(line="spif", measure=g["spif"], rate=np.nan, detail=per_deal)


def _sla_lines(
    variable: pd.DataFrame, plan: CompPlan, compliance: pd.DataFrame | None, keys: list[str]
) -> pd.DataFrame:
    if plan.sla is None or compliance is None:
        return variable.iloc[0:0]
    v = variable.merge(compliance, on=["user_id", "period"], how="inner")
    v = v[v["compliance"] < plan.sla.threshold]
    factor = 0.0 if plan.sla.mode == "gate" else plan.sla.multiplier
    threshold, mode = plan.sla.threshold, plan.sla.mode
    return v.assign(
        line="sla",
        measure=pd.NA,
        base=v["amount"],
        rate=factor,
        amount=v["amount"] * (factor - 1.0),
        detail=v["compliance"].map(lambda c: f"SLA compliance {c:.0%} below {threshold:.0%} ({mode})"),
    )


def _clawback_lines(lines: pd.DataFrame, measured: pd.DataFrame, plan: CompPlan, keys: list[str]) -> pd.DataFrame:
    if plan.clawback is None:
        return measured.iloc[0:0]
    revenue = [m.name for m in plan.measures if m.kind in REVENUE_KINDS]
    c = lines[lines["measure"].isin(revenue) & lines["churned_at"].notna()]
    days = (pd.to_datetime(c["churned_at"]) - pd.to_datetime(c["occurred_at"])).dt.days
    c = c[(days >= 0) & (days <= plan.clawback.within_days)]
    earned = measured.groupby([*keys, "period", "measure"], as_index=False)["amount"].sum()
    credit = lines.groupby([*keys, "period", "measure"], as_index=False)["credit"].sum()
    rate = earned.merge(credit, on=[*keys, "period", "measure"])
    rate["rate"] = (rate["amount"] / rate["credit"]).where(rate["credit"] > 0, 0.0)
    c = c.merge(rate[[*keys, "period", "measure", "rate"]], on=[*keys, "period", "measure"], how="left")
    detail = (
        "deal "
        + c["record_id"].astype(str)
        + " (credited "
        + c["period"].astype(str)
        + ") churned "
        + pd.to_datetime(c["churned_at"]).dt.strftime("%Y-%m-%d")
    )
    return c.assign(
        line="clawback",
        base=c["credit"],
        amount=-c["credit"] * c["rate"].fillna(0.0),
        detail=detail,
        period=period_label(c["churned_at"], plan.period),
    )


def earnings(
    lines: pd.DataFrame,
    plan: CompPlan,
    quotas: pd.DataFrame,
    *,
    keys: Sequence[str] = ("user_id",),
    compliance: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Statement lines before draws (steps 1–5 of the module docstring), grouped by ``keys`` and period.

    ``keys`` may add a scenario column to ``user_id`` (the check runs many what-ifs in one call)."""
    k = list(keys)
    measured = _measure_lines(lines, plan, quotas, k)
    spif = _spif_lines(lines, k)
    variable = pd.concat([measured, spif], ignore_index=True).groupby([*k, "period"], as_index=False)["amount"].sum()
    sla = _sla_lines(variable, plan, compliance, k)
    parts = [measured, spif, sla]
    if plan.cap is not None:
        v = pd.concat([variable, sla], ignore_index=True).groupby([*k, "period"], as_index=False)["amount"].sum()
        over = v[v["amount"] > plan.cap]
        parts.append(
            over.assign(
                line="plan_cap",
                measure=pd.NA,
                base=over["amount"],
                rate=np.nan,
                amount=plan.cap - over["amount"],
                detail=f"plan cap {plan.cap:,.2f}",
            )
        )
    parts.append(_clawback_lines(lines, measured, plan, k))
    cols = [*k, *STATEMENT_COLUMNS[1:]]
    out = pd.concat(
        [p.reindex(columns=cols) for p in parts if not p.empty] or [pd.DataFrame(columns=cols)], ignore_index=True
    )
    return out.astype({"amount": float, "base": float, "rate": float})


def _draws(earned: pd.DataFrame, plan: CompPlan) -> pd.DataFrame:
    """``user_id, period, line, amount`` of the draw top-ups and recoveries, person by person in period order."""
    if plan.draw is None:
        return pd.DataFrame(columns=["user_id", "period", "line", "amount", "detail"])
    rows, floor = [], plan.draw.amount
    for user, g in earned.sort_values(["user_id", "start"]).groupby("user_id", sort=False):
        balance = 0.0
        for period, e in zip(g["period"], g["amount"], strict=True):
            recovery = min(balance, max(e - floor, 0.0)) if plan.draw.recoverable else 0.0
            top_up = max(floor - (e - recovery), 0.0)
            if recovery > 0:
                rows.append((user, period, "draw_recovery", -recovery, f"recovering {balance:,.2f} of earlier draws"))
            if top_up > 0:
                kind = "recoverable" if plan.draw.recoverable else "non-recoverable"
                rows.append((user, period, "draw", top_up, f"{kind} draw up to {floor:,.2f}"))
            balance += (top_up - recovery) if plan.draw.recoverable else 0.0
    return pd.DataFrame(rows, columns=["user_id", "period", "line", "amount", "detail"])


def payouts(
    lines: pd.DataFrame,
    plan: CompPlan,
    quotas: pd.DataFrame,
    *,
    people: pd.DataFrame | None = None,
    compliance: pd.DataFrame | None = None,
) -> Payouts:
    """Statements and totals of ``plan`` from its credit ``lines`` (see the module docstring).

    Periods: every period with a credit line, and, for the plan's members (``people``: the users table's
    ``user_id, role, team_id``), every period of their quotas in which they have no line (the draw still pays)."""
    st = earnings(lines, plan, quotas, compliance=compliance)
    periods = pd.concat([lines[["user_id", "period"]], st[["user_id", "period"]]], ignore_index=True)
    if people is not None and not quotas.empty:
        mine = quotas[quotas["user_id"].isin(members(plan, people))]
        lo, hi = lines["period"].min(), lines["period"].max()
        if isinstance(lo, str):
            mine = mine[(mine["period"] >= lo) & (mine["period"] <= hi)]
        periods = pd.concat([periods, mine[["user_id", "period"]]], ignore_index=True)
    periods = periods.drop_duplicates().reset_index(drop=True)
    earned = periods.merge(st.groupby(["user_id", "period"], as_index=False)["amount"].sum(), how="left").fillna(
        {"amount": 0.0}
    )
    earned["start"] = earned["period"].map(period_start)
    draws = _draws(earned, plan)
    statements = pd.concat([st, draws.reindex(columns=list(STATEMENT_COLUMNS))], ignore_index=True)
    statements = statements.sort_values(["user_id", "period"], kind="stable").reset_index(drop=True)
    totals = _totals(statements, earned, quotas)
    return Payouts(plan.name, plan.version, statements[list(STATEMENT_COLUMNS)], totals)


def _totals(statements: pd.DataFrame, earned: pd.DataFrame, quotas: pd.DataFrame) -> pd.DataFrame:
    is_draw = statements["line"].isin(["draw", "draw_recovery"])
    draw = statements[is_draw].groupby(["user_id", "period"])["amount"].sum().rename("draw")
    t = earned[["user_id", "period", "amount"]].rename(columns={"amount": "earned"})
    t = t.merge(draw, on=["user_id", "period"], how="left")
    t = t.merge(quotas, on=["user_id", "period"], how="left").fillna({"draw": 0.0})
    t["payout"] = t["earned"] + t["draw"]
    return t[list(TOTAL_COLUMNS)].sort_values(["user_id", "period"]).reset_index(drop=True)


def visible_payouts(result: Payouts, tables: Tables, viewer: Viewer) -> Payouts:
    """``result`` cut to what ``viewer`` may see under the pay-privacy rule (:mod:`revalign.analytics.privacy`):
    the person's own statements, their reports' (any depth), everyone's for finance, RevOps and admin."""
    scope = pay_scope(tables, viewer)
    totals = visible_values(result.totals, scope, owner_column="user_id")
    statements = visible_values(result.statements, scope, owner_column="user_id")
    return Payouts(result.plan, result.version, statements.frame, totals.frame, hidden=totals.hidden)


__all__ = [
    "STATEMENT_COLUMNS",
    "TOTAL_COLUMNS",
    "Payouts",
    "compliance_by_period",
    "earnings",
    "payouts",
    "quota_by_period",
    "visible_payouts",
]
