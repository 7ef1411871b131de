"""``revalign init / ingest / check / tables``: output, JSON and the documented exit codes."""

from __future__ import annotations

import json

import pytest

from revalign.interfaces.cli import EXIT_CONFIG, EXIT_DATA, EXIT_FINDINGS, EXIT_OK, EXIT_UNKNOWN, main


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "proj"
    assert main(["init", str(folder)]) == EXIT_OK
    return folder


def _exports(tmp_path, text: str):
    folder = tmp_path / "exports"
    folder.mkdir(exist_ok=True)
    (folder / "leads.csv").write_text(text, encoding="utf-8")
    return folder


GOOD = "Lead ID,Created Date,Lead Source\nL1,2024-01-01,Email\nL2,2024-01-02,Webinar\n"
BAD_ROW = GOOD + "L3,not a date,Email\n"


def test_ingest_json_report_then_tables_and_clean_check(project, tmp_path, capsys):
    exports = _exports(tmp_path, GOOD)
    assert main(["ingest", str(exports), "--mapping", "generic_crm", "--project", str(project), "--json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["rows_read"] == 2 and report["rows_quarantined"] == 0 and not report["skipped_as_duplicate"]
    assert main(["tables", "--project", str(project), "--json"]) == EXIT_OK
    out = json.loads(capsys.readouterr().out)
    counts = {t["table"]: t["rows"] for t in out["tables"]}
    assert counts["leads"] == 2 and counts["ledger"] == 2 and counts["opportunities"] == 0
    assert [(r["file"].endswith("leads.csv"), r["rows_loaded"]) for r in out["loads"]] == [(True, 2)]
    assert main(["check", "--project", str(project), "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_check_exits_1_and_lists_quarantined_rows(project, tmp_path, capsys):
    exports = _exports(tmp_path, BAD_ROW)
    assert main(["ingest", str(exports), "-m", "generic_crm", "-p", str(project)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "1 rows quarantined" in out and "revalign check" in out
    assert main(["check", "-p", str(project)]) == EXIT_FINDINGS
    text = capsys.readouterr().out
    assert "date_format" in text and "Created Date" in text and "leads.csv" in text
    assert main(["check", "-p", str(project), "--json"]) == EXIT_FINDINGS
    payload = json.loads(capsys.readouterr().out)
    (section,) = [s for s in payload["sections"] if s["name"] == "quarantine"]
    assert section["problems"] == 1
    assert [(r["row"], r["rule"], r["column"], r["value"]) for r in section["rows"]] == [
        (3, "date_format", "Created Date", "not a date")
    ]


def test_second_ingest_of_same_file_says_nothing_to_do(project, tmp_path, capsys):
    exports = _exports(tmp_path, GOOD)
    args = ["ingest", str(exports), "-m", "generic_crm", "-p", str(project)]
    assert main(args) == EXIT_OK
    capsys.readouterr()
    assert main(args) == EXIT_OK
    assert "Nothing to do" in capsys.readouterr().out


def test_exit_codes_for_bad_file_bad_mapping_and_unknown_mapping(project, tmp_path, capsys):
    exports = _exports(tmp_path, "Lead ID;Created Date\nL1;2024-01-01\n")
    assert main(["ingest", str(exports), "-m", "generic_crm", "-p", str(project)]) == EXIT_DATA
    assert "delimiter" in capsys.readouterr().err
    assert main(["ingest", str(exports), "-m", "olsit", "-p", str(project)]) == EXIT_UNKNOWN
    assert "Did you mean 'olist'" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntargets: []\n", encoding="utf-8")
    assert main(["ingest", str(exports), "-m", str(bad), "-p", str(project)]) == EXIT_CONFIG
    assert "bad.yaml:2" in capsys.readouterr().err
