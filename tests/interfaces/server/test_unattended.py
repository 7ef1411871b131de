"""A server that runs unattended (issue 19): ``REVALIGN_*`` configuration, access log, readiness, proxy headers.

``revalign serve`` runs here as a real subprocess configured by environment variables alone, on loopback; the
access log is read from its stderr. Readiness is asked of a real app whose state database is then broken for
real (a schema one migration behind, a file that can no longer be opened, a PostgreSQL database dropped).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

import revalign
from revalign.errors import ConfigError
from revalign.interfaces.server import ServerSettings, create_app
from revalign.interfaces.server.access_log import redact_query
from revalign.interfaces.server.environment import ServeEnvironment, serve_environment, unknown_variables
from revalign.interfaces.server.state import StateStore
from revalign.project import Project, open_project
from tests.interfaces.server.conftest import OPPORTUNITIES, PASSWORD, USERS, write_canonical
from tests.servers import free_port

pytestmark = pytest.mark.slow

SRC = Path(revalign.__file__).resolve().parents[1]
REPO = SRC.parent
HEAD = max(p.name.split("_")[0] for p in (SRC / "revalign/interfaces/server/state/migrations/versions").glob("0*.py"))


# -- configuration from the environment ---------------------------------------------------------------------
def test_environment_variables_configure_serve_and_options_win(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "REVALIGN_PORT": "9123",
        "REVALIGN_HOST": "0.0.0.0",
        "REVALIGN_SESSION_HOURS": "2.5",
        "REVALIGN_CACHE_RESULTS": "false",
        "REVALIGN_LOG_LEVEL": "warning",
        "REVALIGN_STATE_URL": "postgresql://revalign@db/state",
    }.items():
        monkeypatch.setenv(name, value)
    env = serve_environment({"port": 8001, "host": None})  # --port given, --host not
    assert (env.port, env.host, env.log_level, env.state_url) == (
        8001,
        "0.0.0.0",
        "warning",
        "postgresql://revalign@db/state",
    )
    settings = env.server_settings()
    assert settings.session_hours == 2.5 and settings.cache_results is False
    assert settings.max_records == ServerSettings().max_records  # unset: the server's own default


def test_wrong_variables_are_all_named_with_their_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVALIGN_PORT", "70000")
    monkeypatch.setenv("REVALIGN_LOG_LEVEL", "loud")
    monkeypatch.setenv("REVALIGN_CACHE_RESULTS", "perhaps")
    with pytest.raises(ConfigError) as caught:
        serve_environment()
    message = str(caught.value)
    assert "REVALIGN_PORT=70000: Input should be less than or equal to 65535" in message
    assert "REVALIGN_LOG_LEVEL=loud" in message and "'debug'" in message
    assert "REVALIGN_CACHE_RESULTS=perhaps" in message
    with pytest.raises(ConfigError, match=r"--port=0: Input should be greater than or equal to 1"):
        serve_environment({"port": 0})


def test_a_misspelt_variable_is_reported_with_the_name_meant() -> None:
    notes = unknown_variables(
        {"REVALIGN_PROT": "8080", "REVALIGN_PORT": "1", "REVALIGN_LOCK_TIMEOUT": "5", "PATH": "/"}
    )
    assert notes == ["REVALIGN_PROT is not a revalign serve setting; did you mean REVALIGN_PORT?"]


def test_every_variable_and_server_setting_is_documented() -> None:
    documented = set(re.findall(r"^\| `(REVALIGN_[A-Z_]+)`", (REPO / "docs/deploy.md").read_text(), re.M))
    variables = {"REVALIGN_" + name.upper() for name in ServeEnvironment.model_fields}
    assert variables <= documented, f"docs/deploy.md lacks {sorted(variables - documented)}"
    # every scalar setting of the server can be set from the environment (login throttling keeps its defaults)
    assert set(ServerSettings.model_fields) - set(ServeEnvironment.model_fields) == {"login_throttle"}


def test_secret_query_values_never_reach_the_log() -> None:
    assert redact_query(b"period=2025-Q1&token=abc123&csrf_token=x&kpi=win_rate") == (
        "period=2025-Q1&token=[redacted]&csrf_token=[redacted]&kpi=win_rate"
    )


# -- readiness over a real app whose state database breaks ------------------------------------------------------
@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = Project(tmp_path / "project", engine="duckdb://:memory:")
    write_canonical(project, "opportunities", OPPORTUNITIES)
    yield project
    project.close()


def test_readiness_fails_when_migrations_lag_or_the_state_database_is_unreachable(
    project: Project, tmp_path: Path
) -> None:
    state = tmp_path / "state.sqlite"
    app = create_app(project, state_url=f"sqlite:///{state}")
    with TestClient(app) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert checks["migrations"] == {"ok": True, "detail": f"at head {HEAD}"}
        assert checks["project"]["ok"] and checks["state"] == {"ok": True, "detail": "reachable"}
        assert client.get("/healthz").json() == {"ok": True}

        # a schema one revision behind (an older release migrated it, or a backup was restored)
        with sa.create_engine(f"sqlite:///{state}").begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0005'"))
        behind = client.get("/readyz")
        assert behind.status_code == 503
        body = behind.json()
        assert body["ok"] is False and body["status"] == 503 and body["error"] == "Not ready: migrations failed."
        assert body["errors"] == [
            {
                "loc": ["migrations"],
                "msg": f"RuntimeError: the state database is at revision 0005, this revalign expects {HEAD}",
                "rule": "readiness",
            }
        ]

        # the state database cannot be opened any more (its file replaced by a folder; pooled connections dropped)
        app.state.store.db.dispose()
        state.unlink()
        state.mkdir()
        down = client.get("/readyz")
        assert down.status_code == 503
        body = down.json()
        assert body["error"] == "Not ready: state, migrations failed."
        assert "unable to open database file" in body["checks"]["state"]["error"]
        assert body["checks"]["migrations"]["error"] == "not checked: the state database is unreachable"
        assert body["checks"]["project"]["ok"] is True  # the warehouse is fine: only the state store is down
        assert client.get("/healthz").status_code == 200  # alive, not ready: restart is not the cure


def test_readiness_fails_when_the_warehouse_cannot_be_opened(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    writer = Project(folder)
    write_canonical(writer, "opportunities", OPPORTUNITIES)
    writer.close()
    reader = open_project(folder, read_only=True)  # as `revalign serve` reads: the file opened per request
    try:
        with TestClient(create_app(reader, state_url=f"sqlite:///{tmp_path / 'state.sqlite'}")) as client:
            assert client.get("/readyz").json()["checks"]["project"] == {"ok": True, "detail": "1 tables"}
            (folder / "revalign.duckdb").write_bytes(b"not a database" * 512)  # a bad restore, a truncated copy
            gone = client.get("/readyz")
            assert gone.status_code == 503 and [e["loc"] for e in gone.json()["errors"]] == [["project"]]
            assert "revalign.duckdb" in gone.json()["checks"]["project"]["error"]
    finally:
        reader.close()


@pytest.mark.postgres
def test_readiness_with_state_and_warehouse_on_postgres(postgres_server, tmp_path: Path) -> None:
    warehouse = postgres_server.create_database("unattended_warehouse")
    state_url = postgres_server.create_database("unattended_state")
    project = Project(tmp_path / "pg", engine=warehouse)
    write_canonical(project, "opportunities", OPPORTUNITIES)
    write_canonical(project, "users", USERS)
    try:
        app = create_app(project, state_url=state_url)
        with TestClient(app) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["project"]["detail"] == f"{len(project.engine.list_tables())} tables"
            app.state.store.db.dispose()
            dsn = f"host=127.0.0.1 port={postgres_server.port} user=postgres dbname=postgres"
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute('DROP DATABASE "unattended_state" WITH (FORCE)')
            down = client.get("/readyz")
            assert down.status_code == 503
            assert down.json()["errors"][0]["loc"] == ["state"]
            assert 'database "unattended_state" does not exist' in down.json()["checks"]["state"]["error"]
    finally:
        project.close()


# -- `revalign serve` configured by the environment alone, behind a (simulated) proxy -------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    """``revalign serve`` over a DuckDB project folder, every setting from ``REVALIGN_*``; its stderr in a file."""
    folder = tmp_path_factory.mktemp("unattended")
    project = Project(folder)
    write_canonical(project, "opportunities", OPPORTUNITIES)
    write_canonical(project, "users", USERS)
    project.close()
    state_url = f"sqlite:///{folder / 'state.sqlite'}"
    store = StateStore(state_url)
    store.migrate()
    store.add_user("ann", PASSWORD, "admin")
    token = store.create_token("ann", "probe")
    store.close()
    port = free_port()
    log = folder / "server.log"
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    env = {
        **os.environ,
        "PYTHONPATH": path,
        "REVALIGN_PROJECT": str(folder),
        "REVALIGN_PORT": str(port),
        "REVALIGN_STATE_URL": state_url,
        "REVALIGN_LOG_LEVEL": "info",
        "REVALIGN_FORWARDED_ALLOW_IPS": "127.0.0.1",  # the proxy: loopback's first address only
    }
    with log.open("w") as err:
        server = subprocess.Popen(
            [sys.executable, "-m", "revalign.interfaces.cli", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=err
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            server.kill()
            pytest.fail(f"revalign serve did not start: {log.read_text()}")
        yield base, log, token
        server.terminate()
        server.wait(timeout=20)


def access_lines(log: Path) -> list[dict]:
    lines = [line for line in log.read_text().splitlines() if " revalign.access " in line]
    return [json.loads(line.split(" revalign.access ", 1)[1]) for line in lines]


def test_served_from_the_environment_logs_each_request_and_is_ready(served: tuple[str, Path, str]) -> None:
    base, log, token = served
    assert httpx.get(base + "/readyz", timeout=10).json()["ok"] is True
    me = httpx.get(base + "/api/v1/me", headers={"Authorization": f"Bearer {token}"}, params={"token": token})
    assert me.status_code == 200, me.text  # a token in the query as well: a client's mistake the log must not keep
    assert httpx.get(base + "/api/v1/me", timeout=10).status_code == 401
    time.sleep(0.2)
    lines = access_lines(log)
    by_path = {(x["path"], x["status"]): x for x in lines}
    ready = by_path["/readyz", 200]
    assert set(ready) == {"method", "path", "query", "status", "duration_ms", "user", "via", "client", "scheme"}
    assert ready["method"] == "GET" and ready["duration_ms"] >= 0 and ready["user"] is None
    authed = by_path["/api/v1/me", 200]
    assert authed["query"] == "token=[redacted]"
    assert token not in log.read_text()  # neither the header nor the query value is ever written
    assert by_path["/api/v1/me", 401]["user"] is None
    assert (authed["user"], authed["via"]) == ("ann", "token")


def test_forwarded_headers_are_honoured_only_from_the_trusted_proxy(served: tuple[str, Path, str]) -> None:
    base, log, _token = served
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    via_proxy = httpx.get(base + "/login", headers=forwarded, timeout=10)
    assert via_proxy.status_code == 200
    assert "secure" in via_proxy.headers["set-cookie"].lower()  # the client reached the proxy over https
    # the same headers from another address (127.0.0.2 is loopback too, but not the trusted proxy)
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=10) as other:
        direct = other.get(base + "/login", headers=forwarded)
    assert direct.status_code == 200
    assert "secure" not in direct.headers["set-cookie"].lower()
    time.sleep(0.2)
    logins = [x for x in access_lines(log) if x["path"] == "/login"]
    assert [(x["client"], x["scheme"]) for x in logins[-2:]] == [("203.0.113.7", "https"), ("127.0.0.2", "http")]


# -- packaging: `make demo` installs no Spark, so the demo must run without it ---------------------------------
NO_SPARK = """
import sys
tried = []


