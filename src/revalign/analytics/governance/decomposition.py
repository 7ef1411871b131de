"""⑤ Variance decomposition: why the north star moved between two periods, driver by driver, exactly.

A leader asks "revenue is down 12% — whose lever was it?". Given a :class:`~revalign.definitions.trees.DriverTree`
and each KPI's value in two periods, :func:`decompose` splits the change of the root into one contribution per
driver, recursively down the tree, such that

    Σ leaf contributions + Σ residuals = measured change of the root      (up to float rounding, ~1e-12)

**Method at each node.** A node ``y = f(x₁ … xₙ)`` is split with the **Shapley value** of the change: the
contribution of ``xᵢ`` is the average, over every order in which the inputs could switch from their "before"
to their "after" value, of the change of ``f`` when ``xᵢ`` switches. It is exact for *any* formula (sums,
products, ratios, mixes) by construction — the terms telescope — symmetric (two inputs that move alike get
the same credit) and gives zero to an input that did not move. Cost: 2ⁿ evaluations of ``f`` per node, so the
number of inputs of one node is capped at :data:`MAX_INPUTS` (deeper trees are cheap: the cost is per node).
For two factors it equals the familiar midpoint split ``Δa·(b₀+b₁)/2``.

``method="lmdi"`` uses the **logarithmic mean Divisia index** (LMDI-I) on nodes that are pure products or
quotients of positive values: ``cᵢ = L(y₁, y₀)·eᵢ·ln(xᵢ₁/xᵢ₀)`` with ``L(a, b) = (a−b)/(ln a − ln b)``.
Also exact, and it is path-independent in the log sense (a factor's credit depends only on its own growth
rate), which analysts of multiplicative chains often prefer. It is undefined for sums and for zero or negative
values; such nodes fall back to Shapley and the row says so. Both agree to first order; they differ in how the
interaction term (both factors moving at once) is shared: Shapley halves it, LMDI shares it in proportion to
the log-changes. ``docs/driver_tree.md`` compares them on a worked example.

**Nesting.** When a driver has its own formula, its contribution ``c`` is shared among its inputs in
proportion to their share of *its* change: ``c · dⱼ / Δx``. Because Shapley gives exactly zero to an input that
did not move, ``Δx = 0`` implies ``c = 0`` and nothing is divided by zero.

**Residual (timing/mix).** A tree formula is usually not an identity of the measured north star: the leads
created in a quarter are not the ones whose deals closed in it. The gap ``Δmeasured − Δformula`` at each node
is reported as an explicit ``residual`` row (never spread silently over the drivers), so contributions plus
residual equal the measured change. A node whose formula cannot be evaluated (missing input, zero denominator)
is not split: its whole change goes to its residual row and its drivers' contributions are ``NaN``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, Protocol

import pandas as pd

from revalign.analytics.governance.maturity import longest_window, mature_period
from revalign.analytics.governance.scorecard import latest_period
from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.trees import DriverTree, Formula, find_tree
from revalign.kpis.query import evaluate
from revalign.model.access import Tables
from revalign.model.calendar import add_periods, parse_period, period_label, period_start

Method = Literal["shapley", "lmdi"]
Kind = Literal["root", "driver", "residual"]
MAX_INPUTS = 12
"""Largest number of inputs of one node for the Shapley split (2¹² = 4096 formula evaluations)."""

RESIDUAL_LABEL = "residual (timing/mix)"


def shapley_contributions(
    formula: Formula, before: Mapping[str, float], after: Mapping[str, float]
) -> dict[str, float]:
    """Exact Shapley split of ``formula(after) − formula(before)`` over ``formula.inputs``.

    >>> from revalign.definitions.trees import parse_formula
    >>> shapley_contributions(parse_formula("a * b"), {"a": 2, "b": 10}, {"a": 3, "b": 12})
    {'a': 11.0, 'b': 5.0}
    """
    names = formula.inputs
    n = len(names)
    if n > MAX_INPUTS:
        raise ValueError(
            f"formula {formula.text!r} has {n} inputs; the Shapley split handles at most {MAX_INPUTS}. "
            "Group inputs into intermediate KPIs (a nested node) to keep each formula small."
        )
    values = [
        formula({name: (after if mask >> i & 1 else before)[name] for i, name in enumerate(names)})
        for mask in range(1 << n)
    ]
    weight = [math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)]
    out: dict[str, float] = {}
    for i, name in enumerate(names):
        bit = 1 << i
        terms = [
            weight[mask.bit_count()] * (values[mask | bit] - values[mask]) for mask in range(1 << n) if not mask & bit
        ]
        out[name] = math.fsum(terms)
    return out


def _log_mean(a: float, b: float) -> float:
    gap = math.log(a) - math.log(b)
    # equal, or so close that their logarithms are the same float (0.01 and 0.010000000000000002): the limit
    # of the logarithmic mean as b → a is a (Hypothesis found the division by zero)
    return (a + b) / 2 if gap == 0 else (a - b) / gap


def lmdi_contributions(formula: Formula, before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    """Exact LMDI-I split of a pure product/quotient of positive values; ``ValueError`` otherwise."""
    if formula.exponents is None:
        raise ValueError(f"LMDI needs a pure product or quotient of distinct KPIs; {formula.text!r} is not one")
    y0, y1 = formula(before), formula(after)
    xs = [(before[k], after[k]) for k in formula.inputs]
    if not all(v > 0 for pair in xs for v in pair) or not (y0 > 0 and y1 > 0):
        raise ValueError(f"LMDI needs positive values of every input of {formula.text!r}")
    weight = _log_mean(y1, y0)
    return {k: weight * formula.exponents[k] * math.log(after[k] / before[k]) for k in formula.inputs}


@dataclass(frozen=True)
class Contribution:
    """One line of a decomposition: a tree node (or a residual) and its share of the root's change.

    ``contribution`` is in the root's unit; ``contribution_pct`` is the same in percentage points of the
    root's "before" value (so the leaf-level ``contribution_pct`` sum to the root's ``pct_change``).
    """

    kpi: str
    kind: Kind
    label: str
    department: str | None
    unit: str | None
    parent: str | None
    level: int
    path: tuple[str, ...]
    is_leaf: bool
    value_from: float | None
    value_to: float | None
    change: float | None
    pct_change: float | None
    contribution: float | None
    contribution_pct: float | None
    method: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = list(self.path)
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}


@dataclass(frozen=True)
class Decomposition:
    """Why the root KPI of a driver tree moved from ``period_from`` to ``period_to``, line by line."""

    tree: str
    root: str
    label: str
    unit: str | None
    period_from: str
    period_to: str
    value_from: float
    value_to: float
    change: float
    pct_change: float | None
    formula_change: float
    residual: float
    method: str
    rows: tuple[Contribution, ...] = field(default_factory=tuple)
    where: str | None = None  # the filter every KPI was evaluated under (e.g. "segment = 'enterprise'")
    note: str | None = None  # why the default period is not the latest one (cohorts still converting)

    def leaf_rows(self) -> tuple[Contribution, ...]:
        """Leaves and residuals: the lines that add up to the root's change."""
        return tuple(r for r in self.rows if r.is_leaf)

    def by_department(self) -> dict[str, float]:
        """Sum of leaf contributions per department (residuals under ``"residual"``), largest effect first."""
        out: dict[str, float] = {}
        for r in self.leaf_rows():
            key = "residual" if r.kind == "residual" else (r.department or "unassigned")
            if r.contribution is not None and not math.isnan(r.contribution):
                out[key] = out.get(key, 0.0) + r.contribution
        return dict(sorted(out.items(), key=lambda kv: -abs(kv[1])))

    def summary(self, *, digits: int = 1) -> str:
        """The one line a leader reads: ``"New revenue −12.0%: New leads −8.0 (marketing), …"``.

        Driver figures are percentage points ("pts") of the root's "before" value, so they add up to the headline
        percentage (the residual included); without a "before" value they are in the root's unit.
        """
        use_pct = self.pct_change is not None
        head = (
            f"{self.label} {_signed(self.pct_change, digits)}%"
            if use_pct
            else f"{self.label} {_signed(self.change, digits)}"
        )
        parts = []
        for r in self.leaf_rows():
            value = r.contribution_pct if use_pct else r.contribution
            if value is None or math.isnan(value):
                parts.append(f"{r.label} n/a")
                continue
            if r.kind == "residual" and round(value, digits) == 0:
                continue
            owner = f" ({r.department})" if r.department else ""
            points = " pts" if use_pct else ""
            parts.append(f"{r.label} {_signed(value, digits)}{points}{owner}")
        return f"{head}: " + ", ".join(parts) if parts else head

    def waterfall(self) -> pd.DataFrame:
        """The change as a waterfall: a start bar (the root in ``period_from``), one bar per driver (its
        contribution, in the root's unit; the residual last), an end bar (the root in ``period_to``).

        ``measure`` is Plotly's (absolute, relative, total); ``running`` is where each bar ends, so the last
        relative bar ends on the end value (start + every contribution = end, the residual included).
        """
        bars: list[tuple[str, str, str | None, str, float]] = [
            (self.period_from, self.root, "start", "absolute", self.value_from)
        ]
        for r in self.leaf_rows():
            value = 0.0 if r.contribution is None or math.isnan(r.contribution) else r.contribution
            bars.append(
                (r.label, r.kpi, r.department or ("residual" if r.kind == "residual" else None), "relative", value)
            )
        bars.append((self.period_to, self.root, "end", "total", self.value_to))
        frame = pd.DataFrame(bars, columns=["label", "kpi", "department", "measure", "value"])
        running = frame["value"].where(frame["measure"] != "total", 0.0).cumsum()
        frame["running"] = running.where(frame["measure"] != "total", frame["value"])
        return frame

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame([r.to_dict() for r in self.rows])

    def to_dict(self) -> dict[str, Any]:
        head = {k: v for k, v in asdict(self).items() if k != "rows"}
        head = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in head.items()}
        return {
            **head,
            "summary": self.summary(),
            "by_department": self.by_department(),
            "rows": [r.to_dict() for r in self.rows],
        }


