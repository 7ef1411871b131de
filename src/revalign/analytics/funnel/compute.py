"""Compute a funnel: ledger events → per-entity step reach times → cohort or period step table.

Plan (all Ibis, so DuckDB, Postgres and Spark run the same thing; only the aggregated step table reaches pandas):

1. **One scan of the ledger**: join it with the funnel's (kind, name) selectors — an event matching two steps
   yields two rows — apply step filters, the re-opened-deal rule and the recycling cut, and map each event to
   the funnel's entity (:mod:`.entities`).
2. **Reach times per entity**: ``strict`` order chains the steps — step *i* is reached at the first step-*i*
   event at or after step *i-1*'s reach time and within the step's window; ``any`` order pivots first
   occurrences and reaches step *i* at the latest of steps 0..*i*. Either way an entity reaching step *i* has
   reached every step before it, so counts can never grow along the funnel.
3. **Long step table**: one row per (entity, step) with the previous step's and this step's reach time, then
   one aggregation: counts of distinct entities (each entity is one row, so 1:many joins cannot inflate them)
   and p50/p75/p90 days between the two steps.

Rates are computed afterwards from the counts: ``converted ≤ entered`` by construction, so no rate exceeds 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.funnel.entities import dimension_lookup, keyed, union_nullable
from revalign.analytics.funnel.periods import QUANTILES, as_timestamp, bucket, in_range, quantile_names, seconds
from revalign.definitions.funnels.loader import resolve_funnel
from revalign.definitions.funnels.spec import GRAINS, FunnelSpec
from revalign.errors import ConfigError
from revalign.jsonsafe import records
from revalign.model.access import Tables

_TS = dt.Timestamp(nullable=True)
CLOSED_STAGES = ("closed_won", "closed_lost")
STEP_COLUMNS = [
    "step",
    "step_index",
    "entered",
    "converted",
    "dropped",
    "rate_from_previous",
    "rate_from_first",
    "reached",
    "p50_days",
    "p75_days",
    "p90_days",
    "is_mature",
]
_COUNTS = ("entered", "converted", "reached")


@dataclass
class FunnelResult:
    """A computed funnel: the step table plus what it was computed with (JSON-friendly).

    ``steps`` has one row per period (``cohort`` or ``period``), dimension values and step:

    - ``entered``: entities that reached the previous step (for step 0: that entered the funnel);
    - ``converted``: of those, entities that reached this step; ``dropped = entered - converted``;
    - ``rate_from_previous = converted / entered``; ``rate_from_first``: cohort mode ``converted / entered at
      step 0``; period mode the product of the step-to-step rates of the period;
    - ``reached``: entities whose step was reached *in* the period (cohort mode: equals ``converted``);
    - ``p50_days``/``p75_days``/``p90_days``: days from the previous step to this one, among converters;
    - ``is_mature``: whether the period ended at least the funnel's maturity window before ``as_of``.
    """

    funnel: str
    mode: str
    grain: str | None
    by: tuple[str, ...]
    as_of: datetime
    steps: pd.DataFrame
    spec: FunnelSpec | None = field(default=None, repr=False)

    @property
    def period_column(self) -> str:
        return "cohort" if self.mode == "cohort" else "period"

    def to_pandas(self) -> pd.DataFrame:
        return self.steps.copy()

    def to_dict(self) -> dict[str, Any]:
        return {
            "funnel": self.funnel,
            "mode": self.mode,
            "grain": self.grain,
            "by": list(self.by),
            "as_of": self.as_of.isoformat(),
            "steps": records(self.steps),
        }

    def totals(self) -> pd.DataFrame:
        """Counts summed over periods and dimensions, with rates recomputed from the sums (not averaged)."""
        if self.mode != "cohort":
            raise ConfigError("totals() is defined for cohort funnels: period counts of different steps overlap.")
        g = self.steps.groupby(["step_index", "step"], as_index=False)[["entered", "converted"]].sum()
        return finish_rates(g, [], "cohort")


_NO_STEP = -99


@dataclass(frozen=True)
class _Query:
    """One funnel computation with its inputs resolved: what every stage of the plan reads."""

    spec: FunnelSpec
    mode: str
    grain: str | None
    by: tuple[str, ...]
    wheres: dict[str, list[str]]
    start: datetime | None
    end: datetime | None
    as_of: datetime

    @property
    def period_column(self) -> str:
        return "cohort" if self.mode == "cohort" else "period"


def _rebind(expr: ir.Value, old: ir.Table, new: ir.Table) -> ir.Value:
    """``expr`` written on ``old`` re-expressed on ``new`` (a filter of ``old`` with the same columns)."""
    return expr.op().replace({old.op(): new.op()}).to_expr()


def _step_selectors(ledger: ir.Table, spec: FunnelSpec) -> list[tuple[int, ir.BooleanValue]]:
    """(step index, condition) per step; the recycling cut is step -1."""
    selectors: list[tuple[int, ir.BooleanValue]] = []
    for i, step in enumerate(spec.steps):
        cond = (ledger.kind == step.event.kind) & ledger.name.isin(list(step.event.name))
        for column, allowed in step.event.where.items():
            cond = cond & ledger[column].isin(list(allowed))
        selectors.append((i, cond))
    if spec.recycling == "end":
        selectors.append((-1, (ledger.kind == "lifecycle") & (ledger.name == "recycled")))
    return selectors


def _decisive_closes(ledger: ir.Table, spec: FunnelSpec) -> ir.Table:
    """Each deal's decisive close event (the last or first, per ``reopened``) among the ledger's close events.

    A window over the close events alone (a small share of the ledger, found by a cheap equality filter): the
    other events never meet it. Joining every selected event to per-deal close times instead made engines build
    a hash table of the selected events.
    """
    closes = ledger.filter(ledger.kind == "stage", ledger.name.isin(CLOSED_STAGES))
    deal = ibis.window(group_by=[closes.entity_type, closes.entity_id])
    pick = closes.occurred_at.max() if spec.reopened == "last" else closes.occurred_at.min()
    closes = closes.mutate(decisive_t=pick.over(deal))
    return closes.filter(closes.occurred_at == closes.decisive_t).drop("decisive_t")


def _before_recycling(ev: ir.Table) -> ir.Table:
    """Step events up to the entity's first recycling (step -1), which ends its run through the funnel."""
    cut = ev.filter(ev.step == -1).group_by("key").agg(cut_t=ev.t.min()).rename(cut_key="key")
    ev = ev.filter(ev.step >= 0)
    ev = ev.left_join(cut, ev.key == cut.cut_key)
    return ev.filter(ev.cut_t.isnull() | (ev.t <= ev.cut_t)).select("key", "step", "t")


