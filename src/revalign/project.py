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
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import ibis.expr.types as ir
import pandas as pd
import yaml

from revalign.analytics.audit.credit import (
    CREDITS,
    DEFAULT_COUNTED,
    MARKETING_KPIS,
    Counted,
    Credit,
    audited_tables,
    credit_comparison,
)
from revalign.analytics.audit.detect import detect
from revalign.analytics.audit.evidence import evidence_rows
from revalign.analytics.audit.findings import HEADLINE_KINDS
from revalign.analytics.audit.rollups import AuditRollups, audit_rollups
from revalign.analytics.channels import channel_productivity
from revalign.analytics.funnel import FunnelResult, funnel
from revalign.analytics.funnel.timing import stage_velocity
from revalign.analytics.governance.alignment import Alignment, evaluate_alignment
from revalign.analytics.governance.decomposition import Decomposition, Method, evaluate_decomposition
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
from revalign.analytics.scoring import (
    ApplyResult,
    ScoringSummary,
    apply_scores,
    score_drift,
    score_export,
    score_leads,
    scoring_runs,
    scoring_summary,
    suggest_changes,
)
from revalign.analytics.sla import data_as_of, sla_breaches, sla_compliance, sla_items
from revalign.analytics.sla.volume import volume_slas
from revalign.analytics.targets import TargetBook, check_project_targets
from revalign.definitions.agreements.loader import (
    EXAMPLE_FILE,
    AgreementBook,
    agreement_files,
    check_agreements,
    example_agreement_text,
)
from revalign.definitions.audit import AuditSettings, audit_settings
from revalign.definitions.funnels.loader import default_funnels, load_funnels
from revalign.definitions.funnels.spec import FunnelSpec
from revalign.definitions.issues import Issue, errors
from revalign.definitions.kpis.catalog import Catalog, catalog_for
from revalign.definitions.scoring import ScoringModel, pick_model, project_scoring
from revalign.definitions.targets import TargetsError
from revalign.definitions.trees import DriverTree, load_trees
from revalign.engine import Engine, connect
from revalign.errors import CatalogError, ConfigError, RevalignError
from revalign.kpis.query import KpiQuery
from revalign.model.access import Tables
from revalign.settings import PROJECT_FILE, Settings, load_settings, resolve_engine_url

if TYPE_CHECKING:  # the annotation only; the package is imported where used (see the attribution methods)
    from revalign.analytics.attribution import AttributionSettings

DateLike = dt.date | dt.datetime | str | None
"""A period bound the flow analytics accept: a date, a datetime, an ISO string, or ``None`` (open)."""


