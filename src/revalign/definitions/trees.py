"""③ The north-star driver tree: which KPIs multiply (or add) up to the north star, as editable YAML.

The KPI catalog says *who* owns a KPI and which KPI it rolls up to (``parent``); a driver tree says *how*:
each node of the tree is a KPI with a formula over other KPIs, such as::

    new_revenue = new_leads * lead_to_opportunity_rate * win_rate * average_deal_size

so that a change of the north star between two periods can be attributed exactly to the drivers
(:mod:`revalign.analytics.governance.decomposition`). Trees are data, not code: the defaults live in
``catalog/trees/*.yaml`` and a project adds its own in ``<project>/trees/*.yaml`` (or in a ``trees/`` folder of
any catalog folder listed in ``revalign.yaml``); a project tree with the same ``name`` replaces the default.

Formulas are parsed with Python's own :mod:`ast` parser and accepted only if every node is on a whitelist:
KPI names, numeric literals, parentheses, unary minus and the four operators ``+ - * /``. Nothing is ever
``eval``-ed; a formula is compiled into a small closure over the whitelisted nodes. Validation collects every
problem of every file (syntax, forbidden operator, unknown KPI, cycle, unreachable node) and raises one
:class:`~revalign.errors.CatalogError` whose ``issues`` name the file and line of each.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from revalign.definitions.issues import Issue, Level, problems, sort_issues
from revalign.definitions.validate import Rule, run_rules
from revalign.definitions.yamlfile import LineDict, LineList, error_line, node_line, parse_yaml
from revalign.errors import CatalogError, UnknownNameError

TREES_DIR = Path(__file__).parent / "kpis" / "default" / "trees"
"""The default driver trees shipped with revalign."""

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: lambda a, b: a / b if b != 0 else math.nan,
}
_FORBIDDEN: dict[type[ast.AST], str] = {
    ast.Pow: "a power (**)",
    ast.Mod: "a modulo (%)",
    ast.FloorDiv: "a floor division (//)",
    ast.MatMult: "a matrix product (@)",
    ast.Call: "a function call",
    ast.Attribute: "an attribute",
    ast.Subscript: "a subscript",
    ast.Compare: "a comparison",
    ast.BoolOp: "a boolean operator",
    ast.IfExp: "a conditional",
    ast.Lambda: "a lambda",
    ast.Constant: "a literal that is not a number",
}


class FormulaError(ValueError):
    """A formula uses something outside the whitelist (raised by :func:`parse_formula`)."""

    def __init__(self, message: str, rule: str = "formula") -> None:
        self.rule = rule
        super().__init__(message)


@dataclass(frozen=True)
class Formula:
    """A whitelisted arithmetic expression over KPI names.

    ``inputs`` are the distinct KPI names in order of first appearance. ``exponents`` is set when the
    formula is a pure product/quotient of distinct names (``a * b / c`` → ``{a: 1, b: 1, c: -1}``): those
    are the nodes where LMDI applies.
    """

    text: str
    inputs: tuple[str, ...]
    exponents: Mapping[str, int] | None = None
    _fn: Callable[[Mapping[str, float]], float] = field(repr=False, compare=False, default=lambda v: math.nan)

    def __call__(self, values: Mapping[str, float]) -> float:
        """The formula's value; ``nan`` when an input is missing or a denominator is zero."""
        try:
            return float(self._fn(values))
        except (KeyError, TypeError):
            return math.nan

    @property
    def is_product(self) -> bool:
        return self.exponents is not None


def parse_formula(text: str) -> Formula:
    """Parse ``text`` into a :class:`Formula`, or raise :class:`FormulaError` naming what is not allowed.

    >>> f = parse_formula("leads * rate / (cost + 1)")
    >>> f.inputs, f({"leads": 10, "rate": 0.5, "cost": 4})
    (('leads', 'rate', 'cost'), 1.0)
    """
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("a formula must be a non-empty string such as 'new_leads * win_rate'", "formula_syntax")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"cannot parse {text!r}: {exc.msg} at column {exc.offset}", "formula_syntax") from exc
    names: list[str] = []
    fn = _compile(tree.body, names)
    return Formula(text=text.strip(), inputs=tuple(dict.fromkeys(names)), exponents=_exponents(tree.body), _fn=fn)