def _exclusive(spec: FunnelSpec) -> bool:
    """Whether no ledger event can mark two steps (or a step and the recycling cut): the selectors are plain
    (kind, name) pairs, none shared. Then each selected event maps to one step without unnesting copies."""
    pairs = [(s.event.kind, n) for s in spec.steps for n in s.event.name]
    if spec.recycling == "end":
        pairs.append(("lifecycle", "recycled"))
    return len(pairs) == len(set(pairs)) and not any(s.event.where for s in spec.steps)


def _selector_values(spec: FunnelSpec) -> tuple[list[str], list[str]]:
    """Every ``kind`` and every ``name`` a step (or the recycling cut) selects: a cheap superset filter."""
    kinds = {s.event.kind for s in spec.steps}
    names = {n for s in spec.steps for n in s.event.name}
    if spec.recycling == "end":
        kinds.add("lifecycle")
        names.add("recycled")
    return sorted(kinds), sorted(names)


def _with_steps(rows: ir.Table, ledger: ir.Table, spec: FunnelSpec) -> ir.Table:
    """``rows`` (a filter of ``ledger``) with a ``step`` column, one copy per step a row marks; unmarked rows go.

    Built from expressions only, so it can be materialized on every engine (no in-memory lookup table to
    register first).
    """
    selectors = _step_selectors(ledger, spec)
    if _exclusive(spec):  # an event marks at most one step: a CASE names it (and selects it), nothing to unnest
        step = ibis.cases(*((c, i) for i, c in selectors), else_=_NO_STEP)
        rows = rows.mutate(step=_rebind(step, ledger, rows))
    else:  # an event can mark two steps, e.g. "reached proposal or later": one copy per step
        rows = rows.filter(_rebind(ibis.or_(*(c for _, c in selectors)), ledger, rows))
        matches = ibis.array([ibis.ifelse(c, i, _NO_STEP) for i, c in selectors])
        rows = rows.mutate(step=_rebind(matches, ledger, rows).unnest())
    return rows.filter(rows.step != _NO_STEP)


