"""Time in the funnel: days in each opportunity stage (stage velocity) and sales cycle length.

Stage durations come from the ledger's ``kind = "stage"`` rows, not from the opportunities table, because the
CRM keeps only the current stage: a stay in a stage lasts from the event that entered it to the opportunity's
next stage event. Stays that have not ended by ``as_of`` are counted as ``open`` and left out of the duration
quantiles (they would bias them down); a re-opened deal simply has more stays.
"""

from __future__ import annotations

import ibis
import pandas as pd

from revalign.analytics.funnel.entities import dimension_lookup
from revalign.analytics.funnel.periods import QUANTILES, as_timestamp, bucket, in_range
from revalign.model.access import Tables
from revalign.model.tables import OPPORTUNITY_STAGES

OPEN_STAGES = tuple(s for s in OPPORTUNITY_STAGES if not s.startswith("closed_"))


def stage_velocity(
    tables: Tables,
    *,
    by: tuple[str, ...] | list[str] = (),
    start: object = None,
    end: object = None,
    as_of: object = None,
) -> pd.DataFrame:
    """Per open stage (and ``by`` dimensions): stays entered in ``[start, end)``, how they ended, days in stage.

    Columns: ``stage``, ``stage_index``, ``entered``, ``advanced`` (next event is a later stage or a win),
    ``lost`` (next is ``closed_lost``), ``moved_back``, ``open`` (no next event by ``as_of``),
    ``advance_rate = advanced / (entered - open)``, ``mean_days``, ``p50_days``, ``p75_days``, ``p90_days``.
    """
    by = tuple(by)
    ledger = tables.table("ledger")
    as_of_ts = as_timestamp(as_of)
    st = ledger.filter((ledger.kind == "stage") & (ledger.entity_type == "opportunity"))
    if as_of_ts is not None:
        st = st.filter(st.occurred_at <= as_of_ts)
    w = ibis.window(group_by=st.entity_id, order_by=[st.occurred_at, st.event_id])
    st = st.select(
        key=st.entity_id,
        stage=st.name,
        t=st.occurred_at,
        next_stage=st.name.lead().over(w),
        next_t=st.occurred_at.lead().over(w),
    )
    order = ibis.cases(*((st.stage == s, i) for i, s in enumerate(OPPORTUNITY_STAGES)), else_=-1)
    next_order = ibis.cases(*((st.next_stage == s, i) for i, s in enumerate(OPPORTUNITY_STAGES)), else_=-1)
    st = st.filter(st.stage.isin(OPEN_STAGES) & in_range(st.t, as_timestamp(start), as_timestamp(end)))
    st = st.mutate(stage_index=order, next_index=next_order)
    if by:
        dims = dimension_lookup(tables, "opportunity", by)
        st = st.left_join(dims, st.key == dims.d_key).drop("d_key")
    days = (st.next_t.epoch_seconds() - st.t.epoch_seconds()) / 86400.0
    done = st.next_t.notnull()
    agg = st.group_by("stage", "stage_index", *by).agg(
        entered=st.count(),
        advanced=(done & (st.next_stage != "closed_lost") & (st.next_index > st.stage_index)).sum(),
        lost=(st.next_stage == "closed_lost").sum(),
        moved_back=(done & (st.next_stage != "closed_lost") & (st.next_index <= st.stage_index)).sum(),
        open=(~done).sum(),
        mean_days=days.mean(),
        **{f"{k}_days": days.quantile(q) for k, q in QUANTILES.items()},
    )
    frame = tables.to_pandas(agg)
    for c in ("entered", "advanced", "lost", "moved_back", "open"):
        frame[c] = frame[c].fillna(0).astype("int64")
    closed = (frame["entered"] - frame["open"]).where(lambda s: s > 0)
    frame["advance_rate"] = (frame["advanced"] / closed).astype("float64")
    cols = ["stage", "stage_index", *by, "entered", "advanced", "lost", "moved_back", "open", "advance_rate"]
    frame = frame[[*cols, "mean_days", *[f"{k}_days" for k in QUANTILES]]]
    return frame.sort_values([*by, "stage_index"], kind="stable").reset_index(drop=True)


def sales_cycle(
    tables: Tables,
    *,
    by: tuple[str, ...] | list[str] = (),
    grain: str | None = None,
    start: object = None,
    end: object = None,
    won_only: bool = True,
) -> pd.DataFrame:
    """Sales cycle length: days from opportunity creation to close, for deals closed in ``[start, end)``.

    By default only won deals count (the usual definition; lost deals close faster and would flatter it).
    Columns: ``period`` (by ``grain`` of the close), ``by`` dimensions, ``deals``, ``mean_days``, ``p50_days``,
    ``p75_days``, ``p90_days``.
    """
    by = tuple(by)
    opps = tables.table("opportunities")
    closed = opps.filter(opps.is_closed & opps.closed_at.notnull())
    if won_only:
        closed = closed.filter(closed.is_won)
    closed = closed.filter(in_range(closed.closed_at, as_timestamp(start), as_timestamp(end)))
    if by:
        dims = dimension_lookup(tables, "opportunity", by)
        closed = closed.left_join(dims, closed.opportunity_id == dims.d_key).drop("d_key")
    days = (closed.closed_at.epoch_seconds() - closed.created_at.epoch_seconds()) / 86400.0
    agg = closed.group_by(bucket(closed.closed_at, grain).name("period"), *by).agg(
        deals=closed.count(),
        mean_days=days.mean(),
        **{f"{k}_days": days.quantile(q) for k, q in QUANTILES.items()},
    )
    frame = tables.to_pandas(agg)
    if grain is not None:
        frame["period"] = pd.to_datetime(frame["period"]).dt.date
    frame["deals"] = frame["deals"].astype("int64")
    return frame.sort_values(["period", *by], kind="stable").reset_index(drop=True)


__all__ = ["OPEN_STAGES", "sales_cycle", "stage_velocity"]
