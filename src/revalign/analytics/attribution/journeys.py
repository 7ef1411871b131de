"""Journeys: each conversion's ordered touches, and the aggregated path table every model starts from.

A *journey* is what one entity (a lead or an account) saw before one conversion: its touches inside the
lookback window that ends at the conversion, ordered by time. Touches after the conversion never count, so a
deal cannot credit the webinar its buyer attended after signing. Entities that never converted contribute one
*null* journey each (their touches inside the lookback before their last touch): Markov and Shapley need the
paths that did not convert as much as those that did.

Everything here is an Ibis expression run on the engine; only :func:`path_counts` (one row per distinct path)
and :func:`transition_counts` (one row per observed Markov transition) are small enough to bring into
pandas/numpy. The path string is built portably (Spark has no ordered
``string_agg``): each touch becomes ``"<zero-padded position>|<channel>"``, the journey collects them into an
array, sorts it, strips the prefix and joins with ``" > "`` — the format ChannelAttribution also reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from revalign.errors import ConfigError, UnknownNameError
from revalign.model.access import Tables

CONVERSIONS = ("lead", "mql", "opportunity", "won")
"""Conversion events a journey can end at, in funnel order."""
LEVELS = ("lead", "account")
"""Whose touches form a journey: one lead's, or every lead's of one account."""
PATH_KEYS = ("channel", "campaign")
PATH_SEPARATOR = " > "
STATE_SEPARATOR = ","
START_STATE, CONVERSION_STATE, NULL_STATE = "(start)", "(conversion)", "(null)"
NO_CAMPAIGN = "(no campaign)"
_SECONDS_PER_DAY = 86_400.0
_DEAL_TYPES = ("new_business",)
_TS = "timestamp"

DateLike = dt.date | dt.datetime | str
"""A date bound as users give it: a date, a datetime or an ISO string."""


def _check(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UnknownNameError(name, value, allowed)


@dataclass(frozen=True)
class JourneyOptions:
    """Which journeys to build: the conversion they end at, whose touches, the lookback and the period.

    - ``conversion``: one of :data:`CONVERSIONS`; ``level``: ``lead`` or ``account`` (:data:`LEVELS`);
    - ``lookback_days``: touches count when at most this many days before the conversion (a positive number);
    - ``start``/``end``: conversions in ``[start, end)`` by ``converted_at`` (null journeys by their last touch);
    - ``touch_types``: keep only these touch types (``marketing``, ``sales``; default both);
    - ``include_nulls``: add one null journey per entity that never converted (Markov and Shapley need them).

    Checked when made, so a wrong option fails before any query is built.
    """

    conversion: str = "won"
    level: str = "lead"
    lookback_days: int = 90
    start: DateLike | None = None
    end: DateLike | None = None
    touch_types: tuple[str, ...] | None = None
    include_nulls: bool = True

    def __post_init__(self) -> None:
        if self.lookback_days is None or self.lookback_days <= 0:
            raise ConfigError(f"lookback_days must be a positive number of days. Got {self.lookback_days!r} instead.")
        _check("conversion", self.conversion, CONVERSIONS)
        _check("journey level", self.level, LEVELS)


def _with_lead_created(base: ir.Table, leads: ir.Table) -> ir.Table:
    """``base`` with ``lead_created_at``: the creation time of its lead (null without one)."""
    created = leads.select(lead_id_c=leads.lead_id, created_c=leads.created_at.cast(_TS))
    base = base.left_join(created, base.lead_id == created.lead_id_c)
    return base.mutate(lead_created_at=base.created_c).drop("lead_id_c", "created_c")


def _lead_conversions(tables: Tables, conversion: str) -> ir.Table:
    """Lead creations (``lead``) or first MQLs (``mql``) as conversions worth 0."""
    leads = tables.table("leads")
    if conversion == "lead":
        base = leads.select(lead_id=leads.lead_id, account_id=leads.account_id, converted_at=leads.created_at.cast(_TS))
    else:
        ledger = tables.table("ledger")
        mql = ledger.filter((ledger.kind == "lifecycle") & (ledger.name == "mql") & (ledger.entity_type == "lead"))
        mql = mql.group_by(lead_id=mql.entity_id).aggregate(converted_at=mql.occurred_at.min().cast(_TS))
        base = mql.join(leads.select("lead_id", "account_id"), "lead_id")
    base = base.mutate(
        conversion_id=ibis.literal(conversion + ":").concat(base.lead_id),
        value=ibis.literal(0.0),
        lead_created_at=base.converted_at if conversion == "lead" else ibis.null("timestamp"),
        opportunity_created_at=ibis.null("timestamp"),
        won_at=ibis.null("timestamp"),
    )
    if conversion == "mql":
        base = _with_lead_created(base, leads)
    return base


def _deal_conversions(tables: Tables, conversion: str, deal_types: tuple[str, ...]) -> ir.Table:
    """Opportunity creations (``opportunity``) or wins (``won``) as conversions worth the deal's amount."""
    opps = tables.table("opportunities")
    opps = opps.filter(opps.deal_type.isin(list(deal_types)) | opps.deal_type.isnull())
    if conversion == "won":
        opps = opps.filter(opps.is_won & opps.closed_at.notnull())
        at = opps.closed_at.cast(_TS)
    else:
        at = opps.created_at.cast(_TS)
    base = opps.select(
        conversion_id=ibis.literal(conversion + ":").concat(opps.opportunity_id),
        lead_id=opps.lead_id,
        account_id=opps.account_id,
        converted_at=at,
        value=opps.amount.cast("float64").fill_null(0.0),
        opportunity_created_at=opps.created_at.cast(_TS),
        won_at=at if conversion == "won" else ibis.null("timestamp"),
    )
    return _with_lead_created(base, tables.table("leads"))


