"""Rendering for the CLI: Rich tables for people, JSON for scripts, and error messages.

Numbers read as on the pages (one formatting layer, :mod:`revalign.display`): ``$3,273,400``, ``36.1%``,
``+1.0 pt``, ``6.15×``, periods as ``2025-Q4``. A table never cuts a number: number columns keep their full
width, text columns fold, and when even that does not fit the terminal the right-most columns are left out
(and named). ``--json`` prints the raw values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from rich.console import Console
from rich.errors import MarkupError
from rich.markup import render as render_markup
from rich.table import Table

from revalign.display import DisplayContext, column_units, format_rows, format_value
from revalign.display.statuses import status_sign
from revalign.jsonsafe import jsonable, records
from revalign.kpis.request import NONE_LABEL
from revalign.project import Project

console = Console()
err_console = Console(stderr=True)

TEXT_MIN_WIDTH = 8
"""Text columns fold down to this width before a column is left out (labels wrap; numbers never do)."""
KEEP_COLUMNS = frozenset(
    {"kpi", "label", "period", "period_start", "actual", "target", "value", "attainment", "status"}
)
"""What a reader looks for first: left out only when nothing else is left to leave out."""


STATUS_COLOURS = {"green": "green", "amber": "yellow", "red": "bold red", "no_target": "dim", "no_data": "dim"}
"""A status's colour in the terminal; its icon is :mod:`revalign.display.statuses`' (it reads without colour)."""


def status_text(status: str) -> str:
    """``status`` with its colour and icon as Rich markup (an unknown status as it is)."""
    if status not in STATUS_COLOURS:
        return status
    icon, _ = status_sign(status)
    return f"[{STATUS_COLOURS[status]}]{icon} {status}[/]"


def display_context(project: Project, grain: str | None = None) -> DisplayContext:
    """The project's currency, fiscal calendar and KPI units, for tables reported at ``grain``."""
    return DisplayContext.of(project.catalog, project.settings).at(grain)


def print_json(payload: Any) -> None:
    """Print ``payload`` as JSON on stdout (no Rich markup, so scripts can parse it)."""
    if isinstance(payload, pd.DataFrame):
        payload = records(payload, null_label=NONE_LABEL)
    print(json.dumps(payload, indent=2, default=jsonable))


def _width(text: str) -> int:
    """Cells a text takes on screen once its Rich markup (``[red]…[/]``) is rendered."""
    try:
        return render_markup(text).cell_len
    except MarkupError:
        return len(text)


def _cells(
    frame: pd.DataFrame, ctx: DisplayContext, row_units: Sequence[str | None] | None
) -> tuple[dict[str, list[str]], set[str]]:
    """Every column's cells as text (numbers in their unit) and the names of the number columns."""
    rows = records(frame)
    dtypes = {str(c): str(frame[c].dtype) for c in frame.columns}
    if row_units is not None:  # the rows' KPI units, given beside a table that does not show them
        rows = [{**r, "unit": u} for r, u in zip(rows, row_units, strict=True)]
        dtypes = {**dtypes, "unit": "object"}
    units = {c: u for c, u in column_units(dtypes, ctx, rows).items() if c in frame.columns}
    shown = format_rows(rows, units, ctx)
    cells = {
        str(c): [s[c] if c in units else format_value(r.get(str(c))) for r, s in zip(rows, shown, strict=True)]
        for c in frame.columns
    }
    if "status" in cells:
        cells["status"] = [status_text(s) for s in cells["status"]]
    numeric = {str(c) for c in frame.columns if c in units or pd.api.types.is_numeric_dtype(frame[c])}
    return cells, numeric


def fit_columns(cells: Mapping[str, list[str]], numeric: set[str], width: int) -> tuple[dict[str, int], list[str]]:
    """Column widths that fit ``width`` without cutting a number, and the columns left out to get there.

    Number columns take their widest cell (and their heading's longest word); text columns fold (down to
    :data:`TEXT_MIN_WIDTH`); when even that is too wide, columns are left out from the right,
    :data:`KEEP_COLUMNS` last and the first column never.
    What is left widens the text columns to their widest cell, then to their heading's longest word.
    """
    names = list(cells)
    widest = {c: max([_width(v) for v in cells[c]] + [1]) for c in names}
    word = {c: max(len(w) for w in header(c).split()) if header(c).strip() else 1 for c in names}
    need = {c: max(widest[c], word[c]) if c in numeric else min(widest[c], TEXT_MIN_WIDTH) for c in names}
    order = [c for c in reversed(names[1:]) if c not in KEEP_COLUMNS] + [
        c for c in reversed(names[1:]) if c in KEEP_COLUMNS
    ]
    dropped: list[str] = []
    while order and sum(need[c] for c in names) + 3 * len(names) + 1 > width:
        dropped.append(order.pop(0))
        names.remove(dropped[-1])
    widths = {c: need[c] for c in names}
    spare = width - (sum(widths.values()) + 3 * len(names) + 1)
    for goal in ({c: max(widest[c], need[c]) for c in names}, {c: max(widest[c], word[c]) for c in names}):
        spare = _grow(widths, goal, spare)
    return widths, dropped


def header(column: str) -> str:
    """A column's heading: its name with spaces, so a long heading wraps between words (``pct change``)."""
    return column.replace("_", " ")


def _grow(widths: dict[str, int], goal: Mapping[str, int], spare: int) -> int:
    """Widen columns one cell at a time, in turn, toward ``goal``; returns the width still spare."""
    growing = [c for c in widths if widths[c] < goal[c]]
    while spare > 0 and growing:
        for c in list(growing):
            if spare <= 0:
                break
            widths[c] += 1
            spare -= 1
            if widths[c] >= goal[c]:
                growing.remove(c)
    return spare


def print_table(
    frame: pd.DataFrame | Iterable[Mapping[str, Any]],
    title: str | None = None,
    *,
    context: DisplayContext | None = None,
    row_units: Sequence[str | None] | None = None,
) -> None:
    """Print rows as a Rich table, numbers in their units (``context``: the project's currency, calendar, KPI
    units and grain; ``row_units``: each row's KPI unit when the table does not carry a ``unit`` column)."""
    frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(list(frame))
    cells, numeric = _cells(frame, context or DisplayContext(), row_units)
    widths, dropped = fit_columns(cells, numeric, console.width)
    table = Table(title=title, show_lines=False)
    for col, width in widths.items():
        table.add_column(header(col), justify="right" if col in numeric else "left", width=width, overflow="fold")
    for i in range(len(frame)):
        table.add_row(*(cells[c][i] for c in widths))
    console.print(table)
    if dropped:
        console.print(f"[dim]Left out at this width: {', '.join(dropped)} (a wider terminal shows them).[/]")


def emit(
    frame: pd.DataFrame, *, as_json: bool, title: str | None = None, context: DisplayContext | None = None
) -> None:
    """One switch for every command: JSON records (raw values) for scripts, a table for people."""
    if as_json:
        print_json(frame)
    else:
        print_table(frame, title, context=context)


def print_error(exc: BaseException) -> None:
    """Print an error on stderr: its class and message (messages already say where and what to do)."""
    err_console.print(f"[bold red]{type(exc).__name__}[/]: {exc}", highlight=False, soft_wrap=True)
