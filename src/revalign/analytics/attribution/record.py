"""The model of record per use, and frozen closed periods.

Different decisions want different models: budget moves on a data-driven model, commissions on a rule both
teams can check by hand, the board on something stable. ``revalign.yaml`` declares which one is *of record*
for each use, so every page and report says the same::

    extra:
      attribution:
        model_of_record: {budget: markov, compensation: w_shaped, board: position_based}
        custom_models:                        # stage weights (see rules.py), usable like built-ins
          sourced_heavy: {first: 0.5, lead: 0.3, middle: 0.2}
        custom_models_file: attribution.yaml  # or from a file (project-relative)

Closing a quarter freezes its credit: :func:`freeze_period` stores every model's credit for that period in
``_attribution_frozen``; later runs for the same period read it back instead of recomputing, so late-arriving
touches or a re-mapped channel cannot move last quarter's commission or board numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from revalign.analytics.attribution.rules import RuleModel, load_stage_weights, stage_weights_from_mapping
from revalign.errors import ConfigError, UnknownNameError

FROZEN_TABLE = "_attribution_frozen"
USES = ("budget", "compensation", "board")
DEFAULT_MODEL_OF_RECORD = {"budget": "markov", "compensation": "w_shaped", "board": "position_based"}
FROZEN_SCHEMA = ibis.schema(
    {
        "period": "string",
        "start": "string",
        "end": "string",
        "conversion": "string",
        "lookback_days": "int64",
        "by": "string",
        "model": "string",
        "key": "string",
        "conversions": "float64",
        "revenue": "float64",
        "frozen_at": "timestamp",
    }
)


@dataclass(frozen=True)
class AttributionSettings:
    """The attribution part of the project settings, validated."""

    model_of_record: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_MODEL_OF_RECORD))
    custom_models: dict[str, RuleModel] = field(default_factory=dict)


def attribution_settings(source: Any) -> AttributionSettings:
    """Read ``extra.attribution`` from a Project's settings (an Engine alone gets the defaults)."""
    settings = getattr(source, "settings", None)
    raw = (getattr(settings, "extra", None) or {}).get("attribution") if settings is not None else None
    if not raw:
        return AttributionSettings()
    where = "revalign.yaml: extra.attribution"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping (model_of_record, custom_models, custom_models_file).")
    unknown = set(raw) - {"model_of_record", "custom_models", "custom_models_file"}
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {sorted(unknown)}; allowed: model_of_record, custom_models, custom_models_file."
        )
    custom: dict[str, RuleModel] = {}
    if raw.get("custom_models_file"):
        path = Path(raw["custom_models_file"])
        folder = getattr(source, "folder", None)
        custom.update(load_stage_weights(path if path.is_absolute() or folder is None else Path(folder) / path))
    if raw.get("custom_models"):
        custom.update(stage_weights_from_mapping(raw["custom_models"], where=f"{where}.custom_models"))
    record = dict(DEFAULT_MODEL_OF_RECORD)
    given = raw.get("model_of_record") or {}
    if not isinstance(given, Mapping):
        raise ConfigError(f"{where}.model_of_record must map uses ({', '.join(USES)}) to model names.")
    from revalign.analytics.attribution.compare import ALL_MODELS

    known = [*ALL_MODELS, *custom]
    for use, model in given.items():
        if use not in USES:
            raise ConfigError(f"{where}.model_of_record.{use}: unknown use; allowed uses: {', '.join(USES)}.")
        if model not in known:
            raise ConfigError(f"{where}.model_of_record.{use}: unknown model {model!r}; known: {', '.join(known)}.")
        record[use] = str(model)
    return AttributionSettings(model_of_record=record, custom_models=custom)


def model_of_record(source: Any, use: str) -> str:
    """The model declared for ``use`` (budget, compensation or board)."""
    if use not in USES:
        raise UnknownNameError("attribution use", use, USES)
    return attribution_settings(source).model_of_record[use]


def _iso(value: dt.date | dt.datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    return value.isoformat()


def frozen_credit(
    source: Any,
    *,
    conversion: str,
    lookback_days: int,
    by: str,
    start: dt.date | dt.datetime | str | None,
    end: dt.date | dt.datetime | str | None,
) -> pd.DataFrame | None:
    """The frozen credit rows for exactly this period and setting, or ``None`` when nothing was frozen."""
    from revalign.analytics.attribution.journeys import engine_of

    engine = engine_of(source)
    if not engine.has_table(FROZEN_TABLE):
        return None
    t = engine.table(FROZEN_TABLE)
    t = t.filter(
        (t.start == _iso(start))
        & (t.end == _iso(end))
        & (t.conversion == conversion)
        & (t.lookback_days == int(lookback_days))
        & (t["by"] == by)
    )
    rows = engine.execute(t)
    return None if rows.empty else rows


def freeze_period(
    source: Any,
    *,
    period: str,
    start: dt.date | dt.datetime | str,
    end: dt.date | dt.datetime | str,
    conversion: str = "won",
    lookback_days: int = 90,
    by: str = "channel",
    models: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Compute every model's credit for ``[start, end)`` and store it in ``_attribution_frozen`` (append-only).

    Refuses to freeze the same period and setting twice: a frozen period is closed on purpose.
    """
    from revalign.analytics.attribution.compare import attribution_credit
    from revalign.analytics.attribution.journeys import engine_of

    setting = {"conversion": conversion, "lookback_days": lookback_days, "by": by, "start": start, "end": end}
    if frozen_credit(source, **setting) is not None:
        raise ConfigError(
            f"period {period!r} ({_iso(start)} to {_iso(end)}, {conversion}, {lookback_days} days, by {by}) is "
            f"already frozen in {FROZEN_TABLE}; frozen credit is never overwritten."
        )
    credit = attribution_credit(
        source, conversion=conversion, lookback_days=lookback_days, by=by, models=models, start=start, end=end
    )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    rows = credit.assign(
        period=period,
        start=_iso(start),
        end=_iso(end),
        conversion=conversion,
        lookback_days=int(lookback_days),
        by=by,
        frozen_at=pd.Timestamp(now),
    )[list(FROZEN_SCHEMA.names)]
    engine_of(source).write(FROZEN_TABLE, rows, schema=FROZEN_SCHEMA, mode="append")
    return rows
