"""⑥ The command-line interface (Typer + Rich). It shows numbers; it never computes them.

The exit codes and the app are in :mod:`.application`; each command module registers its commands on the app
when imported.

**Starting fast.** Importing a command module imports what its command calls (the project, Ibis, pandas,
scikit-learn…): ~3 s, which every command paid when this package imported them all, ``revalign version``
included. So this package imports no command module up front. :data:`COMMANDS` lists every top-level
command, in the order of ``revalign --help``, with its one-line help and the function that imports its module;
:func:`main` imports only the module of the command it runs, and ``revalign --help`` lists :data:`COMMANDS`
without importing any (``tests/interfaces/test_cli_startup.py`` holds the list to the app and checks that
importing this package pulls in none of the heavy libraries). ``app`` and ``COMMAND_MODULES`` (every command
registered, for tests and ``revalign docs``) load every module on first access.

Adding a command module ``comp.py`` (registering ``revalign comp``): write a loader
``def _comp() -> ModuleType: from revalign.interfaces.cli import comp; return comp`` below, append it to
:data:`LOADERS`, and add ``Command("comp", "<the first paragraph of its help>", _comp)`` to :data:`COMMANDS`
where it shows in ``revalign --help`` (commands first, then groups, each in registration order).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

from revalign.errors import RevalignError
from revalign.interfaces.cli import application
from revalign.interfaces.cli.application import (
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_ENGINE,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_UNKNOWN,
    EXIT_USAGE,
    exit_code_for,
)

if TYPE_CHECKING:  # loaded on first access (module __getattr__ below), so that importing the CLI stays light
    from revalign.interfaces.cli.application import app

# one loader per command module: a plain import, so the dependency is visible to the reader and to the linters


def _project() -> ModuleType:
    from revalign.interfaces.cli import project

    return project


def _simulate() -> ModuleType:
    from revalign.interfaces.cli import simulate

    return simulate


def _ingest() -> ModuleType:
    from revalign.interfaces.cli import ingest

    return ingest


def _check() -> ModuleType:
    from revalign.interfaces.cli import check

    return check


def _refresh() -> ModuleType:
    from revalign.interfaces.cli import refresh

    return refresh


def _alerts() -> ModuleType:
    from revalign.interfaces.cli import alerts

    return alerts


def _tables() -> ModuleType:
    from revalign.interfaces.cli import tables

    return tables


def _kpi() -> ModuleType:
    from revalign.interfaces.cli import kpi

    return kpi


def _tree() -> ModuleType:
    from revalign.interfaces.cli import tree

    return tree


def _scorecard() -> ModuleType:
    from revalign.interfaces.cli import scorecard

    return scorecard


def _targets() -> ModuleType:
    from revalign.interfaces.cli import targets

    return targets


def _plan() -> ModuleType:
    from revalign.interfaces.cli import plan

    return plan


def _funnel() -> ModuleType:
    from revalign.interfaces.cli import funnel

    return funnel


def _channels() -> ModuleType:
    from revalign.interfaces.cli import channels

    return channels


def _attribute() -> ModuleType:
    from revalign.interfaces.cli import attribute

    return attribute


def _sla() -> ModuleType:
    from revalign.interfaces.cli import sla

    return sla


def _agreement() -> ModuleType:
    from revalign.interfaces.cli import agreement

    return agreement


def _score() -> ModuleType:
    from revalign.interfaces.cli import score

    return score


def _score_model() -> ModuleType:
    from revalign.interfaces.cli import score_model

    return score_model


def _audit() -> ModuleType:
    from revalign.interfaces.cli import audit

    return audit


def _comp() -> ModuleType:
    from revalign.interfaces.cli import comp

    return comp


def _forecast() -> ModuleType:
    from revalign.interfaces.cli import forecast

    return forecast


def _serve() -> ModuleType:
    from revalign.interfaces.cli import serve

    return serve


def _demo() -> ModuleType:
    from revalign.interfaces.cli import demo

    return demo


def _users() -> ModuleType:
    from revalign.interfaces.cli import users

    return users


def _disputes() -> ModuleType:
    from revalign.interfaces.cli import disputes

    return disputes


def _sync() -> ModuleType:
    from revalign.interfaces.cli import sync

    return sync


def _writeback() -> ModuleType:
    from revalign.interfaces.cli import writeback

    return writeback


def _docs() -> ModuleType:
    from revalign.interfaces.cli import docs

    return docs


LOADERS: tuple[Callable[[], ModuleType], ...] = (
    _project,
    _simulate,
    _ingest,
    _check,
    _refresh,
    _alerts,
    _tables,
    _kpi,
    _tree,
    _scorecard,
    _targets,
    _plan,
    _funnel,
    _channels,
    _attribute,
    _sla,
    _agreement,
    _score,
    _score_model,
    _audit,
    _comp,
    _serve,
    _demo,
    _users,
    _disputes,
    _forecast,
    _docs,
    _sync,
    _writeback,
)
"""Every command module's loader, in registration order (the order of ``revalign --help`` within commands and
within groups)."""


def load_all() -> tuple[ModuleType, ...]:
    """Import every command module (registering every command on the app), in registration order."""
    return tuple(load() for load in LOADERS)


@dataclass(frozen=True)
class Command:
    """A top-level command as ``revalign --help`` lists it, and how to load it without loading the others."""

    name: str
    help: str
    """The first paragraph of the command's help, as ``revalign --help`` shows it."""
    load: Callable[[], Any]


