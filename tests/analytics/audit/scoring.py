"""Scoring findings against the simulator's labels: precision and recall over the records each kind is about.

A finding and a label match on the key of their kind: the record and the record it relates to for kinds that
have one (the overwritten lead and its opportunity, the re-created lead and the original, the duplicate and the
surviving record), the record alone for the others (the pushed or skipping opportunity). Scores come from
scikit-learn over the union of keys, independently of the detectors' own code.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.metrics import precision_score, recall_score

PAIR_KINDS = ("lead_source_overwrite", "no_opportunity_recreate", "duplicate_lead", "duplicate_account")


@dataclass(frozen=True)
class Score:
    kind: str
    labels: int
    findings: int
    precision: float
    recall: float


def keys(frame: pd.DataFrame, kind: str) -> set[tuple[str, ...]]:
    rows = frame[frame["kind"] == kind]
    if kind in PAIR_KINDS:
        return set(zip(rows["entity_id"].astype(str), rows["related_id"].astype(str), strict=True))
    return {(str(e),) for e in rows["entity_id"]}


def score(findings: pd.DataFrame, labels: pd.DataFrame, kind: str) -> Score:
    found, truth = keys(findings, kind), keys(labels, kind)
    universe = sorted(found | truth)
    y_true = [k in truth for k in universe]
    y_pred = [k in found for k in universe]
    return Score(
        kind,
        len(truth),
        len(found),
        float(precision_score(y_true, y_pred, zero_division=1.0)),
        float(recall_score(y_true, y_pred, zero_division=1.0)),
    )
