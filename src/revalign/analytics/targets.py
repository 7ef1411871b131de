"""⑤ Project targets: the plan an analyst keeps next to the data, read from YAML or a spreadsheet's CSV.

The catalog may ship targets with a KPI, but targets are a plan, not a definition: they change every year and
differ per company, so a project keeps its own in

- a ``targets:`` section of ``revalign.yaml``,
- ``targets.yaml`` (the same ``targets:`` section in a file of its own), and
- ``targets.csv`` (what a spreadsheet exports),

all in the project folder (``target_files:`` in ``revalign.yaml`` lists other files instead of the last two).
Each target is a KPI, a period label (``2025``/``FY2025``, ``2025-Q1``, ``2025-03``, ``2025-W07``, a date; fiscal
quarters and years follow ``fiscal_year_start_month``), a value and optionally a slice (``segment: smb``).

**Lookup** (:func:`target_for`): a scorecard row for KPI *k*, period *p* (its grain and start) and slice *d*
takes the first of

1. a project target for exactly (*k*, *p*, *d*);
2. a catalog target for exactly (*k*, *p*, *d*);
3. only for a sliced row of a *level* KPI (a rate, ratio, average, median or derived value, where the same
   number can hold for every slice): the project's, then the catalog's company-wide target for (*k*, *p*).

An additive KPI (a count or a sum) never borrows the company target for a slice: revenue of 1 M for the company
is not a target of 1 M for each segment. Targets apply at their own grain only (a yearly target is not spread
over quarters; ``revalign targets plan`` writes targets at the grain you report at).

**Validation** names the file and line (YAML) or row and column (CSV), the KPI and the rule: ``kpi`` (unknown
KPI, with suggestions), ``period`` (unreadable label), ``dimension`` (a slice the KPI cannot be cut by),
``value`` (not a number), ``range`` (outside the KPI's range), ``duplicate`` (the same KPI, period and slice
twice among the project's targets), ``columns``/``shape``/``file`` (the file itself); and one warning,
``rollup``: an additive KPI's slice targets adding up to less than its company target.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from revalign.errors import DataError
from revalign.model.calendar import parse_period, period_label

if TYPE_CHECKING:
    from revalign.project import Project

TARGET_FILES = ("targets.yaml", "targets.csv")
"""Files of the project folder read by default (when ``target_files:`` is not set)."""
RESERVED_COLUMNS = ("kpi", "period", "value", "note")
"""CSV columns with a meaning; every other column of a long CSV is a dimension (blank = not sliced)."""
ADDITIVE_AGGS = ("sum", "count", "count_distinct", "sum_boolean")
MAX_LISTED = 20

Dims = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TargetIssue:
    """One problem in a target file: where (file and line or row, column), which KPI, which rule, and why."""

    file: str
    rule: str
    message: str
    line: int | None = None
    row: int | None = None
    column: str | None = None
    kpi: str | None = None
    level: str = "error"
    """``error`` (the target cannot be used: scorecards leave it out and name it) or ``warning`` (usable, but a plan
    problem a person should look at, such as slice targets that do not add up to the company target)."""

    @property
    def where(self) -> str:
        if self.row is not None:
            return f"{self.file} row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def __str__(self) -> str:
        kpi = f" [{self.kpi}]" if self.kpi else ""
        level = "WARNING " if self.level == "warning" else ""
        return f"{level}{self.where}{kpi} ({self.rule}): {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "row": self.row,
            "column": self.column,
            "kpi": self.kpi,
            "rule": self.rule,
            "level": self.level,
            "message": self.message,
        }


class TargetsError(DataError):
    """The project's targets break one or more rules; ``issues`` lists every one (the message the first 20)."""

    def __init__(self, issues: Sequence[TargetIssue]) -> None:
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


def _dims(d: Mapping[str, Any] | None) -> Dims:
    return tuple(sorted((str(k), str(v)) for k, v in (d or {}).items()))


