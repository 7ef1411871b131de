"""Injected credit-gaming and data faults, each with a label the audit can be scored against.

Kinds (``label.kind``):

- ``lead_source_overwrite``: after hand-off an AE changes a marketing-sourced lead's source (on the lead
  and on its opportunity) to ``outbound_sales``; ``original_value``/``new_value`` hold both. AEs flagged as
  gamers do it often, others rarely.
- ``no_opportunity_recreate``: an accepted, marketing-sourced lead is closed as ``disqualified`` (reason
  ``no_opportunity``) and within ``recreate_max_days`` another AE creates the same contact as a new,
  outbound-sourced lead with its own opportunity. ``entity_id`` is the new lead, ``related_id`` the original,
  ``original_value`` the original lead's true source, ``detail`` the days between the close and the re-creation.
- ``duplicate_lead`` / ``duplicate_account``: the same person or company entered twice.
- ``close_date_push``: an opportunity's close date pushed quarter after quarter (two or more pushes).
- ``stage_skip``: a won opportunity that jumped over one or two stages.
- ``sla_breach``: not gaming but a process fault: an MQL first followed up more than the SLA after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import pyarrow as pa

from revalign.simulate.writer import timestamps

LABEL_SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("entity_type", pa.string()),
        ("entity_id", pa.string()),
        ("related_id", pa.string()),
        ("field", pa.string()),
        ("original_value", pa.string()),
        ("new_value", pa.string()),
        ("occurred_at", pa.timestamp("us")),
        ("actor_id", pa.string()),
        ("detail", pa.string()),
    ]
)

FAULT_KINDS = (
    "lead_source_overwrite",
    "no_opportunity_recreate",
    "duplicate_lead",
    "duplicate_account",
    "close_date_push",
    "stage_skip",
    "sla_breach",
)


Text: TypeAlias = str | pa.Array | Sequence[str] | None
"""A label column: one string for every row, an array or sequence of strings, or None (null)."""


def _text(values: Text, n: int) -> pa.Array:
    if values is None:
        return pa.nulls(n, pa.string())
    if isinstance(values, str):
        return pa.array([values] * n, pa.string())
    if isinstance(values, pa.Array):
        return values.cast(pa.string())
    return pa.array(list(values), pa.string())


@dataclass
class Labels:
    """Collects labels of one chunk (only those that happened on or before ``as_of``)."""

    start: dt.date
    as_of: float
    parts: list[pa.Table] = field(default_factory=list)

    def add(
        self,
        kind: str,
        entity_type: str,
        entity_id: pa.Array,
        t: np.ndarray,
        *,
        related_id: Text = None,
        field_name: str | None = None,
        original: Text = None,
        new: Text = None,
        actor: Text = None,
        detail: Text = None,
    ) -> None:
        t = np.asarray(t, dtype=np.float64)
        n = len(t)
        if n == 0:
            return
        table = pa.Table.from_arrays(
            [
                _text(kind, n),
                _text(entity_type, n),
                entity_id.cast(pa.string()),
                _text(related_id, n),
                _text(field_name, n),
                _text(original, n),
                _text(new, n),
                timestamps(t, self.start),
                _text(actor, n),
                _text(detail, n),
            ],
            schema=LABEL_SCHEMA,
        )
        self.parts.append(table.filter(pa.array(t <= self.as_of)))

    def table(self) -> pa.Table:
        return pa.concat_tables(self.parts) if self.parts else LABEL_SCHEMA.empty_table()


def variant_name(name: str, k: int) -> str:
    """How a duplicate company name is typed: capitals, a comma, a missing suffix."""
    if k == 0:
        return name.upper()
    if k == 1:
        head, _, suffix = name.rpartition(" ")
        return f"{head}, {suffix}."
    return name.rsplit(" ", 1)[0]


def variant_email(email: str, k: int) -> str:
    return email.upper() if k == 0 else email.replace("@", "+crm@", 1) if k == 1 else email
