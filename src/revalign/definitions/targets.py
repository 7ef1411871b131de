"""Project targets as definitions: what one target is, and the rules it is checked by against the KPI catalog.

The files are read by :mod:`revalign.definitions.target_files`; what a target means and how a scorecard looks
one up is :mod:`revalign.analytics.targets`. Every problem is reported as an
:class:`~revalign.definitions.issues.Issue` naming the file and line (YAML) or row and column (CSV), the KPI and
the rule: ``kpi`` (unknown KPI, with suggestions), ``period`` (unreadable label), ``dimension`` (a slice the KPI
cannot be cut by), ``value`` (not a number), ``range`` (outside the KPI's range), ``duplicate`` (the same KPI,
period and slice twice), ``columns``/``shape``/``file`` (the file itself); and one warning, ``rollup``: an
additive KPI's slice targets adding up to less than its company target.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from revalign.definitions.issues import Issue, Level
from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.kpis.spec import ADDITIVE_TARGET_AGGS, Kpi
from revalign.definitions.validate import Rule
from revalign.errors import DataError
from revalign.model.calendar import parse_period, period_label

MAX_LISTED = 20


Dims = tuple[tuple[str, str], ...]


def slice_key(d: Mapping[str, Any] | None) -> Dims:
    """A slice as a sorted tuple of ``(dimension, value)`` text pairs: the form targets are indexed by."""
    return tuple(sorted((str(k), str(v)) for k, v in (d or {}).items()))


def target_issue(
    file: str,
    rule: str,
    message: str,
    *,
    line: int | None = None,
    row: int | None = None,
    column: str | None = None,
    kpi: str | None = None,
    level: Level = Level.ERROR,
) -> Issue:
    """An issue of a target file (``kind="target"``; the subject is the target's KPI)."""
    return Issue(level, message, file=file, line=line, subject=kpi, rule=rule, kind="target", row=row, column=column)


class TargetsError(DataError):
    """The project's targets break one or more rules; ``issues`` lists every one (the message the first 20)."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = list(issues)
        first = self.issues[0]
        listed = "\n".join(f"  {i}" for i in self.issues[:MAX_LISTED])
        more = f"\n  … and {len(self.issues) - MAX_LISTED} more" if len(self.issues) > MAX_LISTED else ""
        super().__init__(
            f"{len(self.issues)} problem(s) in the project's targets; fix them and run `revalign targets check`:\n"
            f"{listed}{more}\n",
            file=first.file,
            row=first.row if first.row is not None else first.line,
            column=first.column,
            rule=first.rule,
        )


@dataclass(frozen=True)
class TargetEntry:
    """One target: ``value`` for ``kpi`` in the period starting ``start`` at ``grain``, for slice ``dims``."""

    kpi: str
    period: str
    grain: str
    start: dt.date
    value: float
    dims: Dims = ()
    source: str = "project"
    where: str = ""
    note: str | None = None

    @property
    def key(self) -> tuple[str, str, dt.date, Dims]:
        return (self.kpi, self.grain, self.start, self.dims)

    def to_dict(self, fiscal_year_start_month: int = 1) -> dict[str, Any]:
        return {
            "kpi": self.kpi,
            "period": period_label(self.start, self.grain, fiscal_year_start_month),
            "grain": self.grain,
            "dims": dict(self.dims),
            "value": self.value,
            "source": self.source,
            "where": self.where,
            "note": self.note,
        }


def is_additive(kpi: Kpi | Any) -> bool:
    """Whether ``kpi`` sums over slices and periods (a count or a sum): then a company target is not a slice target.

    Unknown shapes (no ``type``: a KPI-like object built by hand, as scorecard callers and tests do) count as
    additive, the safe side: no borrowed target.
    """
    kind = getattr(kpi, "type", None)
    if kind is None or kind == "cumulative":
        return True
    if kind in ("simple", "snapshot"):
        return getattr(kpi, "agg", None) in ADDITIVE_TARGET_AGGS
    return False


# -------------------------------------------------------------------------------------------- checking one target


@dataclass(frozen=True)
class Place:
    """Where a target is written: the file, its line (YAML) or row and cell columns (CSV), and how to cite it."""

    file: str
    where: str
    line: int | None = None
    row: int | None = None
    columns: Mapping[str, str] | None = None
    """Each field (``kpi``, ``period``, ``value``, a dimension) → its CSV column."""


class TargetChecker:
    """Validates raw targets against the catalog one by one; collects the issues and the good entries."""

    def __init__(self, catalog: Catalog, fiscal_year_start_month: int) -> None:
        self.catalog = catalog
        self.fs = fiscal_year_start_month
        self.issues: list[Issue] = []
        self.entries: list[TargetEntry] = []
        self._seen: dict[tuple[str, str, dt.date, Dims], str] = {}
        self._dims_cache: dict[str, list[str]] = {}

    def _dimensions(self, kpi: str) -> list[str]:
        if kpi not in self._dims_cache:
            self._dims_cache[kpi] = list(self.catalog.dimensions_of(kpi))
        return self._dims_cache[kpi]

    def problem(self, place: Place, rule: str, message: str, field: str | None = None, kpi: str | None = None) -> None:
        """Record an issue at ``place`` (at the CSV column of ``field`` when given)."""
        column = (place.columns or {}).get(field) if field else None
        self.issues.append(
            target_issue(place.file, rule, message, line=place.line, row=place.row, column=column, kpi=kpi)
        )

    def _known(self, kpi: Any, place: Place) -> Kpi | None:
        name = "" if kpi is None else str(kpi).strip()
        known = self.catalog.kpis
        if not name:
            self.problem(place, "kpi", "no KPI named; every target needs a KPI (see `revalign kpi list`).", "kpi")
            return None
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=3)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            self.problem(place, "kpi", f"unknown KPI {name!r}.{hint} `revalign kpi list` shows every KPI.", "kpi", name)
            return None
        return known[name]

    def _slice(self, name: str, dims: Mapping[str, Any], place: Place) -> dict[str, str]:
        clean: dict[str, str] = {}
        for dim, val in dims.items():
            if val is None or (isinstance(val, str) and not val.strip()):
                continue
            allowed = self._dimensions(name)
            if dim not in allowed:
                message = f"{name} cannot be sliced by {dim!r}; it can be sliced by: {', '.join(allowed) or 'nothing'}."
                self.problem(place, "dimension", message, dim, name)
                continue
            clean[str(dim)] = str(val).strip()
        return clean

    def _in_range(self, spec: Kpi, number: float, place: Place) -> None:
        lo, hi = spec.value_range
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            rng = f"{'-∞' if lo is None else _num(lo)} to {'∞' if hi is None else _num(hi)}"
            unit = " (percent KPIs are fractions: write 0.25 or 25%)" if spec.unit == "percent" else ""
            message = f"target {_num(number)} is outside the range of {spec.name}: {rng}{unit}."
            self.problem(place, "range", message, "value", spec.name)

    def add(
        self, *, kpi: Any, period: Any, value: Any, dims: Mapping[str, Any], place: Place, note: Any = None
    ) -> None:
        """Check one target; a target with any problem is reported and left out."""
        before = len(self.issues)
        spec = self._known(kpi, place)
        if spec is None:
            return
        name = spec.name
        text = "" if period is None else (period.isoformat() if isinstance(period, dt.date) else str(period).strip())
        parsed = number = None
        try:
            parsed = parse_period(text, self.fs)
        except ValueError as exc:
            self.problem(place, "period", str(exc), "period", name)
        try:
            number = parse_number(value)
        except ValueError as exc:
            self.problem(place, "value", str(exc), "value", name)
        clean = self._slice(name, dims, place)
        if number is not None:
            self._in_range(spec, number, place)
        if len(self.issues) > before or parsed is None or number is None:
            return
        entry = TargetEntry(
            name, text, parsed.grain, parsed.start, number, slice_key(clean), "project", place.where, text_or_none(note)
        )
        first = self._seen.get(entry.key)
        if first is not None:
            slice_ = ", ".join(f"{k}={v}" for k, v in entry.dims) or "company-wide"
            message = f"a second target for {name} in {text} ({slice_}); the first is at {first}."
            self.problem(place, "duplicate", message, "kpi", name)
            return
        self._seen[entry.key] = place.where
        self.entries.append(entry)


def amount(x: float) -> str:
    """A target amount as a person reads it: ``1,000,000``, ``13``, ``0.25``."""
    return f"{x:,.0f}" if abs(x) >= 100 or x == int(x) else f"{x:,.4g}"


def _num(x: float) -> str:
    return f"{x:g}"


def text_or_none(x: Any) -> str | None:
    """A cell or YAML value as stripped text, ``None`` when blank or missing (NaN)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    s = str(x).strip()
    return s or None


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_number(value: Any) -> float:
    """A target value from YAML or a spreadsheet cell: ``1200000``, ``1,200,000``, ``1_200_000``, ``25%``.

    ``25%`` is 0.25 (percent KPIs are fractions). Anything else is a ValueError saying what is accepted.
    """
    if isinstance(value, bool):
        raise ValueError(f"value {value!r} is not a number.")
    if isinstance(value, int | float):
        if math.isnan(value) or math.isinf(value):
            raise ValueError(f"value {value!r} is not a finite number.")
        return float(value)
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValueError("no value; write a number such as 1200000, 1,200,000, 0.25 or 25%.")
    scale = 1.0
    if text.endswith("%"):
        text, scale = text[:-1].strip(), 0.01
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        number = float(text.replace("_", ""))
    except ValueError:
        raise ValueError(
            f"value {value!r} is not a number; write 1200000, 1,200,000, 0.25 or 25% (no currency signs)."
        ) from None
    if math.isnan(number) or math.isinf(number):
        raise ValueError(f"value {value!r} is not a finite number.")
    return number * scale


# -------------------------------------------------------------------------------------------- the whole set


class RollupRule(Rule[Sequence[TargetEntry]]):
    """Warn where an additive KPI's slice targets (one dimension) fall short of its company target.

    For revenue (higher is better), segment targets adding up to less than the company target mean every
    segment can hit its plan while the company misses — the misalignment the scorecard exists to catch, found
    at planning time. Lower-is-better KPIs warn the other way round (slices allowing more than the company).
    """

    name = "rollup"

    def __init__(self, kpis: Mapping[str, Kpi], fiscal_year_start_month: int = 1) -> None:
        self.kpis, self.fs = kpis, fiscal_year_start_month

    def check(self, subject: Sequence[TargetEntry]) -> list[Issue]:
        company = {(e.kpi, e.grain, e.start): e for e in subject if not e.dims}
        groups: dict[tuple[str, str, dt.date, str], list[TargetEntry]] = {}
        for e in subject:
            if len(e.dims) == 1:
                groups.setdefault((e.kpi, e.grain, e.start, e.dims[0][0]), []).append(e)
        out = []
        for (kpi, grain, start, dim), parts in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][3])):
            whole, spec = company.get((kpi, grain, start)), self.kpis.get(kpi)
            if whole is None or spec is None or not is_additive(spec):
                continue
            total = math.fsum(p.value for p in parts)
            # rounding each slice (whole units, cents) must not raise a warning: allow half a unit per slice and 0.1 %
            slack = max(abs(whole.value) * 1e-3, len(parts) * (0.5 if spec.unit in ("count", "people") else 0.005))
            gap = whole.value - total if spec.direction != "lower_is_better" else total - whole.value
            if spec.direction == "target_is_best" or gap <= slack:
                continue
            label = period_label(start, grain, self.fs)
            side = "below" if spec.direction != "lower_is_better" else "above"
            message = (
                f"the {dim} targets of {kpi} in {label} ({len(parts)} slices) add up to {amount(total)}, {side} the "
                f"company target {amount(whole.value)} at {whole.where}: every {dim} can hit its target while the "
                f"company misses."
            )
            file = whole.where.split(" row ")[0].split(":")[0]
            out.append(target_issue(file, self.name, message, kpi=kpi, level=Level.WARNING))
        return out


def rollup_warnings(
    entries: Sequence[TargetEntry], kpis: Mapping[str, Kpi], fiscal_year_start_month: int = 1
) -> list[Issue]:
    """The :class:`RollupRule` warnings of ``entries``."""
    return RollupRule(kpis, fiscal_year_start_month).check(entries)


__all__ = [
    "Dims",
    "Place",
    "RollupRule",
    "TargetChecker",
    "TargetEntry",
    "TargetsError",
    "amount",
    "is_additive",
    "parse_number",
    "rollup_warnings",
    "slice_key",
    "target_issue",
    "text_or_none",
]
