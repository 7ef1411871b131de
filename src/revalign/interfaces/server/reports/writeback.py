"""The write-back page: the dry run of ``revalign writeback <crm>`` as tables people read.

The same plan as ``GET /api/v1/writeback/<crm>`` (the façade's ``Project.writeback_plan``: it reads the CRM and
writes nothing), cut into one table per value so each table's old and new columns have one unit (a score, a
channel name, a percentage) and go through the display layer like every other number; a summary says per value
how many records change, how many already hold the value and how many the CRM does not have. The page shows
what would be written; writing stays a command-line act (``--apply``), where the plan is shown first.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from revalign.analytics.writeback import UNITS
from revalign.interfaces.server.reports.report import Report
from revalign.sources.writeback.plan import WritebackPlan

CRM_NAMES = {"salesforce": "Salesforce", "hubspot": "HubSpot"}
VALUE_TITLES = {
    "lead_score": "Lead scores",
    "audited_source": "Audited sources",
    "marketing_credit": "Marketing credit",
}
"""Each written value's table title, in the order the page shows them."""
CHANGE_COLUMNS = ["object", "record_id", "field", "old", "new"]


def writeback_report(plan: WritebackPlan) -> Report:
    """``plan`` as the write-back page's report: a summary, then each value's changes (old → new)."""
    crm = CRM_NAMES.get(plan.crm, plan.crm)
    report = Report(page="writeback", title=f"Write-back to {crm} (dry run)")
    changes = plan.to_frame().rename(columns={"sobject": "object"})
    report.add("summary", "What the write-back would do", summary(changes, plan.unchanged, plan.not_in_crm))
    units: dict[str, dict[str, str]] = {}
    for value, title in VALUE_TITLES.items():
        rows = changes[changes["value_name"] == value]
        if rows.empty:
            continue
        report.add(value, f"{title}: {len(rows):,} to change", rows[CHANGE_COLUMNS].reset_index(drop=True))
        unit = UNITS.get(value)
        if unit is not None:
            units[value] = {"old": unit, "new": unit}
    report.meta.update(crm=plan.crm, units=units, changes=len(changes))
    if changes.empty:
        report.notices.append(f"{crm} already holds every value: the write-back has nothing to change.")
    return report


def summary(changes: pd.DataFrame, unchanged: Mapping[str, int], not_in_crm: Mapping[str, int]) -> pd.DataFrame:
    """Per value: the records to change, those already right, those the CRM does not have."""
    counts = changes["value_name"].value_counts()
    names = [v for v in VALUE_TITLES if v in counts.index or v in unchanged or v in not_in_crm]
    return pd.DataFrame(
        {
            "value": [VALUE_TITLES[v] for v in names],
            "to_change": [int(counts.get(v, 0)) for v in names],
            "already_right": [int(unchanged.get(v, 0)) for v in names],
            "not_in_crm": [int(not_in_crm.get(v, 0)) for v in names],
        }
    )
