"""Everything that needs a person's attention, as sections: ``revalign check`` prints them, ``GET /api/v1/checks``
serves them.

Each check is a plain function of what it reads (the catalog, the definition files, the engine) returning a
:class:`Section`; :func:`project_checks` runs the explicit list :data:`CHECKS` over a project, in order. To add a
check, write its function here and add it to that list: nothing registers itself on import.

==============  =====================================================  ======================================
section         what it lists                                          read from
==============  =====================================================  ======================================
``catalog``     KPI catalog issues (level, file:line, KPI, rule)       the catalog files
``trees``       driver-tree issues (file:line, tree, rule)             ``trees/`` folders
``funnels``     funnel issues (file:line, funnel)                      ``<project>/funnels.yaml``
``targets``     target problems (file and line or row, column, KPI)    ``targets:``, target files
``agreements``  agreement issues (level, file:line, version, rule)   ``agreements/*.yaml``
``quarantine``  quarantined input rows (file, table, rule, column)     the engine's quarantine table
``inputs``      KPI inputs with no data: columns KPIs read that are    the loaded tables (one query each)
                empty in every row (problems), tables KPIs need that
                were never loaded (information)
``scoring``     scoring model issues (file:line, model, rule)          ``scoring.yaml``, ``scoring/*.yaml``
==============  =====================================================  ======================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from revalign.definitions.funnels.loader import check_funnels
from revalign.definitions.issues import Issue
from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.scoring import check_project_scoring
from revalign.definitions.trees import check_trees, project_tree_folders
from revalign.engine import Engine
from revalign.kpis.availability import empty_columns, missing_tables
from revalign.model.access import Tables
from revalign.project import Project
from revalign.sources import quarantine_summary, quarantined

FUNNEL_FILE = "funnels.yaml"
"""A project's own funnels, beside ``revalign.yaml``."""


@dataclass(frozen=True)
class Section:
    """One kind of finding: a title, a summary table, how many problems, the detail rows, and a hint."""

    name: str
    title: str
    problems: int
    frame: pd.DataFrame
    """The summary a person reads (one line per finding, or per group of findings)."""
    hint: str = ""
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Every finding in detail (for JSON and scripts)."""


def _issue_rows(issues: Sequence[Issue], columns: Sequence[str], subject: str) -> pd.DataFrame:
    """Issues as a table of ``columns``; ``subject`` names the column holding each issue's subject."""
    rows = [{**i.to_dict(), subject: i.subject} for i in issues]
    return pd.DataFrame(rows, columns=list(columns))


def catalog_check(catalog: Catalog) -> Section:
    """Every catalog issue with its level, file, line, KPI and rule."""
    frame = _issue_rows(catalog.validate(), ["level", "file", "line", "kpi", "rule", "message"], "kpi")
    return Section(
        "catalog",
        "KPI catalog issues (level, file:line, KPI, rule)",
        len(frame),
        frame,
        hint="Fix the YAML at the file and line shown; the rules are described in docs/kpis.md.",
        rows=frame,
    )


def tree_check(folders: Iterable[Path], catalog: Catalog) -> Section:
    """Every problem of the default trees and the trees in ``folders``, KPI names checked against ``catalog``."""
    _, issues = check_trees(folders, known_kpis=list(catalog.kpis))
    frame = _issue_rows(issues, ["level", "file", "line", "tree", "rule", "message"], "tree")
    return Section(
        "trees",
        "Driver-tree issues (file:line, tree, rule)",
        len(frame),
        frame,
        hint="Fix the tree file at the line shown; formulas and rules are described in docs/driver_tree.md.",
        rows=frame,
    )


def funnel_check(path: Path, *, display: str | None = None) -> Section:
    """Every problem of the funnel file ``path`` (none when the project has no funnel file)."""
    issues: list[Issue] = []
    if path.exists():
        _, issues = check_funnels(path.read_text(encoding="utf-8"), display or str(path))
    frame = _issue_rows(issues, ["level", "file", "line", "funnel", "path", "rule", "message"], "funnel")
    return Section(
        "funnels",
        "Funnel issues (file:line, funnel, key)",
        len(frame),
        frame,
        hint="Fix the funnel file at the line shown; the keys are described in docs/funnels.md.",
        rows=frame,
    )


