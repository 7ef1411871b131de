"""⑤ Scorecards: each KPI's actual against its target for a period, with a direction-aware status and trend.

One scorecard per department (its KPIs plus the north star, so nobody reads their own card without it) and one
joint scorecard (every KPI). The page, the JSON API and ``revalign scorecard`` all call :func:`build_scorecard`
(pure: KPI values in, rows out) through :func:`evaluate_scorecard` (evaluates the KPIs on the canonical tables),
which ``Project.scorecard`` calls with the project's tables, catalog and targets. :class:`Scorecard` here is a
*result* (a period's rows), not the catalog's scorecard template of ``definitions/kpis/spec.py``.

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
Targets come from the project (``targets.csv``, ``targets.yaml``, ``targets:`` in ``revalign.yaml``; passed in as a
``TargetBook``) before the catalog; :mod:`revalign.analytics.targets` has the lookup rules and
``row.target_source`` says which one won.
**Attainment** is ``actual / target`` for higher-is-better, ``target / actual`` for lower-is-better and
``1 − |gap|`` for target-is-best, so 1.0 (100 %) always means "on target" and more is better.

**Movement** compares the period with the previous one (``improving``/``worsening``/``unchanged``, by
direction; a move within 1 % of the previous value is ``unchanged``); **trend** fits a least-squares line
through the last ``trend_periods`` values and calls it flat when its slope is below 1 % of the mean level per
period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from revalign.analytics.governance.maturity import is_mature
from revalign.analytics.targets import TargetBook, target_for
from revalign.definitions.issues import Issue, errors
from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.spec import Kpi
from revalign.errors import DataError, RevalignError, UnknownNameError
from revalign.jsonsafe import jsonable
from revalign.kpis.query import KpiQuery, evaluate
from revalign.model.access import Tables
from revalign.model.calendar import add_periods, parse_period, period_label, period_start
from revalign.model.tables import DEPARTMENTS

JOINT = "joint"
"""The shared scorecard: every KPI, tied to the north star (``department=None`` in the functions here)."""
SCORECARD_DEPARTMENTS: tuple[str, ...] = (
    JOINT,
    *(d for d in DEPARTMENTS if d in ("marketing", "sales", "revops", "customer_success")),
)
"""Whose scorecard a reader can ask for: the joint one and the four revenue departments of
:data:`revalign.model.tables.DEPARTMENTS` (finance and executive own no scorecard of their own)."""

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
    attainment: float | None
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
    trend_targets: tuple[float | None, ...] = ()
    """The target in force in each trend period (None where there is none), so a trend chart draws the line the
    KPI was judged against in each period, not today's target across the whole history."""
    target_source: str | None = None
    """Where the target comes from (``targets.csv row 4``, ``sales.yaml:90``; ``… (company-wide)`` when a level
    KPI's slice borrows the company target), so a reader can find and fix it."""
    immature: bool = False
    """A cohort KPI whose conversion window has not closed by the end of the data: its value will still rise, so
    its status is provisional and it does not count in the department's roll-up."""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["dims"] = dict(self.dims)
        out["trend"] = list(self.trend)
        out["trend_periods"] = list(self.trend_periods)
        out["trend_targets"] = list(self.trend_targets)
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
    left_out: tuple[str, ...] = ()
    """KPIs of the card that cannot be sliced by ``by`` (spend has no owner or segment), left out and named."""

    def row(self, kpi: str, **dims: str) -> ScorecardRow:
        """The row of ``kpi`` (and slice ``dims``); KeyError naming the KPIs present otherwise."""
        for r in self.rows:
            if r.kpi == kpi and all(r.dims.get(k) == v for k, v in dims.items()):
                return r
        raise UnknownNameError("scorecard KPI", kpi, {r.kpi for r in self.rows})

    def department_status(self) -> dict[str, Status]:
        """Each department's roll-up over its KPIs with a target: red if any red, else amber if any, else green.

        The north star counts for its own department; departments with no targeted KPI are ``no_target``; immature
        rows (cohorts still converting) do not count.
        """
        out: dict[str, Status] = {}
        for r in self.rows:
            if r.department is None or r.dims:
                continue
            current = out.get(r.department, "no_target")
            if r.immature:
                out.setdefault(r.department, current)
                continue
            if r.status in ("green", "amber", "red"):
                worst = min((current, r.status), key=lambda s: STATUS_ORDER[s])
                out[r.department] = worst if current in ("green", "amber", "red") else r.status
            else:
                out.setdefault(r.department, current)
        return out

    def to_pandas(self) -> pd.DataFrame:
        """One row per KPI (and slice); slice dimensions become columns; ``trend`` stays a list."""
        # a slice dimension may share a row field's name (``by=owner`` vs the KPI's owner): the field then
        # becomes ``kpi_<name>``, so every column name is unique and the slice keeps the plain name
        fields = [f for f in ScorecardRow.__dataclass_fields__ if f != "dims"]
        renamed = {f: f"kpi_{f}" if f in self.by else f for f in fields}
        records = []
        for r in self.rows:
            d = r.to_dict()
            dims = d.pop("dims")
            records.append({**{k: dims.get(k) for k in self.by}, **{renamed[k]: v for k, v in d.items()}})
        return pd.DataFrame(records, columns=[*self.by, *renamed.values()])

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "grain": self.grain,
            "department": self.department,
            "north_star": self.north_star,
            "by": list(self.by),
            "rule": asdict(self.rule),
            "department_status": self.department_status(),
            "rows": [jsonable(r.to_dict()) for r in self.rows],
            "notices": list(self.notices),
        }


