"""A tiny hand-made project (5 opportunities, 3 users) and an app with one login per role.

The fixture rows are small enough to work out every expected listing by hand; the comments in the tests
carry the arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from revalign.interfaces.server import ServerSettings, create_app
from revalign.model.tables import canonical_table
from revalign.project import Project

PASSWORD = "correct-horse-1"
ROLES = {
    "admin": ("admin", None),
    "leader": ("leadership", None),
    "marketer": ("marketing", None),
    "rep1": ("rep", "u1"),
    "rep2": ("rep", "u2"),
}

OPPORTUNITIES = pd.DataFrame(
    {
        "opportunity_id": ["o1", "o2", "o3", "o4", "o5"],
        "owner_id": ["u1", "u1", "u2", "u2", "u1"],
        "created_at": pd.to_datetime(
            ["2025-01-10 09:00", "2025-02-15 10:00", "2025-01-31 23:30", "2025-03-01 08:00", "2025-03-31 23:00"]
        ),
        "amount": [1000.0, 2500.0, 4000.0, 700.0, 300.0],
        "is_closed": [True, False, True, True, False],
        "is_won": [True, False, True, False, False],
        "stage": ["closed_won", "proposal", "closed_won", "closed_lost", "discovery"],
        "segment": ["smb", "enterprise", "smb", "mid_market", "smb"],
        "lead_source": ["paid_search", "organic_search", "email", "paid_search", "events"],
    }
)
USERS = pd.DataFrame({"user_id": ["u1", "u2", "m1"], "name": ["Ann", "Bo", "Cy"], "role": ["ae", "ae", "marketer"]})


def write_canonical(project: Project, name: str, frame: pd.DataFrame) -> None:
    spec = canonical_table(name)
    full = frame.copy()
    for column in spec.column_names:
        if column not in full:
            full[column] = pd.Series([None] * len(frame), dtype=object)  # typed by the schema cast
    full = full[spec.column_names]
    project.engine.write(name, full, schema=spec.schema)


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    folder = tmp_path_factory.mktemp("tiny")
    project = Project(folder, engine="duckdb://:memory:")
    write_canonical(project, "opportunities", OPPORTUNITIES)
    write_canonical(project, "users", USERS)
    yield project
    project.close()


@pytest.fixture(scope="module")
def app(tiny_project: Project, tmp_path_factory: pytest.TempPathFactory):
    state = tmp_path_factory.mktemp("state") / "state.sqlite"
    application = create_app(tiny_project, state_url=f"sqlite:///{state}", settings=ServerSettings())
    for username, (role, owner) in ROLES.items():
        application.state.store.add_user(username, PASSWORD, role, owner_id=owner)
    return application


def login(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    client.get("/login")
    csrf = client.cookies.get("revalign_csrf")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture(scope="module")
def as_user(app) -> Callable[[str], TestClient]:
    """A logged-in client per username (one session each, reused within the module)."""
    clients: dict[str, TestClient] = {}

    def get(username: str) -> TestClient:
        if username not in clients:
            clients[username] = login(TestClient(app), username)
        return clients[username]

    return get


def assert_canonical_error(response, status: int) -> dict:
    """Every API error has the one shape: ok=false, error text, errors list of {loc, msg, rule}, status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"ok", "error", "errors", "status"}
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    for err in body["errors"]:
        assert set(err) == {"loc", "msg", "rule"} and isinstance(err["loc"], list)
    return body
