"""One revenue vocabulary: Channels, the funnel pipeline and the KPI catalog agree on what revenue is.

The oracle is plain pandas on the simulator's opportunities written out as CSV (what a person would check in a
spreadsheet): new revenue is the amount of won new-business deals closed in the period. The library's Channels
table, the Channels API and the KPI API must all give that number for the north star's period; the funnel
pipeline's win rate must be the catalog's ``win_rate``; renewals and expansions are their own lines, never a
channel.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from revalign.analytics.revenue import revenue_by_deal_type
from revalign.interfaces.server import create_app
from revalign.model.calendar import parse_period
from revalign.project import Project, init_project, open_project
from revalign.simulate import simulate

PASSWORD = "revenue-words-1"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, pd.DataFrame]]:
    """The simulated company in a project, and its opportunities as read back from a CSV by pandas."""
    folder = tmp_path_factory.mktemp("revenue")
    init_project(folder, name="revenue words")
    project = open_project(folder)
    company = simulate(scale="xs", seed=5)
    company.write(project.engine)
    csv = folder / "opportunities.csv"
    company.tables["opportunities"].to_pandas().to_csv(csv, index=False)
    opps = pd.read_csv(csv, parse_dates=["created_at", "closed_at"])
    yield project, opps
    project.close()


def closed_in(opps: pd.DataFrame, start: object, end: object) -> pd.DataFrame:
    """Deals closed in ``[start, end)``: plain pandas, the oracle's only filter on time."""
    return opps[(opps["closed_at"] >= pd.Timestamp(start)) & (opps["closed_at"] < pd.Timestamp(end))]


def new_revenue_oracle(opps: pd.DataFrame, start: object, end: object) -> float:
    """Won new-business amount closed in the period, from the CSV."""
    won = closed_in(opps, start, end)
    won = won[won["is_won"].astype(bool) & (won["deal_type"] == "new_business")]
    return float(won["amount"].sum())


def api_client(project: Project, folder: Path) -> TestClient:
    app = create_app(project, state_url=f"sqlite:///{folder / 'state.sqlite'}")
    app.state.store.add_user("analyst", PASSWORD, "leadership")
    token = app.state.store.create_token("analyst", "revenue test")
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


def table(body: dict, name: str) -> pd.DataFrame:
    found = [t for t in body["tables"] if t["name"] == name]
    assert found, f"no table {name!r} in {[t['name'] for t in body['tables']]}"
    return pd.DataFrame(found[0]["rows"])


def test_channel_revenue_of_the_north_stars_period_is_new_revenue(demo, tmp_path):
    project, opps = demo
    label = project.latest_period(project.catalog.north_star, "quarter")
    period = parse_period(label)
    expected = new_revenue_oracle(opps, period.start, period.end)
    renewals = closed_in(opps, period.start, period.end)
    renewals = renewals[renewals["is_won"].astype(bool) & (renewals["deal_type"] != "new_business")]
    assert expected > 0 and renewals["amount"].sum() > 0  # both kinds of revenue exist: the test can fail

    frame = project.channels(start=period.start, end=period.end)
    assert frame["revenue"].sum() == pytest.approx(expected)
    assert "unknown" not in set(frame["channel"])  # renewals (no lead, no source) are not a channel

    client = api_client(project, tmp_path)
    kpi = client.get("/api/v1/kpis/new_revenue", params={"grain": "quarter"})
    assert kpi.status_code == 200, kpi.text
    values = table(kpi.json(), "values")
    at = values[pd.to_datetime(values["period_start"]).dt.date == period.start]
    assert float(at["value"].iloc[0]) == pytest.approx(expected)

    page = client.get("/api/v1/channels", params={"period": label})
    assert page.status_code == 200, page.text
    body = page.json()
    assert table(body, "sourced")["revenue"].sum() == pytest.approx(expected)
    assert body["meta"]["covers"]["start"] == period.start.isoformat()
    deal_types = table(body, "deal_types").set_index("deal_type")
    assert deal_types.loc["new_business", "revenue"] == pytest.approx(expected)
    assert deal_types.loc["renewal", "revenue"] + deal_types.loc["expansion", "revenue"] == pytest.approx(
        float(renewals["amount"].sum())
    )


def test_revenue_by_deal_type_matches_pandas(demo):
    project, opps = demo
    start, end = pd.Timestamp("2025-01-01"), pd.Timestamp("2026-01-01")
    frame = revenue_by_deal_type(project.tables, start=start, end=end).set_index("deal_type")
    won = closed_in(opps, start, end)
    won = won[won["is_won"].astype(bool)]
    expected = won.groupby("deal_type")["amount"].agg(["sum", "count"])
    for kind in ("new_business", "expansion", "renewal"):
        assert frame.loc[kind, "revenue"] == pytest.approx(float(expected["sum"].get(kind, 0.0)))
        assert frame.loc[kind, "won_deals"] == int(expected["count"].get(kind, 0))


def test_funnel_pipeline_win_rate_is_the_catalog_win_rate(demo):
    project, opps = demo
    pipeline = project.pipeline(grain="quarter").set_index("period")
    catalog = project.kpi("win_rate").grain("quarter").no_cache().to_pandas()
    catalog = catalog.assign(period=pd.to_datetime(catalog["period_start"]).dt.date).set_index("period")
    compared = pipeline.join(catalog["value"], how="inner").dropna(subset=["win_rate", "value"])
    assert len(compared) >= 4
    assert compared["win_rate"].to_numpy() == pytest.approx(compared["value"].to_numpy())
    # and both equal the spreadsheet's: won / closed new-business deals by close quarter
    closed = opps[opps["is_closed"].astype(bool) & (opps["deal_type"] == "new_business") & opps["closed_at"].notna()]
    quarter = closed["closed_at"].dt.to_period("Q").dt.start_time.dt.date
    oracle = closed.groupby(quarter)["is_won"].mean()
    assert compared["win_rate"].to_numpy() == pytest.approx(oracle.loc[compared.index].to_numpy())


def test_pipeline_shows_renewals_and_expansions_beside_new_revenue(demo):
    project, opps = demo
    pipeline = project.pipeline(grain="year").set_index("period")
    won = opps[opps["is_won"].astype(bool) & opps["closed_at"].notna()]
    year = won["closed_at"].dt.to_period("Y").dt.start_time.dt.date
    by_type = won.groupby([year, "deal_type"])["amount"].sum().unstack(fill_value=0.0)
    for column, kind in (
        ("revenue", "new_business"),
        ("renewal_revenue", "renewal"),
        ("expansion_revenue", "expansion"),
    ):
        got = pipeline[column].reindex(by_type.index).fillna(0.0)
        assert got.to_numpy() == pytest.approx(by_type[kind].to_numpy())
    assert by_type["renewal"].sum() > 0
