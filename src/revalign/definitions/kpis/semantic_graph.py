"""The entity/dimension graph of a catalog: which names a semantic model reaches, and through which joins.

Semantic models are nodes; an entity of one model that is a primary (or unique/natural) entity of another is an
edge to it (foreign → primary, and primary → primary for 1:1 joins). A name used in a filter, an ``expr`` or a
``by`` is found in the model itself first, then through at most :data:`MAX_HOPS` joins, shortest path first
(``opportunity → owner → team``); ``entity__name`` follows that entity first.

The graph is a pure function of the semantic models and the column lists of the tables they read (the
canonical schemas and the views compiled over unbound tables), so the compiler (to build joins), the catalog
(``dimensions_of``), the reference rules and the MetricFlow export all answer "what does this model reach" the
same way, without compiling anything or touching data.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from revalign.definitions.kpis.spec import STANDARD_DIMENSIONS, Kpi, SemanticModel
from revalign.errors import UnknownNameError
from revalign.model.tables import TABLES
from revalign.model.views import VIEWS, table_columns

MAX_HOPS = 2
"""Entity joins a name may be reached through (opportunity → owner → team)."""

ColumnLister = Callable[[str], Collection[str]]
"""Table or view name → its column names."""
OwnTest = Callable[[SemanticModel, str], bool]
"""Whether a name belongs to the model itself (no join needed)."""


@dataclass(frozen=True)
class Route:
    """Where a name lives, seen from a model: in the model itself (``path`` empty) or through entity joins."""

    path: tuple[tuple[str, str], ...]
    """((entity joined on, target semantic model), …) in join order."""
    name: str
    """The name to look up in the last model of the path (the model itself when the path is empty)."""


def canonical_columns(table: str) -> set[str]:
    """Columns of a canonical table or view; an unknown name raises with the known ones."""
    columns = table_columns(table)
    if columns is None:
        raise UnknownNameError("canonical table or view", table, [*TABLES, *VIEWS])
    return columns


def split_prefix(sm: SemanticModel, name: str) -> tuple[str, bool] | None:
    """For ``entity__rest``: (rest, whether the entity is the model's own, i.e. not foreign); None otherwise."""
    if "__" not in name:
        return None
    prefix, rest = name.split("__", 1)
    ent = sm.entity(prefix)
    if ent is None:
        return None
    return rest, ent.type != "foreign"


class SemanticGraph:
    """Reachability over a catalog's semantic models (and, for :meth:`dimensions_of`, its KPIs)."""

    def __init__(
        self,
        semantic_models: Mapping[str, SemanticModel],
        kpis: Mapping[str, Kpi] | None = None,
        columns: ColumnLister = canonical_columns,
    ) -> None:
        """``columns`` lists a table's columns (a compiler passes its bound tables' columns)."""
        self.semantic_models = semantic_models
        self.kpis: Mapping[str, Kpi] = kpis or {}
        self._columns = columns
        self._column_cache: dict[str, Collection[str]] = {}

    def model(self, name: str) -> SemanticModel:
        try:
            return self.semantic_models[name]
        except KeyError:
            raise UnknownNameError("semantic model", name, self.semantic_models) from None

    def columns(self, table: str) -> Collection[str]:
        if table not in self._column_cache:
            self._column_cache[table] = self._columns(table)
        return self._column_cache[table]

    def is_own(self, sm: SemanticModel, name: str) -> bool:
        """A dimension, an entity or a raw column of ``sm`` (``own_entity__name`` too)."""
        if "__" in name:
            prefixed = split_prefix(sm, name)
            return prefixed is not None and prefixed[1] and self.is_own(sm, prefixed[0])
        if sm.dimension(name) or sm.entity(name):
            return True
        return name in self.columns(sm.table)

    def primary_models(self, entity: str, exclude: str) -> list[SemanticModel]:
        """The models (other than ``exclude``) whose rows ``entity`` identifies."""
        return [
            m
            for m in self.semantic_models.values()
            if m.name != exclude and any(e.name == entity for e in m.primary_entities)
        ]

    def route(self, sm: SemanticModel, name: str, hops: int = MAX_HOPS, own: OwnTest | None = None) -> Route | None:
        """Find ``name`` in ``sm`` or through its entities (shortest path first); None when out of reach.

        ``own`` decides what counts as the model's own name (default :meth:`is_own`); the export, which can
        only name dimensions and entities, passes its own test and gets the same search.
        """
        is_own = own or self.is_own
        if is_own(sm, name):
            return Route((), name)
        if hops == 0:
            return None
        if "__" in name:  # entity__dimension: follow that entity first
            prefix, rest = name.split("__", 1)
            if sm.entity(prefix) is not None:
                found = self._via(sm, prefix, rest, hops - 1, is_own)
                if found is not None:
                    return found
        for depth in range(1, hops + 1):
            for ent in sm.entities:
                found = self._via(sm, ent.name, name, depth - 1, is_own)
                if found is not None:
                    return found
        return None

    def _via(self, sm: SemanticModel, entity: str, name: str, hops: int, own: OwnTest) -> Route | None:
        """``name`` reached by joining ``sm`` on ``entity`` to one of the models it identifies."""
        for target in self.primary_models(entity, sm.name):
            found = self.route(target, name, hops, own)
            if found is not None:
                return Route(((entity, target.name), *found.path), found.name)
        return None

    def reachable(self, sm: SemanticModel) -> list[str]:
        """Dimensions of ``sm`` and of the models its foreign entities point at (for error messages)."""
        names = {d.name for d in sm.dimensions}
        for ent in sm.entities:
            if ent.type == "foreign":
                for target in self.primary_models(ent.name, sm.name):
                    names |= {d.name for d in target.dimensions}
        return sorted(names)

    def reachable_categorical(self, sm: SemanticModel, hops: int = MAX_HOPS) -> set[str]:
        """Categorical dimensions of ``sm`` and of every model within ``hops`` joins — declared ones and the
        standard ones (:data:`STANDARD_DIMENSIONS`) its table holds as plain columns, because :meth:`route`
        resolves those too: a KPI that ``--by region`` slices through its owner's team must also be listed as
        sliceable by region, or a sliced scorecard leaves it out while ``kpi eval`` slices it."""
        names = {d.name for d in sm.dimensions if d.type == "categorical"}
        names |= {c for c in STANDARD_DIMENSIONS if c in self.columns(sm.table)}
        if hops:
            for ent in sm.entities:
                for target in self.primary_models(ent.name, sm.name):
                    names |= self.reachable_categorical(target, hops - 1)
        return names

    def joined_dimensions(self, sm: SemanticModel) -> dict[str, str]:
        """Categorical dimensions of other models reached through joins, by the qualified name that selects that
        join (``team__region`` → ``"owner → team"``): what ``--by`` accepts when a plain name would pick another
        column (an opportunity's own ``region`` rather than its owner's team's)."""
        out: dict[str, str] = {}
        frontier: list[tuple[SemanticModel, tuple[str, ...]]] = [(sm, ())]
        for _ in range(MAX_HOPS):
            nxt: list[tuple[SemanticModel, tuple[str, ...]]] = []
            for model, via in frontier:
                for ent in model.entities:
                    if ent.type != "foreign":
                        continue
                    for target in self.primary_models(ent.name, model.name):
                        path = (*via, ent.name)
                        nxt.append((target, path))
                        names = [d.name for d in target.dimensions if d.type == "categorical"]
                        names += [c for c in STANDARD_DIMENSIONS if c in self.columns(target.table)]
                        for dim in dict.fromkeys(names):
                            name = f"{ent.name}__{dim}"
                            if name not in out and self._reaches(sm, name, path):
                                out[name] = " → ".join(path)
            frontier = nxt
        return dict(sorted(out.items()))

    def _reaches(self, sm: SemanticModel, name: str, path: tuple[str, ...]) -> bool:
        """Whether ``name`` seen from ``sm`` is found along the entity ``path`` (not some other join)."""
        route = self.route(sm, name)
        return route is not None and tuple(entity for entity, _ in route.path) == path

    def kpi(self, name: str) -> Kpi:
        try:
            return self.kpis[name]
        except KeyError:
            raise UnknownNameError("KPI", name, self.kpis) from None

    def models_of(self, kpi: Kpi) -> list[str]:
        """The semantic models whose rows ``kpi`` aggregates (its own, or its inputs', depth first)."""
        if kpi.semantic_model:
            return [kpi.semantic_model]
        out: list[str] = []
        for i in kpi.inputs:
            for m in self.models_of(self.kpi(i.name)):
                if m not in out:
                    out.append(m)
        return out

    def dimensions_of(self, kpi: Kpi) -> list[str]:
        """Categorical dimensions ``kpi`` can be sliced by (every semantic model it reads reaches them)."""
        models = self.models_of(kpi)
        if not models:
            return []
        sets = [self.reachable_categorical(self.model(m)) for m in models]
        return sorted(set.intersection(*sets))

    def can_slice(self, kpi: Kpi, dims: Iterable[str]) -> bool:
        """Whether every dimension in ``dims`` is reachable from ``kpi``."""
        reachable = set(self.dimensions_of(kpi))
        return all(d in reachable for d in dims)
