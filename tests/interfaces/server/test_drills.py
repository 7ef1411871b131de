"""Every KPI of the default catalog × the drill link its KPI page shows: the link opens (HTTP 200) and lists
exactly the rows the number counts.

On a small simulated company (the demo's generator), for each KPI the value for one quarter comes from the KPI
API (``/api/v1/kpis/<name>``, the same rows the KPI page shows) together with its ``_drill`` link; the rows
behind the link are then aggregated here, in pandas, the way the KPI's definition says (a count of rows, the
sum of the measure column, a distinct count, a percentile) and compared with the number:

- additive KPIs (count, sum, count_distinct; cumulative totals over their window; snapshots at their point):
  the rows aggregate to the value;
- ratio and conversion KPIs: the numerator rows and the denominator rows aggregate to the numerator and the
  denominator KPIs' own values, and their quotient is the value;
- KPIs computed from other KPIs (:data:`DRILL_TO_INPUTS`) list their inputs instead, each link opening.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from revalign.definitions.kpis.catalog import default_catalog
from revalign.interfaces.server import ServerSettings, create_app
from revalign.project import Project

CATALOG = default_catalog()
YEAR = ("2025-01-01", "2025-12-31")

DRILL_TO_INPUTS = {
    "logo_retention_rate": "1 - logo_churn_rate: arithmetic over another KPI, no rows of its own",
    "net_revenue_retention": "(mrr + expansion - contraction - churn) / mrr: arithmetic over four KPIs",
    "romi": "(marketing-sourced revenue - marketing spend) / spend: arithmetic over two KPIs",
    "cac_payback_months": "acquisition spend / (new revenue / 12): arithmetic over two KPIs",
    "ltv": "arpa / logo churn rate: a ratio of two ratios",
    "ltv_to_cac": "ltv / cac: a ratio of derived KPIs",
    "pipeline_velocity": "a product and quotient of four KPIs",
    "forecast_accuracy": "1 - |commit - revenue| / revenue: arithmetic over two KPIs",
    "forecast_bias": "commit / revenue - 1: arithmetic over two KPIs",
    "sales_enablement_score": "50 × enablement spend share + 50 × win rate: a sum of two ratios",
    "lead_management_score": "50 × SLA follow-up compliance + 50 × MQL acceptance rate: a sum of two rates",
}
"""KPIs whose drill has no rows of their own: each is arithmetic over other KPIs, and links to their drills."""


@pytest.fixture(scope="module")
def sim_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    from revalign.simulate import simulate

    project = Project(tmp_path_factory.mktemp("drills"), engine="duckdb://:memory:")
    simulate(scale="xs", seed=3).write(project.engine)
    yield project
    project.close()


@pytest.fixture(scope="module")
def client(sim_project: Project, tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    state = f"sqlite:///{tmp_path_factory.mktemp('st') / 's.sqlite'}"
    app = create_app(sim_project, state_url=state, settings=ServerSettings(max_records=10_000))
    app.state.store.add_user("lead", "password-123", "revops")  # RevOps sees every KPI, pay data included
    token = app.state.store.create_token("lead", "tests")
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def values(client: TestClient, name: str) -> pd.DataFrame:
    """The KPI's quarterly values in 2025 with their drill links, as the KPI page shows them."""
    response = client.get(f"/api/v1/kpis/{name}?grain=quarter&start={YEAR[0]}&end={YEAR[1]}")
    assert response.status_code == 200, response.text
    (table,) = [t for t in response.json()["tables"] if t["name"] == "values"]
    return pd.DataFrame(table["rows"], columns=[c["name"] for c in table["columns"]])


def value_in(client: TestClient, name: str, period_start: str) -> float:
    frame = values(client, name)
    found = frame.loc[frame["period_start"].astype(str).str[:10] == period_start[:10], "value"]
    return float(found.iloc[0]) if len(found) else math.nan


def open_drill(client: TestClient, link: str) -> dict[str, Any]:
    response = client.get(f"/api/v1{link}&limit=10000")
    assert response.status_code == 200, (link, response.text)
    return response.json()


def rows_of(body: dict[str, Any], name: str) -> pd.DataFrame:
    (table,) = [t for t in body["tables"] if t["name"] == name]
    return pd.DataFrame(table["rows"], columns=[c["name"] for c in table["columns"]])


