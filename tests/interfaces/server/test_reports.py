"""Every report endpoint returns exactly what the Python API computes (same numbers, same rows).

The server must not compute numbers; these tests hold it to that by comparing each endpoint's JSON with a
direct call of the library function behind it, on a small simulated company.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from revalign.interfaces.server import create_app
from revalign.project import Project
from tests.interfaces.server.conftest import assert_canonical_error


@pytest.fixture(scope="module")
def sim_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    from revalign.simulate import simulate

    project = Project(tmp_path_factory.mktemp("sim"), engine="duckdb://:memory:")
    simulate(scale="xs", seed=3).write(project.engine)
    yield project
    project.close()


@pytest.fixture(scope="module")
def client(sim_project: Project, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    app = create_app(sim_project, state_url=f"sqlite:///{tmp_path_factory.mktemp('st') / 's.sqlite'}")
    app.state.store.add_user("lead", "password-123", "finance")  # a pay-data role: every scorecard row
    token = app.state.store.create_token("lead", "tests")
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def table(body: dict, name: str) -> pd.DataFrame:
    (found,) = [t for t in body["tables"] if t["name"] == name]
    return pd.DataFrame(found["rows"], columns=[c["name"] for c in found["columns"]])


def assert_same(api: pd.DataFrame, lib: pd.DataFrame, columns: list[str]) -> None:
    """Same rows in the same order; numbers equal to float precision (JSON round trip), NaN ↔ null."""
    assert len(api) == len(lib)
    for col in columns:
        a, b = api[col].tolist(), lib[col].tolist()
        for x, y in zip(a, b, strict=True):
            if isinstance(y, float | np.floating) or isinstance(x, float):
                if y is None or (isinstance(y, float) and np.isnan(y)):
                    assert x is None or (isinstance(x, float) and np.isnan(x)), (col, x, y)  # JSON null
                else:
                    assert x == pytest.approx(float(y), rel=1e-12, abs=1e-12), (col, x, y)
            elif hasattr(y, "isoformat"):
                assert str(x).startswith(str(y.isoformat())[:10]), (col, x, y)
            else:
                assert x == y, (col, x, y)


@pytest.mark.parametrize("department", ["joint", "marketing", "sales"])
def test_scorecards_equal_project_scorecard(client, sim_project, department):
    body = client.get(f"/api/v1/scorecards?department={department}").json()
    assert body["available"], body["notices"]
    card = sim_project.scorecard(None if department == "joint" else department)
    lib = card.to_pandas()
    api = table(body, "scorecard")
    assert_same(api, lib, ["kpi", "period", "actual", "target", "status", "previous", "change", "pct_change"])
    assert body["meta"]["period"] == card.period
    status = table(body, "department_status")
    assert dict(zip(status["department"], status["status"], strict=True)) == card.department_status()


@pytest.mark.slow
def test_scorecard_period_grain_and_segment_filters_equal_the_library(client, sim_project):
    body = client.get("/api/v1/scorecards?period=2025-06&grain=month&segment=smb").json()
    api = table(body, "scorecard")
    # spend-based KPIs (cost per lead, CAC, …) have no segment: left out and named, not silently dropped
    (notice,) = [n for n in body["notices"] if "cannot be sliced by segment" in n]
    left_out = notice.split("left out: ")[1].rstrip(".").split(", ")
    assert "cost_per_lead" in left_out or any("cost" in k for k in left_out)
    kept = [k for k in sim_project.catalog.kpis if k not in left_out]
    lib = sim_project.scorecard(None, period="2025-06", grain="month", by=("segment",), kpis=kept).to_pandas()
    lib = lib[lib["segment"] == "smb"].reset_index(drop=True)
    assert_same(api, lib, ["kpi", "segment", "period", "actual", "previous"])
    everyone = table(client.get("/api/v1/scorecards?period=2025-06&grain=month").json(), "scorecard")
    merged = api.merge(everyone, on="kpi", suffixes=("_smb", "_all"))
    assert (merged["actual_smb"] != merged["actual_all"]).any()  # the filter changes the numbers


def test_overview_equals_scorecard_decomposition_and_alignment(client, sim_project):
    body = client.get("/api/v1/overview").json()
    assert body["available"], body["notices"]
    card = sim_project.scorecard(None)
    star = card.row(card.north_star)
    ns = table(body, "north_star")
    assert ns.loc[0, "kpi"] == card.north_star and ns.loc[0, "actual"] == pytest.approx(star.actual)
    trend = table(body, "north_star_trend")
    assert trend["period"].tolist() == list(star.trend_periods)
    assert trend["value"].tolist() == pytest.approx(list(star.trend), nan_ok=True)
    assert trend["target"].iloc[-1] == pytest.approx(star.target)  # the chart's target line ends at the card's
    assert body["meta"]["charts"][0]["target"] == "target"
    # no period chosen: the driver tree explains the latest mature period, and says so
    mature = sim_project.decompose(grain=card.grain)
    tree = table(body, "driver_tree")
    assert_same(tree, mature.to_pandas(), ["kpi", "value_from", "value_to", "change", "contribution"])
    assert body["meta"]["decomposition_summary"] == mature.summary()
    assert body["meta"]["decomposition_note"] == mature.note
    findings = sim_project.alignment(period=card.period, grain=card.grain, card=card)
    api_findings = table(body, "alignment")
    assert api_findings["message"].tolist() == [f.message for f in findings.findings]
    assert body["meta"]["warnings"] == [f.message for f in findings.findings]
    # who is behind the numbers: the overwrites' and the follow-up breaches' concentration, as the library says
    lines = {line["id"]: line for line in body["meta"]["process"]}
    assert lines["audit"]["text"] == sim_project.audit_concentration().sentence(sim_project.settings.currency)
    assert lines["audit"]["href"].startswith("/audit")
    groups = body["meta"]["warning_groups"]
    assert sum(len(g["messages"]) for g in groups) == len(findings.findings)
    assert [g["title"] for g in groups] == list(dict.fromkeys(f.title for f in findings.findings))
    # a chosen period is explained as chosen
    chosen = client.get(f"/api/v1/overview?period={card.period}").json()
    explicit = sim_project.decompose(end=card.period, grain=card.grain)
    assert chosen["meta"]["decomposition_summary"] == explicit.summary()
    assert_same(table(chosen, "driver_tree"), explicit.to_pandas(), ["kpi", "contribution"])


def test_overview_page_shows_the_leader_sentence_and_one_banner_per_kind(client, sim_project):
    body = client.get("/api/v1/overview").json()
    html = client.get("/").text
    import html as html_lib

    text = html_lib.unescape(html)
    assert body["meta"]["decomposition_summary"] in text and "pts" in body["meta"]["decomposition_summary"]
    for group in body["meta"]["warning_groups"]:
        assert f"{len(group['messages'])} × {group['title']}" in text


def test_kpi_values_equal_evaluate(client, sim_project):
    from revalign.kpis import evaluate

    body = client.get("/api/v1/kpis/win_rate?grain=quarter&by=segment").json()
    lib = evaluate(sim_project.tables, sim_project.catalog, ["win_rate"], grain="quarter", by=["segment"])
    assert_same(table(body, "values"), lib, ["kpi", "segment", "value"])
    assert body["meta"]["kpi"]["name"] == "win_rate"


def test_a_missing_group_is_null_in_json_and_reads_none_on_the_page(client, sim_project):
    # people whose team has no region (marketing, RevOps) are grouped under the library's "(none)" label
    lib = sim_project.kpi("revenue_team_headcount").grain("year").by("region").to_pandas()
    missing = lib["region"] == "(none)"
    assert missing.any() and not missing.all()
    body = client.get("/api/v1/kpis/revenue_team_headcount?grain=year&by=region").json()
    (values,) = [t for t in body["tables"] if t["name"] == "values"]
    regions = [r["region"] for r in values["rows"]]
    assert regions == [None if m else r for r, m in zip(lib["region"], missing, strict=True)]
    shown = [f.get("region") for f, r in zip(values["formatted"], regions, strict=True) if r is None]
    assert shown == ["(none)"] * int(missing.sum())
    assert "null" not in client.get("/api/v1/kpis/revenue_team_headcount?grain=year&by=region&format=csv").text


def test_glossary_lists_every_catalog_kpi_with_its_governance(client, sim_project):
    body = client.get("/api/v1/kpis").json()
    api = table(body, "kpis").set_index("name")
    cat = sim_project.catalog
    names = sorted(cat.kpis)
    assert sorted(api.index) == names
    for name in names:
        kpi = cat.get(name)
        assert api.loc[name, "label"] == (kpi.label or name)
        assert api.loc[name, "owner"] == kpi.owner and api.loc[name, "department"] == kpi.department
    assert body["meta"]["north_star"] == [n for n in names if cat.get(n).north_star]
    # the targets shown are the catalog's (this project sets none of its own), each in the KPI's unit
    from revalign.display import format_value

    shown = 0
    for name in names:
        kpi = cat.get(name)
        for t in kpi.targets:
            if not t.model_dump(exclude_none=True).keys() - {"period", "value", "note"}:  # company-wide ones
                text = f"{t.period}: {format_value(t.value, kpi.unit, currency=sim_project.settings.currency)}"
                assert text in api.loc[name, "targets"], (name, api.loc[name, "targets"])
                shown += 1
    assert shown


def test_unknown_kpi_is_404_with_suggestions(client):
    body = assert_canonical_error(client.get("/api/v1/kpis/win_rat"), 404)
    assert "win_rate" in body["error"]


def test_funnel_equals_the_funnel_module(client, sim_project):
    from revalign.analytics.funnel import funnel
    from revalign.model.access import Tables

    body = client.get("/api/v1/funnel").json()
    lib = funnel(Tables(sim_project.engine), "lead_to_customer", mode="cohort", grain=None).to_pandas()
    assert_same(table(body, "totals"), lib, ["step", "entered", "converted", "rate_from_previous"])
    by_month = client.get("/api/v1/funnel?grain=quarter&segment=smb").json()
    lib_q = funnel(
        Tables(sim_project.engine), "lead_to_customer", mode="cohort", grain="quarter", filters={"segment": ["smb"]}
    ).to_pandas()
    assert_same(table(by_month, "steps"), lib_q, ["step", "entered", "converted"])


def test_attribution_equals_attribution_comparison(client, sim_project):
    from revalign.analytics.attribution import attribution_comparison
    from revalign.model.access import Tables

    body = client.get("/api/v1/attribution?models=linear&models=markov").json()
    lib = attribution_comparison(Tables(sim_project.engine), models=["linear", "markov"], by="channel")
    assert_same(table(body, "comparison"), lib, ["model", "conversions", "revenue"])


def test_page_links_keep_every_model_asked_for(client):
    """The page's CSV and JSON links carry the whole query: both models, not the last one only."""
    html = client.get("/attribution?models=linear&models=markov").text
    assert "models=linear&amp;models=markov" in html
    assert "models=markov&amp;" not in html.replace("models=linear&amp;models=markov", "")


