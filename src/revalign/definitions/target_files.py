"""Reading project target files: a ``targets:`` section of YAML, or a spreadsheet's CSV, long or wide.

A project keeps its targets in a ``targets:`` section of ``revalign.yaml``, in ``targets.yaml`` and in
``targets.csv`` (``target_files:`` in ``revalign.yaml`` lists other files instead of the last two). Every target
read is checked by :class:`~revalign.definitions.targets.TargetChecker` where it is written, so each problem
names the file and line (YAML) or row and column (CSV); the set as a whole then runs through the target rules
(:class:`~revalign.definitions.targets.RollupRule`).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from revalign.definitions.issues import Issue, sort_issues
from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.targets import Place, RollupRule, TargetChecker, TargetEntry, target_issue
from revalign.definitions.validate import run_rules
from revalign.definitions.yamlfile import LineDict, read_yaml
from revalign.model.calendar import parse_period
from revalign.settings import PROJECT_FILE

TARGET_FILES = ("targets.yaml", "targets.csv")
"""Files of the project folder read by default (when ``target_files:`` is not set)."""
RESERVED_COLUMNS = ("kpi", "period", "value", "note")
"""CSV columns with a meaning; every other column of a long CSV is a dimension (blank = not sliced)."""


# -------------------------------------------------------------------------------------------- reading YAML


def read_targets_yaml(
    path: Path, catalog: Catalog, fiscal_year_start_month: int = 1, *, section: Any = None, display: str | None = None
) -> tuple[list[TargetEntry], list[Issue]]:
    """Targets of a YAML file's ``targets:`` section (or ``section``, already read) with every issue found.

    Shape, per KPI, a list of ``{period, value, note?, <dimension>: <value>…}`` or a ``{period: value}`` map::

        targets:
          new_revenue:
            - {period: 2025-Q1, value: 2400000}
            - {period: 2025-Q1, value: 600000, segment: smb}
          win_rate: {2025-Q1: 0.3, 2025-Q2: 31%}
    """
    checker = TargetChecker(catalog, fiscal_year_start_month)
    _read_yaml_into(checker, path, section=section, display=display)
    return checker.entries, sort_issues(checker.issues)


def _yaml_section(checker: TargetChecker, path: Path, file: str) -> Any:
    """The ``targets:`` section of a YAML file (``None`` after reporting a file that has none)."""
    try:
        raw = read_yaml(path) or {}
    except (OSError, yaml.YAMLError) as exc:
        checker.issues.append(target_issue(file, "file", f"cannot read the file as YAML: {exc}"))
        return None
    if not isinstance(raw, dict) or "targets" not in raw:
        checker.issues.append(
            target_issue(file, "shape", "expected a top-level `targets:` mapping of KPI names.", line=1)
        )
        return None
    extra = [k for k in raw if k != "targets"]
    if extra:
        line = raw.key_lines.get(str(extra[0])) if isinstance(raw, LineDict) else None
        message = f"unknown top-level key(s) {extra}; only `targets:` is read."
        checker.issues.append(target_issue(file, "shape", message, line=line))
    return raw["targets"]


def _read_yaml_into(checker: TargetChecker, path: Path, *, section: Any = None, display: str | None = None) -> None:
    file = display or path.name
    if section is None:
        section = _yaml_section(checker, path, file)
    if section is None:
        return
    if not isinstance(section, dict):
        line = section.line if isinstance(section, LineDict) else None
        checker.issues.append(target_issue(file, "shape", "`targets:` must map KPI names to targets.", line=line))
        return
    for kpi, items in section.items():
        kline = section.key_lines.get(str(kpi)) if isinstance(section, LineDict) else None
        if isinstance(items, dict):  # {period: value} shorthand, company-wide
            for period, value in items.items():
                line = items.key_lines.get(str(period), kline) if isinstance(items, LineDict) else kline
                place = Place(file, f"{file}:{line}", line=line)
                checker.add(kpi=kpi, period=period, value=value, dims={}, place=place)
        elif isinstance(items, list):
            for item in items:
                _read_yaml_item(checker, kpi, item, file, item.line if isinstance(item, LineDict) else kline)
        else:
            message = f"targets of {kpi} must be a list of {{period, value}} or a {{period: value}} map."
            checker.issues.append(target_issue(file, "shape", message, line=kline, kpi=str(kpi)))


def _read_yaml_item(checker: TargetChecker, kpi: Any, item: Any, file: str, line: int | None) -> None:
    if not isinstance(item, dict):
        message = "each target is a mapping {period, value}."
        checker.issues.append(target_issue(file, "shape", message, line=line, kpi=kpi))
        return
    missing = [k for k in ("period", "value") if k not in item]
    if missing:
        message = f"target lacks {' and '.join(missing)}."
        checker.issues.append(target_issue(file, "shape", message, line=line, kpi=str(kpi)))
        return
    dims = dict(item.get("dims") or {})
    dims.update({k: v for k, v in item.items() if k not in ("period", "value", "note", "dims")})
    place = Place(file, f"{file}:{line}", line=line)
    checker.add(kpi=kpi, period=item["period"], value=item["value"], dims=dims, note=item.get("note"), place=place)


# -------------------------------------------------------------------------------------------- reading CSV


def read_targets_csv(
    path: Path, catalog: Catalog, fiscal_year_start_month: int = 1, *, display: str | None = None
) -> tuple[list[TargetEntry], list[Issue]]:
    """Targets of a CSV file (comma, semicolon or tab separated, UTF-8 with or without BOM), with every issue.

    **Long** layout: columns ``kpi, period, value`` (+ ``note``), every other column a dimension (a blank cell
    means not sliced). **Wide** layout (a plan as a spreadsheet lays it out): ``kpi``, optional dimension
    columns, and one column per period label (``kpi,segment,2025-Q1,2025-Q2,…``); blank cells are no target.
    Rows are numbered from 1 after the header, as a spreadsheet shows them minus one.
    """
    checker = TargetChecker(catalog, fiscal_year_start_month)
    read_csv_into(checker, path, display=display)
    return checker.entries, sort_issues(checker.issues)


@dataclass(frozen=True)
class _Layout:
    """How a target CSV is laid out: long (kpi, period, value) or wide (one column per period)."""

    header: list[str]
    long: bool
    dim_cols: list[str]
    period_cols: list[str]

    def column(self, name: str) -> str | None:
        """The header as written for a reserved column (``kpi``, ``period``, ``value``, ``note``)."""
        return next((h for h in self.header if h.lower() == name), None)


def _csv_rows(checker: TargetChecker, path: Path, file: str) -> list[list[str]] | None:
    """The cells of every line (header first), or ``None`` after reporting an unreadable or empty file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        checker.issues.append(target_issue(file, "file", f"cannot read the file as UTF-8 text: {exc}"))
        return None
    if not text.strip():
        checker.issues.append(target_issue(file, "file", "the file is empty; expected a header kpi,period,value."))
        return None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return list(csv.reader(text.splitlines(), dialect))


