"""Determinism, the chunked Parquet path, loading into engines, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from revalign.errors import UnknownNameError
from revalign.interfaces.cli import main
from revalign.model.tables import TABLES
from revalign.project import init_project, open_project
from revalign.simulate import GroundTruth, SimulatedCompany, simulate, simulate_to_parquet


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def xs_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("xs") / "a"
    simulate_to_parquet(folder, scale="xs", seed=7)
    return folder


def test_same_seed_gives_byte_identical_files(xs_folder: Path, tmp_path: Path) -> None:
    simulate_to_parquet(tmp_path / "b", scale="xs", seed=7)
    a, b = _files(xs_folder), _files(tmp_path / "b")
    assert set(a) == set(b)
    assert len([k for k in a if k.endswith(".parquet")]) >= len(TABLES)
    differing = [k for k in a if a[k] != b[k]]
    assert not differing


def test_another_seed_gives_other_data(xs_folder: Path, tmp_path: Path) -> None:
    simulate_to_parquet(tmp_path / "c", scale="xs", seed=8)
    a, c = _files(xs_folder), _files(tmp_path / "c")
    assert a["leads/part-00000.parquet"] != c["leads/part-00000.parquet"]


def test_parquet_parts_hold_the_same_rows_as_the_in_memory_company(xs_folder: Path) -> None:
    """The chunked writer and ``simulate`` run the same generator: same rows, canonical schema in both."""
    company = simulate(scale="xs", seed=7)
    parts = {p.parent.name for p in xs_folder.glob("*/part-*.parquet")}
    assert set(TABLES) <= parts
    assert len(list((xs_folder / "leads").glob("part-*.parquet"))) == 2, "xs is generated in two chunks"
    for name in TABLES:
        on_disk = ds.dataset(xs_folder / name, format="parquet").to_table()
        assert on_disk.schema == TABLES[name].schema.to_pyarrow(), name
        assert on_disk.equals(company.tables[name]), name
    truth = json.loads((xs_folder / "ground_truth.json").read_text())
    assert truth["counts"] == {k: t.num_rows for k, t in company.tables.items()}
    assert truth["labels"] == json.loads(json.dumps(company.truth.to_dict()))["labels"]


def test_company_to_parquet_round_trips(tmp_path: Path, company: SimulatedCompany) -> None:
    company.to_parquet(tmp_path)
    for name, table in company.tables.items():
        assert pa.parquet.read_table(tmp_path / f"{name}.parquet").equals(table)
    assert (tmp_path / "ground_truth.json").exists()
    assert pa.parquet.read_table(tmp_path / "truth" / "leads.parquet").num_rows == company.truth.leads.num_rows


def test_write_scale_s_into_every_engine(engine, company: SimulatedCompany) -> None:
    import ibis

    company.write(engine)
    # one query for all row counts (a Spark job per table would dominate the test's time)
    counts = [
        engine.table(name).aggregate(rows=lambda t: t.count(), table=ibis.literal(name)) for name in company.tables
    ]
    got = dict(engine.execute(ibis.union(*counts))[["table", "rows"]].itertuples(index=False))
    assert got == {name: t.num_rows for name, t in company.tables.items()}
    leads = engine.table("leads")
    converted = int(engine.execute(leads.filter(leads.is_converted).count()))
    assert converted == pa.compute.sum(company.tables["leads"].column("is_converted")).as_py()


def test_load_parquet_parts_into_duckdb(duckdb_engine, xs_folder: Path) -> None:
    truth = json.loads((xs_folder / "ground_truth.json").read_text())
    for name in TABLES:
        assert duckdb_engine.load_parquet(name, xs_folder / name) == truth["counts"][name]


def test_unknown_scale_is_named() -> None:
    with pytest.raises(UnknownNameError, match="simulator scale 'huge'"):
        simulate(scale="huge")


def test_cli_simulate_writes_parquet_and_loads_an_engine(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        [
            "simulate",
            "--scale",
            "xs",
            "--seed",
            "7",
            "--out",
            str(tmp_path / "o"),
            "--engine",
            "duckdb://:memory:",
            "--json",
        ]
    )
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["table"] for r in rows} == set(TABLES)
    assert all(r["rows"] == r["loaded"] for r in rows)
    assert (tmp_path / "o" / "ground_truth.json").exists()
    assert main(["simulate", "--scale", "huge", "--out", str(tmp_path / "x")]) == 6


def test_ground_truth_reads_back_from_both_layouts(xs_folder: Path, tmp_path: Path) -> None:
    chunked = GroundTruth.read(xs_folder)
    company = simulate(scale="xs", seed=7)
    company.to_parquet(tmp_path)
    single = GroundTruth.read(tmp_path)
    for truth in (chunked, single):
        assert truth.labels.equals(company.truth.labels)
        assert truth.leads.equals(company.truth.leads)
        assert truth.to_dict() == json.loads(json.dumps(company.truth.to_dict()))


def test_cli_simulate_into_a_project(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    init_project(tmp_path / "p", engine_url="duckdb:///revalign.duckdb")
    code = main(
        [
            "simulate",
            "--scale",
            "xs",
            "--seed",
            "7",
            "--out",
            str(tmp_path / "o"),
            "--project",
            str(tmp_path / "p"),
            "--json",
        ]
    )
    assert code == 0
    rows = {r["table"]: r["rows"] for r in json.loads(capsys.readouterr().out)}
    project = open_project(tmp_path / "p")
    try:
        for name in TABLES:
            assert int(project.engine.execute(project.table(name).count())) == rows[name]
    finally:
        project.close()


def test_bench_data_generates_once_and_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, duckdb_engine) -> None:
    from bench import data

    monkeypatch.setattr(data, "WORK", tmp_path / "_work")
    folder = data.scale_data("xs", seed=7)
    stamp = (folder / "leads" / "part-00000.parquet").stat().st_mtime_ns
    assert data.scale_data("xs", seed=7) == folder
    assert (folder / "leads" / "part-00000.parquet").stat().st_mtime_ns == stamp, "reused, not regenerated"
    assert not list((tmp_path / "_work").glob(".*tmp"))
    counts = data.load_scale(duckdb_engine, "xs", seed=7)
    truth = json.loads((folder / "ground_truth.json").read_text())
    assert counts == truth["counts"]
