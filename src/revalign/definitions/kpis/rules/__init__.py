"""Catalog validation rules, one small class each (MetricFlow's ``DEFAULT_RULES`` pattern).

``revalign check`` runs them all and prints every issue with file, line and KPI.
"""

from __future__ import annotations

from revalign.definitions.kpis.rules.base import Rule
from revalign.definitions.kpis.rules.governance import (
    GovernanceKeysRule,
    InputCycleRule,
    NorthStarTreeRule,
    RevisionAlignmentRule,
    RevisionRule,
    TargetRule,
    UnitCompatibilityRule,
)
from revalign.definitions.kpis.rules.references import (
    ConversionEntityRule,
    KpiReferenceRule,
    ScorecardRule,
    SemanticModelRule,
)
from revalign.definitions.kpis.rules.sensitivity import PaySensitivityRule
from revalign.definitions.kpis.rules.structure import CumulativeInputRule, ExpressionRule, TypeKeysRule, UniqueNamesRule

DEFAULT_RULES: tuple[Rule, ...] = (
    UniqueNamesRule(),
    TypeKeysRule(),
    ExpressionRule(),
    SemanticModelRule(),
    KpiReferenceRule(),
    ConversionEntityRule(),
    CumulativeInputRule(),
    InputCycleRule(),
    NorthStarTreeRule(),
    GovernanceKeysRule(),
    UnitCompatibilityRule(),
    TargetRule(),
    RevisionRule(),
    RevisionAlignmentRule(),
    ScorecardRule(),
    PaySensitivityRule(),
)

__all__ = ["DEFAULT_RULES", "Rule"]