@dataclass
class TargetBook:
    """Project targets indexed by (KPI, grain, period start, slice), for :func:`target_for`."""

    entries: list[TargetEntry] = field(default_factory=list)
    fiscal_year_start_month: int = 1

    def __post_init__(self) -> None:
        self._index = {e.key: e for e in self.entries}

    def get(self, kpi: str, grain: str, start: dt.date, dims: Mapping[str, str] | Dims = ()) -> TargetEntry | None:
        d = _dims(dict(dims)) if not isinstance(dims, tuple) else tuple(sorted(dims))
        return self._index.get((kpi, grain, start, d))

    def __len__(self) -> int:
        return len(self.entries)

    def kpis(self) -> list[str]:
        return sorted({e.kpi for e in self.entries})

    def to_pandas(self) -> pd.DataFrame:
        """One row per target: ``kpi, period, grain, <dimensions…>, value, source, where, note``."""
        dim_names = sorted({k for e in self.entries for k, _ in e.dims})
        rows = []
        for e in self.entries:
            d = e.to_dict(self.fiscal_year_start_month)
            dims = d.pop("dims")
            rows.append({**d, **{k: dims.get(k) for k in dim_names}})
        cols = ["kpi", "period", "grain", *dim_names, "value", "source", "where", "note"]
        return pd.DataFrame(rows, columns=cols)


# -------------------------------------------------------------------------------------------- lookup


def is_additive(kpi: Any) -> bool:
    """Whether ``kpi`` sums over slices (a count or a sum): then a company target is not a slice target.

    Unknown shapes (no ``type``) count as additive, the safe side: no borrowed target.
    """
    kind = getattr(kpi, "type", None)
    if kind is None:
        return True
    if kind == "cumulative":
        return True
    if kind in ("simple", "snapshot"):
        return getattr(kpi, "agg", None) in ADDITIVE_AGGS
    return False


def catalog_entries(kpi: Any, fiscal_year_start_month: int = 1, *, name: str | None = None) -> list[TargetEntry]:
    """The catalog's own targets of ``kpi`` (unreadable periods are skipped: ``revalign check`` reports them)."""
    name = name or getattr(kpi, "name", "")
    out = []
    for t in getattr(kpi, "targets", None) or ():
        try:
            p = parse_period(str(t.period), fiscal_year_start_month)
        except ValueError:
            continue
        ctx = getattr(t, "ctx", None)
        where = str(ctx) if ctx is not None and getattr(ctx, "file", None) else "catalog"
        dims = _dims(getattr(t, "dims", None))
        out.append(TargetEntry(name, str(t.period), p.grain, p.start, float(t.value), dims, "catalog", where))
    return out


def target_for(
    kpi: Any,
    grain: str,
    start: dt.date,
    dims: Mapping[str, str] | None = None,
    *,
    book: TargetBook | None = None,
    fiscal_year_start_month: int = 1,
    name: str | None = None,
) -> TargetEntry | None:
    """The target in force for ``kpi`` (called ``name``) in the period (``grain``, ``start``) and slice ``dims``.

    Precedence is in the module docstring: exact slice before a borrowed company target, project before catalog.
    """
    name = name or getattr(kpi, "name", None)
    wanted = _dims(dims)
    catalog = {e.key: e for e in catalog_entries(kpi, fiscal_year_start_month, name=name)}
    keys = [(name, grain, start, wanted)]
    if wanted and not is_additive(kpi):
        keys.append((name, grain, start, ()))
    for key in keys:
        if book is not None and name is not None:
            hit = book.get(name, grain, start, key[3])
            if hit is not None:
                return hit if key[3] == wanted else _borrowed(hit)
        hit = catalog.get(key)
        if hit is not None:
            return hit if key[3] == wanted else _borrowed(hit)
    return None


def _borrowed(entry: TargetEntry) -> TargetEntry:
    return TargetEntry(
        **{**entry.__dict__, "source": f"{entry.source} (company-wide)", "where": f"{entry.where} (company-wide)"}
    )


# -------------------------------------------------------------------------------------------- reading


