"""Pay privacy, as an access matrix: every role × every route that shows pay data × session and API token.

The company (canonical ``users``, ``manager_id`` drawn as a tree)::

    U1 CRO
    ├── U2 sales manager (quota 1000) ── U3 rep (quota 400, won 200), U4 rep (quota 300, won 300)
    ├── U5 sales manager ── U6 rep (quota 500, won 100)
    └── U7 marketer

Logins: the three pay-data roles (admin, finance, revops) unlinked; leadership linked to the CRO and unlinked;
marketing linked to the marketer; sales and customer_success unlinked; the rep linked to U3; a manager (sales)
linked to U2. :data:`EXPECTED` says, for each route and login, allow (``+``) or deny (``-``). For every allowed
request the owners whose pay rows come back must be exactly the owners with data there, narrowed to the login's
scope — computed here with pandas from the ``users`` table, apart from the library's walk of the tree.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from revalign.interfaces.cli import main
from revalign.interfaces.server import ServerSettings, create_app
from revalign.interfaces.server.roles import ROLES
from revalign.interfaces.server.state import StateStore, default_state_url
from revalign.project import Project, init_project, open_project
from tests.interfaces.server.conftest import PASSWORD, assert_canonical_error, login, write_canonical

USERS = pd.DataFrame(
    {
        "user_id": ["U1", "U2", "U3", "U4", "U5", "U6", "U7"],
        "name": ["Cro", "Mia", "Rex", "Sam", "Kai", "Tia", "Max"],
        "role": ["executive", "manager", "ae", "ae", "manager", "ae", "marketer"],
        "manager_id": [None, "U1", "U2", "U2", "U1", "U5", "U1"],
    }
)
QUOTAS = pd.DataFrame(
    {
        "user_id": ["U2", "U3", "U4", "U6"],
        "period_start": pd.to_datetime(["2025-01-01"] * 4).date,
        "period_end": pd.to_datetime(["2025-03-31"] * 4).date,
        "amount": [1000.0, 400.0, 300.0, 500.0],
    }
)
OPPORTUNITIES = pd.DataFrame(
    {
        "opportunity_id": ["o1", "o2", "o3"],
        "owner_id": ["U3", "U4", "U6"],
        "created_at": pd.to_datetime(["2025-01-05", "2025-01-06", "2025-01-07"]),
        "closed_at": pd.to_datetime(["2025-02-01", "2025-02-02", "2025-02-03"]),
        "close_date": pd.to_datetime(["2025-02-01", "2025-02-02", "2025-02-03"]).date,
        "amount": [200.0, 300.0, 100.0],
        "is_closed": [True, True, True],
        "is_won": [True, True, True],
        "stage": ["closed_won"] * 3,
        "deal_type": ["new_business"] * 3,
        "segment": ["smb"] * 3,
        "lead_source": ["paid_search"] * 3,
    }
)

LOGINS: dict[str, tuple[str, str | None]] = {
    "admin": ("admin", None),
    "finance": ("finance", None),
    "revops": ("revops", None),
    "cro": ("leadership", "U1"),
    "leader": ("leadership", None),
    "marketer": ("marketing", "U7"),
    "sales": ("sales", None),
    "cs": ("customer_success", None),
    "rep": ("rep", "U3"),
    "manager": ("sales", "U2"),
}
PAY_KPIS = {"quota", "quota_attainment", "pipeline_coverage"}
Q1 = "grain=quarter&start=2025-01-01&end=2025-03-31"


@dataclass(frozen=True)
class Route:
    """One way to reach pay data: its URL, what kind of answer it gives, and the owner it asks for, if any."""

    url: str
    kind: str  # values | records | scorecard | glossary (JSON); csv-values | csv-records | csv-scorecard; page
    owner: str | None = None
    twin: str | None = None  # a page: the route of its JSON twin, whose owners the page's cells must show


ROUTES: dict[str, Route] = {
    "kpi": Route(f"/api/v1/kpis/quota_attainment?{Q1}", "values"),
    "kpi.csv": Route(f"/api/v1/kpis/quota_attainment?{Q1}&format=csv", "csv-values"),
    "kpi inherited": Route(f"/api/v1/kpis/pipeline_coverage?{Q1}", "values"),
    "kpi by team": Route(f"/api/v1/kpis/quota?{Q1}&by=team", "values"),
    "kpi by owner": Route(f"/api/v1/kpis/quota_attainment?{Q1}&by=owner", "values"),
    "kpi by owner.csv": Route(f"/api/v1/kpis/quota_attainment?{Q1}&by=owner&format=csv", "csv-values"),
    "quota by owner": Route(f"/api/v1/kpis/quota?{Q1}&by=owner", "values"),
    "records": Route("/api/v1/records/quotas", "records"),
    "records.csv": Route("/api/v1/records/quotas?format=csv", "csv-records"),
    "records own (U3)": Route("/api/v1/records/quotas?owner_id=U3", "records", "U3"),
    "records report (U4)": Route("/api/v1/records/quotas?owner_id=U4", "records", "U4"),
    "records report (U4).csv": Route("/api/v1/records/quotas?owner_id=U4&format=csv", "csv-records", "U4"),
    "records other team (U6)": Route("/api/v1/records/quotas?owner_id=U6", "records", "U6"),
    "records by kpi": Route("/api/v1/records/quotas?kpi=quota&start=2025-01-01&end=2025-03-31", "records"),
    "kpi page": Route(f"/glossary/quota_attainment?{Q1}", "page"),
    "kpi page by owner": Route(f"/glossary/quota_attainment?{Q1}&by=owner", "page", twin="kpi by owner"),
    "records page": Route("/records/quotas", "page", twin="records"),
    "glossary": Route("/api/v1/kpis", "glossary"),
    "glossary page": Route("/glossary", "page"),
    "scorecard": Route("/api/v1/scorecards?department=sales&period=2025-Q1", "scorecard"),
    "scorecard.csv": Route("/api/v1/scorecards?department=sales&period=2025-Q1&format=csv", "csv-scorecard"),
    "scorecard by owner": Route("/api/v1/scorecards?department=sales&period=2025-Q1&by=owner", "scorecard"),
    "scorecard page": Route("/scorecards?department=sales&period=2025-Q1", "page"),
}

# fmt: off
#                              admin finance revops  cro leader marketer sales  cs   rep  manager
EXPECTED: dict[str, str] = {
    "kpi":                      "+     +      +      -     -     -       -     -    -     -",
    "kpi.csv":                  "+     +      +      -     -     -       -     -    -     -",
    "kpi inherited":            "+     +      +      -     -     -       -     -    -     -",
    "kpi by team":              "+     +      +      -     -     -       -     -    -     -",
    "kpi by owner":             "+     +      +      +     -     +       -     -    +     +",
    "kpi by owner.csv":         "+     +      +      +     -     +       -     -    +     +",
    "quota by owner":           "+     +      +      +     -     +       -     -    +     +",
    "records":                  "+     +      +      +     -     +       -     -    +     +",
    "records.csv":              "+     +      +      +     -     +       -     -    +     +",
    "records own (U3)":         "+     +      +      +     -     -       -     -    +     +",
    "records report (U4)":      "+     +      +      +     -     -       -     -    -     +",
    "records report (U4).csv":  "+     +      +      +     -     -       -     -    -     +",
    "records other team (U6)":  "+     +      +      +     -     -       -     -    -     -",
    "records by kpi":           "+     +      +      +     -     +       -     -    +     +",
    "kpi page":                 "+     +      +      -     -     -       -     -    -     -",
    "kpi page by owner":        "+     +      +      +     -     +       -     -    +     +",
    "records page":             "+     +      +      +     -     +       -     -    +     +",
    "glossary":                 "+     +      +      +     +     +       +     +    +     +",
    "glossary page":            "+     +      +      +     +     +       +     +    +     +",
    "scorecard":                "+     +      +      +     +     +       +     +    +     +",
    "scorecard.csv":            "+     +      +      +     +     +       +     +    +     +",
    "scorecard by owner":       "+     +      +      +     +     +       +     +    +     +",
    "scorecard page":           "+     +      +      +     +     +       +     +    +     +",
}
# fmt: on
PAY_DATA_ROLES = {"admin", "finance", "revops"}


def allowed(route: str, who: str) -> bool:
    cell = EXPECTED[route].split()[list(LOGINS).index(who)]
    return cell == "+"


def scope(who: str) -> set[str]:
    """Whose pay rows ``who`` may see, from the users table with pandas: their own, then reports, level by level."""
    role, person = LOGINS[who]
    if role in PAY_DATA_ROLES:
        return set(USERS["user_id"])
    if person is None:
        return set()
    seen = {person}
    while True:
        below = set(USERS.loc[USERS["manager_id"].isin(list(seen)), "user_id"]) - seen
        if not below:
            return seen
        seen |= below


def expected_owners(route: Route, who: str, with_data: set[str]) -> set[str]:
    owners = with_data & scope(who)
    return owners & {route.owner} if route.owner else owners


def test_the_matrix_covers_every_role_and_row():
    assert {role for role, _ in LOGINS.values()} == set(ROLES)
    assert set(EXPECTED) == set(ROUTES)
    assert all(len(row.split()) == len(LOGINS) for row in EXPECTED.values())


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    project = Project(tmp_path_factory.mktemp("company"), engine="duckdb://:memory:")
    for name, frame in (("users", USERS), ("quotas", QUOTAS), ("opportunities", OPPORTUNITIES)):
        write_canonical(project, name, frame)
    yield project
    project.close()


@pytest.fixture(scope="module")
def clients(company: Project, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], TestClient]:
    """A client per login and way in: a browser session, and an API token (which acts as its user)."""
    state = tmp_path_factory.mktemp("state") / "state.sqlite"
    app = create_app(company, state_url=f"sqlite:///{state}", settings=ServerSettings())
    out: dict[tuple[str, str], TestClient] = {}
    for username, (role, person) in LOGINS.items():
        app.state.store.add_user(username, PASSWORD, role, owner_id=person)
        out[username, "session"] = login(TestClient(app), username)
        token = app.state.store.create_token(username, "matrix")
        out[username, "token"] = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    return out


def owners_in(route: Route, response) -> set[str]:
    """The people whose pay rows a response shows (records: the quota holders; KPI values: the owner slice)."""
    if route.kind.startswith("csv-"):
        assert response.headers["content-type"].startswith("text/csv")
        frame = pd.read_csv(io.StringIO(response.text), dtype=str)
        rows = frame.to_dict("records")
    else:
        rows = [r for t in response.json()["tables"] for r in t["rows"]]
    column = "user_id" if route.kind.endswith("records") else "owner"
    if route.kind.endswith("scorecard"):
        rows = [r for r in rows if r.get("kpi") in PAY_KPIS]  # the scorecard table, not the departments' roll-up
        return {str(r.get(column, "(company)")) for r in rows}
    return {str(r[column]) for r in rows if isinstance(r.get(column), str)}


def pay_rows_of_admin(clients, route: Route) -> set[str]:
    return owners_in(route, clients["admin", "session"].get(route.url))


@pytest.mark.parametrize("via", ["session", "token"])
@pytest.mark.parametrize("who", list(LOGINS))
@pytest.mark.parametrize("name", list(ROUTES))
def test_access_matrix(clients, name, who, via):
    route, client = ROUTES[name], clients[who, via]
    response = client.get(route.url)
    if not allowed(name, who):
        if route.kind == "page":
            assert response.status_code == 403 and "pay data" in response.text
        else:
            body = assert_canonical_error(response, 403)
            assert "pay data" in body["error"] or "another rep" in body["error"]
        return
    assert response.status_code == 200, response.text
    if route.twin is not None:
        twin = ROUTES[route.twin]
        cells = set(re.findall(r">(U\d)<", response.text))
        assert cells == expected_owners(twin, who, pay_rows_of_admin(clients, twin))
    if route.kind in ("page", "glossary"):
        return  # the other pages: their JSON twins are rows of the matrix; the glossary: see the targets test
    with_data = pay_rows_of_admin(clients, route)
    shown = owners_in(route, response)
    if route.kind.endswith("scorecard"):
        assert_scorecard(clients, route, who, shown, with_data)
        return
    assert shown == expected_owners(route, who, with_data)
    if not route.kind.startswith("csv-") and with_data - scope(who) and route.owner is None:
        assert any("hidden for privacy" in n for n in response.json()["notices"])


def assert_scorecard(clients, route: Route, who: str, shown: set[str], with_data: set[str]) -> None:
    """A scorecard is open to all; its pay KPIs' rows only for the owners in scope (over many people: pay roles)."""
    if "by=owner" in route.url:
        assert with_data >= {"U2", "U3", "U4", "U6"}
        assert shown == with_data & scope(who)
    else:
        assert with_data == {"(company)"}
        assert shown == (with_data if LOGINS[who][0] in PAY_DATA_ROLES else set())