def conversion_events(
    tables: Tables, *, conversion: str = "won", level: str = "lead", deal_types: tuple[str, ...] = _DEAL_TYPES
) -> ir.Table:
    """One row per conversion: ``conversion_id, entity_id, converted_at, value, lead_created_at,
    opportunity_created_at, won_at`` (the last three mark the W/Z-shaped key touches; null when not reached).

    - ``lead``: the lead's creation (value 0);
    - ``mql``: the lead's first ``mql`` lifecycle event in the ledger (value 0);
    - ``opportunity``: an opportunity's creation (value = its amount, i.e. pipeline);
    - ``won``: a won opportunity at its ``closed_at`` (value = its amount).
    Opportunities count when their ``deal_type`` is in ``deal_types`` (new business by default: renewals and
    expansions are not marketing's to claim) or unknown.
    Opportunities without a lead (or, at account level, without an account) cannot be tied to touches and
    are left out of journeys; ``attribution_comparison`` reports how many conversions had no touch at all.
    """
    _check("conversion", conversion, CONVERSIONS)
    _check("journey level", level, LEVELS)
    if conversion in ("lead", "mql"):
        base = _lead_conversions(tables, conversion)
    else:
        base = _deal_conversions(tables, conversion, deal_types)
    entity = base.lead_id if level == "lead" else base.account_id
    base = base.mutate(entity_id=entity).filter(entity.notnull())
    return base.select(
        "conversion_id",
        "entity_id",
        "converted_at",
        "value",
        "lead_created_at",
        "opportunity_created_at",
        "won_at",
    )


def _as_ts(value: DateLike | None) -> ir.Value | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ConfigError(f"start/end must be ISO dates (2025-01-31). Got {value!r} instead.") from exc
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return ibis.literal(value, type="timestamp")


def _in_window(table: ir.Table, column: str, lo: ir.Value | None, hi: ir.Value | None) -> ir.Table:
    """Rows of ``table`` whose ``column`` is in ``[lo, hi)`` (either bound optional)."""
    if lo is not None:
        table = table.filter(table[column] >= lo)
    if hi is not None:
        table = table.filter(table[column] < hi)
    return table


