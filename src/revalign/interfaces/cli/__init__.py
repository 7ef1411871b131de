"""⑥ The command-line interface (Typer + Rich). It shows numbers; it never computes them.

The exit codes and the app are in :mod:`.application`; each command module registers its commands on the app
when imported, so the imports below, in this order, are the order of ``revalign --help``.
"""

from __future__ import annotations

import sys

import typer

# isort: off
# the order of these imports is the order of `revalign --help`
from revalign.interfaces.cli import project
from revalign.interfaces.cli import simulate
from revalign.interfaces.cli import ingest
from revalign.interfaces.cli import check
from revalign.interfaces.cli import refresh
from revalign.interfaces.cli import alerts
from revalign.interfaces.cli import tables
from revalign.interfaces.cli import kpi
from revalign.interfaces.cli import tree
from revalign.interfaces.cli import scorecard
from revalign.interfaces.cli import targets
from revalign.interfaces.cli import plan
from revalign.interfaces.cli import funnel
from revalign.interfaces.cli import channels
from revalign.interfaces.cli import attribute
from revalign.interfaces.cli import sla
from revalign.interfaces.cli import agreement
from revalign.interfaces.cli import score
from revalign.interfaces.cli import score_model
from revalign.interfaces.cli import audit
from revalign.interfaces.cli import serve
from revalign.interfaces.cli import demo
from revalign.interfaces.cli import users
from revalign.interfaces.cli import disputes
from revalign.interfaces.cli import docs

# isort: on
from revalign.errors import RevalignError
from revalign.interfaces.cli.application import (
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_ENGINE,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    app,
    exit_code_for,
)
from revalign.interfaces.cli.render import print_error

COMMAND_MODULES = (
    project,
    simulate,
    ingest,
    check,
    refresh,
    alerts,
    tables,
    kpi,
    tree,
    scorecard,
    targets,
    plan,
    funnel,
    channels,
    attribute,
    sla,
    agreement,
    score,
    score_model,
    audit,
    serve,
    demo,
    users,
    disputes,
    docs,
)
"""The modules that add commands to ``app``, in the order of ``revalign --help``."""

__all__ = [
    "COMMAND_MODULES",
    "EXIT_CONFIG",
    "EXIT_DATA",
    "EXIT_ENGINE",
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_UNKNOWN",
    "EXIT_USAGE",
    "app",
    "exit_code_for",
    "main",
]


def main(argv: list[str] | None = None) -> int:
    """Console entry point: runs the app and turns revalign errors into messages and exit codes."""
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
            exc.show()  # type: ignore[attr-defined]  # a ClickException of Typer's click copy (matched above)
            return int(getattr(exc, "exit_code", EXIT_USAGE) or EXIT_USAGE)
        raise
    return result if isinstance(result, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
