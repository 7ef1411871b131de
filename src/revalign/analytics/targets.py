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

Reading and checking the files (file and line or row and column, KPI, rule) is
:mod:`revalign.definitions.target_files` and :mod:`revalign.definitions.targets`; this module is the analytic side:
looking targets up for a scorecard, listing those in force, writing a plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from revalign.definitions.issues import Issue, errors
from revalign.definitions.kpis.catalog import Catalog
from revalign.definitions.target_files import RESERVED_COLUMNS, read_project_targets
from revalign.definitions.targets import Dims, TargetEntry, TargetsError, is_additive, slice_key, text_or_none
from revalign.model.calendar import parse_period, period_label


@dataclass(frozen=True)
class StandingTarget:
    """A target for every period starting in ``[start, end)`` at any grain: an agreement's shared-KPI target
    written without a period holds while its version is in force (``end``: the next version's date)."""

    kpi: str
    value: float
    dims: Dims
    start: dt.date
    end: dt.date | None
    source: str
    where: str

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def entry(self, grain: str, start: dt.date, fiscal_year_start_month: int = 1) -> TargetEntry:
        """This target as the entry of one period."""
        label = period_label(start, grain, fiscal_year_start_month)
        return TargetEntry(self.kpi, label, grain, start, self.value, self.dims, self.source, self.where)


@dataclass
class TargetBook:
    """Project targets indexed by (KPI, grain, period start, slice), for :func:`target_for`.

    ``entries`` are the target files' and the signed agreement's targets for one period (a later entry for the
    same key wins: the agreement's, see :mod:`revalign.analytics.agreement_targets`); ``standing`` the agreement's
    targets without a period, looked up when no entry names the period.
    """

    entries: list[TargetEntry] = field(default_factory=list)
    fiscal_year_start_month: int = 1
    standing: list[StandingTarget] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._index = {e.key: e for e in self.entries}

    def get(self, kpi: str, grain: str, start: dt.date, dims: Mapping[str, str] | Dims = ()) -> TargetEntry | None:
        d = slice_key(dict(dims)) if not isinstance(dims, tuple) else tuple(sorted(dims))
        hit = self._index.get((kpi, grain, start, d))
        if hit is not None:
            return hit
        held = next((t for t in self.standing if t.kpi == kpi and t.dims == d and t.covers(start)), None)
        return held.entry(grain, start, self.fiscal_year_start_month) if held is not None else None

    def __len__(self) -> int:
        return len(self.entries)

    def kpis(self) -> list[str]:
        return sorted({e.kpi for e in self.entries} | {t.kpi for t in self.standing})

    def to_pandas(self) -> pd.DataFrame:
        """One row per target: ``kpi, period, grain, <dimensions…>, value, source, where, note``."""
        dim_names = sorted({k for e in self.entries for k, _ in e.dims} | {k for t in self.standing for k, _ in t.dims})
        rows = []
        for e in self.entries:
            d = e.to_dict(self.fiscal_year_start_month)
            dims = d.pop("dims")
            rows.append({**d, **{k: dims.get(k) for k in dim_names}})
        for t in self.standing:
            until = f" until {t.end.isoformat()}" if t.end is not None else ""
            cut = dict(t.dims)
            when = {"period": f"from {t.start.isoformat()}{until}", "grain": "any"}
            rows.append(
                {
                    "kpi": t.kpi,
                    **when,
                    **{k: cut.get(k) for k in dim_names},
                    "value": t.value,
                    "source": t.source,
                    "where": t.where,
                    "note": None,
                }
            )
        cols = ["kpi", "period", "grain", *dim_names, "value", "source", "where", "note"]
        return pd.DataFrame(rows, columns=cols)


# -------------------------------------------------------------------------------------------- lookup


