"""The Python API's entry point: a project folder = settings + engine + canonical tables.

``Project`` is a thin façade: it holds the configuration and the engine and hands canonical tables to the
modules that compute (sources, kpis, analytics). It computes nothing itself, so the CLI, the server and a
notebook all get the same numbers from the same functions.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir

from revalign.engine import Engine, connect
from revalign.model.access import Tables
from revalign.model.tables import CANONICAL_TABLES, canonical_table
from revalign.settings import PROJECT_FILE, Settings, load_settings, resolve_engine_url

if TYPE_CHECKING:
    from revalign.definitions.kpis.catalog import Catalog
    from revalign.kpis.query import KpiQuery


class Project:
    """A revalign project: a folder with ``revalign.yaml``, connected to its engine.

    Pass ``engine`` to reuse an open connection (tests, the server) instead of the configured URL.
    """

    def __init__(self, folder: str | Path = ".", *, engine: Engine | str | None = None) -> None:
        self.folder = Path(folder).resolve()
        self.settings: Settings = load_settings(self.folder)
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
            self._engine = connect(resolve_engine_url(self.settings.engine, self.folder))
        return self._engine

    @cached_property
    def canonical_tables(self) -> tuple[str, ...]:
        return CANONICAL_TABLES

    # -- KPIs: delegates to revalign.kpis --------------------------------------------------------------------------
    @cached_property
    def catalog(self) -> Catalog:
        """The KPI catalog: the default one plus the ``catalog:`` files and folders of revalign.yaml."""
        from revalign.kpis.query import project_catalog

        return project_catalog(self)

    def kpi(self, *names: str) -> KpiQuery:
        """A lazy query for one or more KPIs: ``project.kpi("win_rate").by("segment").grain("quarter")``."""
        from revalign.kpis.query import KpiQuery

        return KpiQuery(self, names, self.catalog)

    def table(self, name: str) -> ir.Table:
        """A canonical table as a lazy Ibis expression; an empty typed table if nothing was loaded yet."""
        spec = canonical_table(name)
        if self.engine.has_table(name):
            return self.engine.table(name)
        import ibis

        return ibis.memtable(spec.schema.to_pyarrow().empty_table())

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    # -- driver tree, scorecards, alignment: delegates to revalign.analytics.{decomposition,scorecard,alignment} --
    def driver_trees(self) -> dict[str, Any]:
        """Driver trees by name: the defaults plus ``<project>/trees/*.yaml``, checked against the catalog."""
        from revalign.analytics.decomposition import project_trees

        return project_trees(self)

    def decompose(
        self,
        root: str | None = None,
        *,
        start: str | None = None,
        end: str | None = None,
        grain: str = "quarter",
        tree: str | None = None,
        method: str = "shapley",
        where: str | None = None,
    ) -> Any:
        """Why ``root`` (default: the north star) moved from ``start`` to ``end``: a ``Decomposition``."""
        from revalign.analytics.decomposition import project_decomposition

        options = {"grain": grain, "tree": tree, "method": method, "where": where}
        return project_decomposition(self, root, start=start, end=end, **options)  # type: ignore[arg-type]

    def scorecard(
        self,
        department: str | None = None,
        *,
        period: str | None = None,
        grain: str = "quarter",
        by: tuple[str, ...] = (),
        trend_periods: int = 4,
        kpis: list[str] | None = None,
    ) -> Any:
        """Actual vs target, status and trend for ``department`` (default: joint) in ``period``: a ``Scorecard``.

        ``kpis`` narrows the card to those KPIs (the server leaves out KPIs that cannot be sliced by ``by``)."""
        from revalign.analytics.scorecard import project_scorecard

        return project_scorecard(
            self, department, period=period, grain=grain, by=by, trend_periods=trend_periods, kpis=kpis
        )

    def alignment(
        self, *, period: str | None = None, grain: str = "quarter", department: str | None = None, card: Any = None
    ) -> Any:
        """Departments winning while the north star loses, in ``period``: an ``Alignment`` of findings."""
        from revalign.analytics.alignment import project_alignment

        return project_alignment(self, period=period, grain=grain, department=department, card=card)

    # -- end of driver tree, scorecards, alignment ----------------------------------------------------------------

    # -- funnels, pipeline, hand-off, channels: delegates to revalign.analytics.{funnel,pipeline,handoff,channels} --
    def funnels(self) -> dict[str, Any]:
        """Funnel specs by name: the defaults plus ``<project>/funnels.yaml`` (a project's own win on a clash)."""
        from revalign.analytics.funnel import default_funnels, load_funnels

        own = self.folder / "funnels.yaml"
        return {**default_funnels(), **(load_funnels(own) if own.exists() else {})}

    def funnel(
        self,
        name: Any = "lead_to_customer",
        *,
        mode: str = "cohort",
        grain: str | None = "month",
        by: tuple[str, ...] = (),
        start: Any = None,
        end: Any = None,
        filters: dict[str, Any] | None = None,
        as_of: Any = None,
    ) -> Any:
        """A funnel (name or ``FunnelSpec``) in ``cohort`` or ``period`` mode: a ``FunnelResult``."""
        from revalign.analytics.funnel import funnel

        options = {"mode": mode, "grain": grain, "by": by, "start": start, "end": end, "filters": filters}
        return funnel(Tables(self.engine), name, **options, as_of=as_of, funnels=self.funnels())

    def stage_velocity(self, *, by: tuple[str, ...] = (), start: Any = None, end: Any = None) -> Any:
        """Days in each opportunity stage and how stays end, from the stage history: a DataFrame."""
        from revalign.analytics.funnel.timing import stage_velocity

        return stage_velocity(Tables(self.engine), by=by, start=start, end=end)

    def pipeline(
        self, *, grain: str | None = "quarter", by: tuple[str, ...] = (), start: Any = None, end: Any = None
    ) -> Any:
        """Pipeline created, won, win rate, deal size and cycle per period: a DataFrame."""
        from revalign.analytics.pipeline import pipeline_summary

        return pipeline_summary(Tables(self.engine), grain=grain, by=by, start=start, end=end)

    def handoff(
        self, *, by: tuple[str, ...] = ("channel",), grain: str | None = None, start: Any = None, end: Any = None
    ) -> Any:
        """MQLs accepted, rejected and untouched by channel or rep: a DataFrame."""
        from revalign.analytics.handoff import handoff

        return handoff(Tables(self.engine), by=by, grain=grain, start=start, end=end)

    def channels(
        self, *, by: tuple[str, ...] = ("channel",), attribution: str = "sourced", start: Any = None, end: Any = None
    ) -> Any:
        """Spend → revenue per channel or campaign, sourced or influenced: a DataFrame."""
        from revalign.analytics.channels import channel_productivity

        return channel_productivity(Tables(self.engine), by=by, attribution=attribution, start=start, end=end)  # type: ignore[arg-type]

    # -- end of funnels, pipeline, hand-off, channels --------------------------------------------------------------

    # -- attribution (owned by analytics/attribution) -------------------------------------------------------------
    def attribution(
        self,
        *,
        conversion: str = "won",
        lookback_days: int = 90,
        by: str = "channel",
        models: Any = None,
        start: Any = None,
        end: Any = None,
    ) -> Any:
        """Every attribution model side by side with spend, ROMI and CAC: a DataFrame (one row per model × key)."""
        from revalign.analytics.attribution import FrozenCredit, attribution_comparison, attribution_settings

        custom = attribution_settings(self.settings.extra.get("attribution"), self.folder).custom_models
        return attribution_comparison(
            Tables(self.engine),
            conversion=conversion,
            lookback_days=lookback_days,
            by=by,
            models=models,
            start=start,
            end=end,
            custom_models=custom,
            frozen=FrozenCredit(self.engine),
        )

    def attribution_model_of_record(self, use: str) -> str:
        """The model declared for ``use`` (budget, compensation, board) in ``extra.attribution``."""
        from revalign.analytics.attribution import attribution_settings, model_of_record

        return model_of_record(attribution_settings(self.settings.extra.get("attribution"), self.folder), use)

    def freeze_attribution(self, period: str, *, start: Any, end: Any, **options: Any) -> Any:
        """Freeze every model's credit for a closed period (later runs reuse it instead of recomputing)."""
        from revalign.analytics.attribution import FrozenCredit, attribution_settings, freeze_period

        custom = attribution_settings(self.settings.extra.get("attribution"), self.folder).custom_models
        return freeze_period(
            Tables(self.engine),
            frozen=FrozenCredit(self.engine),
            period=period,
            start=start,
            end=end,
            custom_models=custom,
            **options,
        )

    # -- end of attribution ---------------------------------------------------------------------------------------


def open_project(folder: str | Path = ".", *, engine: Engine | str | None = None) -> Project:
    """Open the project in ``folder`` (defaults apply when it has no ``revalign.yaml``)."""
    return Project(folder, engine=engine)


def init_project(folder: str | Path, *, engine_url: str = "duckdb:///revalign.duckdb", name: str | None = None) -> Path:
    """Create ``folder/revalign.yaml`` with defaults; refuses to overwrite an existing one."""
    import yaml

    from revalign.errors import ConfigError

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PROJECT_FILE
    if path.exists():
        raise ConfigError(f"{path} already exists; edit it, or choose another folder.")
    settings = Settings(name=name or folder.resolve().name, engine=engine_url)
    path.write_text(yaml.safe_dump(settings.model_dump(exclude_none=True), sort_keys=False), encoding="utf-8")
    return path
