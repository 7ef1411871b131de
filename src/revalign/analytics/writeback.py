"""⑥ The values revalign writes back to the CRM, one row per record and value: what the CRM *should* hold.

Three numbers are worth seeing where sales works (docs/writeback.md):

- ``lead_score`` — each lead's score in the latest applied run of the agreed scoring model (the ``scores`` table,
  what ``revalign score apply`` wrote), in whole points;
- ``audited_source`` — each opportunity's source as audited (:mod:`revalign.analytics.audit.credit`: the
  overwrites and re-creations the audit found, undone), as the canonical channel code;
- ``marketing_credit`` — the percentage of each deal's credit that marketing's touches earn under a rule
  attribution model: the touches' weights (:func:`~revalign.analytics.attribution.touch_weights`) summed over
  the marketing touches of the deal's journey, out of 100. Only deals with a touch in the lookback get one.

Each is rounded to what its CRM field holds (:data:`DECIMALS`), so a value read back from the CRM compares equal
to the one computed and a second write-back plan is empty. Everything here takes tables and definitions; which
records exist in the CRM, and what they hold now, is the write-back's business (:mod:`revalign.sources.writeback`).
"""

from __future__ import annotations

from typing import Final

import ibis
import pandas as pd

from revalign.analytics.attribution.journeys import JourneyOptions, journey_touches
from revalign.analytics.attribution.models import DATA_DRIVEN
from revalign.analytics.attribution.rules import RuleModel, resolve_rule, touch_weights
from revalign.analytics.scoring.scores import latest_scores
from revalign.definitions.writeback import VALUE_ENTITIES, WritebackSettings
from revalign.errors import ConfigError
from revalign.model.access import Tables

DESIRED_COLUMNS: Final = ("entity", "record_id", "value_name", "value")
"""One desired value: whose record (``lead``/``opportunity``), its id (the CRM's), which value, and the value."""

DECIMALS: Final = {"lead_score": 0, "marketing_credit": 2}
"""Decimals each number keeps: a score in whole points, a percentage to two decimals (a Percent(3,2) field)."""

UNITS: Final = {"lead_score": "score", "audited_source": None, "marketing_credit": "percent_x100"}
"""The display unit of each value (:mod:`revalign.display.units`); the percentage is already out of 100."""


def lead_scores(tables: Tables, model: str, version: int | None = None) -> pd.DataFrame:
    """The latest applied run of ``model`` (``version``, else its newest): ``record_id, value`` in whole points."""
    rows = tables.to_pandas(latest_scores(tables, model, version).select("lead_id", "score"))
    if rows.empty:
        raise ConfigError(
            f"scoring model {model!r} has no applied scores to write back: run `revalign score apply` first "
            "(docs/scoring.md)"
        )
    return pd.DataFrame({"record_id": rows["lead_id"], "value": rows["score"].astype(float).round(0)})


def audited_sources(audited: Tables) -> pd.DataFrame:
    """Each opportunity's ``lead_source`` in ``audited`` (the tables as audited): ``record_id, value``."""
    opps = audited.table("opportunities")
    rows = audited.to_pandas(opps.select(record_id=opps.opportunity_id, value=opps.lead_source))
    return rows.dropna(subset=["value"]).reset_index(drop=True)


def credit_rule(name: str, custom: dict[str, RuleModel] | None = None) -> RuleModel:
    """The rule model ``name`` (built-in, alias or custom); a data-driven model is refused with the reason."""
    if name in DATA_DRIVEN:
        raise ConfigError(
            f"writeback.credit_model: {name} credits channels, not deals, so it gives no per-deal share; choose a "
            "rule model (w_shaped, position_based, linear, time_decay, …) for the write-back"
        )
    return resolve_rule(name, custom)


def marketing_credit(tables: Tables, rule: RuleModel, options: JourneyOptions) -> pd.DataFrame:
    """Marketing's percentage of each deal's credit under ``rule``: ``record_id, value`` (0–100).

    A deal's journey is its lead's touches in the lookback before ``options.conversion`` (opportunity creation,
    or the win); each touch's weight is its share of the deal (weights of a journey sum to 1), so marketing's
    share is the sum over touches whose ``touch_type`` is ``marketing``.
    """
    weighted = touch_weights(journey_touches(tables, options), rule)
    marketing = ibis.ifelse(weighted.touch_type == "marketing", weighted.weight, 0.0)
    per_deal = weighted.group_by("journey_id").aggregate(part=marketing.sum(), whole=weighted.weight.sum())
    rows = tables.to_pandas(per_deal)
    share = (100.0 * rows["part"].astype(float) / rows["whole"].astype(float)).round(DECIMALS["marketing_credit"])
    ids = rows["journey_id"].str.split(":", n=1).str[1]
    return pd.DataFrame({"record_id": ids, "value": share}).sort_values("record_id", ignore_index=True)


def desired_values(
    tables: Tables,
    audited: Tables,
    settings: WritebackSettings,
    *,
    values: tuple[str, ...],
    score_model: str,
    credit: RuleModel,
) -> pd.DataFrame:
    """Every value of ``values`` for every record: ``entity, record_id, value_name, value`` (value as object).

    ``audited`` is ``tables`` as audited (for ``audited_source``); ``score_model`` the scoring model whose run is
    written; ``credit`` the rule model of ``marketing_credit``.
    """
    parts = []
    for name in values:
        if name == "lead_score":
            part = lead_scores(tables, score_model, settings.score_version)
        elif name == "audited_source":
            part = audited_sources(audited)
        elif name == "marketing_credit":
            options = JourneyOptions(
                conversion=settings.credit_conversion, lookback_days=settings.lookback_days, include_nulls=False
            )
            part = marketing_credit(tables, credit, options)
        else:
            raise ConfigError(f"unknown write-back value {name!r}; known: {', '.join(VALUE_ENTITIES)}")
        parts.append(part.astype({"value": object}).assign(entity=VALUE_ENTITIES[name], value_name=name))
    if not parts:
        return pd.DataFrame(columns=list(DESIRED_COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(DESIRED_COLUMNS)]


__all__ = [
    "DECIMALS",
    "DESIRED_COLUMNS",
    "UNITS",
    "audited_sources",
    "credit_rule",
    "desired_values",
    "lead_scores",
    "marketing_credit",
]
