"""Hostile input never crashes, never vanishes and never loads silently (issue #13, the ingest slice).

For every case of ``hostile_corpus.CASES`` (non-finite and huge numbers, extreme dates, quoting errors,
encodings, delimiters, empty and header-only files, duplicates, dangling keys, formula strings …):

- the ingest runs as a library call, and for a sample also as a CLI subprocess, with no traceback and the
  documented exit code (0 when the load ran, 3 when a file is refused under a file rule);
- the rows of each file are counted here, independently (one record per non-blank line, or Python's ``csv``
  module for ``multiline`` targets; ``pyarrow.parquet`` for Parquet), and equal ``rows_read``; for every file
  and target ``rows_read = rows_loaded + rows_quarantined + rows_deduplicated``; the table holds the loaded rows;
- the quarantine holds exactly the rules the case names, and each entry's value is the cell (or the whole
  line, for line rules) found at its row in the file, read here with ``csv`` on that one line.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tests.sources.hostile_corpus import CASES, Case

from revalign.engine import connect
from revalign.errors import ConfigError, SchemaError
from revalign.interfaces.cli import EXIT_DATA, EXIT_OK
from revalign.sources import ingest, load_mapping, quarantined
from revalign.sources.rules import RULES

REPO = Path(__file__).resolve().parents[2]
LINE_RULES = {"quoting", "field_count"}
csv.field_size_limit(1 << 24)  # the corpus holds a 300 kB cell; the csv module stops at 128 kB by default
CLI_SAMPLE = {
    "employees_2_63",
    "unterminated_quote_mid_file",
    "header_only_no_newline",
    "utf16_undeclared",
    "multiline_open_at_eof",
    "duplicates_deduplicated",
}
"""A sample through ``python -m revalign.interfaces.cli`` (a subprocess costs seconds; the library runs them all)."""


def test_the_corpus_is_large_and_names_only_known_rules():
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    for case in CASES:
        assert case.rules <= set(RULES) and (case.refused is None or case.refused in RULES), case.name


def test_every_rule_is_documented():
    doc = (REPO / "docs" / "mappings.md").read_text(encoding="utf-8")
    assert [rule for rule in RULES if f"`{rule}`" not in doc] == []


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("    allow_negative: [budget]\n", "allow_negative names unmapped column"),
        ("    delimiter: ';;'\n", "delimiter must be one character"),
        ("    delimiter: '\"'\n", "delimiter must be one character"),
    ],
)
def test_hostile_target_options_are_config_errors(tmp_path, option, message):
    path = tmp_path / "m.yaml"
    path.write_text(
        "name: m\ntargets:\n  - name: t\n    files: [x.csv]\n    table: leads\n"
        + option
        + "    columns: {lead_id: Id, created_at: C}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=message):
        load_mapping(path)


def test_a_backwards_date_window_is_a_config_error(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(
        "name: m\ndate_window: {earliest: 2024-01-01, latest: 2023-01-01}\ntargets:\n  - name: t\n"
        "    files: [x.csv]\n    table: leads\n    columns: {lead_id: Id, created_at: C}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"m.yaml:2: date_window: latest \(2023-01-01\) is before earliest"):
        load_mapping(path)


def _folder(tmp_path: Path, case: Case) -> tuple[Path, str | Path]:
    """The case's files in a folder, and the mapping (a shipped name, or the case's YAML written beside it)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    for name, data in case.files.items():
        (folder / name).write_bytes(data)
    if "\n" not in case.mapping:
        return folder, case.mapping
    path = tmp_path / "mapping.yaml"
    path.write_text(case.mapping, encoding="utf-8")
    return folder, path


def _lines(case: Case, data: bytes) -> list[str]:
    """The file's physical lines as text (line 1 = the header), line breaks removed."""
    text = data.decode(case.encoding).removeprefix("\ufeff")
    return [line.removesuffix("\r") for line in text.split("\n")]


