"""The public surface: query objects, explain, comparison, cache, calendar, glossary and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from revalign.errors import EngineError, UnknownNameError
from revalign.kpis import default_catalog, evaluate
from revalign.kpis.cache import RESULTS
from revalign.kpis.glossary import update
from revalign.model import calendar
from revalign.project import Project
from tests.kpis.fixtures.tables import load_fixture

DOCS = Path(__file__).resolve().parents[2] / "docs" / "kpis.md"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Project:
    from revalign.engine import connect

    engine = connect("duckdb://:memory:")
    load_fixture(engine)
    return Project(tmp_path_factory.mktemp("tiny"), engine=engine)


def test_glossary_in_docs_is_up_to_date() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert update(text, default_catalog()) == text, "run: python -m revalign.kpis.glossary"
    for name in default_catalog().kpis:
        assert f"`{name}`" in text


@pytest.mark.parametrize("engine", ["duckdb", "postgres", "spark"])
def test_explain_compiles_without_data(tiny: Project, engine: str) -> None:
    sql = tiny.kpi("sales_cycle_days_median", "win_rate").explain(engine=engine)
    assert "-- win_rate" in sql and "SELECT" in sql.upper()
    median = {"duckdb": "QUANTILE_CONT", "postgres": "PERCENTILE_CONT", "spark": "PERCENTILE("}[engine]
    assert median in sql.upper()


def test_explain_names_the_kpi_a_dialect_cannot_express(tiny: Project) -> None:
    """SQLite has no median: a clear EngineError naming the KPI, not an Ibis traceback; other KPIs still explain."""
    assert "SELECT" in tiny.kpi("win_rate").explain(engine="sqlite").upper()
    with pytest.raises(EngineError, match=r"'sales_cycle_days_median' cannot be written as sqlite SQL.*Median"):
        tiny.kpi("sales_cycle_days_median").explain(engine="sqlite")


def test_compare_previous_period(tiny: Project) -> None:
    got = tiny.kpi("marketing_spend").compare("previous_period").to_pandas().set_index("period_start")
    # spend: Jan 3000, Feb 2000, Mar 1000 → Feb change −1000 (−33 %), Mar −1000 (−50 %)
    assert got.loc[dt.date(2026, 2, 1), "previous_value"] == 3000
    assert got.loc[dt.date(2026, 3, 1), "change"] == -1000
    assert got.loc[dt.date(2026, 3, 1), "change_pct"] == pytest.approx(-0.5)


def test_period_labels_and_unknown_names(tiny: Project) -> None:
    got = tiny.kpi("marketing_spend").period("2026-02", "2026-03").to_pandas()
    assert list(got.value) == [2000, 1000]
    with pytest.raises(UnknownNameError, match="win_rate"):
        tiny.kpi("win_rat")
    with pytest.raises(UnknownNameError, match="channel"):
        tiny.kpi("cac").by("segment").no_cache().to_pandas()


def test_results_are_cached_per_data_version(tiny: Project) -> None:
    RESULTS.clear()
    first = evaluate(tiny.tables, tiny.catalog, ["new_leads"])
    evaluate(tiny.tables, tiny.catalog, ["new_leads"])
    assert RESULTS.hits == 1
    frames = load_fixture(tiny.engine)  # same data → same version
    leads = frames["leads"].iloc[:2]
    from revalign.model.tables import TABLES

    tiny.engine.write("leads", leads, schema=TABLES["leads"].schema)
    try:
        changed = evaluate(tiny.tables, tiny.catalog, ["new_leads"])
        assert changed.value.sum() == 2 and first.value.sum() == 4
    finally:
        load_fixture(tiny.engine)


def test_historical_and_current_definitions(tiny: Project) -> None:
    """new_revenue counted renewals before 2024-07; the tiny data has none, so both views agree here, and a
    quarter that straddles nothing keeps its value."""
    hist = tiny.kpi("new_revenue").grain("quarter").to_pandas()
    cur = tiny.kpi("new_revenue").grain("quarter").definitions("current").to_pandas()
    assert hist.value.tolist() == cur.value.tolist() == [40000.0]


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)), st.integers(1, 12))
def test_fiscal_periods_roundtrip(day: dt.date, fiscal_start: int) -> None:
    for grain in ("quarter", "year", "month", "week"):
        start = calendar.period_start(day, grain, fiscal_start)
        period = calendar.parse_period(calendar.period_label(start, grain, fiscal_start), fiscal_start)
        assert period.start == start and period.contains(day)


def test_cli_kpi_commands(tiny: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from revalign.interfaces.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["kpi", "list", "--json", "--project", str(tmp_path)])
    assert out.exit_code == 0, out.output
    assert {r["name"] for r in json.loads(out.output)} == set(default_catalog().kpis)
    out = runner.invoke(app, ["kpi", "show", "win_rate", "--json", "--project", str(tmp_path)])
    data = json.loads(out.output)
    assert data["parent_chain"] == ["new_revenue"] and data["defined_in"].startswith("kpis/sales.yaml:")
    monkeypatch.setattr("revalign.interfaces.cli.kpi.open_project", lambda folder: tiny)
    out = runner.invoke(app, ["kpi", "eval", "win_rate", "--grain", "quarter", "--by", "team", "--json"])
    assert out.exit_code == 0, out.output
    assert {(r["team"], r["value"]) for r in json.loads(out.output)} == {("t1", 1.0), ("t2", 0.0)}


def test_revalign_check_reports_catalog_issues(tmp_path: Path) -> None:
    from revalign.interfaces.cli import app

    (tmp_path / "extra").mkdir()
    (tmp_path / "revalign.yaml").write_text("name: t\ncatalog: [extra]\n")
    (tmp_path / "extra" / "x.yaml").write_text(
        "kpis:\n  - name: bad_kpi\n    description: x\n    type: simple\n    semantic_model: leads\n    unit: count\n"
        "    owner: nobody\n    department: sales\n    direction: higher_is_better\n    timing: leading\n"
        "    parent: new_leads\n"
    )
    out = CliRunner().invoke(app, ["check", "--json", "--project", str(tmp_path)])
    assert out.exit_code == 1
    section = next(s for s in json.loads(out.output)["sections"] if s["name"] == "catalog")
    assert section["rows"] == [
        {
            "level": "ERROR",
            "file": "x.yaml",
            "line": 7,
            "kpi": "bad_kpi",
            "rule": "governance",
            "message": section["rows"][0]["message"],
        }
    ]
    assert "nobody" in section["rows"][0]["message"]
