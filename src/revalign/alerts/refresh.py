"""``revalign refresh``: load the configured sources, drop cached results, evaluate the alert rules; and when.

One run, in order:

1. **Ingest** every ``sources:`` entry of ``revalign.yaml`` (a folder or file and its mapping). Loads are
   idempotent, so a source that did not change costs one checksum per file.
2. **Recompute**: the KPI result cache is cleared. Results are keyed by the data version, so this only frees
   memory early; nothing stale could be served anyway. With ``kpi_store: true`` in ``revalign.yaml`` the KPI
   store is rebuilt for the new data version (:mod:`revalign.kpis.store`).
3. **Evaluate** the project's alert rules and deliver what fires (:func:`revalign.alerts.evaluate.evaluate_alerts`).

The schedule (``alerts.refresh`` in ``revalign.yaml``: ``every: 1h`` or ``cron: "0 6 * * 1-5"``) is read by
:func:`next_run`; the server runs it in a background thread and docs/alerts.md shows the cron and systemd-timer
equivalents for a deployment without the server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from croniter import croniter

from revalign.alerts.delivery import Deliverer
from revalign.alerts.evaluate import Evaluation, evaluate_alerts
from revalign.alerts.firing import AlertState
from revalign.definitions.alerts import AlertRule, parse_duration
from revalign.errors import ConfigError, RevalignError
from revalign.kpis.cache import RESULTS
from revalign.kpis.store_refresh import StoreReport
from revalign.project import Project
from revalign.settings import RefreshSchedule
from revalign.sources import LoadReport, ingest


@dataclass
class RefreshReport:
    """What one refresh did: loads run, rows loaded and quarantined, the alert evaluation, and when."""

    started: dt.datetime
    finished: dt.datetime | None = None
    loads: list[LoadReport] = field(default_factory=list)
    evaluation: Evaluation | None = None
    store: StoreReport | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "ok": self.ok,
            "loads": [
                {
                    "load_id": r.load_id,
                    "mapping": r.mapping,
                    "rows_quarantined": r.rows_quarantined,
                    "skipped_as_duplicate": r.skipped_as_duplicate,
                }
                for r in self.loads
            ],
            "alerts": self.evaluation.to_dict() if self.evaluation else None,
            "kpi_store": None
            if self.store is None
            else {"data_version": self.store.data_version, "rows": self.store.rows, "seconds": self.store.seconds},
            "problems": list(self.problems),
        }

    def summary(self) -> str:
        sent = len(self.evaluation.sent) if self.evaluation else 0
        quarantined = sum(r.rows_quarantined for r in self.loads)
        return f"{len(self.loads)} source(s) loaded ({quarantined:,} rows quarantined), {sent} alert(s) sent" + (
            f", {len(self.problems)} problem(s)" if self.problems else ""
        )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _mapping(project: Project, mapping: str) -> str | Path:
    """A shipped mapping name as is; a YAML path relative to the project folder."""
    if mapping.endswith((".yaml", ".yml")):
        path = Path(mapping)
        return path if path.is_absolute() else project.folder / path
    return mapping


def ingest_sources(project: Project, report: RefreshReport) -> None:
    """Load every configured source; a source that fails is a problem of the report, not the end of the run."""
    for source in project.settings.sources:
        path = Path(source.path)
        path = path if path.is_absolute() else project.folder / path
        try:
            report.loads.append(ingest(project, path, _mapping(project, source.mapping), source_name=source.name))
        except Exception as exc:  # any failure of one source (bad file, bad mapping) is reported, the rest runs
            report.problems.append(f"source {source.name}: {exc}")


def refresh(
    project: Project,
    state: AlertState,
    rules: Mapping[str, AlertRule],
    *,
    sources: bool = True,
    send: bool = True,
    now: dt.datetime | None = None,
) -> RefreshReport:
    """Ingest (``sources``), clear caches, and evaluate ``rules`` (delivering when ``send``; else a dry run)."""
    report = RefreshReport(started=now or _now())
    if sources:
        ingest_sources(project, report)
    RESULTS.clear()
    if project.settings.kpi_store:
        try:
            report.store = project.refresh_kpi_store()
        except RevalignError as exc:  # the store is an accelerator: without it requests evaluate live
            report.problems.append(f"KPI store: {exc}")
    deliver = Deliverer(project.settings.alerts, state) if send else None
    report.evaluation = evaluate_alerts(project, rules, state, deliver, now=now)
    report.problems.extend(report.evaluation.problems)
    report.finished = _now() if now is None else now
    return report


def next_run(schedule: RefreshSchedule, after: dt.datetime) -> dt.datetime:
    """When a refresh on ``schedule`` runs next after ``after``; ``ConfigError`` for a schedule that cannot run."""
    if (schedule.every is None) == (schedule.cron is None):
        raise ConfigError("alerts.refresh needs exactly one of every: (like '1h') or cron: (like '0 6 * * 1-5')")
    if schedule.every is not None:
        try:
            step = parse_duration(schedule.every)
        except ValueError as exc:
            raise ConfigError(f"alerts.refresh.every: {exc}") from exc
        if step <= dt.timedelta(0):
            raise ConfigError("alerts.refresh.every must be positive")
        return after + step
    if not croniter.is_valid(str(schedule.cron)):
        raise ConfigError(f"alerts.refresh.cron: {schedule.cron!r} is not cron text (minute hour day month weekday)")
    found: dt.datetime = croniter(str(schedule.cron), after).get_next(dt.datetime)
    return found


__all__ = ["RefreshReport", "ingest_sources", "next_run", "refresh"]
