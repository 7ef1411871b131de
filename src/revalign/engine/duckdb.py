"""DuckDB engine: the embedded default (a single file, or memory).

A DuckDB file admits one read-write process *or* many read-only processes at a time (DuckDB's own file lock;
see https://duckdb.org/docs/stable/connect/concurrency). So that ``revalign serve`` and CLI commands can work
on the same project at once, an engine holds the file in one of two ways:

- a **writer** (``connect(url)``: every CLI command, a notebook) opens the file read-write when it is created
  and keeps it until :meth:`~DuckDBEngine.close`. If another process holds the file it retries for
  ``REVALIGN_LOCK_TIMEOUT`` seconds (default 30) before raising :class:`~revalign.errors.StoreBusy`, which
  names the process DuckDB reports as the holder;
- a **reader** (``connect(url, read_only=True)``: the server) opens the file read-only only when something is
  read inside :meth:`~DuckDBEngine.session`, and closes it when the last session ends, so it never holds the
  file between requests. While a writer works it retries for ``READER_WAIT_SECONDS``, then raises
  :class:`~revalign.errors.StoreBusy` (the server answers 503, or serves the report it computed before).

Every session of a reader sees the file as the last writer committed it, so new data shows on the next read.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlparse

import duckdb
import ibis
import pandas as pd
import pyarrow.types as pat
from ibis.backends.duckdb.converter import DuckDBPandasData

from revalign.engine.base import Engine
from revalign.errors import ConfigError, EngineError, StoreBusy

LOCK_TIMEOUT_ENV = "REVALIGN_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 30.0
"""Seconds a writer waits for the file (a server request or another command to finish) before giving up."""
READER_WAIT_SECONDS = 1.0
"""Seconds a reader waits for a writer before giving up; short, because a person is waiting for the page."""
RETRY_SECONDS = 0.1

_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
_BUSY = ("Could not set lock", "Conflicting lock", "different configuration")
"""DuckDB's words for a file held by another process, or held by this process in the other mode."""


def lock_timeout() -> float:
    """Seconds a writer waits for the file: ``REVALIGN_LOCK_TIMEOUT``, else :data:`DEFAULT_LOCK_TIMEOUT`."""
    raw = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{LOCK_TIMEOUT_ENV} must be a number of seconds (e.g. 30). Got {raw!r} instead.") from None
    return max(0.0, value)


def file_path(url: str) -> Path | None:
    """The database file of a ``duckdb://`` URL (absolute), or ``None`` for an in-memory database."""
    parsed = urlparse(url)
    path = (parsed.netloc + parsed.path) if parsed.netloc not in ("", ":memory:") else parsed.path
    if path in ("", ":memory:", "/:memory:"):
        return None
    return Path(path).absolute()


def holder_of(message: str) -> str | None:
    """The process holding the lock, as DuckDB names it, with its command line when the OS shows it."""
    if "different configuration" in message:
        return "this process (it has the file open in the other mode: read-write vs read-only)"
    found = _HOLDER.search(message)
    if found is None:
        return None
    pid, program = found["pid"], found["program"]
    try:  # Linux shows what the process runs (`revalign serve …`), more telling than the interpreter's path
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        command = ""
    return f"PID {pid}: {command or program}"


def busy_error(path: Path, exc: Exception, *, waited: float, read_only: bool) -> StoreBusy:
    """The :class:`StoreBusy` for a lock DuckDB refused: the file, the holder, what to do."""
    holder = holder_of(str(exc))
    who = holder or "another process (DuckDB did not say which)"
    if read_only:
        advice = "It is being written (an ingest or another command); try again when that finishes."
    else:
        advice = (
            "`revalign serve` holds it only while it answers a request; another command or a notebook holds it "
            f"until it ends: wait for it or stop it, or set {LOCK_TIMEOUT_ENV} (seconds) to wait longer."
        )
    return StoreBusy(
        f"The project database {path} is in use by {who}; waited {waited:g} s. DuckDB lets one process write a "
        f"file, or many read it, at a time. {advice}",
        path=str(path),
        holder=holder,
        waited=waited,
    )


