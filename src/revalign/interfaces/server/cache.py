"""``ReportCache``: computed reports kept in memory, one computation at a time per key.

Reports are computed by the library over the whole project; many people open the same overview, so the
first request computes and the others wait for that result instead of running the same query twenty times.
The engine connection is shared, so computations are also serialised (DuckDB connections are not meant for
concurrent use from many threads). ``clear()`` is called after a refresh of the data.

The cache also notices changes made outside the server (``revalign ingest`` into the same database, an edited
``targets.csv``): when a ``version`` function is given, it is read at most every ``check_seconds``, and at once
when the cheap ``changed`` signal moves (a DuckDB file's size and time); a new value drops every cached report,
so after an ingest the next request computes with the new data. While another process writes the store the
version cannot be read (:class:`~revalign.errors.StoreBusy`): the reports computed before are served meanwhile
and the next request checks again; a report never computed gets the error (a JSON 503).

Rendered pages are kept beside the reports (:meth:`ReportCache.page`), dropped with them: a warm page was still
50–100 ms of template rendering and formatting per request in the one server process, which 20 readers at once
turned into seconds. They are made outside the engine lock (rendering runs no query, and must not wait behind a
report being computed) and held in their own bounded LRU, so many viewers' pages never evict a report.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from revalign.errors import StoreBusy

T = TypeVar("T")
log = logging.getLogger("revalign.server")


class ReportCache:
    """Reports by key, computed once (single-flight), dropped when the project's version moves.

    Not :class:`revalign.kpis.cache.ResultCache` (an LRU of KPI frames per data version): this one holds whole
    reports, serialises computations on the shared engine and revalidates against ``version``.
    """

    def __init__(
        self,
        *,
        enabled: bool = True,
        max_entries: int = 512,
        version: Callable[[], Hashable] | None = None,
        check_seconds: float = 5.0,
        changed: Callable[[], Hashable] | None = None,
        pages: bool = True,
        max_pages: int = 256,
    ) -> None:
        self.enabled, self.max_entries = enabled, max_entries
        self.pages_enabled, self.max_pages = enabled and pages, max_pages
        self._pages: OrderedDict[Hashable, Any] = OrderedDict()
        self.version, self.check_seconds, self.changed = version, check_seconds, changed
        self._values: dict[Hashable, Any] = {}
        self._lock = threading.Lock()
        self._compute = threading.RLock()
        self._seen: Hashable = None
        self._checked_at = float("-inf")
        self._token: Hashable = None
        self.hits = self.misses = 0
        self.page_hits = self.page_misses = 0

    def _due(self, token: Hashable) -> bool:
        return time.monotonic() - self._checked_at >= self.check_seconds or token != self._token

    def _revalidate(self) -> None:
        """Drop every entry when the project's version moved (read under the engine lock: it runs a query)."""
        if self.version is None:
            return
        # the token is read before the version: a write landing in between moves it again, so the next
        # request checks again instead of keeping a version older than the data
        token = self.changed() if self.changed is not None else None
        if not self._due(token):
            return
        with self._compute:
            if not self._due(token):
                return
            try:
                current = self.version()
            except StoreBusy as exc:
                log.warning("serving cached reports while the store is busy: %s", exc)
                return
            self._checked_at, self._token = time.monotonic(), token
            if current != self._seen:
                self.clear()
                self._seen = current

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        self._revalidate()
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

    def page(self, key: Hashable, make: Callable[[], T]) -> T:
        """The rendered page under ``key``, made by ``make()`` when absent (see the module docstring).

        ``key`` must name everything the page shows (the caller's identity among it: pay data differs per
        viewer). Not single-flight: two requests at once both render, the same bytes.
        """
        self._revalidate()
        if not self.pages_enabled:
            return make()
        with self._lock:
            if key in self._pages:
                self._pages.move_to_end(key)
                self.page_hits += 1
                return self._pages[key]
        value = make()
        with self._lock:
            self.page_misses += 1
            self._pages[key] = value
            while len(self._pages) > self.max_pages:
                self._pages.popitem(last=False)
        return value

    def run(self, compute: Callable[[], T]) -> T:
        """Run ``compute`` under the engine lock without caching (drill-down records, per-user lists)."""
        with self._compute:
            return compute()

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pages.clear()

    def cached_keys(self) -> frozenset[Hashable]:
        """The keys of the reports held now (what warming filled, for tests and diagnostics)."""
        with self._lock:
            return frozenset(self._values)
