"""The condition kinds an alert rule can watch: one function each, ``(project, rule) → [Firing]``, listed in
:data:`CONDITIONS`.

==========================  =========================================================================================
kind                        fires when
==========================  =========================================================================================
``kpi_off_target``          the KPI (in ``slice``) is off target in the period: status red by default; with
                            ``threshold``, when it misses by at least that share of the target (0.1 = 10 %)
``kpi_forecast_miss``       the period is still open and its run-rate forecast (:mod:`revalign.analytics.pace`)
                            misses the target (red, or by ``threshold``)
``quarantine_new``          a load put at least ``threshold`` (default 1) rows in quarantine that are still open
``alignment_finding``       the alignment check finds a department winning while the business loses
                            (``params.kinds``: only these finding kinds; ``kpi``: only findings about it)
``sla_breached``            an owner breached an SLA of the agreement in a month (:mod:`revalign.alerts.process`)
``sla_at_risk``             an open SLA clock has used most of its allowance
``audit_finding``           the credit audit finds gaming (per kind, actor and month, with the revenue at stake)
==========================  =========================================================================================

Every function reads what it needs through the :class:`~revalign.project.Project` façade (this package sits above
it, like :mod:`revalign.checks`), names the driver that moved when the decomposition has one, and links to the
records behind the number. **Adding a kind** is a function here and a line in :data:`CONDITIONS`; nothing
registers itself on import, and ``alerts.yaml`` accepts the new kind at once (the definition reader takes the
known kinds from this mapping).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import urlencode

import pandas as pd

from revalign.alerts.drivers import DriverFinder, driver_of
from revalign.alerts.firing import Firing, Link
from revalign.alerts.process import audit_finding, sla_at_risk, sla_breached
from revalign.analytics.governance.scorecard import ScorecardRow, status_of
from revalign.analytics.pace import forecast_period
from revalign.definitions.alerts import AlertRule
from revalign.display import format_value
from revalign.model.calendar import parse_period
from revalign.project import Project
from revalign.sources import quarantined

Condition = Callable[[Project, AlertRule], list[Firing]]


DRILL_PARAMS = {"segment": "segment", "channel": "channel", "stage": "stage", "owner": "owner_id"}
"""Slice dimensions the records page can narrow by (→ its query parameter)."""


def records_path(kpi: str, start: dt.date, end: dt.date, dims: dict[str, str]) -> str | None:
    """The drill-down behind ``kpi`` from ``start`` to ``end`` (exclusive), narrowed to ``dims``: the server's
    ``/records?kpi=…`` page (every KPI type; it shows each part of a ratio), with the API's inclusive end.

    None when a dimension cannot narrow the records page (a list that is not this number's is worse than none).
    """
    if any(d not in DRILL_PARAMS for d in dims):
        return None
    params = {"kpi": kpi, "start": start.isoformat(), "end": (end - dt.timedelta(days=1)).isoformat()}
    params.update({DRILL_PARAMS[k]: v for k, v in dims.items()})
    return f"/records?{urlencode(params)}"


def _where(rule: AlertRule) -> str | None:
    """The rule's slice in the KPI language (``segment = 'smb' and channel = 'email'``; the definition refuses
    quotes in slice values, so each value is one literal)."""
    return " and ".join(f"{dim} = '{value}'" for dim, value in rule.slice.items()) or None


def _subject(rule: AlertRule) -> str:
    sliced = ",".join(f"{k}={v}" for k, v in sorted(rule.slice.items()))
    return f"{rule.kpi}[{sliced}]" if sliced else str(rule.kpi)


def shortfall(actual: float, target: float, direction: str | None) -> float:
    """How far ``actual`` misses ``target``, as a share of the target (≤ 0: on or beyond target).

    >>> shortfall(80.0, 100.0, "higher_is_better"), shortfall(120.0, 100.0, "lower_is_better")
    (0.2, 0.2)
    """
    gap = (actual - target) / abs(target) if target else 0.0
    if direction == "lower_is_better":
        return gap
    if direction == "target_is_best":
        return abs(gap)
    return -gap


def _misses(rule: AlertRule, actual: float | None, target: float | None, direction: str | None) -> str | None:
    """The status text when ``actual`` misses ``target`` by the rule's measure (None: it does not)."""
    if actual is None or target is None:
        return None
    status, _, _ = status_of(actual, target, direction)
    if rule.threshold is None:
        return status if status == "red" else None
    return (
        status
        if shortfall(actual, target, direction) >= rule.threshold > 0 or (rule.threshold == 0 and status != "green")
        else None
    )


