"""The scheduled refresh: a background thread of the server that runs ``revalign refresh`` on the schedule of
``alerts.refresh`` in ``revalign.yaml`` (``every: 1h`` or ``cron: "0 6 * * 1-5"``), and the one function that runs
a refresh and records it, which ``revalign refresh`` calls too.

The thread sleeps on an event until the next run is due, so stopping the server stops it at once. A refresh
writes to the project's store: when the server holds a DuckDB file read-only (``revalign serve``), the refresh
opens its own writable project on the same folder for the run, as a CLI command would, and closes it after.
Runs never overlap: one thread, one run at a time.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from revalign.alerts import RefreshReport, checked_alert_rules, next_run, refresh
from revalign.definitions.issues import errors
from revalign.errors import RevalignError
from revalign.interfaces.server.roles import ROLES
from revalign.interfaces.server.state import StateStore
from revalign.interfaces.server.state.agreement_signoff import sync_signoff
from revalign.interfaces.server.state.alerts import AlertStore
from revalign.interfaces.server.state.approvals import Approvals
from revalign.project import Project, open_project
from revalign.settings import RefreshSchedule

log = logging.getLogger("revalign.refresh")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def refresh_and_record(
    project: Project, store: StateStore, *, sources: bool = True, send: bool = True, now: dt.datetime | None = None
) -> RefreshReport:
    """Ingest the configured sources, recompute, evaluate and deliver the alert rules; log the run in the state.

    Broken rules in ``alerts.yaml`` are problems of the run (the valid rules still run).
    """
    state = AlertStore(store)
    sync_signoff(project, Approvals(store))  # SLA alerts count only the signed agreement versions
    rules, issues = checked_alert_rules(project, ROLES)
    report = refresh(project, state, rules, sources=sources, send=send, now=now)
    report.problems.extend(str(i) for i in errors(issues))
    if send:
        finished = report.finished or _now()
        state.record_refresh(report.started, finished, report.ok, report.summary(), report.to_dict())
    return report


class RefreshScheduler:
    """Runs :func:`refresh_and_record` on ``schedule`` in a daemon thread until :meth:`stop`."""

    def __init__(
        self,
        project: Project,
        store: StateStore,
        schedule: RefreshSchedule,
        *,
        after_run: Callable[[RefreshReport], None] | None = None,
    ) -> None:
        next_run(schedule, _now())  # a schedule that cannot run fails when the server starts, not an hour later
        self.project, self.store, self.schedule, self.after_run = project, store, schedule, after_run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="revalign-refresh", daemon=True)
        self.next_at: dt.datetime | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.next_at = next_run(self.schedule, _now())
            wait = max(0.0, (self.next_at - _now()).total_seconds())
            if self._stop.wait(wait):
                return
            self.run_once()

    def run_once(self) -> RefreshReport | None:
        """One refresh now (on a writable project when the server's is read-only); errors are logged, not raised."""
        own = open_project(self.project.folder) if self.project.read_only else None
        try:
            report = refresh_and_record(own or self.project, self.store)
        except (RevalignError, OSError) as exc:
            log.error("refresh failed: %s", exc)
            return None
        finally:
            if own is not None:
                own.close()
        log.info("refresh: %s", report.summary())
        if self.after_run is not None:
            self.after_run(report)
        return report


__all__ = ["RefreshScheduler", "refresh_and_record"]
