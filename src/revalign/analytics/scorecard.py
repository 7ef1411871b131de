"""⑤ Scorecards: each KPI's actual against its target for a period, with a direction-aware status and trend.

One scorecard per department (its KPIs plus the north star, so nobody reads their own card without it) and one
joint scorecard (every KPI). The page, the JSON API and ``revalign scorecard`` all call :func:`build_scorecard`
(pure: KPI values in, rows out) through :func:`project_scorecard` (evaluates the KPIs on the project's engine).

**Status** (:class:`StatusRule`, defaults documented in ``docs/driver_tree.md``). With ``gap = (actual −
target) / |target|``:

==================  =====================================  ==========================================
direction           green                                  amber (else red)
==================  =====================================  ==========================================
higher_is_better    actual ≥ target                        gap ≥ −10 %  (within 10 % below target)
lower_is_better     actual ≤ target                        gap ≤ +10 %  (within 10 % above target)
target_is_best      |gap| ≤ 5 %                            |gap| ≤ 15 %
==================  =====================================  ==========================================

A target of 0 has no relative gap: green when the actual is on the right side (or equal), red otherwise.
``no_target`` when the KPI has no target for the period (and slice), ``no_data`` when it has no value.
Targets come from the project (``targets.csv``, ``targets.yaml``, ``targets:`` in ``revalign.yaml``) before the
catalog; :mod:`revalign.analytics.targets` has the lookup rules and ``row.target_source`` says which one won.
**Attainment** is ``actual / target`` for higher-is-better, ``target / actual`` for lower-is-better and
``1 − |gap|`` for target-is-best, so 1.0 (100 %) always means "on target" and more is better.

**Movement** compares the period with the previous one (``improving``/``worsening``/``unchanged``, by
direction; a move within 1 % of the previous value is ``unchanged``); **trend** fits a least-squares line
through the last ``trend_periods`` values and calls it flat when its slope is below 1 % of the mean level per
period.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from revalign.analytics.targets import TargetBook, check_project_targets, target_for
from revalign.definitions.issues import errors
from revalign.model.calendar import add_periods, parse_period, period_label, period_start

if TYPE_CHECKING:
    from revalign.project import Project

Status = Literal["green", "amber", "red", "no_target", "no_data"]
STATUS_ORDER: dict[str, int] = {"red": 0, "amber": 1, "green": 2, "no_target": 3, "no_data": 4}
"""Worst first: the order rows and roll-ups use."""


@dataclass(frozen=True)
class StatusRule:
    """Thresholds for green/amber/red; see the module docstring for how each direction uses them."""

    amber_band: float = 0.10
    on_target_band: float = 0.05
    near_target_band: float = 0.15
    flat_slope: float = 0.01
    unchanged_band: float = 0.01


DEFAULT_RULE = StatusRule()


def _sign(direction: str | None) -> int:
    return -1 if direction == "lower_is_better" else 1


def status_of(
    actual: float | None, target: float | None, direction: str | None, rule: StatusRule = DEFAULT_RULE
) -> tuple[Status, float | None, float | None]:
    """``(status, attainment, gap)`` of one actual against one target, by direction.

    >>> status_of(95.0, 100.0, "higher_is_better")
    ('amber', 0.95, -0.05)
    """
    if actual is None or _isnan(actual):
        return "no_data", None, None
    if target is None or _isnan(target):
        return "no_target", None, None
    direction = direction or "higher_is_better"
    if target == 0:
        if direction == "target_is_best":
            return ("green" if actual == 0 else "red"), None, None
        better_or_equal = actual * _sign(direction) >= 0
        return ("green" if better_or_equal else "red"), None, None
    gap = (actual - target) / abs(target)
    if direction == "higher_is_better":
        status: Status = "green" if gap >= 0 else "amber" if gap >= -rule.amber_band else "red"
        attainment = actual / target
    elif direction == "lower_is_better":
        status = "green" if gap <= 0 else "amber" if gap <= rule.amber_band else "red"
        attainment = target / actual if actual != 0 else None
    elif direction == "target_is_best":
        dev = abs(gap)
        status = "green" if dev <= rule.on_target_band else "amber" if dev <= rule.near_target_band else "red"
        attainment = 1.0 - dev
    else:
        raise ValueError(f"direction must be higher_is_better, lower_is_better or target_is_best; got {direction!r}")
    return status, attainment, gap


def movement_of(
    previous: float | None,
    actual: float | None,
    direction: str | None,
    target: float | None = None,
    rule: StatusRule = DEFAULT_RULE,
) -> str:
    """``improving``/``worsening``/``unchanged`` from ``previous`` to ``actual`` (``unknown`` without both).

    A move within ``rule.unchanged_band`` (1 %) of the previous value (of the target, for target-is-best) is
    ``unchanged``, so noise does not raise alignment flags. For target-is-best KPIs, improving means getting
    closer to the target (``unknown`` without a target).
    """
    if previous is None or actual is None or _isnan(previous) or _isnan(actual):
        return "unknown"
    if direction == "target_is_best":
        if target is None or _isnan(target):
            return "unknown"
        delta, scale = abs(previous - target) - abs(actual - target), abs(target)
    else:
        delta, scale = (actual - previous) * _sign(direction), abs(previous)
    if abs(delta) <= rule.unchanged_band * scale:
        return "unchanged"
    return "improving" if delta > 0 else "worsening"


def trend_of(
    values: Sequence[float | None], direction: str | None, target: float | None = None, rule: StatusRule = DEFAULT_RULE
) -> str:
    """``improving``/``worsening``/``flat`` over ``values`` (oldest first); ``unknown`` with fewer than 2 values."""
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None and not _isnan(v)]
    if len(points) < 2:
        return "unknown"
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    if direction == "target_is_best":
        if target is None or _isnan(target):
            return "unknown"
        y, sign = np.abs(y - target), -1
        level = abs(target) or float(np.mean(np.abs(y))) or 1.0
    else:
        sign = _sign(direction)
        level = float(np.mean(np.abs(y))) or 1.0
    slope = float(np.polyfit(x, y, 1)[0])
    if abs(slope) / level < rule.flat_slope:
        return "flat"
    return "improving" if slope * sign > 0 else "worsening"


def _isnan(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class ScorecardRow:
    """One KPI (for one slice when the scorecard is ``by`` dimensions) on a scorecard."""

    kpi: str
    label: str
    department: str | None
    owner: str | None
    unit: str | None
    direction: str | None
    timing: str | None
    parent: str | None
    is_north_star: bool
    dims: Mapping[str, str]
    period: str
    actual: float | None
    target: float | None
    attainment: float | None
    gap: float | None
    status: Status
    previous_period: str
    previous: float | None
    change: float | None
    pct_change: float | None
    movement: str
    trend: tuple[float | None, ...]
    trend_periods: tuple[str, ...]
    trend_direction: str
    target_source: str | None = None
    """Where the target comes from (``targets.csv row 4``, ``sales.yaml:90``; ``… (company-wide)`` when a level
    KPI's slice borrows the company target), so a reader can find and fix it."""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["dims"] = dict(self.dims)
        out["trend"] = list(self.trend)
        out["trend_periods"] = list(self.trend_periods)
        return out


@dataclass(frozen=True)
class Scorecard:
    """A scorecard for one period: rows ordered north star first, then by department and KPI name."""

    period: str
    grain: str
    department: str | None
    north_star: str | None
    rows: tuple[ScorecardRow, ...]
    by: tuple[str, ...] = ()
    rule: StatusRule = field(default=DEFAULT_RULE)
    notices: tuple[str, ...] = ()
    """What the reader must know about the numbers, e.g. target rows that were ignored because they are broken."""

    def row(self, kpi: str, **dims: str) -> ScorecardRow:
        """The row of ``kpi`` (and slice ``dims``); KeyError naming the KPIs present otherwise."""
        for r in self.rows:
            if r.kpi == kpi and all(r.dims.get(k) == v for k, v in dims.items()):
                return r
        from revalign.errors import UnknownNameError

        raise UnknownNameError("scorecard KPI", kpi, {r.kpi for r in self.rows})

    def department_status(self) -> dict[str, Status]:
        """Each department's roll-up over its KPIs with a target: red if any red, else amber if any, else green.

        The north star counts for its own department; departments with no targeted KPI are ``no_target``.
        """
        out: dict[str, Status] = {}
        for r in self.rows:
            if r.department is None or r.dims:
                continue
            current = out.get(r.department, "no_target")
            if r.status in ("green", "amber", "red"):
                worst = min((current, r.status), key=lambda s: STATUS_ORDER[s])
                out[r.department] = worst if current in ("green", "amber", "red") else r.status
            else:
                out.setdefault(r.department, current)
        return out

    def to_pandas(self) -> pd.DataFrame:
        """One row per KPI (and slice); slice dimensions become columns; ``trend`` stays a list."""
        records = []
        for r in self.rows:
            d = r.to_dict()
            dims = d.pop("dims")
            records.append({**{k: dims.get(k) for k in self.by}, **d})
        columns = [*self.by, *(f for f in ScorecardRow.__dataclass_fields__ if f != "dims")]
        return pd.DataFrame(records, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "grain": self.grain,
            "department": self.department,
            "north_star": self.north_star,
            "by": list(self.by),
            "rule": asdict(self.rule),
            "department_status": self.department_status(),
            "rows": [_jsonable(r.to_dict()) for r in self.rows],
            "notices": list(self.notices),
        }


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    def fix(v: Any) -> Any:
        if isinstance(v, float) and math.isnan(v):
            return None
        if isinstance(v, list):
            return [fix(x) for x in v]
        return v

    return {k: fix(v) for k, v in d.items()}


def _value(x: Any) -> float | None:
    return None if x is None or _isnan(x) else float(x)


def build_scorecard(
    values: pd.DataFrame,
    kpis: Mapping[str, Any],
    *,
    period: str,
    grain: str = "quarter",
    department: str | None = None,
    north_star: str | None = None,
    by: Iterable[str] = (),
    trend_periods: int = 4,
    fiscal_year_start_month: int = 1,
    rule: StatusRule = DEFAULT_RULE,
    targets: TargetBook | None = None,
) -> Scorecard:
    """Build a scorecard from KPI values (pure: no engine).

    ``values`` is ``evaluate``'s long frame (``kpi``, ``period_start``, ``<by…>``, ``value``) covering
    ``period`` and the ``trend_periods − 1`` periods before it; ``kpis`` maps names to catalog KPIs (label,
    department, owner, unit, direction, timing, parent, north_star, targets). With ``department``, the card
    holds that department's KPIs plus the north star. ``targets`` are the project's targets (they override the
    catalog's for the same KPI, period and slice; see :func:`revalign.analytics.targets.target_for`).
    """
    by = tuple(by)
    current = parse_period(period, fiscal_year_start_month)
    if current.grain != grain:
        raise ValueError(f"period {period!r} is a {current.grain}, but the grain asked for is {grain!r}")
    if north_star is None:
        north_star = next((k for k, v in kpis.items() if getattr(v, "north_star", False)), None)
    starts = [add_periods(current.start, grain, -i) for i in range(max(trend_periods, 2) - 1, -1, -1)]
    labels = [period_label(s, grain, fiscal_year_start_month) for s in starts]
    frame = values.copy()
    if frame.empty:
        frame = pd.DataFrame(columns=["kpi", "period_start", *by, "value"])
    missing = [c for c in ("kpi", "period_start", "value", *by) if c not in frame.columns]
    if missing:
        raise ValueError(f"values lack column(s) {', '.join(missing)}; expected kpi, period_start, {by}, value")
    frame["start_"] = [
        period_start(pd.Timestamp(v).date(), grain, fiscal_year_start_month) if not _isnan(v) else None
        for v in frame["period_start"]
    ]
    lookup: dict[tuple[str, tuple[str, ...], dt.date], float | None] = {}
    slices: dict[str, list[tuple[str, ...]]] = {}
    for rec in frame.to_dict(orient="records"):
        key_dims = tuple("" if _isnan(rec[d]) else str(rec[d]) for d in by)
        lookup[(rec["kpi"], key_dims, rec["start_"])] = _value(rec["value"])
        if rec["start_"] in starts:
            slices.setdefault(rec["kpi"], [])
            if key_dims not in slices[rec["kpi"]]:
                slices[rec["kpi"]].append(key_dims)

    names = [k for k, v in kpis.items() if department is None or getattr(v, "department", None) == department]
    if north_star and north_star in kpis and north_star not in names:
        names.insert(0, north_star)
    rows: list[ScorecardRow] = []
    for name in names:
        kpi = kpis[name]
        direction = getattr(kpi, "direction", None)
        for key_dims in sorted(slices.get(name) or [tuple("" for _ in by)] if by else [()]):
            dims = dict(zip(by, key_dims, strict=True))
            series = [lookup.get((name, key_dims, s)) for s in starts]
            actual, previous = series[-1], series[-2]
            found = target_for(
                kpi, grain, starts[-1], dims, book=targets, fiscal_year_start_month=fiscal_year_start_month, name=name
            )
            target = found.value if found is not None else None
            status, attainment, gap = status_of(actual, target, direction, rule)
            change = actual - previous if actual is not None and previous is not None else None
            pct = change / abs(previous) if change is not None and previous else None
            rows.append(
                ScorecardRow(
                    kpi=name,
                    label=getattr(kpi, "label", None) or name,
                    department=getattr(kpi, "department", None),
                    owner=getattr(kpi, "owner", None),
                    unit=getattr(kpi, "unit", None),
                    direction=direction,
                    timing=getattr(kpi, "timing", None),
                    parent=getattr(kpi, "parent", None),
                    is_north_star=name == north_star,
                    dims=dims,
                    period=labels[-1],
                    actual=actual,
                    target=target,
                    target_source=found.where if found is not None else None,
                    attainment=attainment,
                    gap=gap,
                    status=status,
                    previous_period=labels[-2],
                    previous=previous,
                    change=change,
                    pct_change=pct,
                    movement=movement_of(previous, actual, direction, target, rule),
                    trend=tuple(series[-trend_periods:]) if trend_periods >= 1 else (),
                    trend_periods=tuple(labels[-trend_periods:]) if trend_periods >= 1 else (),
                    trend_direction=trend_of(series[-trend_periods:], direction, target, rule),
                )
            )
    rows.sort(key=lambda r: (not r.is_north_star, r.department or "~", r.kpi, tuple(r.dims.values())))
    return Scorecard(
        period=labels[-1],
        grain=grain,
        department=department,
        north_star=north_star,
        rows=tuple(rows),
        by=by,
        rule=rule,
    )


# -------------------------------------------------------------------------------------------- on a project


def project_scorecard(
    project: Project,
    department: str | None = None,
    *,
    period: str | None = None,
    grain: str = "quarter",
    by: Iterable[str] = (),
    trend_periods: int = 4,
    kpis: Iterable[str] | None = None,
    rule: StatusRule = DEFAULT_RULE,
) -> Scorecard:
    """Evaluate the catalog's KPIs on ``project`` and build the scorecard for ``period``.

    Without ``period``: the latest period in which the north star has a value. A broken row in the project's
    target files is left out and named in ``Scorecard.notices`` (file, row or line, rule): one typo in
    ``targets.csv`` must not take every scorecard down. ``revalign targets check`` still fails on it, and
    :func:`revalign.analytics.targets.project_targets` still raises for callers who want all or nothing.
    """
    from revalign.kpis import evaluate

    catalog = project_catalog(project)
    fs = project.settings.fiscal_year_start_month
    chosen = _select_kpis(catalog, department, kpis)
    by = tuple(by)
    if period is None:
        period = latest_period(project, catalog.north_star, grain)
    current = parse_period(period, fs)
    start = add_periods(current.start, grain, -(max(trend_periods, 2) - 1))
    book, issues = check_project_targets(
        project.folder,
        catalog,
        fiscal_year_start_month=fs,
        inline=project.settings.targets,
        target_files=project.settings.target_files,
    )
    ignored = [f"Target ignored until fixed (revalign targets check): {i}" for i in errors(issues)]
    values = evaluate(project, list(chosen), grain=grain, by=by, start=start, end=current.end)
    card = build_scorecard(
        values,
        chosen,
        period=period,
        grain=grain,
        department=department,
        north_star=catalog.north_star,
        by=by,
        trend_periods=trend_periods,
        fiscal_year_start_month=fs,
        rule=rule,
        targets=book,
    )
    return replace(card, notices=(*card.notices, *ignored)) if ignored else card


def project_catalog(project: Project) -> Any:
    """The project's catalog: ``project.catalog`` when the project provides it, else the default catalog plus the
    folders listed under ``catalog:`` in ``revalign.yaml``."""
    catalog = getattr(project, "catalog", None)
    if callable(catalog):
        catalog = catalog()
    if catalog is not None:
        return catalog
    from revalign.kpis import project_catalog as catalog_of

    return catalog_of(project)


def _catalog_kpis(catalog: Any) -> dict[str, Any]:
    names = catalog.names() if hasattr(catalog, "names") else list(catalog.kpis)
    return {n: catalog.get(n) for n in names}


def _select_kpis(catalog: Any, department: str | None, kpis: Iterable[str] | None) -> dict[str, Any]:
    everything = _catalog_kpis(catalog)
    if kpis is not None:
        return {n: catalog.get(n) for n in kpis}
    if department is None:
        return everything
    known = {getattr(k, "department", None) for k in everything.values()}
    if department not in known:
        from revalign.errors import UnknownNameError

        raise UnknownNameError("department", department, {d for d in known if d})
    return {n: k for n, k in everything.items() if k.department == department or getattr(k, "north_star", False)}


def latest_period(project: Project, kpi: str, grain: str, *, where: str | None = None) -> str:
    """The label of the latest period in which ``kpi`` has a value (the default scorecard period)."""
    from revalign.kpis import evaluate

    fs = project.settings.fiscal_year_start_month
    frame = evaluate(project, [kpi], grain=grain, where=where)
    frame = frame[frame["value"].notna()]
    if frame.empty:
        from revalign.errors import DataError

        raise DataError(f"{kpi} has no value in any {grain}; load data first (revalign ingest) or pass --period")
    last = pd.Timestamp(frame["period_start"].max()).date()
    return period_label(period_start(last, grain, fs), grain, fs)
