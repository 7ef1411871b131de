"""Rendering for the CLI: Rich tables for people, JSON for scripts, and error messages."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from revalign.jsonsafe import jsonable, records

console = Console()
err_console = Console(stderr=True)


def print_json(payload: Any) -> None:
    """Print ``payload`` as JSON on stdout (no Rich markup, so scripts can parse it)."""
    if isinstance(payload, pd.DataFrame):
        payload = records(payload)
    print(json.dumps(payload, indent=2, default=jsonable))


def _fmt(value: Any) -> str:
    value = jsonable(value)
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(frame: pd.DataFrame | Iterable[Mapping[str, Any]], title: str | None = None) -> None:
    """Print rows as a Rich table."""
    frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(list(frame))
    table = Table(title=title, show_lines=False)
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*(_fmt(v) for v in row))
    console.print(table)


def emit(frame: pd.DataFrame, *, as_json: bool, title: str | None = None) -> None:
    """One switch for every command: JSON records for scripts, a table for people."""
    if as_json:
        print_json(frame)
    else:
        print_table(frame, title)


def print_error(exc: BaseException) -> None:
    """Print an error on stderr: its class and message (messages already say where and what to do)."""
    err_console.print(f"[bold red]{type(exc).__name__}[/]: {exc}", highlight=False, soft_wrap=True)