def test_csv_export_of_a_report_matches_its_json(client):
    body = client.get("/api/v1/scorecards?department=sales").json()
    csv = client.get("/api/v1/scorecards?department=sales&format=csv&table=scorecard")
    frame = pd.read_csv(io.StringIO(csv.text))
    api = table(body, "scorecard")
    assert frame["kpi"].tolist() == api["kpi"].tolist()
    assert frame["actual"].sum() == pytest.approx(api["actual"].astype(float).sum())


def test_drill_down_from_a_kpi_uses_the_kpis_own_time_column(client, sim_project):
    # new_revenue counts won new-business deals by close time: its records for Q2 are those deals closed in
    # Q2, whatever their creation date. Independent count straight from the canonical table in pandas.
    opps = sim_project.engine.execute(sim_project.table("opportunities"))
    closed = pd.to_datetime(opps["closed_at"])
    counted = opps["is_won"] & (opps["deal_type"] == "new_business")
    expected = int((counted & (closed >= "2025-04-01") & (closed < "2025-07-01")).sum())
    body = client.get("/api/v1/records/opportunities?kpi=new_revenue&start=2025-04-01&end=2025-06-30").json()
    assert body["meta"]["time_column"] == "closed_at"
    assert body["meta"]["total_rows"] == expected
    by_created = client.get("/api/v1/records/opportunities?start=2025-04-01&end=2025-06-30").json()
    created = pd.to_datetime(opps["created_at"])
    assert by_created["meta"]["total_rows"] == int(((created >= "2025-04-01") & (created < "2025-07-01")).sum())


