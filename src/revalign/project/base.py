"""The core of the façade: a project folder's settings, its engine and canonical tables, and its definitions.

Every part of :class:`~revalign.project.Project` (``audit``, ``agreements``, ``scoring``, ``facade``) builds on
:class:`ProjectBase`, so each reads the same tables and definitions and hands them down to the analytics.
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from pathlib import Path

import ibis.expr.types as ir

from revalign.analytics.targets import TargetBook, check_project_targets
from revalign.definitions.funnels.loader import default_funnels, load_funnels
from revalign.definitions.funnels.spec import FunnelSpec
from revalign.definitions.issues import Issue, errors
from revalign.definitions.kpis.catalog import Catalog, catalog_for
from revalign.definitions.targets import TargetsError
from revalign.definitions.trees import DriverTree, load_trees
from revalign.engine import Engine, connect
from revalign.kpis.cache import definition_hash
from revalign.kpis.sql_cache import SqlCache
from revalign.model.access import Tables
from revalign.settings import Settings, load_settings, resolve_engine_url

STATE_FOLDER = ".revalign"
"""The project's state folder (the server's state database, the compiled-SQL cache)."""
SQL_CACHE_FILE = "compiled-sql.sqlite"
DEFINITION_SUFFIXES = frozenset({".yaml", ".yml", ".csv", ".json"})
"""Files that hold definitions (catalog, agreements, targets, scoring rules, mappings): their stamps version them."""

DateLike = dt.date | dt.datetime | str | None
"""A period bound the flow analytics accept: a date, a datetime, an ISO string, or ``None`` (open)."""


class ProjectBase:
    """A revalign project: a folder with ``revalign.yaml``, connected to its engine.

    Pass ``engine`` to reuse an open connection (tests) instead of the configured URL. ``read_only=True`` is
    for a process that shares the store with CLI commands (the server): on a DuckDB file the engine then holds
    the file only inside ``engine.session()`` (see docs/server.md); it changes nothing on PostgreSQL or Spark.
    """

    def __init__(
        self, folder: str | Path = ".", *, engine: Engine | str | None = None, read_only: bool = False
    ) -> None:
        self.folder = Path(folder).resolve()
        self.settings: Settings = load_settings(self.folder)
        self.read_only = read_only
        if isinstance(engine, Engine):
            self._engine: Engine | None = engine
        else:
            self._engine = None
            if engine is not None:
                self.settings = self.settings.model_copy(update={"engine": engine})

    def __repr__(self) -> str:
        return f"<Project {self.settings.name!r} at {str(self.folder)!r} on {self.settings.engine!r}>"

    @property
    def engine(self) -> Engine:
        """The connected engine (connects on first use)."""
        if self._engine is None:
            self._engine = connect(
                resolve_engine_url(self.settings.engine, self.folder),
                read_only=self.read_only,
                conf=self.settings.engine_conf,
            )
        return self._engine

    @property
    def tables(self) -> Tables:
        """The canonical tables on the project's engine: what every KPI query and analytic reads."""
        return Tables(self.engine)

    @cached_property
    def sql_cache(self) -> SqlCache:
        """Compiled KPI SQL kept in memory and in ``.revalign/compiled-sql.sqlite`` (the project's state folder),
        so a second command or a restarted server runs its KPI requests without compiling them again."""
        return SqlCache(self.folder / STATE_FOLDER / SQL_CACHE_FILE)

    @property
    def fiscal_year_start_month(self) -> int:
        return self.settings.fiscal_year_start_month

    def table(self, name: str) -> ir.Table:
        """A canonical table as a lazy Ibis expression; an empty typed table if nothing was loaded yet."""
        return self.tables.table(name)

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    # -- definitions ----------------------------------------------------------------------------------------------
    def definitions_fingerprint(self) -> str:
        """A hash of what the analytics read besides the data: the settings and every definition file of the
        folder and of the extra catalog folders (name, size, modification time; read at each call, since
        agreements, targets and scoring rules are read from disk when used). Cached results key on it
        (:mod:`revalign.project.memo`), so editing a definition is never answered with the old result."""
        roots = [self.folder, *(self.folder / p for p in self.settings.catalog)]
        stamps = []
        for root in roots:
            files = [root] if root.is_file() else root.rglob("*") if root.is_dir() else []
            for f in files:
                hidden = any(part.startswith(".") for part in f.relative_to(root).parts) if f != root else False
                if f.suffix in DEFINITION_SUFFIXES and not hidden:
                    stat = f.stat()
                    stamps.append((str(f), stat.st_size, stat.st_mtime_ns))
        return definition_hash(self.settings, sorted(stamps), self._counted_versions())

    def _counted_versions(self) -> object:
        """The agreement versions the numbers count (the agreements façade overrides it: the sign-off)."""
        return None

    @cached_property
    def catalog(self) -> Catalog:
        """The KPI catalog: the default one plus the ``catalog:`` files and folders of revalign.yaml."""
        return catalog_for([self.folder / p for p in self.settings.catalog])

    def driver_trees(self) -> dict[str, DriverTree]:
        """Driver trees by name: the defaults plus ``<project>/trees/`` and ``trees/`` in each catalog folder,
        every name checked against the catalog."""
        folders = [self.folder / "trees"]
        for extra in self.settings.catalog:
            path = Path(extra) if Path(extra).is_absolute() else self.folder / extra
            folders.append(path / "trees")
        return load_trees(folders, known_kpis=list(self.catalog.kpis))

    def funnels(self) -> dict[str, FunnelSpec]:
        """Funnel specs by name: the defaults plus ``<project>/funnels.yaml`` (a project's own win on a clash)."""
        own = self.folder / "funnels.yaml"
        return {**default_funnels(), **(load_funnels(own) if own.exists() else {})}

    def checked_targets(self) -> tuple[TargetBook, list[Issue]]:
        """The project's targets and every problem found in them (nothing raised: a broken row is left out)."""
        s = self.settings
        return check_project_targets(
            self.folder,
            self.catalog,
            fiscal_year_start_month=s.fiscal_year_start_month,
            inline=s.targets,
            target_files=s.target_files,
        )

    def targets(self) -> TargetBook:
        """The project's targets; :class:`~revalign.definitions.targets.TargetsError` listing every error if any."""
        book, issues = self.checked_targets()
        if errors(issues):
            raise TargetsError(errors(issues))
        return book
