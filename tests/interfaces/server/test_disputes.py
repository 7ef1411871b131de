"""Disputes through the API and the pages, over a hand-made company whose facts are known row by row.

Leads (owner, team, sales' latest decision in the ledger):
  L1  u1  t1  rejected "no budget"      (accepted on Jan 5, then rejected on Jan 9: the latest decision wins)
  L2  u2  t1  accepted
  L3  u3  t2  rejected "bad fit"
Logins: sam (sales manager), mia (marketing), rep1 (rep, u1, team t1), rep3 (rep, u3, team t2), ops (revops),
admin. So a dispute on L1 belongs to team t1: rep1 sees it, rep3 does not. The opportunities are the shared tiny
fixture's (conftest.py), so the overview and the scorecards have numbers to show beside their banners.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from revalign.interfaces.server import ServerSettings, create_app
from revalign.interfaces.server.state.alerts import AlertStore
from revalign.interfaces.server.state.disputes import Disputes
from revalign.project import Project
from tests.interfaces.server.conftest import OPPORTUNITIES, PASSWORD, assert_canonical_error, login, write_canonical

LEADS = pd.DataFrame(
    {
        "lead_id": ["L1", "L2", "L3"],
        "owner_id": ["u1", "u2", "u3"],
        "created_at": pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-04"]),
        "lifecycle_stage": ["mql", "sql", "mql"],
    }
)
USERS = pd.DataFrame({"user_id": ["u1", "u2", "u3"], "name": ["Ann", "Bo", "Cy"], "team_id": ["t1", "t1", "t2"]})
LEDGER = pd.DataFrame(
    {
        "event_id": ["e1", "e2", "e3", "e4"],
        "entity_type": ["lead"] * 4,
        "entity_id": ["L1", "L1", "L2", "L3"],
        "kind": ["lifecycle"] * 4,
        "name": ["accepted", "rejected", "accepted", "rejected"],
        "reason": [None, "no budget", None, "bad fit"],
        "occurred_at": pd.to_datetime(["2025-01-05", "2025-01-09", "2025-01-06", "2025-01-07"]),
        "recorded_at": pd.to_datetime(["2025-01-05", "2025-01-09", "2025-01-06", "2025-01-07"]),
    }
)
LOGINS = {
    "sam": ("sales", None),
    "mia": ("marketing", None),
    "rep1": ("rep", "u1"),
    "rep3": ("rep", "u3"),
    "ops": ("revops", None),
    "admin": ("admin", None),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    project = Project(tmp_path_factory.mktemp("disputes"), engine="duckdb://:memory:")
    for name, frame in (("leads", LEADS), ("users", USERS), ("ledger", LEDGER), ("opportunities", OPPORTUNITIES)):
        write_canonical(project, name, frame)
    state = tmp_path_factory.mktemp("state") / "state.sqlite"
    application = create_app(project, state_url=f"sqlite:///{state}", settings=ServerSettings())
    for username, (role, owner) in LOGINS.items():
        application.state.store.add_user(username, PASSWORD, role, owner_id=owner)
    yield application
    project.close()


@pytest.fixture(scope="module")
def clients(app) -> dict[str, TestClient]:
    return {name: login(TestClient(app), name) for name in LOGINS}


CSRF: dict[int, str] = {}


def post(client: TestClient, url: str, body: dict) -> object:
    """POST JSON with the session's CSRF token (read once per client from a page that carries it)."""
    if id(client) not in CSRF:
        CSRF[id(client)] = client.get("/account").text.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post(url, json=body, headers={"X-CSRF-Token": CSRF[id(client)]})


def inbox_titles(app, username: str) -> list[str]:
    store = app.state.store
    return [i["alert"]["title"] for i in AlertStore(store).inbox(store.get_user(username).id)]


