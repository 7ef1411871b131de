"""Multi-touch attribution: journeys → rule models, exact Markov, Shapley → side-by-side credit with ROMI/CAC.

``attribution_comparison(project_or_engine, conversion="won", lookback_days=90, by="channel")`` is the one
call most users want; the estimators (:class:`MarkovAttribution`, :class:`ShapleyAttribution`) work on any
path table (``path, conversions, nulls[, value]``), e.g. one exported from another tool.
"""

from __future__ import annotations

from revalign.analytics.attribution.compare import (
    ALL_MODELS,
    DATA_DRIVEN,
    attribution_comparison,
    attribution_credit,
    spend_by_key,
)
from revalign.analytics.attribution.journeys import (
    CONVERSIONS,
    conversion_events,
    journey_rows,
    journey_touches,
    path_counts,
    transition_counts,
)
from revalign.analytics.attribution.markov import MarkovAttribution
from revalign.analytics.attribution.record import (
    FROZEN_TABLE,
    USES,
    attribution_settings,
    freeze_period,
    frozen_credit,
    model_of_record,
)
from revalign.analytics.attribution.rules import (
    RULE_MODELS,
    LastNonDirectRule,
    LinearRule,
    StageWeights,
    TimeDecayRule,
    load_stage_weights,
    rule_credit,
    touch_weights,
)
from revalign.analytics.attribution.shapley import ShapleyAttribution

__all__ = [
    "ALL_MODELS",
    "CONVERSIONS",
    "DATA_DRIVEN",
    "FROZEN_TABLE",
    "RULE_MODELS",
    "USES",
    "LastNonDirectRule",
    "LinearRule",
    "MarkovAttribution",
    "ShapleyAttribution",
    "StageWeights",
    "TimeDecayRule",
    "attribution_comparison",
    "attribution_credit",
    "attribution_settings",
    "conversion_events",
    "freeze_period",
    "frozen_credit",
    "journey_rows",
    "journey_touches",
    "load_stage_weights",
    "model_of_record",
    "path_counts",
    "rule_credit",
    "spend_by_key",
    "touch_weights",
    "transition_counts",
]
