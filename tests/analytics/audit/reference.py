"""Plain-pandas implementations of the two headline detectors, written from docs/audit.md's rules alone.

They are the independent check of the Ibis detectors (tests/analytics/audit/test_reference.py) and the baseline
of the audit benchmark (bench/bench_audit.py). They return the columns a reviewer relies on: ``entity_id``,
``related_id``, ``channel_from``, ``channel_to``, ``revenue_at_stake`` (and ``occurred_at``), one row per finding.
"""

from __future__ import annotations

import pandas as pd

SALES = {"outbound_sales"}
PAIR_HOURS = 24.0
WINDOW_DAYS = 45.0
COLUMNS = ["entity_id", "related_id", "channel_from", "channel_to", "revenue_at_stake", "occurred_at"]


def _won(opps: pd.DataFrame) -> pd.Series:
    return opps["amount"].fillna(0.0).where(opps["is_won"].astype(bool), 0.0)


def _first_opportunity(opps: pd.DataFrame) -> pd.DataFrame:
    o = opps[opps["lead_id"].notna()].sort_values(["lead_id", "created_at", "opportunity_id"])
    o = o.drop_duplicates("lead_id")
    return pd.DataFrame(
        {"lead_id": o["lead_id"], "opp": o["opportunity_id"], "opp_created": o["created_at"], "won": _won(o)}
    )


def _source_changes(ledger: pd.DataFrame, entity_type: str) -> pd.DataFrame:
    c = ledger[
        (ledger["kind"] == "field")
        & (ledger["name"] == "lead_source")
        & (ledger["entity_type"] == entity_type)
        & ledger["old_value"].notna()
        & ledger["new_value"].notna()
    ]
    return c[c["old_value"] != c["new_value"]]


def overwrites(ledger: pd.DataFrame, opps: pd.DataFrame) -> pd.DataFrame:
    """Lead source changes after the MQL or the opportunity; an opportunity's copy of a lead's change once."""
    lc = ledger[(ledger["kind"] == "lifecycle") & (ledger["entity_type"] == "lead") & (ledger["name"] == "mql")]
    mql = lc.groupby("entity_id")["occurred_at"].min().rename("mql")
    first = _first_opportunity(opps).set_index("lead_id")
    c = _source_changes(ledger, "lead").join(mql, on="entity_id").join(first, on="entity_id")
    c = c[(c["occurred_at"] > c["mql"]) | (c["occurred_at"] > c["opp_created"])]
    oc = _source_changes(ledger, "opportunity")
    pair = c[["opp", "new_value", "occurred_at"]].merge(
        oc[["entity_id", "new_value", "occurred_at", "event_id"]],
        left_on=["opp", "new_value"],
        right_on=["entity_id", "new_value"],
        suffixes=("", "_opp"),
    )
    near = (pair["occurred_at_opp"] - pair["occurred_at"]).abs() <= pd.Timedelta(hours=PAIR_HOURS)
    oc = oc[~oc["event_id"].isin(pair.loc[near, "event_id"])]
    o = opps.set_index("opportunity_id")
    oc = oc.join(o[["lead_id", "created_at"]], on="entity_id").assign(won=oc["entity_id"].map(_won(o)))
    oc = oc[oc["occurred_at"] > oc["created_at"]]
    leads = pd.DataFrame(
        {
            "entity_id": c["entity_id"],
            "related_id": c["opp"],
            "channel_from": c["old_value"],
            "channel_to": c["new_value"],
            "revenue_at_stake": c["won"].fillna(0.0),
            "occurred_at": c["occurred_at"],
        }
    )
    own = pd.DataFrame(
        {
            "entity_id": oc["entity_id"],
            "related_id": oc["lead_id"],
            "channel_from": oc["old_value"],
            "channel_to": oc["new_value"],
            "revenue_at_stake": oc["won"],
            "occurred_at": oc["occurred_at"],
        }
    )
    return pd.concat([leads, own], ignore_index=True)[COLUMNS]


def _people(ledger: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
    email = leads["email"].str.strip().str.lower().str.replace(r"\+[^@]*@", "@", regex=True)
    local = email.str.extract(r"^([^@]*)@", expand=False).str.replace(r"[._-]", "", regex=True)
    changes = _source_changes(ledger, "lead").sort_values(["entity_id", "occurred_at", "event_id"])
    original = changes.drop_duplicates("entity_id").set_index("entity_id")["old_value"]
    return pd.DataFrame(
        {
            "lead_id": leads["lead_id"],
            "email": email,
            "alias": local + "@" + leads["account_id"],
            "source": leads["lead_id"].map(original).fillna(leads["lead_source"]),
            "current_source": leads["lead_source"],
            "owner_id": leads["owner_id"],
            "created_at": leads["created_at"],
        }
    )


def recreations(ledger: pd.DataFrame, leads: pd.DataFrame, opps: pd.DataFrame) -> pd.DataFrame:
    """New leads of the same person (email, or alias at the account) within the window after a no-opportunity
    close, owned, under another source or owner; one per new lead (email before alias, then the latest close)."""
    people = _people(ledger, leads)
    closes = ledger[
        (ledger["kind"] == "lifecycle") & (ledger["entity_type"] == "lead") & (ledger["reason"] == "no_opportunity")
    ][["entity_id", "occurred_at"]].rename(columns={"entity_id": "orig", "occurred_at": "closed"})
    old = closes.merge(people, left_on="orig", right_on="lead_id").drop(columns=["lead_id", "current_source"])
    new = people[people["owner_id"].notna()]
    parts = []
    for key, rank in (("email", 0), ("alias", 1)):
        m = old[old[key].notna()].merge(new, on=key, suffixes=("_o", ""))
        parts.append(m.assign(rank=rank))
    m = pd.concat(parts, ignore_index=True)
    window = pd.Timedelta(days=WINDOW_DAYS)
    m = m[(m["lead_id"] != m["orig"]) & (m["created_at"] > m["closed"]) & (m["created_at"] <= m["closed"] + window)]
    moved = (m["current_source"] != m["source_o"]) | m["owner_id_o"].isna() | (m["owner_id"] != m["owner_id_o"])
    m = m[moved].sort_values(["lead_id", "rank", "closed", "orig"], ascending=[True, True, False, True])
    m = m.drop_duplicates("lead_id")
    won = _first_opportunity(opps).set_index("lead_id")["won"]
    return pd.DataFrame(
        {
            "entity_id": m["lead_id"],
            "related_id": m["orig"],
            "channel_from": m["source_o"],
            "channel_to": m["current_source"],
            "revenue_at_stake": m["lead_id"].map(won).fillna(0.0),
            "occurred_at": m["created_at"],
        }
    )[COLUMNS].reset_index(drop=True)