def _signed(value: float | None, digits: int) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    text = f"{abs(value):,.{digits}f}"
    return ("−" if value < 0 and float(text.replace(",", "")) != 0 else "+") + text


def _num(values: Mapping[str, float | None], kpi: str) -> float:
    value = values.get(kpi)
    return math.nan if value is None else float(value)


class KpiLike(Protocol):
    """What a decomposition reads of a KPI: a catalog ``Kpi``, or any object with these attributes."""

    @property
    def label(self) -> str: ...
    @property
    def department(self) -> str | None: ...
    @property
    def unit(self) -> str | None: ...


def _meta(kpis: Mapping[str, KpiLike] | None, kpi: str) -> tuple[str, str | None, str | None]:
    info = (kpis or {}).get(kpi)
    if info is None:
        return kpi, None, None
    return info.label or kpi, info.department, info.unit


def _pct(change: float, base: float) -> float | None:
    if math.isnan(change) or math.isnan(base) or base == 0:
        return None
    return change / abs(base) * 100.0


def _split(
    formula: Formula, before: Mapping[str, float], after: Mapping[str, float], method: Method
) -> tuple[dict[str, float], str | None, str]:
    """Contributions of a node's inputs to ``f(after) − f(before)``; ``NaN`` everywhere if undefined."""
    missing = [k for k in formula.inputs if math.isnan(before[k]) or math.isnan(after[k])]
    if missing:
        return {k: math.nan for k in formula.inputs}, None, f"not split: no value for {', '.join(missing)}"
    if math.isnan(formula(before)) or math.isnan(formula(after)):
        return {k: math.nan for k in formula.inputs}, None, "not split: the formula divides by zero"
    if method == "lmdi":
        try:
            return lmdi_contributions(formula, before, after), "lmdi", ""
        except ValueError as exc:
            return shapley_contributions(formula, before, after), "shapley", f"LMDI not applicable ({exc})"
    return shapley_contributions(formula, before, after), "shapley", ""


