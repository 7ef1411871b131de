"""Rules vs model vs the CRM's current score on the same held-out leads: the scoring page's backtest section.

Marketing and sales argue about the score they already have; the question worth a page is whether the
agreed rules, a calibrated model, or the CRM's ``leads.score`` ranks the leads that later converted higher,
and whether the model's 0.3 means 30 %. :func:`compare_on_cohort` answers it for one time-based split:

- **window** (:func:`backtest_window`): train on leads created before ``split``, test on leads created in
  ``[split, test_end)``, outcomes (became an opportunity) as known at ``as_of``. Defaults come from the data:
  ``as_of`` is the last change recorded in the ledger (the export), ``split`` the first of the month nearest the
  middle of the leads' creation span, ``test_end`` the first of the month nearest three quarters of it (so the
  test cohort had at least a quarter of the span to convert; spans under 180 days use days, not months);
- **model**: :class:`~revalign.analytics.scoring.model.LeadScoreModel` fitted on the train cohort without the
  features the leakage guard refuses by default (``n_sales``, ``n_demo_request``);
- **rules**: the scoring model version's points at each test lead's scoring time (its first MQL moment, or
  ``as_of``): only touches before that moment count, as for the model's features. Fit fields and the
  half-life's age are as of ``as_of``;
- **current**: ``leads.score`` as loaded (the CRM's own score, if it has one; left out when empty).

Metrics, calibration and deciles are :mod:`.backtest`'s; the capacity threshold is :mod:`.threshold`'s.
Everything here is a pure function of the tables, the rule version and the window, so a caller may cache the
result per data version (the server's report cache does).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from revalign.analytics.scoring.backtest import calibration_table, compare_scores, decile_table
from revalign.analytics.scoring.features import FEATURES, TARGET, _first_event, backtest_frames
from revalign.analytics.scoring.leakage import KNOWN_LEAKS
from revalign.analytics.scoring.model import Kind, LeadScoreModel
from revalign.analytics.scoring.rules import score_leads
from revalign.analytics.scoring.threshold import ThresholdAdvice, recommend_threshold
from revalign.definitions.scoring import ScoringModel
from revalign.errors import ConfigError
from revalign.model.access import Tables
from revalign.model.ledger import TableProvider

HONEST_FEATURES = tuple(f for f in FEATURES if f not in KNOWN_LEAKS)
"""The canonical features the leakage guard accepts without an explicit allow."""
SCORES = ("rules", "model", "current")
"""The scores side by side, in the order the page shows them."""
MIN_MONTHS_SPAN = dt.timedelta(days=180)


@dataclass(frozen=True)
class BacktestWindow:
    """Train before ``split``; test on leads created in ``[split, test_end)``; outcomes as known at ``as_of``."""

    split: dt.datetime
    test_end: dt.datetime
    as_of: dt.datetime


@dataclass(frozen=True)
class ScoringBacktest:
    """One backtest of the three scores on the same test cohort (see the module doc)."""

    window: BacktestWindow
    rules_model: str  # "name vN"
    kind: str
    train_leads: int
    test_leads: int
    metrics: pd.DataFrame  # one row per score: n, positives, roc_auc, pr_auc, brier, ece, top_decile_lift
    calibration: pd.DataFrame  # the model's: lower, upper, leads, predicted, observed
    deciles: pd.DataFrame  # the model's: decile, leads, conversions, conversion_rate, lift, cumulative_capture
    bands: pd.DataFrame  # the rules': band, leads, converted, conversion_rate
    threshold: ThresholdAdvice  # on the model's probabilities
    reps: int  # the sales capacity the threshold was advised for
    mqls_per_rep_per_week: float
    sla_hours: float
    predictions: pd.DataFrame  # lead_id, created_at, converted, rules, model, current


def _nearest_month(t: pd.Timestamp) -> dt.datetime:
    first = t.to_period("M").to_timestamp()
    nxt = first + pd.offsets.MonthBegin(1)
    return (first if t - first <= nxt - t else nxt).to_pydatetime()


def backtest_window(
    tables: Tables,
    *,
    split: dt.datetime | None = None,
    test_end: dt.datetime | None = None,
    as_of: dt.datetime | None = None,
) -> BacktestWindow:
    """The window, each part not given taken from the data (see the module doc); refuses one with no cohort."""
    leads, ledger = tables.table("leads"), tables.table("ledger")
    span = tables.to_pandas(leads.aggregate(lo=leads.created_at.min(), hi=leads.created_at.max()))
    lo, hi = span.loc[0, "lo"], span.loc[0, "hi"]
    if pd.isna(lo):
        raise ConfigError("no leads loaded: the backtest needs leads created over time (revalign ingest).")
    if as_of is None:
        last = tables.to_pandas(ledger.aggregate(at=ledger.recorded_at.max())).loc[0, "at"]
        as_of = pd.Timestamp(hi if pd.isna(last) else max(last, hi)).to_pydatetime() + dt.timedelta(microseconds=1)
    hi = min(pd.Timestamp(hi), pd.Timestamp(as_of))
    width = hi - pd.Timestamp(lo)
    snap = _nearest_month if width >= MIN_MONTHS_SPAN else (lambda t: t.floor("D").to_pydatetime())
    if split is None:
        split = snap(pd.Timestamp(lo) + width / 2)
    if test_end is None:
        test_end = snap(pd.Timestamp(lo) + width * 3 / 4)
        if test_end <= split:  # a split chosen late: test on the leads created from it to the end of the data
            test_end = min(pd.Timestamp(hi).to_pydatetime() + dt.timedelta(microseconds=1), as_of)
    elif test_end <= split:
        raise ConfigError(f"test_end {test_end:%Y-%m-%d} must be after the split {split:%Y-%m-%d}.")
    if not (pd.Timestamp(lo) < pd.Timestamp(split) <= hi) or test_end > as_of:
        raise ConfigError(
            f"split {split:%Y-%m-%d} leaves no leads to train or to test on: leads were created from "
            f"{pd.Timestamp(lo):%Y-%m-%d} to {hi:%Y-%m-%d}; choose a day between them (and a test end "
            f"no later than the as-of, {as_of:%Y-%m-%d})."
        )
    return BacktestWindow(split=split, test_end=test_end, as_of=as_of)


def _touches_until_scoring_time(tables: Tables, window: BacktestWindow) -> TableProvider:
    """The canonical tables, with each test lead's touches cut at its scoring time (first MQL, else as-of)."""
    leads = tables.table("leads")
    cohort = leads.filter((leads.created_at >= window.split) & (leads.created_at < window.test_end))
    mql = _first_event(tables, "mql", window.as_of)
    j = cohort.left_join(mql, cohort.lead_id == mql.lead_id)
    as_of = ibis.literal(window.as_of, type="timestamp")
    cut = j.select(cut_lead=cohort.lead_id, cutoff=ibis.greatest(ibis.coalesce(mql.at, as_of), cohort.created_at))

    def provide(name: str) -> ir.Table:
        t = tables.table(name)
        if name != "touchpoints":
            return t
        kept = t.join(cut, t.lead_id == cut.cut_lead)
        return kept.filter(kept.occurred_at < kept.cutoff).select(*t.columns)

    return provide