def _selected_events(tables: Tables, spec: FunnelSpec, as_of: datetime | None) -> ir.Table:
    """Ledger rows marking a step (or the recycling cut), keyed by entity: columns key, step, t."""
    ledger = tables.table("ledger")
    if as_of is not None:
        ledger = ledger.filter(ledger.occurred_at <= as_of)
    # The plain IN lists on kind and name come first: a scan tests them cheaply (DuckDB: 6x faster than the OR
    # of per-step conditions), and the exact step conditions then see only the rows they let through. Close
    # events take their own small path, so only they meet the re-opened-deal rule.
    kinds, names = _selector_values(spec)
    ev = ledger.filter(ledger.kind.isin(kinds), ledger.name.isin(names))
    if any(set(s.event.name) & set(CLOSED_STAGES) and s.event.kind == "stage" for s in spec.steps):
        is_close = ((ev.kind == "stage") & ev.name.isin(CLOSED_STAGES)).fill_null(False)
        closes = _decisive_closes(ledger, spec)
        closes = closes.filter(closes.kind.isin(kinds), closes.name.isin(names))
        ev = union_nullable([_with_steps(ev.filter(~is_close), ledger, spec), _with_steps(closes, ledger, spec)])
    else:
        ev = _with_steps(ev, ledger, spec)
    ev = keyed(tables, ev, spec.entity)
    ev = ev.select("key", "step", t=ev.occurred_at)
    return _before_recycling(ev) if spec.recycling == "end" else ev


def _reach_any(ev: ir.Table, spec: FunnelSpec) -> ir.Table:
    """``any`` order: first occurrence of each step; step *i* is reached at the latest of steps 0..*i*."""
    n = len(spec.steps)
    wide = ev.group_by("key").agg(**{f"f{i}": ev.t.min(where=ev.step == i) for i in range(n)})
    wide = wide.filter(wide.f0.notnull())
    cols: dict[str, ir.Value] = {"t0": wide.f0}
    for i in range(1, n):
        prev, first = cols[f"t{i - 1}"], wide[f"f{i}"]
        reached = ibis.greatest(prev, first)
        ok = prev.notnull() & first.notnull()
        w = spec.steps[i].within
        if w is not None:
            ok = ok & ((seconds(reached) - seconds(prev)) <= w.total_seconds())
        cols[f"t{i}"] = ibis.ifelse(ok, reached, ibis.null("timestamp"))
    return wide.select("key", **cols)


def _reach_strict(ev: ir.Table, spec: FunnelSpec, keep: Callable[[ir.Table], ir.Table]) -> ir.Table:
    """``strict`` order: step *i* is the first step-*i* event at or after step *i-1*, within the step's window."""
    reach = keep(ev.filter(ev.step == 0).group_by("key").agg(t0=ev.t.min()))
    out = reach
    prev = reach.rename(p_key="key", p_t="t0")
    for i in range(1, len(spec.steps)):
        cur = ev.filter(ev.step == i)
        j = prev.join(cur, prev.p_key == cur.key).filter(lambda x: x.t >= x.p_t)
        w = spec.steps[i].within
        if w is not None:
            j = j.filter((seconds(j.t) - seconds(j.p_t)) <= w.total_seconds())
        step_i = keep(j.group_by(p_key=j.p_key).agg(p_t=j.t.min()))
        named = step_i.rename(**{f"k{i}": "p_key", f"t{i}": "p_t"})
        out = out.left_join(named, out.key == named[f"k{i}"]).drop(f"k{i}")
        prev = step_i
    return out


