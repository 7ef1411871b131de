"""The one exception tree of revalign.

Catch :class:`RevalignError` to handle anything revalign raises on purpose::

    RevalignError
    ├── ConfigError            project file or settings are wrong (file, key)
    ├── CatalogError           a KPI definition is wrong (file, line, kpi) — carries every issue found
    ├── DataError              input data breaks a rule (file, row, column, rule, value)
    │   └── SchemaError        a whole file cannot be read as the mapped table (missing column, delimiter, …)
    ├── EngineError            a backend cannot run what was asked (connection, unsupported feature)
    │   └── StoreBusy          another process holds the project's database file (DuckDB: one writer or many readers)
    ├── UnknownNameError       (also KeyError) an unknown KPI, table, funnel or model, with close matches
    ├── NotFittedError         (also ValueError) an estimator used before ``fit``
    └── PermissionDenied       the current user may not see this

Every message says what went wrong, where, what is allowed, and what to do next.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


class RevalignError(Exception):
    """Base class: every error revalign raises on purpose derives from it."""


class ConfigError(RevalignError):
    """The project configuration is invalid (names the file and key)."""


@dataclass(frozen=True)
class FileContext:
    """Where a definition or a row came from, so messages can point at it."""

    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        if self.file is None:
            return "<unknown>"
        return f"{self.file}:{self.line}" if self.line is not None else self.file


class CatalogError(RevalignError):
    """The KPI catalog is invalid; ``issues`` holds every problem found, not just the first."""

    def __init__(self, message: str, issues: Iterable[object] = ()) -> None:
        self.issues = list(issues)
        super().__init__(message)


class DataError(RevalignError):
    """A row or value breaks a named rule.

    The message always names the file, the 1-based data row (header excluded), the column, the rule and the
    offending value, because that is what a user needs to fix the export.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        rule: str | None = None,
        value: object = None,
    ) -> None:
        self.file, self.row, self.column, self.rule, self.value = file, row, column, rule, value
        where = ", ".join(
            f"{k} {v}" for k, v in (("file", file), ("row", row), ("column", column), ("rule", rule)) if v is not None
        )
        super().__init__(f"{message} ({where})" if where else message)


class SchemaError(DataError):
    """A whole file does not fit its mapping (missing column, wrong delimiter, undecodable bytes, empty file)."""


class EngineError(RevalignError):
    """A backend could not connect or cannot run the requested computation."""


class StoreBusy(EngineError):
    """Another process holds the project's database, and waiting did not help.

    An embedded DuckDB file admits one read-write process or many read-only ones at a time, so a CLI write
    (``revalign ingest``) waits while ``revalign serve`` reads, and the server waits while the CLI writes. When
    the wait runs out this error names the file, the process DuckDB reports as holding the lock (``holder``, or
    ``None`` when DuckDB does not say) and how long it waited, so the user knows what to stop or when to retry.
    """

    def __init__(self, message: str, *, path: str, holder: str | None = None, waited: float = 0.0) -> None:
        self.path, self.holder, self.waited = path, holder, waited
        super().__init__(message)


class UnknownNameError(RevalignError, KeyError):
    """A name (KPI, table, funnel, model, mapping) is not known; suggests the closest known names."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind, self.name = kind, name
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        listing = ", ".join(known[:20]) + (" …" if len(known) > 20 else "")
        self.message = f"Unknown {kind} {name!r}.{hint} Known {kind}s: {listing}."
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would repr() the message otherwise
        return self.message


class NotFittedError(RevalignError, ValueError):
    """An estimator was used before ``fit`` was called."""


class PermissionDenied(RevalignError):
    """The current user's role does not allow this resource."""
