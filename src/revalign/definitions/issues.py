"""The one issue type for every definition kind: what is wrong, how badly, and exactly where.

KPI catalog files, driver trees, funnels, targets and source mappings all report their problems as
:class:`Issue`, so ``revalign check``, ``GET /api/v1/checks`` and the error messages list them the same way:
the file and the line (YAML) or the row and column (CSV), the definition at fault (``subject``), the rule and
the message. ``kind`` says what ``subject`` names.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

Kind = Literal[
    "kpi", "tree", "funnel", "target", "mapping", "agreement", "scoring", "audit", "alert", "comp_plan", "writeback"
]
"""What an issue's ``subject`` names: a KPI (catalog), a driver tree, a funnel, a target's KPI, a mapping, an
agreement version, a scoring model version, the audit's settings, an alert rule, a comp plan version, the
write-back settings."""


class Level(enum.IntEnum):
    """How serious an issue is. ``FUTURE_ERROR`` is accepted today and carries the date it becomes an ERROR."""

    WARNING = 1
    FUTURE_ERROR = 2
    ERROR = 3


@dataclass(frozen=True)
class Issue:
    """One problem in a definition file, as ``revalign check`` prints it.

    ``row``/``column`` locate a cell of a CSV file (rows count from 1 after the header, 0 is the header) where
    ``line`` locates a YAML node. ``path`` is the dotted place inside the file of a schema error (``bad.order``,
    ``targets.0.columns.created_at``) for kinds whose messages have always been written that way.
    """

    level: Level
    message: str
    file: str | None = None
    line: int | None = None
    subject: str | None = None
    rule: str | None = None
    removal_date: str | None = None
    kind: Kind = "kpi"
    row: int | None = None
    column: str | None = None
    path: str | None = None

    @property
    def kpi(self) -> str | None:
        """The KPI at fault, for issues of the catalog and of targets (``None`` for other kinds)."""
        return self.subject if self.kind in ("kpi", "target") else None

    @property
    def where(self) -> str:
        """``file:line``, or ``file row N, column C`` for a CSV cell."""
        loc = self.file or "<catalog>"
        if self.row is not None:
            return f"{loc} row {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{loc}:{self.line}" if self.line is not None else loc

    def __str__(self) -> str:
        lead = "" if self.level == Level.ERROR else f"{self.level.name} "
        if self.path is not None:
            return f"{lead}{self.where}: {self.path}: {self.message}"
        who = f" [{self.subject}]" if self.subject else ""
        rule = f" ({self.rule})" if self.rule else ""
        return f"{lead}{self.where}{who}{rule}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        """Every field, JSON-safe (``level`` by name), and ``kpi`` (see :attr:`kpi`)."""
        return {**asdict(self), "level": self.level.name, "kpi": self.kpi}


def sort_issues(issues: Iterable[Issue]) -> list[Issue]:
    """Most severe first, then by file and line (or row): the order every listing uses."""
    return sorted(issues, key=lambda i: (-int(i.level), i.file or "", i.line or 0, i.row or 0, i.subject or ""))


def errors(issues: Iterable[Issue]) -> list[Issue]:
    """Only the issues that stop a definition from being used."""
    return [i for i in issues if i.level == Level.ERROR]


__all__ = ["Issue", "Kind", "Level", "errors", "sort_issues"]


def problems(issues: Sequence[Issue], where: str, count: int | None = None) -> str:
    """``N problem(s) in WHERE:`` then one indented line per issue: the message every definition kind raises with.

    One wording for all of them, so a user who has read one error knows how to read the next; ``count`` is
    what the headline counts when it is not every listed issue (alert files list warnings beside their errors).
    """
    n = len(issues) if count is None else count
    return f"{n} problem(s) in {where}:\n  " + "\n  ".join(map(str, issues))
