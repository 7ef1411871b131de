"""A fixed re-export resolves the quarantine entries it fixes; the history of what was wrong stays.

Hand-written exports; every expectation is read off the literal texts (data rows 1-based, header excluded).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.conftest import make_engine

from revalign.interfaces.cli import EXIT_FINDINGS, EXIT_OK, main
from revalign.sources import ingest, quarantine_summary, quarantined
from revalign.sources.quarantine import SCHEMA, TABLE

HEADER = "Lead ID,Email,Created Date,Lead Source\n"
BAD = (
    HEADER
    + "L1,a@x,2024-01-01,Email\n"  # row 1: fine
    + "L2,b@x,01/02/2024,Email\n"  # row 2: date_format (key L2 readable)
    + "L3,c@x,2024-01-03,Carrier Pigeon\n"  # row 3: enum (key L3)
    + ",d@x,2024-01-04,Email\n"  # row 4: not_null, no key
    + "L5,e@x\n"  # row 5: field_count, no key
)
# L2's date and L3's source fixed; the key-less row 4 now has an id (L4); row 5 still has two fields.
FIXED = (
    HEADER
    + "L1,a@x,2024-01-01,Email\n"
    + "L2,b@x,2024-01-02,Email\n"
    + "L3,c@x,2024-01-03,Webinar\n"
    + "L4,d@x,2024-01-04,Email\n"
    + "L5,e@x\n"
)


def _export(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leads.csv").write_text(text, encoding="utf-8")
    return folder


def _state(engine) -> dict[str, object]:
    """Everything a load may change, for the "load again → nothing changes" check."""
    q = quarantined(engine, include_resolved=True)
    return {
        "leads": engine.execute(engine.table("leads").order_by("lead_id")).astype(str).to_dict("list"),
        "ledger": int(engine.execute(engine.table("ledger").count())),
        "quarantine": q.astype(str).to_dict("list"),
    }


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_engine(request):
    eng = make_engine(request.param, request)
    yield eng
    eng.close()


def test_fixed_export_resolves_entries_and_keeps_their_history(sql_engine, tmp_path):
    engine = sql_engine
    first = ingest(engine, _export(tmp_path / "v1", BAD), "generic_crm")
    assert first.rows_quarantined == 4 and first.quarantine_resolved == 0
    q = quarantined(engine)
    assert sorted(zip(q["row"], q["rule"], q["key"].fillna("-"), strict=True)) == [
        (2, "date_format", "L2"),
        (3, "enum", "L3"),
        (4, "not_null", "-"),
        (5, "field_count", "-"),
    ]
    assert q["resolved_at"].isna().all()

    second = ingest(engine, _export(tmp_path / "v2", FIXED), "generic_crm")
    # L2 and L3 load (their entries resolve by key); row 4's entry had no key, and the re-export of leads.csv
    # no longer rejects an empty Lead ID, so it resolves too; row 5 is rejected again the same way: open
    assert second.quarantine_resolved == 3
    still = quarantined(engine)
    assert sorted(zip(still["load_id"], still["row"], still["rule"], strict=True)) == sorted(
        [(first.load_id, 5, "field_count"), (second.load_id, 5, "field_count")]
    )
    everything = quarantined(engine, include_resolved=True)
    assert len(everything) == 4 + 1  # nothing deleted: the four first entries plus row 5 again
    done = everything[everything["resolved_at"].notna()]
    assert sorted(done["row"]) == [2, 3, 4]
    assert set(done["resolved_by"]) == {second.load_id}
    assert set(done["load_id"]) == {first.load_id}  # the history: which load quarantined them
    loaded_at = pd.Timestamp(
        engine.execute(engine.table("_load_log").filter(lambda t: t.load_id == second.load_id).loaded_at.max())
    )
    assert set(pd.to_datetime(done["resolved_at"])) == {loaded_at}
    # the fixed rows are present exactly once, with the fixed values
    leads = engine.execute(engine.table("leads"))
    assert sorted(leads["lead_id"]) == ["L1", "L2", "L3", "L4"]
    by_id = leads.set_index("lead_id")
    assert str(pd.Timestamp(by_id.loc["L2", "created_at"]).date()) == "2024-01-02"
    assert by_id.loc["L3", "lead_source"] == "webinar"

    # the same fixed export again (a copy elsewhere): skipped, nothing changes
    before = _state(engine)
    third = ingest(engine, _export(tmp_path / "v3", FIXED), "generic_crm")
    assert third.skipped_as_duplicate and third.quarantine_resolved == 0
    assert _state(engine) == before


def test_summary_counts_open_entries_and_status_on_request(duckdb_engine, tmp_path):
    ingest(duckdb_engine, _export(tmp_path / "v1", BAD), "generic_crm")
    ingest(duckdb_engine, _export(tmp_path / "v2", FIXED), "generic_crm")
    open_ = quarantine_summary(duckdb_engine)
    assert open_[["rule", "rows"]].values.tolist() == [["field_count", 1], ["field_count", 1]]  # one per file
    every = quarantine_summary(duckdb_engine, include_resolved=True)
    got = sorted(zip(every["rule"], every["status"], every["rows"], strict=True))
    assert got == [
        ("date_format", "resolved", 1),
        ("enum", "resolved", 1),
        ("field_count", "open", 1),
        ("field_count", "open", 1),
        ("not_null", "resolved", 1),
    ]


def test_a_later_unrelated_export_resolves_nothing(duckdb_engine, tmp_path):
    """Another file (accounts) and a leads export that does not carry the bad keys leave the entries open."""
    ingest(duckdb_engine, _export(tmp_path / "v1", BAD), "generic_crm")
    other = tmp_path / "v2"
    other.mkdir()
    (other / "accounts.csv").write_text("Account ID,Account Name\nA1,Acme\n", encoding="utf-8")
    assert ingest(duckdb_engine, other, "generic_crm").quarantine_resolved == 0
    fewer = tmp_path / "v3"
    _export(fewer, HEADER + "L1,a@x,2024-01-01,Email\n" + ",d@x,2024-01-04,Email\n" + "L5,e@x\n")
    # neither L2 nor L3 is in it; row 2's empty id and row 3's two fields are rejected again (as rows 2 and 3)
    report = ingest(duckdb_engine, fewer, "generic_crm")
    assert report.quarantine_resolved == 0
    assert len(quarantined(duckdb_engine)) == 4 + 2


def test_a_quarantine_written_before_resolution_existed_is_upgraded(duckdb_engine, tmp_path):
    """Projects from before ``key``/``resolved_*``: read as open, upgraded on the next load, then resolvable."""
    ingest(duckdb_engine, _export(tmp_path / "v1", BAD), "generic_crm")
    old = duckdb_engine.execute(duckdb_engine.table(TABLE)).drop(columns=["key", "resolved_at", "resolved_by"])
    duckdb_engine.write(TABLE, old)
    assert "key" not in duckdb_engine.table(TABLE).columns
    assert len(quarantined(duckdb_engine)) == 4
    report = ingest(duckdb_engine, _export(tmp_path / "v2", FIXED), "generic_crm")
    assert list(duckdb_engine.table(TABLE).columns) == list(SCHEMA.names)
    # old entries carry no key, so only the file rule applies: rows 2-4's problems are gone from leads.csv
    assert report.quarantine_resolved == 3
    assert sorted(quarantined(duckdb_engine)["row"]) == [5, 5]


def test_check_lists_open_entries_and_all_with_a_flag(tmp_path, capsys):
    project = tmp_path / "proj"
    assert main(["init", str(project)]) == EXIT_OK
    assert main(["ingest", str(_export(tmp_path / "v1", BAD)), "-m", "generic_crm", "-p", str(project)]) == EXIT_OK
    assert main(["ingest", str(_export(tmp_path / "v2", FIXED)), "-m", "generic_crm", "-p", str(project)]) == EXIT_OK
    capsys.readouterr()
    assert main(["check", "-p", str(project), "--json"]) == EXIT_FINDINGS
    (section,) = [s for s in json.loads(capsys.readouterr().out)["sections"] if s["name"] == "quarantine"]
    assert section["problems"] == 2 and {r["rule"] for r in section["rows"]} == {"field_count"}
    assert main(["check", "-p", str(project), "--json", "--all"]) == EXIT_FINDINGS  # still 2 open problems
    (section,) = [s for s in json.loads(capsys.readouterr().out)["sections"] if s["name"] == "quarantine"]
    assert section["problems"] == 2
    assert sorted((r["row"], r["resolved_by"] is not None) for r in section["rows"]) == [
        (2, True),
        (3, True),
        (4, True),
        (5, False),
        (5, False),
    ]
    assert main(["check", "-p", str(project), "--all"]) == EXIT_FINDINGS
    text = capsys.readouterr().out
    assert "resolved" in text and "date_format" in text