class _Checker:
    """Validates raw targets against the catalog; collects issues and entries."""

    def __init__(self, catalog: Any, fiscal_year_start_month: int) -> None:
        self.catalog = catalog
        self.fs = fiscal_year_start_month
        self.issues: list[TargetIssue] = []
        self.entries: list[TargetEntry] = []
        self._seen: dict[tuple[str, str, dt.date, Dims], str] = {}
        self._dims_cache: dict[str, list[str]] = {}

    def _dimensions(self, kpi: str) -> list[str]:
        if kpi not in self._dims_cache:
            self._dims_cache[kpi] = list(self.catalog.dimensions_of(kpi))
        return self._dims_cache[kpi]

    def add(
        self,
        *,
        kpi: Any,
        period: Any,
        value: Any,
        dims: Mapping[str, Any],
        file: str,
        note: Any = None,
        line: int | None = None,
        row: int | None = None,
        columns: Mapping[str, str] | None = None,
        where: str,
    ) -> None:
        """Check one target; ``columns`` maps each field (kpi, period, value, a dimension) to its CSV column."""
        columns = columns or {}
        before = len(self.issues)

        def issue(rule: str, message: str, column: str | None = None, name: str | None = None) -> None:
            col = columns.get(column) if column else None
            self.issues.append(TargetIssue(file, rule, message, line, row, col, name))

        name = "" if kpi is None else str(kpi).strip()
        known = getattr(self.catalog, "kpis", {})
        if not name:
            issue("kpi", "no KPI named; every target needs a KPI (see `revalign kpi list`).", "kpi")
            return
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=3)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            issue("kpi", f"unknown KPI {name!r}.{hint} `revalign kpi list` shows every KPI.", "kpi", name)
            return
        spec = known[name]
        text = "" if period is None else (period.isoformat() if isinstance(period, dt.date) else str(period).strip())
        parsed = None
        try:
            parsed = parse_period(text, self.fs)
        except ValueError as exc:
            issue("period", str(exc), "period", name)
        number = None
        try:
            number = parse_number(value)
        except ValueError as exc:
            issue("value", str(exc), "value", name)
        clean: dict[str, str] = {}
        for dim, val in dims.items():
            if val is None or (isinstance(val, str) and not val.strip()):
                continue
            allowed = self._dimensions(name)
            if dim not in allowed:
                issue(
                    "dimension",
                    f"{name} cannot be sliced by {dim!r}; it can be sliced by: {', '.join(allowed) or 'nothing'}.",
                    dim,
                    name,
                )
                continue
            clean[str(dim)] = str(val).strip()
        if number is not None:
            lo, hi = spec.value_range
            if (lo is not None and number < lo) or (hi is not None and number > hi):
                rng = f"{'-∞' if lo is None else _num(lo)} to {'∞' if hi is None else _num(hi)}"
                unit = " (percent KPIs are fractions: write 0.25 or 25%)" if spec.unit == "percent" else ""
                issue("range", f"target {_num(number)} is outside the range of {name}: {rng}{unit}.", "value", name)
        if len(self.issues) > before or parsed is None or number is None:
            return
        entry = TargetEntry(name, text, parsed.grain, parsed.start, number, _dims(clean), "project", where, _text(note))
        first = self._seen.get(entry.key)
        if first is not None:
            slice_ = ", ".join(f"{k}={v}" for k, v in entry.dims) or "company-wide"
            issue(
                "duplicate", f"a second target for {name} in {text} ({slice_}); the first is at {first}.", "kpi", name
            )
            return
        self._seen[entry.key] = where
        self.entries.append(entry)


