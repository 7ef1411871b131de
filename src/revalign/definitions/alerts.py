"""Alert rules (``alerts.yaml``): which condition to watch, who hears about it, on which channels, how often.

A rule is data, like a KPI: a *condition* kind with its parameters (``kpi``, ``slice``, ``threshold``,
``target``, ``grain``, free ``params`` for kinds that need more), a ``severity``, an *audience* (roles, user names,
teams, plain email addresses), *channels* (``email``, ``inbox``, ``webhook`` or ``webhook:<name>``) and how often
it may speak (``cooldown``: the same condition is not repeated unless it changes or this long has passed;
``rate_limit``: at most ``max`` alerts of the rule ``per`` window)::

    alerts:
      revenue_off_target:
        condition: kpi_off_target
        kpi: new_revenue
        grain: quarter
        threshold: 0.10          # fire when actual is 10 % or more below target (default: status red)
        severity: critical
        audience: {roles: [leadership, sales], teams: [marketing]}
        channels: [email, inbox, webhook]
        cooldown: 24h
        rate_limit: {max: 5, per: 1d}

The condition kinds are not fixed here: :func:`check_alerts` takes the kinds the evaluator knows
(:data:`revalign.alerts.conditions.CONDITIONS`), so a new kind is one function there and no change here. Every
problem is an :class:`~revalign.definitions.issues.Issue` with file and line, from the one reader
(:mod:`~revalign.definitions.yamlfile`) and the one rule runner (:mod:`~revalign.definitions.validate`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from revalign.definitions.issues import Issue, Level, errors, problems
from revalign.definitions.validate import Rule, run_rules
from revalign.definitions.yamlfile import LineDict, error_line, line_of, parse_yaml
from revalign.errors import CatalogError
from revalign.model.calendar import GRAINS
from revalign.model.tables import DEPARTMENTS

ALERT_FILE = "alerts.yaml"
"""A project's alert rules, beside ``revalign.yaml``."""
CHANNELS = ("email", "inbox", "webhook")
KPI_KINDS = frozenset({"kpi_off_target", "kpi_forecast_miss"})
"""Condition kinds that watch one KPI and so need ``kpi:``."""

Severity = Literal["info", "warning", "critical"]
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """``"90m"``, ``"24h"``, ``"7d"``, ``"1w"`` → a timedelta; ``ValueError`` naming the accepted forms.

    >>> parse_duration("36h")
    datetime.timedelta(days=1, seconds=43200)
    """
    match = _DURATION.match(str(text))
    if match is None:
        raise ValueError(f"a duration must be a number and a unit (s, m, h, d, w), like '24h' or '7d'; got {text!r}")
    return timedelta(seconds=float(match.group(1)) * _SECONDS[match.group(2)])


class Audience(BaseModel):
    """Who hears about an alert: app roles, user names, teams (departments) and plain email addresses."""

    model_config = ConfigDict(extra="forbid")
    roles: list[str] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    emails: list[str] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.roles or self.users or self.teams or self.emails)

    def members(self) -> list[str]:
        """Every role, user and team named (the keys of the address book in ``revalign.yaml``)."""
        return [*self.users, *self.roles, *self.teams]


class RateLimit(BaseModel):
    """At most ``max`` alerts of one rule within ``per`` (a duration); the rest wait for a later evaluation."""

    model_config = ConfigDict(extra="forbid")
    max: int = Field(10, ge=1)
    per: str = "1d"

    @field_validator("per")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def window(self) -> timedelta:
        return parse_duration(self.per)


