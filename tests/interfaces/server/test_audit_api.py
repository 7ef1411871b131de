"""``/api/v1/audit`` and ``POST /api/v1/audit/{id}/decision`` over a simulated company (scale xs), and the page.

Expected numbers come from the library (``credit_comparison`` over tables audited with the same decisions),
whose own tests check them against the simulator's true lead sources.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from revalign.analytics.audit.credit import audited_tables, credit_comparison
from revalign.analytics.audit.findings import HEADLINE_KINDS
from revalign.interfaces.server import ServerSettings, create_app
from revalign.project import Project
from revalign.simulate import simulate
from tests.interfaces.server.conftest import PASSWORD, assert_canonical_error

USERS = {"ops": "revops", "cfo": "finance", "marketer": "marketing", "admin": "admin"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    p = Project(tmp_path_factory.mktemp("audit-api"), engine="duckdb://:memory:")
    simulate(scale="xs", seed=0).write(p.engine)
    yield p
    p.close()


@pytest.fixture(scope="module")
def app(project, tmp_path_factory):
    state = tmp_path_factory.mktemp("audit-state") / "state.sqlite"
    application = create_app(project, state_url=f"sqlite:///{state}", settings=ServerSettings())
    for username, role in USERS.items():
        application.state.store.add_user(username, PASSWORD, role)
    return application


@pytest.fixture(scope="module")
def findings(project):
    return project.audit_findings()


def csrf_of(client) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/account").text.split('name="csrf_token" value="')[1].split('"')[0]}


def expected_credit(project, findings, decisions, period):
    start, end = period
    audited = audited_tables(project.tables, findings[findings["kind"].isin(HEADLINE_KINDS)], decisions)
    table = credit_comparison(project.tables, audited, project.catalog, start=start, end=end)
    return table.set_index("kpi")


def test_get_audit_lists_findings_credit_and_rollups(as_user, project, findings):
    body = as_user("marketer").get("/api/v1/audit").json()
    tables = {t["name"]: t for t in body["tables"]}
    assert set(tables) == {"credit", "findings", "by_actor", "by_team", "by_quarter", "trend", "evidence"}
    assert body["meta"]["total_findings"] == len(findings) > 0
    assert {r["status"] for r in tables["findings"]["rows"]} == {"open"}
    label = body["meta"]["credit_period"]
    start, end = body["meta"]["covers"]["start"], body["meta"]["covers"]["end"]
    assert label and start.startswith(label[:4])
    expected = expected_credit(project, findings, {}, (start, str(int(end[:4]) + 1) + end[4:]))
    credit = {r["kpi"]: r for r in tables["credit"]["rows"]}
    for kpi in ("marketing_sourced_revenue", "new_revenue"):
        assert credit[kpi]["audited"] == pytest.approx(expected.loc[kpi, "audited"])
    assert "as recorded" in body["meta"]["credit_sentence"] and "as audited" in body["meta"]["credit_sentence"]
    assert sum(r["findings"] for r in tables["trend"]["rows"]) == len(findings)
    shown = {r["finding_id"] for r in tables["findings"]["rows"]}
    assert {r["finding_id"] for r in tables["evidence"]["rows"]} <= shown and tables["evidence"]["rows"]


def test_filters_and_paging(as_user, findings):
    client = as_user("marketer")
    kind = client.get("/api/v1/audit", params={"kind": "no_opportunity_recreate"}).json()
    rows = next(t for t in kind["tables"] if t["name"] == "findings")["rows"]
    assert {r["kind"] for r in rows} == {"no_opportunity_recreate"}
    assert len(rows) == int((findings["kind"] == "no_opportunity_recreate").sum())
    actor = findings["actor_id"].dropna().iloc[0]
    mine = client.get("/api/v1/audit", params={"actor": actor}).json()
    assert mine["meta"]["total_findings"] == int((findings["actor_id"] == actor).sum())
    late = client.get("/api/v1/audit", params={"page": 999}).json()
    assert next(t for t in late["tables"] if t["name"] == "findings")["rows"] == []
    assert_canonical_error(client.get("/api/v1/audit", params={"kind": "gaming"}), 422)
    assert_canonical_error(client.get("/api/v1/audit", params={"segment": "smb"}), 422)


def test_decisions_are_checked_and_change_the_audited_numbers(as_user, project, findings):
    won = findings[findings["kind"].isin(HEADLINE_KINDS) & (findings["revenue_at_stake"] > 0)]
    first, second = won["finding_id"].iloc[0], won["finding_id"].iloc[1]
    marketer, ops, cfo = as_user("marketer"), as_user("ops"), as_user("cfo")
    url = f"/api/v1/audit/{first}/decision"
    body = assert_canonical_error(marketer.post(url, json={"status": "confirmed"}, headers=csrf_of(marketer)), 403)
    assert "may read findings but not decide" in body["error"]
    assert_canonical_error(ops.post(url, json={"status": "confirmed"}), 403)  # no CSRF token
    body = assert_canonical_error(ops.post(url, json={"status": "dismissed"}, headers=csrf_of(ops)), 422)
    assert body["errors"][0]["loc"] == ["body", "reason"]
    assert_canonical_error(ops.post(url, json={"status": "approved"}, headers=csrf_of(ops)), 422)
    assert_canonical_error(ops.post(url, json={"status": "confirmed", "extra": 1}, headers=csrf_of(ops)), 422)
    assert_canonical_error(
        ops.post("/api/v1/audit/nope/decision", json={"status": "confirmed"}, headers=csrf_of(ops)), 404
    )

    done = ops.post(url, json={"status": "confirmed"}, headers=csrf_of(ops))
    assert done.status_code == 201 and done.json()["decision"]["by"] == "ops"
    reason = "the rep re-entered the lead after a data migration"
    done = cfo.post(
        f"/api/v1/audit/{second}/decision", json={"status": "dismissed", "reason": reason}, headers=csrf_of(cfo)
    )
    assert done.status_code == 201

    body = marketer.get("/api/v1/audit", params={"period": "2025"}).json()
    rows = {r["finding_id"]: r for r in next(t for t in body["tables"] if t["name"] == "findings")["rows"]}
    assert (rows[first]["status"], rows[first]["decided_by"]) == ("confirmed", "ops")
    assert (rows[second]["status"], rows[second]["reason"]) == ("dismissed", reason)
    expected = expected_credit(
        project, findings, {first: "confirmed", second: "dismissed"}, ("2025-01-01", "2026-01-01")
    )
    credit = {r["kpi"]: r["audited"] for r in next(t for t in body["tables"] if t["name"] == "credit")["rows"]}
    assert credit["marketing_sourced_revenue"] == pytest.approx(expected.loc["marketing_sourced_revenue", "audited"])


def test_the_page_shows_controls_to_reviewers_only(as_user):
    page = as_user("ops").get("/audit")
    assert page.status_code == 200
    assert 'id="credit-sentence"' in page.text and 'class="decision"' in page.text and "/static/audit.js" in page.text
    assert "<script>" not in page.text  # the CSP allows no inline script
    read_only = as_user("marketer").get("/audit").text
    assert 'class="decision"' not in read_only and 'class="evidence"' in read_only
    assert '<a href="/audit"' in read_only
