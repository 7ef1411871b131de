"""``/api/v1/incentives`` and ``/incentives``: the access matrix of pay data, the comparison, and JSON errors.

The company is the hand-worked one of tests/analytics/incentives/hand.py: C1 (CRO) ← M1 (manager) ← A1, A2 (AEs),
S1 (SDR). The rule restated: pay rows about a person (statements, payouts, gains, payout vs contribution) are shown
to that person, everyone above them in the ``manager_id`` tree, and the finance/RevOps/admin roles; figures over
many people (the alignment summary, the comparison, the actions' total gains) only to those three roles.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from revalign.analytics.incentives.credit import credit_lines
from revalign.analytics.incentives.payout import payouts, quota_by_period
from revalign.interfaces.server import ServerSettings, create_app
from revalign.project import Project, init_project, open_project
from tests.analytics.incentives.hand import PLAN_YAML, plan, write_company
from tests.analytics.incentives.test_compare import FLAT_YAML
from tests.interfaces.server.conftest import assert_canonical_error, login

WINDOW = "plan=team_plan&start=2025-01-01&end=2025-06-30"
LOGINS = {
    "rep": ("rep", "A1"),
    "manager": ("sales", "M1"),
    "finance": ("finance", None),
    "marketer": ("marketing", None),
}
SCOPE = {  # whose pay rows each login may see, by the rule above
    "rep": {"A1"},
    "manager": {"M1", "A1", "A2", "S1"},
    "finance": {"A1", "A2", "S1", "M1"},
    "marketer": set(),
}
PERSON_TABLES = ("statements", "payouts", "people", "gains")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    folder = tmp_path_factory.mktemp("incentives")
    init_project(folder, name="incentives")
    (folder / "comp_plans").mkdir()
    (folder / "comp_plans" / "team_plan.yaml").write_text(PLAN_YAML)
    (folder / "comp_plans" / "flat_plan.yaml").write_text(FLAT_YAML)
    proj = open_project(folder)
    write_company(proj.engine)
    yield proj
    proj.close()


@pytest.fixture(scope="module")
def clients(project: Project, tmp_path_factory: pytest.TempPathFactory) -> dict[str, TestClient]:
    state = tmp_path_factory.mktemp("state") / "state.sqlite"
    app = create_app(project, state_url=f"sqlite:///{state}", settings=ServerSettings())
    for name, (role, owner) in LOGINS.items():
        app.state.store.add_user(name, "correct-horse-1", role, owner_id=owner)
    return {name: login(TestClient(app), name) for name in LOGINS}


@pytest.fixture(scope="module")
def answers(clients) -> dict[str, dict]:
    out = {}
    for name, client in clients.items():
        response = client.get(f"/api/v1/incentives?{WINDOW}&compare=flat_plan")
        assert response.status_code == 200, response.text
        out[name] = {t["name"]: t for t in response.json()["tables"]}
    return out


@pytest.mark.parametrize("who", sorted(LOGINS))
def test_pay_rows_follow_the_privacy_rule(answers, who):
    tables = answers[who]
    for name in PERSON_TABLES:
        people = {row["user_id"] for row in tables[name]["rows"]}
        assert people <= SCOPE[who], (who, name, people)
    assert {row["user_id"] for row in tables["statements"]["rows"]} == SCOPE[who]
    everyone = who == "finance"
    assert ("alignment" in tables) is everyone and ("compare" in tables) is everyone
    paid_under_it = bool(SCOPE[who])  # the plan is pay data: for the people it pays, their managers, pay roles
    assert ("measures" in tables) is paid_under_it and ("actions" in tables) is paid_under_it
    if paid_under_it:
        assert ("total_gain" in [c["name"] for c in tables["actions"]["columns"]]) is everyone
        assert [r["measure"] for r in tables["measures"]["rows"]] == ["new_revenue"]


def test_statements_equal_the_library(answers, project):
    p = plan()
    lines = credit_lines(project.tables, p, start="2025-01-01", end="2025-07-01")
    expected = payouts(lines, p, quota_by_period(project.tables, p), people=None).totals
    got = {(r["user_id"], r["period"]): r["payout"] for r in answers["finance"]["payouts"]["rows"]}
    keys = zip(expected.user_id, expected.period, strict=True)
    assert got == pytest.approx(dict(zip(keys, expected.payout, strict=True)))
    mine = {(r["user_id"], r["period"]) for r in answers["rep"]["payouts"]["rows"]}
    assert mine == {k for k in got if k[0] == "A1"}


def test_the_comparison_is_for_pay_roles(answers):
    rows = {r["plan"]: r for r in answers["finance"]["compare"]["rows"]}
    assert rows["team_plan v1"]["total_cost"] == pytest.approx(
        sum(r["payout"] for r in answers["finance"]["payouts"]["rows"])
    )
    assert set(rows) == {"team_plan v1", "flat_plan v1"}


def test_the_page_shows_only_the_rows_allowed(clients):
    for who in ("rep", "manager"):
        html = clients[who].get(f"/incentives?{WINDOW}").text
        users = {part.split("<")[0].strip() for part in html.split('data-col="user_id">')[1:]}
        assert users == SCOPE[who], (who, users)


def test_errors_are_json(clients):
    finance = clients["finance"]
    body = assert_canonical_error(finance.get("/api/v1/incentives?plan=no_such_plan"), 404)
    assert "no_such_plan" in body["error"]
    assert_canonical_error(finance.get("/api/v1/incentives?plan=team_plan&compare=1bad"), 422)
    assert_canonical_error(finance.get("/api/v1/incentives?plan=team_plan&grain=week"), 422)
    body = assert_canonical_error(finance.get("/api/v1/incentives"), 404)  # two plans: say which
    assert "flat_plan" in body["error"] and "team_plan" in body["error"]
