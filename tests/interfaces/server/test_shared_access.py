"""The server and the CLI on one project at once (issue 13, "shared access to the store").

A DuckDB file admits one read-write process or many read-only ones. ``revalign serve`` reads through short-lived
read-only connections, so ``revalign ingest`` can write while it runs, and the next request shows the new numbers;
a process that keeps the file gives a CLI writer exit code 4 with the holder named, and the server a JSON 503.
Every ``revalign`` here is a real subprocess; the expected numbers are plain pandas counts of the files loaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

import revalign
from revalign.engine import connect
from revalign.interfaces.cli import EXIT_ENGINE
from revalign.interfaces.server import ServerSettings, create_app
from revalign.project import Project
from tests.interfaces.server.conftest import OPPORTUNITIES, PASSWORD, USERS, login, write_canonical
from tests.servers import free_port

pytestmark = pytest.mark.slow

SRC = Path(revalign.__file__).resolve().parents[1]
HOLD = (
    "import sys, time\n"
    "from revalign.engine import connect\n"
    "engine = connect('duckdb:///' + sys.argv[1])  # a writer: a notebook, or a command that has not finished\n"
    "print('held', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
)


def env(**extra: str) -> dict[str, str]:
    """This checkout's sources first, as the tests themselves run."""
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def revalign_cli(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "revalign.interfaces.cli", *args],
        capture_output=True,
        text=True,
        env=env(**extra_env),
        timeout=600,
    )


