"""Compiled SQL reused across calls and processes (src/revalign/kpis/sql_cache.py): the SQL text, run as it is,
gives the frames the compiled expression gives; a second process reads it from the project's state folder; an
edited definition or a changed table shape compiles again.

The reference is the same request with no SQL cache (``with_sql_cache(None)``: build and compile, the path every
request took before the cache); tests/kpis/test_reference.py checks the values themselves against plain pandas.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import ibis
import pandas as pd
import pytest

from revalign.definitions.kpis.catalog import Catalog
from revalign.engine import Engine, connect
from revalign.kpis import default_catalog, query
from revalign.kpis.sql_cache import CompiledSql, SqlCache
from revalign.project import Project
from tests.kpis.fixtures.tables import load_fixture

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("new_leads", "mqls", "win_rate", "new_revenue", "pipeline_velocity")


@pytest.mark.slow
@pytest.mark.parametrize("by", [(), ("channel",)])
def test_whole_catalog_from_cached_sql_equals_the_compiled_expression(
    sim_project: Project, by: tuple[str, ...]
) -> None:
    cache = SqlCache()
    q = query(sim_project.tables, sim_project.catalog, sorted(sim_project.catalog.kpis))
    q = q.by(*by).skipping_unreachable().no_cache()
    want = q.with_sql_cache(None).to_pandas()
    first = q.with_sql_cache(cache).to_pandas()  # compiles, stores the SQL, runs the SQL text
    second = q.with_sql_cache(cache).to_pandas()  # runs the stored SQL text: no expression built
    assert (cache.misses, cache.hits) == (1, 1)
    assert len(want) > 1000 and want.kpi.nunique() > 40
    pd.testing.assert_frame_equal(first, want)
    pd.testing.assert_frame_equal(second, want)


def test_a_hit_builds_no_expression(sim_project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = SqlCache()
    q = query(sim_project.tables, sim_project.catalog, NAMES).grain("quarter").no_cache().with_sql_cache(cache)
    want = q.to_pandas()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled on a hit")

    monkeypatch.setattr(type(q), "_compiler", refuse)
    pd.testing.assert_frame_equal(q.to_pandas(), want)
    assert cache.hits == 1


def _edited(catalog: Catalog, kpi: str | None = None, filter: str = "", model: str | None = None) -> Catalog:
    """``catalog`` with one KPI's filter or one semantic model's description changed (the rest shared)."""
    out = copy.copy(catalog)
    if kpi is not None:
        out.kpis = {**catalog.kpis, kpi: catalog.kpis[kpi].model_copy(update={"filter": filter})}
    if model is not None:
        sm = catalog.semantic_models[model]
        out.semantic_models = {**catalog.semantic_models, model: sm.model_copy(update={"description": "edited"})}
    return out


def test_an_edited_definition_or_table_shape_compiles_again(duckdb_engine: Engine) -> None:
    load_fixture(duckdb_engine)
    project = Project(ROOT / "no-such-folder", engine=duckdb_engine)
    cache = SqlCache()

    def run(catalog: Catalog, names: tuple[str, ...] = NAMES) -> pd.DataFrame:
        return query(project.tables, catalog, names).grain("quarter").no_cache().with_sql_cache(cache).to_pandas()

    catalog = default_catalog()
    run(catalog)
    run(catalog)
    assert (cache.misses, cache.hits) == (1, 1)
    edited = run(_edited(catalog, kpi="mqls", filter="stage = 'sql'"))  # a KPI of the request
    assert not edited[edited.kpi == "mqls"].reset_index(drop=True).equals(run(catalog)[lambda f: f.kpi == "mqls"])
    run(_edited(catalog, kpi="deals_won", filter="is_won"), ("pipeline_velocity",))  # an input of a derived KPI
    run(_edited(catalog, model="users"))  # another model: dimensions are reached through other models' entities
    assert (cache.misses, cache.hits) == (4, 2)
    run(catalog, ("pipeline_velocity",))
    run(catalog, ("pipeline_velocity",))
    assert (cache.misses, cache.hits) == (5, 3)
    leads = duckdb_engine.table("leads")
    duckdb_engine.write("leads", leads.mutate(extra=ibis.literal(1)).to_pyarrow())  # a column more: a new shape
    run(catalog)
    assert (cache.misses, cache.hits) == (6, 3)


def test_sql_for_in_memory_tables_is_not_cached(duckdb_engine: Engine) -> None:
    """A table never loaded is an empty in-memory table, registered only while its expression runs."""
    frames = load_fixture(duckdb_engine)
    duckdb_engine.drop("opportunities")
    cache = SqlCache()
    tables = Project(ROOT / "no-such-folder", engine=duckdb_engine).tables
    got = query(tables, default_catalog(), ["pipeline_velocity"]).no_cache().with_sql_cache(cache).to_pandas()
    assert got.empty and len(cache) == 0 and "leads" in frames


def test_compiled_sql_survives_its_json(tmp_path: Path) -> None:
    compiled = CompiledSql("SELECT 1 AS x", ibis.schema({"x": "!int32", "d": "date", "v": "float64"}))
    assert CompiledSql.from_json(compiled.to_json()) == compiled
    cache = SqlCache(tmp_path / "state" / "c.sqlite", max_disk_entries=2)
    for key in "abc":
        cache.put(key, compiled)
    other = SqlCache(tmp_path / "state" / "c.sqlite")
    assert other.get("c") == compiled and other.get("a") is None  # the oldest went past max_disk_entries
    assert (other.disk_hits, other.misses) == (1, 1)


def test_an_unusable_cache_file_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = SqlCache(blocker / "c.sqlite")
    cache.put("k", CompiledSql("SELECT 1", ibis.schema({"x": "int32"})))
    assert cache.get("k") is not None  # still served from memory
    assert SqlCache(blocker / "c.sqlite").get("k") is None


SECOND_PROCESS = """
import json, sys
from revalign.project import Project
project = Project(sys.argv[1])
frame = project.kpi(*sys.argv[2:]).grain("quarter").no_cache().to_pandas()
c = project.sql_cache
print(json.dumps({"hits": c.hits, "disk_hits": c.disk_hits, "misses": c.misses, "frame": frame.to_json()}))
"""


@pytest.mark.slow
def test_a_second_process_reads_the_compiled_sql_from_the_project_state_folder(tmp_path: Path) -> None:
    engine = connect(f"duckdb:///{tmp_path / 'revalign.duckdb'}")
    load_fixture(engine)
    project = Project(tmp_path, engine=engine)
    want = project.kpi(*NAMES).grain("quarter").no_cache().to_pandas()
    assert project.sql_cache.misses == 1 and (tmp_path / ".revalign" / "compiled-sql.sqlite").exists()
    engine.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, str(tmp_path), *NAMES],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=tmp_path,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert (seen["disk_hits"], seen["misses"], seen["hits"]) == (1, 0, 0)
    assert seen["frame"] == want.to_json()


def test_cached_sql_runs_on_every_engine(engine: Engine) -> None:
    """The SQL text runs through each engine's own driver (DuckDB's relations, psycopg, ``spark.sql``)."""
    load_fixture(engine)
    tables = Project(ROOT / "no-such-folder", engine=engine).tables
    cache = SqlCache()
    q = query(tables, default_catalog(), NAMES).grain("quarter").by("segment").no_cache()
    want = q.with_sql_cache(None).to_pandas()
    for _ in range(2):
        pd.testing.assert_frame_equal(q.with_sql_cache(cache).to_pandas(), want)
    assert (cache.misses, cache.hits) == (1, 1) and len(want) > 5
