"""Dashboard pages after a refresh (issue #20): first request per page, warm latency at 20 clients, new KPI filters.

A real ``revalign serve`` process on loopback serves the simulated company from a DuckDB file with the KPI store
on (``kpi_store: true``, built before the server starts, as ``revalign refresh`` does), so every server start
below sees data its cache has never seen: the same state as right after a refresh. Four starts, same data:

* **no warming** (baseline, ``REVALIGN_WARM_REPORTS=false``): a reader opens every page of the navigation, one
  after the other, the moment the server answers ``/healthz``; each page computes on its first request;
* **warming, reader at once**: the same reader while the server warms (it waits on the computation in flight);
* **warming, reader after the warm-up**: the same reader once warming had time to finish (the wait is the
  baseline's total × 1.5 + 5 s), then each page under 20 concurrent clients with ``wrk`` (a C load generator, so
  the client does not compete for the 2 cores as 20 Python clients did), ``/healthz`` as the baseline of the same
  run; then one KPI API request per filter never asked before (KPI × segment);
* **page cache off** (baseline of the warm figures, ``REVALIGN_CACHE_PAGES=false``): a fourth start, warmed the
  same way, whose pages are rendered on every request (the reports are still cached), under the same ``wrk`` load.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.bench_server import _free_port

TITLE = "Dashboard pages after a refresh: first request, warm p95 at 20 clients, new KPI filters"
CLIENTS = 20
WRK_SECONDS = 4
NEW_FILTER_KPIS = 5
SEGMENTS = ("smb", "mid_market", "enterprise", "unknown")
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %.0f %.0f\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout + e.status, latency:percentile(50), latency:percentile(95)))
end
"""


def _prepare(folder: Path, scale: str) -> tuple[str, float, list[str]]:
    """The project with the KPI store built; a leadership token, the store's build time, KPIs for new filters."""
    from bench.bench_server import leadership_token
    from bench.data import load_scale
    from revalign.project import init_project, open_project

    init_project(folder, name="bench")
    with (folder / "revalign.yaml").open("a", encoding="utf-8") as f:
        f.write("\nkpi_store: true\n")
    project = open_project(folder)
    load_scale(project.engine, scale)
    started = time.perf_counter()
    project.refresh_kpi_store()
    built = time.perf_counter() - started
    catalog = project.catalog
    kpis = [k.name for k in catalog if k.type == "simple" and catalog.can_slice(k.name, ["segment"])]
    project.close()
    return leadership_token(folder), built, kpis[:NEW_FILTER_KPIS]


@contextmanager
def _server(folder: Path, warm: bool, pages: bool = True) -> Iterator[tuple[str, int, float]]:
    """``(base URL, pid, start time)``: a ``revalign serve`` answering /healthz (the start time is that moment)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "revalign.interfaces.cli", "serve", "--project", str(folder), "--port", str(port)]
    env = {
        **os.environ,
        "REVALIGN_WARM_REPORTS": "true" if warm else "false",
        "REVALIGN_CACHE_PAGES": "true" if pages else "false",
        "REVALIGN_ACCESS_LOG": "false",
    }
    log = folder / f"server-{port}.log"
    with log.open("w") as err:
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        deadline = time.time() + 600  # a loaded machine imports slowly
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError(f"revalign serve did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.05)
        yield base, server.pid, time.perf_counter()
    finally:
        server.terminate()
        server.wait(timeout=60)


def _load_pages(base: str, token: str, script: Path) -> dict[str, tuple[int, float, float, float, int]]:
    """``wrk`` on ``/healthz`` (no work: the run's floor), then on each page of the navigation."""
    out = {"/healthz": _wrk(base + "/healthz", None, script)}
    for href in _pages():
        out[href] = _wrk(base + href, token, script)
    return out


def _pages() -> list[str]:
    from revalign.interfaces.server.pages.rendering import NAV

    return [href for _, href, _ in NAV]


def _click_through(base: str, headers: dict[str, str], since: float) -> dict[str, tuple[float, float, int]]:
    """Each page once, in the navigation's order: ``(its own latency, time since `since`, status)`` per page."""
    out = {}
    with httpx.Client(headers=headers, timeout=900, follow_redirects=True) as http:
        for href in _pages():
            start = time.perf_counter()
            status = http.get(base + href).status_code
            end = time.perf_counter()
            out[href] = (end - start, end - since, status)
    return out


def _wrk(url: str, token: str | None, script: Path) -> tuple[int, float, float, float, int]:
    """``(requests, p50 ms, p95 ms, req/s, errors)`` of ``CLIENTS`` connections for ``WRK_SECONDS`` seconds."""
    cmd = ["wrk", "-t2", f"-c{CLIENTS}", f"-d{WRK_SECONDS}s", "--timeout", "30s", "-s", str(script)]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    n, duration_us, errors, p50, p95 = (float(v) for v in line.split()[1:])
    return int(n), p50 / 1000, p95 / 1000, n / (duration_us / 1e6), int(errors)


def _new_filters(base: str, headers: dict[str, str], kpis: list[str]) -> list[float]:
    """One request per (KPI, segment) never asked before: seconds each."""
    took = []
    with httpx.Client(headers=headers, timeout=900) as http:
        for kpi in kpis:
            for segment in SEGMENTS:
                start = time.perf_counter()
                response = http.get(f"{base}/api/v1/kpis/{kpi}", params={"segment": segment, "grain": "month"})
                took.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise RuntimeError(f"{kpi} {segment}: {response.status_code} {response.text[:200]}")
    return took


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main(scale: str = "m", runs: int = 1) -> str:
    from bench.bench_server import _peak_mib

    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk; scripts/setup.sh test installs it)")
    folder = Path(tempfile.mkdtemp(prefix="revalign-bench-pages-"))
    script = folder / "report.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    loads = [_load()]
    try:
        token, built, kpis = _prepare(folder, scale)
        headers = {"Authorization": f"Bearer {token}"}
        with _server(folder, warm=False) as (base, _, t0):
            cold = _click_through(base, headers, t0)
        loads.append(_load())
        with _server(folder, warm=True) as (base, _, t0):
            at_once = _click_through(base, headers, t0)
        loads.append(_load())
        settle = 1.5 * max(v[1] for v in cold.values()) + 5
        with _server(folder, warm=True) as (base, pid, t0):
            time.sleep(max(0.0, settle - (time.perf_counter() - t0)))
            settled = _click_through(base, headers, t0)
            loads.append(_load())
            warm = _load_pages(base, token, script)
            loads.append(_load())
            fresh = _new_filters(base, headers, kpis)
            peak = _peak_mib(pid)
        loads.append(_load())
        with _server(folder, warm=True, pages=False) as (base, _, t0):
            time.sleep(max(0.0, settle - (time.perf_counter() - t0)))
            _click_through(base, headers, t0)
            rendered = _load_pages(base, token, script)
        loads.append(_load())
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    return _section(built, loads, (cold, at_once, settled), settle, (rendered, warm), fresh, kpis, peak)


