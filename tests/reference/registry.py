"""The pandas references by KPI name: each a function of the canonical tables (pandas frames) → a monthly Series.

Every reference module registers its functions here with ``@kpi(name)``; :mod:`tests.reference.kpis` imports
all of them, so its ``REFERENCE`` holds every default KPI. A reference reads another KPI's values through
``ref``, so a derived KPI's reference is built from its inputs' references, never from revalign.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

Tables = dict[str, pd.DataFrame]
REFERENCE: dict[str, Callable[[Tables], pd.Series]] = {}
ADDITIVE: set[str] = set()


def kpi(name: str, additive: bool = False) -> Callable:
    """Register the decorated function as the reference of KPI ``name`` (``additive``: a missing month is 0)."""

    def register(fn: Callable[[Tables], pd.Series]) -> Callable[[Tables], pd.Series]:
        REFERENCE[name] = fn
        if additive:
            ADDITIVE.add(name)
        return fn

    return register


def ref(name: str, t: Tables) -> pd.Series:
    """The reference values of KPI ``name``: how a ratio or derived reference reads its inputs."""
    return REFERENCE[name](t)
