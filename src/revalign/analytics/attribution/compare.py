"""Every attribution model side by side, with spend: credited conversions, revenue, ROMI and CAC per key.

One call computes the journeys on the engine, every rule model as a single Ibis expression, the Markov
transition counts of each order as one aggregation, and the path table for Shapley; only those small tables
come into numpy.

- ``romi = (revenue − spend) / spend`` (return on marketing investment; null without spend);
- ``cac = spend / conversions`` — customer acquisition cost when the conversion is ``won``; for other
  conversions it is the cost per lead / MQL / opportunity (null without credited conversions).
Spend is matched by channel (or campaign) and by ``date`` in ``[start, end)``; spend rows with no channel
(salaries, tools) cannot be given to a channel and are left out of these ratios (they are in blended CAC
KPIs elsewhere).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from revalign.analytics.attribution.frozen import FrozenCredit
from revalign.analytics.attribution.journeys import (
    NO_CAMPAIGN,
    PATH_SEPARATOR,
    JourneyOptions,
    journey_touches,
    journey_transition_counts,
    path_counts,
)
from revalign.analytics.attribution.markov import MarkovAttribution
from revalign.analytics.attribution.models import ALL_MODELS, DATA_DRIVEN, MARKOV_ORDERS, model_names
from revalign.analytics.attribution.rules import RuleModel, resolve_rule, rule_credit
from revalign.analytics.attribution.shapley import ShapleyAttribution
from revalign.model.access import Tables

COLUMNS = ("model", "key", "conversions", "revenue", "spend", "romi", "cac")
_EMPTY_CREDIT = ("key", "conversions", "revenue")


def markov_credit(counts: pd.DataFrame, order: int) -> pd.DataFrame:
    """``key, conversions, revenue`` from engine-side transition counts (only that small table is in pandas)."""
    if counts.empty or counts.loc[counts["to_state"] == "(conversion)", "count"].sum() <= 0:
        return pd.DataFrame({c: [] for c in _EMPTY_CREDIT})
    credit = MarkovAttribution(order=order).fit_transitions(counts).credit()
    return credit.rename(columns={"channel": "key", "value": "revenue"})[list(_EMPTY_CREDIT)]


def data_driven_credit(paths: pd.DataFrame, name: str) -> pd.DataFrame:
    """``key, conversions, revenue`` for one data-driven model fitted on ``paths``."""
    if paths.empty or paths["conversions"].sum() <= 0:
        return pd.DataFrame({c: [] for c in _EMPTY_CREDIT})
    if name == "shapley":
        est: MarkovAttribution | ShapleyAttribution = ShapleyAttribution(separator=">")
    else:
        est = MarkovAttribution(order=2 if name == "markov_2" else 1, separator=">")
    credit = est.fit(paths).credit()
    return credit.rename(columns={"channel": "key", "value": "revenue"})[list(_EMPTY_CREDIT)]


def _ordered(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Rows in the order of ``names`` (the user's model order), then by key."""
    order = {n: i for i, n in enumerate(names)}
    return frame.assign(_o=frame["model"].map(order)).sort_values(["_o", "key"], kind="stable").drop(columns="_o")


def attribution_credit(
    tables: Tables,
    *,
    conversion: str = "won",
    lookback_days: int = 90,
    by: str = "channel",
    models: Sequence[str] | None = None,
    start: dt.date | dt.datetime | str | None = None,
    end: dt.date | dt.datetime | str | None = None,
    level: str = "lead",
    custom_models: Mapping[str, RuleModel] | None = None,
) -> pd.DataFrame:
    """Credited ``conversions`` and ``revenue`` per ``model`` × ``key`` (channel or campaign), as pandas.

    ``custom_models`` are the project's own stage-weight models (``AttributionSettings.custom_models``), usable
    by name like the built-ins.
    """
    custom = dict(custom_models or {})
    names = model_names(models, custom)
    options = JourneyOptions(conversion=conversion, level=level, lookback_days=lookback_days, start=start, end=end)
    touches = journey_touches(tables, options)
    frames = []
    rules = {n: resolve_rule(n, custom) for n in names if n not in DATA_DRIVEN}
    if rules:
        frames.append(rule_credit(tables, touches, rules, by=by))
    if "shapley" in names:
        paths = tables.to_pandas(path_counts(touches, by=by))
        frames.append(data_driven_credit(paths, "shapley").assign(model="shapley"))
    # counted from each entity's ordered touches: no journey is built, no per-journey window
    for name in (n for n in names if n in MARKOV_ORDERS):
        counts = tables.to_pandas(journey_transition_counts(tables, options, by=by, order=MARKOV_ORDERS[name]))
        frames.append(markov_credit(counts, MARKOV_ORDERS[name]).assign(model=name))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["model", "key"])
    out = out[["model", "key", "conversions", "revenue"]].astype({"conversions": "float64", "revenue": "float64"})
    order = {n: i for i, n in enumerate(names)}
    out = out.assign(_o=out["model"].map(order)).sort_values(["_o", "key"]).drop(columns="_o")
    return out.reset_index(drop=True)


