"""⑤ Target planning: propose next year's targets from last year's actuals, the way a RevOps analyst starts a plan.

For each KPI, period of the plan year (month, quarter or the year) and slice, the **base** is the actual of the
same period one year earlier; the proposed target applies the KPI's rule to it (:func:`apply_rule`):

==========  ===================  ======================================  ===================================
method      higher_is_better     lower_is_better                         target_is_best
==========  ===================  ======================================  ===================================
growth g    base + |base| × g    base ÷ (1 + g) (base > 0; else          base × (1 + g): a budget or head
            (base × (1 + g) for  base − |base| × g)                      count scales with the plan
            a positive base)
points p    base + p             base − p                                base
hold        base                 base                                    base
==========  ===================  ======================================  ===================================

and ``total T`` (additive KPIs only, any direction): T × base ÷ the sum of last year's bases, a yearly total
phased over the periods (and slices) like last year.

**Defaults.** Percent KPIs (fractions 0..1: win rate, conversion and SLA rates) get a *point* uplift (``points``,
default 2 points: 25 % → 27 %), because "+10 %" of a rate is ambiguous and compounds oddly; percent KPIs that are
best on target are held. Lower-is-better percents (churn, cost shares) get relative growth instead: two points off
a 1.5 % churn rate would plan for zero churn, a target nobody can own.
Every other KPI (counts, currency, ratios, days, hours) gets *relative* growth
(``growth``, default 10 %). Lower-is-better KPIs divide by ``1 + g`` rather than multiply by ``1 − g``, so that
holding last year's value scores the same attainment (``1 / (1 + g)``) whichever way the KPI points.
Per-KPI ``overrides`` replace the rule (``new_revenue=0.25``, ``win_rate=points:0.03``, ``sales_headcount=hold``,
``new_revenue=total:12000000``: the board's yearly number, phased over the periods (and slices) in last year's
proportions, so seasonality carries over and the parts add up to the total).

Results are clamped into the KPI's range (a rate stays within 0..1, a count ≥ 0) and rounded: counts and
people to whole numbers (half up), percents to 4 decimals, everything else to 2. A KPI, period or slice
without a base value gets no target and is listed in ``TargetPlan.missing`` with the reason, never dropped
silently.

**Do the plans add up?** :func:`plan_consistency` compares, per node of the north star's driver tree
(``new_revenue = new_leads × lead_to_opportunity_rate × win_rate × average_deal_size``), the growth the
drivers' targets imply with the growth the node's own target asks for: departments each planning +20 % do not
deliver a board plan of ×2, and that is better found while planning than in the quarter's scorecard.

**Like for like.** The base year is evaluated under today's KPI definitions (``definitions="current"``): when a
definition changed between the years (a revision), last year's number under the old definition would give a
target the plan year cannot be compared with.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import pandas as pd

from revalign.analytics.targets import write_targets
from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.spec import Kpi
from revalign.definitions.targets import is_additive, parse_number
from revalign.definitions.trees import DriverTree, Formula
from revalign.errors import UnknownNameError
from revalign.kpis.query import evaluate
from revalign.model.access import Tables
from revalign.model.calendar import add_periods, parse_period, period_label, period_start

Method = Literal["growth", "points", "hold", "total"]
PLAN_GRAINS = {"month": 12, "quarter": 4, "year": 1}
"""Grains a plan can be written at, with the number of periods per year (the base is that many periods back)."""
DEFAULT_GROWTH = 0.10
DEFAULT_POINTS = 0.02
WHOLE_UNITS = ("count", "people")


class PlannedKpi(Protocol):
    """What planning reads of a KPI: a catalog ``Kpi``, or any object with these attributes (a ``value_range``
    of ``None`` means "implied by the unit")."""

    @property
    def unit(self) -> str | None: ...
    @property
    def direction(self) -> str | None: ...
    @property
    def value_range(self) -> tuple[float | None, float | None] | None: ...


class FormulaTree(Protocol):
    """What the consistency check reads of a driver tree: its formula per node."""

    @property
    def formulas(self) -> Mapping[str, Formula]: ...


@dataclass(frozen=True)
class PlanRule:
    """How a KPI's target follows from its base: ``growth`` (relative, ``amount`` = 0.1 for 10 %), ``points``
    (additive, ``amount`` = 0.02 for two percentage points) or ``hold``."""

    method: Method = "growth"
    amount: float = DEFAULT_GROWTH

    def __post_init__(self) -> None:
        if self.method not in ("growth", "points", "hold", "total"):
            raise ValueError(f"plan method must be growth, points, hold or total; got {self.method!r}")
        if self.method == "growth" and self.amount <= -1:
            raise ValueError(f"growth must be above -1 (-100 %); got {self.amount}")

    def __str__(self) -> str:
        if self.method == "hold":
            return "hold"
        if self.method == "points":
            return f"{self.amount * 100:+g} points"
        if self.method == "total":
            amount = f"{self.amount:,.0f}" if abs(self.amount) >= 100 else f"{self.amount:,.6g}"
            return f"year total {amount} phased like last year"
        return f"{self.amount:+.0%}" if round(self.amount, 2) == self.amount else f"{self.amount:+.2%}"


def parse_rule(text: str | float | PlanRule) -> PlanRule:
    """A rule from a number (growth) or text: ``0.2``, ``20%``, ``growth:0.2``, ``points:0.03``, ``hold``,
    ``total:12000000``."""
    if isinstance(text, PlanRule):
        return text
    if isinstance(text, int | float) and not isinstance(text, bool):
        return PlanRule("growth", float(text))
    raw = str(text).strip()
    method, _, amount = raw.partition(":") if ":" in raw else ("growth", "", raw)
    method = method.strip().lower()
    if method == "hold" or raw.lower() == "hold":
        return PlanRule("hold", 0.0)
    try:
        value = parse_number(amount)
    except ValueError as exc:
        raise ValueError(
            f"cannot read plan rule {raw!r}: {exc} Use 0.2 or 20% (growth), points:0.03, total:12000000 or hold."
        ) from None
    return PlanRule(cast(Method, method), value)  # PlanRule.__post_init__ rejects an unknown method


def parse_overrides(items: Iterable[str]) -> dict[str, PlanRule]:
    """``["new_revenue=0.25", "win_rate=points:0.03"]`` → rules by KPI (the CLI's ``--override``)."""
    out: dict[str, PlanRule] = {}
    for item in items:
        kpi, sep, rule = item.partition("=")
        if not sep or not kpi.strip():
            raise ValueError(f"override {item!r} must be KPI=RULE, e.g. new_revenue=0.25 or win_rate=points:0.03")
        out[kpi.strip()] = parse_rule(rule)
    return out


def default_rule(kpi: PlannedKpi, growth: float = DEFAULT_GROWTH, points: float = DEFAULT_POINTS) -> PlanRule:
    """Points for higher-is-better percent KPIs (hold when best on target), relative growth for everything else
    (a lower-is-better rate near zero would otherwise be planned at zero)."""
    if kpi.unit == "percent":
        direction = kpi.direction
        if direction == "target_is_best":
            return PlanRule("hold", 0.0)
        if direction != "lower_is_better":
            return PlanRule("points", points)
    return PlanRule("growth", growth)


def apply_rule(base: float, kpi: PlannedKpi, rule: PlanRule) -> float:
    """The target ``rule`` proposes for ``kpi`` from ``base`` (table in the module docstring), clamped and rounded.

    A ``total`` rule needs the whole base year; :func:`plan_targets` phases it (see :func:`phase`).
    """
    if rule.method == "total":
        raise ValueError("a total rule is phased over the year by plan_targets, not applied to one base value")
    direction = kpi.direction or "higher_is_better"
    a, x = float(base), rule.amount
    if rule.method == "hold":
        value = a
    elif rule.method == "points":
        value = a if direction == "target_is_best" else a - x if direction == "lower_is_better" else a + x
    elif direction == "lower_is_better":
        value = a / (1 + x) if a > 0 else a - abs(a) * x
    elif direction == "target_is_best":
        value = a * (1 + x)
    else:
        value = a + abs(a) * x
    return _clamped(value, kpi)


def phase(total: float, base: float, base_year: float, kpi: PlannedKpi) -> float:
    """One period's (or slice's) share of a yearly ``total``: ``total × base ÷ base_year``, clamped and rounded."""
    value = total * base / base_year
    return _clamped(value, kpi)


def _clamped(value: float, kpi: PlannedKpi) -> float:
    """``value`` clamped into the KPI's range and rounded for its unit: every planned target passes here."""
    lo, hi = _range(kpi)
    if lo is not None:
        value = max(value, lo)
    if hi is not None:
        value = min(value, hi)
    return _round(value, kpi.unit)


def _range(kpi: PlannedKpi) -> tuple[float | None, float | None]:
    rng = kpi.value_range
    if rng is not None:
        return rng
    if kpi.unit == "percent":
        return (0.0, 1.0)
    if kpi.unit in ("count", "people", "days", "hours"):
        return (0.0, None)
    return (None, None)


def _round(value: float, unit: str | None) -> float:
    if unit in WHOLE_UNITS:
        return float(math.floor(value + 0.5))
    return round(value, 4 if unit == "percent" else 2)


@dataclass(frozen=True)
class TargetPlan:
    """Proposed targets (``targets``: ``kpi, period, <by…>, value, base_period, base_value, rule, note``) and the
    KPI × period × slice combinations left without one (``missing``: ``kpi, period, <by…>, base_period,
    reason``)."""

    year: str
    grain: str
    by: tuple[str, ...]
    targets: pd.DataFrame
    missing: pd.DataFrame
    consistency: pd.DataFrame | None = None
    """Per driver-tree node and period: the growth the drivers' targets imply vs the node's own target growth
    (:func:`plan_consistency`); ``None`` when not checked."""

    def write(self, path: str | Path) -> Path:
        """Write the targets as CSV or YAML (by suffix); ``note`` says how each was derived."""
        return write_targets(self.targets[["kpi", "period", *self.by, "value", "note"]], Path(path))

    def to_dict(self) -> dict[str, Any]:
        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [{k: (None if _isnan(v) else v) for k, v in r.items()} for r in frame.to_dict(orient="records")]

        return {
            "year": self.year,
            "grain": self.grain,
            "by": list(self.by),
            "targets": records(self.targets),
            "missing": records(self.missing),
            "consistency": records(self.consistency) if self.consistency is not None else [],
        }


def _isnan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


CONSISTENCY_COLUMNS = ["kpi", "period", "formula", "target_growth", "implied_growth", "gap", "consistent", "drivers"]


def plan_consistency(targets: pd.DataFrame, tree: FormulaTree, *, tolerance: float = 0.01) -> pd.DataFrame:
    """Do the drivers' targets add up to their parent's? One row per formula node of ``tree`` and period.

    A driver tree is not an exact identity of measured values (leads created this quarter are not the ones that
    close this quarter), so targets are compared as **growth over the same base**: ``implied_growth`` is
    ``F(driver targets) ÷ F(driver bases) − 1`` and ``target_growth`` is the node's ``target ÷ base − 1``; the
    timing residual cancels out. ``consistent`` is False when the drivers imply less than the node's target
    (by more than ``tolerance``, relative): every department can hit its plan while the parent misses.
    Company-wide targets only (rows whose slice columns are blank).
    """
    dims = [c for c in targets.columns if c not in ("kpi", "period", "value", "base_period", "base_value", "rule")]
    dims = [c for c in dims if c != "note"]
    company = targets
    for d in dims:
        company = company[company[d].isna()]
    plan = {(r.kpi, r.period): (float(r.value), float(r.base_value)) for r in company.itertuples()}
    periods = sorted(set(company["period"]))
    rows = []
    for node, formula in tree.formulas.items():
        for period in periods:
            needed = [node, *formula.inputs]
            if not all((k, period) in plan for k in needed):
                continue
            target, base = plan[node, period]
            implied_now = formula({k: plan[k, period][0] for k in formula.inputs})
            implied_base = formula({k: plan[k, period][1] for k in formula.inputs})
            if not base or not implied_base or math.isnan(implied_now) or math.isnan(implied_base):
                continue
            target_growth, implied_growth = target / base - 1, implied_now / implied_base - 1
            gap = (1 + implied_growth) / (1 + target_growth) - 1
            drivers = ", ".join(
                f"{k} {plan[k, period][0] / plan[k, period][1] - 1:+.0%}" for k in formula.inputs if plan[k, period][1]
            )
            rows.append(
                {
                    "kpi": node,
                    "period": period,
                    "formula": formula.text,
                    "target_growth": target_growth,
                    "implied_growth": implied_growth,
                    "gap": gap,
                    "consistent": gap >= -tolerance,
                    "drivers": drivers,
                }
            )
    return pd.DataFrame(rows, columns=CONSISTENCY_COLUMNS)


def plan_periods(year: str | int, grain: str, fiscal_year_start_month: int = 1) -> list[dt.date]:
    """Start dates of the ``grain`` periods of (fiscal) ``year`` (``2026`` or ``FY2026``)."""
    if grain not in PLAN_GRAINS:
        raise ValueError(f"targets are planned by month, quarter or year; got grain {grain!r}")
    p = parse_period(str(year), fiscal_year_start_month)
    if p.grain != "year":
        raise ValueError(f"the plan year must be a year label such as 2026 or FY2026; got {year!r}")
    return [add_periods(p.start, grain, i) for i in range(PLAN_GRAINS[grain])]


Bases = dict[tuple[str, dt.date], dict[tuple[str, ...], float]]
"""Last year's values by (KPI, period start), then by slice (the dimension values, ``""`` for a blank)."""


def _bases(actuals: pd.DataFrame, by: tuple[str, ...], grain: str, fiscal_year_start_month: int) -> Bases:
    base: Bases = {}
    frame = actuals if not actuals.empty else pd.DataFrame(columns=["kpi", "period_start", *by, "value"])
    for rec in frame.to_dict(orient="records"):
        value = rec["value"]
        if value is None or pd.isna(value):
            continue
        start = period_start(pd.Timestamp(rec["period_start"]).date(), grain, fiscal_year_start_month)
        dims = tuple("" if pd.isna(rec[d]) else str(rec[d]) for d in by)
        base.setdefault((rec["kpi"], start), {})[dims] = float(value)
    return base


@dataclass(frozen=True)
class _Year:
    """The periods of a plan year and of its base year (same length, one year back), by grain."""

    grain: str
    by: tuple[str, ...]
    starts: list[dt.date]
    base_starts: list[dt.date]
    fiscal_year_start_month: int

    def label(self, start: dt.date) -> str:
        return period_label(start, self.grain, self.fiscal_year_start_month)


def _year_base(name: str, kpi: PlannedKpi, base: Bases, year: _Year) -> float:
    """The sum of last year's bases a ``total`` rule phases by; ``ValueError`` for a KPI that does not add up."""
    if not is_additive(kpi):
        raise ValueError(
            f"{name}: a yearly total can only be phased for a KPI that adds up over periods (a count or a "
            f"sum); give it a growth, points or hold rule instead"
        )
    return math.fsum(v for b in year.base_starts for v in base.get((name, b), {}).values())


def _plan_kpi(
    name: str, kpi: PlannedKpi, rule: PlanRule, base: Bases, year: _Year
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One KPI's proposed targets and the period × slice combinations left without one (with the reason)."""
    slices = sorted({d for (k, _), per in base.items() if k == name for d in per}) or ([()] if not year.by else [])
    year_base = None
    if rule.method == "total":
        year_base = _year_base(name, kpi, base, year)
        if year_base <= 0:
            slices = []  # nothing to phase by: every period is reported missing
    rows, missing = [], []
    for start, base_start in zip(year.starts, year.base_starts, strict=True):
        label, base_label = year.label(start), year.label(base_start)
        found = base.get((name, base_start), {})
        if not slices:
            reason = "no base year to phase the total by" if year_base is not None else "no base value"
            missing.append({"kpi": name, "period": label, "base_period": base_label, "reason": reason})
        for dims in slices:
            dim_cols = dict(zip(year.by, dims, strict=True))
            head = {"kpi": name, "period": label, **dim_cols}
            if dims not in found:
                missing.append({**head, "base_period": base_label, "reason": f"no value in {base_label}"})
                continue
            a = found[dims]
            value = phase(rule.amount, a, year_base, kpi) if year_base else apply_rule(a, kpi, rule)
            rows.append(
                {
                    **head,
                    "value": value,
                    "base_period": base_label,
                    "base_value": a,
                    "rule": str(rule),
                    "note": f"{base_label} actual {a:.6g}, {rule}",
                }
            )
    return rows, missing


def plan_targets(
    actuals: pd.DataFrame,
    kpis: Mapping[str, PlannedKpi],
    *,
    year: str | int,
    grain: str = "quarter",
    by: Sequence[str] = (),
    growth: float = DEFAULT_GROWTH,
    points: float = DEFAULT_POINTS,
    overrides: Mapping[str, PlanRule | float | str] | None = None,
    fiscal_year_start_month: int = 1,
) -> TargetPlan:
    """Propose targets for ``year`` from ``actuals`` (pure: no engine).

    ``actuals`` is ``evaluate``'s long frame (``kpi, period_start, <by…>, value``) covering the year before;
    ``kpis`` maps names to catalog KPIs (unit, direction, range). Every KPI of ``kpis`` is planned.
    """
    by = tuple(by)
    fs = fiscal_year_start_month
    rules = {k: parse_rule(v) for k, v in (overrides or {}).items()}
    unknown = sorted(set(rules) - set(kpis))
    if unknown:
        raise UnknownNameError("KPI", unknown[0], kpis)
    starts = plan_periods(year, grain, fs)
    plan_year = _Year(grain, by, starts, [add_periods(s, grain, -PLAN_GRAINS[grain]) for s in starts], fs)
    base = _bases(actuals, by, grain, fs)
    rows, missing = [], []
    for name, kpi in kpis.items():
        rule = rules.get(name) or default_rule(kpi, growth, points)
        got, lacking = _plan_kpi(name, kpi, rule, base, plan_year)
        rows += got
        missing += lacking
    cols = ["kpi", "period", *by, "value", "base_period", "base_value", "rule", "note"]
    mcols = ["kpi", "period", *by, "base_period", "reason"]
    return TargetPlan(
        year=period_label(starts[0], "year", fs),
        grain=grain,
        by=by,
        targets=pd.DataFrame(rows, columns=cols),
        missing=pd.DataFrame(missing, columns=mcols),
    )


# -------------------------------------------------------------------------------------------- on the tables


def plan_kpis(catalog: Catalog, kpis: Iterable[str] | None = None, department: str | None = None) -> dict[str, Kpi]:
    """The KPIs a plan covers: ``kpis``, else ``department``'s, else every KPI of the catalog."""
    if kpis is not None:
        return {n: catalog.get(n) for n in kpis}
    if department is not None:
        chosen = {k.name: k for k in catalog.by_department(department)}
        if not chosen:
            raise UnknownNameError("department", department, {k.department for k in catalog if k.department})
        return chosen
    return dict(catalog.kpis)


@dataclass(frozen=True)
class _PlanRequest:
    """What :func:`evaluate_plan` was asked for, shared by its company-wide and its sliced part."""

    tables: Tables
    catalog: Catalog
    year: str | int
    grain: str
    growth: float
    points: float
    rules: Mapping[str, PlanRule | float | str]
    fiscal_year_start_month: int

    def plan(self, names: Mapping[str, Kpi], dims: tuple[str, ...]) -> TargetPlan:
        """Plan ``names`` by ``dims`` from last year, evaluated under TODAY's definitions (like for like)."""
        fs = self.fiscal_year_start_month
        starts = plan_periods(self.year, self.grain, fs)
        base_start = add_periods(starts[0], self.grain, -PLAN_GRAINS[self.grain])
        values = (
            evaluate(
                self.tables,
                self.catalog,
                list(names),
                grain=self.grain,
                by=dims,
                start=base_start,
                end=starts[0],
                definitions="current",
                fiscal_year_start_month=fs,
            )
            if names
            else pd.DataFrame()
        )
        return plan_targets(
            values,
            names,
            year=self.year,
            grain=self.grain,
            by=dims,
            growth=self.growth,
            points=self.points,
            overrides={k: v for k, v in self.rules.items() if k in names},
            fiscal_year_start_month=fs,
        )


def evaluate_plan(
    tables: Tables,
    catalog: Catalog,
    trees: Mapping[str, DriverTree],
    year: str | int,
    *,
    grain: str = "quarter",
    by: Sequence[str] = (),
    kpis: Iterable[str] | None = None,
    department: str | None = None,
    growth: float = DEFAULT_GROWTH,
    points: float = DEFAULT_POINTS,
    overrides: Mapping[str, PlanRule | float | str] | None = None,
    fiscal_year_start_month: int = 1,
) -> TargetPlan:
    """Evaluate last year's actuals on ``tables`` and propose ``year``'s targets (see :func:`plan_targets`).

    ``kpis`` or ``department`` narrow the plan (default: every KPI of the catalog). With ``by``, the plan holds
    the company-wide targets (dimension columns blank) and one per slice; KPIs that cannot be sliced by ``by``
    get the company-wide targets only (listed in ``missing`` with the reason). The consistency check runs
    against the north star's tree among ``trees``.
    """
    chosen = plan_kpis(catalog, kpis, department)
    by = tuple(by)
    plan_periods(year, grain, fiscal_year_start_month)  # a wrong year or grain fails before anything runs
    rules = dict(overrides or {})
    unknown = sorted(set(rules) - set(chosen))
    if unknown:
        raise UnknownNameError("KPI", unknown[0], chosen)
    request = _PlanRequest(tables, catalog, year, grain, growth, points, rules, fiscal_year_start_month)
    company = request.plan(chosen, ())
    checked = _consistency(trees, catalog, company.targets)
    if not by:
        return TargetPlan(company.year, grain, by, company.targets, company.missing, checked)
    sliceable = {n: k for n, k in chosen.items() if catalog.can_slice(n, by)}
    sliced = request.plan(sliceable, by)
    unsliceable = [
        {"kpi": n, "reason": f"cannot be sliced by {', '.join(by)} (company-wide target only)"}
        for n in chosen
        if n not in sliceable
    ]
    parts = [f for f in (company.targets, sliced.targets) if not f.empty]
    targets = pd.concat(parts, ignore_index=True) if parts else sliced.targets
    missing_parts = [f for f in (company.missing, sliced.missing, pd.DataFrame(unsliceable)) if not f.empty]
    missing = pd.concat(missing_parts, ignore_index=True) if missing_parts else sliced.missing
    return TargetPlan(
        company.year,
        grain,
        by,
        targets.reindex(columns=sliced.targets.columns),
        missing.reindex(columns=sliced.missing.columns),
        checked,
    )


def _consistency(trees: Mapping[str, DriverTree], catalog: Catalog, targets: pd.DataFrame) -> pd.DataFrame:
    """:func:`plan_consistency` against the north star's driver tree (empty without one)."""
    tree = next((t for t in trees.values() if t.root == catalog.north_star), None)
    if tree is None:
        return pd.DataFrame(columns=CONSISTENCY_COLUMNS)
    return plan_consistency(targets, tree)


__all__ = [
    "DEFAULT_GROWTH",
    "DEFAULT_POINTS",
    "PLAN_GRAINS",
    "PlanRule",
    "TargetPlan",
    "apply_rule",
    "default_rule",
    "evaluate_plan",
    "parse_overrides",
    "parse_rule",
    "phase",
    "plan_consistency",
    "plan_kpis",
    "plan_periods",
    "plan_targets",
]
