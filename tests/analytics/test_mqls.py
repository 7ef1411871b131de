"""MQLs under the agreement on a hand-built scores table and ledger, the same body on DuckDB, PostgreSQL and Spark.

Agreement v1 (from 2024-01-01): model ``m`` version 1, threshold 60. v2 (from 2025-02-01): the same model, 70.

L1 scores 50 (01-10), 65 (01-20) → agreed MQL 01-20 under v1; CRM MQL 01-21 → **both**.
L2 scores 65 (02-05, below v2's 70), 72 (02-15) → agreed 02-15 under v2; no CRM MQL → **agreed_only**.
L3 scores 65 (02-10) only → never reaches 70; CRM MQL 02-11 → **crm_only**, best score 65.
L4 scores 61 on 01-31 23:00 (v1 still in force) → agreed 01-31; CRM MQL 02-02 → **both**.
L5 scores 99 under model ``x`` and 90 under ``m`` version 2 → neither is the agreed model version: not an MQL.
L6 scores exactly 60 on 01-05 → agreed 01-05 (the threshold is reached, not passed); no CRM MQL → **agreed_only**.

By month of the agreed MQL time: January L6, L1, L4 = 3; February L2 = 1. CRM MQLs: January L1; February L4, L3.
Without v2 (unsigned), L2 qualifies on 02-05 and L3 on 02-10 at 60: February 2, January still 3.
"""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.analytics.mqls import agreed_mql_counts, agreed_mqls, mql_comparison
from revalign.definitions.agreements.loader import parse_agreements
from revalign.model.access import Tables
from revalign.model.tables import canonical_table
from tests.analytics.funnel.builders import frame

V1 = """\
agreement: ms
version: 1
effective_from: 2024-01-01
mql: {scoring_model: m, model_version: 1, threshold: 60}
signatories: [{role: marketing, person: cmo}, {role: sales, person: vp_sales}]
"""
V2 = V1.replace("version: 1\neffective_from: 2024-01-01", "version: 2\neffective_from: 2025-02-01").replace(
    "threshold: 60", "threshold: 70"
)
SCORES = [
    ("L1", "m", 1, 50, "2025-01-10"),
    ("L1", "m", 1, 65, "2025-01-20"),
    ("L2", "m", 1, 65, "2025-02-05"),
    ("L2", "m", 1, 72, "2025-02-15"),
    ("L3", "m", 1, 65, "2025-02-10"),
    ("L4", "m", 1, 61, "2025-01-31 23:00"),
    ("L5", "x", 1, 99, "2025-01-05"),
    ("L5", "m", 2, 90, "2025-01-05"),
    ("L6", "m", 1, 60, "2025-01-05"),
]
CRM = [("L1", "2025-01-21"), ("L4", "2025-02-02"), ("L3", "2025-02-11")]


@pytest.fixture(scope="module")
def tables(module_engine):
    scores = [
        {
            "lead_id": lead,
            "model": m,
            "version": v,
            "score": float(s),
            "band": "A",
            "is_mql": False,
            "scored_at": pd.Timestamp(t),
        }
        for lead, m, v, s, t in SCORES
    ]
    ledger = [
        {
            "event_id": f"{lead}-mql",
            "entity_type": "lead",
            "entity_id": lead,
            "kind": "lifecycle",
            "name": "mql",
            "occurred_at": pd.Timestamp(t),
            "recorded_at": pd.Timestamp(t),
        }
        for lead, t in CRM
    ]
    leads = [{"lead_id": f"L{i}"} for i in range(1, 7)]
    for name, rows in (("scores", scores), ("ledger", ledger), ("leads", leads)):
        module_engine.write(name, frame(name, rows), schema=canonical_table(name).schema)
    return Tables(module_engine)


def book(*texts: str):
    return parse_agreements(*((t, f"v{i + 1}.yaml") for i, t in enumerate(texts)))


def reference(scores: pd.DataFrame, versions: list[tuple[str, str, int, float]]) -> dict[str, pd.Timestamp]:
    """Plain pandas: each row judged by the version in force on its day; a lead's first qualifying row."""
    days = sorted(pd.Timestamp(d) for d, *_ in versions)
    rules = {pd.Timestamp(d): (m, v, th) for d, m, v, th in versions}
    out: dict[str, pd.Timestamp] = {}
    for row in scores.sort_values("scored_at").itertuples():
        live = [d for d in days if d <= row.scored_at]
        m, v, th = rules[live[-1]]
        if row.model == m and row.version == v and row.score >= th and row.lead_id not in out:
            out[row.lead_id] = row.scored_at
    return out


def test_each_lead_is_in_its_hand_worked_group(tables):
    got = mql_comparison(tables, book(V1, V2)).set_index("lead_id")
    assert got["status"].to_dict() == {
        "L1": "both",
        "L4": "both",
        "L2": "agreed_only",
        "L6": "agreed_only",
        "L3": "crm_only",
    }
    assert got.loc["L2", "agreed_mql_at"] == pd.Timestamp("2025-02-15")
    assert got.loc["L2", ["version", "threshold"]].tolist() == [2, 70.0]
    assert got.loc["L4", ["agreed_mql_at", "version"]].tolist() == [pd.Timestamp("2025-01-31 23:00"), 1]
    assert got.loc["L3", "best_score"] == 65.0
    assert pd.isna(got.loc["L3", "agreed_mql_at"])
    assert got.loc["L1", "crm_mql_at"] == pd.Timestamp("2025-01-21")


def test_agreed_mqls_equal_a_pandas_computation_on_the_scores_table(tables):
    scores = tables.table("scores").to_pandas()
    for texts, versions in (
        ((V1,), [("2024-01-01", "m", 1, 60.0)]),
        ((V1, V2), [("2024-01-01", "m", 1, 60.0), ("2025-02-01", "m", 1, 70.0)]),
    ):
        got = agreed_mqls(tables, book(*texts))
        expected = reference(scores, versions)
        assert dict(zip(got["lead_id"], pd.to_datetime(got["agreed_mql_at"]), strict=True)) == expected


def test_a_higher_threshold_lowers_the_counts_from_its_date_only(tables):
    before = agreed_mql_counts(mql_comparison(tables, book(V1))).set_index("period")
    after = agreed_mql_counts(mql_comparison(tables, book(V1, V2))).set_index("period")
    assert before["agreed_mqls"].to_dict() == {"2025-01": 3, "2025-02": 2}
    assert after["agreed_mqls"].to_dict() == {"2025-01": 3, "2025-02": 1}
    assert after.loc["2025-02", ["crm_mqls", "both", "agreed_only", "crm_only"]].tolist() == [2, 0, 1, 1]
    assert after.loc["2025-01", ["crm_mqls", "both", "agreed_only", "crm_only"]].tolist() == [1, 2, 1, 0]


def test_a_window_keeps_leads_either_side_calls_an_mql_in_it(tables):
    got = mql_comparison(tables, book(V1, V2), start="2025-02-01", end="2025-03-01")
    assert sorted(got["lead_id"]) == ["L2", "L3", "L4"]  # L4: agreed in January, MQL'd by the CRM in February
    assert list(agreed_mqls(tables, book(V1, V2), start="2025-02-01", end="2025-03-01")["lead_id"]) == ["L2"]
