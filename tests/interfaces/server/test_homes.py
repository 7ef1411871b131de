"""Role homes (/api/v1/home/{role}): every KPI a home shows equals the joint scorecard's value for that KPI and
period (a rep's: the scorecard sliced by owner), the homes' own numbers equal plain pandas over the canonical
tables, and a rep sees only their own rows.

One small simulated company (scale xs) for the module; the scorecard API is the oracle for the KPI values (the
homes must never drift from it), pandas over the raw tables for quota, commit calls, SLA compliance per rep and
audit findings per rep.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from revalign.interfaces.server import ServerSettings, create_app
from revalign.project import Project, init_project, open_project
from revalign.simulate import simulate
from tests.interfaces.server.conftest import login

pytestmark = pytest.mark.slow

PERIOD = "2025-Q4"
QUARTER = (pd.Timestamp("2025-10-01"), pd.Timestamp("2026-01-01"))


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    folder = tmp_path_factory.mktemp("homes")
    init_project(folder, name="homes")
    project = open_project(folder)
    simulate(scale="xs", seed=5).write(project.engine)
    yield project
    project.close()


@pytest.fixture(scope="module")
def owners(company: Project) -> list[str]:
    """Owners with a quota in the quarter, the people the CRO's table and the reps' homes are about."""
    quotas = company.tables.to_pandas(company.table("quotas"))
    quarter = quotas[pd.to_datetime(quotas["period_start"]).between(QUARTER[0], QUARTER[1], inclusive="left")]
    return sorted(quarter["user_id"].unique())


@pytest.fixture(scope="module")
def client(company: Project, owners: list[str], tmp_path_factory) -> Callable[[str], TestClient]:
    state = tmp_path_factory.mktemp("homes-state") / "state.sqlite"
    app = create_app(company, state_url=f"sqlite:///{state}", settings=ServerSettings())
    users = {
        "cmo": ("marketing", None),
        "seller": ("sales", None),
        "cs": ("customer_success", None),
        "admin": ("admin", None),
        "rep1": ("rep", owners[0]),
        "rep2": ("rep", owners[1]),
    }
    for name, (role, owner) in users.items():
        app.state.store.add_user(name, "correct-horse-1", role, owner_id=owner)
    clients: dict[str, TestClient] = {}

    def get(name: str) -> TestClient:
        if name not in clients:
            clients[name] = login(TestClient(app), name)
        return clients[name]

    return get


def table(body: dict, name: str) -> pd.DataFrame:
    found = next(t for t in body["tables"] if t["name"] == name)
    return pd.DataFrame(found["rows"], columns=[c["name"] for c in found["columns"]])


def get_ok(c: TestClient, url: str) -> dict:
    response = c.get(url)
    assert response.status_code == 200, response.text
    return response.json()


def joint(c: TestClient, **params: str) -> pd.DataFrame:
    query = "&".join(f"{k}={v}" for k, v in {"department": "joint", "period": PERIOD, **params}.items())
    return table(get_ok(c, f"/api/v1/scorecards?{query}"), "scorecard")


def assert_same_as_card(
    rows: pd.DataFrame,
    card: pd.DataFrame,
    keys: tuple[str, ...] = ("kpi",),
    columns: tuple[str, ...] = ("actual", "target", "status", "period"),
) -> None:
    """Every KPI row of a home has the card's actual, target and status for that KPI (and owner)."""
    assert not rows.empty
    merged = rows.merge(card, on=list(keys), how="left", suffixes=("", "_card"), validate="one_to_one")
    for column in columns:
        pd.testing.assert_series_equal(merged[column], merged[f"{column}_card"], check_names=False)


def test_cmo_home_shows_the_joint_cards_marketing_numbers(client):
    c = client("cmo")
    home, card = get_ok(c, f"/api/v1/home/cmo?period={PERIOD}"), joint(c)
    kpis = table(home, "kpis")
    assert set(kpis["kpi"]) == set(card.loc[card["department"] == "marketing", "kpi"])
    assert_same_as_card(kpis, card)
    drivers = table(home, "drivers")  # the driver tree's marketing rows: same actuals and statuses
    assert set(drivers["kpi"]) <= set(kpis["kpi"]) and not drivers.empty
    assert_same_as_card(drivers, card, columns=("actual", "status"))
    assert {"channels", "handoff", "rejections", "sla", "audit"} <= {t["name"] for t in home["tables"]}


