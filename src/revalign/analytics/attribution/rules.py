"""Rule-based attribution: every rule model as per-touch weights computed on the engine in one expression.

Each model gives every touch of a converting journey a weight; a journey's weights sum to 1, so credited
conversions sum to the number of conversions and credited revenue to the revenue (tested as a property).

Most rule models are *stage weights*: a share for each key touch plus a share spread evenly over the other
("middle") touches. Key touches are ``first`` and ``last`` (by time), ``lead`` (the last touch at or before the
lead was created), ``opportunity`` (the last touch at or before the opportunity was created) and ``won`` (the
last touch before a won deal closed). When one touch is several keys (a one-touch journey is first, last and
lead at once) it gets their shares added up. When a key does not exist in a journey (no opportunity yet when
the conversion is an MQL) or no touch is left for the middle, the shares that exist are rescaled to sum to 1:
so U-shaped gives 50/50 on a two-touch journey, as the textbook says. A journey where no share applies at all
(e.g. a custom model that credits only the opportunity touch, on lead conversions) falls back to linear.

Custom models are stage weights read from YAML::

    custom_models:
      sourced_heavy: {first: 0.5, lead: 0.3, middle: 0.2}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import yaml

from revalign.analytics.attribution.journeys import path_key
from revalign.errors import ConfigError, UnknownNameError
from revalign.model.access import Tables

STAGE_KEYS = ("first", "lead", "opportunity", "won", "last", "middle")


@dataclass(frozen=True)
class StageWeights:
    """Shares for the key touches and the middle; normalised per journey (see module docstring)."""

    first: float = 0.0
    lead: float = 0.0
    opportunity: float = 0.0
    won: float = 0.0
    last: float = 0.0
    middle: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class LinearRule:
    """Every touch of the journey gets the same share."""


@dataclass(frozen=True)
class TimeDecayRule:
    """A touch ``d`` days before the conversion weighs ``2 ** (-d / half_life_days)`` (then normalised)."""

    half_life_days: float = 7.0


@dataclass(frozen=True)
class LastNonDirectRule:
    """All credit to the last touch whose channel is not ``direct`` (the last touch if every one is direct)."""

    direct_channel: str = "direct"


RuleModel = StageWeights | LinearRule | TimeDecayRule | LastNonDirectRule

RULE_MODELS: dict[str, RuleModel] = {
    "first_touch": StageWeights(first=1.0),
    "last_touch": StageWeights(last=1.0),
    "last_non_direct": LastNonDirectRule(),
    "linear": LinearRule(),
    "time_decay": TimeDecayRule(),
    "position_based": StageWeights(first=0.4, last=0.4, middle=0.2),
    "w_shaped": StageWeights(first=0.3, lead=0.3, opportunity=0.3, middle=0.1),
    "full_path": StageWeights(first=0.225, lead=0.225, opportunity=0.225, won=0.225, middle=0.1),
    "j_shaped": StageWeights(first=0.2, last=0.6, middle=0.2),
    "inverse_j": StageWeights(first=0.6, last=0.2, middle=0.2),
}
"""Built-in rule models by name. ``position_based`` is the U-shaped model; ``full_path`` is Z-shaped."""

ALIASES = {"u_shaped": "position_based", "z_shaped": "full_path", "inverse_j_shaped": "inverse_j"}


def stage_weights_from_mapping(raw: Mapping[str, Any], *, where: str = "custom_models") -> dict[str, StageWeights]:
    """Validate ``{model_name: {stage: weight}}`` (from YAML or settings) into stage-weight models."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must map model names to stage weights. Got {type(raw).__name__} instead.")
    out: dict[str, StageWeights] = {}
    for name, weights in raw.items():
        if name in RULE_MODELS or name in ALIASES or name in ("markov", "shapley"):
            raise ConfigError(f"{where}.{name}: a built-in model has that name; choose another name.")
        if not isinstance(weights, Mapping) or not weights:
            raise ConfigError(f"{where}.{name}: must map stages ({', '.join(STAGE_KEYS)}) to weights.")
        values: dict[str, float] = {}
        for key, value in weights.items():
            if key not in STAGE_KEYS:
                raise ConfigError(f"{where}.{name}.{key}: unknown stage; allowed stages: {', '.join(STAGE_KEYS)}.")
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ConfigError(f"{where}.{name}.{key}: weight must be a number >= 0. Got {value!r} instead.")
            values[key] = float(value)
        if sum(values.values()) <= 0:
            raise ConfigError(f"{where}.{name}: weights sum to 0; give at least one stage a positive weight.")
        out[str(name)] = StageWeights(**values)
    return out