def _first_reach(ev: ir.Table, spec: FunnelSpec) -> ir.Table:
    """``strict`` order from one pivot: ``key``, ``t0`` … ``t{n-1}`` and ``ambiguous`` per entity.

    One pass groups the events by entity into the first time ``f{i}`` of each step. If an entity reached step
    *i-1* at ``f{i-1}`` and ``f{i} >= f{i-1}``, its first step-*i* event at or after that is ``f{i}`` (the window
    is checked on it: later events are further away); if it has no step-*i* event it stops there. Only when a
    step-*i* event comes *before* the previous step's reach time (a repeated step, a back-dated event) does the
    pivot not know whether a later one follows; such entities are flagged ``ambiguous`` and :func:`reach_times`
    sends them through the step-by-step chain. Each step's flag is a conjunction of plain comparisons of the
    pivot's columns, so the SQL grows with the square of the steps, not exponentially (Ibis inlines each
    step's expression into the next).
    """
    n = len(spec.steps)
    piv = ev.group_by("key").agg(**{f"f{i}": ev.t.min(where=ev.step == i) for i in range(n)})
    piv = piv.filter(piv.f0.notnull())
    cols: dict[str, ir.Value] = {"t0": piv.f0.cast(_TS)}
    ok: ir.BooleanValue = ibis.literal(True)
    ambiguous: ir.BooleanValue = ibis.literal(False)
    for i in range(1, n):
        prev, first = piv[f"f{i - 1}"], piv[f"f{i}"]
        ambiguous = ambiguous | (ok & (first < prev).fill_null(False))
        follows = first >= prev
        w = spec.steps[i].within
        if w is not None:  # the window as timestamp arithmetic: cheaper per row than epoch seconds
            follows = follows & (first <= prev + ibis.interval(seconds=int(w.total_seconds())))
        ok = ok & follows.fill_null(False)
        cols[f"t{i}"] = ibis.ifelse(ok, first, ibis.null("timestamp")).cast(_TS)
    return piv.select("key", **cols, ambiguous=ambiguous)


def reach_times(
    tables: Tables,
    spec: FunnelSpec,
    as_of: datetime | None = None,
    events: ir.Table | None = None,
    materialize: Callable[[ir.Table], ir.Table] | None = None,
) -> ir.Table:
    """One row per entity that entered the funnel: ``key``, ``t0`` … ``t{n-1}`` (null = step not reached).

    This is the rule engine of the funnel (order, windows, recycling, re-opened deals); everything else counts.
    ``events`` may pass the output of the selection step (e.g. materialized); ``materialize`` (e.g.
    ``Table.cache``) is applied to the pivot and to each step of the chain, so repeated references stay cheap on
    engines that inline subqueries, and — since the pivot is then stored — lets the chain be skipped entirely
    when no entity is ambiguous (the usual case: one event per step and entity, in order).
    """
    ev = _selected_events(tables, spec, as_of) if events is None else events
    if spec.order == "any":
        return _reach_any(ev, spec)
    keep = materialize or (lambda t: t)
    first = keep(_first_reach(ev, spec))
    if materialize is not None and not tables.execute(first.ambiguous.any()):
        return first.drop("ambiguous")
    tangled = first.filter(first.ambiguous).select(a_key="key")
    chain = _reach_strict(keep(ev.semi_join(tangled, ev.key == tangled.a_key)), spec, keep)
    chain = chain.select("key", **{f"t{i}": chain[f"t{i}"].cast(_TS) for i in range(len(spec.steps))})
    return union_nullable([first.filter(~first.ambiguous).drop("ambiguous"), chain])


def _long(spec: FunnelSpec, wide: ir.Table, dims: tuple[str, ...]) -> ir.Table:
    """(entity, step) rows: entry time, previous step's and this step's reach time, and the dimensions.

    Only entities that reached the previous step get a row: the others are neither entered nor converted (an
    entity reaching step *i* reached every step before it), and leaving them out shrinks the table the
    quantiles are computed on from entities × steps to the entities still in the funnel.
    """
    parts = []
    for i, step in enumerate(spec.steps):
        prev = wide.t0 if i == 0 else wide[f"t{i - 1}"]
        parts.append(
            wide.filter(prev.notnull()).select(
                *dims,
                step=ibis.literal(step.name),
                step_index=ibis.literal(i, type="int64"),
                t_entry=wide.t0.cast(_TS),
                t_prev=prev.cast(_TS),
                t_cur=wide[f"t{i}"].cast(_TS),
            )
        )
    return ibis.union(*parts)


