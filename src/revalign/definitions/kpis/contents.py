"""What a loaded catalog holds, before any question is asked of it: the part the validation rules read.

It sits apart from :class:`~revalign.definitions.kpis.catalog.Catalog` so that the rules can be typed against
it without importing the catalog, which runs them (no import cycle).
"""

from __future__ import annotations

from typing import Any

from revalign.definitions.issues import Issue
from revalign.definitions.kpis.loader import RawCatalog
from revalign.definitions.kpis.spec import Kpi, Node, Person, ScorecardTemplate, SemanticModel


class CatalogContents:
    """Semantic models, KPIs, people and scorecards by name, plus the load problems and duplicate names."""

    def __init__(self, raw: RawCatalog) -> None:
        self.load_issues: list[Issue] = list(raw.issues)
        self.files = list(raw.files)
        self.semantic_models: dict[str, SemanticModel] = {}
        self.kpis: dict[str, Kpi] = {}
        self.people: dict[str, Person] = {}
        self.scorecards: dict[str, ScorecardTemplate] = {}
        self.duplicates: list[tuple[str, Node]] = []
        for kind, items, key in (
            ("semantic model", raw.semantic_models, "name"),
            ("KPI", raw.kpis, "name"),
            ("person", raw.people, "id"),
            ("scorecard", raw.scorecards, "name"),
        ):
            sections: dict[str, dict[str, Any]] = {
                "semantic model": self.semantic_models,
                "KPI": self.kpis,
                "person": self.people,
                "scorecard": self.scorecards,
            }
            target = sections[kind]
            for item in items:
                name = getattr(item, key)
                if name in target:
                    # later files override earlier ones on purpose (project extras), but the same file
                    # defining a name twice is a mistake the duplicate-name rule reports
                    self.duplicates.append((kind, item))
                target[name] = item