def load_stage_weights(path: str | Path) -> dict[str, StageWeights]:
    """Custom stage-weight models from a YAML file (top-level key ``custom_models`` or the mapping itself)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read custom attribution models: {exc}") from exc
    if isinstance(raw, Mapping) and "custom_models" in raw:
        raw = raw["custom_models"]
    return stage_weights_from_mapping(raw, where=str(path))


def resolve_rule(name: str, custom: Mapping[str, RuleModel] | None = None) -> RuleModel:
    """The rule model called ``name`` (built-in, alias or custom)."""
    name = ALIASES.get(name, name)
    models = {**RULE_MODELS, **(custom or {})}
    if name not in models:
        raise UnknownNameError("attribution model", name, [*models, "markov", "shapley"])
    return models[name]


def _flags(t: ir.Table) -> dict[str, ir.BooleanValue]:
    return {
        "first": t.position == 0,
        "last": t.position == t.n_touches - 1,
        "lead": t.is_lead_touch,
        "opportunity": t.is_opportunity_touch,
        "won": t.is_won_touch,
    }


def _is_key(t: ir.Table, model: StageWeights) -> ir.BooleanValue:
    weights = model.as_dict()
    is_key: ir.BooleanValue = ibis.literal(False)
    for key, flag in _flags(t).items():
        if weights[key] > 0:
            is_key = is_key | flag
    return is_key


def with_weights(touches: ir.Table, models: Mapping[str, RuleModel]) -> ir.Table:
    """Converting touches with one weight column ``w<i>`` per model, in two flat selects.

    Every per-journey quantity a model needs (key touches present, middle-touch count, time-decay total, last
    non-direct position) is a window aggregate computed in ONE select; the weights are then plain row
    arithmetic in a second. Nesting a window per model instead makes the SQL grow with the number of models
    (and DuckDB's planner with it). A journey's total score is known in closed form: the shares of the keys
    present (a key shared by two touches still counts once per key) plus the middle share when a middle
    touch exists.
    """
    t = touches.filter(touches.converted)
    journey = ibis.window(group_by=t.journey_id)
    flags = _flags(t)
    windows: dict[str, ir.Value] = {
        "_has_lead": ibis.ifelse(flags["lead"], 1, 0).max().over(journey),
        "_has_opp": ibis.ifelse(flags["opportunity"], 1, 0).max().over(journey),
        "_has_won": ibis.ifelse(flags["won"], 1, 0).max().over(journey),
    }
    for i, model in enumerate(models.values()):
        if isinstance(model, TimeDecayRule):
            if not model.half_life_days > 0:
                raise ConfigError(f"half_life_days must be > 0. Got {model.half_life_days!r} instead.")
            decay = (t.days_before * (-math.log(2.0) / float(model.half_life_days))).exp()
            windows[f"_s{i}"] = decay
            windows[f"_tot{i}"] = decay.sum().over(journey)
        elif isinstance(model, LastNonDirectRule):
            nd = ibis.cases((t.channel != model.direct_channel, t.position), else_=ibis.null("int64"))
            windows[f"_target{i}"] = nd.max().over(journey)
        elif isinstance(model, StageWeights):
            windows[f"_key{i}"] = _is_key(t, model)
            windows[f"_nmid{i}"] = ibis.ifelse(_is_key(t, model), 0, 1).sum().over(journey)
    t = t.mutate(**windows)
    n = t.n_touches.cast("float64")
    weights: dict[str, ir.Value] = {}
    for i, model in enumerate(models.values()):
        if isinstance(model, LinearRule):
            w = 1.0 / n
        elif isinstance(model, TimeDecayRule):
            w = t[f"_s{i}"] / t[f"_tot{i}"]
        elif isinstance(model, LastNonDirectRule):
            w = ibis.ifelse(t.position == t[f"_target{i}"].fill_null(t.n_touches - 1), 1.0, 0.0)
        else:
            sw = model.as_dict()
            raw: ir.FloatingValue = ibis.literal(0.0)
            for key, flag in _flags(t).items():
                if sw[key] > 0:
                    raw = raw + ibis.ifelse(flag, sw[key], 0.0)
            nmid = t[f"_nmid{i}"]
            score = raw + ibis.ifelse(t[f"_key{i}"], 0.0, sw["middle"] / nmid.cast("float64"))
            total = (
                sw["first"]
                + sw["last"]
                + sw["lead"] * t._has_lead
                + sw["opportunity"] * t._has_opp
                + sw["won"] * t._has_won
                + ibis.ifelse(nmid > 0, sw["middle"], 0.0)
            )
            w = ibis.ifelse(total > 0, score / total, 1.0 / n)
        weights[f"w{i}"] = w.cast("float64")
    t = t.mutate(**weights)
    return t.drop(*[c for c in t.columns if c.startswith("_")])


def touch_weights(touches: ir.Table, model: RuleModel) -> ir.Table:
    """Converting touches of :func:`~revalign.analytics.attribution.journeys.journey_touches` with ``weight``."""
    t = with_weights(touches, {"model": model})
    return t.rename(weight="w0")


def rule_credit_wide(touches: ir.Table, models: Mapping[str, RuleModel], *, by: str = "channel") -> ir.Table:
    """One scan for every rule model: ``key`` plus ``c<i>`` (conversions) and ``r<i>`` (revenue) per model ``i``.

    All models' weights are columns of the same touch table, so the journeys are built and scanned once.
    """
    if not models:
        raise ConfigError("no rule models to compute; pass at least one model name.")
    t = with_weights(touches, models)
    t = t.mutate(key=path_key(t, by))
    aggs = {}
    for i in range(len(models)):
        aggs[f"c{i}"] = t[f"w{i}"].sum()
        aggs[f"r{i}"] = (t[f"w{i}"] * t.value).sum()
    return t.group_by("key").aggregate(**aggs)


def long_credit(wide: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """``model, key, conversions, revenue`` from :func:`rule_credit_wide`'s executed result."""
    parts = [
        pd.DataFrame(
            {
                "model": name,
                "key": wide["key"].to_numpy(),
                "conversions": wide[f"c{i}"].astype("float64").to_numpy(),
                "revenue": wide[f"r{i}"].astype("float64").to_numpy(),
            }
        )
        for i, name in enumerate(names)
    ]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["model", "key"])


def rule_credit(
    tables: Tables, touches: ir.Table, models: Mapping[str, RuleModel], *, by: str = "channel"
) -> pd.DataFrame:
    """Credited ``conversions`` and ``revenue`` per ``model`` and ``key`` (channel or campaign), run on ``tables``."""
    return long_credit(tables.to_pandas(rule_credit_wide(touches, models, by=by)), list(models))
