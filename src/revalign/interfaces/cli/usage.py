"""Usage errors: a bad option value ends the command with the documented usage exit code and one clear line.

Library functions raise ``ValueError`` for a value they cannot use (an unknown grain, a bad plan rule); at the
command line that is the user's typing, not a crash, so it becomes exit code 2. A :class:`RevalignError` that
is also a ``ValueError`` keeps its own exit code (``main`` maps it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from revalign.errors import RevalignError
from revalign.interfaces.cli.application import EXIT_USAGE
from revalign.interfaces.cli.render import err_console


def usage_error(message: str) -> NoReturn:
    """Say why on stderr and exit with the usage code."""
    err_console.print(f"[bold red]Usage error[/]: {message}", highlight=False)
    raise typer.Exit(EXIT_USAGE)


@contextmanager
def values_checked() -> Iterator[None]:
    """Turn a plain ``ValueError`` raised inside the block into a usage error."""
    try:
        yield
    except ValueError as exc:
        if isinstance(exc, RevalignError):
            raise
        usage_error(str(exc))