def _section(
    built: float,
    loads: list[str],
    readers: tuple[dict[str, tuple[float, float, int]], ...],
    settle: float,
    loaded: tuple[dict[str, tuple[int, float, float, float, int]], dict[str, tuple[int, float, float, float, int]]],
    fresh: list[float],
    kpis: list[str],
    peak: float,
) -> str:
    """The Markdown section: first requests per page, warm latency per page, new KPI filters."""
    from bench.bench_server import _percentile

    cold, at_once, settled = readers
    first = [
        "| page | no warming (baseline) | warming, reader at once | warming, after the warm-up | statuses |",
        "|---|---:|---:|---:|---|",
    ]
    for href in _pages():
        statuses = {cold[href][2], at_once[href][2], settled[href][2]}
        first.append(
            f"| `{href}` | {cold[href][0] * 1000:,.0f} | {at_once[href][0] * 1000:,.0f} "
            f"| {settled[href][0] * 1000:,.0f} | {', '.join(map(str, sorted(statuses)))} |"
        )
    last = (cold[_pages()[-1]][1], at_once[_pages()[-1]][1])
    rendered, warm = loaded
    load_rows = [
        "| path | p50 ms, page cache off | p95 ms, page cache off | requests | p50 ms | p95 ms | req/s "
        "| p95 vs /healthz | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for path, (n, p50, p95, rps, errors) in warm.items():
        before = rendered[path]
        load_rows.append(
            f"| `{path}` | {before[1]:.1f} | {before[2]:.1f} | {n:,} | {p50:.1f} | {p95:.1f} | {rps:,.0f} "
            f"| {p95 / warm['/healthz'][2]:.1f}× | {errors + before[4]} |"
        )
    worst = max(v[2] for k, v in warm.items() if k != "/healthz")
    worst_before = max(v[2] for k, v in rendered.items() if k != "/healthz")
    firsts = max(v[0] for v in settled.values())
    return "\n".join(
        [
            __doc__.split("\n\n", 1)[1].strip(),
            "",
            f"KPI store built in {built:,.0f} s before the server starts. Load average (1/5/15 min) at the start "
            f"and after each step: {' → '.join(loads)} (2 cores shared with other jobs).",
            "",
            "**First request per page (ms, the page's own response time)**, one reader clicking through the "
            "navigation from the moment `/healthz` answers:",
            "",
            *first,
            "",
            f"The reader reached the last page {last[0]:,.1f} s after the start without warming, {last[1]:,.1f} s "
            f"with warming; after the warm-up (reader at {settle:,.0f} s) the slowest first request took "
            f"{firsts * 1000:,.0f} ms.",
            "",
            f"**Warm pages, {CLIENTS} concurrent connections (wrk, {WRK_SECONDS} s each)**, with the page cache "
            "off (a later start of the same run) and on; errors of both:",
            "",
            *load_rows,
            "",
            f"Slowest page p95: {worst:.1f} ms ({worst_before:.1f} ms with the page cache off). "
            "**A KPI with a filter never asked before** "
            f"({len(fresh)} requests: {', '.join(kpis)} × segment, monthly): p50 "
            f"{statistics.median(fresh) * 1000:,.0f} ms, p95 {_percentile(fresh, 0.95) * 1000:,.0f} ms, max "
            f"{max(fresh) * 1000:,.0f} ms. Server peak memory (VmHWM, last start): {peak:,.0f} MiB.",
        ]
    )


if __name__ == "__main__":  # pragma: no cover
    print(main(scale=os.environ.get("SCALE", "s")))
