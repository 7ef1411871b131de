"""A load is all or nothing: ``revalign ingest`` killed with SIGKILL at any step leaves the store as it was before
the load or as it is after it, and ingesting again gives exactly the counts of one uncrashed load.

The scenario: export A (the simulator's ``xs`` company, seed 3) is loaded; export B is a re-export of it with 25
new leads, a changed lead source on every 7th lead (ledger field events), a changed amount on every 5th
opportunity, and a spend file holding A's spend rows again plus 30 new ones, saved with CRLF line endings. Each
crash runs the real CLI in a subprocess on a copy of the store after A, killed at a named write step
(``load.faults``: ``REVALIGN_FAULT_AFTER``) or after a share of an uncrashed run's time. Then:

- every table's row count (canonical, ``_raw_*``, ledger, ``_quarantine``, ``_load_log``) and the leads' sources
  equal the store before B or the store after an uncrashed B, exactly;
- re-ingesting B gives the after-state, and its counts are checked against the exports themselves (A's leads +
  25, A's spend + 30, B's raw rows once).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from revalign.engine import Engine, connect
from revalign.engine.duckdb import DuckDBEngine
from revalign.sources import ingest
from revalign.sources.load.faults import FAULT_ENV

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
NEW_LEADS = 25
NEW_SPEND = 30
RAW_B = ("_raw_canonical_leads", "_raw_canonical_opportunities", "_raw_canonical_spend")
FAULT_STEPS = ["begin", *(f"raw:{t}" for t in RAW_B)]
FAULT_STEPS += ["ledger", "table:leads", "table:opportunities", "table:spend", "quarantine", "load_log", "commit"]
"""Every named step of the write path this load reaches (``load.faults``), in order: 11 crash points."""
TIMED = (0.75, 0.92)
"""Kills after these shares of an uncrashed CLI run's wall time (wherever they land, the store must be whole)."""
WORKERS = max(2, min(4, os.cpu_count() or 2))
"""Killed ingests run side by side, each on its own copy of the store, to keep the test within CI's budget."""