def _amount(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 or x == int(x) else f"{x:,.4g}"


def _num(x: float) -> str:
    return f"{x:g}"


def _text(x: Any) -> str | None:
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


def read_targets_yaml(
    path: Path, catalog: Any, fiscal_year_start_month: int = 1, *, section: Any = None, display: str | None = None
) -> tuple[list[TargetEntry], list[TargetIssue]]:
    """Targets of a YAML file's ``targets:`` section (or ``section``, already read) with every issue found.

    Shape, per KPI, a list of ``{period, value, note?, <dimension>: <value>…}`` or a ``{period: value}`` map::

        targets:
          new_revenue:
            - {period: 2025-Q1, value: 2400000}
            - {period: 2025-Q1, value: 600000, segment: smb}
          win_rate: {2025-Q1: 0.3, 2025-Q2: 31%}
    """
    checker = _Checker(catalog, fiscal_year_start_month)
    _read_yaml_into(checker, path, section=section, display=display)
    return checker.entries, checker.issues


def _read_yaml_into(checker: _Checker, path: Path, *, section: Any = None, display: str | None = None) -> None:
    from revalign.definitions.kpis.loader import LineDict, read_yaml

    file = display or path.name
    if section is None:
        try:
            raw = read_yaml(path) or {}
        except (OSError, yaml.YAMLError) as exc:
            checker.issues.append(TargetIssue(file, "file", f"cannot read the file as YAML: {exc}"))
            return
        if not isinstance(raw, dict) or "targets" not in raw:
            checker.issues.append(
                TargetIssue(file, "shape", "expected a top-level `targets:` mapping of KPI names.", line=1)
            )
            return
        extra = [k for k in raw if k != "targets"]
        if extra:
            line = raw.key_lines.get(str(extra[0])) if isinstance(raw, LineDict) else None
            checker.issues.append(
                TargetIssue(file, "shape", f"unknown top-level key(s) {extra}; only `targets:` is read.", line=line)
            )
        section = raw["targets"]
    if section is None:
        return
    if not isinstance(section, dict):
        line = getattr(section, "line", None)
        checker.issues.append(TargetIssue(file, "shape", "`targets:` must map KPI names to targets.", line=line))
        return
    for kpi, items in section.items():
        kline = section.key_lines.get(str(kpi)) if isinstance(section, LineDict) else None
        if isinstance(items, dict):  # {period: value} shorthand, company-wide
            for period, value in items.items():
                line = items.key_lines.get(str(period), kline) if isinstance(items, LineDict) else kline
                checker.add(kpi=kpi, period=period, value=value, dims={}, file=file, line=line, where=f"{file}:{line}")
        elif isinstance(items, list):
            for item in items:
                line = getattr(item, "line", kline)
                if not isinstance(item, dict):
                    checker.issues.append(
                        TargetIssue(file, "shape", "each target is a mapping {period, value}.", line=line, kpi=kpi)
                    )
                    continue
                missing = [k for k in ("period", "value") if k not in item]
                if missing:
                    checker.issues.append(
                        TargetIssue(file, "shape", f"target lacks {' and '.join(missing)}.", line=line, kpi=str(kpi))
                    )
                    continue
                dims = dict(item.get("dims") or {})
                dims.update({k: v for k, v in item.items() if k not in ("period", "value", "note", "dims")})
                checker.add(
                    kpi=kpi,
                    period=item["period"],
                    value=item["value"],
                    dims=dims,
                    note=item.get("note"),
                    file=file,
                    line=line,
                    where=f"{file}:{line}",
                )
        else:
            checker.issues.append(
                TargetIssue(
                    file,
                    "shape",
                    f"targets of {kpi} must be a list of {{period, value}} or a {{period: value}} map.",
                    line=kline,
                    kpi=str(kpi),
                )
            )


def read_targets_csv(
    path: Path, catalog: Any, fiscal_year_start_month: int = 1, *, display: str | None = None
) -> tuple[list[TargetEntry], list[TargetIssue]]:
    """Targets of a CSV file (comma, semicolon or tab separated, UTF-8 with or without BOM), with every issue.

    **Long** layout: columns ``kpi, period, value`` (+ ``note``), every other column a dimension (a blank cell
    means not sliced). **Wide** layout (a plan as a spreadsheet lays it out): ``kpi``, optional dimension
    columns, and one column per period label (``kpi,segment,2025-Q1,2025-Q2,…``); blank cells are no target.
    Rows are numbered from 1 after the header, as a spreadsheet shows them minus one.
    """
    checker = _Checker(catalog, fiscal_year_start_month)
    _read_csv_into(checker, path, display=display)
    return checker.entries, checker.issues


def _read_csv_into(checker: _Checker, path: Path, *, display: str | None = None) -> None:
    file = display or path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        checker.issues.append(TargetIssue(file, "file", f"cannot read the file as UTF-8 text: {exc}"))
        return
    if not text.strip():
        checker.issues.append(TargetIssue(file, "file", "the file is empty; expected a header kpi,period,value."))
        return
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(text.splitlines(), dialect))
    header = [h.strip() for h in rows[0]]
    lower = [h.lower() for h in header]
    if "kpi" not in lower:
        checker.issues.append(
            TargetIssue(file, "columns", f"no `kpi` column; the header is {header}.", row=0, column="kpi")
        )
        return
    dup = sorted({h for h in lower if h and lower.count(h) > 1})
    if dup:
        checker.issues.append(TargetIssue(file, "columns", f"repeated column(s) {dup}.", row=0, column=dup[0]))
        return
    col = {h.lower(): h for h in header}
    long = "period" in lower or "value" in lower
    period_cols: list[str] = []
    if long:
        for needed in ("period", "value"):
            if needed not in lower:
                checker.issues.append(
                    TargetIssue(
                        file,
                        "columns",
                        f"a long target file needs kpi, period and value columns; {needed!r} is missing.",
                        row=0,
                        column=needed,
                    )
                )
                return
        dim_cols = [h for h in header if h.lower() not in RESERVED_COLUMNS and h]
    else:
        dim_cols = []
        for h in header:
            if h.lower() in RESERVED_COLUMNS or not h:
                continue
            try:
                parse_period(h, checker.fs)
                period_cols.append(h)
            except ValueError:
                dim_cols.append(h)
        if not period_cols:
            checker.issues.append(
                TargetIssue(
                    file,
                    "columns",
                    "no period or value column: use kpi,period,value (long) or kpi,2025-Q1,2025-Q2,… (wide).",
                    row=0,
                )
            )
            return
    for n, cells in enumerate(rows[1:], start=1):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            checker.issues.append(TargetIssue(file, "shape", f"{len(cells)} cells but {len(header)} columns.", row=n))
            continue
        rec = dict(zip(header, [*cells, *[""] * (len(header) - len(cells))], strict=True))
        dims = {d: rec[d] for d in dim_cols}
        kpi = rec[col["kpi"]]
        note = rec.get(col["note"]) if "note" in col else None
        columns = {"kpi": col["kpi"], **{d: d for d in dim_cols}}
        if long:
            checker.add(
                kpi=kpi,
                period=rec[col["period"]],
                value=rec[col["value"]],
                dims=dims,
                note=note,
                file=file,
                row=n,
                columns={**columns, "period": col["period"], "value": col["value"]},
                where=f"{file} row {n}",
            )
        else:
            for p in period_cols:
                if not rec[p].strip():
                    continue
                checker.add(
                    kpi=kpi,
                    period=p,
                    value=rec[p],
                    dims=dims,
                    note=note,
                    file=file,
                    row=n,
                    columns={**columns, "period": p, "value": p},
                    where=f"{file} row {n}, column {p}",
                )


