"""Which KPIs are pay data: the ``sensitivity: pay`` marking and how it is inherited.

Compensation data (quotas, quota attainment, payouts, comp plans) may be shown only to the person it is about,
their managers and pay-data roles (:mod:`revalign.analytics.privacy` enforces that). The catalog says which KPIs
are such data, in one place, so the API, the pages, CSV exports and the Python API all ask the same question:

- a semantic model over a pay table (:data:`PAY_TABLES`) is pay data, and must say so (``sensitivity: pay``);
- a KPI is pay data when it says so, when its semantic model is pay data, or when any KPI it is computed from
  (ratio, derived, cumulative or conversion inputs, at any depth) is pay data. Inheritance cannot be switched
  off: ``quota_attainment = new_revenue / quota`` reveals the quota to anyone who can see new revenue.
"""

from __future__ import annotations

from collections.abc import Mapping

from revalign.definitions.kpis.spec import Kpi, SemanticModel

PAY = "pay"
"""The ``sensitivity`` value of compensation data."""

PAY_TABLES: Mapping[str, str] = {"quotas": "user_id"}
"""Canonical tables that hold compensation data, and the column naming the person each row is about. A table
added here (payouts, comp plans) is guarded everywhere at once: records, KPIs over it, and KPIs derived from
those."""


def pay_models(models: Mapping[str, SemanticModel]) -> frozenset[str]:
    """Names of the semantic models whose rows are pay data: marked ``sensitivity: pay`` or over a pay table."""
    return frozenset(n for n, m in models.items() if m.sensitivity == PAY or m.table in PAY_TABLES)


def pay_kpis(kpis: Mapping[str, Kpi], models: Mapping[str, SemanticModel]) -> frozenset[str]:
    """Names of every KPI that is pay data, its own marking or inherited (see the module docstring).

    A fixed point over the input graph, so it terminates on a catalog with an input cycle (which the
    input-cycle rule reports) and does not depend on catalog order.
    """
    paid_models = pay_models(models)
    pay = {n for n, k in kpis.items() if k.sensitivity == PAY or k.semantic_model in paid_models}
    changed = True
    while changed:
        changed = False
        for name, kpi in kpis.items():
            if name not in pay and any(i.name in pay for i in kpi.inputs):
                pay.add(name)
                changed = True
    return frozenset(pay)


def pay_source(kpi: Kpi, kpis: Mapping[str, Kpi], models: Mapping[str, SemanticModel]) -> str | None:
    """Why ``kpi`` is pay data without its own marking (``"semantic model quotas"``, ``"input quota"``), or None."""
    if kpi.sensitivity == PAY:
        return None
    if kpi.semantic_model in pay_models(models):
        return f"semantic model {kpi.semantic_model}"
    pay = pay_kpis(kpis, models)
    return next((f"input {i.name}" for i in kpi.inputs if i.name in pay), None)


__all__ = ["PAY", "PAY_TABLES", "pay_kpis", "pay_models", "pay_source"]
