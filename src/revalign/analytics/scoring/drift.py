"""⑤ Drift monitoring: has the population being scored moved away from the one the model was agreed on?

The population stability index compares two distributions over the same bins::

    PSI = Σ_b (a_b − e_b) · ln(a_b / e_b)        a_b, e_b: shares of the current and baseline leads in bin b

(a share of 0 is replaced by ``EPSILON`` so an empty bin counts instead of dividing by zero). Rules of thumb:
below 0.1 stable, 0.1–0.25 moderate shift, above 0.25 a large shift worth a recalibration.

:func:`score_drift` scores the leads created in a baseline window and in a current window (each as of its window's
end, so neither sees the future), counts them per bin on the engine and computes the PSI of the score (bins of
``width`` points), of each rule's points and of each fit field's values. Only the bin counts reach pandas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from revalign.analytics.scoring.rules import as_of_moment, rule_columns, score_leads
from revalign.definitions.scoring import ScoringModel
from revalign.model.access import Tables

EPSILON = 1e-4
STABLE, SHIFTED = 0.1, 0.25
Window = tuple[dt.date | dt.datetime, dt.date | dt.datetime]


def psi(expected: Mapping[object, float], actual: Mapping[object, float]) -> float:
    """PSI of two count (or share) vectors keyed by bin; a bin missing on one side counts as empty there."""
    bins = sorted(set(expected) | set(actual), key=str)
    e = np.array([float(expected.get(b, 0.0)) for b in bins])
    a = np.array([float(actual.get(b, 0.0)) for b in bins])
    if e.sum() == 0 or a.sum() == 0:
        return float("nan")
    e = np.clip(e / e.sum(), EPSILON, None)
    a = np.clip(a / a.sum(), EPSILON, None)
    return float(np.sum((a - e) * np.log(a / e)))


def level(value: float) -> str:
    """``stable``, ``moderate`` or ``shifted`` by the usual PSI thresholds."""
    if np.isnan(value):
        return "no data"
    return "stable" if value < STABLE else "moderate" if value < SHIFTED else "shifted"


def _population(tables: Tables, model: ScoringModel, window: Window) -> ir.Table:
    start, end = window
    end_moment = as_of_moment(end)
    scored = score_leads(tables, model, end_moment)
    leads = tables.table("leads")
    first = start if isinstance(start, dt.datetime) else dt.datetime.combine(start, dt.time())
    created = leads.filter((leads.created_at >= first) & (leads.created_at <= end_moment))
    created = created.select(*_fields(model, created), __id=created.lead_id)
    return scored.join(created, scored.lead_id == created["__id"])


def _fields(model: ScoringModel, leads: ir.Table) -> list[ir.Value]:
    seen = sorted({f for _n, _g, f, _p in model.fit_rules()})
    return [leads[f].fill_null("(none)").name(f"field__{f}") for f in seen]


def _binned(t: ir.Table, width: float, model: ScoringModel) -> ir.Table:
    """Counts per (feature, bin): the score and rule points in buckets of ``width``, fit fields by value."""
    parts = []
    numeric = ["score", *rule_columns(model)]
    for col in numeric:
        b = ((t[col] / width).floor().cast("float64") * width).cast("string")
        parts.append(t.select(feature=ibis.literal(col), bin=b))
    for col in [c for c in t.columns if c.startswith("field__")]:
        parts.append(t.select(feature=ibis.literal(col), bin=t[col].cast("string")))
    u = ibis.union(*parts, distinct=False)
    return u.group_by(["feature", "bin"]).aggregate(n=u.count())


def score_drift(
    tables: Tables, model: ScoringModel, *, baseline: Window, current: Window, width: float = 10.0
) -> pd.DataFrame:
    """PSI per feature (``score``, ``rule__<name>``, ``field__<column>``) between the two windows' leads.

    Columns: ``feature``, ``psi``, ``level``, ``baseline_leads``, ``current_leads``.
    """
    counts = {}
    for side, window in (("baseline", baseline), ("current", current)):
        counts[side] = tables.to_pandas(_binned(_population(tables, model, window), width, model))
    rows = []
    features = list(dict.fromkeys([*counts["baseline"]["feature"], *counts["current"]["feature"]]))
    for feature in features:
        e = counts["baseline"][counts["baseline"]["feature"] == feature].set_index("bin")["n"].to_dict()
        a = counts["current"][counts["current"]["feature"] == feature].set_index("bin")["n"].to_dict()
        value = psi(e, a)
        rows.append(
            {
                "feature": feature,
                "psi": value,
                "level": level(value),
                "baseline_leads": int(sum(e.values())),
                "current_leads": int(sum(a.values())),
            }
        )
    return pd.DataFrame(rows, columns=["feature", "psi", "level", "baseline_leads", "current_leads"])


__all__ = ["EPSILON", "SHIFTED", "STABLE", "level", "psi", "score_drift"]
