"""Comp plans and credit rules as code (``comp_plans/*.yaml``): what a role is paid for, and who gets the credit.

Pay drives behaviour more than any dashboard, so a plan is a reviewed definition like a KPI: one file is one
*version* of one plan. A plan names the roles (``users.role``) or teams it applies to, its period (month or
quarter), its target variable pay, and its **measures** — credited new revenue, sourced or influenced pipeline,
accepted SQLs, MQLs, a team (north-star) component — each with a flat ``rate`` or marginal ``tiers`` over quota
attainment (a tier below 100 % with a lower rate is a decelerator, above it with a higher rate an accelerator), an
optional ``cap``, and ``north_star: true|false``: whether the measure is tied to the company's north star (the
perverse-incentive check flags the ones that are not, the activity and vanity measures). Around the measures: a
plan ``cap``, SPIFs (a bonus per qualifying deal), a draw (recoverable or not), clawbacks on churn within N days,
and an SLA gate or modifier.

The **credit rules** say who is credited for a deal and by how much: the opportunity owner, a ``splits`` share for
the lead's owner (the SDR who sourced it), ``overlays`` (the owner's manager, or a named person over a team, credited
on top), and ``sourced_multipliers`` by who sourced the deal (marketing vs sales channels). A sales-sourced
multiplier above 1 is what teaches reps to strip marketing's lead source; the check prices exactly that.
``attribution_model`` names the attribution model of record for marketing credit (a name only: nothing is run).

Read with :func:`check_comp_plans` (``definitions.yamlfile``: every problem has file:line), checked by the rules in
:data:`RULES` through ``definitions.validate.run_rules``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from revalign.definitions.audit import AuditSettings
from revalign.definitions.issues import Issue, Level, errors, problems
from revalign.definitions.validate import Rule, run_rules
from revalign.definitions.yamlfile import LineDict, LineList, error_line, line_of, parse_yaml
from revalign.errors import CatalogError, UnknownNameError

EXAMPLE_FILE = "simulated_company.yaml"
"""The example plan shipped in ``definitions/comp_plans/`` (the simulated company's AE plan)."""
EXAMPLE_DIR = Path(__file__).parent / "comp_plans"

MeasureKind = Literal[
    "credited_new_revenue", "sourced_pipeline", "influenced_pipeline", "accepted_sqls", "mqls", "team_new_revenue"
]
MEASURE_KINDS: tuple[str, ...] = (
    "credited_new_revenue",
    "sourced_pipeline",
    "influenced_pipeline",
    "accepted_sqls",
    "mqls",
    "team_new_revenue",
)
REVENUE_KINDS = frozenset({"credited_new_revenue", "team_new_revenue"})
"""Measures paid on won deals: the ones a clawback on churn takes back."""
SOURCE_GROUPS = ("marketing", "sales", "other")

_DEFAULT_CHANNELS = AuditSettings()


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tier(_Spec):
    """A marginal tier: every credited unit between the previous tier's bound and ``upto`` × quota earns ``rate``."""

    upto: float | None = Field(None, gt=0, description="Upper bound as quota attainment (1.0 = 100 %); none: no end.")
    rate: float = Field(ge=0, description="Pay per credited unit (a share of revenue, or money per record).")


class Measure(_Spec):
    name: str
    kind: MeasureKind
    north_star: bool = Field(description="Whether the measure is tied to the north star (the check flags the rest).")
    weight: float = Field(0.0, ge=0, le=1, description="Share of target variable pay this measure carries.")
    rate: float = Field(0.0, ge=0, description="Flat pay per credited unit when there are no tiers.")
    tiers: tuple[Tier, ...] = ()
    quota: Literal["quotas"] | float | None = Field(
        None, description="'quotas' (the quotas table), a number per period, or none (tiers then use their first)."
    )
    cap: float | None = Field(None, ge=0, description="Most this measure pays a person in a period.")


class Overlay(_Spec):
    """Credit on top of the deal's split: the owner's ``manager``, or ``user`` on the deals of ``team``."""

    relation: Literal["manager"] | None = None
    user: str | None = None
    team: str | None = None
    share: float = Field(1.0, gt=0)


Party = Literal["opportunity_owner", "lead_owner"]


def _owner_takes_all() -> dict[Party, float]:
    return {"opportunity_owner": 1.0}


class CreditRules(_Spec):
    """Who a deal credits (see the module docstring); multipliers default to 1."""

    splits: dict[Party, float] = Field(default_factory=_owner_takes_all)
    overlays: tuple[Overlay, ...] = ()
    sourced_multipliers: dict[Literal["marketing", "sales", "other"], float] = Field(default_factory=dict)
    marketing_channels: tuple[str, ...] = _DEFAULT_CHANNELS.marketing_channels
    sales_channels: tuple[str, ...] = _DEFAULT_CHANNELS.sales_channels
    attribution_model: str | None = Field(None, description="The attribution model of record for marketing credit.")

    def multiplier(self, group: str) -> float:
        multipliers: dict[str, float] = {str(k): v for k, v in self.sourced_multipliers.items()}
        return float(multipliers.get(group, 1.0))

    def source_group(self, channel: object) -> str:
        """``marketing``, ``sales`` or ``other`` for a deal's lead source."""
        if channel in self.sales_channels:
            return "sales"
        return "marketing" if channel in self.marketing_channels else "other"


class Spif(_Spec):
    """A bonus per won new-business deal of at least ``min_amount`` (in ``segments`` when given), split like it."""

    name: str
    amount: float = Field(gt=0)
    min_amount: float = Field(0.0, ge=0)
    segments: tuple[str, ...] = ()


class Draw(_Spec):
    """A floor on each period's pay; ``recoverable``: the top-up is taken back from later periods' earnings."""

    amount: float = Field(gt=0)
    recoverable: bool


class Clawback(_Spec):
    """The pay on a won deal is taken back (in the period of the churn) when its account churns within N days."""

    within_days: int = Field(gt=0)


class SlaTerm(_Spec):
    """SLA compliance as a ``gate`` (below ``threshold``: no variable pay) or a ``modifier`` (× ``multiplier``)."""

    mode: Literal["gate", "modifier"]
    threshold: float = Field(ge=0, le=1)
    multiplier: float = Field(0.0, ge=0)


class CompPlan(_Spec):
    """One version of one comp plan (see the module docstring)."""

    name: str
    version: int = Field(ge=1)
    description: str = ""
    roles: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    period: Literal["month", "quarter"] = "quarter"
    currency: str | None = None
    target_variable_pay: float = Field(ge=0)
    measures: tuple[Measure, ...]
    credit: CreditRules = CreditRules()
    spifs: tuple[Spif, ...] = ()
    draw: Draw | None = None
    clawback: Clawback | None = None
    sla: SlaTerm | None = None
    cap: float | None = Field(None, ge=0, description="Most the plan pays a person in a period (before draws).")
    file: str = "<string>"

    def measure(self, name: str) -> Measure:
        for m in self.measures:
            if m.name == name:
                return m
        raise UnknownNameError("measure", name, [m.name for m in self.measures])

    @property
    def north_star_share(self) -> float:
        """Share of the measures' weight carried by measures tied to the north star (0 when none is weighted)."""
        total = sum(m.weight for m in self.measures)
        return sum(m.weight for m in self.measures if m.north_star) / total if total else 0.0


@dataclass(frozen=True)
class PlanSet:
    """The plans read, with ``(plan, version, key) → line`` for the rules' messages."""

    plans: list[CompPlan]
    lines: dict[tuple[str, int, str], int] = field(default_factory=dict)

    def line(self, plan: CompPlan, key: str = "") -> int | None:
        return self.lines.get((plan.name, plan.version, key)) or self.lines.get((plan.name, plan.version, ""))


def _issue(plan: CompPlan, subject: PlanSet, key: str, message: str, rule: str) -> Issue:
    return Issue(
        Level.ERROR,
        message,
        file=plan.file,
        line=subject.line(plan, key),
        subject=plan.name,
        rule=rule,
        kind="comp_plan",
    )


class UniqueVersions(Rule[PlanSet]):
    name = "unique_versions"

    def check(self, subject: PlanSet) -> Iterable[Issue]:
        seen: set[tuple[str, int]] = set()
        for p in subject.plans:
            if (p.name, p.version) in seen:
                yield _issue(
                    p, subject, "version", f"version {p.version} of plan {p.name!r} is written twice", self.name
                )
            seen.add((p.name, p.version))


class MeasuresAreSound(Rule[PlanSet]):
    """Unique names; tiers in increasing order, only the last open; tiers over attainment need a quota."""

    name = "measures"

    def check(self, subject: PlanSet) -> Iterable[Issue]:
        for p in subject.plans:
            names = [m.name for m in p.measures]
            for dup in sorted({n for n in names if names.count(n) > 1}):
                yield _issue(p, subject, "measures", f"measure {dup!r} is written twice", self.name)
            for m in p.measures:
                bounds = [t.upto for t in m.tiers]
                if any(b is None for b in bounds[:-1]) or bounds[:-1] != sorted(b for b in bounds[:-1] if b):
                    yield _issue(p, subject, "measures", f"{m.name}: tiers must rise, only the last open", self.name)
                if len(m.tiers) > 1 and m.quota is None:
                    yield _issue(p, subject, "measures", f"{m.name}: tiers over attainment need a quota", self.name)
            if sum(m.weight for m in p.measures) > 1.0 + 1e-9:
                yield _issue(p, subject, "measures", "the measures' weights add up to more than 1", self.name)


class CreditIsSound(Rule[PlanSet]):
    """Splits share one deal (they add up to 1); a channel is marketing's or sales', not both; overlays say whom."""

    name = "credit"

    def check(self, subject: PlanSet) -> Iterable[Issue]:
        for p in subject.plans:
            c = p.credit
            if abs(sum(c.splits.values()) - 1.0) > 1e-9:
                yield _issue(
                    p, subject, "credit", f"splits must add up to 1, not {sum(c.splits.values()):g}", self.name
                )
            both = sorted(set(c.marketing_channels) & set(c.sales_channels))
            if both:
                yield _issue(
                    p, subject, "credit", f"channel(s) {', '.join(both)} both marketing's and sales'", self.name
                )
            for o in c.overlays:
                if (o.relation is None) == (o.user is None) or (o.user is not None and o.team is None):
                    yield _issue(
                        p, subject, "credit", "an overlay is `relation: manager` or `user` + `team`", self.name
                    )


class AppliesToSomeone(Rule[PlanSet]):
    name = "applies_to"

    def check(self, subject: PlanSet) -> Iterable[Issue]:
        for p in subject.plans:
            if not p.roles and not p.teams:
                yield _issue(p, subject, "", "a plan applies to some roles or teams (roles: [ae])", self.name)


RULES: tuple[Rule[PlanSet], ...] = (UniqueVersions(), MeasuresAreSound(), CreditIsSound(), AppliesToSomeone())


def _plan_issue(file: str, line: int | None, message: str, rule: str = "schema", path: str | None = None) -> Issue:
    return Issue(Level.ERROR, message, file=file, line=line, rule=rule, kind="comp_plan", path=path)


def read_comp_plan(text: str, file: str = "<string>") -> tuple[CompPlan | None, dict, list[Issue]]:
    """One plan version from YAML text: the plan (``None`` when broken), its lines, and the schema problems."""
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        return None, {}, [_plan_issue(file, error_line(exc), f"not valid YAML: {exc}", rule="yaml")]
    if not isinstance(data, LineDict):
        return None, {}, [_plan_issue(file, 1, "a comp plan file is a mapping with name, version, measures…")]
    try:
        plan = CompPlan.model_validate({**data, "file": file})
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            dotted = ".".join(map(str, err["loc"]))
            issues.append(_plan_issue(file, line_of(data, err["loc"]), f"{dotted}: {err['msg']}", path=dotted))
        return None, {}, issues
    lines = {(plan.name, plan.version, ""): data.line}
    lines.update({(plan.name, plan.version, k): v for k, v in data.key_lines.items()})
    measures = data.get("measures")
    if isinstance(measures, LineList) and measures.item_lines:
        lines[(plan.name, plan.version, "measures")] = measures.item_lines[0]
    return plan, lines, []


def check_comp_plans(texts: Iterable[tuple[str, str]]) -> tuple[list[CompPlan], list[Issue]]:
    """Every valid plan version of ``(text, file)`` pairs and every problem (schema and rules), nothing raised."""
    plans: list[CompPlan] = []
    lines: dict[tuple[str, int, str], int] = {}
    found: list[Issue] = []
    for text, file in texts:
        plan, plan_lines, issues = read_comp_plan(text, file)
        found.extend(issues)
        if plan is not None:
            plans.append(plan)
            lines.update(plan_lines)
    return plans, run_rules(PlanSet(plans, lines), RULES, found=found)


def parse_comp_plans(*texts: tuple[str, str]) -> dict[str, CompPlan]:
    """The latest version of each plan in ``(text, file)`` pairs; raises :class:`CatalogError` on any error."""
    plans, issues = check_comp_plans(texts)
    bad = errors(issues)
    if bad:
        raise CatalogError(problems(bad, "the comp plans"), bad)
    return latest_versions(plans)


def latest_versions(plans: Iterable[CompPlan]) -> dict[str, CompPlan]:
    """Plan name → its highest version (older versions stay in the files, for past periods and what-ifs)."""
    out: dict[str, CompPlan] = {}
    for p in sorted(plans, key=lambda p: (p.name, p.version)):
        out[p.name] = p
    return out


def comp_plan_files(folder: Path) -> list[Path]:
    """The plan files of a project folder's ``comp_plans/`` (sorted; none when it does not exist)."""
    return sorted((folder / "comp_plans").glob("*.y*ml")) if (folder / "comp_plans").is_dir() else []


def example_comp_plan_text() -> str:
    """The shipped example plan's YAML text (the simulated company's AE plan)."""
    return (EXAMPLE_DIR / EXAMPLE_FILE).read_text(encoding="utf-8")


def load_comp_plans(paths: Iterable[Path]) -> dict[str, CompPlan]:
    """The latest version of each plan in ``paths``; the shipped example when there are none."""
    texts = [(Path(p).read_text(encoding="utf-8"), str(p)) for p in paths]
    return parse_comp_plans(*(texts or [(example_comp_plan_text(), EXAMPLE_FILE)]))


def plan_named(plans: Mapping[str, CompPlan], name: str | None) -> CompPlan:
    """The plan called ``name``; the only plan when ``name`` is None and there is one."""
    if name is None and len(plans) == 1:
        return next(iter(plans.values()))
    if name is None or name not in plans:
        raise UnknownNameError("comp plan", str(name), sorted(plans))
    return plans[name]


__all__ = [
    "EXAMPLE_FILE",
    "MEASURE_KINDS",
    "REVENUE_KINDS",
    "RULES",
    "SOURCE_GROUPS",
    "Clawback",
    "CompPlan",
    "CreditRules",
    "Draw",
    "Measure",
    "MeasureKind",
    "Overlay",
    "PlanSet",
    "SlaTerm",
    "Spif",
    "Tier",
    "check_comp_plans",
    "comp_plan_files",
    "example_comp_plan_text",
    "latest_versions",
    "load_comp_plans",
    "parse_comp_plans",
    "plan_named",
    "read_comp_plan",
]
