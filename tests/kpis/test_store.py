"""The KPI store answers exactly what live evaluation answers, and only what it can answer exactly.

The reference is live evaluation (``no_cache``: compiled and run on the engine) of the same request, compared
frame for frame for every default KPI × stored grain × slice, open-ended and with period bounds; the live values
themselves are checked against pandas oracles in tests/kpis/test_reference.py. A store left by an older data
version, an edited KPI or an ad-hoc filter must not be read.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from revalign.alerts.refresh import refresh
from revalign.engine import Engine, connect
from revalign.interfaces.server.state import StateStore, default_state_url
from revalign.interfaces.server.state.alerts import AlertStore
from revalign.kpis import default_catalog
from revalign.kpis import store as kpi_store
from revalign.kpis.cache import RESULTS
from revalign.kpis.query import KpiQuery
from revalign.kpis.store_refresh import StoreReport, refresh_store
from revalign.model.tables import TABLES
from revalign.project import Project
from tests.conftest import make_engine
from tests.kpis.fixtures.tables import load_fixture

pytestmark = pytest.mark.slow

GRAINS = ("quarter",)
"""One grain for the whole catalog (each stored slice costs seconds of Ibis compiling); the month grain is
checked on PostgreSQL below, the store's code is the same for every grain."""
DIMS = ("segment",)
NAMES = sorted(default_catalog().kpis)


def _load(engine: Engine, tables: dict[str, pd.DataFrame], folder: Path) -> Project:
    for name, frame in tables.items():
        engine.write(name, frame, schema=TABLES[name].schema)
    return Project(folder, engine=engine)


