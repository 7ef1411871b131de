"""SLA clocks on a hand-built ledger, the same body on DuckDB, PostgreSQL and Spark.

as_of = Wed 2025-01-08 16:00 UTC. Follow-up SLA: 24 continuous hours from each MQL to the first sales touch.

F1 mql Mon 01-06 10:00, touch Tue 10:00:00 → 24 h exactly: **met** (a stop on the due instant is within).
F2 mql Mon 10:00, a sales touch the day *before* (does not count), touch Tue 10:00:01 → **breached** by 1 s.
F3 mql Mon 10:00, no touch → 54 h: **overdue**.
F4 mql Wed 12:00, no touch → 4 h of 24: **open**.
F5 mql Tue 20:00, no touch → 20 h of 24 = 0.83 ≥ 0.75: **at risk**.
F6 mql Thu 01-02 09:00 → touch 12:00 (**met**, 3 h); recycled; mql again Mon 01-06 12:00 → touch Tue 13:00:
   25 h, **breached** by 1 h (each MQL is its own clock).

Decision SLA: 1 business day (8 h on New York 09:00–17:00 for team T1, London 09:00–17:00 for T2), stopped by
``accepted`` or a ``rejected`` *with a reason*, paused while the lead's ``status`` is ``on_hold``.

D1 (U1, NY) mql Mon 15:00 UTC (10:00 EST); on hold 17:00 UTC (12:00 EST) until Tue 14:00 UTC (09:00 EST); accepted
   Tue 20:00 UTC (15:00 EST). Working 7 h (Mon 10–17) + 6 h (Tue 9–15) − 5 h paused (Mon 12–17) = 8 h: **met** on
   the boundary; due Tue 15:00 EST = 20:00 UTC (pushed back by the pause's 5 h).
D2 (U1, NY) mql Mon 15:00 UTC; rejected *without* a reason Tue 15:00 UTC (no stop); rejected with one Wed 15:00 UTC
   (10:00 EST): 7 + 8 + 1 = 16 h, **breached** by 8 h; due Tue 10:00 EST = 15:00 UTC.
D3 (U2, London) mql Mon 16:00 UTC (16:00 GMT), undecided: 1 + 8 + 7 (Wed 09–16) = 16 h, **overdue** by 8 h; due
   Tue 16:00 GMT = 16:00 UTC.
"""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.analytics.sla import compliance, sla_breaches, sla_items
from revalign.definitions.agreements.loader import parse_agreements
from revalign.model.access import Tables
from revalign.model.tables import canonical_table
from tests.analytics.funnel.builders import frame

AS_OF = "2025-01-08 16:00"
AGREEMENT = """\
agreement: ms
version: 1
effective_from: 2024-01-01
signatories: [{role: marketing, person: cmo}, {role: sales, person: vp_sales}]
calendars:
  default: {timezone: America/New_York, hours: "09:00-17:00", holidays: {country: US}}
  london: {timezone: Europe/London, hours: "09:00-17:00"}
teams: {T2: london}
slas:
  - name: followup
    start: {lifecycle: mql}
    stop: {touch: sales}
    within: 24 hours
  - name: decision
    start: {lifecycle: mql}
    stop: [{lifecycle: accepted}, {lifecycle: rejected, with_reason: true}]
    pause: [{from: {field: status, new_value: on_hold}, until: {field: status, new_value: working}}]
    within: 1 business day
    calendar: team
"""
V2 = (
    AGREEMENT.replace("version: 1", "version: 2")
    .replace("2024-01-01", "2025-01-07")
    .replace("within: 24 hours", "within: 12 hours")
)


def _event(eid, kind, name, when, reason=None, new=None):
    return {
        "event_id": f"{eid}-{name}-{when}",
        "entity_type": "lead",
        "entity_id": eid,
        "kind": kind,
        "name": name,
        "reason": reason,
        "new_value": new,
        "occurred_at": pd.Timestamp(when),
        "recorded_at": pd.Timestamp(when),
    }


