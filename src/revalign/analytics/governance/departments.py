"""A department's tile on the overview: its roll-up status, how its KPIs stand, and the one furthest below target.

Kept apart from :mod:`.scorecard` (which evaluates the card) because it only reads a finished card.
"""

from __future__ import annotations

import pandas as pd

from revalign.analytics.governance.scorecard import Scorecard


def department_summary(card: Scorecard) -> pd.DataFrame:
    """One row per department for its tile: the roll-up status, how many of its KPIs are green, amber and
    red (those with a target, immature cohorts left out) and the one furthest below target (lowest
    attainment), which is what a leader opens first."""
    status = card.department_status()
    records = []
    for dept in sorted(status):
        rows = [r for r in card.rows if r.department == dept and not r.dims and not r.immature]
        judged = [r for r in rows if r.status in ("green", "amber", "red")]
        worst = min((r for r in judged if r.attainment is not None), key=lambda r: r.attainment or 0.0, default=None)
        records.append(
            {
                "department": dept,
                "status": status[dept],
                "kpis": len(rows),
                "green": sum(r.status == "green" for r in judged),
                "amber": sum(r.status == "amber" for r in judged),
                "red": sum(r.status == "red" for r in judged),
                "worst_kpi": worst.kpi if worst else None,
                "worst_label": worst.label if worst else None,
                "worst_attainment": worst.attainment if worst else None,
            }
        )
    columns = ["department", "status", "kpis", "green", "amber", "red", "worst_kpi", "worst_label"]
    return pd.DataFrame(records, columns=[*columns, "worst_attainment"])