def _days(long: ir.Table) -> ir.NumericValue:
    return (seconds(long.t_cur) - seconds(long.t_prev)) / 86400.0


def finish_rates(frame: pd.DataFrame, keys: list[str], mode: str) -> pd.DataFrame:
    """Add ``dropped`` and the rates to a frame of ``entered``/``converted`` counts (plain pandas)."""
    frame = frame.sort_values([*keys, "step_index"], kind="stable").reset_index(drop=True)
    frame["entered"] = frame["entered"].astype("int64")
    frame["converted"] = frame["converted"].astype("int64")
    frame["dropped"] = frame["entered"] - frame["converted"]
    entered = frame["entered"].where(frame["entered"] > 0)
    frame["rate_from_previous"] = (frame["converted"] / entered).astype("float64")
    groups = [frame[k] for k in keys] if keys else [pd.Series(0, index=frame.index)]
    if mode == "cohort":
        first = frame.groupby(groups, dropna=False)["converted"].transform("first")
        frame["rate_from_first"] = (frame["converted"] / first.where(first > 0)).astype("float64")
    else:
        frame["rate_from_first"] = frame["rate_from_previous"].groupby(groups, dropna=False).cumprod()
    return frame


def _query(
    tables: Tables,
    spec: FunnelSpec,
    *,
    mode: str,
    grain: str | None,
    by: tuple[str, ...],
    window: tuple[object, object],
    filters: Mapping[str, object] | None,
    as_of: object,
) -> _Query:
    """Check the options and resolve them: ``as_of`` defaults to the latest ledger event, filters to lists."""
    if mode not in ("cohort", "period"):
        raise ConfigError(f"mode must be 'cohort' or 'period'. Got {mode!r} instead.")
    if grain is not None and grain not in GRAINS:
        raise ConfigError(f"grain must be one of {', '.join(GRAINS)} or None. Got {grain!r} instead.")
    as_of_ts = as_timestamp(as_of)
    if as_of_ts is None:
        latest = tables.execute(tables.table("ledger").occurred_at.max())
        known = latest is not None and not pd.isna(latest)
        as_of_ts = pd.Timestamp(latest).to_pydatetime() if known else datetime(1970, 1, 1)
    wheres = {k: list(v) for k, v in spec.where.items()}
    for k, v in (filters or {}).items():
        wheres[k] = [str(x) for x in v] if isinstance(v, list | tuple | set) else [str(v)]
    start, end = window
    return _Query(spec, mode, grain, by, wheres, as_timestamp(start), as_timestamp(end), as_of_ts)


def funnel(
    tables: Tables,
    spec_or_name: FunnelSpec | str,
    *,
    mode: Literal["cohort", "period"] = "cohort",
    grain: str | None = "month",
    by: tuple[str, ...] | list[str] = (),
    start: object = None,
    end: object = None,
    filters: Mapping[str, object] | None = None,
    as_of: object = None,
    funnels: dict[str, FunnelSpec] | None = None,
) -> FunnelResult:
    """Compute a funnel in ``cohort`` or ``period`` mode, by ``grain`` and the dimensions ``by``.

    ``spec_or_name`` is a spec, or the name of one in ``funnels`` (a project's own) or the defaults.
    ``cohort`` mode follows the entities that entered (step 0) in ``[start, end)`` to ``as_of`` (default: the
    latest ledger event); ``period`` mode reports, per period, the entities that reached each step's previous
    step in that period and how many of them went on to the step. ``filters`` (and the spec's ``where``) keep
    entities whose dimension is one of the given values.
    """
    spec = resolve_funnel(spec_or_name, funnels)
    q = _query(tables, spec, mode=mode, grain=grain, by=tuple(by), window=(start, end), filters=filters, as_of=as_of)
    with ExitStack() as cleanup:
        frame = _aggregate(tables, q, cleanup)
    frame = _complete(frame, spec, q.period_column, q.by)
    return _finish(frame, q)


def _cached(table: ir.Table, cleanup: ExitStack) -> ir.Table:
    """Materialize ``table`` once on the engine (released when the funnel is done).

    The strict chain refers to the selected events once per step and the step table to the reach times once per
    step; engines that inline subqueries (Spark) would otherwise rescan the ledger for every reference.
    """
    cached = table.cache()
    cleanup.callback(cached.release)
    return cached