class Project:
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
            self._engine = connect(resolve_engine_url(self.settings.engine, self.folder), read_only=self.read_only)
        return self._engine

    @property
    def tables(self) -> Tables:
        """The canonical tables on the project's engine: what every KPI query and analytic reads."""
        return Tables(self.engine)

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

    # -- KPIs -----------------------------------------------------------------------------------------------------
    def kpi(self, *names: str, credit: Credit = "recorded", decisions: Mapping[str, str] | None = None) -> KpiQuery:
        """A lazy query for one or more KPIs: ``project.kpi("win_rate").by("segment").grain("quarter")``;
        ``credit="audited"``: over the tables as audited (:meth:`credit_tables`)."""
        return KpiQuery(
            self.catalog, self.credit_tables(credit, decisions=decisions), names, self.fiscal_year_start_month
        )

    def latest_period(self, kpi: str, grain: str = "quarter", *, where: str | None = None) -> str:
        """The label of the latest ``grain`` period in which ``kpi`` has a value."""
        fs = self.fiscal_year_start_month
        return latest_period(self.tables, self.catalog, kpi, grain, where=where, fiscal_year_start_month=fs)

    # -- driver tree, scorecards, alignment, plans: revalign.analytics.governance --------------------------------
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

    # -- the agreement and its SLAs (docs/agreements.md) --------------------------------------------------------
    def checked_agreements(self) -> tuple[AgreementBook, list[Issue]]:
        """The agreement versions (``<project>/agreements/*.yaml``, else the shipped example) and every problem,
        SLA KPIs checked against the catalog (nothing raised: a broken version is left out)."""
        files = agreement_files(self.folder)
        texts = [(p.read_text(encoding="utf-8"), str(p)) for p in files] or [(example_agreement_text(), EXAMPLE_FILE)]
        windows = {k.name: (k.window if k.type == "conversion" else None) for k in self.catalog}
        specs, issues = check_agreements(texts, kpi_windows=windows)
        return AgreementBook(tuple(specs)), issues

    def agreements(self) -> AgreementBook:
        """Every version of the project's agreements; raises :class:`CatalogError` listing any error."""
        book, issues = self.checked_agreements()
        if errors(issues):
            bad = errors(issues)
            raise CatalogError(f"{len(bad)} problem(s) in the agreements:\n  " + "\n  ".join(map(str, bad)), bad)
        return book

    def sla_items(
        self, *, agreement: str | None = None, start: DateLike = None, end: DateLike = None, as_of: DateLike = None
    ) -> pd.DataFrame:
        """Every SLA clock started in ``[start, end)`` with its status (met, breached, overdue, at risk, open)."""
        return sla_items(self.tables, self.agreements(), agreement=agreement, start=start, end=end, as_of=as_of)

    def sla_breaches(
        self,
        *,
        agreement: str | None = None,
        slas: Sequence[str] | None = None,
        owner: str | None = None,
        team: str | None = None,
        start: DateLike = None,
        end: DateLike = None,
        as_of: DateLike = None,
    ) -> pd.DataFrame:
        """The breach ledger: one row per closed breach, under the agreement version in force at its start."""
        return sla_breaches(
            self.tables,
            self.agreements(),
            agreement=agreement,
            slas=slas,
            owner=owner,
            team=team,
            start=start,
            end=end,
            as_of=as_of,
        )

    def sla_compliance(
        self,
        *,
        by: Sequence[str] = ("sla",),
        grain: str | None = "month",
        agreement: str | None = None,
        start: DateLike = None,
        end: DateLike = None,
        as_of: DateLike = None,
    ) -> pd.DataFrame:
        """Compliance per SLA (and team or owner) per month: met / (met + breached + overdue)."""
        return sla_compliance(
            self.tables, self.agreements(), by=by, grain=grain, agreement=agreement, start=start, end=end, as_of=as_of
        )

    def sla_volumes(
        self, *, agreement: str | None = None, start: DateLike = None, end: DateLike = None
    ) -> pd.DataFrame:
        """Volume SLAs per month and slice (a catalog KPI against the agreement's minimum): met, breached, open."""
        as_of = data_as_of(self.tables).date()
        lo = pd.Timestamp(start).date() if start is not None else None
        hi = pd.Timestamp(end).date() if end is not None else None
        return volume_slas(
            self.catalog, self.tables, self.agreements(), agreement=agreement, start=lo, end=hi, as_of=as_of
        )

    # -- lead scoring ---------------------------------------------------------------------------------------------
    def scoring_models(self) -> dict[tuple[str, int], ScoringModel]:
        """Every scoring model version of the project (``scoring.yaml``, ``scoring/*.yaml``) by (name, version)."""
        return project_scoring(self.folder)

    def scoring_model(self, name: str | None = None, version: int | None = None) -> ScoringModel:
        """Version ``version`` (default: the newest) of scoring model ``name`` (default: the first by name)."""
        models = self.scoring_models()
        if not models:
            raise ConfigError(
                f"{self.folder} has no scoring model: add scoring/<name>.yaml (see docs/scoring.md; "
                "`revalign demo` ships the simulated company's)."
            )
        return pick_model(models, name or sorted(n for n, _ in models)[0], version)

    def score_leads(self, model: ScoringModel, as_of: dt.date | dt.datetime) -> pd.DataFrame:
        """Every lead's score, band, MQL decision and points per rule under ``model`` as of ``as_of``."""
        return self.tables.to_pandas(score_leads(self.tables, model, as_of))

    def apply_scores(self, model: ScoringModel, as_of: dt.date | dt.datetime) -> ApplyResult:
        """Write the scores as of ``as_of`` to the ``scores`` table (atomically; again: adds nothing)."""
        return apply_scores(self.tables, model, as_of)

    def scoring_summary(self, model: ScoringModel, as_of: dt.date | dt.datetime) -> ScoringSummary:
        """Score distribution, bands vs conversion and sales' feedback under ``model`` as of ``as_of``."""
        return scoring_summary(self.tables, model, as_of)

    def scoring_suggestions(self, model: ScoringModel, as_of: dt.date | dt.datetime) -> pd.DataFrame:
        """Each rule's points scaled down and up, backtested on the leads known at ``as_of``."""
        return suggest_changes(self.tables, model, as_of)

    def scoring_drift(
        self,
        model: ScoringModel,
        *,
        baseline: tuple[dt.date, dt.date],
        current: tuple[dt.date, dt.date],
    ) -> pd.DataFrame:
        """PSI of the score and of each rule and fit field between the leads of two windows."""
        return score_drift(self.tables, model, baseline=baseline, current=current)

    def scoring_runs(self) -> pd.DataFrame:
        """Every run written to the ``scores`` table (model, version, scored_at, leads, MQLs), newest first."""
        return self.tables.to_pandas(scoring_runs(self.tables))

    def score_export(self, model: str, version: int | None = None, crm: str = "generic") -> pd.DataFrame:
        """The latest applied scores of ``model`` with the column headers of ``crm``'s importer."""
        return score_export(self.tables, model, version, crm)

    # -- audit: revalign.analytics.audit ---------------------------------------------------------------------------
    @property
    def audit_settings(self) -> AuditSettings:
        """``audit:`` of revalign.yaml, validated (problems raise ConfigError with file:line)."""
        return audit_settings(self.settings.audit, self.folder / PROJECT_FILE)

    def audit_findings(self, kinds: Iterable[str] | str | None = None, since: DateLike = None) -> pd.DataFrame:
        """Credit-gaming and data-fault findings of ``kinds`` (default all) since ``since`` (docs/audit.md)."""
        return detect(self.tables, self.audit_settings, kinds=kinds, since=since)

    # -- credit as audited, audit roll-ups and evidence: revalign.analytics.audit ---------------------------------
    def credit_tables(
        self,
        credit: Credit = "recorded",
        *,
        decisions: Mapping[str, str] | None = None,
        counted: Counted = DEFAULT_COUNTED,
        findings: pd.DataFrame | None = None,
    ) -> Tables:
        """The tables as recorded, or as audited: the headline findings ``counted`` under ``decisions``
        (finding_id → open / confirmed / dismissed) undone (:mod:`revalign.analytics.audit.credit`).

        ``findings``: every finding of the headline kinds, when the caller has them already (else detected)."""
        if credit == "recorded":
            return self.tables
        if credit != "audited":
            raise ConfigError(f"credit must be one of {', '.join(CREDITS)}. Got {credit!r} instead.")
        found = self.audit_findings(kinds=HEADLINE_KINDS) if findings is None else findings
        return audited_tables(self.tables, found, decisions, counted=counted)

    def credit_comparison(
        self,
        kpis: Iterable[str] = MARKETING_KPIS,
        *,
        start: DateLike = None,
        end: DateLike = None,
        decisions: Mapping[str, str] | None = None,
        counted: Counted = DEFAULT_COUNTED,
        findings: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """``kpi, recorded, audited, difference`` for ``[start, end)``: marketing-sourced revenue as recorded and
        as audited, side by side (``findings``: see :meth:`credit_tables`)."""
        audited = self.credit_tables("audited", decisions=decisions, counted=counted, findings=findings)
        fs = self.fiscal_year_start_month
        return credit_comparison(
            self.tables, audited, self.catalog, kpis, start=start, end=end, fiscal_year_start_month=fs
        )

    def audit_rollups(
        self, findings: pd.DataFrame | None = None, *, decisions: Mapping[str, str] | None = None
    ) -> AuditRollups:
        """Findings (default: every kind) per rep, team, quarter and kind × quarter, dismissed ones left out."""
        found = self.audit_findings() if findings is None else findings
        return audit_rollups(self.tables, found, decisions, fiscal_year_start_month=self.fiscal_year_start_month)

    def audit_evidence(self, findings: pd.DataFrame) -> pd.DataFrame:
        """The ledger rows behind ``findings`` (pass the few being shown): each finding's evidence timeline."""
        return evidence_rows(self.tables, findings)


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