def test_a_sales_manager_disputes_a_rejection_and_marketing_overturns_it(app, clients):
    sam, mia = clients["sam"], clients["mia"]
    opened = post(sam, "/api/v1/disputes", {"kind": "mql_rejection", "lead_id": "L1", "note": "They have budget now"})
    assert opened.status_code == 201, opened.text
    d = opened.json()["dispute"]
    # the latest decision on L1 is the rejection of Jan 9 (its reason in the title); sales opened it, so it is
    # against marketing; the lead is u1's (the rep's team sees it)
    assert (d["department"], d["against"], d["status"], d["owner"]) == ("sales", "marketing", "open", None)
    assert d["title"] == "sales disputes rejection of MQL L1 (rejected: no budget)"
    assert [(e["action"], e["by"], e["text"]) for e in d["thread"]] == [("opened", "sam", "They have budget now")]
    # the other side's inbox has it, the opener's side's does not
    assert inbox_titles(app, "mia") == [f"Dispute #{d['id']} opened: {d['title']}"]
    assert inbox_titles(app, "sam") == []
    # both teams' scorecards and the overview say so; a department not involved does not
    for department in ("sales", "marketing"):
        page = sam.get(f"/scorecards?department={department}&period=2025-Q1")
        assert (
            page.status_code == 200 and "1 open dispute</a>" in page.text and f"#{d['id']} sales disputes" in page.text
        )
    assert 'id="disputes-banner"' not in mia.get("/scorecards?department=customer_success&period=2025-Q1").text
    assert "1 open dispute</a>" in mia.get("/?period=2025-Q1").text
    # marketing comments, assigns and overturns it; the thread keeps every step in order
    dispute_url = f"/api/v1/disputes/{d['id']}"
    assert post(mia, dispute_url + "/comments", {"text": "Checking the call notes"}).status_code == 201
    assert post(mia, dispute_url + "/assign", {"owner": "mia"}).json()["dispute"]["owner"] == "mia"
    resolved = post(mia, dispute_url + "/resolve", {"resolution": "overturned", "note": "Budget confirmed in call"})
    assert resolved.status_code == 200, resolved.text
    r = resolved.json()["dispute"]
    assert (r["status"], r["resolution"], r["resolved_by"], r["resolution_note"]) == (
        "resolved",
        "overturned",
        "mia",
        "Budget confirmed in call",
    )
    assert [e["action"] for e in r["thread"]] == ["opened", "comment", "assigned", "resolved"]
    assert inbox_titles(app, "sam") == [f"Dispute #{d['id']} resolved: overturned: {d['title']}"]
    assert 'id="disputes-banner"' not in sam.get("/scorecards?department=sales&period=2025-Q1").text
    again = post(mia, dispute_url + "/resolve", {"resolution": "upheld", "note": "no"})
    assert assert_canonical_error(again, 422)["errors"][0]["rule"] == "resolved"
    page = sam.get("/disputes")
    assert (
        f'id="dispute-{d["id"]}"' in page.text and "Resolved overturned by mia: Budget confirmed in call" in page.text
    )


def test_what_a_dispute_must_name_and_who_may_do_what(app, clients):
    sam, mia, rep1, rep3 = (clients[n] for n in ("sam", "mia", "rep1", "rep3"))
    accepted = post(sam, "/api/v1/disputes", {"kind": "mql_rejection", "lead_id": "L2", "note": "x"})
    assert "its latest decision is accepted" in assert_canonical_error(accepted, 422)["error"]
    assert_canonical_error(post(sam, "/api/v1/disputes", {"kind": "mql_rejection", "lead_id": "L9", "note": "x"}), 404)
    blank = post(sam, "/api/v1/disputes", {"kind": "mql_rejection", "lead_id": "L3", "note": "   "})
    assert assert_canonical_error(blank, 422)["errors"][0]["loc"] == ["body", "note"]
    # win_rate is sales' own number: sales contesting it asks RevOps, who computes it; RevOps contesting its own
    # number (cac) has no one to ask
    own = post(sam, "/api/v1/disputes", {"kind": "kpi", "kpi": "win_rate", "period": "2025-Q1", "note": "too low"})
    assert own.json()["dispute"]["against"] == "revops"
    own = post(clients["ops"], "/api/v1/disputes", {"kind": "kpi", "kpi": "cac", "period": "2025", "note": "x"})
    assert assert_canonical_error(own, 422)["errors"][0]["rule"] == "same_side"
    bad_period = post(sam, "/api/v1/disputes", {"kind": "kpi", "kpi": "mqls", "period": "Q1", "note": "x"})
    assert assert_canonical_error(bad_period, 422)["errors"][0]["loc"] == ["body", "period"]
    assert_canonical_error(
        post(sam, "/api/v1/disputes", {"kind": "kpi", "kpi": "mqlz", "period": "2025", "note": "x"}), 404
    )
    # no CSRF token on a cookie session: refused before anything is written
    assert_canonical_error(sam.post("/api/v1/disputes", json={"kind": "kpi", "note": "x"}), 403)

    # marketing disputes sales' rejection of L3 (team t2): against sales
    opened = post(mia, "/api/v1/disputes", {"kind": "mql_rejection", "lead_id": "L3", "note": "Fits our ICP"})
    d = opened.json()["dispute"]
    assert (d["department"], d["against"]) == ("marketing", "sales")
    dup = post(mia, "/api/v1/disputes", {"kind": "mql_rejection", "lead_id": "L3", "note": "again"})
    assert assert_canonical_error(dup, 422)["errors"][0]["rule"] == "duplicate"
    # rep3 (team t2, owns L3) sees it and comments; rep1 (team t1) neither sees nor comments
    assert [x["id"] for x in rep3.get("/api/v1/disputes").json()["items"]] == [d["id"]]
    assert post(rep3, f"/api/v1/disputes/{d['id']}/comments", {"text": "Call booked"}).status_code == 201
    assert d["id"] not in [x["id"] for x in rep1.get("/api/v1/disputes").json()["items"]]
    assert_canonical_error(rep1.get(f"/api/v1/disputes/{d['id']}"), 404)
    assert_canonical_error(post(rep1, f"/api/v1/disputes/{d['id']}/comments", {"text": "hi"}), 404)
    # withdrawing is the opener's (not sam's); upholding is the other side's (sales), not the opener's (mia)
    assert_canonical_error(post(mia, f"/api/v1/disputes/{d['id']}/resolve", {"resolution": "upheld", "note": "n"}), 403)
    assert_canonical_error(
        post(sam, f"/api/v1/disputes/{d['id']}/resolve", {"resolution": "withdrawn", "note": "n"}), 403
    )
    done = post(mia, f"/api/v1/disputes/{d['id']}/resolve", {"resolution": "withdrawn", "note": "Lead went dark"})
    assert done.json()["dispute"]["resolution"] == "withdrawn"