def _touches(tables: Tables, options: JourneyOptions) -> ir.Table:
    """The touches that can be in a journey, keyed by the journey level's entity (``t_entity``)."""
    touches = tables.table("touchpoints")
    if options.touch_types:
        touches = touches.filter(touches.touch_type.isin(list(options.touch_types)))
    entity_col = "lead_id" if options.level == "lead" else "account_id"
    return touches.select(
        t_entity=touches[entity_col],
        touchpoint_id=touches.touchpoint_id,
        occurred_at=touches.occurred_at.cast("timestamp"),
        channel=touches.channel.fill_null("unknown"),
        campaign_id=touches.campaign_id,
        touch_type=touches.touch_type,
    ).filter(ibis._.t_entity.notnull())


def _touch_columns(t: ir.Table) -> dict[str, ir.Value]:
    return {
        "touchpoint_id": t.touchpoint_id,
        "occurred_at": t.occurred_at,
        "channel": t.channel,
        "campaign_id": t.campaign_id,
        "touch_type": t.touch_type,
    }


def _converted_journeys(conv: ir.Table, touches: ir.Table, lookback: ir.IntervalValue) -> ir.Table:
    """The touches of each conversion inside its lookback window, one row per (conversion, touch)."""
    joined = conv.join(
        touches,
        (conv.entity_id == touches.t_entity)
        & (touches.occurred_at <= conv.converted_at)
        & (touches.occurred_at > conv.converted_at - lookback),
    )
    return joined.select(
        journey_id=joined.conversion_id,
        entity_id=joined.entity_id,
        converted=ibis.literal(True),
        value=joined.value,
        converted_at=joined.converted_at,
        lead_created_at=joined.lead_created_at,
        opportunity_created_at=joined.opportunity_created_at,
        won_at=joined.won_at,
        **_touch_columns(joined),
    )


def _null_journeys(
    all_conv: ir.Table, touches: ir.Table, lookback: ir.IntervalValue, lo: ir.Value | None, hi: ir.Value | None
) -> ir.Table:
    """One journey per entity that never converted: its touches in the lookback before its last touch."""
    converters = all_conv.select(c_entity=all_conv.entity_id).distinct()
    rest = touches.anti_join(converters, touches.t_entity == converters.c_entity)
    last = rest.group_by(l_entity=rest.t_entity).aggregate(last_at=rest.occurred_at.max())
    last = _in_window(last, "last_at", lo, hi)
    nj = rest.join(last, (rest.t_entity == last.l_entity) & (rest.occurred_at > last.last_at - lookback))
    return nj.select(
        journey_id=ibis.literal("null:").concat(nj.t_entity),
        entity_id=nj.t_entity,
        converted=ibis.literal(False),
        value=ibis.literal(0.0),
        converted_at=nj.last_at,
        lead_created_at=ibis.null("timestamp"),
        opportunity_created_at=ibis.null("timestamp"),
        won_at=ibis.null("timestamp"),
        **_touch_columns(nj),
    )


def journey_rows(tables: Tables, options: JourneyOptions | None = None) -> ir.Table:
    """Every touch of every journey, unordered and without window functions (lazy Ibis table).

    Columns: ``journey_id, entity_id, converted, value, converted_at, lead_created_at,
    opportunity_created_at, won_at, touchpoint_id, occurred_at, channel, campaign_id, touch_type``. This is
    :func:`journey_touches` before it numbers the touches and flags the key touches — each of those is a
    window over ten million rows at scale, and engines do not drop an unused window, so
    :func:`transition_counts` starts from here when it is given journeys; ``attribution_credit`` skips the
    journeys altogether (:func:`journey_transition_counts`).
    """
    options = options or JourneyOptions()
    touches = _touches(tables, options)
    all_conv = conversion_events(tables, conversion=options.conversion, level=options.level)
    lo, hi = _as_ts(options.start), _as_ts(options.end)
    conv = _in_window(all_conv, "converted_at", lo, hi)
    lookback = ibis.interval(days=int(options.lookback_days))
    converted = _converted_journeys(conv, touches, lookback)
    if not options.include_nulls:
        return converted
    return converted.union(_null_journeys(all_conv, touches, lookback, lo, hi))


