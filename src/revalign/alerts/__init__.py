"""Alerts: rules from ``alerts.yaml`` checked against the project's numbers, sent once per condition by email,
webhook and the in-app inbox; the weekly digest; the scheduled refresh that runs them.

It sits above :mod:`revalign.project` and :mod:`revalign.checks` (a condition reads the whole project, as a check
does) and below the interfaces, which hold the state (the alert log and the inbox live in the app state store)
and pass it in as an :class:`~revalign.alerts.firing.AlertState`.

- :mod:`.conditions` — the condition kinds, ``(project, rule) → [Firing]``, listed in ``CONDITIONS``;
- :mod:`.drivers` — the driver that moved, from the driver-tree decomposition;
- :mod:`.evaluate` — de-duplication (rule + subject + period, state, cooldown) and rate limits;
- :mod:`.messages`, :mod:`.delivery` — text/HTML/email/Slack JSON, and SMTP, webhook and inbox delivery;
- :mod:`.digest` — the weekly digest per role; :mod:`.refresh` — ``revalign refresh`` and its schedule.
"""

from __future__ import annotations

from revalign.alerts.conditions import CONDITIONS, Condition
from revalign.alerts.delivery import Deliverer
from revalign.alerts.digest import Digest, weekly_digest
from revalign.alerts.evaluate import Evaluation, evaluate_alerts
from revalign.alerts.firing import Alert, AlertState, Firing, Link, SentAlert
from revalign.alerts.refresh import RefreshReport, next_run, refresh
from revalign.definitions.alerts import ALERT_FILE, AlertRule, check_alerts
from revalign.definitions.issues import Issue
from revalign.project import Project


def checked_alert_rules(
    project: Project, roles: tuple[str, ...] | None = None
) -> tuple[dict[str, AlertRule], list[Issue]]:
    """The project's valid alert rules (``<project>/alerts.yaml``) and every problem found, file:line.

    Names in the rules must resolve: condition kinds to :data:`CONDITIONS`, KPIs to the catalog, webhooks to
    ``alerts.webhooks`` and, when ``roles`` are given (the server's), roles to them.
    """
    path = project.folder / ALERT_FILE
    if not path.exists():
        return {}, []
    return check_alerts(
        path.read_text(encoding="utf-8"),
        ALERT_FILE,
        kinds=tuple(CONDITIONS),
        kpis=tuple(project.catalog.kpis),
        roles=roles,
        webhooks=tuple(project.settings.alerts.webhooks),
    )


__all__ = [
    "CONDITIONS",
    "Alert",
    "AlertRule",
    "AlertState",
    "Condition",
    "Deliverer",
    "Digest",
    "Evaluation",
    "Firing",
    "Link",
    "RefreshReport",
    "SentAlert",
    "checked_alert_rules",
    "evaluate_alerts",
    "next_run",
    "refresh",
    "weekly_digest",
]
