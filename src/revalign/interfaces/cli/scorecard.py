"""``revalign scorecard``: actual vs target per KPI, with status and trend, and the alignment check.

Exit code 1 (documented in ``revalign.interfaces.cli``) when the alignment check finds a misalignment: a
department green while the north star is off target, a driver improving while its parent worsens, or a KPI on
target under an off-target parent. ``--json`` prints ``{"scorecard": …, "alignment": …}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from revalign.definitions.kpis.catalog import Catalog
from revalign.interfaces.cli.agreement import count_signed
from revalign.interfaces.cli.application import EXIT_FINDINGS, app
from revalign.interfaces.cli.render import console, display_context, err_console, print_json, print_table
from revalign.interfaces.cli.usage import usage_error, values_checked
from revalign.model.tables import DEPARTMENTS
from revalign.project import open_project

COLUMNS = ["label", "department", "owner", "actual", "target", "attainment", "status", "previous", "pct_change",
           "trend_direction"]  # fmt: skip


TEMPLATE_HELP = (
    "A scorecard template of the catalog by name (its `scorecards:` entries); the default catalog ships "
    "idc (IDC's Customer Creation Scorecard: eight KPIs in three sections, investment, staff efficiency and "
    "productivity levers)."
)


def template_sections(catalog: Catalog, name: str) -> dict[str, str]:
    """KPI → section of the catalog's scorecard template ``name`` (first section wins), in template order."""
    sections: dict[str, str] = {}
    for section in catalog.scorecard(name).sections:
        for kpi in section.kpis:
            sections.setdefault(kpi, section.name)
    return sections


def pick_template(catalog: Catalog, department: str | None, template: str | None) -> tuple[str | None, str | None]:
    """``(department, template)``: a ``--department`` that names a template (not a department) is the template."""
    if template is not None and department is not None:
        usage_error("give --department or --template, not both.")
    if department is not None and department not in DEPARTMENTS and department in catalog.scorecards:
        return None, department
    return department, template


@app.command()
def scorecard(
    department: Annotated[
        str | None,
        typer.Option(help="One department (default: the joint scorecard), or a scorecard template's name."),
    ] = None,
    template: Annotated[str | None, typer.Option(help=TEMPLATE_HELP)] = None,
    period: Annotated[str | None, typer.Option(help="Period label, e.g. 2025-Q2 (default: the latest).")] = None,
    grain: Annotated[str, typer.Option(help="day, week, month, quarter or year.")] = "quarter",
    by: Annotated[list[str] | None, typer.Option(help="Slice by a dimension (repeatable), e.g. --by segment.")] = None,
    trend: Annotated[int, typer.Option(help="Number of periods in the trend.")] = 4,
    project: Annotated[Path, typer.Option(help="Project folder (with revalign.yaml).")] = Path("."),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    state_url: Annotated[
        str | None,
        typer.Option(help="App state database URL: the agreement's sign-off (default: SQLite in the project)."),
    ] = None,
) -> None:
    """Scorecard per department or joint: actual vs target, status, trend; flags misalignment (exit 1)."""
    proj = open_project(project)
    sections: dict[str, str] = {}
    try:
        count_signed(proj, state_url)  # the agreement's targets: only the versions every signatory signed
        department, template = pick_template(proj.catalog, department, template)
        if template is not None:
            sections = template_sections(proj.catalog, template)
        kpis = list(sections) if sections else None
        with values_checked():
            card = proj.scorecard(
                department, period=period, grain=grain, by=tuple(by or ()), trend_periods=trend, kpis=kpis
            )
            joint = card if department is None and not by and template is None else None
            alignment = proj.alignment(period=card.period, grain=grain, department=department, card=joint)
    finally:
        proj.close()
    if as_json:
        print_json({"scorecard": card.to_dict(), "alignment": alignment.to_dict()})
    else:
        frame = card.to_pandas()
        whose = f"{department.capitalize() if department else 'Joint'} scorecard"
        title = f"{(proj.catalog.scorecard(template).label or template) if template else whose}, {card.period}"
        columns = [c for c in COLUMNS if not (department and c == "department")]
        columns = [f"kpi_{c}" if c in card.by else c for c in columns]  # a slice named like a field renames it
        if sections:
            frame.insert(0, "section", frame["kpi"].map(sections))
            order = {kpi: i for i, kpi in enumerate(sections)}  # the template's order: section by section
            frame = frame.sort_values("kpi", key=lambda k: k.map(order), kind="stable").reset_index(drop=True)
            columns = ["section", *columns]
        print_table(frame[[*card.by, *columns]], title=title, context=display_context(proj), row_units=frame["unit"])
        status = ", ".join(f"{d}: {s}" for d, s in card.department_status().items())
        console.print(f"Departments: {status}", highlight=False)
        for notice in card.notices:
            err_console.print(f"[yellow]{notice}[/]", highlight=False)
        if alignment.ok:
            console.print("[green]Aligned:[/] no department wins while the north star loses.")
        else:
            console.print(f"[bold red]{len(alignment.findings)} alignment finding(s):[/]")
            for f in alignment.findings:
                console.print(f"  {f.severity.upper()} {f.kind}: {f.message}", highlight=False)
    if not alignment.ok:
        raise typer.Exit(EXIT_FINDINGS)
