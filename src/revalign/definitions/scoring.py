"""Lead scoring rules as a definition: the points marketing and sales agree a lead is worth, as versioned YAML.

What counts as a qualified lead is the first thing marketing and sales must agree on, so the rule is data both
can read and sign, not code. One file holds one version of one model (``scoring/*.yaml`` or ``scoring.yaml`` in
the project)::

    scoring:
      name: lead_score
      version: 2
      owners:                      # at least one owner from marketing and one from sales
        - {name: Head of demand generation, department: marketing}
        - {name: VP sales, department: sales}
      fit:                         # firmographic points: a leads column and points per value
        - {name: segment, field: segment, points: {smb: 5, mid_market: 15, enterprise: 25}}
      engagement:                  # behavioural points per matching touch (or once per lead)
        - {name: touch, points: 5}
        - {name: demo_request, match: {interaction: [demo_request]}, points: 60, per: lead, group: intent}
      negative:                    # points taken off (fit or touch rules with negative points)
        - {name: students, field: industry, points: {education: -10}}
      caps: {engagement: 40}       # the most a group of rules can add (or, for negative groups, take off)
      half_life_days: 90           # engagement points halve every 90 days (omit: no decay)
      touches_until: mql           # touches after the lead entered this stage do not count (omit: all)
      mql_threshold: 60
      bands: {A: 80, B: 60, C: 30, D: 0}   # a band is the highest cut point the score reaches

A rule's ``group`` is its section unless written; ``caps`` name groups. :func:`check_scoring` reads a file with
:mod:`revalign.definitions.yamlfile` and reports every problem as an :class:`~revalign.definitions.issues.Issue`
with its file and line (schema errors through pydantic, then the rules below through
:func:`~revalign.definitions.validate.run_rules`). Computing scores is :mod:`revalign.analytics.scoring`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from revalign.definitions.issues import Issue, Level, errors, problems
from revalign.definitions.validate import Rule, run_rules
from revalign.definitions.yamlfile import LineDict, error_line, line_of, parse_yaml
from revalign.errors import CatalogError, UnknownNameError
from revalign.model.tables import LEADS, LIFECYCLE_STAGES, TOUCHPOINTS

FIT_FIELDS = tuple(c.name for c in LEADS.columns if c.dtype == "string" and c.name not in ("lead_id", "email"))
"""Leads columns a fit rule may score (categorical text columns)."""
TOUCH_FIELDS = ("channel", "touch_type", "interaction", "campaign_id")
"""Touchpoints columns an engagement rule may match on."""
if not set(TOUCH_FIELDS) <= set(TOUCHPOINTS.column_names):  # the contract the rules are written against
    raise AssertionError(f"TOUCH_FIELDS {TOUCH_FIELDS} are not all touchpoints columns")
DEPARTMENTS_REQUIRED = ("marketing", "sales")
"""Every scoring model needs an owner from each: the point of the rule is that both teams agree on it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Owner(_Strict):
    """Someone accountable for the model, and the department they sign for."""

    name: str
    department: str


class FitRule(_Strict):
    """Points for a lead by the value of one of its columns (``segment``, ``industry``, ``region`` …)."""

    name: str
    field: str
    points: dict[str, float]
    group: str | None = None


class TouchRule(_Strict):
    """Points per touch that matches (every touch when ``match`` is empty), or once per lead (``per: lead``)."""

    name: str
    points: float
    match: dict[str, list[str]] = Field(default_factory=dict)
    per: Literal["touch", "lead"] = "touch"
    group: str | None = None


class NegativeRule(_Strict):
    """A fit rule (``field`` + ``points`` per value) or a touch rule (``match`` + ``points``) taking points off."""

    name: str
    points: float | dict[str, float]
    field: str | None = None
    match: dict[str, list[str]] = Field(default_factory=dict)
    per: Literal["touch", "lead"] = "touch"
    group: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> NegativeRule:
        if self.field is not None and not isinstance(self.points, dict):
            raise ValueError("a negative fit rule (with 'field') needs 'points' as a mapping of value → points")
        if self.field is None and isinstance(self.points, dict):
            raise ValueError("a negative touch rule (without 'field') needs 'points' as one number")
        return self

    @property
    def is_fit(self) -> bool:
        return self.field is not None