def _parquet(folder: Path, name: str) -> pd.DataFrame:
    return ds.dataset(str(folder / name), format="parquet").to_table().to_pandas()


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Export A (the simulator's Parquet folder) and export B (a re-export of some of its tables, see above)."""
    from revalign.simulate import simulate_to_parquet

    a = tmp_path_factory.mktemp("export_a")
    simulate_to_parquet(a, scale="xs", seed=3)
    b = tmp_path_factory.mktemp("export_b")
    leads = _parquet(a, "leads")
    sources = sorted(leads["lead_source"].dropna().unique())
    changed = leads.index % 7 == 0
    rotate = dict(zip(sources, [*sources[1:], sources[0]], strict=True))
    leads.loc[changed, "lead_source"] = leads.loc[changed, "lead_source"].map(rotate)
    new = leads.head(NEW_LEADS).assign(lead_id=[f"LNEW{i:04d}" for i in range(NEW_LEADS)])
    pd.concat([leads, new], ignore_index=True).to_parquet(b / "leads.parquet", index=False)
    opps = _parquet(a, "opportunities")
    opps.loc[opps.index % 5 == 0, "amount"] = opps["amount"] * 1.1
    opps.to_parquet(b / "opportunities.parquet", index=False)
    spend = _parquet(a, "spend")
    extra = spend.tail(NEW_SPEND).assign(amount=lambda f: f["amount"] + 1.25)
    pd.concat([spend, extra], ignore_index=True).to_csv(b / "spend.csv", index=False, lineterminator="\r\n")
    return a, b


def _counts(engine: Engine) -> dict[str, object]:
    """Rows of every table, and the leads per source: what a partial load would change."""
    out: dict[str, object] = {t: int(engine.execute(engine.table(t).count())) for t in engine.list_tables()}
    if engine.has_table("leads"):
        leads = engine.table("leads")
        frame = engine.execute(leads.group_by("lead_source").agg(n=leads.count()))
        out["leads by source"] = dict(zip(frame["lead_source"].fillna("-"), frame["n"].astype(int), strict=True))
    return out


def _start(project: Path, export: Path, fault: str | None = None) -> subprocess.Popen[bytes]:
    """``revalign ingest`` of ``export`` into ``project`` in a subprocess (killing itself at step ``fault``)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop(FAULT_ENV, None)
    if fault is not None:
        env[FAULT_ENV] = fault
    cmd = [sys.executable, "-m", "revalign.interfaces.cli", "ingest", str(export), "-m", "canonical"]
    cmd += ["--project", str(project), "--json"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _finish(proc: subprocess.Popen[bytes], kill_after: float | None = None) -> int:
    """The subprocess's return code (``-SIGKILL`` when killed), after killing it at ``kill_after`` seconds."""
    if kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode in (0, -signal.SIGKILL), err.decode(errors="replace")[-2000:]
    return proc.returncode


def _crash_all(store: Store, export: Path, steps: list[str], delays: list[float]) -> list[tuple[str, str, int]]:
    """Run a killed ingest per fault step (``WORKERS`` at a time, each on its own copy of the store), then one per
    delay (alone, so the delay means the same as in the uncrashed run); (label, store name, return code) each."""
    runs = [(step, f"crash{i}") for i, step in enumerate(steps)]
    out = []
    for first in range(0, len(runs), WORKERS):
        batch = runs[first : first + WORKERS]
        procs = [_start(store.project(name), export, step) for step, name in batch]
        out += [(step, name, _finish(proc)) for (step, name), proc in zip(batch, procs, strict=True)]
    for i, delay in enumerate(delays):
        name = f"timed{i}"
        out.append((f"{delay:.1f} s", name, _finish(_start(store.project(name), export), kill_after=delay)))
    return out


class Store:
    """One engine's stores: the state after A (a template), and fresh copies of it for each crash."""

    def __init__(
        self, root: Path, make_url: Callable[[str], str], clone: Callable[[str, str], None], setting: str = ""
    ) -> None:
        self.root, self.make_url, self.clone, self.setting = root, make_url, clone, setting

    def project(self, name: str) -> Path:
        """A project folder whose store is a copy of the state after A."""
        folder = self.root / name
        folder.mkdir()
        self.clone("base", name)
        setting = self.setting or self.make_url(name)
        (folder / "revalign.yaml").write_text(f"name: {name}\nengine: {setting}\n", encoding="utf-8")
        return folder

    def open(self, name: str) -> Engine:
        return connect(self.make_url(name))


def _duckdb_store(root: Path) -> Store:
    def url(name: str) -> str:
        return f"duckdb://{root / name / 'revalign.duckdb'}"

    def clone(src: str, dst: str) -> None:
        shutil.copy(root / src / "revalign.duckdb", root / dst / "revalign.duckdb")

    (root / "base").mkdir()
    return Store(root, url, clone, setting="duckdb:///revalign.duckdb")  # the project-relative default


def _postgres_store(root: Path, server: object) -> Store:
    import psycopg
    from tests.servers import PostgresServer

    assert isinstance(server, PostgresServer)
    prefix = f"crash{os.getpid()}_"
    server.create_database(prefix + "base")

    def clone(src: str, dst: str) -> None:
        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{prefix}{dst}" TEMPLATE "{prefix}{src}"')

    return Store(root, lambda name: server.url_for(prefix + name), clone)


def _crash_and_recover(store: Store, exports: tuple[Path, Path], *, timed: tuple[float, ...]) -> None:
    a, b = exports
    base = store.open("base")
    ingest(base, a, "canonical")
    before = _counts(base)
    base.close()

    started = time.perf_counter()
    assert _finish(_start(store.project("reference"), b)) == 0
    seconds = time.perf_counter() - started
    engine = store.open("reference")
    after = _counts(engine)
    engine.close()
    # the uncrashed load, against the exports themselves
    assert after["leads"] == len(_parquet(a, "leads")) + NEW_LEADS
    assert after["spend"] == len(_parquet(a, "spend")) + NEW_SPEND
    assert after["_raw_canonical_spend"] == before["_raw_canonical_spend"] + len(_parquet(a, "spend")) + NEW_SPEND
    assert after["_raw_canonical_leads"] == before["_raw_canonical_leads"] + after["leads"]
    assert after["_load_log"] == before["_load_log"] + 3
    assert after["ledger"] > before["ledger"]

    crashes = _crash_all(store, b, FAULT_STEPS, [share * seconds for share in timed])
    assert len(crashes) >= 10
    landed = {}
    for label, name, code in crashes:
        engine = store.open(name)
        seen = _counts(engine)
        assert seen in (before, after), f"partial load visible after a kill at {label}"
        landed[label] = (code, "after" if seen == after else "before")
        ingest(engine, b, "canonical")
        assert _counts(engine) == after, f"re-ingest after a kill at {label} did not converge"
        engine.close()
    expected = {step: (-signal.SIGKILL, "after" if step == "commit" else "before") for step in FAULT_STEPS}
    assert {step: landed[step] for step in FAULT_STEPS} == expected


def test_a_killed_ingest_leaves_no_partial_load_on_duckdb(tmp_path: Path, exports: tuple[Path, Path]) -> None:
    _crash_and_recover(_duckdb_store(tmp_path), exports, timed=TIMED)


@pytest.mark.postgres
def test_a_killed_ingest_leaves_no_partial_load_on_postgres(
    tmp_path: Path, exports: tuple[Path, Path], postgres_server: object
) -> None:
    _crash_and_recover(_postgres_store(tmp_path, postgres_server), exports, timed=TIMED[:1])


class _NoTransactions(DuckDBEngine):
    """A real DuckDB engine that declares no transactions: the write path Spark takes."""

    transactional: ClassVar[bool] = False


def test_without_transactions_the_next_load_discards_rows_of_unfinished_loads(tmp_path: Path) -> None:
    """On an engine without transactions a crashed load can leave raw and quarantine rows without a log row;
    the next load deletes them, so re-ingesting the same export keeps each raw row once."""
    engine = _NoTransactions(connect("duckdb://:memory:").con, "duckdb://:memory:")
    first = tmp_path / "first"
    first.mkdir()
    (first / "spend.csv").write_text("Date,Amount\n2024-01-01,10\n2024-01-02,x\n", encoding="utf-8")
    ingest(engine, first, "generic_crm")
    raw = engine.to_pyarrow(engine.table("_raw_generic_crm_spend"))
    stale = raw.set_column(raw.column_names.index("_load_id"), "_load_id", pa.array(["crashed"] * raw.num_rows))
    engine.write("_raw_generic_crm_spend", stale, mode="append")  # what a load killed after its raw write leaves
    second = tmp_path / "second"
    second.mkdir()
    (second / "spend.csv").write_text("Date,Amount\n2024-01-03,5\n", encoding="utf-8")
    report = ingest(engine, second, "generic_crm")
    ids = engine.execute(engine.table("_raw_generic_crm_spend"))["_load_id"]
    assert "crashed" not in set(ids)
    assert len(ids) == 3  # 2 rows of the first load, 1 of the second
    assert any("crashed" in w for w in report.warnings)