def test_a_dispute_about_pay_data_is_seen_only_by_who_may_see_the_value(app, clients):
    ops, sam, rep1 = clients["ops"], clients["sam"], clients["rep1"]
    # quota_attainment is pay data; over the whole company only the pay-data roles (finance, RevOps, admin) see it
    refused = post(sam, "/api/v1/disputes", {"kind": "kpi", "kpi": "quota_attainment", "period": "2025", "note": "x"})
    assert_canonical_error(refused, 403)
    opened = post(ops, "/api/v1/disputes", {"kind": "kpi", "kpi": "quota_attainment", "period": "2025", "note": "x"})
    assert opened.status_code == 201, opened.text
    d = opened.json()["dispute"]
    assert d["against"] == "sales" and d["subject"] == {
        "kind": "kpi",
        "kpi": "quota_attainment",
        "period": "2025",
        "slice": {},
    }
    assert d["id"] in [x["id"] for x in clients["admin"].get("/api/v1/disputes").json()["items"]]
    for client in (sam, rep1):
        assert d["id"] not in [x["id"] for x in client.get("/api/v1/disputes").json()["items"]]
        assert_canonical_error(client.get(f"/api/v1/disputes/{d['id']}"), 404)
    # its notice went to the pay-data roles only: sam (sales) heard nothing of it
    assert not [t for t in inbox_titles(app, "sam") if "quota_attainment" in t]
    assert [t for t in inbox_titles(app, "admin") if "quota_attainment" in t]
    # rep1's own attainment (sliced to u1) is rep1's to see and to dispute
    mine = {
        "kind": "kpi",
        "kpi": "quota_attainment",
        "period": "2025",
        "slice": {"owner": "u1"},
        "note": "missing deal",
    }
    own = post(rep1, "/api/v1/disputes", mine)
    assert own.status_code == 201, own.text
    assert own.json()["dispute"]["id"] in [x["id"] for x in ops.get("/api/v1/disputes").json()["items"]]
    assert own.json()["dispute"]["against"] == "revops"  # sales' own KPI, contested by sales
    assert own.json()["dispute"]["id"] not in [x["id"] for x in sam.get("/api/v1/disputes").json()["items"]]


def test_the_dispute_controls_link_to_a_prefilled_form(app, clients):
    page = clients["sam"].get("/records/leads")
    assert page.status_code == 200, page.text
    assert 'href="/disputes?kind=record&amp;lead_id=L1&amp;table=leads&amp;record_id=L1"' in page.text
    form = clients["sam"].get("/disputes?kind=mql_rejection&lead_id=L3")
    assert 'id="d-lead" value="L3"' in form.text and '<option value="mql_rejection" selected>' in form.text
    kpi = clients["sam"].get("/glossary/mqls")
    assert 'href="/disputes?kind=kpi&amp;kpi=mqls"' in kpi.text


def test_the_store_keeps_every_step(app):
    disputes = Disputes(app.state.store).find()
    assert all(d.events[0].action == "opened" for d in disputes)
    assert Disputes(app.state.store).version() == sum(len(d.events) for d in disputes)
