"""Findings built from the simulator's ground-truth labels: a perfect detector, to test what reads findings.

Audited credit, the roll-ups and the review workflow must be right whatever the detectors find; testing them on
the labels (``GroundTruth.labels``, the same kind names) keeps their tests independent of the detectors' own
precision and recall.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from revalign.analytics.audit.findings import FINDING_COLUMNS, FINDING_KINDS


def _finding_id(row: pd.Series) -> str:
    text = f"{row['kind']}|{row['entity_id']}|{row['related_id']}|{row['occurred_at']}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _evidence(labels: pd.DataFrame, ledger: pd.DataFrame) -> list[str | None]:
    """The ledger event ids that show each label: the source changes of an overwrite (lead and opportunity),
    the original's disqualification and the new lead's creation for a re-creation; else the entity's events at
    that moment."""
    by_entity = {k: g.sort_values("occurred_at") for k, g in ledger.groupby("entity_id")}
    out: list[str | None] = []
    for row in labels.itertuples():
        ids: list[str] = []
        if row.kind == "lead_source_overwrite":
            for eid in (row.entity_id, row.related_id):
                ev = by_entity.get(eid, ledger.iloc[:0])
                ids += ev.loc[(ev["kind"] == "field") & (ev["name"] == "lead_source"), "event_id"].tolist()
        elif row.kind == "no_opportunity_recreate":
            ev = by_entity.get(row.related_id, ledger.iloc[:0])
            ids += ev.loc[ev["name"] == "disqualified", "event_id"].tolist()
            ev = by_entity.get(row.entity_id, ledger.iloc[:0])
            ids += ev.loc[ev["name"] == "lead", "event_id"].tolist()
        else:
            ev = by_entity.get(row.entity_id, ledger.iloc[:0])
            ids += ev.loc[ev["occurred_at"] == row.occurred_at, "event_id"].tolist()
        out.append(",".join(ids) or None)
    return out


def findings_from_labels(labels: pd.DataFrame, opportunities: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """The labels of every finding kind as a :data:`FINDING_COLUMNS` frame (confidence 1)."""
    lab = labels[labels["kind"].isin(FINDING_KINDS)].reset_index(drop=True)
    opp_of_lead = (
        opportunities.dropna(subset=["lead_id"]).drop_duplicates("lead_id").set_index("lead_id")["opportunity_id"]
    )
    opp = pd.Series(None, index=lab.index, dtype="object")
    ow = lab["kind"] == "lead_source_overwrite"
    opp[ow] = lab.loc[ow, "related_id"]
    rc = lab["kind"] == "no_opportunity_recreate"
    opp[rc] = lab.loc[rc, "entity_id"].map(opp_of_lead)
    on_opp = lab["entity_type"] == "opportunity"
    opp[on_opp] = lab.loc[on_opp, "entity_id"]
    won = opportunities[opportunities["is_won"].fillna(False).astype(bool)].set_index("opportunity_id")["amount"]
    moved = ow | rc
    frame = pd.DataFrame(
        {
            "kind": lab["kind"],
            "entity_type": lab["entity_type"],
            "entity_id": lab["entity_id"],
            "related_id": lab["related_id"],
            "actor_id": lab["actor_id"],
            "occurred_at": pd.to_datetime(lab["occurred_at"]),
            "recorded_at": pd.to_datetime(lab["occurred_at"]),
            "confidence": 1.0,
            "channel_from": lab["original_value"].where(moved),
            "channel_to": lab["new_value"].where(moved),
            "opportunity_id": opp,
            "revenue_at_stake": opp.map(won).fillna(0.0).astype("float64"),
            "evidence": _evidence(lab, ledger),
            "detail": lab["kind"] + " on " + lab["entity_id"],
        }
    )
    frame.insert(0, "finding_id", frame.apply(_finding_id, axis=1))
    return frame[list(FINDING_COLUMNS)]
