"""Reviewers' decisions on findings in the app state: appended, latest wins, reasons required to dismiss."""

from __future__ import annotations

import pytest

from revalign.errors import PermissionDenied
from revalign.interfaces.server.errors import BadRequest
from revalign.interfaces.server.state import StateStore
from revalign.interfaces.server.state.audit import AuditDecisions, may_decide


def _decisions(url: str) -> tuple[StateStore, AuditDecisions]:
    store = StateStore(url)
    store.migrate()  # the head is test_auth's to check
    for name, role in (("ops", "revops"), ("cfo", "finance"), ("root", "admin"), ("seller", "sales")):
        store.add_user(name, "password-123", role)
    return store, AuditDecisions(store)


def _exercise(store: StateStore, decisions: AuditDecisions) -> None:
    ops, cfo = store.get_user("ops"), store.get_user("cfo")
    assert decisions.version() == 0 and decisions.statuses() == {}
    decisions.decide(ops, "f1", "confirmed")
    decisions.decide(cfo, "f2", "dismissed", "  marketing-ops cleanup, agreed with the CMO  ")
    decisions.decide(cfo, "f1", "dismissed", "duplicate of f2")
    decisions.decide(ops, "f1", "open")  # reopened: still history, now open again
    assert decisions.statuses() == {"f1": "open", "f2": "dismissed"}
    assert [(d.status, d.username) for d in decisions.history("f1")] == [
        ("confirmed", "ops"),
        ("dismissed", "cfo"),
        ("open", "ops"),
    ]
    assert decisions.latest(["f2"])["f2"].reason == "marketing-ops cleanup, agreed with the CMO"
    assert decisions.version() == 4


def test_decisions_are_appended_and_the_latest_wins(tmp_path):
    store, decisions = _decisions(f"sqlite:///{tmp_path / 's.sqlite'}")
    _exercise(store, decisions)
    store.close()
    again = StateStore(f"sqlite:///{tmp_path / 's.sqlite'}")  # kept across restarts
    assert AuditDecisions(again).statuses() == {"f1": "open", "f2": "dismissed"}
    again.close()


def test_who_may_decide_and_what_is_rejected(tmp_path):
    store, decisions = _decisions("sqlite://")
    assert [may_decide(r) for r in ("admin", "revops", "finance", "sales", "marketing", "rep", "leadership")] == [
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]
    with pytest.raises(PermissionDenied, match=r"sales.*may read findings but not decide"):
        decisions.decide(store.get_user("seller"), "f1", "confirmed")
    root = store.get_user("root")
    with pytest.raises(BadRequest, match="needs a reason") as exc:
        decisions.decide(root, "f1", "dismissed", "   ")
    assert exc.value.loc == ["body", "reason"] and exc.value.rule == "reason_required"
    with pytest.raises(BadRequest, match="status must be one of open, confirmed, dismissed"):
        decisions.decide(root, "f1", "approved")
    with pytest.raises(BadRequest, match="finding_id must be"):
        decisions.decide(root, "f1; drop table", "confirmed")
    with pytest.raises(BadRequest, match="at most 2000"):
        decisions.decide(root, "f1", "dismissed", "x" * 2001)
    assert decisions.version() == 0  # nothing rejected was written
    store.close()


@pytest.mark.postgres
def test_decisions_on_postgresql(postgres_server):
    store, decisions = _decisions(postgres_server.create_database("audit_decisions_test"))
    _exercise(store, decisions)
    store.close()