COMMANDS: tuple[Command, ...] = (
    Command("init", "Create a project folder with a revalign.yaml.", _project),
    Command("version", "Print revalign's version.", _project),
    Command("simulate", "Simulate a company with known ground truth; print rows per table.", _simulate),
    Command(
        "ingest",
        "Load exports into the canonical tables; rejected rows go to quarantine (see `revalign check`).",
        _ingest,
    ),
    Command(
        "check",
        "Show what needs fixing: quarantined rows, KPI inputs with no data, catalog, tree, funnel and target issues.",
        _check,
    ),
    Command(
        "refresh",
        "Run the configured sources, recompute, and evaluate and deliver alerts (alerts.yaml); exit 1 on problems.",
        _refresh,
    ),
    Command(
        "tables",
        "Row counts of the canonical tables, and every load (file, target, rows read/loaded/quarantined).",
        _tables,
    ),
    Command(
        "tree",
        "Explain the change of the north star between two periods, driver by driver (exact, with residual).",
        _tree,
    ),
    Command(
        "scorecard",
        "Scorecard per department or joint: actual vs target, status, trend; flags misalignment (exit 1).",
        _scorecard,
    ),
    Command(
        "plan",
        "Reverse funnel: the deals, opportunities, SQLs, MQLs, leads and spend a revenue target takes.",
        _plan,
    ),
    Command(
        "funnel",
        "Funnel step table: entered, converted, dropped, step and first-step rates, days between steps.",
        _funnel,
    ),
    Command(
        "channels",
        "Channel productivity: spend, traffic, leads, cost per lead/MQL, SQLs, pipeline, wins, new revenue, CAC, ROMI.",
        _channels,
    ),
    Command(
        "attribute",
        "Credited conversions and revenue per channel (or campaign) under every model, with spend, ROMI and CAC.",
        _attribute,
    ),
    Command(
        "audit", "Credit-gaming and data faults found in the ledger, with who, when and the revenue at stake.", _audit
    ),
    Command("serve", "Serve the dashboard and the REST API (OpenAPI at /docs).", _serve),
    Command(
        "demo", "Simulate a small company, compute its KPIs, print the north star, and serve the dashboard.", _demo
    ),
    Command(
        "forecast",
        "Quarter landing: won so far + open pipeline weighted by past quarters' close rates + run-rate to come.",
        _forecast,
    ),
    Command(
        "waterfall",
        "Pipeline waterfall: each week's opening, created, amount changed, won, lost and closing open pipeline.",
        _forecast,
    ),
    Command("docs", "Regenerate the generated reference pages: docs/cli.md and docs/model.md.", load_all),
    Command("users", "Dashboard users, roles and API tokens.", _users),
    Command("alerts", "Alert rules (alerts.yaml): check, run now, log, weekly digest.", _alerts),
    Command("kpi", "The KPI catalog: list, show, evaluate, explain and export KPIs.", _kpi),
    Command("sla", "SLAs of the marketing–sales agreement: breaches, compliance, open clocks.", _sla),
    Command("agreement", "The marketing–sales agreement's versions: propose one, sign it, see who signed.", _agreement),
    Command("targets", "Targets: plan them from last year's actuals, list them, check them.", _targets),
    Command(
        "score",
        "Lead scoring: rule versions (propose, approve, apply, explain, feedback, drift, export) and a predictive "
        "model (fit, backtest, explain-model).",
        _score_model,  # score_model adds fit, backtest and explain-model to score's group (it imports score)
    ),
    Command(
        "comp",
        "Comp plans: payouts with statements (as recorded or as audited), the perverse-incentive check, and "
        "what-if comparisons of plans and drafts.",
        _comp,
    ),
    Command(
        "disputes", "Disputes: contest a number or an MQL's rejection; a thread, an owner, a resolution.", _disputes
    ),
    Command("sync", "Sync a CRM's API into the project: salesforce, hubspot.", _sync),
    Command("writeback", "Write revalign's values back to a CRM: salesforce, hubspot.", _writeback),
)
"""Every top-level command in the order of ``revalign --help``; ``docs`` loads them all (it documents them)."""


def index() -> TyperGroup:
    """The root group as ``revalign --help`` shows it, with a light stand-in for every command (no module loaded).

    A name that is not in :data:`COMMANDS` gets click's usage error (with Typer's suggestion of close names).
    """
    group = typer.main.get_group(application.app)
    for command in COMMANDS:
        group.add_command(TyperCommand(command.name, help=command.help, short_help=command.help))
    return group


def root_for(args: list[str]) -> TyperGroup:
    """The click group that runs ``args``: the app with only the named command's module loaded, or the index."""
    named = {command.name: command for command in COMMANDS}.get(args[0]) if args else None
    if named is None:
        return index()
    named.load()
    return typer.main.get_group(application.app)


def __getattr__(name: str) -> Any:
    """``app`` and ``COMMAND_MODULES``: every command module loaded on first access (tests, ``revalign docs``)."""
    if name == "app":
        load_all()
        return application.app
    if name == "COMMAND_MODULES":
        return load_all()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "COMMANDS",
    "COMMAND_MODULES",
    "EXIT_CONFIG",
    "EXIT_DATA",
    "EXIT_ENGINE",
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_UNKNOWN",
    "EXIT_USAGE",
    "LOADERS",
    "app",
    "exit_code_for",
    "load_all",
    "main",
]


def main(argv: list[str] | None = None) -> int:
    """Console entry point: runs the app and turns revalign errors into messages and exit codes."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        result = root_for(args)(args=args, standalone_mode=False)  # click returns typer.Exit's code
    except RevalignError as exc:
        from revalign.interfaces.cli.render import print_error  # Rich + pandas: only when there is an error

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
