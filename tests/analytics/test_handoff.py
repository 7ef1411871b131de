"""The MQL hand-off on a hand-built ledger: accepted, rejected (by reason) and untouched, by channel and rep.

L1 email/U1: mql 01-01 10:00 → accepted 12:00 (2 h).   L2 email/U2: mql 01-02 → rejected 01-03 (24 h, no_budget).
L3 events/U1: mql 01-05, nothing → untouched.          L5 email/U1: accepted 01-01 *before* its mql 01-03 → untouched.
L4 events/U2: mql 01-01 → rejected 01-02 (24 h, not_a_fit) → recycled 01-10 → mql 02-01 → accepted 06:00 (6 h):
two hand-offs, one rejected and one accepted.
"""

from __future__ import annotations

import pytest

from revalign.analytics.handoff import handoff, rejection_reasons
from revalign.model.access import Tables
from tests.analytics.funnel.builders import write


@pytest.fixture
def ledger(duckdb_engine):
    lc = "lifecycle"
    write(
        duckdb_engine,
        ledger=[
            ("lead", "L1", lc, "mql", "2024-01-01 10:00"),
            ("lead", "L1", lc, "accepted", "2024-01-01 12:00"),
            ("lead", "L2", lc, "mql", "2024-01-02"),
            ("lead", "L2", lc, "rejected", "2024-01-03", "no_budget"),
            ("lead", "L3", lc, "mql", "2024-01-05"),
            ("lead", "L4", lc, "mql", "2024-01-01"),
            ("lead", "L4", lc, "rejected", "2024-01-02", "not_a_fit"),
            ("lead", "L4", lc, "recycled", "2024-01-10"),
            ("lead", "L4", lc, "mql", "2024-02-01"),
            ("lead", "L4", lc, "accepted", "2024-02-01 06:00"),
            ("lead", "L5", lc, "accepted", "2024-01-01"),
            ("lead", "L5", lc, "mql", "2024-01-03"),
        ],
        leads=[
            {"lead_id": "L1", "lead_source": "email", "owner_id": "U1"},
            {"lead_id": "L2", "lead_source": "email", "owner_id": "U2"},
            {"lead_id": "L3", "lead_source": "events", "owner_id": "U1"},
            {"lead_id": "L4", "lead_source": "events", "owner_id": "U2"},
            {"lead_id": "L5", "lead_source": "email", "owner_id": "U1"},
        ],
    )
    return duckdb_engine


def test_handoff_by_channel(ledger):
    h = handoff(Tables(ledger), by=("channel",)).set_index("channel")
    email, events = h.loc["email"], h.loc["events"]
    assert (email.mqls, email.accepted, email.rejected, email.untouched) == (3, 1, 1, 1)
    assert (events.mqls, events.accepted, events.rejected, events.untouched) == (3, 1, 1, 1)
    assert email.p50_hours == pytest.approx(13.0)  # median of 2 h and 24 h
    assert events.p50_hours == pytest.approx(15.0)  # median of 24 h and 6 h
    rates = h[["accepted_rate", "rejected_rate", "untouched_rate"]].sum(axis=1)
    assert rates.to_numpy() == pytest.approx([1.0, 1.0])


def test_handoff_by_rep_and_month(ledger):
    h = handoff(Tables(ledger), by=("owner_id",)).set_index("owner_id")
    assert (h.loc["U1", "mqls"], h.loc["U1", "accepted"], h.loc["U1", "untouched"]) == (3, 1, 2)
    assert (h.loc["U2", "mqls"], h.loc["U2", "accepted"], h.loc["U2", "rejected"]) == (3, 1, 2)
    m = handoff(Tables(ledger), by=(), grain="month")
    assert m["mqls"].tolist() == [5, 1]  # January: L1, L2, L3, L4, L5; February: L4's second MQL


def test_rejection_reasons(ledger):
    r = rejection_reasons(Tables(ledger)).set_index("reason")
    assert r["rejected"].to_dict() == {"no_budget": 1, "not_a_fit": 1}
    assert r["share"].to_numpy() == pytest.approx([0.5, 0.5])
    by = rejection_reasons(Tables(ledger), by=("channel",))
    assert by.set_index(["channel", "reason"])["rejected"].to_dict() == {
        ("email", "no_budget"): 1,
        ("events", "not_a_fit"): 1,
    }
