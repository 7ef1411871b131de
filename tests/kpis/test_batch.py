"""Many KPIs in one query: the batched evaluation gives each KPI's own values, in one engine query, and caches
KPI by KPI.

The reference here is each KPI compiled and run on its own (``KpiQuery.to_ibis``: no shared aggregates, no
stacking), the path every KPI was evaluated by before batching; tests/kpis/test_reference.py checks the values
themselves against plain pandas.
"""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.kpis import batch, default_catalog, evaluate, query
from revalign.kpis.cache import RESULTS
from revalign.kpis.query import _normalise
from revalign.project import Project

NAMES = sorted(default_catalog().kpis)


def one_by_one(project: Project, names: list[str], by: tuple[str, ...], where: tuple[str, ...] = ()) -> pd.DataFrame:
    q = query(project.tables, project.catalog, names).by(*by).where(*where)
    frames = []
    for name in names:
        frame = _normalise(project.engine.execute(q.to_ibis(name)), by)
        frame.insert(0, "kpi", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _sorted(frame: pd.DataFrame, by: tuple[str, ...]) -> pd.DataFrame:
    return frame.sort_values(["kpi", "period_start", *by]).reset_index(drop=True)


@pytest.mark.slow
@pytest.mark.parametrize(("by", "where"), [(("channel",), ()), ((), ("region = 'emea'",))])
def test_whole_catalog_batched_equals_each_kpi_alone(
    sim_project: Project, by: tuple[str, ...], where: tuple[str, ...]
) -> None:
    cat = default_catalog()
    names = [n for n in NAMES if cat.can_slice(n, list(by))]
    if where:  # a filter on region needs every input of the KPI to reach region
        names = [n for n in names if cat.can_slice(n, ["region"])]
    got = evaluate(sim_project.tables, sim_project.catalog, names, grain="month", by=by, where=list(where))
    want = one_by_one(sim_project, names, by, where)
    assert len(got) > 100 and set(got.kpi) == set(want.kpi)
    pd.testing.assert_frame_equal(_sorted(got, by), _sorted(want, by), check_exact=False, rtol=1e-12)


def test_one_engine_query_per_batch_and_results_cached_kpi_by_kpi(
    sim_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    execute = type(sim_project.engine).execute

    def counting(self, expr, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(expr)
        return execute(self, expr, **kwargs)

    run_sql = type(sim_project.engine).run_sql

    def counting_sql(self, sql, schema):  # type: ignore[no-untyped-def]
        calls.append(sql)  # a batch whose SQL is cached (or was just compiled) runs as SQL text
        return run_sql(self, sql, schema)

    monkeypatch.setattr(type(sim_project.engine), "execute", counting)
    monkeypatch.setattr(type(sim_project.engine), "run_sql", counting_sql)
    RESULTS.clear()
    first = evaluate(
        sim_project.tables, sim_project.catalog, ["win_rate", "new_leads", "pipeline_velocity"], grain="quarter"
    )
    assert len(calls) == 2  # the data version, then one query for the three KPIs
    assert RESULTS.misses == 3 and RESULTS.hits == 0
    calls.clear()
    second = evaluate(sim_project.tables, sim_project.catalog, ["new_leads", "mqls"], grain="quarter")
    assert len(calls) == 2 and RESULTS.hits == 1 and RESULTS.misses == 4  # new_leads came from the cache
    pd.testing.assert_frame_equal(
        second[second.kpi == "new_leads"].reset_index(drop=True),
        first[first.kpi == "new_leads"].reset_index(drop=True),
    )
    # small batches (several queries) give the same frame as one batch
    monkeypatch.setattr(batch, "MAX_BRANCHES", 2)
    calls.clear()
    names = ["win_rate", "new_leads", "pipeline_velocity", "mqls", "cac"]
    chunked = query(sim_project.tables, sim_project.catalog, names).grain("quarter").no_cache().to_pandas()
    assert len(calls) == 3  # 5 KPIs in batches of 2; no data-version query without the cache
    monkeypatch.setattr(batch, "MAX_BRANCHES", 120)
    whole = query(sim_project.tables, sim_project.catalog, names).grain("quarter").no_cache().to_pandas()
    pd.testing.assert_frame_equal(chunked, whole)


def test_split_gives_every_kpi_its_rows_and_empty_frames_to_kpis_without_rows() -> None:
    frame = pd.DataFrame(
        {"kpi": ["b", "a", "b"], "period_start": ["2026-01-01", "2026-01-01", "2026-02-01"], "value": [1.0, 2.0, 3.0]}
    )
    parts = batch.split(frame, ["a", "b", "c"])
    assert list(parts) == ["a", "b", "c"]
    assert parts["a"].value.tolist() == [2.0]
    assert parts["b"].value.tolist() == [1.0, 3.0]
    assert parts["c"].empty and list(parts["c"].columns) == ["period_start", "value"]
    assert list(batch.chunks(list("abcde"), 2)) == [["a", "b"], ["c", "d"], ["e"]]
