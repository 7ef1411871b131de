"""The Typer application every command registers on, and the exit codes scripts can trust.

Exit codes scripts can trust (also in docs/cli.md):

====  ==============================================================
0     success
1     the command ran and found problems (quarantined rows, catalog issues, alignment warnings)
2     usage error (unknown option, bad argument)
3     data error (a file cannot be read as its mapped table)
4     engine error (cannot connect, backend cannot run the computation, or the project's DuckDB file stayed
      in use by another process for ``REVALIGN_LOCK_TIMEOUT`` seconds: the message names that process)
5     configuration error (revalign.yaml, mapping or catalog file is invalid)
6     unknown name (KPI, table, mapping, funnel …)
====  ==============================================================

Each command group lives in its own module and registers itself on ``app``; the package imports them in the
order of ``revalign --help``. The app lives here, apart from the package, so that the command modules import
it without importing the package that imports them (no import cycle).
"""

from __future__ import annotations

import typer

from revalign.errors import CatalogError, ConfigError, DataError, EngineError, UnknownNameError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_DATA, EXIT_ENGINE, EXIT_CONFIG, EXIT_UNKNOWN = 0, 1, 2, 3, 4, 5, 6

app = typer.Typer(
    name="revalign",
    help="One governed set of revenue KPIs for marketing, sales, RevOps and customer success.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code for an error raised by a command."""
    if isinstance(exc, UnknownNameError):
        return EXIT_UNKNOWN
    if isinstance(exc, DataError):
        return EXIT_DATA
    if isinstance(exc, EngineError):
        return EXIT_ENGINE
    if isinstance(exc, ConfigError | CatalogError):
        return EXIT_CONFIG
    return EXIT_FINDINGS
