"""Conditions over the process, not a KPI: SLA clocks of the agreement and the credit audit's findings.

==========================  =========================================================================================
kind                        fires when
==========================  =========================================================================================
``sla_breached``            an owner breached an SLA in the month (one firing per SLA, owner and month, with the
                            count and the worst lateness); ``params.sla``: only that SLA; ``params.since``: months
                            from that date (default: the latest month with a breach, so a first run does not
                            replay years of history); ``threshold``: at least that many breaches (default 1)
``sla_at_risk``             an open clock has used most of its allowance (the agreement's at-risk share): one firing
                            per entity, so the owner can still act before it is due
``audit_finding``           the credit audit finds gaming (default the two headline kinds; ``params.kinds`` to
                            choose): one firing per kind, actor and month with the revenue at stake; ``params.since``
                            as above
==========================  =========================================================================================

The SLA conditions read the project's SLA clocks, which count only the agreement versions the project was told
are signed (:meth:`revalign.project.agreements.AgreementFacade.use_signoff`; ``revalign refresh`` and the
server's scheduled refresh set it from the app state): a proposed version 2 with a stricter threshold raises no
alert until every signatory signed it, like the SLA page and ``revalign sla``.

Grouping breaches and findings per owner and month keeps an alert something a person acts on: 435 breaches in
three years are a few dozen "U0015 breached first touch 7 times in 2025-11" messages, not 435 emails. The
subject of a firing is what the de-duplication keys on, so a month that gains a breach later re-fires once.
"""

from __future__ import annotations

import pandas as pd

from revalign.alerts.firing import Firing, Link
from revalign.analytics.audit.findings import HEADLINE_KINDS
from revalign.definitions.alerts import AlertRule
from revalign.display import format_value
from revalign.project import Project


def _months(stamps: pd.Series, rule: AlertRule) -> pd.Series:
    """Which rows count: from ``params.since`` when given, else those in the latest month present."""
    when = pd.to_datetime(stamps)
    since = rule.params.get("since")
    if since is not None:
        return when >= pd.Timestamp(str(since))
    if when.dropna().empty:
        return pd.Series(False, index=stamps.index)
    latest = when.max().to_period("M")
    return when.dt.to_period("M") == latest


def sla_breached(project: Project, rule: AlertRule) -> list[Firing]:
    """One firing per SLA, owner and month of breaches (see the module docstring)."""
    only = rule.params.get("sla")
    ledger = project.sla_breaches(slas=[str(only)] if only else None)
    if ledger.empty:
        return []
    ledger = ledger[_months(ledger["done_at"], rule)]
    least = int(rule.threshold) if rule.threshold is not None else 1
    out = []
    ledger = ledger.assign(month=pd.to_datetime(ledger["done_at"]).dt.strftime("%Y-%m"))
    for (sla, owner, month), group in ledger.groupby(["sla", "owner_id", "month"], sort=True, dropna=False):
        n = len(group)
        if n < least:
            continue
        worst = float(group["late_hours"].max())
        team = next((str(t) for t in group["team_id"] if pd.notna(t)), "no team")
        who = str(owner) if pd.notna(owner) else "an unknown owner"
        out.append(
            Firing(
                rule=rule.name,
                condition=rule.condition,
                subject=f"{sla}:{who}",
                period=str(month),
                state=str(n),
                severity=rule.severity,
                title=f"SLA {sla} breached {n} time{'s' * (n != 1)} by {who} in {month}",
                message=f"{who} ({team}) missed {sla} {n} time{'s' * (n != 1)} in {month}; the worst was "
                f"{format_value(worst, 'hours')} late.",
                facts={"sla": str(sla), "owner_id": who, "team_id": team, "breaches": n, "worst_hours": worst},
                links=(Link("Breach ledger", f"/sla?owner={who}" if pd.notna(owner) else "/sla"),),
            )
        )
    return out


def sla_at_risk(project: Project, rule: AlertRule) -> list[Firing]:
    """One firing per open clock at risk of breaching, while there is still time to act."""
    items = project.sla_items()
    only = rule.params.get("sla")
    risky = items[(items["status"] == "at_risk") & ((items["sla"] == only) if only else True)]
    out = []
    for row in risky.itertuples(index=False):
        due = pd.Timestamp(row.due_at)
        owner = str(row.owner_id) if pd.notna(row.owner_id) else "an unknown owner"
        out.append(
            Firing(
                rule=rule.name,
                condition=rule.condition,
                subject=f"{row.sla}:{row.entity_id}",
                period=due.date().isoformat(),
                state="at_risk",
                severity=rule.severity,
                title=f"{row.entity_id} is about to breach {row.sla}",
                message=f"{row.entity_id} ({owner}) is due under {row.sla} by {due:%Y-%m-%d %H:%M}.",
                facts={"sla": str(row.sla), "entity_id": str(row.entity_id), "owner_id": owner},
                links=(Link("Open SLA clocks", "/sla"),),
            )
        )
    return out


def audit_finding(project: Project, rule: AlertRule) -> list[Firing]:
    """One firing per finding kind, actor and month (see the module docstring)."""
    kinds = tuple(rule.params.get("kinds") or HEADLINE_KINDS)
    found = project.audit_findings(kinds=kinds)
    if found.empty:
        return []
    found = found[_months(found["occurred_at"], rule)]
    found = found.assign(
        month=pd.to_datetime(found["occurred_at"]).dt.strftime("%Y-%m"), actor=found["actor_id"].fillna("unknown")
    )
    currency = project.settings.currency
    out = []
    for (kind, actor, month), group in found.groupby(["kind", "actor", "month"], sort=True):
        n = len(group)
        stake = float(group.drop_duplicates("opportunity_id")["revenue_at_stake"].fillna(0).sum())
        out.append(
            Firing(
                rule=rule.name,
                condition=rule.condition,
                subject=f"{kind}:{actor}",
                period=str(month),
                state=str(n),
                severity=rule.severity,
                title=f"{n} {str(kind).replace('_', ' ')} finding{'s' * (n != 1)} by {actor} in {month}",
                message=f"{actor}: {n} {str(kind).replace('_', ' ')} finding{'s' * (n != 1)} in {month}, "
                f"{format_value(stake, 'currency', currency=currency)} of won revenue at stake. Review them on "
                "the audit page.",
                facts={"kind": str(kind), "actor_id": str(actor), "findings": n, "revenue_at_stake": stake},
                links=(Link("Audit findings", f"/audit?kind={kind}&actor={actor}"),),
            )
        )
    return out


__all__ = ["audit_finding", "sla_at_risk", "sla_breached"]