class _Walk:
    """One decomposition in progress: the tree, both periods' values (unmeasured nodes filled from their formula)
    and the rows found so far, root first, depth first."""

    def __init__(
        self,
        tree: DriverTree,
        before: Mapping[str, float | None],
        after: Mapping[str, float | None],
        method: Method,
        kpis: Mapping[str, KpiLike] | None,
    ) -> None:
        self.tree, self.method, self.kpis = tree, method, kpis
        self.b: dict[str, float] = {k: _num(before, k) for k in tree.kpis}
        self.a: dict[str, float] = {k: _num(after, k) for k in tree.kpis}
        # Fill unmeasured intermediate nodes from their formula, deepest first (reverse depth-first order).
        for kpi in reversed(tree.kpis):
            if kpi in tree.formulas:
                for vals in (self.b, self.a):
                    if math.isnan(vals[kpi]):
                        vals[kpi] = tree.formulas[kpi](vals)
        self.root_from = self.b[tree.root]
        self.rows: list[Contribution] = []

    def add(
        self,
        kpi: str,
        kind: Kind,
        parent: str | None,
        path: tuple[str, ...],
        contribution: float,
        *,
        method: str | None = None,
        note: str = "",
    ) -> None:
        """Append the line of ``kpi`` (or of the residual under ``parent``) with its share of the root's change."""
        label, department, unit = _meta(self.kpis, kpi)
        if kind == "residual":
            parent_label = _meta(self.kpis, parent or "")[0]
            label = RESIDUAL_LABEL if parent == self.tree.root else f"{RESIDUAL_LABEL} in {parent_label}"
            department, unit = None, None
            v0 = v1 = change = math.nan
        else:
            v0, v1 = self.b[kpi], self.a[kpi]
            change = v1 - v0
        self.rows.append(
            Contribution(
                kpi=kpi,
                kind=kind,
                label=label,
                department=department,
                unit=unit,
                parent=parent,
                level=len(path) - 1,
                path=path,
                is_leaf=kind == "residual" or kpi not in self.tree.formulas,
                value_from=None if math.isnan(v0) else v0,
                value_to=None if math.isnan(v1) else v1,
                change=None if math.isnan(change) else change,
                pct_change=_pct(change, v0),
                contribution=None if math.isnan(contribution) else contribution + 0.0,  # no "−0"
                contribution_pct=_pct(contribution, self.root_from),
                method=method,
                note=note,
            )
        )

    def walk(self, kpi: str, parent: str | None, path: tuple[str, ...], contribution: float) -> None:
        """Add ``kpi``'s line and, for a formula node, share ``contribution`` among its inputs (recursively)."""
        formula = self.tree.formulas.get(kpi)
        if formula is None:
            self.add(kpi, "driver", parent, path, contribution)
            return
        parts, used, note = _split(formula, self.b, self.a, self.method)
        self.add(kpi, "driver", parent, path, contribution, method=used, note=note)
        node_change = self.a[kpi] - self.b[kpi]
        if math.isnan(contribution) or math.isnan(node_change):
            scale = math.nan
        else:  # Shapley and LMDI give exactly 0 to an input that did not move, so 0/0 never carries weight
            scale = 0.0 if node_change == 0 else contribution / node_change
        residual = node_change - (formula(self.a) - formula(self.b)) if used else node_change
        for child in formula.inputs:
            self.walk(child, kpi, (*path, child), parts[child] * scale)
        self.add(kpi, "residual", kpi, (*path, f"residual:{kpi}"), residual * scale, method=used, note=note)

    def root(self) -> tuple[float, float]:
        """Split the root's change over its inputs; ``(measured change, the formula's change)``."""
        tree, b, a = self.tree, self.b, self.a
        root_formula = tree.formulas.get(tree.root)
        if root_formula is None:
            raise ValueError(f"tree {tree.name!r}: root {tree.root!r} has no formula")
        root_change = a[tree.root] - b[tree.root]
        parts, used, note = _split(root_formula, b, a, self.method)
        self.add(tree.root, "root", None, (tree.root,), root_change, method=used, note=note)
        formula_change = root_formula(a) - root_formula(b) if used else math.nan
        for child in root_formula.inputs:
            self.walk(child, tree.root, (tree.root, child), parts[child])
        root_residual = root_change - formula_change if used else root_change
        path = (tree.root, f"residual:{tree.root}")
        self.add(tree.root, "residual", tree.root, path, root_residual, method=used, note=note)
        return root_change, formula_change


