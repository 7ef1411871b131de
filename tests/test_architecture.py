"""The layout is the data flow, enforced: import-linter contracts in pyproject.toml must hold.

A lower layer importing a higher one (say, the engine importing a KPI module), anything outside
``revalign.engine`` importing a database driver, or the CLI/server importing Ibis fails here rather than in a
review. So does an import cycle among revalign's modules (type-checking imports included: a cycle hidden under
``TYPE_CHECKING`` is still a cycle), and reaching one of our own modules by a string (``importlib``), which no
tool can follow.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator

import grimp

from tests.conftest import REPO

SRC = REPO / "src" / "revalign"


def test_import_contracts_are_kept():
    lint = [
        sys.executable,
        "-c",
        "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
    ]
    result = subprocess.run(lint, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "broken" in result.stdout and "0 broken" in result.stdout


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of ``graph`` (node → successors), iteratively (no recursion limit).

    Every component with more than one node is an import cycle.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def test_strongly_connected_finds_cycles_and_only_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert sorted(c for c in strongly_connected(graph) if len(c) > 1) == [["a", "b", "c"]]


def test_no_import_cycles_among_revalign_modules():
    graph = grimp.build_graph("revalign", exclude_type_checking_imports=False, cache_dir=None)
    edges = {m: graph.find_modules_directly_imported_by(m) & graph.modules for m in graph.modules}
    cycles = [c for c in strongly_connected(edges) if len(c) > 1]
    cycles += [[m] for m, succ in edges.items() if m in succ]
    report = []
    for cycle in sorted(cycles):
        members = set(cycle)
        report.append(f"{len(cycle)} modules: " + ", ".join(cycle))
        for m in cycle:
            report.append(f"    {m} -> {', '.join(sorted(edges[m] & members))}")
    assert not cycles, f"{len(cycles)} import cycle(s) among revalign modules:\n" + "\n".join(report)


def _names_revalign(node: ast.expr) -> bool:
    """Whether an ``import_module`` argument names one of our modules (a literal, an f-string or ``__name__``)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value.lstrip(".").startswith("revalign")
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return any(_names_revalign(child) for child in ast.walk(node) if child is not node)
    if isinstance(node, ast.FormattedValue):
        return _names_revalign(node.value)
    return isinstance(node, ast.Name) and node.id in ("__name__", "__package__")


def test_no_importlib_to_reach_our_own_modules():
    """Outside engine selection (``revalign/engine/``), import what you call: a string hides the dependency."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "engine" in path.relative_to(SRC).parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            if name in ("import_module", "__import__") and any(_names_revalign(a) for a in node.args):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "importlib reaching revalign modules by name:\n" + "\n".join(found)
