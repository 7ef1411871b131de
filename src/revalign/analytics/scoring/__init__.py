"""⑤ Lead scoring that marketing and sales agree on: rule-based scores, bands, feedback and drift.

- :mod:`.rules` — ``score_leads(tables, model, as_of)``: scores as of any time (no look-ahead), as Ibis;
- :mod:`.scores` — ``apply_scores``: the versioned ``scores`` table, written atomically and once per run;
- :mod:`.bands` — score distribution and conversion by band;
- :mod:`.feedback` — sales' accepted/rejected MQLs by band, reason and rule; backtested point changes;
- :mod:`.drift` — PSI of the score and of the features between two windows;
- :mod:`.export` — the applied scores in a CRM's import format;
- :mod:`.summary` — one version's picture (distribution, bands, feedback) for the page and the CLI.

The model itself (the YAML both teams sign) is :mod:`revalign.definitions.scoring`.
"""

from __future__ import annotations

from revalign.analytics.scoring.bands import band_conversion, converted_leads, score_distribution, with_conversion
from revalign.analytics.scoring.drift import psi, score_drift
from revalign.analytics.scoring.export import CRM_FORMATS, crm_frame, score_export
from revalign.analytics.scoring.feedback import (
    decisions,
    mql_decisions,
    rejections_by_band,
    rejections_by_rule,
    scaled,
    suggest_changes,
)
from revalign.analytics.scoring.rules import RULE_PREFIX, as_of_moment, rule_columns, rule_points, score_leads
from revalign.analytics.scoring.scores import SCORES_TABLE, ApplyResult, apply_scores, latest_scores, scoring_runs
from revalign.analytics.scoring.summary import ScoringSummary, scoring_summary

__all__ = [
    "CRM_FORMATS",
    "RULE_PREFIX",
    "SCORES_TABLE",
    "ApplyResult",
    "ScoringSummary",
    "apply_scores",
    "as_of_moment",
    "band_conversion",
    "converted_leads",
    "crm_frame",
    "decisions",
    "latest_scores",
    "mql_decisions",
    "psi",
    "rejections_by_band",
    "rejections_by_rule",
    "rule_columns",
    "rule_points",
    "scaled",
    "score_distribution",
    "score_drift",
    "score_export",
    "score_leads",
    "scoring_runs",
    "scoring_summary",
    "suggest_changes",
    "with_conversion",
]
