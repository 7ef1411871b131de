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

from revalign.errors import CatalogError, FileContext, UnknownNameError

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


@dataclass(frozen=True)
class TreeIssue:
    """One problem in a driver-tree file: where it is, which rule it breaks, and what to do."""

    file: str | None
    line: int | None
    tree: str | None
    node: str | None
    rule: str
    message: str

    def __str__(self) -> str:
        where = str(FileContext(self.file, self.line))
        what = f"tree {self.tree!r}" + (f", node {self.node!r}" if self.node else "") if self.tree else ""
        return f"{where}: {what + ': ' if what else ''}{self.message} (rule {self.rule})"

    def as_dict(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in ("file", "line", "tree", "node", "rule", "message")}


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
    op = getattr(node, "op", None)
    kind = _FORBIDDEN.get(type(op), _FORBIDDEN.get(type(node), f"a {type(op or node).__name__} node"))
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


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping_get(node: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None


def _read_tree(text: str, file: str | None, issues: list[TreeIssue]) -> DriverTree | None:
    """Parse one tree document, appending every problem to ``issues``; ``None`` if it cannot be built."""

    def issue(line: int | None, rule: str, message: str, tree: str | None = None, node: str | None = None) -> None:
        issues.append(TreeIssue(file, line, tree, node, rule, message))

    try:
        doc = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        issue(mark.line + 1 if mark else None, "yaml", f"not valid YAML: {exc}")
        return None
    if doc is None:
        issue(1, "structure", "the file is empty; expected a top-level 'tree:' mapping")
        return None
    top = _mapping_get(doc, "tree") if isinstance(doc, yaml.MappingNode) else None
    if top is None or not isinstance(top[1], yaml.MappingNode):
        issue(_line(doc), "structure", "expected a top-level 'tree:' mapping with name, root and nodes")
        return None
    body = top[1]
    known_keys = {"name", "label", "description", "root", "nodes"}
    for k, _ in body.value:
        if k.value not in known_keys:
            issue(_line(k), "unknown_key", f"unknown key {k.value!r}; allowed keys: {', '.join(sorted(known_keys))}")
    scalars: dict[str, str] = {}
    for key in ("name", "label", "description", "root"):
        found = _mapping_get(body, key)
        if found is None:
            if key in ("name", "root"):
                issue(_line(body), "required", f"missing required key {key!r}")
            continue
        if not isinstance(found[1], yaml.ScalarNode) or not str(found[1].value).strip():
            issue(_line(found[1]), "structure", f"{key!r} must be a non-empty string")
            continue
        scalars[key] = str(found[1].value).strip()
    name = scalars.get("name")
    nodes = _mapping_get(body, "nodes")
    if nodes is None or not isinstance(nodes[1], yaml.MappingNode) or not nodes[1].value:
        issue(_line(body), "required", "missing 'nodes': a mapping of KPI name → formula", name)
        return None
    formulas: dict[str, Formula] = {}
    lines: dict[str, int] = {}
    for k, v in nodes[1].value:
        kpi = str(k.value)
        if kpi in formulas or kpi in lines:
            issue(_line(k), "duplicate", f"node {kpi!r} is defined twice", name, kpi)
            continue
        lines[kpi] = _line(k)
        if not isinstance(v, yaml.ScalarNode):
            issue(_line(v), "formula_syntax", "a node's value must be a formula string", name, kpi)
            continue
        try:
            formulas[kpi] = parse_formula(str(v.value))
        except FormulaError as exc:
            issue(_line(v), exc.rule, str(exc), name, kpi)
    if name is None or "root" not in scalars:
        return None
    tree = DriverTree(
        name=name,
        root=scalars["root"],
        formulas=formulas,
        label=scalars.get("label", ""),
        description=scalars.get("description", ""),
        source=file,
        lines=lines,
    )
    return tree


def validate_tree(tree: DriverTree, known_kpis: Iterable[str] | None = None) -> list[TreeIssue]:
    """Every structural problem of ``tree``: root without formula, unknown KPIs, cycles, unreachable nodes."""
    issues: list[TreeIssue] = []
    file = tree.source

    def issue(kpi: str | None, rule: str, message: str) -> None:
        line = tree.lines.get(kpi) if kpi else None
        issues.append(TreeIssue(file, line, tree.name, kpi, rule, message))

    if tree.root not in tree.formulas and tree.root not in tree.lines:
        issue(None, "root", f"root {tree.root!r} has no formula under 'nodes'; add '{tree.root}: <formula>'")
    known = set(known_kpis) if known_kpis is not None else None
    if known is not None:
        mentioned = [tree.root, *tree.lines]
        for formula in tree.formulas.values():
            mentioned.extend(formula.inputs)
        for kpi in dict.fromkeys(mentioned):
            if kpi not in known:
                where = next((k for k, f in tree.formulas.items() if kpi in f.inputs), kpi)
                exc = UnknownNameError("KPI", kpi, known)
                issue(where, "unknown_kpi", f"{exc} Add it to the KPI catalog or fix the name.")
    # cycles: depth-first search with colours
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    def visit(kpi: str, path: list[str]) -> None:
        state[kpi] = 1
        for child in tree.children(kpi):
            if state.get(child) == 1:
                cycle = [*path[path.index(child) :], child]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    issue(kpi, "cycle", "formulas form a cycle: " + " → ".join(cycle))
            elif state.get(child) is None:
                visit(child, [*path, child])
        state[kpi] = 2

    for start in [tree.root, *tree.formulas]:
        if state.get(start) is None:
            visit(start, [start])
    reachable = set(tree.kpis)
    for kpi in tree.formulas:
        if kpi not in reachable:
            issue(kpi, "unreachable", f"node {kpi!r} is not a driver of root {tree.root!r}; use it in a formula")
    return issues


def _raise(issues: list[TreeIssue]) -> None:
    if issues:
        listing = "\n".join(f"  - {i}" for i in issues)
        raise CatalogError(f"{len(issues)} problem(s) in driver trees:\n{listing}", issues)


def parse_tree(text: str, *, file: str | None = None, known_kpis: Iterable[str] | None = None) -> DriverTree:
    """Build and validate one tree from YAML text; raises :class:`CatalogError` listing every issue."""
    issues: list[TreeIssue] = []
    tree = _read_tree(text, file, issues)
    if tree is not None:
        issues.extend(validate_tree(tree, known_kpis))
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


def load_trees(
    folders: Iterable[str | Path] = (), *, known_kpis: Iterable[str] | None = None, include_defaults: bool = True
) -> dict[str, DriverTree]:
    """Load the default trees plus the trees in ``folders``; a later tree with the same name replaces an earlier.

    Every file is read and validated before anything is raised, so one :class:`CatalogError` lists all issues.
    """
    known = list(known_kpis) if known_kpis is not None else None
    issues: list[TreeIssue] = []
    trees: dict[str, DriverTree] = {}
    for path in tree_files(folders, include_defaults=include_defaults):
        found: list[TreeIssue] = []
        tree = _read_tree(path.read_text(encoding="utf-8"), str(path), found)
        if tree is not None:
            found.extend(validate_tree(tree, known))
        issues.extend(found)
        if tree is not None and not found:
            trees[tree.name] = tree
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
