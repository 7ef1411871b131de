"""⑥ The command-line interface (Typer + Rich). It shows numbers; it never computes them.

Exit codes scripts can trust (also in docs/cli.md):

====  ==============================================================
0     success
1     the command ran and found problems (quarantined rows, catalog issues, alignment warnings)
2     usage error (unknown option, bad argument)
3     data error (a file cannot be read as its mapped table)
4     engine error (cannot connect, backend cannot run the computation)
5     configuration error (revalign.yaml, mapping or catalog file is invalid)
6     unknown name (KPI, table, mapping, funnel …)
====  ==============================================================

Each command group lives in its own module and registers itself on ``app``; the modules are listed in
``COMMAND_MODULES`` so the order of ``revalign --help`` is stable.
"""

from __future__ import annotations

import importlib
import sys

import typer

from revalign.errors import CatalogError, ConfigError, DataError, EngineError, RevalignError, UnknownNameError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_DATA, EXIT_ENGINE, EXIT_CONFIG, EXIT_UNKNOWN = 0, 1, 2, 3, 4, 5, 6

app = typer.Typer(
    name="revalign",
    help="One governed set of revenue KPIs for marketing, sales, RevOps and customer success.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

COMMAND_MODULES: tuple[str, ...] = (
    "project",
    "simulate",
    "ingest",
    "check",
    "tables",
    "kpi",
    "tree",
    "scorecard",
    "targets",
    "funnel",
    "channels",
    "attribute",
    "serve",
    "demo",
    "users",
    "docs",
)
"""Modules under ``revalign.interfaces.cli`` that add commands to ``app`` when imported."""

for _module in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_module}")


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


def main(argv: list[str] | None = None) -> int:
    """Console entry point: runs the app and turns revalign errors into messages and exit codes."""
    from revalign.interfaces.cli.render import print_error

    try:
        result = app(args=argv, standalone_mode=False)  # click returns typer.Exit's code instead of raising
    except RevalignError as exc:
        print_error(exc)
        return exit_code_for(exc)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except (typer.Abort, KeyboardInterrupt):
        return 130
    except Exception as exc:
        # Usage errors: Typer ships its own copy of click, so match click's exception by its class name
        # rather than by one particular click module's class.
        if any(base.__name__ == "ClickException" for base in type(exc).__mro__):
            exc.show()
            return int(getattr(exc, "exit_code", EXIT_USAGE) or EXIT_USAGE)
        raise
    return result if isinstance(result, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
