"""Evaluating alert rules: every condition checked, each firing de-duplicated and rate-limited, the outcome logged.

For each firing, in rule order:

1. **Duplicate** — the last alert *sent* for its key (rule + subject + period) had the same state and is younger
   than the rule's ``cooldown``: held back. A changed state (amber → red, 12 → 30 quarantined rows) or an
   expired cooldown sends it again.
2. **Rate limit** — the rule already sent ``rate_limit.max`` alerts within ``rate_limit.per``: held back (it
   goes out on a later evaluation, once the window has room, since nothing was sent for its key).
3. Otherwise it is **sent**: handed to :func:`revalign.alerts.delivery.deliver` and logged with what was delivered.
   An alert whose every channel failed is logged as ``failed`` and does not count as sent, so the next
   evaluation tries again.

A condition that cannot be evaluated (no data yet, a KPI without a target) is reported in
``Evaluation.problems`` and never stops the other rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from revalign.alerts.conditions import CONDITIONS, Condition
from revalign.alerts.firing import Alert, AlertState, Firing, Outcome
from revalign.definitions.alerts import AlertRule
from revalign.errors import RevalignError
from revalign.project import Project

Deliver = Callable[[Alert], Alert]
"""Delivers one logged alert (its ``id`` set) and returns it with ``delivered``/``errors`` filled in (see
:class:`revalign.alerts.delivery.Deliverer`)."""


@dataclass
class Evaluation:
    """One evaluation's decisions: alerts sent, held back (duplicate, rate-limited), failed; and problems."""

    at: dt.datetime
    alerts: list[Alert] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def by_outcome(self, outcome: str) -> list[Alert]:
        return [a for a in self.alerts if a.outcome == outcome]

    @property
    def sent(self) -> list[Alert]:
        return self.by_outcome("sent")

    def to_dict(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "sent": len(self.sent),
            "alerts": [a.to_dict() for a in self.alerts],
            "problems": list(self.problems),
        }


def fire(
    project: Project, rules: Mapping[str, AlertRule], conditions: Mapping[str, Condition] = CONDITIONS
) -> tuple[list[tuple[AlertRule, Firing]], list[str]]:
    """Every firing of every enabled rule, and the rules that could not be evaluated (``name: why``)."""
    out: list[tuple[AlertRule, Firing]] = []
    problems: list[str] = []
    for rule in rules.values():
        if not rule.enabled:
            continue
        try:
            out.extend((rule, f) for f in conditions[rule.condition](project, rule))
        except (RevalignError, ValueError, KeyError) as exc:
            problems.append(f"{rule.name}: {exc}")
    return out, problems


def decide(rule: AlertRule, firing: Firing, state: AlertState, now: dt.datetime, sent_now: int) -> tuple[Outcome, str]:
    """``(outcome, reason)`` for one firing: ``duplicate``, ``rate_limited`` or ``sent`` (see the module docstring)."""
    last = state.last_sent(firing.key)
    if last is not None and last.state == firing.state and now - last.at < rule.cooldown_delta:
        return "duplicate", f"sent {last.at:%Y-%m-%d %H:%M} with the same state; cooldown {rule.cooldown}"
    limit = rule.rate_limit
    if state.sent_count(rule.name, now - limit.window) + sent_now >= limit.max:
        return "rate_limited", f"{limit.max} alerts of {rule.name} per {limit.per} already sent"
    if last is None:
        return "sent", "new"
    return "sent", "changed" if last.state != firing.state else "cooldown over"


def evaluate_alerts(
    project: Project,
    rules: Mapping[str, AlertRule],
    state: AlertState,
    deliver: Deliver | None = None,
    *,
    now: dt.datetime | None = None,
    conditions: Mapping[str, Condition] = CONDITIONS,
) -> Evaluation:
    """Check every rule, decide on each firing, deliver what is sent (``deliver=None``: a dry run that logs
    nothing) and log every decision in ``state``."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    firings, problems = fire(project, rules, conditions)
    result = Evaluation(at=now, problems=problems)
    sent_per_rule: dict[str, int] = {}
    for rule, firing in firings:
        outcome, reason = decide(rule, firing, state, now, sent_per_rule.get(rule.name, 0))
        alert = Alert(firing, outcome, now, rule.audience, tuple(rule.channels), reason)
        if deliver is None:
            result.alerts.append(alert)
            continue
        alert = replace(alert, id=state.record(alert))
        if outcome == "sent":
            alert = deliver(alert)
            if alert.errors and not alert.delivered:
                alert = replace(alert, outcome="failed", reason="; ".join(alert.errors))
            else:
                sent_per_rule[rule.name] = sent_per_rule.get(rule.name, 0) + 1
            state.update(alert)
        result.alerts.append(alert)
    return result


__all__ = ["Deliver", "Evaluation", "decide", "evaluate_alerts", "fire"]
