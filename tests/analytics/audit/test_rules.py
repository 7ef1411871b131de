"""Each detector's rules on hand-worked tiny ledgers: what is a finding, what is not, and every column of it.

Every expected value below is read off the fixture by hand (the arithmetic is in the comments); the edge cases are
the ones the rules exist for: an overwrite before the MQL is marketing's cleanup, a re-creation after the window
is a returning lead, a free-mail domain ties no accounts together, a renewal's short process is no skip.
"""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.analytics.audit.detect import detect
from revalign.definitions.audit import AuditSettings
from revalign.engine import Engine
from revalign.model.access import Tables
from tests.analytics.audit.builders import ev, event_ids, write


def found(engine: Engine, kind: str, settings: AuditSettings | None = None) -> pd.DataFrame:
    return detect(Tables(engine), settings, kinds=kind)


def one(frame: pd.DataFrame, entity_id: str) -> pd.Series:
    rows = frame[frame["entity_id"] == entity_id]
    assert len(rows) == 1, frame
    return rows.iloc[0]


# -- lead_source_overwrite -----------------------------------------------------------------------------------------
OVERWRITE_LEDGER = [
    ev("lead", "L1", "lifecycle", "mql", "2025-01-10"),
    ev("lead", "L1", "field", "lead_source", "2025-01-20", old="webinar", new="outbound_sales", actor="U1"),
    ev("opportunity", "O1", "field", "lead_source", "2025-01-20", old="webinar", new="outbound_sales", actor="U1"),
    # L2: changed five days before its MQL: marketing ops cleaning the record, not gaming
    ev("lead", "L2", "field", "lead_source", "2025-01-05", old="paid_search", new="email", actor="U9"),
    ev("lead", "L2", "lifecycle", "mql", "2025-01-10"),
    # L3: no MQL, but changed after its opportunity (Feb 1) was created; between two marketing channels
    ev("lead", "L3", "field", "lead_source", "2025-02-03", old="paid_search", new="email", actor="U2"),
    # O4: the opportunity alone changed, after it was created (its lead L4 never changed)
    ev("opportunity", "O4", "field", "lead_source", "2025-03-05", old="events", new="outbound_sales", actor="U3"),
]


@pytest.fixture
def overwrites(duckdb_engine: Engine) -> pd.DataFrame:
    write(
        duckdb_engine,
        leads=[{"lead_id": lead} for lead in ("L1", "L2", "L3", "L4")],
        opportunities=[
            {"opportunity_id": "O1", "lead_id": "L1", "created_at": "2025-01-15", "is_won": True, "amount": 10000.0},
            {"opportunity_id": "O3", "lead_id": "L3", "created_at": "2025-02-01", "amount": 7000.0},
            {"opportunity_id": "O4", "lead_id": "L4", "created_at": "2025-03-01", "is_won": True, "amount": 2500.0},
        ],
        ledger=OVERWRITE_LEDGER,
    )
    return found(duckdb_engine, "lead_source_overwrite")


def test_overwrite_after_mql_is_reported_once_on_the_lead(overwrites: pd.DataFrame) -> None:
    assert sorted(overwrites["entity_id"]) == ["L1", "L3", "O4"]  # L2 (before its MQL) is not gaming
    f = one(overwrites, "L1")
    assert (f.entity_type, f.related_id, f.opportunity_id, f.actor_id) == ("lead", "O1", "O1", "U1")
    assert (f.channel_from, f.channel_to, f.confidence) == ("webinar", "outbound_sales", 0.95)
    assert f.revenue_at_stake == 10000.0  # O1 won
    assert f.evidence == event_ids(OVERWRITE_LEDGER, 1, 2)  # the opportunity's copy joins the lead's finding
    assert f.occurred_at == pd.Timestamp("2025-01-20")


def test_overwrite_after_the_opportunity_between_marketing_channels(overwrites: pd.DataFrame) -> None:
    f = one(overwrites, "L3")
    assert (f.related_id, f.channel_from, f.channel_to) == ("O3", "paid_search", "email")
    assert f.confidence == 0.7  # not marketing → sales
    assert f.revenue_at_stake == 0.0  # O3 is open


def test_an_opportunity_changed_alone_is_reported_on_the_opportunity(overwrites: pd.DataFrame) -> None:
    f = one(overwrites, "O4")
    assert (f.entity_type, f.related_id, f.opportunity_id) == ("opportunity", "L4", "O4")
    assert (f.channel_from, f.channel_to, f.revenue_at_stake) == ("events", "outbound_sales", 2500.0)