def test_scorecard_numbers_link_to_their_records(client):
    rows = table(client.get("/api/v1/scorecards?department=sales").json(), "scorecard")
    links = rows.set_index("kpi")["_drill"]
    assert links["new_revenue"].startswith("/records/opportunities?kpi=new_revenue&start=")


@pytest.mark.parametrize(("kpi", "is_won"), [("new_revenue", True), ("deals_won", True)])
def test_drill_down_lists_exactly_the_rows_the_kpi_counted(client, sim_project, kpi, is_won):
    """The records behind a KPI value are the rows it aggregated: its filters apply, not just its period.

    Independent expectation: plain pandas over the raw opportunities table (won new-business deals with
    closed_at in the quarter), and the KPI's own value for that quarter from the Python API.
    """
    opps = sim_project.engine.execute(sim_project.table("opportunities"))
    won = opps[opps.is_won & (opps.deal_type == "new_business") & opps.closed_at.notna()]
    quarter = pd.Timestamp(won.closed_at.max()).to_period("Q")
    start, end = quarter.start_time.date(), quarter.end_time.date()
    expected = won[(won.closed_at >= pd.Timestamp(start)) & (won.closed_at < pd.Timestamp(end) + pd.Timedelta(days=1))]
    assert len(expected) > 0

    body = client.get(f"/api/v1/records/opportunities?kpi={kpi}&start={start}&end={end}&limit=10000").json()
    rows = table(body, "opportunities")
    assert body["meta"]["total_rows"] == len(expected)
    assert sorted(rows.opportunity_id) == sorted(expected.opportunity_id)
    assert "__kpi_time" not in rows.columns and body["meta"]["time_column"] == "closed_at"
    # every deal listed was won (a drill-down that ignored the KPI's filter would list lost deals too)
    assert rows.is_won.all() == is_won

    value = sim_project.kpi(kpi).grain("quarter").to_pandas()
    value = value[pd.to_datetime(value.period_start) == pd.Timestamp(start)].value.item()
    listed = rows.amount.sum() if kpi == "new_revenue" else len(rows)
    assert listed == pytest.approx(value, rel=1e-9)