def _count_rows(case: Case, name: str, data: bytes) -> int:
    """Rows of one file, counted without revalign."""
    if name.endswith(".parquet"):
        return pq.read_table(io.BytesIO(data)).num_rows
    if case.multiline:
        text = data.decode(case.encoding).removeprefix("\ufeff")
        return sum(1 for record in csv.reader(io.StringIO(text, newline=""), delimiter=case.delimiter) if record) - 1
    lines = _lines(case, data)[1:]
    if b'"' not in data:  # without quotes, the csv module must agree that one line is one record
        text = data.decode(case.encoding).removeprefix("\ufeff")
        records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=case.delimiter)][1:]
        assert len([r for r in records if r]) == len([line for line in lines if line])
    return sum(1 for line in lines if line)


def _check_values(case: Case, q, folder: Path) -> None:
    """Each quarantine entry's value is what its row of the file holds: the line, or the cell of its column."""
    for entry in q.itertuples():
        name = Path(entry.file).name
        if name.endswith(".parquet") or case.multiline:
            continue
        lines = _lines(case, (folder / name).read_bytes())
        line = lines[entry.row]  # data row n is line n + 1, i.e. index n
        if entry.rule in LINE_RULES:
            assert entry.value == line, (case.name, entry)
            continue
        header = next(csv.reader([lines[0]], delimiter=case.delimiter))
        cells = next(csv.reader([line], delimiter=case.delimiter))
        assert entry.value == cells[header.index(entry.column)], (case.name, entry)


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")  # an exception a callback swallowed
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case_through_the_library(tmp_path, capfd, case):
    folder, mapping = _folder(tmp_path, case)
    engine = connect("duckdb://:memory:")
    try:
        _check_library_load(case, engine, folder, mapping)
        assert "Traceback" not in capfd.readouterr().err  # not even one a callback prints and swallows
    finally:
        engine.close()


def _check_library_load(case: Case, engine, folder: Path, mapping: str | Path) -> None:
    """The case loads (or is refused) as it says, with every row accounted for."""
    if case.refused is not None:
        with pytest.raises(SchemaError) as info:
            ingest(engine, folder, mapping)
        err = info.value
        assert err.rule == case.refused and err.file is not None and Path(err.file).parent == folder
        assert not [t for t in engine.list_tables() if not t.startswith("_")]  # nothing was loaded
        return
    report = ingest(engine, folder, mapping)
    per_file: dict[str, int] = {}
    for t in report.tables:
        assert t.rows_read == t.rows_loaded + t.rows_quarantined + t.rows_deduplicated, (case.name, t)
        per_file[Path(t.file).name] = t.rows_read
    assert per_file == {name: _count_rows(case, name, data) for name, data in case.files.items()}
    q = quarantined(engine)
    assert set(q["rule"]) == set(case.rules), q[["row", "column", "rule", "value"]]
    for t in report.tables:
        mine = q[(q["file"] == t.file) & (q["target"] == t.target)]
        assert mine["row"].nunique() == t.rows_quarantined
        assert engine.execute(engine.table(t.table).count()) == t.rows_loaded
    assert q["column"].notna().all() or set(q.loc[q["column"].isna(), "rule"]) <= LINE_RULES
    _check_values(case, q, folder)


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in CASES if c.name in CLI_SAMPLE], ids=sorted(CLI_SAMPLE))
def test_hostile_case_through_the_cli(tmp_path, case):
    folder, mapping = _folder(tmp_path, case)
    project = tmp_path / "project"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    args = [sys.executable, "-m", "revalign.interfaces.cli", "ingest", str(folder), "-m", str(mapping)]
    run = subprocess.run(
        [*args, "-p", str(project), "--json"], capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path
    )
    assert "Traceback" not in run.stderr + run.stdout
    if case.refused is not None:
        assert run.returncode == EXIT_DATA, run.stderr
        assert f"rule {case.refused}" in run.stderr and Path(next(iter(case.files))).name in run.stderr
        return
    assert run.returncode == EXIT_OK, run.stderr
    report = json.loads(run.stdout)
    expected = sum(_count_rows(case, name, data) for name, data in case.files.items())
    assert report["rows_read"] == expected
    assert report["rows_read"] == sum(
        t["rows_loaded"] + t["rows_quarantined"] + t["rows_deduplicated"] for t in report["tables"]
    )
