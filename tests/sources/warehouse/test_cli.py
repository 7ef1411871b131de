"""``revalign ingest --mapping fivetran_hubspot --database FOLDER``: a table mapping from the command line, as
docs/warehouse.md shows it; a file mapping without a PATH is refused with exit 5."""

from __future__ import annotations

import json

from tests.sources.warehouse.salesforce import write_parquet
from tests.sources.warehouse.test_fivetran_hubspot import _portal

from revalign.interfaces.cli import EXIT_CONFIG, EXIT_DATA, EXIT_OK, main


def test_ingest_reads_a_table_mapping_then_skips_the_same_tables(tmp_path, capsys) -> None:
    project = tmp_path / "proj"
    assert main(["init", str(project)]) == EXIT_OK
    lake = write_parquet(_portal(), tmp_path / "lake", schema="crm")
    args = ["ingest", "-m", "fivetran_hubspot", "--database", str(lake), "--schema", "crm", "-p", str(project)]
    capsys.readouterr()
    assert main([*args, "--json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert (report["rows_read"], report["rows_quarantined"]) == (20, 1)  # 2+1+3+2+3+1+5+3 rows; contact 3 refused
    assert main(args) == EXIT_OK
    assert "already loaded" in capsys.readouterr().out


def test_ingest_without_a_path_or_with_a_wrong_schema_says_what_is_missing(tmp_path, capsys) -> None:
    project = tmp_path / "proj"
    assert main(["init", str(project)]) == EXIT_OK
    assert main(["ingest", "-m", "generic_crm", "-p", str(project)]) == EXIT_CONFIG
    assert "reads files" in capsys.readouterr().err
    lake = write_parquet(_portal(), tmp_path / "lake", schema="crm")
    assert main(["ingest", "-m", "fivetran_hubspot", "--database", str(lake), "-p", str(project)]) == EXIT_DATA
    assert "No table 'owner'" in capsys.readouterr().err
