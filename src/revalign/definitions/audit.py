"""The audit's tuning: ``audit:`` of ``revalign.yaml``, validated into one typed :class:`AuditSettings`.

Every detector of :mod:`revalign.analytics.audit` reads its windows and thresholds from here, so a RevOps analyst
tunes the audit in the project's YAML without touching code, and a wrong key or value is reported with the file
and line like every other definition. Each default says why it is what it is: they were chosen for what a CRM
team does (commission periods, sync delays) and checked against the simulator's labels (docs/audit.md gives
the precision and recall they reach).

Example::

    audit:
      sales_channels: [outbound_sales]
      no_opportunity_recreate: {window_days: 45, reasons: [no_opportunity]}
      close_date_push: {min_pushes: 2}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from revalign.definitions.issues import Issue, Level, problems
from revalign.definitions.validate import Rule, run_rules
from revalign.definitions.yamlfile import line_of, parse_yaml
from revalign.errors import ConfigError
from revalign.model.tables import CHANNELS

KEY = "audit"
"""The key of ``revalign.yaml`` that holds the audit settings."""

_SALES = ("outbound_sales",)
_NEUTRAL = ("other", "unknown")


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OverwriteSettings(_Part):
    """``lead_source_overwrite``: a lead's source changed after the hand-off."""

    handoff_stages: tuple[str, ...] = Field(
        ("mql",),
        description="Lifecycle stages that hand a lead to sales; a source change after the first of them (or after "
        "the lead's opportunity was created) is an overwrite. Before it, marketing ops may still clean sources.",
    )
    pair_hours: float = Field(
        24.0,
        gt=0,
        description="An opportunity's source change within this many hours of the same change on its lead is the "
        "same overwrite (CRMs copy the lead's source to the opportunity), so it is reported once.",
    )


class RecreateSettings(_Part):
    """``no_opportunity_recreate``: a lead closed as no-opportunity comes back as a new lead or deal."""

    reasons: tuple[str, ...] = Field(
        ("no_opportunity",),
        description="Lifecycle reasons that close a lead as 'no opportunity' (as mapped from the CRM).",
    )
    window_days: float = Field(
        45.0,
        gt=0,
        description="A new lead within this many days of the close is a re-creation. The trick pays only when "
        "the new deal lands in the same commission period, so it happens within weeks; 45 days is a month "
        "and a half (longer than the simulator's 30-day maximum, for slower real teams).",
    )
    match_account: bool = Field(
        False,
        description="Also count a new sales-sourced lead of the same account (another person) as a re-creation. "
        "Off by default: colleagues of a disqualified lead arrive on their own, so an account match alone is "
        "weak evidence (confidence 0.5) and costs precision.",
    )


class DuplicateLeadSettings(_Part):
    """``duplicate_lead``: the same person entered twice."""

    ignore_tags: bool = Field(True, description="Treat 'name+tag@domain' as 'name@domain' (a tag is the same mailbox).")


FREE_EMAIL_DOMAINS = (
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "gmx.com",
    "gmx.de",
    "web.de",
    "proton.me",
    "protonmail.com",
    "mail.com",
    "yandex.ru",
    "qq.com",
    "163.com",
)
"""Mailbox providers: a shared address there says nothing about a shared employer."""


class DuplicateAccountSettings(_Part):
    """``duplicate_account``: the same company entered twice."""

    name_threshold: float = Field(
        80.0,
        ge=0,
        le=100,
        description="RapidFuzz token-set similarity (0–100) of the normalised names of two accounts whose leads share "
        "an email domain. A shared domain is strong evidence already; 80 lets through 'Acme' vs 'Acme Inc.' and "
        "keeps out two firms that only share a word.",
    )
    free_email_domains: tuple[str, ...] = Field(
        FREE_EMAIL_DOMAINS, description="Domains that never tie two accounts together (mailbox providers)."
    )
    max_accounts_per_domain: int = Field(
        5,
        ge=2,
        description="A domain shared by more accounts than this is a reseller's, an agency's or a provider's, not one "
        "company's; it also bounds the candidate pairs scored in memory.",
    )
    match_names_without_domain: bool = Field(
        False,
        description="Also pair accounts whose names are equal once suffixes (Inc, LLC…) are dropped, with no shared "
        "domain. Off by default: distinct companies share names (the simulator's do), so a name alone is weak.",
    )
    name_only_threshold: float = Field(
        95.0, ge=0, le=100, description="Similarity a name-only pair needs (with match_names_without_domain)."
    )


class ClosePushSettings(_Part):
    """``close_date_push``: an opportunity's close date pushed across period ends again and again."""

    min_pushes: int = Field(
        2,
        ge=1,
        description="Pushes into a later quarter before a deal is reported: one slip is forecasting, two or more "
        "is sandbagging or a stale deal kept alive.",
    )


class StageSkipSettings(_Part):
    """``stage_skip``: an opportunity that jumped over stages of the sales process."""

    won_only: bool = Field(
        True,
        description="Report only deals that were won: a skip matters when commission is paid on it; an open deal's "
        "missing stage is usually data-entry lag that the next update fills.",
    )
    deal_types: tuple[str, ...] = Field(
        ("new_business",),
        description="Deal types held to the full sales process; renewals and expansions legitimately run a shorter "
        "one (CRMs, and the simulator, move them from discovery straight to proposal).",
    )


