"""Validation issues: what is wrong, how badly, and exactly where (file, line, KPI)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Level(enum.IntEnum):
    """How serious an issue is. ``FUTURE_ERROR`` is accepted today and carries the date it becomes an ERROR."""

    WARNING = 1
    FUTURE_ERROR = 2
    ERROR = 3


@dataclass(frozen=True)
class Issue:
    """One problem in the catalog, as ``revalign check`` prints it."""

    level: Level
    message: str
    file: str | None = None
    line: int | None = None
    kpi: str | None = None
    rule: str | None = None
    removal_date: str | None = None

    @property
    def where(self) -> str:
        loc = self.file or "<catalog>"
        if self.line is not None:
            loc += f":{self.line}"
        return loc

    def __str__(self) -> str:
        who = f" [{self.kpi}]" if self.kpi else ""
        rule = f" ({self.rule})" if self.rule else ""
        return f"{self.level.name} {self.where}{who}: {self.message}{rule}"

    def as_dict(self) -> dict[str, object]:
        return {
            "level": self.level.name,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "kpi": self.kpi,
            "rule": self.rule,
        }
