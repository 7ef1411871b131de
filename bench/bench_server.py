"""Dashboard server under load: p50/p95 latency and throughput of the overview (API and page), 20 clients.

A real uvicorn process (``revalign serve``) on loopback serves a project holding the simulated company; 20
concurrent httpx clients hit it. **Cold** = the result cache was just cleared, so the first request of the
round computes the overview through the KPI catalog and the others wait for that one result; **warm** = the
report is cached. The baseline is ``/healthz`` (no auth, no work) in the same run, so the ratios show what
authentication, the report and rendering cost on top of the HTTP stack itself.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TITLE = "Dashboard server: overview latency and throughput (20 concurrent clients)"
CLIENTS = 20
WARM_REQUESTS_PER_CLIENT = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare(folder: Path, scale: str) -> str:
    """Project with the simulated company loaded, a leadership user and its API token."""
    from bench.data import load_scale
    from revalign.project import init_project, open_project

    init_project(folder, name="bench")
    project = open_project(folder)
    load_scale(project.engine, scale)
    project.close()
    return leadership_token(folder)


def leadership_token(folder: Path) -> str:
    """A leadership user in the project's state store, and its API token (what the benchmark clients send)."""
    from revalign.interfaces.server.state import StateStore, default_state_url

    store = StateStore(default_state_url(folder))
    store.migrate()
    store.add_user("bench", "bench-password", "leadership")
    token = store.create_token("bench", "bench")
    store.close()
    return token


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _burst(url: str, headers: dict[str, str], per_client: int) -> tuple[list[float], float, int]:
    """``CLIENTS`` concurrent clients, ``per_client`` sequential requests each: latencies, wall time, errors."""
    latencies: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(headers=headers, timeout=600) as http:
            for _ in range(per_client):
                start = time.perf_counter()
                response = await http.get(url)
                latencies.append(time.perf_counter() - start)
                errors += response.status_code != 200

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return latencies, time.perf_counter() - start, errors


def _clear(base: str, headers: dict[str, str]) -> None:
    httpx.post(base + "/api/v1/admin/cache/clear", headers=headers, timeout=60)


def main(scale: str = "s", runs: int = 3) -> str:
    folder = Path(tempfile.mkdtemp(prefix="revalign-bench-server-"))
    token = _prepare(folder, scale)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "revalign.interfaces.cli", "serve", "--project", str(folder), "--port", str(port)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token}"}
        admin = {"Authorization": f"Bearer {_admin_token(folder)}"}
        rows = []
        targets = [
            ("`/healthz` (baseline)", "/healthz", False),
            ("`/api/v1/overview` (JSON)", "/api/v1/overview", True),
            ("`/` overview page (HTML)", "/", True),
        ]
        for label, path, cacheable in targets:
            modes = ("cold", "warm") if cacheable else ("warm",)
            for mode in modes:
                lat: list[float] = []
                walls: list[float] = []
                errors = 0
                for _ in range(runs):
                    if mode == "cold":
                        _clear(base, admin)
                        got, wall, err = asyncio.run(_burst(base + path, headers, 1))
                    else:
                        asyncio.run(_burst(base + path, headers, 1))  # warm-up
                        got, wall, err = asyncio.run(_burst(base + path, headers, WARM_REQUESTS_PER_CLIENT))
                    lat += got
                    walls.append(len(got) / wall)
                    errors += err
                rows.append(
                    (
                        label,
                        mode,
                        len(lat),
                        _percentile(lat, 0.5),
                        _percentile(lat, 0.95),
                        statistics.median(walls),
                        errors,
                    )
                )
        peak = _peak_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    base_p50 = rows[0][3]
    lines = [
        "| endpoint | cache | requests | p50 ms | p95 ms | throughput req/s | p50 vs baseline | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, mode, n, p50, p95, rps, errors in rows:
        lines.append(
            f"| {label} | {mode} | {n} | {p50 * 1000:.1f} | {p95 * 1000:.1f} | {rps:.1f} "
            f"| {p50 / base_p50:.1f}× | {errors} |"
        )
    notes = (
        f"\n\n{CLIENTS} concurrent clients on loopback against one uvicorn worker; warm rounds are {CLIENTS} × "
        f"{WARM_REQUESTS_PER_CLIENT} requests, cold rounds {CLIENTS} requests right after clearing the cache "
        f"(one computes, the rest wait for it). Server peak memory (VmHWM): {peak:.0f} MiB."
    )
    return __doc__.split("\n\n", 1)[1].strip() + "\n\n" + "\n".join(lines) + notes


def _admin_token(folder: Path) -> str:
    from revalign.interfaces.server.state import StateStore, default_state_url

    store = StateStore(default_state_url(folder))
    if "bench-admin" not in store.usernames():
        store.add_user("bench-admin", "bench-password", "admin")
    token = store.create_token("bench-admin", "bench")
    store.close()
    return token


def _peak_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


if __name__ == "__main__":  # pragma: no cover
    print(main(scale=os.environ.get("SCALE", "s"), runs=int(os.environ.get("RUNS", "1"))))
