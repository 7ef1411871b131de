"""``GET /readyz``: can this server answer requests now? (``/healthz`` only says the process is alive.)

A load balancer or Kubernetes sends traffic to an instance only while it is ready, and a service manager
restarts one that stops being alive. Ready means three checks pass, each reported by name:

- ``project``: the warehouse answers (the project's engine lists its tables, inside a request session, so a
  DuckDB file is opened read-only and released as for any request). It takes the engine lock reports compute
  under (``ReportCache.run``: one DuckDB connection is not for concurrent threads), so a computation holding the
  engine for longer than the time limit counts as not ready: a new request would wait for it too;
- ``state``: the app state database answers a ``SELECT 1``;
- ``migrations``: its schema is at the newest Alembic revision this version of revalign ships (a second
  instance started by an older release, or a restored backup, would otherwise serve a schema it does not know).

Each check runs in a worker thread with a time limit (:data:`TIMEOUT` seconds), so an unreachable database
host that drops packets makes the answer ``503`` in seconds rather than a hung probe. ``200`` carries
``{"ok": true, "checks": {...}}``; ``503`` carries the API's error shape with one ``errors`` entry per failed
check (``loc``: the check's name) and the same ``checks``. No authentication: a probe has no login, and the
answer names no data, only which dependency is down (the database's own message, without its URL).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.errors import error_body
from revalign.interfaces.server.state.store import MIGRATIONS, StateStore
from revalign.project import Project

TIMEOUT = 5.0
"""Seconds each check may take before it counts as failed."""

router = APIRouter()
_workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="revalign-readyz")


def project_check(project: Project) -> str:
    """The warehouse answers: the number of tables it lists."""
    with project.engine.session():
        return f"{len(project.engine.list_tables())} tables"


def state_check(store: StateStore) -> str:
    """The state database answers a query."""
    with store.db.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    return "reachable"


def migrations_check(store: StateStore) -> str:
    """The state schema's revision is the newest one shipped (else raises, naming both)."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    with store.db.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        raise RuntimeError(f"the state database is at revision {current}, this revalign expects {head}")
    return f"at head {head}"


def run_check(check: Callable[[], str]) -> dict[str, Any]:
    """``{"ok": True, "detail": …}`` or ``{"ok": False, "error": …}``, within :data:`TIMEOUT` seconds."""
    future = _workers.submit(check)
    try:
        return {"ok": True, "detail": future.result(timeout=TIMEOUT)}
    except FutureTimeout:
        return {"ok": False, "error": f"no answer within {TIMEOUT:g} s (unreachable, or busy with a long computation)"}
    except Exception as exc:  # any failure of a dependency is "not ready", with its message
        return {"ok": False, "error": _first_line(exc)}


def _first_line(exc: BaseException) -> str:
    """The exception's own message, first line only (SQLAlchemy appends the statement and a help link)."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def readiness(project: Project, store: StateStore, cache: ReportCache) -> dict[str, dict[str, Any]]:
    """Every check's result by name, in the order they are documented."""
    results = {
        "project": run_check(lambda: cache.run(lambda: project_check(project))),
        "state": run_check(lambda: state_check(store)),
    }
    results["migrations"] = (
        run_check(lambda: migrations_check(store))
        if results["state"]["ok"]
        else {"ok": False, "error": "not checked: the state database is unreachable"}
    )
    return results


@router.get("/readyz", include_in_schema=False)
def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks = readiness(state.project, state.store, state.cache)
    failed = [name for name, result in checks.items() if not result["ok"]]
    if not failed:
        return JSONResponse({"ok": True, "checks": checks})
    errors = [{"loc": [name], "msg": checks[name]["error"], "rule": "readiness"} for name in failed]
    body = error_body(503, f"Not ready: {', '.join(failed)} failed.", errors)
    return JSONResponse({**body, "checks": checks}, status_code=503)
