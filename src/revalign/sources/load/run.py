"""① One load as an object: what a run accumulates between plan, read, validate, diff and write.

Every stage takes the :class:`LoadRun` and adds to it (targets read, quarantine lines, ledger events, table
states, counts, warnings, timings) instead of threading ten accumulators through each call, so a stage's
signature says what it needs and the run says what a load has done so far. :class:`LoadReport` is what
:func:`~revalign.sources.ingest` returns; it is built from the run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from revalign.engine import Engine
from revalign.sources.load.frames import existing
from revalign.sources.mapping import Mapping, TargetSpec
from revalign.sources.readers import SourceFile
from revalign.sources.values import Failure

Progress = Callable[[str, int, int], None]
"""``progress(step, done, total)``: called as a load advances (the CLI draws a bar with it)."""

CHANGE_DTYPES = {"occurred_at": "datetime64[us]", "actor_id": "object", "reason": "object"}
"""What a row of an export says about its last change, one frame per target (``Prepared.changes``): when (the
row's last-modified time, else the export time), by whom (its last modifier, when mapped) and why (its reason for
leaving the funnel, when mapped). A change a newer export shows is dated, attributed and explained with them."""


def no_changes() -> pd.DataFrame:
    """An empty change frame in :data:`CHANGE_DTYPES`."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in CHANGE_DTYPES.items()})


@dataclass
class TableLoad:
    """What one target did with one file. ``rows_loaded + rows_quarantined + rows_deduplicated == rows_read``;
    ``rows_unchanged`` counts loaded rows whose key was known with exactly these values."""

    file: str
    target: str
    table: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_unchanged: int = 0
    rows_deduplicated: int = 0
    events_added: int = 0


@dataclass
class LoadReport:
    """The outcome of :func:`~revalign.sources.ingest`."""

    load_id: str
    mapping: str
    tables: list[TableLoad] = field(default_factory=list)
    events_added: int = 0
    quarantine_resolved: int = 0
    """Open quarantine entries of earlier loads that this load fixed (see ``sources.quarantine``)."""
    skipped_as_duplicate: bool = False
    skipped_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(t.rows_read for t in self.tables)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables)

    def to_frame(self) -> pd.DataFrame:
        """One row per file and target."""
        cols = [f.name for f in TableLoad.__dataclass_fields__.values()]
        return pd.DataFrame([asdict(t) for t in self.tables], columns=cols)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["rows_read"], out["rows_quarantined"] = self.rows_read, self.rows_quarantined
        return out


@dataclass
class Prepared:
    """A target's rows from one source batch, typed, before the rules that need other tables."""

    source: SourceFile
    target: TargetSpec
    text: pd.DataFrame
    frame: pd.DataFrame
    set_cols: list[str]
    default_cols: list[str]
    failures: list[tuple[str, Failure]]
    changes: pd.DataFrame  # CHANGE_DTYPES, aligned with ``frame``
    stats: TableLoad
    known_keys: pd.Index | None = None  # keys of loaded rows that the table held before this load


@dataclass
class TableDiff:
    """A tracked table before and after this load, diffed into ledger rows once every table is merged."""

    table: str
    before: pd.DataFrame
    after: pd.DataFrame
    changes: pd.DataFrame  # CHANGE_DTYPES, indexed by the table's key
    owner: int  # id() of the Prepared its field changes are counted for (the table's first target)


@dataclass
class LoadRun:
    """Everything one load reads, decides and accumulates; the stages fill it in order."""

    engine: Engine
    spec: Mapping
    load_id: str
    now: datetime
    report: LoadReport
    present: set[str]
    """Tables that exist: one catalog call per load (listing tables costs ~1 s on Spark), kept current on write."""
    fx_rate: float | None = None
    source_name: str | None = None
    progress: Progress | None = None
    total_steps: int = 0
    step: int = 0
    sources: list[SourceFile] = field(default_factory=list)
    prepared: list[Prepared] = field(default_factory=list)
    states: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Current state of each keyed table touched (or looked up) by this load, indexed by its key."""
    appends: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    touched: list[str] = field(default_factory=list)
    events: list[pd.DataFrame] = field(default_factory=list)
    configured: list[pd.DataFrame] = field(default_factory=list)
    """(entity_id, name) of events the mapping wrote: the diff of any table does not repeat them."""
    diffs: list[TableDiff] = field(default_factory=list)
    quarantine: list[pd.DataFrame] = field(default_factory=list)
    loaded: list[pd.DataFrame] = field(default_factory=list)
    """(table, key) of every row this load writes: it resolves old quarantine entries."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds spent per stage (read, validate, write): for profiling a slow load, not part of the report."""

    @classmethod
    def start(
        cls,
        engine: Engine,
        spec: Mapping,
        *,
        currency: str | None = None,
        source_name: str | None = None,
        progress: Progress | None = None,
    ) -> LoadRun:
        """A new run: load id and time, the currency check (against the project's ``currency``), one catalog call."""
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        load_id = f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        report = LoadReport(load_id, spec.name)
        run = cls(engine, spec, load_id, now, report, set(), source_name=source_name, progress=progress)
        run.fx_rate = run._fx_rate(currency)
        run.present = set(engine.list_tables())
        return run

    def _fx_rate(self, currency: str | None) -> float | None:
        spec = self.spec
        if spec.currency is None or spec.currency == currency:
            return None
        if spec.fx_rate is not None:
            return spec.fx_rate
        self.report.warnings.append(
            f"Money columns of mapping {spec.name!r} are in {spec.currency}"
            + (f", the project reports in {currency}" if currency else "")
            + "; set fx_rate in the mapping to convert them. Amounts are loaded as written."
        )
        return None

    def tick(self, label: str) -> None:
        """One step done: tell the progress callback."""
        self.step += 1
        if self.progress is not None:
            self.progress(label, self.step, self.total_steps)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start

    def state_of(self, table: str) -> pd.DataFrame:
        """The current state of ``table`` as this load sees it (read once from the engine when first needed)."""
        if table not in self.states:
            self.states[table] = existing(self.engine, self.present, table)
        return self.states[table]

    def mode(self, name: str) -> str:
        """Append to a table that exists, create one that does not (without another catalog call in ``write``)."""
        return "append" if name in self.present else "overwrite"
