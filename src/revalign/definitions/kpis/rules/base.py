"""What every catalog rule is: a named check over the whole catalog that returns issues (never raises)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator

from revalign.definitions.issues import Issue, Level
from revalign.definitions.kpis.contents import CatalogContents
from revalign.definitions.kpis.spec import Node
from revalign.definitions.validate import Rule as DefinitionRule


class Rule(DefinitionRule[CatalogContents]):
    """Subclasses set ``name`` and implement :meth:`issues`; :meth:`check` collects them as a list."""

    name = "rule"

    def check(self, subject: CatalogContents) -> list[Issue]:
        return list(self.issues(subject))

    @abstractmethod
    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        """Yield each problem found in ``catalog``."""

    def issue(
        self, node: Node, message: str, *, key: str | None = None, kpi: str | None = None, level: Level = Level.ERROR
    ) -> Issue:
        """An issue located at ``node`` (at the line of ``key`` when given), about KPI ``kpi`` when given."""
        return Issue(level, message, file=node.ctx.file, line=node.line_of(key), subject=kpi, rule=self.name)
