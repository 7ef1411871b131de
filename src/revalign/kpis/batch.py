"""Many KPIs in one engine query: the per-KPI expressions stacked with a ``kpi`` column, run once, then split.

Why: a KPI query costs little to run but a lot to start. Ibis turns every expression into SQL through rewrite
passes whose cost grows with the expression (0.1–0.6 s for a derived KPI), and Spark adds seconds of planning
and job scheduling per query. Stacking the KPIs of one request into ``UNION ALL`` branches lets Ibis compile the
shared inputs once (equal sub-expressions are one node of the graph) and lets the engine run one job. Each
branch is exactly the KPI's own expression, so the values are the ones the KPI gives on its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

KPI_COLUMN = "kpi"
MAX_BRANCHES = 120
"""KPIs per query: the whole default catalog fits in one; more are split so no plan grows without bound."""


def chunks(names: Sequence[str], size: int | None = None) -> Iterator[list[str]]:
    """``names`` in consecutive groups of at most ``size`` (default :data:`MAX_BRANCHES`; order kept, so batches
    are deterministic)."""
    step = max(1, size or MAX_BRANCHES)
    for i in range(0, len(names), step):
        yield list(names[i : i + step])


def stacked(exprs: Mapping[str, ir.Table]) -> ir.Table:
    """One table ``kpi, <the KPIs' columns…>``: every expression as a ``UNION ALL`` branch tagged by name.

    The expressions must share one schema (the compiler gives every KPI ``period_start, <dims…>, value``).
    """
    parts = [
        expr.select(ibis.literal(name, type="string").name(KPI_COLUMN), *expr.columns) for name, expr in exprs.items()
    ]
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def split(frame: pd.DataFrame, names: Sequence[str]) -> dict[str, pd.DataFrame]:
    """The rows of each KPI of a stacked result, without the ``kpi`` column (empty frames for KPIs with none)."""
    columns = [c for c in frame.columns if c != KPI_COLUMN]
    groups = {str(k): g for k, g in frame.groupby(KPI_COLUMN, sort=False)} if len(frame) else {}
    empty = frame.iloc[0:0][columns]
    return {n: groups[n][columns].reset_index(drop=True) if n in groups else empty.copy() for n in names}
