"""Results cached per data version: the same KPI request on unchanged data is computed once.

A data version is a fingerprint of the canonical tables (row count and latest time value of each, in one
query), so any load, append or correction changes it and stale results are never served. The key also holds
a hash of the KPI's full definition (its inputs and semantic models included), so editing the catalog
invalidates the affected KPIs only.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.model.tables import TABLES


def data_version(engine: Any) -> str:
    """A fingerprint of the canonical tables present in ``engine`` (one small aggregate query)."""
    parts: list[ir.Table] = []
    present = set(engine.con.list_tables())
    for name in sorted(TABLES):
        if name not in present:
            continue
        t = engine.con.table(name)
        spec = TABLES[name]
        latest = t[spec.time_column].max().cast("string") if spec.time_column in t.columns else ibis.literal("")
        parts.append(t.aggregate(name=ibis.literal(name), n=t.count(), latest=latest.fill_null("")))
    if not parts:
        return "empty"
    frame = engine.execute(ibis.union(*parts)).sort_values("name")
    payload = "|".join(f"{r.name}:{r.n}:{r.latest}" for r in frame.itertuples())
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def definition_hash(*objects: Any) -> str:
    """A stable hash of pydantic models / plain data (the KPI and everything it depends on)."""

    def dump(o: Any) -> Any:
        return o.model_dump(mode="json") if hasattr(o, "model_dump") else o

    text = json.dumps([dump(o) for o in objects], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ResultCache:
    """A small thread-safe LRU of result frames, keyed by anything hashable."""

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, pd.DataFrame] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> pd.DataFrame | None:
        """A copy of the cached frame, or None (counted as a hit or a miss)."""
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key].copy()
            self.misses += 1
        return None

    def put(self, key: Hashable, frame: pd.DataFrame) -> None:
        """Store ``frame`` (a copy, so the caller may go on changing its own) under ``key``."""
        with self._lock:
            self._data[key] = frame.copy()
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


RESULTS = ResultCache()
"""The process-wide cache (keys include the engine URL and the data version)."""