def test_the_data_behind_the_matrix(clients):
    """The admin sees every pay row: the quota holders, and attainment per owner as the fixture works it out."""
    admin = clients["admin", "session"]
    values = admin.get(f"/api/v1/kpis/quota_attainment?{Q1}&by=owner").json()["tables"][0]["rows"]
    # attainment = won new business / quota: U3 200/400, U4 300/300, U6 100/500; U2 has a quota and no deals
    got = {r["owner"]: r["value"] for r in values if r["value"] is not None}
    assert got == pytest.approx({"U2": 0.0, "U3": 0.5, "U4": 1.0, "U6": 0.2})
    assert owners_in(ROUTES["records"], admin.get("/api/v1/records/quotas")) == set(QUOTAS["user_id"])


def test_a_rep_sees_exactly_their_own_attainment(clients):
    rows = clients["rep", "token"].get(f"/api/v1/kpis/quota_attainment?{Q1}&by=owner").json()["tables"][0]["rows"]
    assert [(r["owner"], r["value"]) for r in rows] == [("U3", pytest.approx(0.5))]


def test_denials_say_why_and_what_is_allowed(clients):
    body = assert_canonical_error(clients["rep", "session"].get(f"/api/v1/kpis/quota_attainment?{Q1}"), 403)
    assert "by=owner" in body["error"]
    body = assert_canonical_error(clients["marketer", "token"].get("/api/v1/records/quotas?owner_id=U6"), 403)
    assert "U6 are pay data" in body["error"]
    body = assert_canonical_error(clients["sales", "session"].get("/api/v1/records/quotas"), 403)
    assert "not linked to a person" in body["error"] and "--owner-id" in body["error"]


