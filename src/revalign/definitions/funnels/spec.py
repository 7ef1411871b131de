"""Funnel definitions as typed data: ordered steps over the ledger, windows, order, entity and the rules.

A funnel is data, not code, like a KPI: ``funnels.yaml`` holds the defaults and a project adds its own. The
models are strict (unknown keys are errors) so a typo such as ``withn: 30d`` fails at load time with the file
and line (see :mod:`revalign.definitions.funnels.loader`) instead of silently widening a window.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from revalign.model.tables import LEDGER_KINDS

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, None: 86400}

LEDGER_FILTER_COLUMNS = ("entity_type", "old_value", "new_value", "reason", "actor_id")
"""Ledger columns a step's ``where`` may test (``kind`` and ``name`` are the selector itself)."""

ENTITIES = ("lead", "account", "opportunity")
GRAINS = ("day", "week", "month", "quarter", "year")


def parse_duration(value: object) -> timedelta:
    """``"30d"``, ``"12h"``, ``"2w"``, ``"90m"``, ``"45s"`` or a plain number of days → timedelta.

    Days are the default unit because conversion windows are almost always stated in days.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"a duration must be like '30d', '12h' or '2w'. Got {value!r} instead.")
    if isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError(f"a duration must be like '30d', '12h' or '2w'. Got {value!r} instead.")
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"a duration must be like '30d', '12h' or '2w'. Got {value!r} instead.")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"a duration must be positive. Got {value!r} instead.")
    return timedelta(seconds=seconds)


class EventSelector(BaseModel):
    """Which ledger rows mark a step: ``kind`` + one or more ``name`` values + optional column filters.

    ``where`` tests ledger columns (``reason``, ``new_value``, ``old_value``, ``actor_id``, ``entity_type``);
    a list means "any of these values".
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["lifecycle", "stage", "field"] = "lifecycle"
    name: tuple[str, ...]
    where: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("name", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("where", mode="before")
    @classmethod
    def _where(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        out: dict[str, object] = {}
        for column, allowed in value.items():
            if column not in LEDGER_FILTER_COLUMNS:
                raise ValueError(
                    f"where may test the ledger columns {', '.join(LEDGER_FILTER_COLUMNS)}. Got {column!r} instead."
                )
            out[column] = (str(allowed),) if isinstance(allowed, str | int | float) else allowed
        return out

    @model_validator(mode="after")
    def _kind_known(self) -> EventSelector:
        assert self.kind in LEDGER_KINDS
        if not self.name:
            raise ValueError("an event selector needs at least one name")
        return self


class Step(BaseModel):
    """One funnel step: a label, the events that mark it, and an optional conversion window.

    ``within`` bounds the time from the previous step (strict order) or from the previous step's reach time
    (any order); the first step has no window.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    event: EventSelector
    within: timedelta | None = None
    description: str = ""

    @field_validator("within", mode="before")
    @classmethod
    def _within(cls, value: object) -> object:
        return None if value is None else parse_duration(value)


class FunnelSpec(BaseModel):
    """A funnel: ordered steps, the entity counted once, the order rule and the two re-entry rules.

    - ``entity``: ``lead`` counts people; ``account`` rolls every lead and opportunity up to its account (a lead
      with no account is its own account, keyed ``lead:<id>``, so it is counted rather than dropped).
    - ``order``: ``strict`` — step *i* is reached at the first step-*i* event at or after the time step *i-1* was
      reached (and within the step's window); ``any`` — step *i* is reached when every step 0..*i* has happened,
      in any order, at the latest of their first occurrences.
    - ``recycling``: ``continue`` — a recycled lead keeps its place in its original cohort and any later
      conversion is credited to it (one count per entity); ``end`` — the journey ends at the entity's first
      ``recycled`` lifecycle event and nothing after it counts.
    - ``reopened``: which close of a re-opened deal counts for ``closed_won``/``closed_lost`` stage steps:
      ``last`` (the final outcome: a won deal re-opened and lost is not won) or ``first`` (the first close).
    - ``maturity``: how long after a cohort's period ends its conversions are still expected; younger cohorts
      are flagged ``is_mature = False``. Defaults to the sum of the step windows, or 180 days if a step has none.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str = ""
    entity: Literal["lead", "account", "opportunity"] = "lead"
    order: Literal["strict", "any"] = "strict"
    recycling: Literal["continue", "end"] = "continue"
    reopened: Literal["last", "first"] = "last"
    maturity: timedelta | None = None
    where: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    steps: tuple[Step, ...]

    @field_validator("maturity", mode="before")
    @classmethod
    def _maturity(cls, value: object) -> object:
        return None if value is None else parse_duration(value)

    @field_validator("where", mode="before")
    @classmethod
    def _where(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        return {k: ((str(v),) if isinstance(v, str | int | float) else v) for k, v in value.items()}

    @model_validator(mode="after")
    def _steps(self) -> FunnelSpec:
        if len(self.steps) < 2:
            raise ValueError(f"a funnel needs at least two steps. Got {len(self.steps)} instead.")
        names = [s.name for s in self.steps]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"step names must be unique. Repeated: {', '.join(dupes)}.")
        if self.steps[0].within is not None:
            raise ValueError(f"the first step ({self.steps[0].name!r}) cannot have a window: it is the entry.")
        return self

    @property
    def step_names(self) -> list[str]:
        return [s.name for s in self.steps]

    @property
    def maturity_window(self) -> timedelta:
        if self.maturity is not None:
            return self.maturity
        windows = [s.within for s in self.steps[1:] if s.within is not None]
        if len(windows) == len(self.steps) - 1:
            return sum(windows, timedelta())
        return timedelta(days=180)