def _value(x: Any) -> float | None:
    return None if x is None or _isnan(x) else float(x)


@dataclass(frozen=True)
class _Window:
    """The periods a scorecard reads: the trend window ending at the scorecard's period (oldest first)."""

    starts: list[dt.date]
    labels: list[str]


def _window(period: str, grain: str, trend_periods: int, fiscal_year_start_month: int) -> _Window:
    current = parse_period(period, fiscal_year_start_month)
    if current.grain != grain:
        raise ValueError(f"period {period!r} is a {current.grain}, but the grain asked for is {grain!r}")
    starts = [add_periods(current.start, grain, -i) for i in range(max(trend_periods, 2) - 1, -1, -1)]
    return _Window(starts, [period_label(s, grain, fiscal_year_start_month) for s in starts])


Lookup = dict[tuple[str, tuple[str, ...], dt.date], float | None]


def _lookup(
    values: pd.DataFrame, by: tuple[str, ...], grain: str, fiscal_year_start_month: int, window: _Window
) -> tuple[Lookup, dict[str, list[tuple[str, ...]]]]:
    """Values by (KPI, slice, period start), and the slices each KPI has in the window (in order of appearance)."""
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
    lookup: Lookup = {}
    slices: dict[str, list[tuple[str, ...]]] = {}
    for rec in frame.to_dict(orient="records"):
        key_dims = tuple("" if _isnan(rec[d]) else str(rec[d]) for d in by)
        lookup[(rec["kpi"], key_dims, rec["start_"])] = _value(rec["value"])
        if rec["start_"] in window.starts:
            slices.setdefault(rec["kpi"], [])
            if key_dims not in slices[rec["kpi"]]:
                slices[rec["kpi"]].append(key_dims)
    return lookup, slices


@dataclass(frozen=True)
class _CardSpec:
    """Everything one row of a scorecard is judged with (shared by every row of the card)."""

    grain: str
    by: tuple[str, ...]
    north_star: str | None
    trend_periods: int
    fiscal_year_start_month: int
    rule: StatusRule
    targets: TargetBook | None
    window: _Window


