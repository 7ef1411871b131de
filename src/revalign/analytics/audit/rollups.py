"""Roll-ups of audit findings: per rep (the actor), per team, per quarter, and a trend per kind.

Gaming is a pattern of people, not of records: the story behind issue #14 is two reps doing most of the
overwrites. These tables say who, in which team, and whether it is growing. They read the findings table (small:
one row per finding) and the ``users`` and ``teams`` dimension tables, so everything here is plain pandas.

Counting rules:

- dismissed findings are left out (a reviewer said they are not gaming); ``confirmed`` counts the reviewed ones;
- ``revenue_at_stake`` sums each opportunity once per row of a roll-up, even when two findings point at it (a
  lead's and its opportunity's overwrite), so the money is never counted twice;
- a finding whose actor the source does not say is rolled up under actor ``unknown`` (and team ``unknown``):
  dropping it would understate the problem.
- quarters are the project's fiscal quarters of ``occurred_at`` (when it happened, not when it was loaded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pandas as pd

from revalign.analytics.audit.credit import finding_statuses
from revalign.analytics.audit.findings import FINDING_KINDS, HEADLINE_KINDS
from revalign.analytics.people import people
from revalign.model.access import Tables
from revalign.model.calendar import period_label, period_start

UNKNOWN: Final = "unknown"
COUNT_COLUMNS: Final = ("findings", "headline_findings", "confirmed", "won_deals", "revenue_at_stake")


@dataclass(frozen=True)
class AuditRollups:
    """The findings rolled up: ``by_actor``, ``by_team``, ``by_quarter`` and ``trend`` (kind × quarter)."""

    by_actor: pd.DataFrame
    by_team: pd.DataFrame
    by_quarter: pd.DataFrame
    trend: pd.DataFrame

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {name: frame.to_dict("records") for name, frame in self.tables().items()}

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"by_actor": self.by_actor, "by_team": self.by_team, "by_quarter": self.by_quarter, "trend": self.trend}


def _counts(f: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Per ``keys``: findings, headline findings, confirmed, won deals and revenue at stake (each deal once)."""
    keys = list(keys)
    g = f.groupby(keys, dropna=False)
    out = pd.DataFrame(
        {
            "findings": g.size(),
            "headline_findings": g["kind"].agg(lambda k: int(k.isin(HEADLINE_KINDS).sum())),
            "confirmed": g["status"].agg(lambda s: int((s == "confirmed").sum())),
        }
    )
    deals = f[f["opportunity_id"].notna() & (f["revenue_at_stake"].fillna(0.0) > 0)]
    deals = deals.drop_duplicates([*keys, "opportunity_id"]).groupby(keys, dropna=False)["revenue_at_stake"]
    out["won_deals"] = deals.size().reindex(out.index).fillna(0)
    out["revenue_at_stake"] = deals.sum().reindex(out.index).fillna(0.0)
    out = out.reset_index()
    for col in ("findings", "headline_findings", "confirmed", "won_deals"):
        out[col] = out[col].astype("int64")
    out["revenue_at_stake"] = out["revenue_at_stake"].astype("float64")
    return out


def _prepared(findings: pd.DataFrame, decisions: Mapping[str, str] | None, fiscal_start: int) -> pd.DataFrame:
    f = findings.assign(status=finding_statuses(findings, decisions).to_numpy())
    f = f[f["status"] != "dismissed"].copy()
    f["actor_id"] = f["actor_id"].astype("object").where(f["actor_id"].notna(), UNKNOWN)
    days = pd.to_datetime(f["occurred_at"]).dt.date
    labels = {d: period_label(period_start(d, "quarter", fiscal_start), "quarter", fiscal_start) for d in set(days)}
    f["quarter"] = days.map(labels)
    return f


def audit_rollups(
    tables: Tables,
    findings: pd.DataFrame,
    decisions: Mapping[str, str] | None = None,
    *,
    fiscal_year_start_month: int = 1,
) -> AuditRollups:
    """Roll ``findings`` (a :data:`~revalign.analytics.audit.findings.FINDING_COLUMNS` frame) up per actor, team,
    quarter, and kind × quarter, leaving out findings ``decisions`` dismissed; see the module docstring.

    ``by_actor`` and ``by_team`` are sorted by revenue at stake then findings, most first (who to talk to first);
    ``by_quarter`` and ``trend`` by quarter (and kind, in :data:`FINDING_KINDS` order).
    """
    f = _prepared(findings, decisions, fiscal_year_start_month)
    f = f.merge(people(tables), on="actor_id", how="left")
    f["team_id"] = f["team_id"].astype("object").where(f["team_id"].notna(), UNKNOWN)
    f["team"] = f["team"].astype("object").where(f["team"].notna(), f["team_id"])
    f["name"] = f["name"].astype("object").where(f["name"].notna(), f["actor_id"])
    most = ["revenue_at_stake", "findings"]
    by_actor = _counts(f, ["actor_id", "name", "team"]).sort_values(most, ascending=False, kind="stable")
    by_team = _counts(f, ["team_id", "team"]).sort_values(most, ascending=False, kind="stable")
    by_quarter = _counts(f, ["quarter"]).sort_values("quarter", kind="stable")
    trend = _counts(f, ["kind", "quarter"])[
        ["kind", "quarter", "findings", "confirmed", "won_deals", "revenue_at_stake"]
    ]
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    trend = trend.sort_values(["kind", "quarter"], key=lambda s: s.map(order) if s.name == "kind" else s, kind="stable")
    return AuditRollups(
        by_actor=by_actor.reset_index(drop=True),
        by_team=by_team.reset_index(drop=True),
        by_quarter=by_quarter.reset_index(drop=True),
        trend=trend.reset_index(drop=True),
    )


__all__ = ["COUNT_COLUMNS", "UNKNOWN", "AuditRollups", "audit_rollups"]