# -- no_opportunity_recreate ---------------------------------------------------------------------------------------
def _lead(lead: str, email: str, account: str, source: str, owner: str, created: str) -> dict[str, object]:
    return {
        "lead_id": lead,
        "email": email,
        "account_id": account,
        "lead_source": source,
        "owner_id": owner,
        "created_at": created,
    }


RECREATE_LEADS = [
    _lead("L1", "Pat@Acme.com", "A1", "webinar", "U1", "2025-01-02"),
    _lead("L2", "pat+new@acme.com", "A1", "outbound_sales", "U2", "2025-03-20"),  # 19 days after L1's close
    _lead("L3", "sam@beta.com", "A2", "events", "U1", "2025-01-02"),
    _lead("L4", "sam@beta.com", "A2", "outbound_sales", "U2", "2025-05-01"),  # 61 days after: past the 45-day window
    _lead("L5", "kim@gamma.com", "A3", "email", "U1", "2025-01-02"),
    _lead("L6", "kim@gamma.com", "A3", "outbound_sales", "U2", "2025-03-10"),  # L5 closed for no_budget: no trick
    _lead("L7", "jo.smith@delta.com", "A4", "outbound_sales", "U1", "2025-01-02"),  # overwritten before its close
    _lead("L8", "josmith@delta.com", "A4", "outbound_sales", "U3", "2025-03-05"),  # an alias of L7 at A4
    _lead("L9", "lee@eps.com", "A5", "content", "U1", "2025-01-02"),
    _lead("L10", "lee@eps.com", "A5", "content", None, "2025-03-05"),  # unowned: marketing captured lee again
]
RECREATE_LEDGER = [
    ev("lead", "L1", "lifecycle", "disqualified", "2025-03-01", reason="no_opportunity", actor="U1"),
    ev("lead", "L2", "lifecycle", "lead", "2025-03-20", actor="U2"),
    ev("lead", "L3", "lifecycle", "disqualified", "2025-03-01", reason="no_opportunity", actor="U1"),
    ev("lead", "L5", "lifecycle", "disqualified", "2025-03-01", reason="no_budget", actor="U1"),
    ev("lead", "L7", "field", "lead_source", "2025-02-10", old="paid_social", new="outbound_sales", actor="U1"),
    ev("lead", "L7", "lifecycle", "disqualified", "2025-03-01", reason="no_opportunity", actor="U1"),
    ev("lead", "L9", "lifecycle", "disqualified", "2025-03-01", reason="no_opportunity", actor="U1"),
]


@pytest.fixture
def recreated(duckdb_engine: Engine) -> Engine:
    write(
        duckdb_engine,
        leads=RECREATE_LEADS,
        opportunities=[
            {"opportunity_id": "O2", "lead_id": "L2", "created_at": "2025-03-21", "is_won": True, "amount": 5000.0}
        ],
        ledger=RECREATE_LEDGER,
    )
    return duckdb_engine


def test_recreation_of_the_same_person_within_the_window(recreated: Engine) -> None:
    frame = found(recreated, "no_opportunity_recreate")
    assert sorted(frame["entity_id"]) == ["L2", "L8"]  # not L4 (too late), L6 (no_budget), L10 (unowned)
    f = one(frame, "L2")
    assert (f.related_id, f.actor_id, f.confidence) == ("L1", "U2", 0.95)  # email equal once case and +tag go
    assert (f.channel_from, f.channel_to) == ("webinar", "outbound_sales")
    assert (f.opportunity_id, f.revenue_at_stake) == ("O2", 5000.0)
    assert f.evidence == event_ids(RECREATE_LEDGER, 0, 1)
    g = one(frame, "L8")
    assert (g.related_id, g.confidence) == ("L7", 0.85)  # an alias at the same account
    assert g.channel_from == "paid_social"  # L7's source before the overwrite, not its current outbound_sales


def test_recreation_window_is_a_setting(recreated: Engine) -> None:
    wide = AuditSettings.model_validate({"no_opportunity_recreate": {"window_days": 90}})
    assert "L4" in set(found(recreated, "no_opportunity_recreate", wide)["entity_id"])  # 61 days ≤ 90


def test_a_recreation_is_not_also_a_duplicate(recreated: Engine) -> None:
    frame = found(recreated, "duplicate_lead")
    pairs = set(zip(frame["entity_id"], frame["related_id"], strict=True))
    # L4, L6 and L10 are the same people entered again; L2 and L8 are reported as re-creations instead
    assert pairs == {("L4", "L3"), ("L6", "L5"), ("L10", "L9")}


