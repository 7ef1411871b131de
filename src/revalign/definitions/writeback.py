"""What ``revalign writeback`` writes to the CRM: ``writeback:`` of ``revalign.yaml``, validated into one typed
:class:`WritebackSettings`.

Sales works in the CRM, so the numbers revalign agrees on (the lead score, the deal's source as audited, the share
of a deal's credit that is marketing's) have to be visible there. Which revalign value lands in which CRM field is
the org admin's choice (custom fields are named per org), so it is a definition kept with the project and
reported with file:line like every other one. Every key has a default; ``null`` for a field leaves that value
out. Example::

    writeback:
      score_model: lead_score          # whose latest applied run is written (default: the first model by name)
      credit_model: w_shaped           # a rule model: each touch's weight is known (default: comp's model of record)
      salesforce:
        batch_size: 200
        fields:
          lead_score: Lead.Revalign_Score__c
          audited_source: Opportunity.Revalign_Audited_Source__c
          marketing_credit: null       # not written
      hubspot:
        fields:
          audited_source: deals.audited_source   # type.property: contacts.…, deals.…
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from revalign.definitions.issues import Issue, Level, problems
from revalign.definitions.validate import Rule, run_rules
from revalign.definitions.yamlfile import line_of, parse_yaml
from revalign.errors import ConfigError

KEY: Final = "writeback"
"""The key of ``revalign.yaml`` that holds the write-back settings."""

Entity = Literal["lead", "opportunity"]

VALUE_ENTITIES: Final[dict[str, Entity]] = {
    "lead_score": "lead",
    "audited_source": "opportunity",
    "marketing_credit": "opportunity",
}
"""Each value revalign can write back, and whose record it belongs to (its id is the record's CRM id)."""

SALESFORCE_OBJECTS: Final[dict[Entity, str]] = {"lead": "Lead", "opportunity": "Opportunity"}
"""The Salesforce object holding each entity's records (a lead's value cannot go to an Opportunity field)."""

SALESFORCE_FIELDS: Final = {
    "lead_score": "Lead.Revalign_Score__c",
    "audited_source": "Opportunity.Revalign_Audited_Source__c",
    "marketing_credit": "Opportunity.Revalign_Marketing_Credit__c",
}
"""The default target of each value: custom fields named as docs/writeback.md's setup creates them."""

HUBSPOT_OBJECTS: Final[dict[Entity, str]] = {"lead": "contacts", "opportunity": "deals"}
"""The HubSpot object type holding each entity's records (the sync loads contacts as leads, deals as opportunities)."""

HUBSPOT_FIELDS: Final = {
    "lead_score": "contacts.revalign_score",
    "audited_source": "deals.revalign_audited_source",
    "marketing_credit": "deals.revalign_marketing_credit",
}
"""The default HubSpot property of each value, as docs/writeback.md's setup creates them (``type.property``)."""

_TARGET = re.compile(r"^(?P<object>[A-Za-z][A-Za-z0-9_]*)\.(?P<field>[A-Za-z][A-Za-z0-9_]*)$")


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SalesforceWriteback(_Part):
    """``writeback.salesforce``: where each value lands, and how many records one request updates."""

    fields: dict[str, str | None] = Field(
        default_factory=lambda: dict[str, str | None](SALESFORCE_FIELDS),
        description="Value → ``Object.Field`` (null: not written). Values left out keep their default field.",
    )
    batch_size: int = Field(
        200, ge=1, le=200, description="Records per update request (the composite collections API takes 200 at most)."
    )

    def targets(self) -> dict[str, tuple[str, str]]:
        """Each value written → (object, field), defaults filled in and ``null`` ones left out."""
        return _targets(SALESFORCE_FIELDS, self.fields)


class HubSpotWriteback(_Part):
    """``writeback.hubspot``: which property of contacts and deals each value lands in, and the batch size."""

    fields: dict[str, str | None] = Field(
        default_factory=lambda: dict[str, str | None](HUBSPOT_FIELDS),
        description="Value → ``type.property`` (``contacts.…``, ``deals.…``; null: not written). Values left out "
        "keep their default property.",
    )
    batch_size: int = Field(
        100, ge=1, le=100, description="Records per batch update request (HubSpot's batch API takes 100 at most)."
    )

    def targets(self) -> dict[str, tuple[str, str]]:
        """Each value written → (object type, property), defaults filled in and ``null`` ones left out."""
        return _targets(HUBSPOT_FIELDS, self.fields)


def _targets(defaults: Mapping[str, str], fields: Mapping[str, str | None]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for value, target in {**defaults, **fields}.items():
        match = _TARGET.match(target or "")
        if match is not None:
            out[value] = (match["object"], match["field"])
    return out


class WritebackSettings(_Part):
    """Every write-back setting: which model's numbers are written, and where, per CRM."""

    score_model: str | None = Field(
        None, description="Scoring model whose latest applied run is written (default: the first model by name)."
    )
    score_version: int | None = Field(None, ge=1, description="Its version (default: the newest applied).")
    credit_model: str | None = Field(
        None,
        description="Rule attribution model for the marketing credit (default: the compensation model of record). "
        "A rule model, because its per-touch weights make a per-deal share; Markov and Shapley credit channels, "
        "not deals.",
    )
    credit_conversion: Literal["opportunity", "won"] = Field(
        "opportunity",
        description="Journeys end at the deal's creation (every deal gets a share) or at its win (won deals only).",
    )
    lookback_days: int = Field(90, gt=0, description="Touches up to this many days before the conversion count.")
    salesforce: SalesforceWriteback = SalesforceWriteback()
    hubspot: HubSpotWriteback = HubSpotWriteback()

    def crms(self) -> dict[str, tuple[SalesforceWriteback | HubSpotWriteback, dict[str, str], dict[Entity, str]]]:
        """Each CRM's part, with its default targets and the object holding each entity (what the rules check)."""
        return {
            "salesforce": (self.salesforce, SALESFORCE_FIELDS, SALESFORCE_OBJECTS),
            "hubspot": (self.hubspot, HUBSPOT_FIELDS, HUBSPOT_OBJECTS),
        }


class TargetsWellFormed(Rule[WritebackSettings]):
    """A target is ``Object.Field`` of a value revalign knows, on the object holding that value's records."""

    name = "writeback_targets"

    def check(self, subject: WritebackSettings) -> Iterable[Issue]:
        for crm, (part, defaults, objects) in subject.crms().items():
            for value, target in part.fields.items():
                yield from self._target(value, target, defaults, objects, f"{KEY}.{crm}.fields.{value}")

    def _target(
        self, value: str, target: str | None, defaults: Mapping[str, str], objects: Mapping[Entity, str], path: str
    ) -> Iterable[Issue]:
        if value not in VALUE_ENTITIES:
            known = ", ".join(VALUE_ENTITIES)
            yield _issue(f"unknown value {value!r}; revalign writes back {known}", self.name, path)
            return
        if target is None:
            return
        match = _TARGET.match(target)
        if match is None:
            yield _issue(f"{target!r} is not Object.Field (e.g. {defaults[value]})", self.name, path)
            return
        expected = objects[VALUE_ENTITIES[value]]
        if match["object"] != expected:
            yield _issue(
                f"{value} belongs to a {VALUE_ENTITIES[value]}: its field must be on {expected}, not {match['object']}",
                self.name,
                path,
            )


class TargetsDistinct(Rule[WritebackSettings]):
    """Two values written to one field would overwrite each other on every run: the plan would never settle."""

    name = "writeback_distinct"

    def check(self, subject: WritebackSettings) -> Iterable[Issue]:
        for crm, (part, _, _) in subject.crms().items():
            seen: dict[tuple[str, str], str] = {}
            for value, target in part.targets().items():
                if target in seen:
                    yield _issue(
                        f"{value} and {seen[target]} are both written to {'.'.join(target)}",
                        self.name,
                        f"{KEY}.{crm}.fields.{value}",
                    )
                seen[target] = value


RULES: tuple[Rule[WritebackSettings], ...] = (TargetsWellFormed(), TargetsDistinct())


def _issue(message: str, rule: str, path: str) -> Issue:
    return Issue(Level.ERROR, message, rule=rule, kind="writeback", path=path)


def _root(file: Path | None) -> Any:
    """The project file read with lines (for file:line in messages); ``None`` when there is none to read."""
    if file is None or not file.exists():
        return None
    try:
        return parse_yaml(file.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None  # settings.load_settings has already reported a file that is not YAML


def check_writeback_settings(
    raw: Mapping[str, Any] | None, file: Path | None = None
) -> tuple[WritebackSettings, list[Issue]]:
    """The write-back settings of ``raw`` (``writeback:`` of revalign.yaml) and every problem, with file:line."""
    where = str(file) if file is not None else None
    root = _root(file)
    try:
        settings = WritebackSettings.model_validate(dict(raw or {}))
    except ValidationError as exc:
        schema = [_issue(e["msg"], "schema", ".".join(str(p) for p in (KEY, *e["loc"]))) for e in exc.errors()]
        return WritebackSettings(), [_located(i, where, root) for i in schema]
    return settings, [_located(i, where, root) for i in run_rules(settings, RULES)]


def _located(issue: Issue, where: str | None, root: Any) -> Issue:
    line = line_of(root, tuple((issue.path or KEY).split("."))) if root is not None else None
    return Issue(issue.level, issue.message, file=where, line=line, rule=issue.rule, kind="writeback", path=issue.path)


def writeback_settings(raw: Mapping[str, Any] | None, file: Path | None = None) -> WritebackSettings:
    """Validated write-back settings; raises :class:`~revalign.errors.ConfigError` listing every problem."""
    settings, issues = check_writeback_settings(raw, file)
    if issues:
        raise ConfigError(problems(issues, "the write-back settings"))
    return settings


__all__ = [
    "HUBSPOT_FIELDS",
    "HUBSPOT_OBJECTS",
    "KEY",
    "RULES",
    "SALESFORCE_FIELDS",
    "SALESFORCE_OBJECTS",
    "VALUE_ENTITIES",
    "HubSpotWriteback",
    "SalesforceWriteback",
    "WritebackSettings",
    "check_writeback_settings",
    "writeback_settings",
]