@pytest.fixture(scope="module")
def stored(
    sim_tables: dict[str, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Project, StoreReport]:
    """The simulated company (scale s) on its own DuckDB (other modules' tests must not read its store), stored."""
    project = _load(connect("duckdb://:memory:"), sim_tables, tmp_path_factory.mktemp("store"))
    report = refresh_store(project.tables, project.catalog, grains=GRAINS, dimensions=DIMS)
    return project, report


def _served(project: Project, q: KpiQuery) -> tuple[pd.DataFrame, set[str]]:
    """``q`` answered with the store (result cache cleared first) and the KPIs the store answered."""
    RESULTS.clear()
    o = q.options
    req = kpi_store.StoreRequest(o.grain, o.by, q._first_start(), o.end, q.fiscal_year_start_month)
    covered = set(kpi_store.read(project.tables, project.catalog, q.names, project.tables.data_version(), req)[0])
    return q.to_pandas(), covered


CASES = [
    ("quarter", (), dt.date(2025, 1, 1), dt.date(2026, 1, 1), "previous_period"),
    ("quarter", ("segment",), None, None, None),
]


@pytest.mark.parametrize(("grain", "by", "start", "end", "compare"), CASES)
def test_store_answers_equal_live_evaluation(
    stored: tuple[Project, StoreReport],
    grain: str,
    by: tuple[str, ...],
    start: dt.date | None,
    end: dt.date | None,
    compare: str | None,
) -> None:
    project, _ = stored
    names = [n for n in NAMES if project.catalog.can_slice(n, list(by))]
    q = project.kpi(*names).grain(grain).by(*by).period(start, end)
    q = q.compare(compare) if compare else q
    got, covered = _served(project, q)
    want = q.no_cache().to_pandas()
    assert covered == set(names)  # every KPI (snapshots too: the bounds end before today)
    assert len(want) > 50
    # equal up to the order DuckDB's parallel sums add floats in (two live runs differ as much)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)


def test_refresh_stores_every_kpi_once_per_slice(stored: tuple[Project, StoreReport]) -> None:
    project, report = stored
    held = kpi_store.stored_versions(project.tables)
    assert report.slices == len(GRAINS) * (1 + len(DIMS)) == len(held)
    assert set(held["data_version"]) == {report.data_version}
    company = held[held["dimension"] == kpi_store.COMPANY]
    assert set(company["kpis"]) == {len(NAMES)}
    assert report.rows == int(held["rows"].sum()) > 1000


def test_store_is_not_read_for_other_versions_filters_grains_or_definitions(
    stored: tuple[Project, StoreReport],
) -> None:
    project, _ = stored
    tables, catalog = project.tables, project.catalog
    version = tables.data_version()
    req = kpi_store.StoreRequest("quarter", (), None, None)
    assert set(kpi_store.read(tables, catalog, ["win_rate"], version, req)[0]) == {"win_rate"}
    assert kpi_store.read(tables, catalog, ["win_rate"], "other-version", req)[0] == []
    for other in (
        kpi_store.StoreRequest("month", (), None, None),  # a grain not stored
        kpi_store.StoreRequest("quarter", ("owner",), None, None),  # a slice not stored
        kpi_store.StoreRequest("quarter", ("segment", "region"), None, None),  # two dimensions
        kpi_store.StoreRequest("quarter", (), dt.date(2025, 2, 1), None),  # a bound inside a quarter
        kpi_store.StoreRequest("quarter", (), None, None, fiscal_year_start_month=2),  # another calendar
    ):
        assert kpi_store.read(tables, catalog, ["win_rate"], version, other)[0] == [], other
    # a snapshot KPI (mrr) is stored for the day of the refresh: the day after it is evaluated live
    tomorrow = kpi_store.today() + dt.timedelta(days=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kpi_store, "today", lambda: tomorrow)
        assert kpi_store.read(tables, catalog, ["win_rate", "mrr"], version, req)[0] == ["win_rate"]
    late = kpi_store.StoreRequest("quarter", (), None, dt.date(tomorrow.year + 1, 1, 1))
    assert kpi_store.read(tables, catalog, ["win_rate", "mrr"], version, late)[0] == ["win_rate"]
    edited = copy.deepcopy(catalog)
    edited.kpis["win_rate"] = edited.kpis["win_rate"].model_copy(update={"filter": "segment = 'smb'"})
    assert kpi_store.read(tables, edited, ["win_rate"], version, req)[0] == []
    # an ad-hoc filter is answered live, and differs from the stored company value
    RESULTS.clear()
    filtered = project.kpi("win_rate").where("segment = 'enterprise'").to_pandas()
    whole = project.kpi("win_rate").to_pandas()
    assert not filtered["value"].equals(whole["value"])


POSTGRES_KPIS = ["new_revenue", "win_rate", "pipeline_created", "mrr", "lead_to_opportunity_rate", "new_revenue_ytd"]
"""One KPI of each kind the tiny fixture has data for: simple, ratio, snapshot, conversion, cumulative."""


@pytest.mark.postgres
def test_store_on_postgres_equals_live(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    engine = make_engine("postgres", request)
    try:
        load_fixture(engine)
        project = Project(tmp_path, engine=engine)
        names = [n for n in POSTGRES_KPIS if project.catalog.can_slice(n, ["segment"])]
        report = refresh_store(project.tables, project.catalog, grains=("month",), dimensions=("segment",), kpis=names)
        assert report.slices == 2
        q = project.kpi(*names).grain("month").by("segment")
        got, covered = _served(project, q)
        assert covered == set(names)
        pd.testing.assert_frame_equal(got, q.no_cache().to_pandas(), check_exact=False, rtol=1e-12)
        assert len(got) > 10
    finally:
        engine.close()


def test_refresh_rebuilds_the_store_only_when_the_project_asks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Project] = []

    def fake_build(self: Project) -> StoreReport:  # the build itself is tested above; here only the wiring
        built.append(self)
        return StoreReport("v1", slices=1, rows=2)

    monkeypatch.setattr(Project, "refresh_kpi_store", fake_build)
    project = Project(tmp_path, engine=connect("duckdb://:memory:"))
    store = StateStore(default_state_url(tmp_path))
    store.migrate()
    state = AlertStore(store)
    assert refresh(project, state, {}, sources=False, send=False).store is None and not built
    project.settings = project.settings.model_copy(update={"kpi_store": True})
    report = refresh(project, state, {}, sources=False, send=False)
    assert built == [project] and report.to_dict()["kpi_store"] == {"data_version": "v1", "rows": 2, "seconds": 0.0}