def catalog_entries(kpi: Any, fiscal_year_start_month: int = 1, *, name: str | None = None) -> list[TargetEntry]:
    """The catalog's own targets of ``kpi`` (unreadable periods are skipped: ``revalign check`` reports them)."""
    name = name or str(getattr(kpi, "name", ""))
    out = []
    for t in getattr(kpi, "targets", None) or ():
        try:
            p = parse_period(str(t.period), fiscal_year_start_month)
        except ValueError:
            continue
        ctx = getattr(t, "ctx", None)
        where = str(ctx) if ctx is not None and getattr(ctx, "file", None) else "catalog"
        dims = slice_key(getattr(t, "dims", None))
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
    name = name or str(getattr(kpi, "name", ""))
    wanted = slice_key(dims)
    catalog = {e.key: e for e in catalog_entries(kpi, fiscal_year_start_month, name=name)}
    keys = [(name, grain, start, wanted)]
    if wanted and not is_additive(kpi):
        keys.append((name, grain, start, ()))
    for key in keys:
        if book is not None and name:
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


# -------------------------------------------------------------------------------------------- on a project


def check_project_targets(
    folder: Path,
    catalog: Catalog,
    *,
    fiscal_year_start_month: int = 1,
    inline: Mapping[str, Any] | None = None,
    target_files: Sequence[str] | None = None,
) -> tuple[TargetBook, list[Issue]]:
    """The targets of the project in ``folder`` and every problem found in them (nothing raised).

    ``inline`` is revalign.yaml's ``targets:`` section and ``target_files`` its ``target_files:`` (both settings).
    """
    entries, issues = read_project_targets(
        folder, catalog, fiscal_year_start_month=fiscal_year_start_month, inline=inline, target_files=target_files
    )
    return TargetBook(entries, fiscal_year_start_month), issues


def project_targets(
    folder: Path,
    catalog: Catalog,
    *,
    fiscal_year_start_month: int = 1,
    inline: Mapping[str, Any] | None = None,
    target_files: Sequence[str] | None = None,
) -> TargetBook:
    """The project's targets; :class:`TargetsError` (a DataError, exit code 3) listing every error if any
    (warnings do not stop a scorecard; ``revalign targets check`` shows them)."""
    book, issues = check_project_targets(
        folder, catalog, fiscal_year_start_month=fiscal_year_start_month, inline=inline, target_files=target_files
    )
    if errors(issues):
        raise TargetsError(errors(issues))
    return book


def targets_in_force(book: TargetBook, catalog: Catalog, *, kpis: Iterable[str] | None = None) -> pd.DataFrame:
    """Every target known, the project's (``book``, from :func:`project_targets`) and the catalog's, with
    ``in_force`` False where a project target for the same KPI, period and slice overrides a catalog one:
    ``kpi, period, grain, dims, value, source, where``."""
    fs = book.fiscal_year_start_month
    wanted = set(kpis) if kpis is not None else None
    rows = []
    for e in book.entries:  # a target file's entry that the signed agreement overrides is not in force
        rows.append({**e.to_dict(fs), "in_force": book.get(e.kpi, e.grain, e.start, e.dims) is e})
    for t in book.standing:
        until = f" until {t.end.isoformat()}" if t.end is not None else ""
        when = {"period": f"from {t.start.isoformat()}{until}", "grain": "any", "dims": dict(t.dims)}
        rows.append({"kpi": t.kpi, **when, "value": t.value, "source": t.source, "where": t.where, "in_force": True})
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

    The file reads back with :func:`revalign.definitions.target_files.read_targets` to the same targets (what
    ``revalign targets plan`` writes).
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
        item.update({d: str(rec[d]) for d in dims if text_or_none(rec[d]) is not None})
        if text_or_none(rec.get("note")) is not None:
            item["note"] = str(rec["note"])
        section.setdefault(str(rec["kpi"]), []).append(item)
    path.write_text(yaml.safe_dump({"targets": section}, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


__all__ = [
    "StandingTarget",
    "TargetBook",
    "catalog_entries",
    "check_project_targets",
    "project_targets",
    "target_for",
    "targets_in_force",
    "write_targets",
]
