"""The disputes store on SQLite and on a real PostgreSQL server: each step appended, status, owner and resolution
read from the events, who may resolve, and the checks on what a dispute names."""

from __future__ import annotations

import pytest

from revalign.errors import PermissionDenied, UnknownNameError
from revalign.interfaces.server.errors import BadRequest
from revalign.interfaces.server.state import StateStore
from revalign.interfaces.server.state.disputes import Dispute, Disputes, Subject, SubjectFacts

REJECTION = Subject.checked("mql_rejection", lead_id="L1")
FACTS = SubjectFacts(against="marketing", record_owner="u1", context="rejected: no budget")


def _store(url: str) -> StateStore:
    store = StateStore(url)
    store.migrate()  # the head is test_auth's to check
    for name, role in (("sam", "sales"), ("mia", "marketing"), ("ops", "revops"), ("root", "admin"), ("rep1", "rep")):
        store.add_user(name, "password-123", role, owner_id="u1" if role == "rep" else None)
    return store


def _exercise(store: StateStore) -> None:
    told: list[tuple[int, str, str]] = []
    disputes = Disputes(store, lambda d, action, user: told.append((d.id, action, user.username)))
    sam, mia, rep1 = (store.get_user(n) for n in ("sam", "mia", "rep1"))
    d = disputes.open(sam, REJECTION, FACTS, "  They have budget  ")
    assert (d.status, d.owner, d.department, d.against, d.title) == (
        "open",
        None,
        "sales",
        "marketing",
        "sales disputes rejection of MQL L1 (rejected: no budget)",
    )
    disputes.comment(rep1, d.id, "I spoke to them")
    disputes.assign(sam, d.id, "mia")
    with pytest.raises(PermissionDenied, match="may mark dispute"):
        disputes.resolve(rep1, d.id, "upheld", "n")  # a rep is sales: the side that opened it
    done = disputes.resolve(mia, d.id, "overturned", "Budget confirmed")
    assert (done.status, done.owner, done.to_dict()["resolution"], done.to_dict()["resolution_note"]) == (
        "resolved",
        "mia",
        "overturned",
        "Budget confirmed",
    )
    assert [(e.action, e.username, e.value, e.text) for e in done.events] == [
        ("opened", "sam", None, "They have budget"),
        ("comment", "rep1", None, "I spoke to them"),
        ("assigned", "sam", "mia", None),
        ("resolved", "mia", "overturned", "Budget confirmed"),
    ]
    assert told == [
        (d.id, "opened", "sam"),
        (d.id, "comment", "rep1"),
        (d.id, "assigned", "sam"),
        (d.id, "resolved", "mia"),
    ]
    assert disputes.version() == 4 and disputes.find(status="open") == []
    # resolved: a new dispute on the same subject may be opened again
    again = disputes.open(
        mia,
        Subject.checked("kpi", kpi="win_rate", period="2025-Q2", slice={"segment": "smb"}),
        SubjectFacts("sales"),
        "low",
    )
    assert (
        again.subject.key == "kpi:win_rate|2025-Q2|segment=smb"
        and again.title == "marketing disputes win_rate in 2025-Q2 (segment=smb)"
    )
    assert [x.id for x in disputes.find()] == [again.id, d.id]


def test_every_step_is_appended_and_read_back(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    store = _store(url)
    _exercise(store)
    store.close()
    again = StateStore(url)  # kept across restarts
    kept: list[Dispute] = Disputes(again).find()
    assert [d.status for d in kept] == ["open", "resolved"]
    again.close()


def test_what_is_refused(tmp_path):
    store = _store("sqlite://")
    disputes = Disputes(store)
    sam, root = store.get_user("sam"), store.get_user("root")
    for kwargs, loc, rule in (
        ({"kind": "kpi", "kpi": "win_rate", "period": "Q2"}, "period", "invalid"),
        ({"kind": "kpi", "kpi": "win rate;", "period": "2025"}, "kpi", "invalid"),
        ({"kind": "mql_rejection", "lead_id": ""}, "lead_id", "invalid"),
        ({"kind": "opinion"}, "kind", "enum"),
    ):
        with pytest.raises(BadRequest) as exc:
            Subject.checked(**kwargs)
        assert (exc.value.loc, exc.value.rule) == (["body", loc], rule)
    with pytest.raises(BadRequest, match="note is required"):
        disputes.open(sam, REJECTION, FACTS, "   ")
    with pytest.raises(BadRequest, match="at most 2000"):
        disputes.open(sam, REJECTION, FACTS, "x" * 2001)
    with pytest.raises(BadRequest, match="your own side") as exc:
        disputes.open(sam, REJECTION, SubjectFacts("sales"), "mine")
    with pytest.raises(BadRequest, match="name the department"):
        disputes.open(root, REJECTION, FACTS, "which side?")  # an admin names its side
    with pytest.raises(UnknownNameError):
        disputes.open(sam, REJECTION, FACTS, "to nobody", owner="nobody")
    assert disputes.version() == 0  # nothing refused was written
    d = disputes.open(root, REJECTION, FACTS, "for sales", department="sales")
    with pytest.raises(BadRequest, match="already open") as exc:
        disputes.open(sam, REJECTION, FACTS, "again")
    assert exc.value.rule == "duplicate"
    with pytest.raises(BadRequest, match="resolution must be one of upheld, overturned, withdrawn"):
        disputes.resolve(root, d.id, "accepted", "n")
    with pytest.raises(PermissionDenied):
        disputes.resolve(sam, d.id, "withdrawn", "not mine: root opened it")
    assert disputes.resolve(store.get_user("ops"), d.id, "upheld", "RevOps referees").status == "resolved"
    with pytest.raises(UnknownNameError):
        disputes.get(999)
    store.close()


@pytest.mark.postgres
def test_disputes_on_postgresql(postgres_server):
    store = _store(postgres_server.create_database("disputes_test"))
    _exercise(store)
    store.close()
