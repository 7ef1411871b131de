"""The Python API's entry point: a project folder = settings + engine + canonical tables + definitions.

``Project`` is a typed façade: it reads the configuration, connects the engine, loads the definitions the
folder holds (the KPI catalog, driver trees, funnels, targets) and hands them, with the canonical
:class:`~revalign.model.access.Tables`, to the modules that compute (kpis, analytics). It computes nothing
itself, so the CLI, the server and a notebook all get the same numbers from the same functions. It sits above
the analytics and is never handed down into them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pandas as pd
import yaml

from revalign.analytics.audit.credit import (
    Credit,
)
from revalign.analytics.channels import channel_productivity
from revalign.analytics.funnel import FunnelResult, funnel
from revalign.analytics.funnel.timing import stage_velocity
from revalign.analytics.governance.alignment import Alignment, evaluate_alignment
from revalign.analytics.governance.decomposition import Decomposition, Method, evaluate_decomposition
from revalign.analytics.governance.kpi_tree import kpi_tree
from revalign.analytics.governance.planning import (
    DEFAULT_GROWTH,
    DEFAULT_POINTS,
    PlanRule,
    TargetPlan,
    evaluate_plan,
)
from revalign.analytics.governance.scorecard import (
    DEFAULT_RULE,
    Scorecard,
    StatusRule,
    evaluate_scorecard,
    latest_period,
)
from revalign.analytics.handoff import handoff
from revalign.analytics.pipeline import pipeline_summary
from revalign.definitions.funnels.spec import FunnelSpec
from revalign.engine import Engine
from revalign.errors import ConfigError, RevalignError
from revalign.kpis.query import KpiQuery
from revalign.kpis.store_refresh import StoreReport, refresh_store
from revalign.project.agreements import AgreementFacade
from revalign.project.audit import AuditFacade
from revalign.project.base import DateLike, ProjectBase
from revalign.project.comp import CompFacade
from revalign.project.comp_compare import CompareFacade
from revalign.project.forecast import ForecastFacade
from revalign.project.memo import per_data_version
from revalign.project.planner import PlannerFacade
from revalign.project.scoring import ScoringFacade
from revalign.project.writeback import WritebackFacade
from revalign.settings import PROJECT_FILE, Settings

if TYPE_CHECKING:  # the annotation only; the package is imported where used (see the attribution methods)
    from revalign.analytics.attribution import AttributionSettings


class Project(
    WritebackFacade,
    CompareFacade,
    CompFacade,
    AuditFacade,
    AgreementFacade,
    ScoringFacade,
    ForecastFacade,
    PlannerFacade,
    ProjectBase,
):
    """A revalign project: a folder with ``revalign.yaml``, connected to its engine, and one method per analytic.

    The definitions and the engine are :class:`~revalign.project.base.ProjectBase`'s; the audit, the agreement
    and lead scoring have a module each (:mod:`.audit`, :mod:`.agreements`, :mod:`.scoring`).
    """

    # -- KPIs -----------------------------------------------------------------------------------------------------
    def kpi(self, *names: str, credit: Credit = "recorded", decisions: Mapping[str, str] | None = None) -> KpiQuery:
        """A lazy query for one or more KPIs: ``project.kpi("win_rate").by("segment").grain("quarter")``;
        ``credit="audited"``: over the tables as audited (:meth:`credit_tables`)."""
        tables = self.credit_tables(credit, decisions=decisions)
        return KpiQuery(self.catalog, tables, names, self.fiscal_year_start_month, sql_cache=self.sql_cache)

    def refresh_kpi_store(self) -> StoreReport:
        """Materialise every KPI × stored grain × standard slice for the current data (:mod:`revalign.kpis.store`)."""
        return refresh_store(self.tables, self.catalog, fiscal_year_start_month=self.fiscal_year_start_month)

    def latest_period(self, kpi: str, grain: str = "quarter", *, where: str | None = None) -> str:
        """The label of the latest ``grain`` period in which ``kpi`` has a value."""
        fs = self.fiscal_year_start_month
        return latest_period(self.tables, self.catalog, kpi, grain, where=where, fiscal_year_start_month=fs)

    # -- driver tree, scorecards, alignment, plans: revalign.analytics.governance --------------------------------
    @per_data_version
    def decompose(
        self,
        root: str | None = None,
        *,
        start: str | None = None,
        end: str | None = None,
        grain: str = "quarter",
        tree: str | None = None,
        method: Method = "shapley",
        where: str | None = None,
    ) -> Decomposition:
        """Why ``root`` (default: the north star) moved from ``start`` to ``end``, driver by driver."""
        return evaluate_decomposition(
            self.tables,
            self.catalog,
            self.driver_trees(),
            root,
            start=start,
            end=end,
            grain=grain,
            tree=tree,
            method=method,
            where=where,
            fiscal_year_start_month=self.fiscal_year_start_month,
        )

    def scorecard(
        self,
        department: str | None = None,
        *,
        period: str | None = None,
        grain: str = "quarter",
        by: tuple[str, ...] = (),
        trend_periods: int = 4,
        kpis: Iterable[str] | None = None,
        rule: StatusRule = DEFAULT_RULE,
    ) -> Scorecard:
        """Actual vs target, status and trend for ``department`` (default: joint) in ``period``.

        A broken row in the project's target files is left out and named in ``Scorecard.notices``.
        """
        book, issues = self.checked_targets()
        return evaluate_scorecard(
            self.tables,
            self.catalog,
            book,
            department,
            period=period,
            grain=grain,
            by=by,
            trend_periods=trend_periods,
            kpis=kpis,
            rule=rule,
            target_issues=issues,
            fiscal_year_start_month=self.fiscal_year_start_month,
        )

    def kpi_tree(
        self,
        *,
        period: str | None = None,
        grain: str = "quarter",
        segment: str | None = None,
        card: Scorecard | None = None,
    ) -> pd.DataFrame:
        """Every KPI under its catalog parent, with its status on the joint scorecard (``card``, else evaluated
        for ``period``/``grain``/``segment``) and its contribution to the north star's change into that period.
        Without a decomposition (no earlier period) the contributions are empty, the tree is still whole."""
        if card is None:
            card = self.scorecard(period=period, grain=grain, by=("segment",) if segment else ())
        condition = f"segment = '{segment}'" if segment else None
        try:
            dec: Decomposition | None = self.decompose(end=card.period, grain=card.grain, where=condition)
        except RevalignError:
            dec = None
        return kpi_tree(card, dec, where={"segment": segment} if segment else None)

    def alignment(
        self,
        *,
        period: str | None = None,
        grain: str = "quarter",
        department: str | None = None,
        card: Scorecard | None = None,
        tree: str | None = None,
    ) -> Alignment:
        """Departments winning while the north star loses, in ``period``: an ``Alignment`` of findings, ranked by
        revenue impact (each driver's contribution to the north star's change in that period)."""
        book, issues = self.checked_targets()
        label = period or (card.period if card is not None else None)
        return evaluate_alignment(
            self.tables,
            self.catalog,
            self.driver_trees(),
            book,
            period=period,
            grain=grain,
            department=department,
            tree=tree,
            card=card,
            target_issues=issues,
            fiscal_year_start_month=self.fiscal_year_start_month,
            impact=self._impact(label, grain),
            currency=self.settings.currency,
        )

    def _impact(self, period: str | None, grain: str) -> dict[str, float]:
        """KPI → its contribution to the north star's change into ``period`` (default: the latest), from the
        north star's driver tree; empty when there is no tree or no value to explain."""
        try:
            end = period or self.latest_period(self.catalog.north_star, grain)
            dec = self.decompose(end=end, grain=grain)
        except (RevalignError, ValueError):
            return {}
        return {r.kpi: r.contribution for r in dec.rows if r.contribution is not None}

    def plan(
        self,
        year: str | int,
        *,
        grain: str = "quarter",
        by: Sequence[str] = (),
        kpis: Iterable[str] | None = None,
        department: str | None = None,
        growth: float = DEFAULT_GROWTH,
        points: float = DEFAULT_POINTS,
        overrides: Mapping[str, PlanRule | float | str] | None = None,
    ) -> TargetPlan:
        """Propose ``year``'s targets from last year's actuals, checked against the north star's driver tree."""
        return evaluate_plan(
            self.tables,
            self.catalog,
            self.driver_trees(),
            year,
            grain=grain,
            by=by,
            kpis=kpis,
            department=department,
            growth=growth,
            points=points,
            overrides=overrides,
            fiscal_year_start_month=self.fiscal_year_start_month,
        )

    # -- funnels, pipeline, hand-off, channels: revalign.analytics.{funnel,pipeline,handoff,channels} -------------
    def funnel(
        self,
        name: FunnelSpec | str = "lead_to_customer",
        *,
        mode: Literal["cohort", "period"] = "cohort",
        grain: str | None = "month",
        by: tuple[str, ...] = (),
        start: DateLike = None,
        end: DateLike = None,
        filters: Mapping[str, object] | None = None,
        as_of: DateLike = None,
    ) -> FunnelResult:
        """A funnel (name or ``FunnelSpec``) in ``cohort`` or ``period`` mode."""
        return funnel(
            self.tables,
            name,
            mode=mode,
            grain=grain,
            by=by,
            start=start,
            end=end,
            filters=filters,
            as_of=as_of,
            funnels=self.funnels(),
        )

    def stage_velocity(self, *, by: tuple[str, ...] = (), start: DateLike = None, end: DateLike = None) -> pd.DataFrame:
        """Days in each opportunity stage and how stays end, from the stage history."""
        return stage_velocity(self.tables, by=by, start=start, end=end)

    def pipeline(
        self, *, grain: str | None = "quarter", by: tuple[str, ...] = (), start: DateLike = None, end: DateLike = None
    ) -> pd.DataFrame:
        """Pipeline created, won, win rate, deal size and cycle per period."""
        return pipeline_summary(self.tables, grain=grain, by=by, start=start, end=end)

    def handoff(
        self,
        *,
        by: tuple[str, ...] = ("channel",),
        grain: str | None = None,
        start: DateLike = None,
        end: DateLike = None,
    ) -> pd.DataFrame:
        """MQLs accepted, rejected and untouched by channel or rep."""
        return handoff(self.tables, by=by, grain=grain, start=start, end=end)

    def channels(
        self,
        *,
        by: tuple[str, ...] = ("channel",),
        attribution: Literal["sourced", "influenced"] = "sourced",
        start: DateLike = None,
        end: DateLike = None,
        credit: Credit = "recorded",
        decisions: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """Spend → revenue per channel or campaign, sourced or influenced, as recorded or as audited."""
        tables = self.credit_tables(credit, decisions=decisions)
        return channel_productivity(tables, by=by, attribution=attribution, start=start, end=end)

    # -- attribution: revalign.analytics.attribution ---------------------------------------------------------------
    # Imported where used, on purpose: attribution loads scikit-learn and SciPy (about 70 MiB and 1.2 s), which
    # every other use of a project (a KPI query, the CLI, a scorecard) should not pay for. No cycle is involved.
    @property
    def attribution_settings(self) -> AttributionSettings:
        """``extra.attribution`` of revalign.yaml: models of record and custom rule models (read on each call)."""
        from revalign.analytics.attribution import attribution_settings

        return attribution_settings(self.settings.extra.get("attribution"), self.folder)

    def attribution(
        self,
        *,
        conversion: str = "won",
        lookback_days: int = 90,
        by: str = "channel",
        models: Sequence[str] | None = None,
        start: DateLike = None,
        end: DateLike = None,
        credit: Credit = "recorded",
        decisions: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """Every attribution model side by side with spend, ROMI and CAC (one row per model × key).

        Periods frozen with :meth:`freeze_attribution` are read back instead of recomputed (as recorded only:
        credit as audited is always computed, since a reviewer's decision changes it).
        """
        from revalign.analytics.attribution import FrozenCredit, attribution_comparison

        return attribution_comparison(
            self.credit_tables(credit, decisions=decisions),
            conversion=conversion,
            lookback_days=lookback_days,
            by=by,
            models=models,
            start=start,
            end=end,
            custom_models=self.attribution_settings.custom_models,
            frozen=FrozenCredit(self.engine) if credit == "recorded" else None,
        )

    def attribution_model_of_record(self, use: str) -> str:
        """The model declared for ``use`` (budget, compensation, board) in ``extra.attribution``."""
        from revalign.analytics.attribution import model_of_record

        return model_of_record(self.attribution_settings, use)

    def freeze_attribution(
        self,
        period: str,
        *,
        start: dt.date | dt.datetime | str,
        end: dt.date | dt.datetime | str,
        conversion: str = "won",
        lookback_days: int = 90,
        by: str = "channel",
        models: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Freeze every model's credit for a closed period (later runs reuse it instead of recomputing)."""
        from revalign.analytics.attribution import FrozenCredit, freeze_period

        return freeze_period(
            self.tables,
            frozen=FrozenCredit(self.engine),
            period=period,
            start=start,
            end=end,
            conversion=conversion,
            lookback_days=lookback_days,
            by=by,
            models=models,
            custom_models=self.attribution_settings.custom_models,
        )


def open_project(folder: str | Path = ".", *, engine: Engine | str | None = None, read_only: bool = False) -> Project:
    """Open the project in ``folder`` (defaults apply when it has no ``revalign.yaml``); ``read_only``: see
    :class:`Project`."""
    return Project(folder, engine=engine, read_only=read_only)


def init_project(folder: str | Path, *, engine_url: str = "duckdb:///revalign.duckdb", name: str | None = None) -> Path:
    """Create ``folder/revalign.yaml`` with defaults; refuses to overwrite an existing one."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PROJECT_FILE
    if path.exists():
        raise ConfigError(f"{path} already exists; edit it, or choose another folder.")
    settings = Settings(name=name or folder.resolve().name, engine=engine_url)
    path.write_text(yaml.safe_dump(settings.model_dump(exclude_none=True), sort_keys=False), encoding="utf-8")
    return path