def _compile(node: ast.AST, names: list[str]) -> Callable[[Mapping[str, float]], float]:
    if isinstance(node, ast.Name):
        name = node.id
        names.append(name)
        return lambda v: float(v[name])
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        const = float(node.value)
        return lambda v: const
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _compile(node.operand, names)
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        return lambda v: sign * inner(v)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right, op = _compile(node.left, names), _compile(node.right, names), _BINARY[type(node.op)]
        return lambda v: op(left(v), right(v))
    shown = ast.unparse(node) if isinstance(node, ast.expr) else type(node).__name__
    culprit: ast.AST = node.op if isinstance(node, ast.BinOp | ast.UnaryOp | ast.BoolOp) else node
    kind = _FORBIDDEN.get(type(culprit), _FORBIDDEN.get(type(node), f"a {type(culprit).__name__} node"))
    raise FormulaError(
        f"{shown!r} is not allowed ({kind}); formulas may only use KPI names, numbers, parentheses and + - * /",
        "formula_whitelist",
    )


def _exponents(node: ast.AST) -> dict[str, int] | None:
    """``{name: ±1}`` when ``node`` is a product/quotient of distinct names, else ``None``."""
    out: dict[str, int] = {}

    def walk(n: ast.AST, sign: int) -> bool:
        if isinstance(n, ast.Name):
            if n.id in out:
                return False
            out[n.id] = sign
            return True
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
            return walk(n.left, sign) and walk(n.right, sign)
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Div):
            return walk(n.left, sign) and walk(n.right, -sign)
        return False

    return out if walk(node, 1) else None


@dataclass(frozen=True)
class DriverTree:
    """A north-star driver tree: a root KPI and, for some KPIs, a formula over their drivers.

    KPIs without a formula are the tree's leaves. ``lines`` maps each formula KPI to its line in ``source``.
    """

    name: str
    root: str
    formulas: Mapping[str, Formula]
    label: str = ""
    description: str = ""
    source: str | None = None
    lines: Mapping[str, int] = field(default_factory=dict)

    def children(self, kpi: str) -> tuple[str, ...]:
        """The direct drivers of ``kpi`` (empty for a leaf)."""
        formula = self.formulas.get(kpi)
        return formula.inputs if formula else ()

    @property
    def kpis(self) -> tuple[str, ...]:
        """Every KPI in the tree, root first, depth first (each once)."""
        seen: dict[str, None] = {}

        def walk(kpi: str) -> None:
            if kpi in seen:
                return
            seen[kpi] = None
            for child in self.children(kpi):
                walk(child)

        walk(self.root)
        return tuple(seen)

    @property
    def leaves(self) -> tuple[str, ...]:
        return tuple(k for k in self.kpis if k not in self.formulas)

    def edges(self) -> list[tuple[str, str]]:
        """``(child, parent)`` pairs, the same shape as ``Catalog.tree_edges()``."""
        return [(child, kpi) for kpi in self.kpis for child in self.children(kpi)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "root": self.root,
            "nodes": {k: f.text for k, f in self.formulas.items()},
            "source": self.source,
        }


# ---------------------------------------------------------------------------------------------- loading

_KEYS = ("name", "label", "description", "root", "nodes")


def _issue(file: str | None, line: int | None, rule: str, message: str, tree: str | None = None) -> Issue:
    return Issue(Level.ERROR, message, file=file, line=line, subject=tree, rule=rule, kind="tree")


def _scalars(body: LineDict, file: str | None, issues: list[Issue]) -> dict[str, str]:
    """The tree's name, label, description and root (each a non-empty string)."""
    out: dict[str, str] = {}
    for key in ("name", "label", "description", "root"):
        if key not in body:
            if key in ("name", "root"):
                issues.append(_issue(file, body.line, "required", f"missing required key {key!r}"))
            continue
        value = body[key]
        if isinstance(value, LineDict | LineList) or value is None or not str(value).strip():
            issues.append(_issue(file, body.value_lines.get(key), "structure", f"{key!r} must be a non-empty string"))
            continue
        out[key] = str(value).strip()
    return out


def _formulas(nodes: LineDict, file: str | None, name: str | None, issues: list[Issue]) -> dict[str, Formula]:
    """Each node's formula, parsed; duplicates, non-strings and forbidden formulas become issues."""
    for again, at in nodes.duplicates:
        issues.append(_issue(file, at, "duplicate", f"node {again!r} is defined twice", name))
    formulas: dict[str, Formula] = {}
    for key, value in nodes.items():
        kpi, line = str(key), nodes.value_lines.get(str(key))
        if isinstance(value, LineDict | LineList):
            issues.append(_issue(file, line, "formula_syntax", "a node's value must be a formula string", name))
            continue
        try:
            formulas[kpi] = parse_formula(str(value))
        except FormulaError as exc:
            issues.append(_issue(file, line, exc.rule, str(exc), name))
    return formulas