def spend_by_key(
    tables: Tables,
    *,
    by: str = "channel",
    start: dt.date | dt.datetime | str | None = None,
    end: dt.date | dt.datetime | str | None = None,
) -> pd.DataFrame:
    """Spend per channel (or campaign) in ``[start, end)`` — aggregated on the engine."""
    spend = tables.table("spend")
    if start is not None:
        spend = spend.filter(spend.date >= _as_date(start))
    if end is not None:
        spend = spend.filter(spend.date < _as_date(end))
    key = spend.channel if by == "channel" else spend.campaign_id.fill_null(NO_CAMPAIGN)
    spend = spend.filter(spend.channel.notnull()) if by == "channel" else spend
    agg = spend.group_by(key=key).aggregate(spend=spend.amount.sum().cast("float64"))
    return tables.to_pandas(agg)


def _as_date(value: dt.date | dt.datetime | str) -> dt.date:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.date() if isinstance(value, dt.datetime) else value


def with_spend(credit: pd.DataFrame, spend: pd.DataFrame) -> pd.DataFrame:
    """Join spend onto credit (every model gets every key that has credit or spend) and add ROMI and CAC."""
    spend = spend.groupby("key", as_index=False)["spend"].sum()
    rows = []
    for model, part in credit.groupby("model", sort=False):
        merged = part.merge(spend, on="key", how="outer")
        merged["model"] = model
        rows.append(merged)
    if not rows:
        return pd.DataFrame(columns=list(COLUMNS))
    out = pd.concat(rows, ignore_index=True)
    out[["conversions", "revenue"]] = out[["conversions", "revenue"]].fillna(0.0)
    out["spend"] = out["spend"].fillna(0.0)
    has_spend = out["spend"] > 0
    out["romi"] = np.where(has_spend, (out["revenue"] - out["spend"]) / out["spend"].where(has_spend, 1.0), np.nan)
    has_conv = out["conversions"] > 1e-12
    out["cac"] = np.where(has_conv & has_spend, out["spend"] / out["conversions"].where(has_conv, 1.0), np.nan)
    return out[list(COLUMNS)]


def attribution_comparison(
    tables: Tables,
    *,
    conversion: str = "won",
    lookback_days: int = 90,
    by: str = "channel",
    models: Sequence[str] | None = None,
    start: dt.date | dt.datetime | str | None = None,
    end: dt.date | dt.datetime | str | None = None,
    custom_models: Mapping[str, RuleModel] | None = None,
    frozen: FrozenCredit | None = None,
) -> pd.DataFrame:
    """One row per model × channel (or campaign): ``model, <by>, conversions, revenue, spend, romi, cac``.

    JSON-friendly (plain floats, NaN where a ratio has no denominator). ``custom_models`` are the project's
    own stage-weight models. With ``frozen`` (the project's frozen-credit store), when the exact period
    (``start``, ``end``, ``conversion``, ``lookback_days``, ``by``) was frozen with
    :func:`~revalign.analytics.attribution.record.freeze_period`, the frozen credit is used for the models it
    holds, so a closed quarter's numbers do not move when new data arrives; without it everything is computed.
    """
    all_names = model_names(models, custom_models)
    stored = (
        frozen.lookup(conversion=conversion, lookback_days=lookback_days, by=by, start=start, end=end)
        if frozen is not None
        else None
    )
    names = list(all_names)
    parts = []
    if stored is not None:
        stored = stored[stored["model"].isin(names)]
        parts.append(stored[["model", "key", "conversions", "revenue"]])
        names = [n for n in names if n not in set(stored["model"])]
    if names:
        parts.append(
            attribution_credit(
                tables,
                conversion=conversion,
                lookback_days=lookback_days,
                by=by,
                models=names,
                start=start,
                end=end,
                custom_models=custom_models,
            )
        )
    credit = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["model", "key"])
    out = with_spend(credit, spend_by_key(tables, by=by, start=start, end=end))
    return _ordered(out, all_names).rename(columns={"key": by}).reset_index(drop=True)


__all__ = [
    "ALL_MODELS",
    "DATA_DRIVEN",
    "PATH_SEPARATOR",
    "attribution_comparison",
    "attribution_credit",
    "spend_by_key",
    "with_spend",
]
