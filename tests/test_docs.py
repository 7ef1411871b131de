"""Generated reference pages match the code, and every CLI command is documented."""

from __future__ import annotations

from revalign.interfaces.cli.docs import cli_reference, command_paths
from tests.conftest import REPO


def test_cli_reference_is_up_to_date():
    committed = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == cli_reference(), "docs/cli.md is stale: run `revalign docs`"


def test_every_command_has_help_and_appears_in_the_reference():
    reference = cli_reference()
    for path in command_paths():
        assert f"## `{path}`" in reference
    import typer

    from revalign.interfaces.cli import app

    root = typer.main.get_command(app)
    for name, command in root.commands.items():
        assert (command.help or "").strip(), f"revalign {name} has no help text"