class ScoringModel(_Strict):
    """One version of a rule-based lead scoring model (see the module docstring for the file's shape)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    description: str = ""
    owners: list[Owner]
    fit: list[FitRule] = Field(default_factory=list)
    engagement: list[TouchRule] = Field(default_factory=list)
    negative: list[NegativeRule] = Field(default_factory=list)
    caps: dict[str, float] = Field(default_factory=dict)
    half_life_days: float | None = Field(default=None, gt=0)
    touches_until: str | None = None
    mql_threshold: float
    bands: dict[str, float]

    @field_validator("bands")
    @classmethod
    def _bands(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("at least one band is needed, e.g. {A: 80, B: 60, C: 30, D: 0}")
        return dict(sorted(value.items(), key=lambda kv: -kv[1]))

    def fit_rules(self) -> list[tuple[str, str, str, dict[str, float]]]:
        """``(name, group, field, points)`` of every fit rule, the negative ones included."""
        out = [(r.name, r.group or "fit", r.field, r.points) for r in self.fit]
        for n in self.negative:
            if n.field is not None and isinstance(n.points, dict):
                out.append((n.name, n.group or "negative", n.field, n.points))
        return out

    def touch_rules(self) -> list[tuple[str, str, dict[str, list[str]], float, str]]:
        """``(name, group, match, points, per)`` of every touch rule, the negative ones included."""
        out: list[tuple[str, str, dict[str, list[str]], float, str]] = [
            (r.name, r.group or "engagement", r.match, r.points, r.per) for r in self.engagement
        ]
        for n in self.negative:
            if n.field is None and not isinstance(n.points, dict):
                out.append((n.name, n.group or "negative", n.match, float(n.points), n.per))
        return out

    def groups(self) -> dict[str, float]:
        """Each group's sign: +1 when its rules add points, -1 when they take points off."""
        signs: dict[str, float] = {}
        for _, group, _, points in self.fit_rules():
            signs.setdefault(group, -1.0 if all(p < 0 for p in points.values()) else 1.0)
        for _, group, _, pts, _ in self.touch_rules():
            signs.setdefault(group, -1.0 if pts < 0 else 1.0)
        return signs

    def band_of(self, score: float) -> str:
        """The band a score falls in: the highest cut point it reaches (the lowest band below every cut)."""
        for band, cut in self.bands.items():
            if score >= cut:
                return band
        return list(self.bands)[-1]

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    def content_hash(self) -> str:
        """A fingerprint of what the model says (not how the file is laid out): what signatories approve."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ScoringFile:
    """A model as read from a file, with the parsed YAML (for lines) and the file's name."""

    model: ScoringModel
    file: str
    data: Any

    def line(self, *path: Any) -> int | None:
        return line_of(self.data, ("scoring", *path))


# ------------------------------------------------------------------------------------------------------ rules


def _issue(file: str, line: int | None, rule: str, message: str, subject: str | None = None) -> Issue:
    return Issue(Level.ERROR, message, file=file, line=line, subject=subject, rule=rule, kind="scoring")


class OwnersRule(Rule[ScoringFile]):
    """Both marketing and sales own the model: the threshold is their agreement, not one side's."""

    name = "owners"

    def check(self, subject: ScoringFile) -> Iterable[Issue]:
        have = {o.department for o in subject.model.owners}
        for dept in DEPARTMENTS_REQUIRED:
            if dept not in have:
                message = (
                    f"no owner from {dept}; a scoring model needs owners from {' and '.join(DEPARTMENTS_REQUIRED)}."
                )
                yield _issue(subject.file, subject.line("owners"), self.name, message, subject.model.key)