def _csv_layout(checker: TargetChecker, header: list[str], file: str) -> _Layout | None:
    """The layout of a header, or ``None`` after reporting what is wrong with its columns."""
    lower = [h.lower() for h in header]
    if "kpi" not in lower:
        checker.issues.append(
            target_issue(file, "columns", f"no `kpi` column; the header is {header}.", row=0, column="kpi")
        )
        return None
    dup = sorted({h for h in lower if h and lower.count(h) > 1})
    if dup:
        checker.issues.append(target_issue(file, "columns", f"repeated column(s) {dup}.", row=0, column=dup[0]))
        return None
    if "period" in lower or "value" in lower:
        for needed in ("period", "value"):
            if needed not in lower:
                message = f"a long target file needs kpi, period and value columns; {needed!r} is missing."
                checker.issues.append(target_issue(file, "columns", message, row=0, column=needed))
                return None
        return _Layout(header, True, [h for h in header if h.lower() not in RESERVED_COLUMNS and h], [])
    dim_cols, period_cols = [], []
    for h in header:
        if h.lower() in RESERVED_COLUMNS or not h:
            continue
        try:
            parse_period(h, checker.fs)
            period_cols.append(h)
        except ValueError:
            dim_cols.append(h)
    if not period_cols:
        message = "no period or value column: use kpi,period,value (long) or kpi,2025-Q1,2025-Q2,… (wide)."
        checker.issues.append(target_issue(file, "columns", message, row=0))
        return None
    return _Layout(header, False, dim_cols, period_cols)


def _csv_row(checker: TargetChecker, layout: _Layout, rec: dict[str, str], n: int, file: str) -> None:
    """Check the target (long) or targets (wide, one per filled period cell) of data row ``n``."""
    kpi_col = layout.column("kpi") or "kpi"
    note_col = layout.column("note")
    dims = {d: rec[d] for d in layout.dim_cols}
    note = rec.get(note_col) if note_col else None
    columns = {"kpi": kpi_col, **{d: d for d in layout.dim_cols}}
    if layout.long:
        period_col, value_col = layout.column("period") or "period", layout.column("value") or "value"
        place = Place(file, f"{file} row {n}", row=n, columns={**columns, "period": period_col, "value": value_col})
        checker.add(kpi=rec[kpi_col], period=rec[period_col], value=rec[value_col], dims=dims, note=note, place=place)
        return
    for p in layout.period_cols:
        if rec[p].strip():
            place = Place(file, f"{file} row {n}, column {p}", row=n, columns={**columns, "period": p, "value": p})
            checker.add(kpi=rec[kpi_col], period=p, value=rec[p], dims=dims, note=note, place=place)


