"""Small look-ups about one subject a person points at (a lead, a record, a rep's team), for disputes and the like.

Each filters the canonical tables in the engine down to a row or a handful (never pulls a fact table) and returns
plain values, so the server can check what a user names without writing a query of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from revalign.analytics.records import RECORD_TABLES
from revalign.analytics.scoring.feedback import decisions
from revalign.model.access import Tables


@dataclass(frozen=True)
class RecordFound:
    """A record that exists, and its owner (a ``users.user_id``, or None)."""

    owner: str | None


@dataclass(frozen=True)
class LeadDecision:
    """Sales' latest decision on a lead (``accepted``, ``rejected``, or None: none yet), its reason and the lead's
    owner."""

    decision: str | None
    reason: str | None
    owner: str | None


def _text(value: object) -> str | None:
    return str(value) if isinstance(value, str) and value else None


def find_record(tables: Tables, table: str, record_id: str) -> RecordFound | None:
    """The record of ``table`` (one of :data:`RECORD_TABLES` with a key) whose key is ``record_id``, or None."""
    spec = RECORD_TABLES[table]
    if not spec.key or not tables.has(table):
        return None
    t = tables.table(table)
    owner = spec.owner or spec.key[0]
    frame = tables.to_pandas(t.filter(t[spec.key[0]] == record_id).select(spec.key[0], owner).limit(1))
    if frame.empty:
        return None
    return RecordFound(owner=_text(frame.iloc[0][owner]) if spec.owner else None)


def lead_decision(tables: Tables, lead_id: str) -> LeadDecision | None:
    """Sales' latest decision on lead ``lead_id`` (from the ledger), or None when there is no such lead."""
    found = find_record(tables, "leads", lead_id)
    if found is None:
        return None
    if not tables.has("ledger"):
        return LeadDecision(None, None, found.owner)
    dec = decisions(tables)
    frame = tables.to_pandas(dec.filter(dec["__lead"] == lead_id).select("decision", "reason"))
    if frame.empty:
        return LeadDecision(None, None, found.owner)
    return LeadDecision(_text(frame.iloc[0]["decision"]), _text(frame.iloc[0]["reason"]), found.owner)


def team_mates(tables: Tables, user_id: str) -> frozenset[str]:
    """``user_id`` and everyone in the same team (``users.team_id``); just ``user_id`` when they have no team."""
    if not tables.has("users"):
        return frozenset({user_id})
    users = tables.table("users")
    mine = tables.to_pandas(users.filter(users.user_id == user_id).select("team_id"))["team_id"].dropna()
    if mine.empty:
        return frozenset({user_id})
    mates = tables.to_pandas(users.filter(users.team_id == str(mine.iloc[0])).select("user_id"))
    return frozenset({user_id, *mates["user_id"].dropna().astype(str)})


__all__ = ["LeadDecision", "RecordFound", "find_record", "lead_decision", "team_mates"]