def aggregate(rows: pd.DataFrame, part: dict[str, Any]) -> float:
    """What the KPI makes of its rows, computed here in pandas from the listing alone."""
    agg, measure = part["agg"], part["measure"]
    if agg == "count":
        return float(len(rows))
    col = pd.to_numeric(rows[measure], errors="coerce") if agg != "count_distinct" else rows[measure]
    if agg == "sum":
        return float(col.sum())
    if agg == "count_distinct":
        return float(col.dropna().astype(str).nunique())
    if agg == "avg":
        return float(col.mean())
    spec = CATALOG.get(part["rows_kpi"])
    return float(np.quantile(col.dropna(), spec.percentile or 0.5))


def table_name(body: dict[str, Any], part: dict[str, Any]) -> str:
    names = [t["name"] for t in body["tables"]]
    return part["role"] if part["role"] in names else names[0]


@pytest.mark.parametrize("name", sorted(CATALOG.kpis))
def test_every_kpis_drill_opens_and_lists_the_rows_its_number_counts(client, name):
    frame = values(client, name).dropna(subset=["value"])
    assert len(frame), f"{name} has no value in 2025 on the simulated company"
    row = frame.iloc[-1]  # the latest quarter with a value
    link = row["_drill"]
    assert isinstance(link, str) and link.startswith("/records"), (name, link)
    body = open_drill(client, link)
    parts = body["meta"].get("parts", [])
    if name in DRILL_TO_INPUTS:
        assert not parts
        inputs = rows_of(body, "inputs")
        spec = CATALOG.get(name)
        assert set(inputs["kpi"]) == {i.name for i in spec.input_metrics}
        for input_link in inputs["_drill"]:
            assert client.get(f"/api/v1{input_link}&limit=1").status_code == 200, input_link
        return
    assert parts, f"{name} has neither rows nor inputs behind its drill"
    got = [aggregate(rows_of(body, table_name(body, p)), p) for p in parts]
    for part, rows in zip(parts, [rows_of(body, table_name(body, p)) for p in parts], strict=True):
        assert part["total_rows"] == len(rows)  # the page holds every row (limit 10000)
    if len(parts) == 1:
        assert got[0] == pytest.approx(row["value"], rel=1e-9), (name, parts[0])
        return
    num, den = got
    assert {p["role"] for p in parts} == {"numerator", "denominator"}
    assert num / den == pytest.approx(row["value"], rel=1e-9), (name, num, den)
    spec = CATALOG.get(name)
    if spec.type == "ratio":  # each part is its input KPI's own number for the period
        period = str(row["period_start"])
        for part, agg in zip(parts, got, strict=True):
            expected = value_in(client, part["kpi"], period)  # an additive KPI with no row that period is 0
            assert agg == pytest.approx(0.0 if math.isnan(expected) else expected, rel=1e-9), (name, part)


def test_the_kpis_that_list_inputs_instead_of_rows_are_exactly_the_listed_ones():
    from revalign.analytics.drills import drill_of

    without_rows = {k for k in CATALOG.kpis if not drill_of(CATALOG, k).has_rows}
    assert without_rows == set(DRILL_TO_INPUTS)


def test_spend_kpis_drill_without_a_server_error(client):
    # the tester's HTTP 500 (duplicate __kpi_time): spend has no primary key to order pages by
    for name in ("marketing_spend", "cost_per_lead", "cac", "acquisition_spend", "sales_spend"):
        link = values(client, name).dropna(subset=["value"]).iloc[-1]["_drill"]
        assert client.get(f"/api/v1{link}").status_code == 200
        assert client.get(link).status_code == 200  # the page too
    assert client.get("/api/v1/records/spend?start=2025-04-01&end=2025-06-30").status_code == 200


def test_pages_have_the_total_and_link_previous_and_next(client):
    url = "/api/v1/records?kpi=win_rate&start=2025-01-01&end=2025-12-31"
    every = {p["role"]: p["total_rows"] for p in client.get(url + "&limit=10000").json()["meta"]["parts"]}
    first = client.get(url + "&limit=2&part=denominator").json()
    assert [t["name"] for t in first["tables"]] == ["denominator"]
    paging = first["meta"]["pages"]["denominator"]
    assert paging["total_rows"] == every["denominator"] and (paging["first"], paging["last"]) == (1, 2)
    assert paging["prev"] is None and "offset=2" in paging["next"]
    second = client.get("/api/v1" + paging["next"]).json()
    a = rows_of(first, "denominator")["opportunity_id"].tolist()
    b = rows_of(second, "denominator")["opportunity_id"].tolist()
    assert len(b) == 2 and not set(a) & set(b)  # the next page holds other rows
    page = client.get(paging["next"])
    assert page.status_code == 200 and f">{every['denominator']}</span>" in page.text and 'rel="prev"' in page.text