class FieldsRule(Rule[ScoringFile]):
    """Fit rules score a leads column; touch rules match touchpoints columns."""

    name = "field"

    def check(self, subject: ScoringFile) -> Iterable[Issue]:
        m = subject.model
        sections: list[tuple[str, list[Any]]] = [("fit", list(m.fit)), ("engagement", list(m.engagement))]
        sections.append(("negative", list(m.negative)))
        for section, rules in sections:
            for i, r in enumerate(rules):
                field = getattr(r, "field", None)
                if field is not None and field not in FIT_FIELDS:
                    message = (
                        f"{r.name}: {field!r} is not a leads column a fit rule can score; use one of {FIT_FIELDS}."
                    )
                    yield _issue(subject.file, subject.line(section, i, "field"), self.name, message, m.key)
                for key in getattr(r, "match", {}):
                    if key not in TOUCH_FIELDS:
                        message = f"{r.name}: cannot match touches on {key!r}; match on one of {TOUCH_FIELDS}."
                        yield _issue(subject.file, subject.line(section, i, "match", key), self.name, message, m.key)


class SignsRule(Rule[ScoringFile]):
    """Fit and engagement points are not negative; negative points are (a sign error inverts the meaning)."""

    name = "sign"

    def check(self, subject: ScoringFile) -> Iterable[Issue]:
        m = subject.model
        for i, f in enumerate(m.fit):
            if any(p < 0 for p in f.points.values()):
                message = f"{f.name}: fit points must not be negative; put penalties under 'negative'."
                yield _issue(subject.file, subject.line("fit", i, "points"), self.name, message, m.key)
        for i, t in enumerate(m.engagement):
            if t.points < 0:
                message = f"{t.name}: engagement points must not be negative; put penalties under 'negative'."
                yield _issue(subject.file, subject.line("engagement", i, "points"), self.name, message, m.key)
        for i, n in enumerate(m.negative):
            values = n.points.values() if isinstance(n.points, dict) else [n.points]
            if any(p > 0 for p in values):
                message = f"{n.name}: negative points must be below zero (write -10, not 10)."
                yield _issue(subject.file, subject.line("negative", i, "points"), self.name, message, m.key)


class NamesRule(Rule[ScoringFile]):
    """Rule names are unique (feedback and suggestions refer to rules by name)."""

    name = "duplicate"

    def check(self, subject: ScoringFile) -> Iterable[Issue]:
        m = subject.model
        seen: set[str] = set()
        for section in ("fit", "engagement", "negative"):
            for i, r in enumerate(getattr(m, section)):
                if r.name in seen:
                    message = f"a second rule named {r.name!r}; rule names must be unique in a model."
                    yield _issue(subject.file, subject.line(section, i, "name"), self.name, message, m.key)
                seen.add(r.name)


class CapsRule(Rule[ScoringFile]):
    """Caps name groups that exist and are positive amounts."""

    name = "cap"

    def check(self, subject: ScoringFile) -> Iterable[Issue]:
        m = subject.model
        groups = m.groups()
        for group, cap in m.caps.items():
            if group not in groups:
                message = f"cap for unknown group {group!r}; the groups are {sorted(groups)}."
                yield _issue(subject.file, subject.line("caps", group), self.name, message, m.key)
            elif cap <= 0:
                message = f"cap of {group!r} must be positive (it bounds the points a group adds or takes off)."
                yield _issue(subject.file, subject.line("caps", group), self.name, message, m.key)


class StageRule(Rule[ScoringFile]):
    """``touches_until`` names a lifecycle stage."""

    name = "stage"

    def check(self, subject: ScoringFile) -> Iterable[Issue]:
        stage = subject.model.touches_until
        if stage is not None and stage not in LIFECYCLE_STAGES:
            message = f"touches_until {stage!r} is not a lifecycle stage; use one of {LIFECYCLE_STAGES}."
            yield _issue(subject.file, subject.line("touches_until"), self.name, message, subject.model.key)


SCORING_RULES: tuple[Rule[ScoringFile], ...] = (
    OwnersRule(),
    FieldsRule(),
    SignsRule(),
    NamesRule(),
    CapsRule(),
    StageRule(),
)


# ------------------------------------------------------------------------------------------------------ reading