def open_file(path: Path, *, read_only: bool, wait: float) -> Any:
    """An Ibis DuckDB backend on ``path``, retrying for ``wait`` seconds while another process holds the file."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return ibis.duckdb.connect(path, read_only=read_only)
        except duckdb.Error as exc:
            if not any(marker in str(exc) for marker in _BUSY):
                raise EngineError(f"duckdb could not open {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise busy_error(path, exc, waited=wait, read_only=read_only) from exc
        time.sleep(RETRY_SECONDS)


class DuckDBEngine(Engine):
    """``duckdb:///path/to/file.duckdb`` (a file) or ``duckdb://`` / ``duckdb://:memory:`` (memory).

    ``read_only=True`` makes a reader that holds the file only inside :meth:`session` (see the module
    docstring); a memory database is never shared, so it is always an ordinary connection.
    """

    name: ClassVar[str] = "duckdb"
    exact_median: ClassVar[bool] = True

    def __init__(self, con: Any, url: str, *, path: Path | None = None, read_only: bool = False) -> None:
        self._con = con
        self.path, self.read_only = path, read_only
        self._sessions = 0
        self._guard = threading.Lock()
        super().__init__(con, url)

    @classmethod
    def from_url(cls, url: str, *, read_only: bool = False) -> DuckDBEngine:
        path = file_path(url)
        if path is None:
            return cls(ibis.duckdb.connect(":memory:"), url)
        if read_only:
            return cls(None, url, path=path, read_only=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(open_file(path, read_only=False, wait=lock_timeout()), url, path=path)

    @property
    def con(self) -> Any:
        """The Ibis backend. A reader (or a closed writer) opens the file here, when it is first needed."""
        if self._con is None:
            with self._guard:
                if self._con is None:
                    self._con = self._open()
        return self._con

    @con.setter
    def con(self, value: Any) -> None:
        self._con = value

    def _open(self) -> Any:
        assert self.path is not None  # a memory engine is connected from the start and never released
        if not self.read_only:
            return open_file(self.path, read_only=False, wait=lock_timeout())
        if not self.path.exists():  # nothing loaded yet: read an empty store rather than create the file
            return ibis.duckdb.connect(":memory:")
        return open_file(self.path, read_only=True, wait=min(READER_WAIT_SECONDS, lock_timeout()))

    @contextmanager
    def session(self) -> Iterator[None]:
        """One unit of work (a server request). A reader opens the file on first use inside and, when the last
        session running in any thread ends, closes it, so writers in other processes get their turn."""
        if not self.read_only:
            yield
            return
        with self._guard:
            self._sessions += 1
        try:
            yield
        finally:
            with self._guard:
                self._sessions -= 1
                if self._sessions == 0:
                    self._release()

    def _release(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            con.disconnect()

    def run_sql(self, sql: str, schema: ibis.Schema) -> pd.DataFrame:
        """The text run by DuckDB's relation API and converted as Ibis's ``execute`` converts (its own steps:
        columns with nulls or nested values go through Python objects, the rest through Arrow)."""
        try:
            table = self.con.con.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            raise self._sql_error(exc) from exc
        frame = pd.DataFrame(
            {
                name: col.to_pylist()
                if pat.is_nested(col.type) or pat.is_dictionary(col.type) or col.null_count
                else col.to_pandas()
                for name, col in zip(table.column_names, table.columns, strict=True)
            }
        )
        return DuckDBPandasData.convert_table(frame, schema)

    def change_token(self) -> Hashable:
        """Size and modification time of the file and its write-ahead log: they move on every commit, from any
        process, and reading them costs no query."""
        if self.path is None:
            return None
        stamps: list[tuple[int, int] | None] = []
        for file in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                stat = file.stat()
            except FileNotFoundError:
                stamps.append(None)
            else:
                stamps.append((stat.st_mtime_ns, stat.st_size))
        return tuple(stamps)

    def close(self) -> None:
        with self._guard:
            self._release()