def test_records_show_names_beside_ids(client, sim_project):
    body = client.get("/api/v1/records?kpi=new_revenue&start=2025-01-01&end=2025-12-31&limit=50").json()
    rows = rows_of(body, "rows") if any(t["name"] == "rows" for t in body["tables"]) else rows_of(body, "opportunities")
    users = sim_project.tables.to_pandas(sim_project.tables.table("users"))
    accounts = sim_project.tables.to_pandas(sim_project.tables.table("accounts"))
    names = dict(zip(users["user_id"], users["name"], strict=True))
    account_names = dict(zip(accounts["account_id"], accounts["name"], strict=True))
    assert len(rows) and rows["owner_name"].tolist() == [names[u] for u in rows["owner_id"]]
    assert rows["account_name"].tolist() == [account_names[a] for a in rows["account_id"]]
    columns = list(rows.columns)
    assert columns.index("owner_name") == columns.index("owner_id") - 1  # the name shown first, the id kept


def test_a_slice_the_kpi_cannot_take_is_a_422_naming_it(client):
    response = client.get("/api/v1/records?kpi=cost_per_lead&start=2025-04-01&end=2025-06-30&segment=smb")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "segment"]


def test_a_sliced_drill_lists_the_slices_rows(client):
    # new revenue for smb in 2025-Q2 is the sum of the smb deals behind it
    frame = client.get("/api/v1/kpis/new_revenue?grain=quarter&start=2025-04-01&end=2025-06-30&segment=smb").json()
    (values_table,) = [t for t in frame["tables"] if t["name"] == "values"]
    (row,) = values_table["rows"]
    assert "segment=smb" in row["_drill"]
    body = open_drill(client, row["_drill"])
    (table,) = body["tables"]
    rows = pd.DataFrame(table["rows"])
    assert set(rows["segment"]) == {"smb"}
    assert rows["amount"].sum() == pytest.approx(row["value"])


def test_a_rep_drill_lists_only_their_rows_and_spend_is_refused(sim_project, tmp_path_factory):
    app = create_app(sim_project, state_url=f"sqlite:///{tmp_path_factory.mktemp('st2') / 's.sqlite'}")
    users = sim_project.tables.to_pandas(sim_project.tables.table("users"))
    owner = str(users.loc[users["department"] == "sales", "user_id"].iloc[0])
    app.state.store.add_user("rep", "password-123", "rep", owner_id=owner)
    token = app.state.store.create_token("rep", "tests")
    rep = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    body = rep.get("/api/v1/records?kpi=win_rate&start=2025-01-01&end=2025-12-31&limit=10000").json()
    for name in ("numerator", "denominator"):
        assert set(rows_of(body, name)["owner_id"]) <= {owner}
    assert body["meta"]["owner_scope"] == owner
    assert rep.get("/api/v1/records?kpi=cac&start=2025-01-01&end=2025-12-31").status_code == 403


def test_a_value_per_owner_opens_that_owners_rows_and_an_undrillable_slice_has_no_link(client):
    url = "/api/v1/kpis/new_revenue?grain=quarter&start=2025-04-01&end=2025-06-30"
    body = client.get(url + "&by=owner").json()
    (table,) = [t for t in body["tables"] if t["name"] == "values"]
    assert len(table["rows"]) > 1
    for row in table["rows"]:
        assert f"owner_id={row['owner']}" in row["_drill"]
        rows = pd.DataFrame(open_drill(client, row["_drill"])["tables"][0]["rows"])
        assert set(rows["owner_id"]) == {row["owner"]}
        assert rows["amount"].sum() == pytest.approx(row["value"])
    # a drill cannot be cut by region: no link rather than every region's rows behind one region's number
    body = client.get(url + "&by=region").json()
    (table,) = [t for t in body["tables"] if t["name"] == "values"]
    assert table["rows"] and all(row["_drill"] is None for row in table["rows"])
