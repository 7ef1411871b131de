"""Multi-touch attribution: journeys → rule models, exact Markov, Shapley → side-by-side credit with ROMI/CAC.

``attribution_comparison(tables, conversion="won", lookback_days=90, by="channel")`` is the one call most
users want (a project passes its custom models and frozen-credit store too); the estimators
(:class:`MarkovAttribution`, :class:`ShapleyAttribution`) work on any path table (``path, conversions,
nulls[, value]``), e.g. one exported from another tool.
"""

from __future__ import annotations

from revalign.analytics.attribution.compare import attribution_comparison, attribution_credit, spend_by_key
from revalign.analytics.attribution.estimator import AttributionEstimator
from revalign.analytics.attribution.frozen import FROZEN_TABLE, FrozenCredit
from revalign.analytics.attribution.journeys import (
    CONVERSIONS,
    JourneyOptions,
    conversion_events,
    journey_rows,
    journey_touches,
    journey_transition_counts,
    path_counts,
    transition_counts,
)
from revalign.analytics.attribution.markov import MarkovAttribution
from revalign.analytics.attribution.models import ALL_MODELS, DATA_DRIVEN
from revalign.analytics.attribution.record import (
    USES,
    AttributionSettings,
    attribution_settings,
    freeze_period,
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
    "AttributionEstimator",
    "AttributionSettings",
    "FrozenCredit",
    "JourneyOptions",
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
    "journey_rows",
    "journey_touches",
    "journey_transition_counts",
    "load_stage_weights",
    "model_of_record",
    "path_counts",
    "rule_credit",
    "spend_by_key",
    "touch_weights",
    "transition_counts",
]
