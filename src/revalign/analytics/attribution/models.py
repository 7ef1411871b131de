"""The attribution models by name: the rule models, the data-driven ones, and how a user's list resolves.

Both the comparison (which models to compute) and the model of record (which names a setting may declare) read
these names, so they live apart from either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from revalign.analytics.attribution.rules import ALIASES, RULE_MODELS, RuleModel
from revalign.errors import UnknownNameError

DATA_DRIVEN = ("markov", "markov_2", "shapley")
"""Data-driven models: first-order Markov, second-order Markov, Shapley (subset coalitions)."""
ALL_MODELS: tuple[str, ...] = (*RULE_MODELS, *DATA_DRIVEN)
MARKOV_ORDERS = {"markov": 1, "markov_2": 2}
"""The order of the chain of each Markov model."""


def model_names(models: Sequence[str] | None, custom: Mapping[str, RuleModel] | None = None) -> list[str]:
    """Canonical model names (aliases resolved; ``None`` or ``["all"]`` = every built-in and custom model)."""
    known = [*ALL_MODELS, *(custom or {})]
    if models is None or list(models) == ["all"]:
        return known
    out = []
    for name in models:
        name = ALIASES.get(name, name)
        if name not in known:
            raise UnknownNameError("attribution model", name, known)
        if name not in out:
            out.append(name)
    return out
