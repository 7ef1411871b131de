"""Results cached per data version: the same KPI request on unchanged data is computed once.

The key holds the data version (:meth:`revalign.model.access.Tables.data_version`: a fingerprint that any
load, append or correction changes, so stale results are never served) and a hash of the KPI's full definition
(its inputs and semantic models included), so editing the catalog invalidates the affected KPIs only.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

import pandas as pd
from pydantic import BaseModel

from revalign.definitions.kpis.catalog import Catalog


def definition_hash(*objects: Any) -> str:
    """A stable hash of pydantic models / plain data (the KPI and everything it depends on)."""

    def dump(o: Any) -> Any:
        return o.model_dump(mode="json") if isinstance(o, BaseModel) else o

    text = json.dumps([dump(o) for o in objects], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def kpi_hash(catalog: Catalog, name: str) -> str:
    """The hash of KPI ``name``'s full definition: itself, every KPI it is computed from and their semantic models.

    Editing any of them changes it, so a cached or stored result of the old definition is never served.
    """
    deps = [catalog.get(n) for n in [name, *catalog.dependencies(name)]]
    models = sorted({k.semantic_model for k in deps if k.semantic_model})
    return definition_hash(*deps, *[catalog.semantic_models.get(m) for m in models])


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