def read_targets(
    paths: Iterable[Path],
    catalog: Any,
    fiscal_year_start_month: int = 1,
    *,
    inline: Any = None,
    root: Path | None = None,
) -> tuple[TargetBook, list[TargetIssue]]:
    """Every target of ``inline`` (revalign.yaml's section) and ``paths`` (YAML or CSV), checked as one set."""
    checker = _Checker(catalog, fiscal_year_start_month)

    def shown(p: Path) -> str:
        if root is not None:
            try:
                return str(p.relative_to(root))
            except ValueError:
                pass
        return str(p)

    if inline:
        from revalign.settings import PROJECT_FILE

        settings_file = (root / PROJECT_FILE) if root is not None else Path(PROJECT_FILE)
        section = inline
        if settings_file.exists():  # re-read with line numbers for the messages
            from revalign.definitions.kpis.loader import read_yaml

            raw = read_yaml(settings_file) or {}
            section = raw.get("targets", inline) if isinstance(raw, dict) else inline
        _read_yaml_into(checker, settings_file, section=section, display=PROJECT_FILE)
    for p in paths:
        if not p.exists():
            checker.issues.append(TargetIssue(shown(p), "file", "the target file listed in target_files is missing."))
        elif p.suffix.lower() == ".csv":
            _read_csv_into(checker, p, display=shown(p))
        elif p.suffix.lower() in (".yaml", ".yml"):
            _read_yaml_into(checker, p, display=shown(p))
        else:
            checker.issues.append(TargetIssue(shown(p), "file", "target files are .yaml, .yml or .csv."))
    checker.issues.extend(rollup_warnings(checker.entries, getattr(catalog, "kpis", {}), fiscal_year_start_month))
    return TargetBook(checker.entries, fiscal_year_start_month), checker.issues