def decompose(
    tree: DriverTree,
    before: Mapping[str, float | None],
    after: Mapping[str, float | None],
    *,
    method: Method = "shapley",
    kpis: Mapping[str, KpiLike] | None = None,
    period_from: str = "before",
    period_to: str = "after",
) -> Decomposition:
    """Attribute the change of ``tree.root`` from ``before`` to ``after`` to every driver of the tree.

    ``before``/``after`` map KPI names to measured values (a KPI with a formula but no measured value takes
    its formula's value). ``kpis`` maps names to catalog KPIs (anything with ``label``, ``department`` and
    ``unit`` attributes) for labels and departments.
    """
    if method not in ("shapley", "lmdi"):
        raise ValueError(f"method must be 'shapley' or 'lmdi'; got {method!r}")
    run = _Walk(tree, before, after, method, kpis)
    root_change, formula_change = run.root()
    # Nested residuals are drivers' leaf lines too; the headline residual is the sum of all residual rows.
    residuals = [r.contribution for r in run.rows if r.kind == "residual" and r.contribution is not None]
    label, _, unit = _meta(kpis, tree.root)
    return Decomposition(
        tree=tree.name,
        root=tree.root,
        label=label,
        unit=unit,
        period_from=period_from,
        period_to=period_to,
        value_from=run.root_from,
        value_to=run.a[tree.root],
        change=root_change,
        pct_change=_pct(root_change, run.root_from),
        formula_change=formula_change,
        residual=math.fsum(residuals),
        method=method,
        rows=tuple(run.rows),
    )