class NoSpark:
    '''An interpreter where pyspark is not installed: every import of it fails, and is recorded.'''

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pyspark":
            tried.append(name)
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None


sys.meta_path.insert(0, NoSpark())
from revalign.interfaces.cli import main

code = main(["demo", "--folder", sys.argv[1], "--scale", "xs", "--seed", "3", "--no-serve"])
print("PYSPARK-IMPORTS", tried, flush=True)
sys.exit(code)
"""


def test_demo_runs_without_spark_installed(tmp_path: Path) -> None:
    path = os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)
    done = subprocess.run(
        [sys.executable, "-c", NO_SPARK, str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "North star" in done.stdout
    assert "PYSPARK-IMPORTS []" in done.stdout  # not even attempted


def test_every_dependency_range_has_an_exact_pin_inside_it() -> None:
    """constraints.txt pins what CI installs; each pin must satisfy pyproject's range, or pip refuses both."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    requirements = [Requirement(r) for r in project["dependencies"]]
    requirements += [Requirement(r) for extra in project["optional-dependencies"].values() for r in extra]
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} has no pin in constraints.txt"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement.specifier}"
        assert requirement.specifier, f"{name} has no version range in pyproject.toml"
    assert SpecifierSet(project["requires-python"]) == SpecifierSet(">=3.11,<3.14")
