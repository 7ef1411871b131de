"""The alert state on SQLite and on a real PostgreSQL server: migration 0005, the log's memory per condition
key and per rule, audiences resolved to users, the inbox (only your own items can be marked read), refresh runs."""

from __future__ import annotations

import datetime as dt

import pytest

from revalign.alerts.conditions import records_path
from revalign.alerts.firing import Alert, Firing
from revalign.definitions.alerts import Audience
from revalign.interfaces.server.state import StateStore
from revalign.interfaces.server.state.alerts import AlertStore

T0 = dt.datetime(2026, 3, 2, 9, 0)


def firing(state: str) -> Firing:
    return Firing("r", "kpi_off_target", "win_rate", "2026-Q1", state, "warning", "Win rate off target", "…")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database("alerts_state")
    store = StateStore(url)
    assert store.migrate() == "0006"
    yield store
    store.close()


def test_the_log_remembers_the_last_sent_state_per_key_and_counts_per_rule(store):
    state = AlertStore(store)
    assert state.last_sent("r|win_rate|2026-Q1") is None
    for at, st, outcome in (
        (T0, "amber", "sent"),
        (T0 + dt.timedelta(hours=1), "red", "duplicate"),
        (T0 + dt.timedelta(hours=2), "red", "sent"),
        (T0 + dt.timedelta(hours=3), "x", "failed"),
    ):
        state.record(Alert(firing(st), outcome, at))
    last = state.last_sent("r|win_rate|2026-Q1")
    assert (last.state, last.at) == ("red", T0 + dt.timedelta(hours=2))  # duplicates and failures are not sends
    assert state.sent_count("r", T0) == 2 and state.sent_count("r", T0 + dt.timedelta(minutes=1)) == 1
    assert [a["outcome"] for a in state.log()] == ["failed", "sent", "duplicate", "sent"]


def test_audiences_resolve_to_active_users_and_only_your_own_items_can_be_marked_read(store):
    for name, role in (("lead", "leadership"), ("mia", "marketing"), ("rep1", "rep"), ("ann", "sales")):
        store.add_user(name, "password-123", role, owner_id="u1" if role == "rep" else None)
    state = AlertStore(store)
    assert [n for _, n in state.inbox_users(Audience(teams=["sales"]))] == ["ann", "rep1"]
    assert [n for _, n in state.inbox_users(Audience(roles=["leadership"], users=["mia"]))] == ["lead", "mia"]
    assert state.inbox_users(Audience(emails=["x@example.com"])) == []
    alert_id = state.record(Alert(firing("red"), "sent", T0))
    ids = {n: uid for uid, n in state.inbox_users(Audience(users=["lead", "mia"]))}
    state.add_to_inbox(alert_id, list(ids.values()))
    (item,) = state.inbox(ids["lead"])
    assert item["alert"]["title"] == "Win rate off target" and item["read_at"] is None
    assert not state.mark_read(ids["mia"], item["id"])  # lead's item, not mia's
    assert state.mark_read(ids["lead"], item["id"]) and state.unread_count(ids["lead"]) == 0
    assert state.unread_count(ids["mia"]) == 1


def test_refresh_runs_are_recorded(store):
    state = AlertStore(store)
    assert state.last_refresh() is None
    state.record_refresh(T0, T0 + dt.timedelta(seconds=5), True, "1 source(s) loaded", {"ok": True})
    state.record_refresh(T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=1, seconds=3), False, "problem", {})
    last = state.last_refresh()
    assert (last["ok"], last["summary"], last["finished_at"]) == (
        False,
        "problem",
        T0 + dt.timedelta(hours=1, seconds=3),
    )


def test_a_records_link_only_for_slices_the_records_page_can_take():
    start, end = dt.date(2026, 1, 1), dt.date(2026, 4, 1)
    assert records_path("win_rate", start, end, {"owner": "u1"}) == (
        "/records?kpi=win_rate&start=2026-01-01&end=2026-03-31&owner_id=u1"
    )
    assert records_path("win_rate", start, end, {"region": "emea"}) is None