def hold_write_lock(database: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process with the file open read-write, for ``seconds`` after it says ``held``."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(database), str(seconds)], stdout=subprocess.PIPE, text=True, env=env()
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def leads_export(folder: Path, *, seed: int, rows: int) -> Path:
    """A generic-CRM ``leads.csv`` of ``rows`` new leads created in 2030–2031 (after the simulated years)."""
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 730, size=rows)
    frame = pd.DataFrame(
        {
            "Lead ID": [f"NEW-{seed}-{i}" for i in range(rows)],
            "Created Date": (pd.Timestamp("2030-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
            "Lead Source": rng.choice(["Email", "Webinar", "Paid Search"], size=rows),
        }
    )
    folder.mkdir(parents=True)
    frame.to_csv(folder / "leads.csv", index=False)
    return folder


def per_year(dates: pd.Series) -> dict[str, float]:
    """The oracle: leads created per calendar year, counted with pandas."""
    years = pd.to_datetime(dates).dt.year.value_counts()
    return {f"{year}-01-01": float(n) for year, n in years.items()}


def new_leads_per_year(client: httpx.Client) -> dict[str, float]:
    response = client.get("/api/v1/kpis/new_leads", params={"grain": "year"})
    assert response.status_code == 200, response.text
    (values,) = [t for t in response.json()["tables"] if t["name"] == "values"]
    return {r["period_start"][:10]: r["value"] for r in values["rows"]}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project holding a simulated company (scale xs), with a leadership login."""
    root = tmp_path_factory.mktemp("shared")
    folder = root / "project"
    for args in (
        ("init", str(folder)),
        ("simulate", "--scale", "xs", "--seed", "3", "--out", str(root / "simulation"), "--project", str(folder)),
        ("users", "add", "lead", "--role", "leadership", "--password", PASSWORD, "--project", str(folder)),
    ):
        done = revalign_cli(*args)
        assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture(scope="module")
def served(simulated: Path) -> Iterator[str]:
    """``revalign serve`` over the simulated project, as a subprocess on a free loopback port."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "revalign.interfaces.cli", "serve", "--project", str(simulated), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail(f"revalign serve did not start: {server.communicate()[1]}")
    yield url
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.mark.slow
def test_ingest_while_serving_succeeds_and_the_next_request_shows_the_new_numbers(
    simulated: Path, served: str, tmp_path: Path
) -> None:
    client = login(httpx.Client(base_url=served, timeout=120), "lead")
    simulated_leads = pd.read_parquet(simulated.parent / "simulation" / "leads")
    expected = per_year(simulated_leads["created_at"])
    assert new_leads_per_year(client) == expected  # the server has read the file: it must have let it go again

    export = leads_export(tmp_path / "export", seed=13, rows=57)
    statuses: list[int] = []
    stop = threading.Event()

    def keep_reading() -> None:  # a dashboard left open during the ingest: cached numbers or a 503, never a 500
        while not stop.is_set():
            statuses.append(client.get("/api/v1/kpis/new_leads", params={"grain": "year"}).status_code)
            time.sleep(0.2)

    reader = threading.Thread(target=keep_reading)
    reader.start()
    try:
        done = revalign_cli("ingest", str(export), "--mapping", "generic_crm", "--project", str(simulated))
    finally:
        stop.set()
        reader.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert statuses and set(statuses) <= {200, 503}, statuses

    added = per_year(pd.read_csv(export / "leads.csv")["Created Date"])
    assert added and not set(added) & set(expected)  # the new leads fall in years the simulation has none of
    assert new_leads_per_year(client) == {**expected, **added}
    page = client.get("/glossary/new_leads", params={"grain": "year"})
    assert page.status_code == 200 and "2031" in page.text


def test_a_cli_write_while_another_process_holds_the_file_exits_4_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    assert revalign_cli("init", str(folder)).returncode == 0
    export = leads_export(tmp_path / "export", seed=1, rows=3)
    holder = hold_write_lock(folder / "revalign.duckdb", 120)
    try:
        done = revalign_cli("ingest", str(export), "--project", str(folder), REVALIGN_LOCK_TIMEOUT="1")
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == EXIT_ENGINE, done.stderr
    assert "Traceback" not in done.stderr and "IOException" not in done.stderr
    message = " ".join(done.stderr.split())  # Rich wraps long lines
    assert f"in use by PID {holder.pid}" in message and "revalign.duckdb" in message
    assert "REVALIGN_LOCK_TIMEOUT" in message


def test_a_writer_waits_for_the_file_instead_of_failing(tmp_path: Path) -> None:
    database = tmp_path / "store.duckdb"
    holder = hold_write_lock(database, 1.5)
    started = time.monotonic()
    engine = connect(f"duckdb:///{database}")  # default wait (30 s) outlasts the holder
    waited = time.monotonic() - started
    engine.close()
    holder.wait(timeout=30)
    assert waited > 0.5 and holder.returncode == 0  # it waited for the holder to end, then opened the file


@pytest.fixture
def reader_project(tmp_path: Path) -> Iterator[Project]:
    """A file project with the fixture's 5 opportunities, opened read-only as the server opens it."""
    writer = Project(tmp_path)
    write_canonical(writer, "opportunities", OPPORTUNITIES.assign(deal_type="new_business"))
    write_canonical(writer, "users", USERS)
    writer.close()
    project = Project(tmp_path, read_only=True)
    yield project
    project.close()


def token_client(project: Project, state: Path) -> TestClient:
    app = create_app(project, state_url=f"sqlite:///{state}", settings=ServerSettings(cache_check_seconds=3600))
    app.state.store.add_user("lead", PASSWORD, "leadership")
    return TestClient(app, headers={"Authorization": f"Bearer {app.state.store.create_token('lead', 'tests')}"})


def test_while_another_process_writes_the_server_serves_cached_reports_and_503_for_the_rest(
    reader_project: Project, tmp_path: Path
) -> None:
    client = token_client(reader_project, tmp_path / "state.sqlite")
    cached = client.get("/api/v1/kpis/opportunities_created", params={"grain": "month"})
    assert cached.status_code == 200
    holder = hold_write_lock(reader_project.folder / "revalign.duckdb", 120)
    try:
        again = client.get("/api/v1/kpis/opportunities_created", params={"grain": "month"})
        fresh = client.get("/api/v1/kpis/opportunities_created", params={"grain": "quarter"})
    finally:
        holder.kill()
        holder.wait()
    assert again.status_code == 200 and again.json() == cached.json()
    assert fresh.status_code == 503, fresh.text
    body = fresh.json()
    assert body["ok"] is False and body["status"] == 503 and f"PID {holder.pid}" in body["error"]
    after = client.get("/api/v1/kpis/opportunities_created", params={"grain": "quarter"})
    assert after.status_code == 200  # the writer is gone: the same request now reads the file
    # fixture created_at: o1, o3 in January, o2 in February, o4 and o5 in March 2025: all five in 2025-Q1
    assert [(r["period_start"][:10], r["value"]) for r in after.json()["tables"][0]["rows"]] == [("2025-01-01", 5.0)]


@pytest.mark.postgres
def test_postgres_needs_no_lock_and_keeps_working_read_only(postgres_server, tmp_path: Path) -> None:
    url = postgres_server.create_database("shared_access")
    writer = Project(tmp_path, engine=url)
    write_canonical(writer, "opportunities", OPPORTUNITIES.assign(deal_type="new_business"))
    write_canonical(writer, "users", USERS)
    project = Project(tmp_path, engine=url, read_only=True)  # the server's way of opening a project
    # no file to watch on PostgreSQL: the data version is read on every request here (every 5 s by default)
    settings = ServerSettings(cache_check_seconds=0)
    app = create_app(project, state_url=f"sqlite:///{tmp_path / 'state.sqlite'}", settings=settings)
    app.state.store.add_user("lead", PASSWORD, "leadership")
    client = TestClient(app, headers={"Authorization": f"Bearer {app.state.store.create_token('lead', 'tests')}"})

    def per_month() -> dict[str, float]:
        body = client.get("/api/v1/kpis/opportunities_created", params={"grain": "month"}).json()
        return {r["period_start"][:7]: r["value"] for r in body["tables"][0]["rows"]}

    # fixture created_at: o1, o3 in January; o2 in February; o4, o5 in March
    assert per_month() == {"2025-01": 2.0, "2025-02": 1.0, "2025-03": 2.0}
    more = OPPORTUNITIES.iloc[[0]].assign(opportunity_id="o6", created_at=pd.Timestamp("2025-02-03 09:00"))
    rows = pd.concat([OPPORTUNITIES, more], ignore_index=True).assign(deal_type="new_business")
    write_canonical(writer, "opportunities", rows)  # written while the server's connection is open
    assert per_month() == {"2025-01": 2.0, "2025-02": 2.0, "2025-03": 2.0}
    project.close()
    writer.close()
