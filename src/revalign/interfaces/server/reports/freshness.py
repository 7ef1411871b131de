"""How fresh the numbers are, for every page's footer and ``GET /api/v1/freshness``: the latest load, the latest
data time (:func:`revalign.analytics.freshness.data_freshness`, cached with the reports, so a new load shows at
once), the last refresh run and the next scheduled one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError

from revalign.analytics.freshness import data_freshness
from revalign.errors import RevalignError
from revalign.interfaces.server.cache import ReportCache
from revalign.interfaces.server.state import StateStore
from revalign.interfaces.server.state.alerts import AlertStore
from revalign.project import Project


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="minutes") if value is not None else None


def freshness_report(
    project: Project, cache: ReportCache, store: StateStore, next_refresh: dt.datetime | None = None
) -> dict[str, Any]:
    """``latest_load``, ``latest_data``, ``last_refresh`` (started, finished, ok, summary) and ``next_refresh``."""
    fresh = cache.get_or_compute(("freshness",), lambda: data_freshness(project.tables))
    last = AlertStore(store).last_refresh()
    if last is not None:
        last = {**last, "started_at": _iso(last["started_at"]), "finished_at": _iso(last["finished_at"])}
    return {
        "latest_load": _iso(fresh.latest_load),
        "latest_data": _iso(fresh.latest_data),
        "last_refresh": last,
        "next_refresh": _iso(next_refresh),
    }


def footer_text(report: dict[str, Any]) -> str:
    """One line for the footer: ``Data loaded … · data to … · refreshed … (ok)``; parts without a value left out."""
    parts = []
    if report["latest_load"]:
        parts.append(f"Data loaded {report['latest_load'].replace('T', ' ')} UTC")
    if report["latest_data"]:
        parts.append(f"data to {report['latest_data'][:10]}")
    last = report["last_refresh"]
    if last:
        state = "ok" if last["ok"] else "with problems"
        parts.append(f"last refresh {str(last['finished_at']).replace('T', ' ')} UTC ({state})")
    if report["next_refresh"]:
        parts.append(f"next {report['next_refresh'].replace('T', ' ')} UTC")
    return " · ".join(parts) or "No data loaded yet"


def footer_line(app: FastAPI) -> str:
    """The footer's freshness line for any page (login and error pages too); empty when it cannot be read (the
    page that failed says why, the footer does not fail it again)."""
    project: Project = app.state.project
    scheduler = app.state.scheduler
    try:
        with project.engine.session():
            report = freshness_report(
                project, app.state.cache, app.state.store, scheduler.next_at if scheduler is not None else None
            )
    except (RevalignError, SQLAlchemyError, OSError):
        return ""
    return footer_text(report)