# -------------------------------------------------------------------------------------------- on the tables


def evaluate_decomposition(
    tables: Tables,
    catalog: Catalog,
    trees: Mapping[str, DriverTree],
    root: str | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    grain: str = "quarter",
    tree: str | None = None,
    method: Method = "shapley",
    where: str | None = None,
    fiscal_year_start_month: int = 1,
) -> Decomposition:
    """Decompose the change of ``root`` (default: the catalog's north star) from period ``start`` to ``end``.

    ``start``/``end`` are period labels (``2025-Q1``); ``end`` defaults to the latest *mature* period in which the
    root has a value (see :mod:`~revalign.analytics.governance.maturity`: cohort KPIs of the tree must have
    finished converting; the result's ``note`` says which periods were left out) and ``start`` to the period
    before ``end``. ``tree`` picks one of ``trees`` by name; otherwise the
    first tree whose root is ``root``. ``where`` filters every KPI of the tree (the KPI language, e.g.
    ``"segment = 'enterprise'"``), to explain one slice's change.
    """
    chosen = find_tree(trees, root=root or (None if tree else catalog.north_star), name=tree)
    fs = fiscal_year_start_month
    note = None
    if end is None:
        latest = latest_period(tables, catalog, chosen.root, grain, where=where, fiscal_year_start_month=fs)
        maturity = mature_period(latest, grain, longest_window(catalog, chosen.kpis), fs)
        end, note = maturity.period, maturity.note
    if start is None:  # the period before ``end``
        start = period_label(add_periods(parse_period(end, fs).start, grain, -1), grain, fs)
    p0, p1 = parse_period(start, fs), parse_period(end, fs)
    for p in (p0, p1):
        if p.grain != grain:
            raise ValueError(f"period {p.label!r} is a {p.grain}, but the grain asked for is {grain!r}")
    lo, hi = min(p0.start, p1.start), max(p0.end, p1.end)
    values = evaluate(
        tables, catalog, list(chosen.kpis), grain=grain, start=lo, end=hi, where=where, fiscal_year_start_month=fs
    )
    starts = [period_start(pd.Timestamp(v).date(), grain, fs) for v in values["period_start"]]
    picked: dict[dt.date, dict[str, float | None]] = {p0.start: {}, p1.start: {}}
    for kpi, s, value in zip(values["kpi"], starts, values["value"], strict=True):
        if s in picked and value is not None and not pd.isna(value):
            picked[s][kpi] = float(value)
    result = decompose(
        chosen,
        picked[p0.start],
        picked[p1.start],
        method=method,
        kpis=catalog.kpis,
        period_from=period_label(p0.start, grain, fs),
        period_to=period_label(p1.start, grain, fs),
    )
    return replace(result, where=where, note=note)