def journey_touches(tables: Tables, options: JourneyOptions | None = None) -> ir.Table:
    """Every touch of every journey, with its position and the W/Z key-touch flags (lazy Ibis table).

    Columns: ``journey_id, entity_id, converted (bool), value, converted_at, touchpoint_id, occurred_at,
    channel, campaign_id, touch_type, position (0-based), n_touches, days_before, is_lead_touch,
    is_opportunity_touch, is_won_touch``. ``days_before`` is the touch's age at the conversion (time decay).
    The lead-creation touch is the last touch at or before the lead was created (likewise the opportunity
    touch); journeys where no touch precedes that moment simply have no such key touch. Which journeys:
    see :class:`JourneyOptions`.
    """
    j = journey_rows(tables, options)
    ordered = ibis.window(group_by=j.journey_id, order_by=[j.occurred_at, j.touchpoint_id])
    whole = ibis.window(group_by=j.journey_id)
    j = j.mutate(
        position=ibis.row_number().over(ordered),
        n_touches=j.touchpoint_id.count().over(whole),
        days_before=(j.converted_at.epoch_seconds() - j.occurred_at.epoch_seconds()).cast("float64") / _SECONDS_PER_DAY,
    )
    lead_pos = ibis.cases((j.occurred_at <= j.lead_created_at, j.position), else_=ibis.null("int64"))
    opp_pos = ibis.cases((j.occurred_at <= j.opportunity_created_at, j.position), else_=ibis.null("int64"))
    j = j.mutate(lead_pos=lead_pos.max().over(whole), opp_pos=opp_pos.max().over(whole))
    j = j.mutate(
        is_lead_touch=(j.position == j.lead_pos).fill_null(False),
        is_opportunity_touch=(j.position == j.opp_pos).fill_null(False),
        is_won_touch=(j.won_at.notnull() & (j.position == j.n_touches - 1)).fill_null(False),
    )
    return j.drop("lead_pos", "opp_pos", "lead_created_at", "opportunity_created_at", "won_at")


def path_key(touches: ir.Table, by: str) -> ir.StringValue:
    """The path element of a touch: its channel, or its campaign (``(no campaign)`` when untagged)."""
    _check("attribution key", by, PATH_KEYS)
    return touches.channel if by == "channel" else touches.campaign_id.fill_null(NO_CAMPAIGN)


def path_counts(touches: ir.Table, *, by: str = "channel") -> ir.Table:
    """Distinct paths with ``conversions``, ``nulls`` and ``value`` — the only table models bring into numpy.

    ``touches`` is :func:`journey_touches`. One journey is one path; the path string lists its touches'
    channels (or campaigns) in time order joined by ``" > "``.
    """
    key = touches.position.cast("string").lpad(7, "0").concat("|", path_key(touches, by))
    per = touches.group_by("journey_id").aggregate(
        steps=key.collect(),
        converted=ibis.ifelse(touches.converted, 1, 0).max(),  # Postgres cannot max() or cast a boolean
        value=touches.value.max(),
    )
    per = per.mutate(path=per.steps.sort().map(lambda s: s.substr(8)).join(PATH_SEPARATOR))
    conv = per.converted.cast("int64")
    return (
        per.group_by("path")
        .aggregate(
            conversions=conv.sum().cast("float64"),
            nulls=(1 - conv).sum().cast("float64"),
            value=per.value.sum().cast("float64"),
        )
        .order_by("path")
    )


