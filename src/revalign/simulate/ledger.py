"""Collecting ledger events while a chunk is generated, then turning them into the canonical ``ledger`` table.

Lifecycle events are gathered as (lead, time, stage) triples and their ``old_value`` (the stage before) is
derived at the end by sorting each lead's events by time, so no generator step has to know what came before
it. ``event_id`` is a hash of the event's content (entity, kind, name, values, time), as the model asks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from revalign.model.tables import LIFECYCLE_STAGES
from revalign.simulate.writer import canonical, take, timestamps

STAGE = {name: i for i, name in enumerate(LIFECYCLE_STAGES)}
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _text(values: pa.Array | None) -> pa.Array | None:
    """Strings, also for empty arrays (``pa.array([])`` would be of type null)."""
    return None if values is None else values.cast(pa.string())


def content_ids(table: pa.Table, columns: list[str]) -> pa.Array:
    """16-hex-digit ids hashing the given columns of each row (deterministic across runs and machines)."""
    frame = pd.DataFrame({c: table.column(c).to_pandas() for c in columns})
    for c in frame.columns:  # strings and timestamps hash by value; nulls hash as a fixed marker
        frame[c] = frame[c].astype("string").fillna("\x00")
    h = pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64)
    nibbles = np.empty((len(h), 16), dtype=np.uint8)
    for k in range(16):
        nibbles[:, 15 - k] = _HEX[((h >> np.uint64(4 * k)) & np.uint64(15)).astype(np.intp)]
    return pa.array(nibbles.view("S16").ravel()).cast(pa.string())


@dataclass
class LedgerBuilder:
    """Accumulates events of one chunk; ``table()`` returns them as canonical ledger rows."""

    start: dt.date
    as_of: float
    rng: np.random.Generator
    _lc: list[tuple[pa.Array, np.ndarray, np.ndarray, pa.Array | None, pa.Array | None]] = field(default_factory=list)
    _other: list[pa.Table] = field(default_factory=list)

    def lifecycle(
        self,
        lead_ids: pa.Array,
        t: np.ndarray,
        stage: str,
        *,
        reason: pa.Array | None = None,
        actor: pa.Array | None = None,
    ) -> None:
        """Leads ``lead_ids`` entered lifecycle ``stage`` at times ``t`` (events after ``as_of`` are dropped)."""
        self._lc.append(
            (
                _text(lead_ids),
                np.asarray(t, dtype=np.float64),
                np.full(len(t), STAGE[stage]),
                _text(reason),
                _text(actor),
            )
        )

    def event(
        self,
        entity_type: str,
        entity_ids: pa.Array,
        kind: str,
        name: str | pa.Array,
        t: np.ndarray,
        *,
        old: pa.Array | None = None,
        new: pa.Array | None = None,
        reason: pa.Array | None = None,
        actor: pa.Array | None = None,
    ) -> None:
        """Stage or field events (``old``/``new`` as text)."""
        t = np.asarray(t, dtype=np.float64)
        n = len(t)
        self._other.append(
            pa.table(
                {
                    "entity_type": pa.array([entity_type] * n, pa.string()),
                    "entity_id": _text(entity_ids),
                    "kind": pa.array([kind] * n, pa.string()),
                    "name": _text(name) if isinstance(name, pa.Array) else pa.array([name] * n, pa.string()),
                    "old_value": _text(old) if old is not None else pa.nulls(n, pa.string()),
                    "new_value": _text(new) if new is not None else pa.nulls(n, pa.string()),
                    "reason": _text(reason) if reason is not None else pa.nulls(n, pa.string()),
                    "actor_id": _text(actor) if actor is not None else pa.nulls(n, pa.string()),
                    "t": pa.array(t),
                }
            )
        )

    def _lifecycle_table(self) -> pa.Table:
        if not self._lc:
            return pa.table({})
        lead = pa.concat_arrays([x[0] for x in self._lc])
        t = np.concatenate([x[1] for x in self._lc])
        stage = np.concatenate([x[2] for x in self._lc])
        n_each = [len(x[1]) for x in self._lc]
        reason = pa.concat_arrays(
            [x[3] if x[3] is not None else pa.nulls(k, pa.string()) for x, k in zip(self._lc, n_each, strict=True)]
        )
        actor = pa.concat_arrays(
            [x[4] if x[4] is not None else pa.nulls(k, pa.string()) for x, k in zip(self._lc, n_each, strict=True)]
        )
        # sort by lead, time, funnel order (Arrow's sort: string keys without Python objects)
        take_idx = pc.sort_indices(
            pa.table({"lead": lead, "t": t, "stage": stage}),
            sort_keys=[("lead", "ascending"), ("t", "ascending"), ("stage", "ascending")],
        )
        lead = lead.take(take_idx)
        idx = take_idx.to_numpy()
        t, stage = t[idx], stage[idx]
        same = np.zeros(len(t), dtype=bool)
        if len(t) > 1:
            same[1:] = pc.equal(lead.slice(1), lead.slice(0, len(t) - 1)).to_numpy(zero_copy_only=False)
        old = np.where(same, np.r_[-1, stage[:-1]], -1)
        return pa.table(
            {
                "entity_type": pa.array(["lead"] * len(t), pa.string()),
                "entity_id": lead,
                "kind": pa.array(["lifecycle"] * len(t), pa.string()),
                "name": take(LIFECYCLE_STAGES, stage),
                "old_value": take(LIFECYCLE_STAGES, old),
                "new_value": take(LIFECYCLE_STAGES, stage),
                "reason": reason.take(take_idx),
                "actor_id": actor.take(take_idx),
                "t": pa.array(t),
            }
        )

    def table(self) -> pa.Table:
        parts = [p for p in [self._lifecycle_table(), *self._other] if p.num_rows]
        if not parts:
            return canonical("ledger", {}, length=0)
        raw = pa.concat_tables(parts)
        t = raw.column("t").to_numpy()
        keep = t <= self.as_of
        raw = raw.filter(pa.array(keep))
        t = t[keep]
        # the CRM syncs within hours; a few changes reach revalign days later (back-dated edits)
        delay = self.rng.exponential(2.0 / 24, len(t))
        late = self.rng.random(len(t)) < 0.02
        delay = np.where(late, self.rng.uniform(1.0, 10.0, len(t)), delay)
        recorded = np.maximum(np.minimum(t + delay, self.as_of + 1.0), t)
        occurred_at = timestamps(t, self.start)
        table = canonical(
            "ledger",
            {
                "entity_type": raw.column("entity_type"),
                "entity_id": raw.column("entity_id"),
                "kind": raw.column("kind"),
                "name": raw.column("name"),
                "old_value": raw.column("old_value"),
                "new_value": raw.column("new_value"),
                "reason": raw.column("reason"),
                "actor_id": raw.column("actor_id"),
                "occurred_at": occurred_at,
                "recorded_at": timestamps(recorded, self.start),
                "load_id": pa.array(["simulator"] * len(t), pa.string()),
                "time_precision": pa.array(["exact"] * len(t), pa.string()),  # the simulator knows every moment
            },
            length=len(t),
        )
        event_id = content_ids(
            table, ["entity_type", "entity_id", "kind", "name", "old_value", "new_value", "reason", "occurred_at"]
        )
        return table.set_column(0, table.schema.field(0), event_id)
