"""① A write-back plan: the values the CRM should hold against what it holds now, as the list of changes to make.

A plan is computed, shown and only then applied (``revalign writeback`` is a dry run unless told ``--apply``), so
the person running it sees every field of every record that will change, with its old and new value, before
anything is written. Only differences are planned: a value the CRM already holds is left alone, so a plan made
right after an apply is empty, and applying it sends nothing. Only records the CRM has are planned: a record
revalign knows from another source (a file, another CRM) has no id there and is counted, not written.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

CHANGE_COLUMNS = ("sobject", "record_id", "field", "value_name", "old", "new")


@dataclass(frozen=True)
class Change:
    """One field of one CRM record to set: ``sobject`` record ``record_id``'s ``field`` from ``old`` to ``new``."""

    sobject: str
    record_id: str
    field: str
    value_name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class WritebackPlan:
    """The changes to make in one CRM, and what was left alone (already equal, or not a record of the CRM)."""

    crm: str
    changes: tuple[Change, ...]
    unchanged: Mapping[str, int] = field(default_factory=dict)
    """Per value: records whose CRM field already holds the value."""
    not_in_crm: Mapping[str, int] = field(default_factory=dict)
    """Per value: records revalign has that the CRM does not (loaded from elsewhere): never written."""

    @property
    def empty(self) -> bool:
        return not self.changes

    def to_frame(self) -> pd.DataFrame:
        """One row per change (``sobject, record_id, field, value_name, old, new``), in a stable order."""
        return pd.DataFrame([asdict(c) for c in self.changes], columns=list(CHANGE_COLUMNS))

    def records(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The changes grouped into one update per record: (object, id) → {field: new value}."""
        grouped: dict[tuple[str, str], dict[str, Any]] = {}
        for c in self.changes:
            grouped.setdefault((c.sobject, c.record_id), {})[c.field] = c.new
        return grouped

    def to_dict(self) -> dict[str, Any]:
        return {
            "crm": self.crm,
            "changes": [asdict(c) for c in self.changes],
            "unchanged": dict(self.unchanged),
            "not_in_crm": dict(self.not_in_crm),
        }


def same(old: Any, new: Any) -> bool:
    """Whether the CRM's ``old`` already is ``new``: numbers within a millionth (the CRM echoes a double back),
    anything else equal; a missing value equals only a missing value."""
    old_missing, new_missing = _missing(old), _missing(new)
    if old_missing or new_missing:
        return old_missing and new_missing
    if isinstance(new, numbers.Real) and not isinstance(new, bool):
        try:
            return math.isclose(float(old), float(new), rel_tol=0.0, abs_tol=1e-6)
        except (TypeError, ValueError):
            return False
    return bool(old == new)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def plan_changes(
    crm: str,
    desired: pd.DataFrame,
    current: Mapping[str, pd.DataFrame],
    targets: Mapping[str, tuple[str, str]],
) -> WritebackPlan:
    """The plan turning ``current`` into ``desired``.

    - ``desired``: ``value_name, record_id, value`` (what revalign computed; other columns are ignored);
    - ``current``: per CRM object, its records now: ``Id`` and one column per target field;
    - ``targets``: value name → (object, field); values without a target are not written.
    """
    changes: list[Change] = []
    unchanged: dict[str, int] = {}
    not_in_crm: dict[str, int] = {}
    for name, (sobject, field_name) in targets.items():
        wanted = desired[desired["value_name"] == name]
        held = current[sobject].set_index("Id")[field_name]
        known = wanted["record_id"].isin(held.index)
        not_in_crm[name] = int((~known).sum())
        kept = 0
        for record_id, value in zip(wanted.loc[known, "record_id"], wanted.loc[known, "value"], strict=True):
            old = held.loc[record_id]
            if same(old, value):
                kept += 1
            else:
                changes.append(Change(sobject, str(record_id), field_name, name, _plain(old), _plain(value)))
        unchanged[name] = kept
    changes.sort(key=lambda c: (c.sobject, c.record_id, c.field))
    return WritebackPlan(crm, tuple(changes), unchanged, not_in_crm)


def _plain(value: Any) -> Any:
    """A JSON-ready value: numpy numbers as Python ones, a missing value as ``None``."""
    if _missing(value):
        return None
    return value.item() if hasattr(value, "item") else value
