"""The KPI glossary and one KPI's page: definitions, formulas, owners, targets, tree position, values and SQL."""

from __future__ import annotations

from typing import Any

import pandas as pd

from revalign.analytics.privacy import is_pay_kpi
from revalign.analytics.targets import targets_in_force
from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.spec import Kpi
from revalign.display import DisplayContext
from revalign.errors import RevalignError
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report, with_drill
from revalign.project import Project


def formula(kpi: Kpi) -> str:
    """A human-readable definition from the spec fields (text, not numbers)."""
    if kpi.type == "ratio" and kpi.numerator and kpi.denominator:
        return f"{kpi.numerator.name} / {kpi.denominator.name}"
    if kpi.type == "derived" and kpi.expr:
        return str(kpi.expr)
    if kpi.type == "conversion" and kpi.base_metric and kpi.conversion_metric:
        window = f" within {kpi.window}" if kpi.window else ""
        return f"{kpi.conversion_metric.name} / {kpi.base_metric.name}{window} (per {kpi.entity})"
    if kpi.type == "cumulative" and kpi.input_metric:
        return f"cumulative {kpi.input_metric.name}" + (f" over {kpi.window}" if kpi.window else "")
    parts = [p for p in (kpi.agg, kpi.measure, kpi.expr) if p]
    where = f" of {kpi.semantic_model}" if kpi.semantic_model else ""
    filt = f" where {kpi.filter}" if kpi.filter else ""
    return (" ".join(str(p) for p in parts) + where + filt).strip()


def tree_path(cat: Catalog, name: str) -> list[str]:
    """``name`` and its parents up to the root of the driver tree, root first (stops on a cycle)."""
    path, seen = [name], {name}
    current: Kpi | None = cat.get(name)
    while current is not None and current.parent and current.parent not in seen:
        path.append(current.parent)
        seen.add(current.parent)
        try:
            current = cat.get(current.parent)
        except RevalignError:
            break
    return list(reversed(path))


def kpi_row(cat: Catalog, name: str) -> dict[str, Any]:
    """One KPI's glossary entry."""
    kpi = cat.get(name)
    return {
        "name": name,
        "label": kpi.label or name,
        "description": kpi.description,
        "type": kpi.type,
        "formula": formula(kpi),
        "unit": kpi.unit,
        "owner": kpi.owner,
        "department": kpi.department,
        "direction": kpi.direction,
        "timing": kpi.timing,
        "sensitivity": "pay" if is_pay_kpi(cat, name) else None,
        "north_star": kpi.north_star,
        "parent": kpi.parent,
        "children": [n for n, k in cat.kpis.items() if k.parent == name],
        "tree_path": tree_path(cat, name),
        "targets": [t.model_dump(mode="json") for t in kpi.targets],
        "revisions": [r.model_dump(mode="json") for r in kpi.revisions],
    }


def targets_text(project: Project) -> dict[str, str]:
    """Each KPI's targets in force, as the scorecard judges by them (the project's over the catalog's), in the
    KPI's unit: ``2025-Q1: $900,000; 2025-Q2 (segment=smb): $300,000``."""
    book, _ = project.checked_targets()  # broken rows are left out here as on the scorecard (which names them)
    frame = targets_in_force(book, project.catalog)
    frame = frame[frame["in_force"]]
    ctx = DisplayContext.of(project.catalog, project.settings)
    out: dict[str, list[str]] = {}
    for row in frame.itertuples(index=False):
        where = f" ({row.dims})" if row.dims else ""
        out.setdefault(str(row.kpi), []).append(f"{row.period}{where}: {ctx.format(row.value, ctx.unit_of(row.kpi))}")
    return {kpi: "; ".join(texts) for kpi, texts in out.items()}


def glossary(project: Project) -> Report:
    """Every KPI: definition, formula, owner, targets, revisions and where it sits in the driver tree."""
    report = Report(page="glossary", title="KPI glossary")
    cat = project.catalog
    rows = [kpi_row(cat, n) for n in sorted(cat.kpis)]
    frame = pd.DataFrame(rows)
    if not frame.empty:
        texts = targets_text(project)
        frame = frame.assign(
            tree_path=frame["tree_path"].map(" › ".join),
            children=frame["children"].map(", ".join),
            targets=frame["name"].map(lambda name: texts.get(name, "")),
            revisions=frame["revisions"].map(
                lambda rs: "; ".join(f"{r.get('effective_from')}: {r.get('note', '')}" for r in rs)
            ),
        )
    report.add("kpis", "KPIs", frame)
    report.meta["north_star"] = [r["name"] for r in rows if r["north_star"]]
    return report


def kpi_detail(project: Project, name: str) -> dict[str, Any]:
    """One KPI's glossary entry plus the SQL it compiles to on this project's engine, when it compiles.

    ``targets`` are the targets in force, the ones the scorecard judges the KPI by: the project's (targets.csv,
    revalign.yaml) over the catalog's for the same period and slice, each naming its ``source``.
    """
    row = kpi_row(project.catalog, name)
    book, _ = project.checked_targets()  # broken rows are left out here as on the scorecard (which names them)
    in_force = targets_in_force(book, project.catalog, kpis=[name])
    row["targets"] = in_force[in_force["in_force"]].drop(columns=["in_force"]).to_dict(orient="records")
    try:
        row["sql"] = project.kpi(name).explain()
    except RevalignError:  # a KPI the engine's dialect cannot express (EngineError) shows without SQL
        row["sql"] = None
    return row


def kpi_values(project: Project, name: str, filters: Filters) -> pd.DataFrame:
    """KPI values per period (and dimension), each with a link to the records behind it."""
    start, end = filters.dates(project.settings.fiscal_year_start_month)  # a period label counts too
    query = project.kpi(name).grain(filters.grain or "month").period(start, end)
    by = [d for d in (filters.by,) if d]
    frame = query.by(*by).to_pandas()
    if filters.segment is not None:
        if "segment" not in frame.columns:
            frame = query.by(*by, "segment").to_pandas()
        frame = frame[frame["segment"] == filters.segment]
    return with_drill(project, name, frame, filters)


def kpi_report(project: Project, name: str, filters: Filters) -> Report:
    """One KPI's page: its glossary entry (``meta.kpi``) and its values per period, charted."""
    report = Report(page="kpi", title=name)
    report.meta["kpi"] = kpi_detail(project, name)
    report.add("values", "Values", kpi_values(project, name, filters))
    report.meta["drill"] = {"values": {"columns": ["value"]}}
    report.meta["charts"] = [
        {"table": "values", "x": "period_start", "y": "value", "kind": "line", "title": f"{name} by period"}
        | ({"color": filters.by} if filters.by else {})
    ]
    return report
