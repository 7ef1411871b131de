"""Two successive exports of one CRM in the generic layout, with known gaming between them (issue #14).

The customer's path: they export users, accounts, leads and opportunities on 1 March 2025 and again on 1 April
2025, and ingest both folders with the ``generic_crm`` mapping. Between the two exports:

- Sam Seller (AE, ``U2``; his exports write his name in "Last Modified By") re-sources two marketing leads he
  was handed, ``L1`` (Paid Search) and ``L2`` (Webinar), and ``L1``'s opportunity ``O1``, to "Outbound";
- Rita Rep (``U3``) disqualifies the accepted, marketing-sourced lead ``L5`` with reason "No Opportunity", and
  five days later Sam creates the same person (same email, in another case; same account ``A2``) as a new
  outbound lead ``L6`` with an opportunity ``O2`` of his own;
- ``L3`` and ``L4`` do not change (``L4``'s owner is touched by nobody), and ``A1``–``A3`` neither.

:data:`CHANGES` is what the second load must add to the ledger, read off the two texts below; :data:`FINDINGS` is
what an audit of the merged ledger must report for the two headline kinds (``L6`` is also, by construction, a
duplicate of ``L5`` by email: a ``duplicate_lead`` detector may rightly report that pair too). With
``history=True`` the second folder also holds a ``field_history.csv`` that recorded ``L1``'s change exactly (a
minute-precise time, Sam's user id): that change is then one exact event instead of a between-exports one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

EXPORTED = (pd.Timestamp("2025-03-01 06:00:00"), pd.Timestamp("2025-04-01 06:00:00"))
"""When each export was taken (the files' modification times)."""

USERS = """User ID,Name,Email,Role,Department
U1,Maya Marketing,maya@corp.example,marketer,Marketing
U2,Sam Seller,sam@corp.example,ae,Sales
U3,Rita Rep,rita@corp.example,sdr,Sales
"""

ACCOUNTS = """Account ID,Account Name,Segment,Owner ID,Created Date,Last Modified Date,Last Modified By
A1,Acme,SMB,U2,2025-01-05,2025-01-05 10:00:00,Maya Marketing
A2,Globex,Mid-Market,U2,2025-01-06,2025-01-06 10:00:00,Maya Marketing
A3,Initech,Enterprise,U3,2025-01-07,2025-01-07 10:00:00,Maya Marketing
"""

LEAD_HEADER = (
    "Lead ID,Email,Account ID,Created Date,Lead Source,Owner ID,Lifecycle Stage,Disqualified Reason,"
    "Last Modified Date,Last Modified By\n"
)
LEADS_V1 = LEAD_HEADER + (
    "L1,ann@acme.example,A1,2025-01-10 09:00:00,Paid Search,U2,Accepted,,2025-02-01 10:00:00,Maya Marketing\n"
    "L2,bob@globex.example,A2,2025-01-11 09:00:00,Webinar,U2,Accepted,,2025-02-02 10:00:00,Maya Marketing\n"
    "L3,cat@initech.example,A3,2025-01-12 09:00:00,Organic Search,U3,Accepted,,2025-02-03 10:00:00,Maya Marketing\n"
    "L4,dan@acme.example,A1,2025-01-13 09:00:00,Email,U3,MQL,,2025-02-04 10:00:00,Maya Marketing\n"
    "L5,eve@globex.example,A2,2025-01-14 09:00:00,Paid Social,U3,Accepted,,2025-02-05 10:00:00,Maya Marketing\n"
)
LEADS_V2 = LEAD_HEADER + (
    "L1,ann@acme.example,A1,2025-01-10 09:00:00,Outbound,U2,Accepted,,2025-03-10 09:00:00,Sam Seller\n"
    "L2,bob@globex.example,A2,2025-01-11 09:00:00,Outbound,U2,Accepted,,2025-03-12 11:30:00,Sam Seller\n"
    "L3,cat@initech.example,A3,2025-01-12 09:00:00,Organic Search,U3,Accepted,,2025-02-03 10:00:00,Maya Marketing\n"
    "L4,dan@acme.example,A1,2025-01-13 09:00:00,Email,U3,MQL,,2025-02-04 10:00:00,Maya Marketing\n"
    "L5,eve@globex.example,A2,2025-01-14 09:00:00,Paid Social,U3,Disqualified,No Opportunity,"
    "2025-03-15 16:00:00,Rita Rep\n"
    "L6,Eve@Globex.example,A2,2025-03-20 10:00:00,Outbound,U2,Opportunity,,2025-03-21 12:00:00,Sam Seller\n"
)

OPP_HEADER = (
    "Opportunity ID,Account ID,Lead ID,Owner ID,Created Date,Close Date,Stage,Amount,Lead Source,"
    "Last Modified Date,Last Modified By\n"
)
OPPORTUNITIES_V1 = OPP_HEADER + (
    "O1,A1,L1,U2,2025-02-10 09:00:00,2025-05-30,Discovery,25000,Paid Search,2025-02-10 09:00:00,Sam Seller\n"
)
OPPORTUNITIES_V2 = OPP_HEADER + (
    "O1,A1,L1,U2,2025-02-10 09:00:00,2025-05-30,Discovery,25000,Outbound,2025-03-10 09:05:00,Sam Seller\n"
    "O2,A2,L6,U2,2025-03-21 12:00:00,2025-06-30,Qualification,40000,Outbound,2025-03-21 12:00:00,Sam Seller\n"
)

FIELD_HISTORY = """Object,Record ID,Field,Old Value,New Value,Changed By,Changed Date
Lead,L1,Lead Source,Paid Search,Outbound,U2,2025-03-09 14:22:00
"""
"""Salesforce-like LeadHistory rows, in the generic layout: the CRM recorded L1's re-sourcing to the minute."""

CHANGE_COLUMNS = [
    "entity_type",
    "entity_id",
    "kind",
    "name",
    "old_value",
    "new_value",
    "reason",
    "actor_id",
    "occurred_at",
    "time_precision",
]
CHANGES = [
    ("lead", "L1", "field", "lead_source", "paid_search", "outbound_sales", None, "U2", "2025-03-10 09:00:00",
     "between_exports"),
    ("lead", "L2", "field", "lead_source", "webinar", "outbound_sales", None, "U2", "2025-03-12 11:30:00",
     "between_exports"),
    ("lead", "L5", "lifecycle", "disqualified", "accepted", "disqualified", "no_opportunity", "U3",
     "2025-03-15 16:00:00", "between_exports"),
    ("lead", "L6", "lifecycle", "lead", None, "lead", None, None, "2025-03-20 10:00:00", "exact"),
    ("lead", "L6", "lifecycle", "opportunity", None, "opportunity", None, None, "2025-03-21 12:00:00", "exact"),
    ("opportunity", "O1", "field", "lead_source", "paid_search", "outbound_sales", None, "U2",
     "2025-03-10 09:05:00", "between_exports"),
]  # fmt: skip
"""The ledger rows the second load adds, in :data:`CHANGE_COLUMNS` order (sorted), read off the two exports."""

L1_EXACT = ("lead", "L1", "field", "lead_source", "paid_search", "outbound_sales", None, "U2", "2025-03-09 14:22:00",
            "exact")  # fmt: skip
"""With ``history=True``: L1's change as the field history recorded it (it replaces CHANGES' first row)."""

FINDINGS = {
    "lead_source_overwrite": [("lead", "L1", "O1"), ("lead", "L2", None)],
    "no_opportunity_recreate": [("lead", "L6", "L5")],
}
"""What the audit must find after both loads: (entity_type, entity_id, related_id) per headline kind, as the
simulator labels them (``simulate.gaming``): an overwrite is one finding on the lead, its opportunity (whose source
changed with it) the ``related_id``; a re-creation is the new lead, the disqualified original its ``related_id``.
Every overwrite's actor is ``U2``."""


def write_exports(root: Path, *, history: bool = False) -> tuple[Path, Path]:
    """The two export folders under ``root`` (``2025-03-01`` and ``2025-04-01``), files dated as exported."""
    first = _folder(
        root / "2025-03-01",
        EXPORTED[0],
        {"users.csv": USERS, "accounts.csv": ACCOUNTS, "leads.csv": LEADS_V1, "opportunities.csv": OPPORTUNITIES_V1},
    )
    files = {"users.csv": USERS, "accounts.csv": ACCOUNTS, "leads.csv": LEADS_V2, "opportunities.csv": OPPORTUNITIES_V2}
    if history:
        files["field_history.csv"] = FIELD_HISTORY
    return first, _folder(root / "2025-04-01", EXPORTED[1], files)


def expected_changes(*, history: bool = False) -> list[tuple[object, ...]]:
    """:data:`CHANGES`, with L1's row as the field history recorded it when ``history``."""
    rows = [L1_EXACT, *CHANGES[1:]] if history else list(CHANGES)
    return sorted(rows, key=_order)


def ledger_changes(ledger: pd.DataFrame) -> list[tuple[object, ...]]:
    """Ledger rows in :data:`CHANGE_COLUMNS` order, times as text and nulls as None, sorted like the expectation."""
    frame = ledger[CHANGE_COLUMNS].astype(object)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    rows = [tuple(None if pd.isna(v) else v for v in row) for row in frame.itertuples(index=False)]
    return sorted(rows, key=_order)


def _order(row: tuple[object, ...]) -> tuple[str, ...]:
    return tuple("" if v is None else str(v) for v in row)


def _folder(folder: Path, exported: pd.Timestamp, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = exported.tz_localize("UTC").timestamp()
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        os.utime(path, (stamp, stamp))
    return folder