# -- duplicate_lead ------------------------------------------------------------------------------------------------
def test_duplicate_leads_survivor_is_the_first_created(duckdb_engine: Engine) -> None:
    write(
        duckdb_engine,
        leads=[
            {"lead_id": "L1", "email": "a@x.com", "created_at": "2025-01-01", "lead_source": "webinar"},
            {"lead_id": "L2", "email": " A+crm@X.com", "created_at": "2025-02-01", "lead_source": "paid_search"},
            {"lead_id": "L3", "email": "a@x.com", "created_at": "2025-03-01"},
            {"lead_id": "L4", "email": "b@x.com", "created_at": "2025-01-01"},
        ],
    )
    frame = found(duckdb_engine, "duplicate_lead")
    assert set(zip(frame["entity_id"], frame["related_id"], strict=True)) == {("L2", "L1"), ("L3", "L1")}
    f = one(frame, "L2")
    assert (f.channel_from, f.channel_to, f.confidence) == ("webinar", "paid_search", 0.95)


# -- duplicate_account ---------------------------------------------------------------------------------------------
ACCOUNTS = [
    ("A1", "Acme Inc", "2025-01-01"),
    ("A2", "ACME, Inc.", "2025-02-01"),  # Acme again, a domain shared with A1
    ("A3", "Beta Labs", "2025-01-01"),
    ("A4", "Zeta Systems", "2025-02-01"),  # shares only gmail.com with A3
    ("A5", "Gamma Labs", "2025-01-01"),
    ("A6", "Gamma Labs", "2025-02-01"),  # the same name, no shared domain
    ("A7", "Delta Corp", "2025-01-01"),
    ("A8", "Omega Ltd", "2025-02-01"),  # shares d.com with A7, but another name
]
ACCOUNT_LEADS = [
    ("L1", "A1", "pat@acme.com"),
    ("L2", "A2", "sam@ACME.com"),
    ("L3", "A3", "x@gmail.com"),
    ("L4", "A4", "y@gmail.com"),
    ("L5", "A5", "a@gamma.io"),
    ("L6", "A6", "b@gamma-labs.com"),
    ("L7", "A7", "c@d.com"),
    ("L8", "A8", "e@d.com"),
]


@pytest.fixture
def accounts(duckdb_engine: Engine) -> Engine:
    write(
        duckdb_engine,
        accounts=[{"account_id": a, "name": n, "created_at": pd.Timestamp(t)} for a, n, t in ACCOUNTS],
        leads=[{"lead_id": lead, "account_id": a, "email": e} for lead, a, e in ACCOUNT_LEADS],
    )
    return duckdb_engine


def test_duplicate_accounts_by_shared_domain_and_similar_name(accounts: Engine) -> None:
    frame = found(accounts, "duplicate_account")
    assert list(zip(frame["entity_id"], frame["related_id"], strict=True)) == [("A2", "A1")]
    assert one(frame, "A2").confidence == 0.95  # 'acme inc' vs 'acme inc': similarity 100, capped for a domain pair


def test_duplicate_accounts_by_name_alone_when_asked(accounts: Engine) -> None:
    names = AuditSettings.model_validate({"duplicate_account": {"match_names_without_domain": True}})
    frame = found(accounts, "duplicate_account", names)
    assert set(zip(frame["entity_id"], frame["related_id"], strict=True)) == {("A2", "A1"), ("A6", "A5")}
    assert one(frame, "A6").confidence == 0.6  # a name-only pair is capped at 0.6


# -- close_date_push -----------------------------------------------------------------------------------------------
PUSH_LEDGER = [
    ev("opportunity", "O1", "field", "close_date", "2025-03-31 17:00", old="2025-03-31", new="2025-06-30", actor="U1"),
    ev("opportunity", "O1", "field", "close_date", "2025-06-30 17:00", old="2025-06-30", new="2025-09-30", actor="U2"),
    ev("opportunity", "O2", "field", "close_date", "2025-03-31 17:00", old="2025-03-31", new="2025-05-15"),
    ev("opportunity", "O3", "field", "close_date", "2025-04-10", old="2025-04-10", new="2025-04-30"),
    ev("opportunity", "O3", "field", "close_date", "2025-04-30", old="2025-04-30", new="2025-05-15"),
]


def test_close_date_pushed_twice_into_later_quarters(duckdb_engine: Engine) -> None:
    write(duckdb_engine, opportunities=[{"opportunity_id": o} for o in ("O1", "O2", "O3")], ledger=PUSH_LEDGER)
    frame = found(duckdb_engine, "close_date_push")
    assert list(frame["entity_id"]) == ["O1"]  # O2 slipped once; O3 moved within Q2 twice
    f = one(frame, "O1")
    assert (f.actor_id, f.occurred_at, f.confidence) == ("U2", pd.Timestamp("2025-06-30 17:00"), 0.9)
    assert f.evidence == event_ids(PUSH_LEDGER, 0, 1)


