"""A tiny hand-made company in the canonical schema; every expected number in the tests is worked out by hand.

Leads and journeys (lookback 90 days, conversion = won):

- L1 (created 2024-01-10): t1 01-01 paid_search · t2 01-10 webinar (lead-creation touch) · t3 01-20 email ·
  t4 02-01 direct (opportunity-creation touch) · t5 02-15 events (won touch) · t6 03-15 paid_social (after
  the win: excluded). O1 created 02-01, won 03-01, 1000. Days before the win: 60, 51, 41, 29, 15 (2024 is
  a leap year: Jan has 31 days, Feb 29).
- L2 (created 02-01): u1 02-01 organic_search (lead touch) · u2 02-10 direct (opportunity and won touch).
  O2 created 02-10, won 02-20, 500. Days before: 19, 10.
- L3 (created 03-01): v1 03-01 paid_search · v2 03-05 email; never converts → one null path.
- L4 (created 03-25): w1 2023-01-01 paid_social (outside the 90-day lookback) · w2 04-01 content
  (opportunity and won touch). O4 created 04-05, won 04-10, 200. No touch in the window precedes the lead's
  creation, so there is no lead-creation touch.
- L5 (created 02-01): x1 02-02 events; O5 won 03-01 but a renewal: not a ``won`` conversion; L5 is a null.

MQL events in the ledger: L1 at 01-15 (journey t1, t2), L2 at 02-12 (journey u1, u2).
Spend: paid_search 300, webinar 200, direct 0 (none), events 100 (+ 50 on 2023-12-31, outside a 2024 range),
plus a salary row with no channel (never attributed).
"""

from __future__ import annotations

import pandas as pd

from revalign.model.tables import canonical_table


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    spec = canonical_table(name)
    df = pd.DataFrame(rows, columns=spec.column_names)
    for col in spec.columns:
        if col.dtype == "timestamp":
            df[col.name] = pd.to_datetime(df[col.name])
        elif col.dtype == "date":
            df[col.name] = pd.to_datetime(df[col.name]).dt.date
    return df


def _touch(tid: str, lead: str, at: str, channel: str, campaign: str | None = None, kind: str = "marketing"):
    return {
        "touchpoint_id": tid,
        "lead_id": lead,
        "account_id": "A" + lead[1:],
        "occurred_at": at,
        "channel": channel,
        "campaign_id": campaign,
        "touch_type": kind,
        "interaction": "visit",
    }


def _lead(lead: str, created: str):
    return {"lead_id": lead, "account_id": "A" + lead[1:], "created_at": created}


def _opp(oid: str, lead: str, created: str, closed: str, amount: float, deal_type: str = "new_business"):
    return {
        "opportunity_id": oid,
        "account_id": "A" + lead[1:],
        "lead_id": lead,
        "created_at": created,
        "closed_at": closed,
        "stage": "closed_won",
        "is_closed": True,
        "is_won": True,
        "amount": amount,
        "deal_type": deal_type,
    }


def _ledger(eid: str, lead: str, name: str, at: str):
    return {
        "event_id": eid,
        "entity_type": "lead",
        "entity_id": lead,
        "kind": "lifecycle",
        "name": name,
        "occurred_at": at,
        "recorded_at": at,
    }


def tiny_company() -> dict[str, pd.DataFrame]:
    touches = [
        _touch("t1", "L1", "2024-01-01", "paid_search", "C1"),
        _touch("t2", "L1", "2024-01-10", "webinar", "C2"),
        _touch("t3", "L1", "2024-01-20", "email", "C3"),
        _touch("t4", "L1", "2024-02-01", "direct", None, "sales"),
        _touch("t5", "L1", "2024-02-15", "events", "C4"),
        _touch("t6", "L1", "2024-03-15", "paid_social", "C5"),
        _touch("u1", "L2", "2024-02-01", "organic_search"),
        _touch("u2", "L2", "2024-02-10", "direct", None, "sales"),
        _touch("v1", "L3", "2024-03-01", "paid_search", "C1"),
        _touch("v2", "L3", "2024-03-05", "email", "C3"),
        _touch("w1", "L4", "2023-01-01", "paid_social", "C5"),
        _touch("w2", "L4", "2024-04-01", "content", "C6"),
        _touch("x1", "L5", "2024-02-02", "events", "C4"),
    ]
    leads = [
        _lead("L1", "2024-01-10"),
        _lead("L2", "2024-02-01"),
        _lead("L3", "2024-03-01"),
        _lead("L4", "2024-03-25"),
        _lead("L5", "2024-02-01"),
    ]
    opps = [
        _opp("O1", "L1", "2024-02-01", "2024-03-01", 1000.0),
        _opp("O2", "L2", "2024-02-10", "2024-02-20", 500.0),
        _opp("O4", "L4", "2024-04-05", "2024-04-10", 200.0),
        _opp("O5", "L5", "2024-02-05", "2024-03-01", 999.0, deal_type="renewal"),
    ]
    ledger = [_ledger("e1", "L1", "mql", "2024-01-15"), _ledger("e2", "L2", "mql", "2024-02-12")]
    spend = [
        {"date": "2024-01-05", "channel": "paid_search", "campaign_id": "C1", "amount": 300.0},
        {"date": "2024-01-05", "channel": "webinar", "campaign_id": "C2", "amount": 200.0},
        {"date": "2024-02-05", "channel": "events", "campaign_id": "C4", "amount": 100.0},
        {"date": "2023-12-31", "channel": "events", "campaign_id": "C4", "amount": 50.0},
        {"date": "2024-01-31", "channel": None, "campaign_id": None, "department": "sales", "amount": 5000.0},
    ]
    return {
        "touchpoints": _frame("touchpoints", touches),
        "leads": _frame("leads", leads),
        "opportunities": _frame("opportunities", opps),
        "ledger": _frame("ledger", ledger),
        "spend": _frame("spend", spend),
    }


def load(engine, tables: dict[str, pd.DataFrame] | None = None) -> None:
    for name, df in (tables or tiny_company()).items():
        engine.write(name, df, schema=canonical_table(name).schema)