class AlertRule(BaseModel):
    """One alert rule as written in ``alerts.yaml`` (``line``: where its name is written)."""

    model_config = ConfigDict(extra="forbid")
    name: str
    condition: str
    description: str = ""
    kpi: str | None = None
    slice: dict[str, str] = Field(default_factory=dict, description="Dimension → value the KPI is narrowed to.")
    grain: str = "quarter"
    period: str | None = Field(None, description="A fixed period label; default: the latest with data.")
    threshold: float | None = None
    target: float | None = Field(None, description="A target of the rule's own, instead of the project's.")
    params: dict[str, Any] = Field(default_factory=dict, description="Parameters of other condition kinds.")
    severity: Severity = "warning"
    audience: Audience = Field(default_factory=Audience)
    channels: list[str] = Field(default_factory=lambda: ["inbox"])
    cooldown: str = "24h"
    rate_limit: RateLimit = Field(default_factory=RateLimit)
    enabled: bool = True
    line: int | None = None

    @field_validator("grain")
    @classmethod
    def _grain(cls, value: str) -> str:
        if value not in GRAINS:
            raise ValueError(f"grain must be one of {', '.join(GRAINS)}; got {value!r}")
        return value

    @field_validator("slice")
    @classmethod
    def _slice(cls, value: dict[str, str]) -> dict[str, str]:
        for dim, item in value.items():
            if not dim.isidentifier() or any(q in str(item) for q in "'\"\\"):
                raise ValueError(f"slice {dim}: {item!r}: a dimension name and a plain value (no quotes)")
        return value

    @field_validator("cooldown")
    @classmethod
    def _cooldown(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        for channel in value:
            if channel.split(":", 1)[0] not in CHANNELS:
                raise ValueError(f"channel {channel!r}: use email, inbox, webhook or webhook:<name>")
        return value

    @property
    def cooldown_delta(self) -> timedelta:
        return parse_duration(self.cooldown)

    def webhooks(self, configured: Iterable[str]) -> list[str]:
        """The webhook names this rule posts to: ``webhook`` means every configured one."""
        names: list[str] = []
        for channel in self.channels:
            kind, _, name = channel.partition(":")
            if kind == "webhook":
                names.extend([name] if name else list(configured))
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class AlertFile:
    """What one alerts file holds, with what its rules are checked against."""

    file: str
    rules: dict[str, AlertRule]
    kinds: Collection[str]
    kpis: Collection[str] | None = None
    roles: Collection[str] | None = None
    webhooks: Collection[str] | None = None
    data: Any = None
    found: list[Issue] = field(default_factory=list)


def _issue(af: AlertFile, rule: AlertRule | None, message: str, rule_name: str, level: Level = Level.ERROR) -> Issue:
    return Issue(
        level,
        message,
        file=af.file,
        line=rule.line if rule else 1,
        subject=rule.name if rule else None,
        rule=rule_name,
        kind="alert",
    )


class KnownCondition(Rule[AlertFile]):
    name = "known_condition"

    def check(self, subject: AlertFile) -> Iterable[Issue]:
        for r in subject.rules.values():
            if r.condition not in subject.kinds:
                known = ", ".join(sorted(subject.kinds))
                yield _issue(subject, r, f"unknown condition {r.condition!r}; known: {known}", self.name)


class KpiGiven(Rule[AlertFile]):
    """A KPI condition names a KPI of the catalog."""

    name = "kpi_known"

    def check(self, subject: AlertFile) -> Iterable[Issue]:
        for r in subject.rules.values():
            if r.condition in KPI_KINDS and not r.kpi:
                yield _issue(subject, r, f"condition {r.condition} needs 'kpi:'", self.name)
            elif r.kpi and subject.kpis is not None and r.kpi not in subject.kpis:
                yield _issue(subject, r, f"unknown KPI {r.kpi!r}", self.name)


class AudienceKnown(Rule[AlertFile]):
    """Someone hears the alert, and every role and team named exists."""

    name = "audience"

    def check(self, subject: AlertFile) -> Iterable[Issue]:
        for r in subject.rules.values():
            if r.audience.empty:
                yield _issue(subject, r, "audience is empty: name roles, users, teams or emails", self.name)
            for team in r.audience.teams:
                if team not in DEPARTMENTS:
                    yield _issue(subject, r, f"unknown team {team!r}; known: {', '.join(DEPARTMENTS)}", self.name)
            known = subject.roles
            for role in r.audience.roles if known is not None else ():
                if known is not None and role not in known:
                    yield _issue(subject, r, f"unknown role {role!r}; known: {', '.join(known)}", self.name)


class WebhookKnown(Rule[AlertFile]):
    """A ``webhook:<name>`` channel names a webhook of ``revalign.yaml``; ``webhook`` needs at least one."""

    name = "webhook"

    def check(self, subject: AlertFile) -> Iterable[Issue]:
        if subject.webhooks is None:
            return
        for r in subject.rules.values():
            for channel in r.channels:
                kind, _, name = channel.partition(":")
                if kind != "webhook":
                    continue
                if name and name not in subject.webhooks:
                    yield _issue(subject, r, f"webhook {name!r} is not in revalign.yaml alerts.webhooks", self.name)
                if not name and not subject.webhooks:
                    yield _issue(subject, r, "channel webhook but revalign.yaml has no alerts.webhooks", self.name)


RULES: tuple[Rule[AlertFile], ...] = (KnownCondition(), KpiGiven(), AudienceKnown(), WebhookKnown())


def _read(text: str, file: str) -> tuple[dict[str, AlertRule], list[Issue], Any]:
    """The rules that pass the schema, and the schema problems (file:line)."""
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        return {}, [Issue(Level.ERROR, f"not valid YAML: {exc}", file=file, line=error_line(exc), kind="alert")], None
    if data is None:
        return {}, [], None
    if not isinstance(data, LineDict) or not isinstance(data.get("alerts"), LineDict):
        message = "an alerts file must have a top-level 'alerts:' mapping of rule name → rule."
        return {}, [Issue(Level.ERROR, message, file=file, line=1, rule="structure", kind="alert")], data
    rules: dict[str, AlertRule] = {}
    issues: list[Issue] = []
    for name, body in data["alerts"].items():
        line = data["alerts"].key_lines.get(str(name))  # where the rule's name is written
        if not isinstance(body, dict):
            issues.append(Issue(Level.ERROR, "a rule must be a mapping", file=file, line=line, subject=str(name)))
            continue
        try:
            rules[str(name)] = AlertRule.model_validate({**body, "name": str(name), "line": line})
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                where = line_of(data, ("alerts", name, *loc))
                dotted = ".".join(str(p) for p in (name, *loc))
                issues.append(
                    Issue(Level.ERROR, err["msg"], file=file, line=where, subject=str(name), kind="alert", path=dotted)
                )
    return rules, issues, data


def check_alerts(
    text: str,
    file: str = "<string>",
    *,
    kinds: Collection[str],
    kpis: Collection[str] | None = None,
    roles: Collection[str] | None = None,
    webhooks: Collection[str] | None = None,
) -> tuple[dict[str, AlertRule], list[Issue]]:
    """The valid rules of alerts YAML and every problem found, with file and line (nothing raised).

    ``kinds`` are the condition kinds the evaluator knows; ``kpis``, ``roles`` and ``webhooks`` (the catalog's KPI
    names, the app's roles, the configured webhooks), when given, are what names in the rules must resolve to.
    """
    rules, found, data = _read(text, file)
    subject = AlertFile(file, rules, kinds, kpis, roles, webhooks, data, found)
    issues = run_rules(subject, RULES, found=found)
    bad = {i.subject for i in errors(issues)}
    return {n: r for n, r in rules.items() if n not in bad}, issues


def load_alerts(path: str | Path, **context: Any) -> dict[str, AlertRule]:
    """The rules of ``path`` (none when it does not exist); :class:`CatalogError` listing every error."""
    path = Path(path)
    if not path.exists():
        return {}
    rules, issues = check_alerts(path.read_text(encoding="utf-8"), str(path), **context)
    if errors(issues):
        raise CatalogError(problems(issues, str(path), count=len(errors(issues))), issues)
    return rules


__all__ = [
    "ALERT_FILE",
    "AlertRule",
    "Audience",
    "RateLimit",
    "check_alerts",
    "load_alerts",
    "parse_duration",
]