# -- stage_skip ----------------------------------------------------------------------------------------------------
def _stages(opp: str, *path: str) -> list[dict[str, object]]:
    """Stage events of ``opp`` along ``path``, a day apart, each with the stage before it."""
    days = pd.date_range("2025-01-01", periods=len(path), freq="D")
    olds = [None, *path[:-1]]
    return [ev("opportunity", opp, "stage", s, str(d), old=o) for s, d, o in zip(path, days, olds, strict=True)]


def test_stage_skip_on_won_new_business(duckdb_engine: Engine) -> None:
    ledger = [
        *_stages("O1", "discovery", "qualification", "proposal", "negotiation", "closed_won"),  # skipped solution
        *_stages("O2", "proposal", "closed_won"),  # a renewal: created in discovery, straight to proposal
        *_stages("O3", "discovery", "proposal"),  # open new business: not yet
        *_stages("O4", "solution", "proposal", "negotiation", "closed_won"),  # first recorded mid-process
    ]
    ledger[len(_stages("O1", *["x"] * 5))]["old_value"] = "discovery"  # O2 left discovery
    write(
        duckdb_engine,
        opportunities=[
            {"opportunity_id": "O1", "deal_type": "new_business", "is_won": True, "is_closed": True, "amount": 9.0},
            {"opportunity_id": "O2", "deal_type": "renewal", "is_won": True, "is_closed": True},
            {"opportunity_id": "O3", "deal_type": "new_business"},
            {"opportunity_id": "O4", "deal_type": "new_business", "is_won": True, "is_closed": True},
        ],
        ledger=ledger,
    )
    frame = found(duckdb_engine, "stage_skip")
    assert list(frame["entity_id"]) == ["O1"]
    f = one(frame, "O1")
    assert (f.occurred_at, f.confidence, f.revenue_at_stake) == (pd.Timestamp("2025-01-05"), 0.9, 9.0)
    assert f.evidence == ",".join(e["event_id"] for e in ledger[:5])
    everything = AuditSettings.model_validate({"stage_skip": {"won_only": False, "deal_types": ["new_business"]}})
    assert sorted(found(duckdb_engine, "stage_skip", everything)["entity_id"]) == ["O1", "O3"]


# -- backdated_change ----------------------------------------------------------------------------------------------
def test_backdated_changes_of_money_fields(duckdb_engine: Engine) -> None:
    ledger = [
        ev("opportunity", "O1", "field", "amount", "2025-01-01", old="1", new="2", actor="U1", recorded="2025-01-06"),
        ev("opportunity", "O2", "field", "amount", "2025-01-01", old="1", new="2", recorded="2025-01-01 02:00"),
        ev("opportunity", "O3", "stage", "closed_won", "2025-01-01", old="negotiation", recorded="2025-01-11"),
        ev("lead", "L1", "lifecycle", "mql", "2025-01-01", recorded="2025-01-20"),  # not a money field
    ]
    write(duckdb_engine, ledger=ledger)
    frame = found(duckdb_engine, "backdated_change")
    assert list(frame["entity_id"]) == ["O1", "O3"]
    assert one(frame, "O1").confidence == 0.6  # 5 days: past 3, not past 6
    assert one(frame, "O3").confidence == 0.8  # 10 days: past twice the threshold


# -- owner_flip_before_close ---------------------------------------------------------------------------------------
def test_owner_flip_within_two_weeks_of_a_win(duckdb_engine: Engine) -> None:
    won = {"is_won": True, "is_closed": True, "closed_at": pd.Timestamp("2025-05-20"), "amount": 4000.0}
    write(
        duckdb_engine,
        opportunities=[
            {"opportunity_id": "O1", **won},
            {"opportunity_id": "O2", **won},
            {"opportunity_id": "O3", "is_closed": True, "closed_at": pd.Timestamp("2025-05-20")},  # lost
        ],
        ledger=[
            ev("opportunity", "O1", "field", "owner_id", "2025-05-15", old="U1", new="U2", actor="U2"),  # 5 days before
            ev("opportunity", "O2", "field", "owner_id", "2025-04-20", old="U1", new="U2"),  # 30 days before
            ev("opportunity", "O3", "field", "owner_id", "2025-05-15", old="U1", new="U2"),
        ],
    )
    frame = found(duckdb_engine, "owner_flip_before_close")
    assert list(frame["entity_id"]) == ["O1"]
    f = one(frame, "O1")
    assert (f.actor_id, f.revenue_at_stake, f.confidence) == ("U2", 4000.0, 0.7)
