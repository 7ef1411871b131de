"""① The plan: which sources a mapping reads, in which order tables are validated, and what is already loaded.

Planning happens before anything is read or written, so a folder that lacks a required export fails at once
(``missing_file``) and a load never stops half-way for want of a file. A source is identified by the digest of
its content (the sha256 of a file's bytes, which its reader computes while reading it once): a digest already in
``_load_log`` under the same mapping is skipped, so loading the same export twice changes nothing.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

from revalign.errors import SchemaError
from revalign.model.tables import TABLES
from revalign.sources.load.log import LOAD_LOG, load_history
from revalign.sources.load.run import LoadRun
from revalign.sources.mapping import Mapping, TargetSpec

TABLE_ORDER = (
    "teams",
    "users",
    "accounts",
    "campaigns",
    "leads",
    "opportunities",
    "touchpoints",
    "subscriptions",
    "quotas",
    "forecasts",
    "spend",
    "web_traffic",
    "ledger",
    "scores",
)
"""Referenced tables first, so foreign keys and lookups see this load's rows of the tables they point at."""
assert set(TABLE_ORDER) == set(TABLES), "every canonical table needs a place in the load order"


@dataclass(frozen=True)
class PlannedSource:
    """One source (a file, or a folder of Parquet parts) and the mapping targets it feeds, in mapping order."""

    path: Path
    targets: tuple[TargetSpec, ...]

    @property
    def required(self) -> list[str]:
        """Source columns any of its targets needs."""
        return list(dict.fromkeys(c for t in self.targets for c in t.source_columns))


def plan_files(spec: Mapping, path: Path) -> list[PlannedSource]:
    """Which file feeds which targets, in the mapping's order."""
    if not path.exists():
        raise SchemaError(f"Nothing to ingest at {path}: no such file or folder", file=str(path), rule="missing_file")
    found: dict[Path, list[TargetSpec]] = {}
    for target in spec.targets:
        matches = _matches(target, path)
        if not matches and path.is_dir() and not target.optional:
            raise SchemaError(
                f"No file in {path} matches {', '.join(target.files)} (target {target.name!r} of mapping "
                f"{spec.name!r}). Add the export, or mark the target optional in the mapping",
                file=str(path),
                rule="missing_file",
            )
        for m in dict.fromkeys(matches):
            found.setdefault(m, []).append(target)
    if not found:
        patterns = ", ".join(p for t in spec.targets for p in t.files)
        raise SchemaError(
            f"No file matches mapping {spec.name!r} (expected {patterns})", file=str(path), rule="missing_file"
        )
    return [PlannedSource(p, tuple(targets)) for p, targets in found.items()]


def _matches(target: TargetSpec, path: Path) -> list[Path]:
    matches: list[Path] = []
    for pattern in target.files:
        if path.is_dir():
            matches += sorted(p for p in path.glob(pattern) if p.is_file() or _is_parquet_table(p))
        elif fnmatch.fnmatch(path.name, pattern):
            matches.append(path)
    return matches


def _is_parquet_table(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.parquet"))


def loaded_digests(run: LoadRun) -> set[str]:
    """Content digests this mapping has already loaded (from ``_load_log``): sources to skip."""
    history = load_history(run.engine) if LOAD_LOG in run.present else load_history(None)
    return set(history.loc[history["mapping"] == run.spec.name, "file_sha256"].dropna())