def read_csv_into(checker: TargetChecker, path: Path, *, display: str | None = None) -> None:
    """Check every target of a CSV file into ``checker`` (the layouts are in :func:`read_targets_csv`)."""
    file = display or path.name
    rows = _csv_rows(checker, path, file)
    if rows is None:
        return
    header = [h.strip() for h in rows[0]]
    layout = _csv_layout(checker, header, file)
    if layout is None:
        return
    for n, cells in enumerate(rows[1:], start=1):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            checker.issues.append(target_issue(file, "shape", f"{len(cells)} cells but {len(header)} columns.", row=n))
            continue
        rec = dict(zip(header, [*cells, *[""] * (len(header) - len(cells))], strict=True))
        _csv_row(checker, layout, rec, n, file)


# -------------------------------------------------------------------------------------------- the whole set


def read_targets(
    paths: Iterable[Path],
    catalog: Catalog,
    fiscal_year_start_month: int = 1,
    *,
    inline: Any = None,
    root: Path | None = None,
) -> tuple[list[TargetEntry], list[Issue]]:
    """Every target of ``inline`` (revalign.yaml's section) and ``paths`` (YAML or CSV), checked as one set."""
    checker = TargetChecker(catalog, fiscal_year_start_month)

    def shown(p: Path) -> str:
        if root is not None and p.is_relative_to(root):
            return str(p.relative_to(root))
        return str(p)

    if inline:
        settings_file = (root / PROJECT_FILE) if root is not None else Path(PROJECT_FILE)
        section = inline
        if settings_file.exists():  # re-read with line numbers for the messages
            raw = read_yaml(settings_file) or {}
            section = raw.get("targets", inline) if isinstance(raw, dict) else inline
        _read_yaml_into(checker, settings_file, section=section, display=PROJECT_FILE)
    for p in paths:
        if not p.exists():
            checker.issues.append(target_issue(shown(p), "file", "the target file listed in target_files is missing."))
        elif p.suffix.lower() == ".csv":
            read_csv_into(checker, p, display=shown(p))
        elif p.suffix.lower() in (".yaml", ".yml"):
            _read_yaml_into(checker, p, display=shown(p))
        else:
            checker.issues.append(target_issue(shown(p), "file", "target files are .yaml, .yml or .csv."))
    rules = [RollupRule(catalog.kpis, fiscal_year_start_month)]
    return checker.entries, run_rules(checker.entries, rules, found=checker.issues)


# -------------------------------------------------------------------------------------------- a project's files


def project_target_files(folder: Path, target_files: Sequence[str] | None = None) -> list[Path]:
    """``target_files:`` of revalign.yaml (project-relative), else the default files that exist."""
    if target_files is not None:
        return [folder / p for p in target_files]
    return [folder / f for f in TARGET_FILES if (folder / f).exists()]


def read_project_targets(
    folder: Path,
    catalog: Catalog,
    *,
    fiscal_year_start_month: int = 1,
    inline: Mapping[str, Any] | None = None,
    target_files: Sequence[str] | None = None,
) -> tuple[list[TargetEntry], list[Issue]]:
    """The targets of a project folder (``inline``: revalign.yaml's ``targets:``) and every problem in them."""
    paths = project_target_files(folder, target_files)
    return read_targets(paths, catalog, fiscal_year_start_month, inline=inline or None, root=folder)


def targets_fingerprint(
    folder: Path, *, inline: Mapping[str, Any] | None = None, target_files: Sequence[str] | None = None
) -> str:
    """A short hash of everything the project's targets are read from (the ``targets:`` section and each target
    file's bytes): a cache of scorecards (the server's) keys on it so an edited plan is never served stale."""
    digest = hashlib.sha256(repr(sorted((inline or {}).items())).encode())
    for path in project_target_files(folder, target_files):
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()[:16]


__all__ = [
    "RESERVED_COLUMNS",
    "TARGET_FILES",
    "project_target_files",
    "read_project_targets",
    "read_targets",
    "read_targets_csv",
    "read_targets_yaml",
    "targets_fingerprint",
]