def test_cmo_home_rejection_reasons_and_audit_match_pandas(client, company):
    home = get_ok(client("cmo"), f"/api/v1/home/cmo?period={PERIOD}")
    ledger = company.tables.to_pandas(company.table("ledger"))
    lc = ledger[(ledger["kind"] == "lifecycle") & (ledger["entity_type"] == "lead")]
    # each MQL of the quarter, its first decision after it (no MQL in between): counted by reason when rejected
    mqls = lc[lc["name"] == "mql"].sort_values("occurred_at")
    decisions = lc[lc["name"].isin(["accepted", "rejected"])].sort_values(["occurred_at", "event_id"])
    reasons: dict[str, int] = {}
    for lead, group in mqls.groupby("entity_id"):
        for t, following in itertools.pairwise([*group["occurred_at"], pd.Timestamp.max]):
            if not QUARTER[0] <= t < QUARTER[1]:
                continue
            d = decisions[(decisions["entity_id"] == lead) & (decisions["occurred_at"] >= t)]
            d = d[d["occurred_at"] < following]
            if not d.empty and d.iloc[0]["name"] == "rejected":
                reason = d.iloc[0]["reason"] if isinstance(d.iloc[0]["reason"], str) else "unknown"
                reasons[reason] = reasons.get(reason, 0) + 1
    assert reasons  # the quarter has rejections, so the comparison says something
    shown = table(home, "rejections")
    assert dict(zip(shown["reason"], shown["rejected"], strict=True)) == reasons
    findings = company.audit_findings()
    in_quarter = findings[(findings["occurred_at"] >= QUARTER[0]) & (findings["occurred_at"] < QUARTER[1])]
    audit = table(home, "audit")
    assert dict(zip(audit["kind"], audit["findings"], strict=True)) == in_quarter["kind"].value_counts().to_dict()


def test_cs_home_shows_the_joint_cards_customer_numbers(client):
    c = client("cs")
    home, card = get_ok(c, f"/api/v1/home/cs?period={PERIOD}"), joint(c)
    for theme in ("onboarding", "churn", "expansion", "advocacy"):
        assert_same_as_card(table(home, theme), card)
    assert set(table(home, "onboarding")["kpi"]) == {"customers_onboarded", "onboarding_rate"}


def test_cro_home_shows_the_joint_cards_sales_numbers_and_pandas_quota_and_commit(client, company):
    c = client("admin")  # every row: the company's quota is pay data
    home, card = get_ok(c, f"/api/v1/home/cro?period={PERIOD}"), joint(c)
    kpis = table(home, "kpis")
    assert set(kpis["kpi"]) == set(card.loc[card["department"] == "sales", "kpi"])
    assert_same_as_card(kpis, card)
    forecast = table(home, "forecast").set_index("kpi")["value"]
    actual = card.set_index("kpi")["actual"]
    assert forecast["quota"] == actual["quota"] and forecast["commit_forecast"] == actual["commit_forecast"]
    quotas = company.tables.to_pandas(company.table("quotas"))
    starts = pd.to_datetime(quotas["period_start"])
    assert forecast["quota"] == pytest.approx(
        quotas.loc[(starts >= QUARTER[0]) & (starts < QUARTER[1]), "amount"].sum()
    )
    calls = company.tables.to_pandas(company.table("forecasts"))
    total = 0.0
    for month in pd.date_range(QUARTER[0], periods=3, freq="MS"):  # the commit call standing at each month's start
        stood = calls[
            (calls["category"] == "commit")
            & (calls["period_grain"] == "month")
            & (pd.to_datetime(calls["period_start"]) == month)
            & (calls["submitted_at"] < month)
            & (calls["superseded_at"].isna() | (calls["superseded_at"] >= month))
        ]
        total += stood["amount"].sum()
    assert forecast["commit_forecast"] == pytest.approx(total)
    bridge = table(home, "bridge").set_index("movement")["amount"]
    assert bridge["opening"] + bridge.drop(["opening", "closing"]).sum() == pytest.approx(bridge["closing"])