def _read_tree(text: str, file: str | None, issues: list[Issue]) -> DriverTree | None:
    """Parse one tree document, appending every problem to ``issues``; ``None`` if it cannot be built."""
    try:
        doc = parse_yaml(text)
    except yaml.YAMLError as exc:
        issues.append(_issue(file, error_line(exc), "yaml", f"not valid YAML: {exc}"))
        return None
    if doc is None:
        issues.append(_issue(file, 1, "structure", "the file is empty; expected a top-level 'tree:' mapping"))
        return None
    body = doc.get("tree") if isinstance(doc, LineDict) else None
    if not isinstance(body, LineDict):
        line = node_line(doc, 1)
        issues.append(_issue(file, line, "structure", "expected a top-level 'tree:' mapping with name, root and nodes"))
        return None
    for key in body:
        if key not in _KEYS:
            message = f"unknown key {key!r}; allowed keys: {', '.join(sorted(_KEYS))}"
            issues.append(_issue(file, body.key_lines.get(str(key)), "unknown_key", message))
    scalars = _scalars(body, file, issues)
    name = scalars.get("name")
    nodes = body.get("nodes")
    if not isinstance(nodes, LineDict) or not nodes:
        issues.append(_issue(file, body.line, "required", "missing 'nodes': a mapping of KPI name → formula", name))
        return None
    formulas = _formulas(nodes, file, name, issues)
    if name is None or "root" not in scalars:
        return None
    return DriverTree(
        name=name,
        root=scalars["root"],
        formulas=formulas,
        label=scalars.get("label", ""),
        description=scalars.get("description", ""),
        source=file,
        lines={str(k): line for k, line in nodes.key_lines.items()},
    )


# ---------------------------------------------------------------------------------------------- rules


class _TreeRule(Rule[DriverTree]):
    """A rule over one built tree; :meth:`issue` places a finding at the line of a node."""

    def issue(self, tree: DriverTree, kpi: str | None, message: str) -> Issue:
        line = tree.lines.get(kpi) if kpi else None
        return _issue(tree.source, line, self.name, message, tree.name)


class RootRule(_TreeRule):
    """The root has a formula under ``nodes``."""

    name = "root"

    def check(self, subject: DriverTree) -> list[Issue]:
        root = subject.root
        if root in subject.formulas or root in subject.lines:
            return []
        return [self.issue(subject, None, f"root {root!r} has no formula under 'nodes'; add '{root}: <formula>'")]


class KnownKpiRule(_TreeRule):
    """Every KPI a tree names is in the catalog (close names suggested)."""

    name = "unknown_kpi"

    def __init__(self, known_kpis: Iterable[str]) -> None:
        self.known = set(known_kpis)

    def check(self, subject: DriverTree) -> list[Issue]:
        mentioned = [subject.root, *subject.lines]
        for formula in subject.formulas.values():
            mentioned.extend(formula.inputs)
        out = []
        for kpi in dict.fromkeys(mentioned):
            if kpi not in self.known:
                where = next((k for k, f in subject.formulas.items() if kpi in f.inputs), kpi)
                exc = UnknownNameError("KPI", kpi, self.known)
                out.append(self.issue(subject, where, f"{exc} Add it to the KPI catalog or fix the name."))
        return out


class CycleRule(_TreeRule):
    """Formulas do not form a cycle (each cycle reported once, where it closes)."""

    name = "cycle"

    def check(self, subject: DriverTree) -> list[Issue]:
        state: dict[str, int] = {}  # depth-first search with colours: 1 on the path, 2 done
        reported: set[frozenset[str]] = set()
        out: list[Issue] = []

        def visit(kpi: str, path: list[str]) -> None:
            state[kpi] = 1
            for child in subject.children(kpi):
                if state.get(child) == 1:
                    cycle = [*path[path.index(child) :], child]
                    if frozenset(cycle) not in reported:
                        reported.add(frozenset(cycle))
                        out.append(self.issue(subject, kpi, "formulas form a cycle: " + " → ".join(cycle)))
                elif state.get(child) is None:
                    visit(child, [*path, child])
            state[kpi] = 2

        for start in [subject.root, *subject.formulas]:
            if state.get(start) is None:
                visit(start, [start])
        return out


class ReachableRule(_TreeRule):
    """Every node with a formula is a driver of the root."""

    name = "unreachable"

    def check(self, subject: DriverTree) -> list[Issue]:
        reachable = set(subject.kpis)
        return [
            self.issue(subject, kpi, f"node {kpi!r} is not a driver of root {subject.root!r}; use it in a formula")
            for kpi in subject.formulas
            if kpi not in reachable
        ]