def _aggregate(tables: Tables, q: _Query, cleanup: ExitStack) -> pd.DataFrame:
    """The step table's counts and quantiles, computed on the engine; only this aggregate reaches pandas.

    A strict cohort funnel is one query: events → per-entity pivot → dimensions → one grouped pass, with the
    number of ``ambiguous`` entities (see :func:`_first_reach`) counted on the way; only if there are any is
    the funnel computed again with the exact chain for them. Other funnels store the per-entity reach table
    once and aggregate it (period mode reads it once per step).
    """
    if q.mode == "cohort" and q.spec.order == "strict":
        first = _first_reach(_selected_events(tables, q.spec, q.as_of), q.spec)
        frame = _cohort_counts(tables, _with_dimensions(tables, first, q), q, extra=("ambiguous",))
        if not frame.pop("ambiguous").any():
            return frame
    wide = _with_dimensions(tables, reach_times(tables, q.spec, q.as_of, materialize=lambda t: _cached(t, cleanup)), q)
    if q.mode == "cohort":
        return _cohort_counts(tables, wide, q)
    return _period_counts(tables, _long(q.spec, _cached(wide, cleanup), q.by), q)


def _with_dimensions(tables: Tables, wide: ir.Table, q: _Query) -> ir.Table:
    """``wide`` with the ``by`` and filtered dimensions of each entity, filtered."""
    if q.by or q.wheres:
        dims = dimension_lookup(tables, q.spec.entity, list(dict.fromkeys([*q.by, *q.wheres])))
        wide = wide.left_join(dims, wide.key == dims.d_key).drop("d_key")
        for k, v in q.wheres.items():
            wide = wide.filter(wide[k].isin(v))
    return wide


def _counts_by(long: ir.Table, t: ir.TimestampValue, q: _Query) -> ir.Table:
    """``entered``/``converted`` and the quantiles of ``long``'s rows, by the period of ``t`` and the dimensions."""
    return long.group_by(bucket(t, q.grain).name(q.period_column), *q.by, "step", "step_index").agg(
        entered=long.t_prev.count(), converted=long.t_cur.count(), **_quantiles(long)
    )