def target_check(issues: Sequence[Issue]) -> Section:
    """Every problem found in a project's targets (file, line or row, column, KPI, rule), warnings included.

    ``issues`` come from reading the targets (``Project.checked_targets()`` or
    :func:`revalign.definitions.target_files.read_project_targets`).
    """
    summary = pd.DataFrame(
        [{"level": i.level.name, "where": i.where, "kpi": i.kpi, "rule": i.rule, "message": i.message} for i in issues],
        columns=["level", "where", "kpi", "rule", "message"],
    )
    rows = _issue_rows(issues, ["file", "line", "row", "column", "kpi", "rule", "level", "message"], "kpi")
    return Section(
        "targets",
        "Target problems (file and line or row, KPI, rule)",
        len(issues),
        summary,
        hint="Fix the target file at the place shown; the rules are described in docs/targets.md.",
        rows=rows,
    )


def agreement_check(issues: Sequence[Issue]) -> Section:
    """Every problem of the agreement versions (schema, signatories, versions, calendars, KPIs), warnings included.

    ``issues`` come from ``Project.checked_agreements()``.
    """
    frame = _issue_rows(issues, ["level", "file", "line", "agreement", "rule", "message"], "agreement")
    return Section(
        "agreements",
        "Agreement issues (level, file:line, version, rule)",
        len(frame),
        frame,
        hint="Fix the agreement file at the line shown; the keys and rules are described in docs/agreements.md.",
        rows=frame,
    )


def scoring_check(folder: Path) -> Section:
    """Every problem of the project's scoring models (``scoring.yaml``, ``scoring/*.yaml``): file:line, rule."""
    _, issues = check_project_scoring(folder)
    frame = _issue_rows(issues, ["level", "file", "line", "model", "rule", "message"], "model")
    return Section(
        "scoring",
        "Scoring model issues (file:line, model, rule)",
        len(frame),
        frame,
        hint="Fix the scoring file at the line shown; the keys are described in docs/scoring.md.",
        rows=frame,
    )


def comp_plan_check(issues: Sequence[Issue]) -> Section:
    """Every problem of the comp plans (``comp_plans/*.yaml``): file:line, plan, rule (docs/incentives.md).

    ``issues`` come from ``Project.checked_comp_plans()``.
    """
    frame = _issue_rows(issues, ["level", "file", "line", "plan", "rule", "message"], "plan")
    return Section(
        "comp_plans",
        "Comp plan issues (file:line, plan, rule)",
        len(frame),
        frame,
        hint="Fix the comp plan file at the line shown; the keys and rules are described in docs/incentives.md.",
        rows=frame,
    )


def quarantine_check(engine: Engine, *, include_resolved: bool = False) -> Section:
    """Open quarantined rows grouped by file, table, rule and column (with the first row and an example value).

    ``include_resolved`` also lists entries a later load fixed (with ``resolved_at``/``resolved_by``); only open
    ones count as problems either way.
    """
    summary = quarantine_summary(engine, include_resolved=include_resolved)
    rows = quarantined(engine, include_resolved=include_resolved)
    still_open = rows[rows["resolved_at"].isna()] if "resolved_at" in rows.columns else rows
    problems = int(still_open.groupby(["file", "target", "row", "load_id"]).ngroups) if len(still_open) else 0
    return Section(
        "quarantine",
        "Quarantined rows (file, rule, column)",
        problems,
        summary,
        hint="Fix the export (or the mapping) and ingest it again; rules are explained in docs/mappings.md.",
        rows=rows.drop(columns=["quarantined_at"], errors="ignore"),
    )