def tree_rules(known_kpis: Iterable[str] | None = None) -> list[Rule[DriverTree]]:
    """The rules a driver tree is checked with (the KPI names only when the catalog is known)."""
    known: list[Rule[DriverTree]] = [] if known_kpis is None else [KnownKpiRule(known_kpis)]
    return [RootRule(), *known, CycleRule(), ReachableRule()]


def validate_tree(tree: DriverTree, known_kpis: Iterable[str] | None = None) -> list[Issue]:
    """Every structural problem of ``tree``: root without formula, unknown KPIs, cycles, unreachable nodes."""
    return run_rules(tree, tree_rules(known_kpis))


def _raise(issues: list[Issue]) -> None:
    if issues:
        raise CatalogError(problems(issues, "driver trees"), issues)


def check_tree_text(
    text: str, *, file: str | None = None, known_kpis: Iterable[str] | None = None
) -> tuple[DriverTree | None, list[Issue]]:
    """One tree from YAML text and every problem in it (reading and rules), nothing raised."""
    found: list[Issue] = []
    tree = _read_tree(text, file, found)
    if tree is None:
        return None, sort_issues(found)
    return tree, run_rules(tree, tree_rules(known_kpis), found=found)


def parse_tree(text: str, *, file: str | None = None, known_kpis: Iterable[str] | None = None) -> DriverTree:
    """Build and validate one tree from YAML text; raises :class:`CatalogError` listing every issue."""
    tree, issues = check_tree_text(text, file=file, known_kpis=known_kpis)
    _raise(issues)
    assert tree is not None
    return tree


def tree_files(folders: Iterable[str | Path] = (), *, include_defaults: bool = True) -> list[Path]:
    """The default tree files followed by ``*.yaml``/``*.yml`` in each of ``folders`` (in order)."""
    out = sorted(TREES_DIR.glob("*.yaml")) if include_defaults else []
    for folder in folders:
        folder = Path(folder)
        if folder.is_dir():
            out.extend(sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]))
    return out


def project_tree_folders(folder: Path, catalog_paths: Iterable[str | Path] = ()) -> list[Path]:
    """Where a project keeps its trees: ``<project>/trees/`` and ``trees/`` in each catalog folder of revalign.yaml."""
    folders = [folder / "trees"]
    for extra in catalog_paths:
        path = Path(extra) if Path(extra).is_absolute() else folder / extra
        folders.append(path / "trees")
    return folders


def check_trees(
    folders: Iterable[str | Path] = (), *, known_kpis: Iterable[str] | None = None, include_defaults: bool = True
) -> tuple[dict[str, DriverTree], list[Issue]]:
    """The usable trees (by name; a later tree replaces an earlier of the same name) and every issue of every file."""
    known = list(known_kpis) if known_kpis is not None else None
    issues: list[Issue] = []
    trees: dict[str, DriverTree] = {}
    for path in tree_files(folders, include_defaults=include_defaults):
        tree, found = check_tree_text(path.read_text(encoding="utf-8"), file=str(path), known_kpis=known)
        issues.extend(found)
        if tree is not None and not found:
            trees[tree.name] = tree
    return trees, sort_issues(issues)


def load_trees(
    folders: Iterable[str | Path] = (), *, known_kpis: Iterable[str] | None = None, include_defaults: bool = True
) -> dict[str, DriverTree]:
    """Load the default trees plus the trees in ``folders``; a later tree with the same name replaces an earlier.

    Every file is read and validated before anything is raised, so one :class:`CatalogError` lists all issues.
    """
    trees, issues = check_trees(folders, known_kpis=known_kpis, include_defaults=include_defaults)
    _raise(issues)
    return trees


def default_trees(*, known_kpis: Iterable[str] | None = None) -> dict[str, DriverTree]:
    """The driver trees shipped with revalign (``revenue``, ``ltv_cac``), by name."""
    return load_trees((), known_kpis=known_kpis)


def find_tree(trees: Mapping[str, DriverTree], root: str | None = None, name: str | None = None) -> DriverTree:
    """The tree called ``name``, else the first tree whose root is ``root``; unknown names list the known ones."""
    if name is not None:
        if name not in trees:
            raise UnknownNameError("driver tree", name, trees)
        return trees[name]
    for tree in trees.values():
        if root is None or tree.root == root:
            return tree
    raise UnknownNameError("driver tree root", str(root), {t.root for t in trees.values()})
