"""The model of record per use, and freezing a closed period.

Different decisions want different models: budget moves on a data-driven model, commissions on a rule both
teams can check by hand, the board on something stable. ``revalign.yaml`` declares which one is *of record*
for each use, so every page and report says the same::

    extra:
      attribution:
        model_of_record: {budget: markov, compensation: w_shaped, board: position_based}
        custom_models:                        # stage weights (see rules.py), usable like built-ins
          sourced_heavy: {first: 0.5, lead: 0.3, middle: 0.2}
        custom_models_file: attribution.yaml  # or from a file (project-relative)

The project reads that mapping and hands it here (:func:`attribution_settings`); nothing here reads settings
itself. Closing a quarter freezes its credit: :func:`freeze_period` stores every model's credit for that period
in the frozen-credit store (:mod:`.frozen`); later comparisons for the same period read it back instead of
recomputing, so late-arriving touches or a re-mapped channel cannot move last quarter's commission or board
numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from revalign.analytics.attribution.compare import attribution_credit
from revalign.analytics.attribution.frozen import FROZEN_SCHEMA, FROZEN_TABLE, FrozenCredit, iso
from revalign.analytics.attribution.models import ALL_MODELS
from revalign.analytics.attribution.rules import RuleModel, load_stage_weights, stage_weights_from_mapping
from revalign.errors import ConfigError, UnknownNameError
from revalign.model.access import Tables

USES = ("budget", "compensation", "board")
DEFAULT_MODEL_OF_RECORD = {"budget": "markov", "compensation": "w_shaped", "board": "position_based"}
_WHERE = "revalign.yaml: extra.attribution"
_KEYS = ("model_of_record", "custom_models", "custom_models_file")


@dataclass(frozen=True)
class AttributionSettings:
    """The attribution part of the project settings, validated."""

    model_of_record: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_MODEL_OF_RECORD))
    custom_models: dict[str, RuleModel] = field(default_factory=dict)


def _custom_models(raw: Mapping[str, Any], folder: Path | None) -> dict[str, RuleModel]:
    """The custom stage-weight models: from ``custom_models_file`` (project-relative), then ``custom_models``."""
    custom: dict[str, RuleModel] = {}
    if raw.get("custom_models_file"):
        path = Path(raw["custom_models_file"])
        custom.update(load_stage_weights(path if path.is_absolute() or folder is None else folder / path))
    if raw.get("custom_models"):
        custom.update(stage_weights_from_mapping(raw["custom_models"], where=f"{_WHERE}.custom_models"))
    return custom


def attribution_settings(raw: Mapping[str, Any] | None, folder: Path | None = None) -> AttributionSettings:
    """Validate ``extra.attribution`` of ``revalign.yaml`` (``None`` or empty: the defaults).

    ``folder`` is the project folder, against which a relative ``custom_models_file`` is read.
    """
    if not raw:
        return AttributionSettings()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{_WHERE} must be a mapping (model_of_record, custom_models, custom_models_file).")
    unknown = set(raw) - set(_KEYS)
    if unknown:
        raise ConfigError(f"{_WHERE}: unknown key(s) {sorted(unknown)}; allowed: {', '.join(_KEYS)}.")
    custom = _custom_models(raw, folder)
    record = dict(DEFAULT_MODEL_OF_RECORD)
    given = raw.get("model_of_record") or {}
    if not isinstance(given, Mapping):
        raise ConfigError(f"{_WHERE}.model_of_record must map uses ({', '.join(USES)}) to model names.")
    known = [*ALL_MODELS, *custom]
    for use, model in given.items():
        if use not in USES:
            raise ConfigError(f"{_WHERE}.model_of_record.{use}: unknown use; allowed uses: {', '.join(USES)}.")
        if model not in known:
            raise ConfigError(f"{_WHERE}.model_of_record.{use}: unknown model {model!r}; known: {', '.join(known)}.")
        record[use] = str(model)
    return AttributionSettings(model_of_record=record, custom_models=custom)


def model_of_record(settings: AttributionSettings, use: str) -> str:
    """The model declared for ``use`` (budget, compensation or board)."""
    if use not in USES:
        raise UnknownNameError("attribution use", use, USES)
    return settings.model_of_record[use]


def freeze_period(
    tables: Tables,
    *,
    frozen: FrozenCredit,
    period: str,
    start: dt.date | dt.datetime | str,
    end: dt.date | dt.datetime | str,
    conversion: str = "won",
    lookback_days: int = 90,
    by: str = "channel",
    models: Sequence[str] | None = None,
    custom_models: Mapping[str, RuleModel] | None = None,
) -> pd.DataFrame:
    """Compute every model's credit for ``[start, end)`` and append it to the ``frozen`` store.

    Refuses to freeze the same period and setting twice: a frozen period is closed on purpose.
    """
    if frozen.lookup(conversion=conversion, lookback_days=lookback_days, by=by, start=start, end=end) is not None:
        raise ConfigError(
            f"period {period!r} ({iso(start)} to {iso(end)}, {conversion}, {lookback_days} days, by {by}) is "
            f"already frozen in {FROZEN_TABLE}; frozen credit is never overwritten."
        )
    credit = attribution_credit(
        tables,
        conversion=conversion,
        lookback_days=lookback_days,
        by=by,
        models=models,
        start=start,
        end=end,
        custom_models=custom_models,
    )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    rows = credit.assign(
        period=period,
        start=iso(start),
        end=iso(end),
        conversion=conversion,
        lookback_days=int(lookback_days),
        by=by,
        frozen_at=pd.Timestamp(now),
    )[list(FROZEN_SCHEMA.names)]
    frozen.append(rows)
    return rows
