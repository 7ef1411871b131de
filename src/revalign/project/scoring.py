"""The façade of lead scoring (docs/scoring.md): rule versions, scores, bands, feedback, drift, export, and the
backtest of rules vs model vs the current score."""

from __future__ import annotations

import datetime as dt

import pandas as pd

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
from revalign.analytics.scoring.comparison import (
    BacktestWindow,
    ScoringBacktest,
    backtest_window,
    compare_on_cohort,
)
from revalign.analytics.scoring.model import Kind
from revalign.definitions.scoring import ScoringModel, pick_model, project_scoring
from revalign.errors import ConfigError
from revalign.project.base import ProjectBase


class ScoringFacade(ProjectBase):
    """Scoring model versions and what they compute over the project's tables."""

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

    def scoring_window(self, *, as_of: dt.date | dt.datetime | None = None) -> BacktestWindow:
        """The data's default backtest window (split, test end, as-of): cheap, no model is fitted."""
        return backtest_window(self.tables, as_of=_moment(as_of))

    def scoring_backtest(
        self,
        model_name: str | None = None,
        version: int | None = None,
        *,
        split: dt.date | dt.datetime | None = None,
        test_end: dt.date | dt.datetime | None = None,
        as_of: dt.date | dt.datetime | None = None,
        kind: Kind = "gbm",
        reps: int = 5,
        mqls_per_rep_per_week: float = 40.0,
        sla_hours: float = 24.0,
    ) -> ScoringBacktest:
        """Rules (version ``version`` of ``model_name``; default the newest) vs a ``kind`` model fitted on the
        leads created before ``split`` vs ``leads.score``, on the leads created in ``[split, test_end)`` with
        outcomes as of ``as_of``. Dates not given come from the data (:func:`backtest_window`); a date means its
        start (midnight) for ``split``/``test_end``. Same tables and arguments, same result: cache it per data
        version."""
        window = backtest_window(self.tables, split=_moment(split), test_end=_moment(test_end), as_of=_moment(as_of))
        rules = self.scoring_model(model_name, version)
        return compare_on_cohort(
            self.tables,
            rules,
            window,
            kind=kind,
            reps=reps,
            mqls_per_rep_per_week=mqls_per_rep_per_week,
            sla_hours=sla_hours,
        )


def _moment(day: dt.date | dt.datetime | None) -> dt.datetime | None:
    """A date as its midnight (the backtest's bounds are "created from"), a moment as given."""
    if day is None or isinstance(day, dt.datetime):
        return day
    return dt.datetime.combine(day, dt.time())
