"""KPI store: what a refresh costs, and the first request after it, read from the store vs evaluated live.

The simulated company is loaded into a DuckDB file; :func:`revalign.kpis.store_refresh.refresh_store` builds the
store (every KPI × month/quarter/year × company + 6 dimensions). Then, each in a cleared result cache (the first
request after a refresh): the overview page's report (what its first request computes, without HTTP), the joint
scorecard, its KPI request (every KPI, quarter grain, the last four quarters) and one KPI by segment, answered
with the store, then live after dropping it (the baseline: same run, same process). The machine is shared with
other jobs, so only the ratios within a run compare.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TITLE = "KPI store: refresh cost and first request after a refresh (store vs live)"


def _timed(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def main(scale: str = "s", runs: int = 1) -> str:
    from bench.data import load_scale
    from revalign.engine import connect
    from revalign.interfaces.server.filters import Filters
    from revalign.interfaces.server.reports.overview import overview
    from revalign.kpis.cache import RESULTS
    from revalign.kpis.store_refresh import drop_store, refresh_store
    from revalign.model.calendar import add_periods, parse_period
    from revalign.project import Project

    folder = Path(tempfile.mkdtemp(prefix="bench-store-"))
    engine = connect(f"duckdb:///{folder / 'store.duckdb'}")
    load_scale(engine, scale)
    project = Project(folder, engine=engine)
    report = refresh_store(project.tables, project.catalog)
    names = list(project.catalog.kpis)
    latest = project.latest_period(project.catalog.north_star or names[0], "quarter")
    period = parse_period(latest, 1)
    start, end = add_periods(period.start, "quarter", -3), period.end

    def card(live: bool) -> None:
        RESULTS.clear()
        q = project.kpi(*names).grain("quarter").period(start, end)
        (q.no_cache() if live else q).to_pandas()

    def sliced(live: bool) -> None:
        RESULTS.clear()
        q = project.kpi("win_rate").grain("month").by("segment")
        (q.no_cache() if live else q).to_pandas()

    def overview_page(live: bool) -> None:
        RESULTS.clear()
        overview(project, Filters())

    def scorecard(live: bool) -> None:
        RESULTS.clear()
        project.scorecard(period=latest)

    cases = (
        ("overview page's report (card, driver tree, alignment, forecast)", overview_page),
        ("joint scorecard (`Project.scorecard`: the overview's card)", scorecard),
        ("scorecard request (every KPI, 4 quarters)", card),
        ("win_rate by segment, monthly", sliced),
    )
    n = max(runs, 1)
    stored = {label: statistics.median(_timed(lambda fn=fn: fn(False)) for _ in range(n)) for label, fn in cases}
    drop_store(project.tables)  # live from here on (the scorecard has no switch of its own)
    rows = []
    for label, fn in cases:
        live_s = statistics.median(_timed(lambda fn=fn: fn(True)) for _ in range(n))
        store_s = stored[label]
        rows.append(f"| {label} | {store_s * 1000:,.0f} ms | {live_s * 1000:,.0f} ms | {live_s / store_s:,.1f}× |")
    engine.close()
    return "\n".join(
        [
            f"Refresh: {report.rows:,} stored rows in {report.slices} slices, {report.seconds:,.1f} s "
            "(most of it Ibis compiling each slice's stacked expression, ~4–5 s per slice here).",
            "",
            "| first request after a refresh | from the store | live (baseline) | speed-up |",
            "|---|---:|---:|---:|",
            *rows,
            "",
            "Measured on a machine shared with six other jobs (2 cores): absolute times are pessimistic.",
        ]
    )