def rollup_warnings(
    entries: Sequence[TargetEntry], kpis: Mapping[str, Any], fiscal_year_start_month: int = 1
) -> list[TargetIssue]:
    """Warn where an additive KPI's slice targets (one dimension) fall short of its company target.

    For revenue (higher is better), segment targets adding up to less than the company target mean every
    segment can hit its plan while the company misses — the misalignment the scorecard exists to catch, found
    at planning time. Lower-is-better KPIs warn the other way round (slices allowing more than the company).
    """
    company = {(e.kpi, e.grain, e.start): e for e in entries if not e.dims}
    groups: dict[tuple[str, str, dt.date, str], list[TargetEntry]] = {}
    for e in entries:
        if len(e.dims) == 1:
            groups.setdefault((e.kpi, e.grain, e.start, e.dims[0][0]), []).append(e)
    out = []
    for (kpi, grain, start, dim), parts in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][3])):
        whole, spec = company.get((kpi, grain, start)), kpis.get(kpi)
        if whole is None or spec is None or not is_additive(spec):
            continue
        total = math.fsum(p.value for p in parts)
        direction = getattr(spec, "direction", None)
        # rounding each slice (whole units, cents) must not raise a warning: allow half a unit per slice and 0.1 %
        slack = max(abs(whole.value) * 1e-3, len(parts) * (0.5 if spec.unit in ("count", "people") else 0.005))
        gap = whole.value - total if direction != "lower_is_better" else total - whole.value
        if direction == "target_is_best" or gap <= slack:
            continue
        label = period_label(start, grain, fiscal_year_start_month)
        side = "below" if direction != "lower_is_better" else "above"
        out.append(
            TargetIssue(
                whole.where.split(" row ")[0].split(":")[0],
                "rollup",
                f"the {dim} targets of {kpi} in {label} ({len(parts)} slices) add up to {_amount(total)}, {side} the "
                f"company target {_amount(whole.value)} at {whole.where}: every {dim} can hit its target while the "
                f"company misses.",
                kpi=kpi,
                level="warning",
            )
        )
    return out


# -------------------------------------------------------------------------------------------- on a project


def project_target_files(project: Project) -> list[Path]:
    """``target_files:`` of revalign.yaml (project-relative), else the default files that exist."""
    listed = getattr(project.settings, "target_files", None)
    if listed is not None:
        return [project.folder / p for p in listed]
    return [project.folder / f for f in TARGET_FILES if (project.folder / f).exists()]


def check_project_targets(project: Project, catalog: Any = None) -> tuple[TargetBook, list[TargetIssue]]:
    """The project's targets and every problem found in them (nothing raised)."""
    if catalog is None:
        catalog = project.catalog
    inline = getattr(project.settings, "targets", None) or None
    return read_targets(
        project_target_files(project),
        catalog,
        project.settings.fiscal_year_start_month,
        inline=inline,
        root=project.folder,
    )


