"""Warming: every page's default view computed in the background as soon as the server has new data.

After a refresh the report cache is empty, so whoever opened the dashboard first waited for the overview's whole
computation (seconds at scale m), then the next page's, and so on. The server knows when its data changes — at
start, after its own scheduled refresh, and when the store file moves under it (a ``revalign ingest`` or
``revalign refresh`` from the CLI) — so it computes the reports of each page's default view (no query parameters)
right then, in the order of the navigation, through the same cached report functions the pages call. A request
arriving meanwhile finds its report cached, or waits on the one computation in flight (the cache computes one
report at a time, see :mod:`.cache`), instead of starting its own.

Only reports that are the same for every viewer are warmed: the per-person parts (pay privacy's scope, a rep's
home, the disputes banner) are cut from them per request and stay cheap. The Planner has no default view (it
needs a target), so nothing is warmed for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable

from revalign.interfaces.server.api import (
    agreements,
    attribution,
    audit,
    channels,
    funnel,
    homes,
    incentives,
    kpis,
    overview,
    pipeline,
    scorecards,
    scoring,
    sla,
    tree,
)
from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.freshness import freshness_report
from revalign.interfaces.server.state import StateStore
from revalign.project import Project

log = logging.getLogger("revalign.server")

View = Callable[[Project, ReportCache, StateStore], object]
"""Computes (and caches) one page's default view, exactly as a request without parameters would."""

DEFAULT_VIEWS: tuple[tuple[str, View], ...] = (
    ("overview", lambda p, c, s: overview.overview_report(p, c, overview.page_filters())),
    ("home-cmo", lambda p, c, s: homes.shared_home_report(p, c, "cmo", Filters())),
    ("home-cro", lambda p, c, s: homes.shared_home_report(p, c, "cro", Filters())),
    ("home-cs", lambda p, c, s: homes.shared_home_report(p, c, "cs", Filters())),
    ("tree", lambda p, c, s: tree.cached_tree_report(p, c, tree.page_filters())),
    ("scorecards", lambda p, c, s: scorecards.scorecard_report(p, c, "joint", Filters())),
    ("pipeline", lambda p, c, s: pipeline.cached_pipeline_report(p, c, pipeline.page_filters())),
    ("funnel", lambda p, c, s: funnel.funnel_report(p, c, funnel.page_filters())),
    ("channels", lambda p, c, s: channels.channels_report(p, c, channels.page_filters())),
    ("attribution", lambda p, c, s: attribution.attribution_report(p, c, Filters())),
    ("sla", lambda p, c, s: sla.sla_report(p, c, sla.page_filters(p, s, Filters()))),
    ("agreements", lambda p, c, s: agreements.agreements_report(p, c, agreements.page_filters(p, s))),
    ("scoring", lambda p, c, s: scoring.scoring_report(p, c, scoring.page_filters())),
    ("audit", lambda p, c, s: audit.audit_report(p, c, audit.audit_filters(s, Filters()))),
    ("incentives", lambda p, c, s: incentives.shared_incentives_report(p, c, incentives.page_filters(Filters()))),
    ("glossary", lambda p, c, s: kpis.cached_glossary(p, c)),
    ("freshness", lambda p, c, s: freshness_report(p, c, s)),
)
"""Each page of the navigation (``pages.rendering.NAV``) by its default view's report, in the navigation's order."""


class ReportWarmer:
    """A daemon thread computing :data:`DEFAULT_VIEWS` at start, on :meth:`request`, and when the store moves.

    ``changed`` is the engine's cheap change signal (a DuckDB file's size and time, no query); it is read every
    ``poll_seconds``, and a value that moved and then held still for one poll (a CLI refresh writes many times)
    starts a pass. ``None`` (PostgreSQL, Spark): only the start and the server's own refreshes warm.
    """

    def __init__(
        self,
        project: Project,
        cache: ReportCache,
        store: StateStore,
        *,
        changed: Callable[[], Hashable] | None = None,
        poll_seconds: float = 1.0,
        views: tuple[tuple[str, View], ...] = DEFAULT_VIEWS,
    ) -> None:
        self.project, self.cache, self.store, self.views = project, cache, store, views
        self.changed, self.poll_seconds = changed, poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="revalign-warm", daemon=True)
        self.passes = 0
        self.last_pass: dict[str, float] = {}
        """Seconds each view took in the last pass (what a first request would have waited for)."""

    def start(self) -> None:
        self._wake.set()  # the cache is empty at start: warm at once
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def request(self) -> None:
        """Warm again soon (after the server's own refresh cleared the cache)."""
        self._wake.set()

    def _loop(self) -> None:
        seen = self.changed() if self.changed is not None else None
        moved = False
        while not self._stop.is_set():
            woken = self._wake.wait(self.poll_seconds)
            if self._stop.is_set():
                return
            self._wake.clear()
            token = self.changed() if self.changed is not None else None
            if woken or (moved and token == seen):  # asked (start, own refresh), or the store held still
                self.warm_once()
                moved, seen = False, self.changed() if self.changed is not None else None
            elif token != seen:  # written from outside, maybe still being written: wait one poll for quiet
                seen, moved = token, True

    def warm_once(self) -> dict[str, float]:
        """Compute every default view now (a cached one costs a lookup); seconds per view.

        A view that fails is logged and skipped: its own request then shows the error, and the others are warm.
        """
        took: dict[str, float] = {}
        for name, view in self.views:
            if self._stop.is_set():
                break
            started = time.perf_counter()
            try:
                with self.project.engine.session():
                    view(self.project, self.cache, self.store)
            except Exception:  # a background thread: one broken page must not leave the others cold
                log.exception("warming %s failed", name)
            took[name] = time.perf_counter() - started
        self.passes += 1
        self.last_pass = took
        log.info("warmed %d page views in %.1f s", len(took), sum(took.values()))
        return took


__all__ = ["DEFAULT_VIEWS", "ReportWarmer", "View"]