def test_cro_reps_table_names_sla_and_audit_match_pandas(client, company, owners):
    reps = table(get_ok(client("admin"), f"/api/v1/home/cro?period={PERIOD}"), "reps").set_index("owner")
    users = company.tables.to_pandas(company.table("users")).set_index("user_id")["name"]
    assert set(owners) <= set(reps.index)
    assert all(reps.loc[o, "name"] == users[o] for o in reps.index)
    items = company.sla_items(start=QUARTER[0], end=QUARTER[1])
    for owner in owners:
        mine = items[items["owner_id"] == owner]["status"]
        decided = mine.isin(["met", "breached", "overdue"]).sum()
        expected = (mine == "met").sum() / decided if decided else None
        shown = reps.loc[owner, "sla_compliance"]
        assert (pd.isna(shown) and expected is None) or shown == pytest.approx(expected)
    findings = company.audit_findings()
    quarter = findings[(findings["occurred_at"] >= QUARTER[0]) & (findings["occurred_at"] < QUARTER[1])]
    counts = quarter["actor_id"].value_counts()
    assert {o: int(counts.get(o, 0)) for o in reps.index} == reps["audit_findings"].to_dict()
    card = joint(client("admin"), by="owner")
    attainment = card[card["kpi"] == "quota_attainment"].set_index("owner")["actual"]
    for owner in owners:
        shown, expected = reps.loc[owner, "quota_attainment"], attainment.get(owner)
        assert (pd.isna(shown) and pd.isna(expected)) or shown == expected


def test_cro_reps_table_hides_pay_columns_from_a_seller_without_a_person(client, owners):
    body = get_ok(client("seller"), f"/api/v1/home/cro?period={PERIOD}")
    reps = table(body, "reps")
    assert reps["quota"].isna().all() and reps["quota_attainment"].isna().all()
    assert reps["pipeline_created"].notna().any()  # not pay data: still shown
    assert any("hidden for privacy" in n for n in body["notices"])
    assert "quota" not in set(table(body, "forecast")["kpi"])


def test_rep_home_shows_own_rows_equal_to_the_scorecard_by_owner(client, owners):
    c = client("rep1")
    home = get_ok(c, f"/api/v1/home/rep?period={PERIOD}")
    kpis = table(home, "kpis")
    assert set(kpis["owner"]) == {owners[0]}
    assert {"quota_attainment", "forecast_bias", "pipeline_created"} <= set(kpis["kpi"])
    card = joint(c, by="owner")
    assert set(card.loc[card["kpi"] == "quota_attainment", "owner"]) == {owners[0]}  # the oracle is cut too
    assert_same_as_card(kpis, card[card["owner"] == owners[0]], keys=("owner", "kpi"))
    assert set(table(home, "sla")["owner_id"]) <= {owners[0]}
    for name in ("payout", "payout_total"):
        assert set(table(home, name)["user_id"]) <= {owners[0]}
    assert not table(home, "payout_total").empty


def test_a_rep_cannot_open_another_reps_home_or_a_leaders(client, owners):
    c = client("rep1")
    refused = c.get(f"/api/v1/home/rep?owner={owners[1]}")
    assert refused.status_code == 403 and "may not open the home" in refused.json()["error"]
    assert c.get("/api/v1/home/cro").status_code == 403
    assert c.get(f"/home/rep?owner={owners[1]}").status_code == 403
    other = table(get_ok(client("rep2"), f"/api/v1/home/rep?period={PERIOD}"), "kpis")
    assert set(other["owner"]) == {owners[1]}  # the cache keeps each person's home apart


def test_admin_may_open_a_reps_home_and_home_links_to_the_roles_own(client, owners):
    body = get_ok(client("admin"), f"/api/v1/home/rep?owner={owners[1]}&period={PERIOD}")
    assert set(table(body, "kpis")["owner"]) == {owners[1]}
    expected = {"cmo": "/home/cmo", "seller": "/home/cro", "cs": "/home/cs", "rep1": "/home/rep", "admin": "/"}
    for user, target in expected.items():
        response = client(user).get("/home", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == target
    carried = client("cs").get(f"/home?period={PERIOD}", follow_redirects=False)  # the target judges the query
    assert carried.headers["location"] == f"/home/cs?period={PERIOD}"
    assert client("cmo").get("/api/v1/home/cro").status_code == 403
    page = client("cs").get(f"/home/cs?period={PERIOD}")
    assert page.status_code == 200 and 'id="table-onboarding"' in page.text