def _row(name: str, kpi: Kpi, dims: dict[str, str], series: list[float | None], spec: _CardSpec) -> ScorecardRow:
    """One KPI (one slice) on the card: actual and target, status, movement and trend."""
    actual, previous = series[-1], series[-2]
    labels, n = spec.window.labels, spec.trend_periods
    found_each = [
        target_for(
            kpi,
            spec.grain,
            start,
            dims,
            book=spec.targets,
            fiscal_year_start_month=spec.fiscal_year_start_month,
            name=name,
        )
        for start in spec.window.starts
    ]
    found = found_each[-1]
    target = found.value if found is not None else None
    status, attainment, gap = status_of(actual, target, kpi.direction, spec.rule)
    change = actual - previous if actual is not None and previous is not None else None
    return ScorecardRow(
        kpi=name,
        label=kpi.label or name,
        department=kpi.department,
        owner=kpi.owner,
        unit=kpi.unit,
        direction=kpi.direction,
        timing=kpi.timing,
        parent=kpi.parent,
        is_north_star=name == spec.north_star,
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
        pct_change=change / abs(previous) if change is not None and previous else None,
        movement=movement_of(previous, actual, kpi.direction, target, spec.rule),
        trend=tuple(series[-n:]) if n >= 1 else (),
        trend_periods=tuple(labels[-n:]) if n >= 1 else (),
        trend_direction=trend_of(series[-n:], kpi.direction, target, spec.rule),
        trend_targets=tuple(f.value if f is not None else None for f in found_each[-n:]) if n >= 1 else (),
    )


def build_scorecard(
    values: pd.DataFrame,
    kpis: Mapping[str, Kpi],
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
    window = _window(period, grain, trend_periods, fiscal_year_start_month)
    if north_star is None:
        north_star = next((k for k, v in kpis.items() if v.north_star), None)
    lookup, slices = _lookup(values, by, grain, fiscal_year_start_month, window)
    spec = _CardSpec(grain, by, north_star, trend_periods, fiscal_year_start_month, rule, targets, window)
    names = [k for k, v in kpis.items() if department is None or v.department == department]
    if north_star and north_star in kpis and north_star not in names:
        names.insert(0, north_star)
    rows: list[ScorecardRow] = []
    for name in names:
        for key_dims in sorted(slices.get(name) or [tuple("" for _ in by)] if by else [()]):
            series = [lookup.get((name, key_dims, s)) for s in window.starts]
            rows.append(_row(name, kpis[name], dict(zip(by, key_dims, strict=True)), series, spec))
    rows.sort(key=lambda r: (not r.is_north_star, r.department or "~", r.kpi, tuple(r.dims.values())))
    return Scorecard(
        period=window.labels[-1],
        grain=grain,
        department=department,
        north_star=north_star,
        rows=tuple(rows),
        by=by,
        rule=rule,
    )


# -------------------------------------------------------------------------------------------- on the tables


def evaluate_scorecard(
    tables: Tables,
    catalog: Catalog,
    targets: TargetBook | None = None,
    department: str | None = None,
    *,
    period: str | None = None,
    grain: str = "quarter",
    by: Iterable[str] = (),
    trend_periods: int = 4,
    kpis: Iterable[str] | None = None,
    rule: StatusRule = DEFAULT_RULE,
    target_issues: Iterable[Issue] = (),
    fiscal_year_start_month: int = 1,
) -> Scorecard:
    """Evaluate the catalog's KPIs on ``tables`` and build the scorecard for ``period``.

    Without ``period``: the latest period in which the north star has a value. ``targets`` are the project's
    targets as read, and ``target_issues`` what was found wrong in them: a broken row is left out of
    ``targets`` by the reader and named here in ``Scorecard.notices`` (file, row or line, rule), because one
    typo in ``targets.csv`` must not take every scorecard down (``revalign targets check`` still fails on it).
    """
    fs = fiscal_year_start_month
    chosen = select_kpis(catalog, department, kpis)
    by = tuple(by)
    left_out: list[str] = []
    if by:
        ok, left_out = sliceable_kpis(tables, catalog, list(chosen), by, fiscal_year_start_month=fs)
        chosen = {n: chosen[n] for n in ok}
    try:
        latest: str | None = latest_period(tables, catalog, catalog.north_star, grain, fiscal_year_start_month=fs)
    except DataError:
        if period is None:
            raise
        latest = None
    period = period or latest
    assert period is not None  # latest_period raised otherwise
    current = parse_period(period, fs)
    start = add_periods(current.start, grain, -(max(trend_periods, 2) - 1))
    ignored = [f"Target ignored until fixed (revalign targets check): {i}" for i in errors(list(target_issues))]
    values = evaluate(
        tables, catalog, list(chosen), grain=grain, by=by, start=start, end=current.end, fiscal_year_start_month=fs
    )
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
        targets=targets,
    )
    if latest is not None:
        card = _mark_immature(card, chosen, latest, fs)
    if left_out:
        named = f"{len(left_out)} KPIs cannot be sliced by {', '.join(by)} and are left out: {', '.join(left_out)}."
        card = replace(card, left_out=tuple(left_out), notices=(named, *card.notices))
    return replace(card, notices=(*card.notices, *ignored)) if ignored else card