def mql(eid, when):
    return _event(eid, "lifecycle", "mql", when)


LEDGER = [
    mql("F1", "2025-01-06 10:00"),
    mql("F2", "2025-01-06 10:00"),
    mql("F3", "2025-01-06 10:00"),
    mql("F4", "2025-01-08 12:00"),
    mql("F5", "2025-01-07 20:00"),
    mql("F6", "2025-01-02 09:00"),
    _event("F6", "lifecycle", "recycled", "2025-01-03 09:00"),
    mql("F6", "2025-01-06 12:00"),
    mql("D1", "2025-01-06 15:00"),
    _event("D1", "field", "owner_id", "2025-01-06 15:01", new="U1"),
    _event("D1", "field", "status", "2025-01-06 17:00", new="on_hold"),
    _event("D1", "field", "status", "2025-01-07 14:00", new="working"),
    _event("D1", "lifecycle", "accepted", "2025-01-07 20:00"),
    mql("D2", "2025-01-06 15:00"),
    _event("D2", "lifecycle", "rejected", "2025-01-07 15:00"),
    _event("D2", "lifecycle", "rejected", "2025-01-08 15:00", reason="no_budget"),
    mql("D3", "2025-01-06 16:00"),
]
TOUCHES = [
    ("F1", "2025-01-07 10:00:00"),
    ("F2", "2025-01-05 10:00"),
    ("F2", "2025-01-07 10:00:01"),
    ("F6", "2025-01-02 12:00"),
    ("F6", "2025-01-07 13:00"),
]
LEADS = [
    {"lead_id": x, "owner_id": "U2" if x == "D3" else ("U9" if x == "D1" else "U1")}
    for x in ("F1", "F2", "F3", "F4", "F5", "F6", "D1", "D2", "D3")
]


@pytest.fixture(scope="module")
def tables(module_engine):
    rows = {
        "ledger": LEDGER,
        "touchpoints": [
            {"touchpoint_id": f"tp{i}", "lead_id": lead, "occurred_at": pd.Timestamp(t), "touch_type": "sales"}
            for i, (lead, t) in enumerate(TOUCHES)
        ],
        "leads": LEADS,
        "users": [{"user_id": "U1", "team_id": "T1"}, {"user_id": "U2", "team_id": "T2"}, {"user_id": "U9"}],
    }
    for name, data in rows.items():
        module_engine.write(name, frame(name, data), schema=canonical_table(name).schema)
    return Tables(module_engine)


def by_key(items: pd.DataFrame, sla: str) -> pd.DataFrame:
    mine = items[items["sla"] == sla]
    return mine.set_index(mine["entity_id"] + "@" + mine["started_at"].dt.strftime("%m-%d %H:%M"))


def test_every_clock_has_the_hand_worked_status(tables):
    items = sla_items(tables, parse_agreements((AGREEMENT, "a.yaml")), as_of=AS_OF)
    f = by_key(items, "followup")
    assert f["status"].to_dict() == {
        "F1@01-06 10:00": "met",
        "F2@01-06 10:00": "breached",
        "F3@01-06 10:00": "overdue",
        "F4@01-08 12:00": "open",
        "F5@01-07 20:00": "at_risk",
        "F6@01-02 09:00": "met",
        "F6@01-06 12:00": "breached",
        "D1@01-06 15:00": "overdue",  # no sales touch at all
        "D2@01-06 15:00": "overdue",
        "D3@01-06 16:00": "overdue",
    }
    assert f.loc["F2@01-06 10:00", "late_hours"] == pytest.approx(1 / 3600)
    assert f.loc["F6@01-06 12:00", "late_hours"] == pytest.approx(1.0)
    assert f.loc["F5@01-07 20:00", "used_share"] == pytest.approx(20 / 24)
    assert f.loc["F1@01-06 10:00", "due_at"] == pd.Timestamp("2025-01-07 10:00")
    d = by_key(items, "decision")
    assert d.loc["D1@01-06 15:00", ["status", "elapsed_hours"]].tolist() == ["met", pytest.approx(8.0)]
    assert d.loc["D1@01-06 15:00", "due_at"] == pd.Timestamp("2025-01-07 20:00")
    assert d.loc["D2@01-06 15:00", ["status", "late_hours"]].tolist() == ["breached", pytest.approx(8.0)]
    assert d.loc["D2@01-06 15:00", "due_at"] == pd.Timestamp("2025-01-07 15:00")
    assert d.loc["D3@01-06 16:00", ["status", "late_hours", "calendar"]].tolist() == [
        "overdue",
        pytest.approx(8.0),
        "london",
    ]
    assert d.loc["D3@01-06 16:00", "due_at"] == pd.Timestamp("2025-01-07 16:00")
    # the owner: a ledger change (D1 → U1, though the lead row says U9), else the lead's owner; and their team
    assert d.loc["D1@01-06 15:00", ["owner_id", "team_id", "calendar"]].tolist() == ["U1", "T1", "default"]
    assert d.loc["D3@01-06 16:00", ["owner_id", "team_id"]].tolist() == ["U2", "T2"]


