"""The loaded catalog: semantic models, KPIs, owners and scorecard templates, checked as a whole."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

from revalign.definitions.issues import Issue, Level
from revalign.definitions.kpis.contents import CatalogContents
from revalign.definitions.kpis.loader import DEFAULT_CATALOG_DIR, load_raw
from revalign.definitions.kpis.semantic_graph import SemanticGraph
from revalign.definitions.kpis.spec import Kpi, ScorecardTemplate, SemanticModel
from revalign.definitions.kpis.validate import validate
from revalign.errors import CatalogError, UnknownNameError
from revalign.model.views import source_tables


class Catalog(CatalogContents):
    """Every KPI definition a project knows, with the driver tree that ties them to the north star.

    Build one with :func:`load_catalog` or :func:`default_catalog`; ``validate()`` returns every issue,
    ``check()`` raises :class:`CatalogError` when any is an ERROR.
    """

    def __repr__(self) -> str:
        return f"<Catalog {len(self.kpis)} KPIs, {len(self.semantic_models)} semantic models>"

    # -- lookup -------------------------------------------------------------------------------------------------
    def get(self, name: str) -> Kpi:
        """The KPI called ``name``; an unknown name gets the closest known names."""
        try:
            return self.kpis[name]
        except KeyError:
            raise UnknownNameError("KPI", name, self.kpis) from None

    def __contains__(self, name: object) -> bool:
        return name in self.kpis

    def __iter__(self) -> Iterator[Kpi]:
        return iter(self.kpis.values())

    def semantic_model(self, name: str) -> SemanticModel:
        try:
            return self.semantic_models[name]
        except KeyError:
            raise UnknownNameError("semantic model", name, self.semantic_models) from None

    def scorecard(self, name: str) -> ScorecardTemplate:
        try:
            return self.scorecards[name]
        except KeyError:
            raise UnknownNameError("scorecard", name, self.scorecards) from None

    # -- the driver tree ----------------------------------------------------------------------------------------
    @property
    def north_star(self) -> str:
        """The name of the one north-star KPI."""
        stars = [k.name for k in self.kpis.values() if k.north_star]
        if len(stars) != 1:
            raise CatalogError(f"the catalog must have exactly one north-star KPI; found {stars or 'none'}.")
        return stars[0]

    def tree_edges(self) -> list[tuple[str, str]]:
        """(child, parent) for every KPI with a parent, in catalog order."""
        return [(k.name, k.parent) for k in self.kpis.values() if k.parent]

    def children(self, name: str) -> list[str]:
        return [c for c, p in self.tree_edges() if p == name]

    def ancestors(self, name: str) -> list[str]:
        """The parent chain of ``name`` up to the root (stops on a cycle)."""
        out: list[str] = []
        cur = self.kpis.get(name)
        while cur is not None and cur.parent and cur.parent not in out and cur.parent != name:
            out.append(cur.parent)
            cur = self.kpis.get(cur.parent)
        return out

    def dependencies(self, name: str) -> list[str]:
        """KPIs ``name`` is computed from, directly or not (depth first, no repeats)."""
        out: list[str] = []

        def walk(n: str) -> None:
            kpi = self.kpis.get(n)
            if kpi is None:
                return
            for i in kpi.inputs:
                if i.name not in out and i.name != name:
                    out.append(i.name)
                    walk(i.name)

        walk(name)
        return out

    def dimensions_of(self, name: str) -> list[str]:
        """Categorical dimensions ``name`` can be sliced by (every semantic model it reads reaches them)."""
        return SemanticGraph(self.semantic_models, self.kpis).dimensions_of(self.get(name))

    def joined_dimensions_of(self, name: str) -> dict[str, str]:
        """Dimensions KPI ``name`` reaches through joins, by qualified name → the join path (``kpi show`` lists
        them): those every semantic model the KPI reads reaches the same way."""
        graph = SemanticGraph(self.semantic_models, self.kpis)
        models = graph.models_of(self.get(name))
        found = [graph.joined_dimensions(self.semantic_model(m)) for m in models]
        if not found:
            return {}
        common = set.intersection(*(set(f.items()) for f in found))
        return dict(sorted(common))

    def tables_of(self, name: str) -> list[str]:
        """The canonical tables KPI ``name`` reads rows from (its models' tables, and the tables behind views).

        A KPI whose table was never loaded has no value; it is not zero (CAC with no spend loaded is unknown).
        """
        models = SemanticGraph(self.semantic_models, self.kpis).models_of(self.get(name))
        return sorted({t for m in models for t in source_tables(self.semantic_model(m).table)})

    def can_slice(self, name: str, dims: Iterable[str]) -> bool:
        """Whether every dimension in ``dims`` is reachable from KPI ``name``."""
        return SemanticGraph(self.semantic_models, self.kpis).can_slice(self.get(name), dims)

    def by_department(self, department: str) -> list[Kpi]:
        return [k for k in self.kpis.values() if k.department == department]

    # -- validation ---------------------------------------------------------------------------------------------
    def validate(self) -> list[Issue]:
        """Every problem in the catalog (load problems first, then each rule's findings)."""
        return validate(self)

    def check(self) -> Catalog:
        """Raise :class:`CatalogError` listing every ERROR; warnings pass. Returns ``self`` for chaining."""
        issues = self.validate()
        errors = [i for i in issues if i.level == Level.ERROR]
        if errors:
            lines = "\n".join(f"  {i}" for i in errors)
            raise CatalogError(
                f"the KPI catalog has {len(errors)} error(s); fix them and run `revalign check`:\n{lines}", issues
            )
        return self


def load_catalog(*paths: str | Path, include_default: bool = True) -> Catalog:
    """Load the default catalog (unless ``include_default=False``) plus extra YAML files or folders.

    Extras load after the default, so a project can redefine a default KPI by name.
    """
    sources: list[str | Path] = [DEFAULT_CATALOG_DIR] if include_default else []
    sources.extend(paths)
    return Catalog(load_raw(sources))


@cache
def _default() -> Catalog:
    return load_catalog()


def default_catalog() -> Catalog:
    """The shipped catalog (loaded once per process; do not mutate it)."""
    return _default()


def catalog_for(paths: Iterable[str | Path]) -> Catalog:
    paths = list(paths)
    return load_catalog(*paths) if paths else default_catalog()