def _mark_immature(card: Scorecard, kpis: Mapping[str, Kpi], latest: str, fs: int) -> Scorecard:
    """Rows of conversion KPIs whose window has not closed by the end of the data (the end of ``latest``) marked
    immature, and a notice naming them (see :mod:`revalign.analytics.governance.maturity`)."""
    data_end = parse_period(latest, fs).end
    current = parse_period(card.period, fs)
    young = {
        name: kpi.window
        for name, kpi in kpis.items()
        if kpi.type == "conversion" and kpi.window and not is_mature(current.start, current.end, kpi.window, data_end)
    }
    if not young:
        return card
    rows = tuple(replace(r, immature=True) if r.kpi in young else r for r in card.rows)
    # a label that already names its window ("… within 90 days") is not told it twice
    labels = {n: kpis[n].label or n for n in young}
    listed = ", ".join(labels[n] if str(w) in labels[n] else f"{labels[n]} ({w})" for n, w in young.items())
    notice = (
        f"Still converting in {card.period}, so provisional and left out of department status: {listed}. "
        "Their cohorts' windows close after the data ends."
    )
    return replace(card, rows=rows, notices=(*card.notices, notice))


def sliceable_kpis(
    tables: Tables, catalog: Catalog, names: Sequence[str], by: tuple[str, ...], *, fiscal_year_start_month: int = 1
) -> tuple[list[str], list[str]]:
    """Split ``names`` into KPIs that can be sliced by every dimension in ``by`` and those that cannot (sorted).

    Compiling touches no data, so this asks the KPI compiler itself rather than guessing: a card sliced by owner
    shows every KPI that has an owner and names the others (spend has no owner), instead of failing whole.
    """
    query = KpiQuery(catalog, tables, tuple(names), fiscal_year_start_month).by(*by)
    ok, left_out = [], []
    for name in names:
        try:
            query.to_ibis(name)
            ok.append(name)
        except RevalignError:
            left_out.append(name)
    return ok, sorted(left_out)


def select_kpis(catalog: Catalog, department: str | None, kpis: Iterable[str] | None = None) -> dict[str, Kpi]:
    """The KPIs on a card: ``kpis`` when given, else the department's and the north star (every KPI for joint)."""
    if kpis is not None:
        return {n: catalog.get(n) for n in kpis}
    everything = dict(catalog.kpis)
    if department is None:
        return everything
    known = {k.department for k in everything.values()}
    if department not in known:
        raise UnknownNameError("department", department, {d for d in known if d})
    return {n: k for n, k in everything.items() if k.department == department or k.north_star}


def latest_period(
    tables: Tables,
    catalog: Catalog,
    kpi: str,
    grain: str,
    *,
    where: str | None = None,
    fiscal_year_start_month: int = 1,
) -> str:
    """The label of the latest period in which ``kpi`` has a value (the default scorecard period)."""
    fs = fiscal_year_start_month
    frame = evaluate(tables, catalog, [kpi], grain=grain, where=where, fiscal_year_start_month=fs)
    frame = frame[frame["value"].notna()]
    if frame.empty:
        raise DataError(f"{kpi} has no value in any {grain}; load data first (revalign ingest) or pass --period")
    last = pd.Timestamp(frame["period_start"].max()).date()
    return period_label(period_start(last, grain, fs), grain, fs)
