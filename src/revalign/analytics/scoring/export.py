"""⑤ Scores in a CRM's import format: the applied scores, with the column headers the CRM's importer expects.

Sales works leads in the CRM, so the agreed score has to land there: ``revalign score export --crm salesforce``
writes the latest applied run of a model version as a CSV the CRM's import wizard maps without editing (custom
fields named as the setup guide in docs/scoring.md creates them). Cells are made spreadsheet-safe by the caller
(:func:`revalign.interfaces.spreadsheet.safe_frame`), since a CSV is also opened in a spreadsheet.
"""

from __future__ import annotations

import pandas as pd

from revalign.analytics.scoring.scores import latest_scores
from revalign.errors import UnknownNameError
from revalign.model.access import Tables

CRM_FORMATS: dict[str, dict[str, str]] = {
    "generic": {
        "lead_id": "Lead ID",
        "score": "Score",
        "band": "Band",
        "is_mql": "MQL",
        "model": "Model",
        "version": "Version",
        "scored_at": "Scored At",
    },
    "salesforce": {
        "lead_id": "Id",
        "score": "Lead_Score__c",
        "band": "Lead_Band__c",
        "is_mql": "MQL__c",
        "model": "Lead_Score_Model__c",
        "version": "Lead_Score_Version__c",
        "scored_at": "Lead_Scored_At__c",
    },
    "hubspot": {
        "lead_id": "Record ID",
        "score": "Lead Score",
        "band": "Lead Band",
        "is_mql": "Marketing Qualified",
        "model": "Lead Score Model",
        "version": "Lead Score Version",
        "scored_at": "Lead Scored At",
    },
}
"""Canonical ``scores`` column → the CRM's import header, per CRM."""


def crm_frame(scores: pd.DataFrame, crm: str = "generic") -> pd.DataFrame:
    """``scores`` rows (columns of the ``scores`` table) with the CRM's headers, in its column order."""
    if crm not in CRM_FORMATS:
        raise UnknownNameError("CRM import format", crm, CRM_FORMATS)
    headers = CRM_FORMATS[crm]
    out = scores[list(headers)].copy()
    out["is_mql"] = out["is_mql"].map({True: "true", False: "false"})
    out["scored_at"] = pd.to_datetime(out["scored_at"]).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return out.rename(columns=headers).reset_index(drop=True)


def score_export(tables: Tables, model: str, version: int | None = None, crm: str = "generic") -> pd.DataFrame:
    """The latest applied run of ``model`` (``version``, else its newest) in ``crm``'s import format."""
    rows = tables.to_pandas(latest_scores(tables, model, version).order_by("lead_id"))
    return crm_frame(rows, crm)


__all__ = ["CRM_FORMATS", "crm_frame", "score_export"]
