"""The pipeline waterfall on a hand-worked book, on DuckDB, PostgreSQL and Spark: each week's opening, flows and
closing, and the moves inside the pipeline (advanced, pushed out, pulled in), worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from revalign.analytics.waterfall import pipeline_waterfall
from revalign.model.access import Tables
from tests.analytics.funnel.builders import write


@pytest.fixture
def book(engine):
    """P 100 created Tue 2024-01-02, edited to 150 on 01-09, won 01-10; Q 200 created 2023-12-20 (open before),
    advanced 01-03, close date pushed on 01-12 from 03-31 (in Q1) to 06-30 (out of it), lost 01-16; R 50 created
    01-15, close date pulled in on 01-17 from 05-15 to 02-28. Weeks of 2024-01-01, 01-08 and 01-15. R's amount
    also has the row a CRM's property history writes at creation (no old value, e5): the value it was created
    with, not an edit, so R is still created at 50 with no amount change."""
    write(
        engine,
        opportunities=[
            {
                "opportunity_id": "P",
                "created_at": "2024-01-02",
                "closed_at": "2024-01-10",
                "is_closed": True,
                "is_won": True,
                "amount": 150.0,
                "deal_type": "new_business",
                "stage": "closed_won",
            },
            {
                "opportunity_id": "Q",
                "created_at": "2023-12-20",
                "closed_at": "2024-01-16",
                "is_closed": True,
                "is_won": False,
                "amount": 200.0,
                "deal_type": "new_business",
                "stage": "closed_lost",
            },
            {
                "opportunity_id": "R",
                "created_at": "2024-01-15",
                "amount": 50.0,
                "deal_type": "new_business",
                "stage": "discovery",
            },
        ],
        ledger=[
            {
                "event_id": "e1",
                "entity_type": "opportunity",
                "entity_id": "P",
                "kind": "field",
                "name": "amount",
                "old_value": "100.0",
                "new_value": "150.0",
                "occurred_at": "2024-01-09",
                "recorded_at": "2024-01-09",
            },
            {
                "event_id": "e2",
                "entity_type": "opportunity",
                "entity_id": "Q",
                "kind": "stage",
                "name": "solution",
                "old_value": "discovery",
                "new_value": "solution",
                "occurred_at": "2024-01-03",
                "recorded_at": "2024-01-03",
            },
            {
                "event_id": "e3",
                "entity_type": "opportunity",
                "entity_id": "Q",
                "kind": "field",
                "name": "close_date",
                "old_value": "2024-03-31",
                "new_value": "2024-06-30",
                "occurred_at": "2024-01-12",
                "recorded_at": "2024-01-12",
            },
            {
                "event_id": "e4",
                "entity_type": "opportunity",
                "entity_id": "R",
                "kind": "field",
                "name": "close_date",
                "old_value": "2024-05-15",
                "new_value": "2024-02-28",
                "occurred_at": "2024-01-17",
                "recorded_at": "2024-01-17",
            },
            {
                "event_id": "e5",
                "entity_type": "opportunity",
                "entity_id": "R",
                "kind": "field",
                "name": "amount",
                "old_value": None,
                "new_value": "50.0",
                "occurred_at": "2024-01-15",
                "recorded_at": "2024-01-15",
            },
        ],
    )
    return Tables(engine)


def test_hand_worked_weeks(book):
    w = pipeline_waterfall(book, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 22)).frame
    cols = ["opening", "created", "amount_changed", "won", "lost", "closing", "advanced", "pushed_out", "pulled_in"]
    assert w[cols].to_numpy().tolist() == [
        [200.0, 100.0, 0.0, 0.0, 0.0, 300.0, 200.0, 0.0, 0.0],  # P created at 100; Q advanced
        [300.0, 0.0, 50.0, 150.0, 0.0, 200.0, 0.0, 200.0, 0.0],  # P edited to 150, won at 150; Q pushed out
        [200.0, 50.0, 0.0, 0.0, 200.0, 50.0, 0.0, 0.0, 50.0],  # R created and pulled in, Q lost
    ]


def test_the_bridge_of_the_three_weeks(book):
    # opening 200 (Q); created 100 (P) + 50 (R); amount +50 (P); won −150 (P); lost −200 (Q); closing 50 (R)
    w = pipeline_waterfall(book, start=dt.date(2024, 1, 1), end=dt.date(2024, 1, 22))
    bridge = w.bridge()
    assert bridge["movement"].tolist() == ["opening", "created", "amount_changed", "won", "lost", "closing"]
    assert bridge["label"].tolist() == ["Opening", "Created", "Amount changed", "Won", "Lost", "Closing"]
    assert bridge["measure"].tolist() == ["absolute", *["relative"] * 4, "total"]
    assert bridge["amount"].tolist() == [200.0, 150.0, 50.0, -150.0, -200.0, 50.0]
