"""What a condition returns (a :class:`Firing`), what the evaluator decides about it (an :class:`Alert`), and the
state it needs to remember (:class:`AlertState`, implemented by the server's state store).

A firing's **key** — rule, subject, period — names one condition: "new revenue off target in 2025-Q2" is one
condition however many times it is evaluated. Its **state** is the short text that says what changed (the
status, the number of quarantined rows); the evaluator sends a key again only when its state differs from the
last alert sent for it, or after the rule's cooldown. Everything here is plain data, so the CLI, the server and a
notebook read alerts the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from revalign.definitions.alerts import Audience

Outcome = Literal["sent", "duplicate", "rate_limited", "failed"]


@dataclass(frozen=True)
class Link:
    """A link in an alert: a label and a server path (``/records?kpi=…``), made absolute when delivered."""

    label: str
    path: str


@dataclass(frozen=True)
class Firing:
    """One condition that holds now: what, how bad, why (the driver that moved) and where to look (links)."""

    rule: str
    condition: str
    subject: str
    period: str
    state: str
    severity: str
    title: str
    message: str
    driver: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    links: tuple[Link, ...] = ()

    @property
    def key(self) -> str:
        """Rule + subject + period: one condition, however often it is evaluated."""
        return f"{self.rule}|{self.subject}|{self.period}"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["key"] = self.key
        out["links"] = [asdict(link) for link in self.links]
        return out


@dataclass(frozen=True)
class Alert:
    """A firing the evaluator decided on: sent (to whom, on which channels) or held back, and why."""

    firing: Firing
    outcome: Outcome
    at: dt.datetime
    audience: Audience = field(default_factory=Audience)
    channels: tuple[str, ...] = ()
    reason: str = ""
    id: int | None = None
    delivered: tuple[str, ...] = ()
    """What was delivered: ``email:<address>``, ``webhook:<name>``, ``inbox:<user>``."""
    errors: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.firing.to_dict(),
            "id": self.id,
            "outcome": self.outcome,
            "at": self.at.isoformat(),
            "audience": self.audience.model_dump(),
            "channels": list(self.channels),
            "reason": self.reason,
            "delivered": list(self.delivered),
            "errors": list(self.errors),
        }


@dataclass(frozen=True)
class SentAlert:
    """What the log remembers of an alert that went out: enough to decide whether to send its key again."""

    key: str
    rule: str
    state: str
    at: dt.datetime


class AlertState(Protocol):
    """The memory the evaluator and the deliverer need; the server's state store implements it
    (:class:`revalign.interfaces.server.state.alerts.AlertStore`)."""

    def last_sent(self, key: str) -> SentAlert | None:
        """The latest alert sent for ``key`` (None: never)."""

    def sent_count(self, rule: str, since: dt.datetime) -> int:
        """How many alerts of ``rule`` were sent at or after ``since``."""

    def record(self, alert: Alert) -> int:
        """Store ``alert`` (any outcome) in the log; returns its id."""

    def update(self, alert: Alert) -> None:
        """Store what delivering logged alert ``alert.id`` did (outcome, delivered, errors)."""

    def inbox_users(self, audience: Audience) -> Sequence[tuple[int, str]]:
        """``(user id, user name)`` of every active user in ``audience`` (by role, name or team)."""

    def add_to_inbox(self, alert_id: int, user_ids: Sequence[int]) -> None:
        """Put alert ``alert_id`` in each user's inbox, unread."""

    def sent_between(self, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
        """Alerts sent in [start, end), newest first, as :meth:`Alert.to_dict` rows (for the digest)."""


__all__ = ["Alert", "AlertState", "Firing", "Link", "Outcome", "SentAlert"]