def test_the_breach_ledger_and_compliance(tables):
    book = parse_agreements((AGREEMENT, "a.yaml"))
    ledger = sla_breaches(tables, book, as_of=AS_OF)
    assert sorted(zip(ledger["sla"], ledger["entity_id"], strict=True)) == [
        ("decision", "D2"),
        ("followup", "F2"),
        ("followup", "F6"),
    ]
    assert ledger.set_index("entity_id").loc["D2", "done_at"] == pd.Timestamp("2025-01-08 15:00")
    assert sla_breaches(tables, book, as_of=AS_OF, team="T2").empty
    assert list(sla_breaches(tables, book, as_of=AS_OF, owner="U1", slas=["decision"])["entity_id"]) == ["D2"]
    c = compliance(sla_items(tables, book, as_of=AS_OF), ("sla",), grain=None).set_index("sla")
    # follow-up: met F1, F6a; breached F2, F6b; overdue F3, D1, D2, D3 → 2 / 8
    assert c.loc["followup", ["started", "met", "breached", "overdue", "at_risk", "open"]].tolist() == [
        10,
        2,
        2,
        4,
        1,
        1,
    ]
    assert c.loc["followup", "compliance_rate"] == pytest.approx(2 / 8)
    # decision (business time, NY for T1): met D1; breached D2; F4 (07:00–11:00 EST: 2 h of 8) and F5 (Tue
    # 15–17 + Wed 9–11 EST: 4 h) still open; the other six undecided past 8 working hours → 1 / (1 + 1 + 6)
    assert c.loc["decision", ["met", "breached", "overdue", "open"]].tolist() == [1, 1, 6, 2]
    assert c.loc["decision", "compliance_rate"] == pytest.approx(1 / 8)


def test_a_new_version_changes_the_numbers_from_its_date_only(tables):
    """v2 (from 01-07) allows 12 h: F5 (started 01-07 20:00, 20 h) turns overdue; F4 (4 h of 12) stays open;
    every clock started before 01-07 keeps version 1's status."""
    one = sla_items(tables, parse_agreements((AGREEMENT, "a.yaml")), as_of=AS_OF)
    two = sla_items(tables, parse_agreements((AGREEMENT, "a.yaml"), (V2, "b.yaml")), as_of=AS_OF)
    before = pd.Timestamp("2025-01-07")
    old = one[one["started_at"] < before].drop(columns="version").reset_index(drop=True)
    pd.testing.assert_frame_equal(old, two[two["started_at"] < before].drop(columns="version").reset_index(drop=True))
    f = by_key(two, "followup")
    assert f.loc["F5@01-07 20:00", ["status", "version", "allowance_hours"]].tolist() == ["overdue", 2, 12.0]
    assert f.loc["F4@01-08 12:00", ["status", "version"]].tolist() == ["open", 2]
    assert set(two.loc[two["started_at"] < before, "version"]) == {1}