def check_scoring(text: str, file: str = "<string>") -> tuple[ScoringModel | None, list[Issue]]:
    """The model of one scoring file (None when it cannot be read) and every problem, with file and line."""
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        return None, [_issue(file, error_line(exc), "yaml", f"not valid YAML: {exc}")]
    if not isinstance(data, LineDict) or not isinstance(data.get("scoring"), LineDict):
        return None, [_issue(file, 1, "structure", "a scoring file must have a top-level 'scoring:' mapping.")]
    try:
        model = ScoringModel.model_validate(dict(data["scoring"]))
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            dotted = ".".join(str(p) for p in loc) or "scoring"
            issues.append(_issue(file, line_of(data, ("scoring", *loc)), "schema", f"{dotted}: {err['msg']}"))
        return None, issues
    return model, run_rules(ScoringFile(model, file, data), SCORING_RULES)


def parse_scoring(text: str, file: str = "<string>") -> ScoringModel:
    """A valid scoring model, or :class:`CatalogError` listing every problem with file:line."""
    model, issues = check_scoring(text, file)
    if errors(issues) or model is None:
        raise CatalogError(problems(issues, str(file)), issues)
    return model


def load_scoring(path: str | Path) -> ScoringModel:
    """The scoring model in the YAML file ``path``."""
    path = Path(path)
    return parse_scoring(path.read_text(encoding="utf-8"), str(path))


def scoring_files(folder: str | Path) -> list[Path]:
    """A project's scoring files: ``scoring.yaml`` and ``scoring/*.yaml``, in name order."""
    folder = Path(folder)
    single = [folder / "scoring.yaml"] if (folder / "scoring.yaml").is_file() else []
    many = sorted((folder / "scoring").glob("*.yaml")) if (folder / "scoring").is_dir() else []
    return single + many


def check_project_scoring(folder: str | Path) -> tuple[dict[tuple[str, int], ScoringModel], list[Issue]]:
    """Every valid model version of a project (by ``(name, version)``) and every problem of its files."""
    models: dict[tuple[str, int], ScoringModel] = {}
    where: dict[tuple[str, int], str] = {}
    issues: list[Issue] = []
    for path in scoring_files(folder):
        model, found = check_scoring(path.read_text(encoding="utf-8"), str(path))
        issues.extend(found)
        if model is None or errors(found):
            continue
        key = (model.name, model.version)
        if key in models and models[key].content_hash() != model.content_hash():
            message = f"{model.key} is also defined in {where[key]} with other content; give this one a new version."
            issues.append(_issue(str(path), 1, "version", message, model.key))
            continue
        models[key], where[key] = model, str(path)
    return models, issues


def project_scoring(folder: str | Path) -> dict[tuple[str, int], ScoringModel]:
    """Every model version of a project; :class:`CatalogError` if any file has an error."""
    models, issues = check_project_scoring(folder)
    if errors(issues):
        found = errors(issues)
        raise CatalogError(problems(found, "the scoring files"), found)
    return models


def pick_model(models: Mapping[tuple[str, int], ScoringModel], name: str, version: int | None) -> ScoringModel:
    """Version ``version`` of model ``name`` (the newest when ``None``); unknown names list the known ones."""
    known = sorted({n for n, _ in models})
    if name not in known:
        raise UnknownNameError("scoring model", name, known)
    versions = sorted(v for n, v in models if n == name)
    chosen = versions[-1] if version is None else version
    if (name, chosen) not in models:
        raise UnknownNameError(f"version of scoring model {name}", str(chosen), [str(v) for v in versions])
    return models[(name, chosen)]


DEFAULT_DIR = Path(__file__).parent / "scoring_models"
"""Scoring models shipped with revalign: ``simulator.yaml`` is the simulated company's own rule (the demo's)."""


def default_scoring() -> dict[tuple[str, int], ScoringModel]:
    """The scoring models shipped with revalign."""
    return {(m.name, m.version): m for m in (load_scoring(p) for p in sorted(DEFAULT_DIR.glob("*.yaml")))}


__all__ = [
    "DEFAULT_DIR",
    "FIT_FIELDS",
    "SCORING_RULES",
    "TOUCH_FIELDS",
    "FitRule",
    "NegativeRule",
    "Owner",
    "ScoringFile",
    "ScoringModel",
    "TouchRule",
    "check_project_scoring",
    "check_scoring",
    "default_scoring",
    "load_scoring",
    "parse_scoring",
    "pick_model",
    "project_scoring",
    "scoring_files",
]
