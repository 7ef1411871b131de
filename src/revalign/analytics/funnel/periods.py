"""Time windows and period buckets shared by the flow analytics (funnel, timing, pipeline, hand-off, channels).

Every flow analytic takes ``start``/``end`` as a half-open window ``[start, end)`` and buckets events by a
grain; they must agree on both, or a funnel and a pipeline table of the same quarter would not add up. The
duration quantiles (p50/p75/p90) are the same three everywhere for the same reason.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir
import pandas as pd

QUANTILES = {"p50": 0.5, "p75": 0.75, "p90": 0.9}
"""Duration quantiles every flow table reports, as ``<name>_days`` (or ``_hours``) columns."""
TRUNCATE = {"day": "D", "week": "W", "month": "M", "quarter": "Q", "year": "Y"}
"""Ibis truncation unit per grain."""


def quantile_names(unit: str = "days") -> list[str]:
    """The quantile column names: ``p50_days``, ``p75_days``, ``p90_days`` (or another unit)."""
    return [f"{k}_{unit}" for k in QUANTILES]


def as_timestamp(value: object) -> datetime | None:
    """A user's date, datetime or ISO string as a naive ``datetime`` (``None`` stays ``None``)."""
    return None if value is None else pd.Timestamp(value).to_pydatetime()


def seconds(t: ir.TimestampValue) -> ir.NumericValue:
    """Seconds since the epoch: differences of these are portable durations on every engine."""
    return t.epoch_seconds()


def bucket(t: ir.TimestampValue, grain: str | None) -> ir.Value:
    """The period a time falls in: truncated to ``grain``, or the single period ``"all"`` without a grain."""
    return t.truncate(TRUNCATE[grain]) if grain else ibis.literal("all")


def in_range(t: ir.TimestampValue, start: datetime | None, end: datetime | None) -> ir.BooleanValue:
    """``start <= t < end``, either bound optional."""
    cond: ir.BooleanValue = ibis.literal(True)
    if start is not None:
        cond = cond & (t >= start)
    if end is not None:
        cond = cond & (t < end)
    return cond