def targets_fingerprint(project: Project) -> str:
    """A short hash of everything the project's targets are read from (the ``targets:`` section and each target
    file's bytes): a cache of scorecards (the server's) keys on it so an edited plan is never served stale."""
    import hashlib

    digest = hashlib.sha256(repr(sorted((project.settings.targets or {}).items())).encode())
    for path in project_target_files(project):
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()[:16]


def project_targets(project: Project, catalog: Any = None) -> TargetBook:
    """The project's targets; :class:`TargetsError` (a DataError, exit code 3) listing every error if any
    (warnings do not stop a scorecard; ``revalign targets check`` shows them)."""
    book, issues = check_project_targets(project, catalog)
    errors = [i for i in issues if i.level == "error"]
    if errors:
        raise TargetsError(errors)
    return book


def targets_in_force(project: Project, catalog: Any = None, *, kpis: Iterable[str] | None = None) -> pd.DataFrame:
    """Every target the project knows, project and catalog, with ``in_force`` False where a project target for
    the same KPI, period and slice overrides a catalog one: ``kpi, period, grain, dims, value, source, where``."""
    if catalog is None:
        catalog = project.catalog
    book = project_targets(project, catalog)
    fs = project.settings.fiscal_year_start_month
    wanted = set(kpis) if kpis is not None else None
    rows = []
    for e in book.entries:
        rows.append({**e.to_dict(fs), "in_force": True})
    for name, kpi in catalog.kpis.items():
        for e in catalog_entries(kpi, fs, name=name):
            rows.append({**e.to_dict(fs), "in_force": book.get(e.kpi, e.grain, e.start, e.dims) is None})
    frame = pd.DataFrame(
        rows, columns=["kpi", "period", "grain", "dims", "value", "source", "where", "note", "in_force"]
    )
    if wanted is not None:
        frame = frame[frame["kpi"].isin(wanted)]
    frame["dims"] = [", ".join(f"{k}={v}" for k, v in d.items()) for d in frame["dims"]]
    return frame.sort_values(["kpi", "grain", "period", "dims", "source"], kind="stable").reset_index(drop=True)


def write_targets(entries: pd.DataFrame, path: Path) -> Path:
    """Write targets (a frame ``kpi, period, <dimensions…>, value[, note]``) as CSV or YAML by ``path``'s suffix.

    The file reads back with :func:`read_targets` to the same targets (what ``revalign targets plan`` writes).
    """
    path = Path(path)
    required = [c for c in ("kpi", "period", "value") if c not in entries.columns]
    if required:
        raise ValueError(f"targets lack column(s) {required}; expected kpi, period, <dimensions…>, value[, note]")
    dims = [c for c in entries.columns if c not in RESERVED_COLUMNS]
    ordered = entries[["kpi", "period", *dims, "value", *(["note"] if "note" in entries.columns else [])]]
    if path.suffix.lower() == ".csv":
        ordered.to_csv(path, index=False, float_format="%.10g")
        return path
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise ValueError(f"{path}: target files are .csv, .yaml or .yml")
    section: dict[str, list[dict[str, Any]]] = {}
    for rec in ordered.to_dict(orient="records"):
        item: dict[str, Any] = {"period": str(rec["period"]), "value": float(rec["value"])}
        item.update({d: str(rec[d]) for d in dims if _text(rec[d]) is not None})
        if _text(rec.get("note")) is not None:
            item["note"] = str(rec["note"])
        section.setdefault(str(rec["kpi"]), []).append(item)
    path.write_text(yaml.safe_dump({"targets": section}, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


__all__ = [
    "TARGET_FILES",
    "TargetBook",
    "TargetEntry",
    "TargetIssue",
    "TargetsError",
    "catalog_entries",
    "check_project_targets",
    "is_additive",
    "parse_number",
    "project_target_files",
    "project_targets",
    "read_targets",
    "read_targets_csv",
    "read_targets_yaml",
    "rollup_warnings",
    "target_for",
    "targets_fingerprint",
    "targets_in_force",
    "write_targets",
]