class BackdatedSettings(_Part):
    """``backdated_change``: a change recorded long after the time it claims to have happened."""

    min_delay_days: float = Field(
        3.0,
        gt=0,
        description="Days between when a change says it happened and when revalign learned of it. CRM syncs run "
        "hourly to daily; three days is past any sync delay and a weekend.",
    )
    fields: tuple[str, ...] = Field(
        ("lead_source", "owner_id", "amount", "close_date"),
        description="Field changes that move credit or money; other fields are not reported.",
    )
    stages: tuple[str, ...] = Field(
        ("closed_won",), description="Opportunity stages whose back-dated entry is reported (a back-dated win)."
    )


class OwnerFlipSettings(_Part):
    """``owner_flip_before_close``: a deal handed to another rep just before it is won."""

    days_before_close: float = Field(
        14.0,
        gt=0,
        description="An owner change within this many days before the win. Two weeks is the end of a negotiation: "
        "a change then moves the commission, not the work.",
    )


class AuditSettings(_Part):
    """Every audit setting: channel groups and one block per detector (see each detector's docstring)."""

    marketing_channels: tuple[str, ...] = Field(
        tuple(c for c in CHANNELS if c not in _SALES and c not in _NEUTRAL),
        description="Channels whose credit is marketing's (default: every canonical channel but outbound_sales, "
        "other and unknown).",
    )
    sales_channels: tuple[str, ...] = Field(_SALES, description="Channels whose credit is sales' (self-sourced).")
    lead_source_overwrite: OverwriteSettings = OverwriteSettings()
    no_opportunity_recreate: RecreateSettings = RecreateSettings()
    duplicate_lead: DuplicateLeadSettings = DuplicateLeadSettings()
    duplicate_account: DuplicateAccountSettings = DuplicateAccountSettings()
    close_date_push: ClosePushSettings = ClosePushSettings()
    stage_skip: StageSkipSettings = StageSkipSettings()
    backdated_change: BackdatedSettings = BackdatedSettings()
    owner_flip_before_close: OwnerFlipSettings = OwnerFlipSettings()


class ChannelsDisjoint(Rule[AuditSettings]):
    """A channel cannot be both marketing's and sales': the overwrite detector would not know which way credit moved."""

    name = "channels_disjoint"

    def check(self, subject: AuditSettings) -> Iterable[Issue]:
        both = sorted(set(subject.marketing_channels) & set(subject.sales_channels))
        if both:
            yield Issue(
                Level.ERROR,
                f"channel(s) {', '.join(both)} in both marketing_channels and sales_channels",
                rule=self.name,
                kind="audit",
                path=f"{KEY}.sales_channels",
            )


class ChannelsKnown(Rule[AuditSettings]):
    """Channel names are canonical codes: a typo would silently never match a lead source."""

    name = "channels_known"

    def check(self, subject: AuditSettings) -> Iterable[Issue]:
        for group, channels in (
            ("marketing_channels", subject.marketing_channels),
            ("sales_channels", subject.sales_channels),
        ):
            unknown = [c for c in channels if c not in CHANNELS]
            if unknown:
                yield Issue(
                    Level.ERROR,
                    f"unknown channel(s) {', '.join(unknown)}; canonical channels: {', '.join(CHANNELS)}",
                    rule=self.name,
                    kind="audit",
                    path=f"{KEY}.{group}",
                )


RULES: tuple[Rule[AuditSettings], ...] = (ChannelsDisjoint(), ChannelsKnown())


def _root(file: Path | None) -> Any:
    """The project file read with lines (for file:line in messages); ``None`` when there is none to read."""
    if file is None or not file.exists():
        return None
    try:
        return parse_yaml(file.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None  # settings.load_settings has already reported a file that is not YAML


def check_audit_settings(raw: Mapping[str, Any] | None, file: Path | None = None) -> tuple[AuditSettings, list[Issue]]:
    """The audit settings of ``raw`` (``audit:`` of revalign.yaml) and every problem, with file:line when known."""
    where = str(file) if file is not None else None
    root = _root(file)
    try:
        settings = AuditSettings.model_validate(dict(raw or {}))
    except ValidationError as exc:
        issues = [
            Issue(
                Level.ERROR,
                err["msg"],
                file=where,
                line=line_of(root, (KEY, *err["loc"])) if root is not None else None,
                rule="schema",
                kind="audit",
                path=".".join(str(p) for p in (KEY, *err["loc"])),
            )
            for err in exc.errors()
        ]
        return AuditSettings(), issues
    found = run_rules(settings, RULES)
    located = [
        Issue(
            i.level,
            i.message,
            file=where,
            line=line_of(root, tuple((i.path or KEY).split("."))) if root is not None else None,
            rule=i.rule,
            kind="audit",
            path=i.path,
        )
        for i in found
    ]
    return settings, located


def audit_settings(raw: Mapping[str, Any] | None, file: Path | None = None) -> AuditSettings:
    """Validated audit settings; raises :class:`~revalign.errors.ConfigError` listing every problem (file:line)."""
    settings, issues = check_audit_settings(raw, file)
    if issues:
        raise ConfigError(problems(issues, "the audit settings"))
    return settings


__all__ = [
    "FREE_EMAIL_DOMAINS",
    "KEY",
    "RULES",
    "AuditSettings",
    "BackdatedSettings",
    "ClosePushSettings",
    "DuplicateAccountSettings",
    "DuplicateLeadSettings",
    "OverwriteSettings",
    "OwnerFlipSettings",
    "RecreateSettings",
    "StageSkipSettings",
    "audit_settings",
    "check_audit_settings",
]
