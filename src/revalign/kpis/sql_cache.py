"""Compiled KPI SQL cached across calls (in memory) and across processes (a SQLite file in the project's state
folder): a request seen before runs its SQL text without building or compiling any Ibis expression.

Why: compiling is the fixed cost of a KPI request. Building the whole catalog's stacked expression and turning it
into SQL takes seconds (rewrite passes that grow with the expression) while the SQL itself runs in a fraction of
that; the CLI, the server and a store refresh ask for the same few requests again and again, on data that changes
but whose *shape* does not.

The SQL depends on the definitions, the request and the tables' shape, never on the rows, so the key
(:func:`sql_key`) holds exactly those: each KPI's definition hash (its inputs and semantic models included) and
every semantic model (dimensions are reached through other models' entities), the request (grain, dimensions,
filters, date bounds, as-of, fiscal year, definitions), the engine's dialect and class, which canonical tables
are present and their schemas (:meth:`~revalign.model.access.Tables.schema_version`), and a fingerprint of the
code that compiles (this package, the model, the definitions and the engine, plus the Ibis and sqlglot versions),
so an upgrade or a local edit never serves SQL an older compiler wrote. Data changes need no key: the SQL reads
the tables when it runs. ``ibis.today()`` compiles to the engine's ``CURRENT_DATE``, so snapshot KPIs are safe
too. Requests whose expression holds in-memory tables (an empty canonical table, an audit's corrections) are
never cached: their SQL names a temporary table that exists only for one execution.

The disk tier is a small SQLite table (the standard library's ``sqlite3``) rather than ``diskcache``: the value
is a string and a schema (no pickle, so a shared folder cannot hand the process code to run), SQLite already
serialises concurrent writers from several processes, and it adds no dependency (``diskcache``'s last release
is from 2023). A disk cache that cannot be opened or written (read-only folder, locked file) is skipped: it is
an accelerator, never a reason for a request to fail.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import ibis
import sqlglot

from revalign.definitions.kpis.catalog import Catalog
from revalign.engine import Engine
from revalign.kpis.cache import definition_hash, kpi_hash

log = logging.getLogger(__name__)

COMPILER_PACKAGES = ("kpis", "model", "definitions", "engine")
"""revalign sub-packages whose code decides the SQL a request compiles to (fingerprinted into every key)."""


@dataclass(frozen=True)
class CompiledSql:
    """A compiled request: the SQL text and the schema of its result (so it converts like the expression would)."""

    sql: str
    schema: ibis.Schema

    def to_json(self) -> str:
        return json.dumps({"sql": self.sql, "schema": {n: str(t) for n, t in self.schema.items()}})

    @classmethod
    def from_json(cls, text: str) -> CompiledSql:
        raw = json.loads(text)
        return cls(raw["sql"], ibis.schema({n: ibis.dtype(t) for n, t in raw["schema"].items()}))


@functools.cache
def compiler_version() -> str:
    """A hash of the code that compiles KPIs and of the Ibis and sqlglot versions (read once per process)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"ibis {ibis.__version__} sqlglot {sqlglot.__version__}".encode())
    for package in COMPILER_PACKAGES:
        for file in sorted((root / package).rglob("*.py")):
            digest.update(file.relative_to(root).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def sql_key(
    catalog: Catalog, names: Sequence[str], request: Sequence[object], engine: Engine, schema_version: str
) -> str:
    """The cache key of one stacked request (see the module docstring for what it holds and why)."""
    return definition_hash(
        compiler_version(),
        [type(engine).__qualname__, engine.dialect],
        schema_version,
        [[name, kpi_hash(catalog, name)] for name in names],
        definition_hash(*catalog.semantic_models.values()),
        [str(part) for part in request],
    )


class SqlCache:
    """Compiled SQL by key: an LRU in memory, backed by a SQLite file when ``path`` is given.

    ``hits`` counts answers from memory, ``disk_hits`` answers read from the file (then kept in memory),
    ``misses`` requests that had to compile.
    """

    def __init__(self, path: Path | None = None, *, max_entries: int = 256, max_disk_entries: int = 2048) -> None:
        self.path = path
        self.max_entries = max_entries
        self.max_disk_entries = max_disk_entries
        self._memory: OrderedDict[str, CompiledSql] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.disk_hits = self.misses = 0

    def __repr__(self) -> str:
        return f"<SqlCache {len(self._memory)} in memory, file {str(self.path) if self.path else None!r}>"

    def get(self, key: str) -> CompiledSql | None:
        with self._lock:
            found = self._memory.get(key)
            if found is not None:
                self._memory.move_to_end(key)
                self.hits += 1
                return found
        found = self._read(key)
        with self._lock:
            if found is None:
                self.misses += 1
                return None
            self.disk_hits += 1
            self._remember(key, found)
        return found

    def put(self, key: str, compiled: CompiledSql) -> None:
        with self._lock:
            self._remember(key, compiled)
        self._write(key, compiled)

    def clear(self) -> None:
        """Forget every entry, in memory and on disk, and reset the counters."""
        with self._lock:
            self._memory.clear()
            self.hits = self.disk_hits = self.misses = 0
        with self._file() as db:
            if db is not None:
                db.execute("DELETE FROM compiled")

    def __len__(self) -> int:
        return len(self._memory)

    def _remember(self, key: str, compiled: CompiledSql) -> None:
        self._memory[key] = compiled
        self._memory.move_to_end(key)
        while len(self._memory) > self.max_entries:
            self._memory.popitem(last=False)

    # -- the file ---------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _file(self) -> Iterator[sqlite3.Connection | None]:
        """The SQLite file in a transaction (created on first use), or ``None`` without one or on any error."""
        if self.path is None:
            yield None
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=5.0)
        except (OSError, sqlite3.Error) as exc:
            log.warning("compiled-SQL cache %s unavailable: %s", self.path, exc)
            yield None
            return
        try:
            with db:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS compiled "
                    "(key TEXT PRIMARY KEY, value TEXT NOT NULL, stored REAL NOT NULL DEFAULT (julianday('now')))"
                )
                yield db
        except sqlite3.Error as exc:
            log.warning("compiled-SQL cache %s skipped: %s", self.path, exc)
        finally:
            db.close()

    def _read(self, key: str) -> CompiledSql | None:
        with self._file() as db:
            if db is not None:
                row = db.execute("SELECT value FROM compiled WHERE key = ?", (key,)).fetchone()
                return CompiledSql.from_json(row[0]) if row else None
        return None

    def _write(self, key: str, compiled: CompiledSql) -> None:
        with self._file() as db:
            if db is not None:
                db.execute("INSERT OR REPLACE INTO compiled (key, value) VALUES (?, ?)", (key, compiled.to_json()))
                db.execute(
                    "DELETE FROM compiled WHERE key NOT IN (SELECT key FROM compiled ORDER BY stored DESC LIMIT ?)",
                    (self.max_disk_entries,),
                )


COMPILED = SqlCache()
"""The process-wide, memory-only cache queries use unless given a project's (which also keeps a file)."""