def _kpi_links(rule: AlertRule, period: str, fs: int) -> tuple[Link, ...]:
    p = parse_period(period, fs)
    kpi = str(rule.kpi)
    drill = records_path(kpi, p.start, p.end, rule.slice)
    records = (Link("Records behind the number", drill),) if drill else ()
    return (*records, Link("KPI definition", f"/glossary/{kpi}"))


def _money(project: Project, value: float | None, unit: str | None) -> str:
    return format_value(value, unit, currency=project.settings.currency)


def kpi_off_target(project: Project, rule: AlertRule) -> list[Firing]:
    """The KPI's scorecard row for the period (latest by default), judged against the rule's or the project's
    target."""
    kpi = str(rule.kpi)
    card = project.scorecard(period=rule.period, grain=rule.grain, by=tuple(rule.slice), kpis=[kpi])
    try:
        row: ScorecardRow = card.row(kpi, **rule.slice)
    except KeyError:
        return []
    target = rule.target if rule.target is not None else row.target
    status = _misses(rule, row.actual, target, row.direction)
    if status is None or row.immature or row.actual is None or target is None:
        return []
    where = _where(rule)
    driver = driver_of(project, kpi, row.period, rule.grain, where)
    actual_text, target_text = _money(project, row.actual, row.unit), _money(project, target, row.unit)
    miss = shortfall(row.actual, target, row.direction)
    message = (
        f"{row.label} is {actual_text} in {row.period} against a target of {target_text} "
        f"({format_value(miss, 'percent')} off target)."
    )
    return [
        Firing(
            rule=rule.name,
            condition=rule.condition,
            subject=_subject(rule),
            period=row.period,
            state=status,
            severity=rule.severity,
            title=f"{row.label} off target in {row.period}",
            message=message,
            driver=driver.text if driver else None,
            facts={
                "kpi": kpi,
                "slice": dict(rule.slice),
                "actual": row.actual,
                "target": target,
                "unit": row.unit,
                "shortfall": miss,
                "status": status,
                "actual_text": actual_text,
                "target_text": target_text,
            },
            links=_kpi_links(rule, row.period, project.fiscal_year_start_month),
        )
    ]


def kpi_forecast_miss(project: Project, rule: AlertRule) -> list[Firing]:
    """The open period's run-rate forecast against its target; nothing once the period is complete (then it is
    simply off target, which ``kpi_off_target`` says)."""
    kpi = str(rule.kpi)
    where, fs = _where(rule), project.fiscal_year_start_month
    period = rule.period or project.latest_period(kpi, rule.grain, where=where)
    as_of = rule.params.get("as_of")
    fc = forecast_period(
        project.tables,
        project.catalog,
        kpi,
        period,
        where=where,
        as_of=dt.date.fromisoformat(str(as_of)) if as_of else None,
        fiscal_year_start_month=fs,
    )
    if fc.complete or fc.forecast is None:
        return []
    card = project.scorecard(period=period, grain=rule.grain, by=tuple(rule.slice), kpis=[kpi])
    try:
        row = card.row(kpi, **rule.slice)
    except KeyError:
        return []
    target = rule.target if rule.target is not None else row.target
    status = _misses(rule, fc.forecast, target, row.direction)
    if status is None or target is None:
        return []
    driver = driver_of(project, kpi, period, rule.grain, where)
    texts = {
        k: _money(project, v, row.unit)
        for k, v in (("actual", fc.actual), ("forecast", fc.forecast), ("target", target))
    }
    message = (
        f"{row.label} is heading for {texts['forecast']} in {period} against a target of {texts['target']}: "
        f"{texts['actual']} after {fc.elapsed_days} of {fc.period_days} days (data to {fc.as_of})."
    )
    return [
        Firing(
            rule=rule.name,
            condition=rule.condition,
            subject=_subject(rule),
            period=period,
            state=status,
            severity=rule.severity,
            title=f"{row.label} forecast to miss its {period} target",
            message=message,
            driver=driver.text if driver else None,
            facts={
                "kpi": kpi,
                "slice": dict(rule.slice),
                "actual": fc.actual,
                "forecast": fc.forecast,
                "target": target,
                "unit": row.unit,
                "as_of": str(fc.as_of),
                "elapsed_days": fc.elapsed_days,
                "period_days": fc.period_days,
                "status": status,
                **{f"{k}_text": v for k, v in texts.items()},
            },
            links=_kpi_links(rule, period, fs),
        )
    ]


