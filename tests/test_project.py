"""Project folders: revalign.yaml is validated as a whole and relative DuckDB paths follow the folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from revalign import ConfigError, init_project, open_project
from revalign.interfaces.cli import EXIT_CONFIG, main
from revalign.settings import resolve_engine_url


def test_init_then_open_uses_a_duckdb_file_inside_the_folder(tmp_path: Path):
    init_project(tmp_path / "acme")
    project = open_project(tmp_path / "acme")
    assert project.settings.name == "acme"
    assert project.table("leads").count().execute() == 0  # empty typed table before any load
    project.engine.write("x", __import__("pandas").DataFrame({"a": [1]}))
    assert (tmp_path / "acme" / "revalign.duckdb").exists()
    project.close()


def test_init_refuses_to_overwrite(tmp_path: Path):
    init_project(tmp_path)
    with pytest.raises(ConfigError, match="already exists"):
        init_project(tmp_path)


def test_unknown_key_names_file_and_key(tmp_path: Path):
    (tmp_path / "revalign.yaml").write_text("name: x\nengin: duckdb://\n")
    with pytest.raises(ConfigError, match=r"revalign\.yaml: engin: Extra inputs are not permitted"):
        open_project(tmp_path)


def test_cli_reports_config_error_with_its_exit_code(tmp_path: Path, capsys):
    (tmp_path / "revalign.yaml").write_text("fiscal_year_start_month: 13\n")
    init_code = main(["init", str(tmp_path)])
    assert init_code == EXIT_CONFIG
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("duckdb:///revalign.duckdb", "duckdb:///base/revalign.duckdb"),
        ("duckdb:////abs/x.duckdb", "duckdb:////abs/x.duckdb"),
        ("duckdb://:memory:", "duckdb://:memory:"),
        ("postgres://u@h:5432/db", "postgres://u@h:5432/db"),
    ],
)
def test_engine_url_resolution(url: str, expected: str):
    assert resolve_engine_url(url, Path("/base")) == expected