def test_the_glossary_marks_pay_kpis_and_hides_their_targets(clients):
    """Definitions are for everyone; a pay KPI's company-level target (pipeline coverage 3.0) is not."""

    def rows(who: str) -> dict[str, dict]:
        return {r["name"]: r for r in clients[who, "session"].get("/api/v1/kpis").json()["tables"][0]["rows"]}

    admin, rep = rows("admin"), rows("rep")
    assert {n for n, r in admin.items() if r["sensitivity"] == "pay"} == PAY_KPIS
    assert admin["pipeline_coverage"]["targets"] == "2026-Q1: 3.00×" and rep["pipeline_coverage"]["targets"] == ""
    assert rep["win_rate"]["targets"] == admin["win_rate"]["targets"] != ""  # not pay data: unchanged
    for who, shown in (("admin", True), ("rep", False)):
        page = clients[who, "session"].get("/glossary").text
        entry = page.split('id="kpi-pipeline_coverage"', 1)[1].split("</div>", 1)[0]
        assert "pay data" in entry and ("Targets: 2026-Q1: 3.00×" in entry) == shown


def test_users_add_links_a_login_to_a_person_and_warns_on_an_unknown_id(tmp_path, capsys):
    init_project(tmp_path)
    project = open_project(tmp_path)
    write_canonical(project, "users", USERS)
    project.close()
    args = ["--password", "long-password-1", "--project", str(tmp_path)]
    assert main(["users", "add", "mia", "--role", "sales", "--owner-id", "U2", *args]) == 0
    assert "Warning" not in capsys.readouterr().out
    assert main(["users", "add", "zed", "--role", "sales", "--owner-id", "U99", *args]) == 0
    assert "U99 is not in this project's users table" in capsys.readouterr().out
    store = StateStore(default_state_url(tmp_path))
    assert (store.get_user("mia").owner_id, store.get_user("zed").owner_id) == ("U2", "U99")
    store.close()