def rule_scores_at_scoring_time(tables: Tables, rules: ScoringModel, window: BacktestWindow) -> pd.DataFrame:
    """``lead_id``, ``score``, ``band`` of the test cohort under ``rules`` (touches before each scoring time)."""
    scored = score_leads(_touches_until_scoring_time(tables, window), rules, window.as_of)
    leads = tables.table("leads")
    cohort = leads.filter((leads.created_at >= window.split) & (leads.created_at < window.test_end))
    ids = cohort.select(cohort_lead=cohort.lead_id)
    kept = scored.semi_join(ids, scored.lead_id == ids.cohort_lead)
    return tables.to_pandas(kept.select("lead_id", "score", "band"))


def _bands(test: pd.DataFrame, rules: ScoringModel) -> pd.DataFrame:
    """Conversion of the test cohort by the rules' band, highest band first (small: one row per band)."""
    y = test[TARGET].astype(int)
    out = (
        test.assign(_y=y)
        .groupby("band", observed=True)
        .agg(leads=("_y", "size"), converted=("_y", "sum"))
        .reindex(list(rules.bands), fill_value=0)
    )
    out["conversion_rate"] = (out["converted"] / out["leads"]).where(out["leads"] > 0)
    return out.rename_axis("band").reset_index()


def _scores(test: pd.DataFrame) -> dict[str, np.ndarray]:
    """The scores that can be compared: each needs a value for leads of both outcomes."""
    y = test[TARGET].to_numpy(dtype=bool)
    out = {}
    for name in SCORES:
        s = test[name].to_numpy(dtype=float)
        known = ~np.isnan(s)
        if known[y].any() and known[~y].any():
            out[name] = s
    return out


def compare_on_cohort(
    tables: Tables,
    rules: ScoringModel,
    window: BacktestWindow,
    *,
    kind: Kind = "gbm",
    reps: int = 5,
    mqls_per_rep_per_week: float = 40.0,
    sla_hours: float = 24.0,
) -> ScoringBacktest:
    """Fit the model on the train cohort and compare it with the rules and ``leads.score`` on the test cohort."""
    train, test = backtest_frames(tables, split=window.split, test_end=window.test_end, as_of=window.as_of)
    for part, frame in (("train", train), ("test", test)):
        if frame[TARGET].nunique() < 2:
            raise ConfigError(
                f"the {part} cohort of the backtest ({len(frame)} leads) has "
                f"{'no' if not frame[TARGET].any() else 'only'} converted leads: move the split date."
            )
    model = LeadScoreModel(kind).fit(train[list(HONEST_FEATURES)], train[TARGET].astype(int))
    rule = rule_scores_at_scoring_time(tables, rules, window).rename(columns={"score": "rules"})
    test = test.merge(rule, on="lead_id", how="left")
    test = test.assign(model=model.score_leads(test[list(HONEST_FEATURES)]), current=test["current_score"])
    y, p = test[TARGET].to_numpy().astype(int), test["model"].to_numpy()
    return ScoringBacktest(
        window=window,
        rules_model=rules.key,
        kind=kind,
        train_leads=len(train),
        test_leads=len(test),
        metrics=compare_scores(y, _scores(test)),
        calibration=calibration_table(y, p),
        deciles=decile_table(y, p),
        bands=_bands(test, rules),
        threshold=recommend_threshold(
            p, test["created_at"], reps=reps, mqls_per_rep_per_week=mqls_per_rep_per_week, sla_hours=sla_hours
        ),
        reps=reps,
        mqls_per_rep_per_week=mqls_per_rep_per_week,
        sla_hours=sla_hours,
        predictions=test[["lead_id", "created_at", TARGET, *SCORES]].reset_index(drop=True),
    )


__all__ = [
    "HONEST_FEATURES",
    "SCORES",
    "BacktestWindow",
    "ScoringBacktest",
    "backtest_window",
    "compare_on_cohort",
    "rule_scores_at_scoring_time",
]