def quarantine_new(project: Project, rule: AlertRule) -> list[Firing]:
    """One firing per load whose still-open quarantined rows number at least ``threshold`` (default 1)."""
    rows = quarantined(project.engine)
    if rows.empty:
        return []
    least = rule.threshold if rule.threshold is not None else 1
    out = []
    for load_id, group in rows.groupby("load_id", sort=True):
        n = int(group.groupby(["file", "target", "row"]).ngroups)
        if n < least:
            continue
        files = sorted({str(f).rsplit("/", 1)[-1] for f in group["file"]})
        rules = group["rule"].value_counts()
        when = pd.Timestamp(group["quarantined_at"].max())
        top = ", ".join(f"{r} ({c})" for r, c in rules.head(3).items())
        out.append(
            Firing(
                rule=rule.name,
                condition=rule.condition,
                subject=f"load {load_id}",
                period=when.date().isoformat(),
                state=str(n),
                severity=rule.severity,
                title=f"{n:,} new quarantined rows in load {load_id}",
                message=f"{n:,} rows of {', '.join(files)} were rejected and kept in quarantine; rules: {top}.",
                facts={
                    "load_id": str(load_id),
                    "rows": n,
                    "files": files,
                    "rules": {str(k): int(v) for k, v in rules.items()},
                },
                links=(Link("What to fix (checks)", "/api/v1/checks"),),
            )
        )
    return out


def alignment_finding(project: Project, rule: AlertRule) -> list[Firing]:
    """One firing per alignment finding of the period (only ``params.kinds`` and findings about ``kpi`` when
    given), naming the driver with the largest contribution among the finding's KPIs."""
    found = project.alignment(period=rule.period, grain=rule.grain)
    kinds = set(rule.params.get("kinds") or [])
    fs = project.fiscal_year_start_month
    out = []
    drivers = DriverFinder(project)
    for f in found.findings:
        if (kinds and f.kind not in kinds) or (rule.kpi and rule.kpi not in f.kpis):
            continue
        driver = next((d for d in (drivers(k, f.period, rule.grain) for k in f.kpis) if d), None)
        p = parse_period(f.period, fs)
        links = tuple(
            Link(f"Records behind {k}", f"/records?kpi={k}&start={p.start}&end={p.end - dt.timedelta(days=1)}")
            for k in f.kpis
        )
        out.append(
            Firing(
                rule=rule.name,
                condition=rule.condition,
                subject=f"{f.kind}:{'+'.join(f.kpis)}",
                period=f.period,
                state=f.severity,
                severity=rule.severity,
                title=f.title,
                message=f.message,
                driver=driver.text if driver else None,
                facts={"kind": f.kind, "kpis": list(f.kpis), "departments": list(f.departments), "impact": f.impact},
                links=links,
            )
        )
    return out


CONDITIONS: dict[str, Condition] = {
    "kpi_off_target": kpi_off_target,
    "kpi_forecast_miss": kpi_forecast_miss,
    "quarantine_new": quarantine_new,
    "alignment_finding": alignment_finding,
    "sla_breached": sla_breached,
    "sla_at_risk": sla_at_risk,
    "audit_finding": audit_finding,
}
"""Every condition kind, by the name ``alerts.yaml`` uses. The definition reader accepts exactly these names."""

__all__ = ["CONDITIONS", "DRILL_PARAMS", "Condition", "records_path", "shortfall"]