def transition_counts(touches: ir.Table, *, by: str = "channel", order: int = 1) -> ir.Table:
    """Markov transition counts ``(from_state, to_state, count, value)`` computed on the engine.

    A state is the channel (or campaign) of a touch — for ``order`` k, the last k of them, oldest first,
    joined by ``","`` (``"email,webinar"``; a journey's first states hold fewer) — plus ``(start)``,
    ``(conversion)`` and ``(null)``. ``value`` is the summed conversion value on rows into ``(conversion)``
    (0 elsewhere). ``touches`` is :func:`journey_rows` (cheapest) or :func:`journey_touches`; the order
    within a journey is ``occurred_at, touchpoint_id`` either way. Consecutive repeats are kept, exactly as
    the path table keeps them, so
    ``MarkovAttribution(order=k).fit_transitions(...)`` on this equals ``fit`` on :func:`path_counts`.

    Every touch row is read once: the lag windows give each touch its previous state, one aggregation counts
    ``(previous state, state, how the journey ends if this is its last touch)``, and the few resulting rows
    are unfolded into the edges into the touch's state and, for last touches, out of it.
    """
    _check_order(order)
    key = path_key(touches, by)
    # ordered like ``position`` but on the raw columns, so the engine can drop journey_touches' own windows
    w = ibis.window(group_by=touches.journey_id, order_by=[touches.occurred_at, touches.touchpoint_id])
    lags = [key.lag(j).over(w) for j in range(1, order + 1)]
    t = touches.mutate(
        _state=_joined_state(key, lags[: order - 1]),
        _prev=_joined_state(lags[0], lags[1:order]).fill_null(START_STATE),
        _end=ibis.ifelse(
            touches.touchpoint_id.lead().over(w).isnull(),
            ibis.ifelse(touches.converted, CONVERSION_STATE, NULL_STATE),
            ibis.null("string"),
        ),
    )
    return _unfolded_edges(t)


def _unfolded_edges(t: ir.Table) -> ir.Table:
    """Edge counts from touch rows carrying ``_prev``, ``_state``, ``_end`` (null unless last) and ``value``.

    One aggregation counts ``(previous state, state, how the journey ends)``; its few rows are unfolded into the
    edge into the touch's state and, for last touches, the edge out of it.
    """
    agg = t.group_by(a=t._prev, b=t._state, end=t._end).aggregate(n=t.count(), v=t.value.sum().cast("float64"))
    side = ibis.memtable({"side": [0, 1]})
    x = agg.cross_join(side)
    x = x.filter((x.side == 0) | x.end.notnull())
    first = x.side == 0
    edges = x.select(
        from_state=ibis.ifelse(first, x.a, x.b),
        to_state=ibis.ifelse(first, x.b, x.end),
        count=x.n,
        value=ibis.ifelse(~first & (x.end == CONVERSION_STATE), x.v.fill_null(0.0), 0.0),
    )
    return (
        edges.group_by("from_state", "to_state")
        .aggregate(count=edges["count"].sum().cast("int64"), value=edges.value.sum().cast("float64"))
        .order_by("from_state", "to_state")
    )


def _check_order(order: object) -> None:
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ConfigError(f"order must be an integer >= 1. Got {order!r} instead.")


def _joined_state(newest: ir.StringValue, older: list[ir.StringValue]) -> ir.StringValue:
    """The last touches' keys, oldest first, joined by ``","``; a null older key ends the state there."""
    state = newest
    for lag in older:  # a missing older touch means every still older one is missing too
        state = ibis.ifelse(lag.isnull(), state, lag.concat(STATE_SEPARATOR, state))
    return state


def _entity_sequence(touches: ir.Table, key: ir.StringValue, order: int) -> ir.Table:
    """Each touch with the keys and times of the ``order`` touches before it and the time of the next one.

    The windows run over the entity's own touches (partitioned by entity, ordered by time then id), before any
    journey exists: one sort of the narrow touch table instead of one of the far wider journey rows, and the
    same order :func:`journey_touches` numbers a journey's touches in, because a journey is a contiguous run of
    its entity's touches (those in ``(converted_at - lookback, converted_at]``).
    """
    w = ibis.window(group_by=touches.t_entity, order_by=[touches.occurred_at, touches.touchpoint_id])
    lags = {f"_k{j}": key.lag(j).over(w) for j in range(1, order + 1)}
    times = {f"_t{j}": touches.occurred_at.lag(j).over(w) for j in range(1, order + 1)}
    return touches.select(
        s_entity=touches.t_entity,
        s_at=touches.occurred_at,
        _k0=key,
        _next_at=touches.occurred_at.lead().over(w),
        **lags,
        **times,
    )