def _cohort_counts(tables: Tables, wide: ir.Table, q: _Query, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Cohort mode: entities by the period they entered the funnel in; ``reached`` equals ``converted``.

    One row per (cohort, dimensions) with every step's ``entered``/``converted``/quantiles as columns (step
    *i*'s entered are the entities that reached step *i-1*), unpivoted to one row per step here in pandas, where
    it is a few hundred rows: the same numbers as grouping a long (entity, step) table, without building it.
    ``extra`` names boolean columns of ``wide`` whose count of true rows (over all groups) every row carries.
    """
    sel = wide.filter(in_range(wide.t0, q.start, q.end))
    n = len(q.spec.steps)
    aggs: dict[str, ir.Value] = {}
    for i in range(n):
        prev, cur = sel[f"t{max(i - 1, 0)}"], sel[f"t{i}"]
        aggs[f"entered_{i}"] = prev.count()
        aggs[f"converted_{i}"] = cur.count()
        if i:
            days = (seconds(cur) - seconds(prev)) / 86400.0
            aggs.update({f"{k}_days_{i}": days.quantile(v, where=cur.notnull()) for k, v in QUANTILES.items()})
    aggs.update({c: sel.count(where=sel[c]) for c in extra})
    keys = [q.period_column, *q.by]
    grouped = tables.to_pandas(sel.group_by(bucket(sel.t0, q.grain).name(q.period_column), *q.by).agg(**aggs))
    parts = []
    for i, step in enumerate(q.spec.steps):
        part = grouped[keys].assign(
            step=step.name,
            step_index=i,
            entered=grouped[f"entered_{i}"],
            converted=grouped[f"converted_{i}"],
            reached=grouped[f"converted_{i}"],
            **{c: grouped[f"{c}_{i}"] if i else float("nan") for c in quantile_names()},
        )
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*keys, "step", "step_index"])
    for c in extra:  # a total over all groups, carried on every row so the caller can test it
        frame[c] = int(grouped[c].fillna(0).sum()) if len(grouped) else 0
    return frame


def _period_counts(tables: Tables, long: ir.Table, q: _Query) -> pd.DataFrame:
    """Period mode: entities by the period they reached the previous step in, plus who reached each step then."""
    pcol = q.period_column
    sel = long.filter(long.t_prev.notnull() & in_range(long.t_prev, q.start, q.end))
    got = long.filter(long.t_cur.notnull() & in_range(long.t_cur, q.start, q.end))
    reached = got.group_by(bucket(got.t_cur, q.grain).name(pcol), *q.by, "step", "step_index").agg(
        reached=got.t_cur.count()
    )
    agg = tables.to_pandas(_counts_by(sel, sel.t_prev, q))
    frame = _outer(agg, tables.to_pandas(reached), [pcol, *q.by, "step", "step_index"])
    for c in (*_COUNTS, *quantile_names()):
        if c not in frame.columns:
            frame[c] = float("nan")
    for c in _COUNTS:
        frame[c] = frame[c].fillna(0).astype("int64")
    return frame


def _finish(frame: pd.DataFrame, q: _Query) -> FunnelResult:
    pcol = q.period_column
    frame = finish_rates(frame, [pcol, *q.by], q.mode)
    frame.loc[frame["step_index"] == 0, quantile_names()] = float("nan")  # no previous step to time
    frame["is_mature"] = _maturity(frame[pcol], q.grain, q.spec, q.mode, q.as_of, q.end)
    if q.grain is not None:
        frame[pcol] = pd.to_datetime(frame[pcol]).dt.date
    frame = frame[[pcol, *q.by, *STEP_COLUMNS]]
    return FunnelResult(q.spec.name, q.mode, q.grain, q.by, q.as_of, frame, q.spec)


def _quantiles(long: ir.Table) -> dict[str, ir.Value]:
    """p50/p75/p90 days from the previous step to this one, over the entities that reached this one."""
    days = _days(long)
    return {f"{k}_days": days.quantile(q, where=long.t_cur.notnull()) for k, q in QUANTILES.items()}


def _outer(left: pd.DataFrame, right: pd.DataFrame, on: list[str]) -> pd.DataFrame:
    """Outer merge that tolerates an empty side (pandas cannot factorize empty Arrow-backed keys)."""
    if left.empty or right.empty:
        return pd.concat([f for f in (left, right) if not f.empty] or [left], ignore_index=True)
    return left.merge(right, on=on, how="outer")


def _complete(frame: pd.DataFrame, spec: FunnelSpec, pcol: str, by: tuple[str, ...]) -> pd.DataFrame:
    """Every (period, dims) group gets every step, so a step nobody reached shows 0 instead of vanishing."""
    if frame.empty:
        return frame.reindex(columns=[pcol, *by, "step", "step_index", *_COUNTS])
    groups = frame[[pcol, *by]].drop_duplicates()
    steps = pd.DataFrame({"step": spec.step_names, "step_index": range(len(spec.steps))})
    full = groups.merge(steps, how="cross")
    frame = full.merge(frame, on=[pcol, *by, "step", "step_index"], how="left")
    for c in _COUNTS:
        frame[c] = frame[c].fillna(0).astype("int64")
    return frame


_PERIOD_LENGTH = {
    "day": pd.DateOffset(days=1),
    "week": pd.DateOffset(weeks=1),
    "month": pd.DateOffset(months=1),
    "quarter": pd.DateOffset(months=3),
    "year": pd.DateOffset(years=1),
}


def _maturity(
    periods: pd.Series, grain: str | None, spec: FunnelSpec, mode: str, as_of: datetime, end: datetime | None
) -> pd.Series:
    """A period is mature once it ended at least the maturity window (cohort mode) before ``as_of``.

    Without a grain the single period ends at ``end`` (or ``as_of``, which is never mature in cohort mode).
    """
    window = spec.maturity_window if mode == "cohort" else timedelta(0)
    if grain is None:
        stop = pd.Timestamp(end if end is not None else as_of)
        return pd.Series(stop + window <= pd.Timestamp(as_of), index=periods.index, dtype=bool)
    period_end = pd.to_datetime(periods) + _PERIOD_LENGTH[grain]
    return (period_end + window) <= pd.Timestamp(as_of)
