"""``ResultCache``: computed reports kept in memory, one computation at a time per key.

Reports are computed by the library over the whole project; many people open the same overview, so the
first request computes and the others wait for that result instead of running the same query twenty times.
The engine connection is shared, so computations are also serialised (DuckDB connections are not meant for
concurrent use from many threads). ``clear()`` is called after a refresh of the data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class ResultCache:
    def __init__(self, *, enabled: bool = True, max_entries: int = 512) -> None:
        self.enabled, self.max_entries = enabled, max_entries
        self._values: dict[Hashable, Any] = {}
        self._lock = threading.Lock()
        self._compute = threading.RLock()
        self.hits = self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        if self.enabled:
            with self._lock:
                if key in self._values:
                    self.hits += 1
                    return self._values[key]
        with self._compute:
            if self.enabled:
                with self._lock:
                    if key in self._values:
                        self.hits += 1
                        return self._values[key]
            value = compute()
            self.misses += 1
            if self.enabled:
                with self._lock:
                    if len(self._values) >= self.max_entries:
                        self._values.pop(next(iter(self._values)))
                    self._values[key] = value
            return value

    def run(self, compute: Callable[[], T]) -> T:
        """Run ``compute`` under the engine lock without caching (drill-down records, per-user lists)."""
        with self._compute:
            return compute()

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