def inputs_check(catalog: Catalog, tables: Tables) -> Section:
    """KPIs that cannot count anything: a column they read is empty in every row, or a table they read was never
    loaded (information: their value is missing, not zero).

    An empty column is a problem (ERROR) when it silences the north star or a driver directly under it (an
    opportunities export without ``Type``: no new revenue at all); otherwise a WARNING that does not fail the
    check (a minimal leads export has no segment, so the data-quality KPIs read zero, which is true).
    """
    columns = ["level", "table", "column", "kpis", "message"]
    empty = empty_columns(catalog, tables)
    star = catalog.north_star
    core = {star, *catalog.children(star)}  # the north star and the drivers directly under it
    levels = ["ERROR" if core & set(e.kpis) else "WARNING" for e in empty]
    rows = [
        {"level": level, "table": e.table, "column": e.column, "kpis": ", ".join(e.kpis), "message": e.message}
        for level, e in zip(levels, empty, strict=True)
    ]
    gone = missing_tables(catalog, [k.name for k in catalog], tables.has)
    loaded_any = any(tables.has(t) for t in sorted({t for k in catalog for t in catalog.tables_of(k.name)}))
    by_table: dict[str, list[str]] = {}
    for kpi, names in gone.items():
        for t in names:
            by_table.setdefault(t, []).append(kpi)
    for table, kpis in sorted(by_table.items()) if loaded_any else ():
        message = f"no {table} data loaded: {len(kpis)} KPIs show no value until it is ({', '.join(kpis[:6])}…)"
        rows.append({"level": "INFO", "table": table, "column": "", "kpis": ", ".join(kpis), "message": message})
    frame = pd.DataFrame(rows, columns=columns)
    return Section(
        "inputs",
        "KPI inputs with no data (table, column, KPIs)",
        levels.count("ERROR"),
        frame.drop(columns=["kpis"]),
        hint="Map a source column to each empty column (docs/mappings.md) and ingest again.",
        rows=frame,
    )


# -------------------------------------------------------------------------------------------- on a project


def _catalog_section(project: Project, include_resolved: bool) -> Section:
    return catalog_check(project.catalog)


def _tree_section(project: Project, include_resolved: bool) -> Section:
    return tree_check(project_tree_folders(project.folder, project.settings.catalog), project.catalog)


def _funnel_section(project: Project, include_resolved: bool) -> Section:
    return funnel_check(project.folder / FUNNEL_FILE, display=FUNNEL_FILE)


def _target_section(project: Project, include_resolved: bool) -> Section:
    return target_check(project.checked_targets()[1])


def _agreement_section(project: Project, include_resolved: bool) -> Section:
    return agreement_check(project.checked_agreements()[1])


def _quarantine_section(project: Project, include_resolved: bool) -> Section:
    return quarantine_check(project.engine, include_resolved=include_resolved)


def _inputs_section(project: Project, include_resolved: bool) -> Section:
    return inputs_check(project.catalog, project.tables)


def _scoring_section(project: Project, include_resolved: bool) -> Section:
    return scoring_check(project.folder)


def _comp_plan_section(project: Project, include_resolved: bool) -> Section:
    return comp_plan_check(project.checked_comp_plans()[1])


CHECKS: tuple[Callable[[Project, bool], Section], ...] = (
    _quarantine_section,
    _inputs_section,
    _catalog_section,
    _tree_section,
    _funnel_section,
    _target_section,
    _agreement_section,
    _scoring_section,
    _comp_plan_section,
)
"""Every check, in the order ``revalign check`` prints them: each reads what it needs off the project."""


def project_checks(project: Project, *, include_resolved: bool = False) -> list[Section]:
    """Every section of :data:`CHECKS` for ``project`` (the quarantine's with resolved entries when asked)."""
    return [check(project, include_resolved) for check in CHECKS]


def needs_attention(sections: Iterable[Section]) -> bool:
    """Whether any section has a problem (``revalign check`` exits 1 then)."""
    return any(s.problems for s in sections)


__all__ = [
    "CHECKS",
    "Section",
    "agreement_check",
    "catalog_check",
    "funnel_check",
    "inputs_check",
    "needs_attention",
    "project_checks",
    "quarantine_check",
    "scoring_check",
    "target_check",
    "tree_check",
]