def _last_touches(tables: Tables, options: JourneyOptions) -> ir.Table:
    """``t_entity`` and ``occurred_at`` of the touches :func:`_touches` keeps, as a projection of its own.

    Only the null journeys' last-touch times need it; were it the very expression the window reads, engines
    would materialize all ten million touches once to share them (a CTE) instead of scanning two columns twice.
    """
    touches = tables.table("touchpoints")
    if options.touch_types:
        touches = touches.filter(touches.touch_type.isin(list(options.touch_types)))
    entity = touches["lead_id" if options.level == "lead" else "account_id"]
    touches = touches.filter(entity.notnull())
    return touches.select(t_entity=entity, occurred_at=touches.occurred_at.cast("timestamp"))


def _journey_spans(tables: Tables, options: JourneyOptions) -> ir.Table:
    """One row per journey: ``w_entity``, its window ``(w_start, w_end]``, ``converted`` and ``value``.

    The same journeys :func:`journey_rows` lists touch by touch: each conversion's lookback window, and for
    each entity that never converted the lookback before its last touch (when that touch is in the period).
    """
    all_conv = conversion_events(tables, conversion=options.conversion, level=options.level)
    lo, hi = _as_ts(options.start), _as_ts(options.end)
    conv = _in_window(all_conv, "converted_at", lo, hi)
    lookback = ibis.interval(days=int(options.lookback_days))
    spans = conv.select(
        w_entity=conv.entity_id,
        w_start=conv.converted_at - lookback,
        w_end=conv.converted_at,
        converted=ibis.literal(True),
        value=conv.value,
    )
    if not options.include_nulls:
        return spans
    converters = all_conv.select(c_entity=all_conv.entity_id).distinct()
    touches = _last_touches(tables, options)
    rest = touches.anti_join(converters, touches.t_entity == converters.c_entity)
    last = rest.group_by(w_entity=rest.t_entity).aggregate(w_end=rest.occurred_at.max())
    last = _in_window(last, "w_end", lo, hi)
    nulls = last.select(
        "w_entity",
        w_start=last.w_end - lookback,
        w_end=last.w_end,
        converted=ibis.literal(False),
        value=ibis.literal(0.0),
    )
    return spans.union(nulls)


def journey_transition_counts(
    tables: Tables, options: JourneyOptions | None = None, *, by: str = "channel", order: int = 1
) -> ir.Table:
    """:func:`transition_counts` of the journeys ``options`` describes, without building the journeys first.

    Equal to ``transition_counts(journey_rows(tables, options), by=by, order=order)`` and much cheaper: the
    previous touches and the next touch's time come from windows over each *entity's* touches
    (:func:`_entity_sequence`), and only then is each touch joined to the conversions whose lookback window
    holds it. A touch's ``j``-th predecessor belongs to the same journey exactly when it is later than the
    window's start; the touch is the journey's last when the next one (if any) is later than the window's end.
    No per-journey window, no journey-id string to partition ten million rows by.
    """
    _check_order(order)
    options = options or JourneyOptions()
    touches = _touches(tables, options)
    seq = _entity_sequence(touches, path_key(touches, by), order)
    spans = _journey_spans(tables, options)
    # the windowed touches are referenced once: engines recompute a window per reference
    r = seq.join(spans, (seq.s_entity == spans.w_entity) & (seq.s_at > spans.w_start) & (seq.s_at <= spans.w_end))
    inside = [ibis.ifelse(r[f"_t{j}"] > r.w_start, r[f"_k{j}"], ibis.null("string")) for j in range(1, order + 1)]
    t = r.mutate(
        _state=_joined_state(r._k0, inside[: order - 1]),
        _prev=_joined_state(inside[0], inside[1:order]).fill_null(START_STATE),
        _end=ibis.ifelse(
            r._next_at.isnull() | (r._next_at > r.w_end),
            ibis.ifelse(r.converted, CONVERSION_STATE, NULL_STATE),
            ibis.null("string"),
        ),
    )
    return _unfolded_edges(t)
