"""The predictive lead score's feature matrix, built on the engine as of a cut-off (no look-ahead).

One row per lead, a few dozen columns: the only thing that reaches pandas. Every input is filtered to what
was known when the lead is scored, so a backtest that trains "as of" a date never reads the future:

- the **as-of** ``as_of``: leads created before it, ledger events and touches that occurred before it;
- each lead's **scoring time** ``cutoff = min(first MQL time, as_of)``: a lead is scored when it becomes an
  MQL (the moment sales decides whether to work it), or at the as-of if it never did (never before its own
  creation: a CRM that records an MQL before the lead was created scores it at creation). Touches count only
  before the cutoff, so nothing that happens after the hand-off (sales meetings, nurture emails after
  conversion) can leak into the features.

Columns: ``lead_id``, ``created_at``, ``cutoff``, ``latest_input_at`` (the latest input time any feature read;
the leakage guard checks it is not after ``cutoff``), firmographics (``segment``, ``region``, ``industry``,
``lead_source``; the account's ``employees``, ``employee_growth`` and ``tech_fit``), the person's ``job_level``
and ``job_function``, engagement counts (``n_marketing`` marketing touches other than demo requests, ``n_sales``,
``n_demo_request``, and one ``n_<channel>`` per canonical channel counting the marketing
touches), ``engaged_days`` (first to last touch before the cutoff),
``account_prior_opportunities`` (other leads of the same account that became opportunities before the
cutoff), the CRM's ``current_score`` (``leads.score``, not a feature: for the side-by-side comparison) and the
label ``converted`` (the lead became an opportunity before ``as_of``).

``n_sales`` and ``n_demo_request`` are built on purpose and the leakage guard refuses them by default: a
demo request is the MQL trigger and precedes almost every opportunity, and sales touches begin at the
hand-off, so both encode the outcome rather than predict it (see :mod:`revalign.analytics.scoring.leakage`).
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.scoring.leakage import check_cutoff, guard
from revalign.model.access import Tables
from revalign.model.tables import CHANNELS

CATEGORICAL = ("segment", "region", "industry", "lead_source", "tech_fit", "job_level", "job_function")
"""Categorical features (one-hot or native categories in the model)."""

TOUCH_CHANNELS = tuple(c for c in CHANNELS if c != "unknown")
"""Channels counted one column each (``n_<channel>``); ``unknown`` touches count only in ``n_marketing``."""

NUMERIC = (
    "n_marketing",
    "n_sales",
    "n_demo_request",
    *(f"n_{c}" for c in TOUCH_CHANNELS),
    "engaged_days",
    "account_prior_opportunities",
    "employees",
    "employee_growth",
)
"""Numeric features, in column order."""

FEATURES = CATEGORICAL + NUMERIC
TARGET = "converted"
LABEL_EVENT = "opportunity"
"""The outcome: the lead's lifecycle reached ``opportunity`` (the simulator's conversion, MQL → pipeline)."""


def _first_event(tables: Tables, name: str, as_of: dt.datetime) -> ir.Table:
    """The first time each lead entered lifecycle stage ``name`` before ``as_of``."""
    ledger = tables.table("ledger")
    events = ledger.filter(
        (ledger.kind == "lifecycle")
        & (ledger.entity_type == "lead")
        & (ledger.name == name)
        & (ledger.occurred_at < as_of)
    )
    return events.group_by(lead_id=events.entity_id).aggregate(at=events.occurred_at.min())


def _column_or_null(table: ir.Table, name: str, dtype: str) -> ir.Value:
    """Column ``name``, or a typed null when the table was loaded before the canonical model had it (a project
    ingested by an older revalign keeps working; the feature is then missing, and the model imputes it)."""
    return table[name] if name in table.columns else ibis.null(dtype)


def _scored_leads(
    tables: Tables, as_of: dt.datetime, created_from: dt.datetime | None, created_before: dt.datetime | None
) -> ir.Table:
    """Leads in the window with their firmographics, scoring time (cutoff) and label."""
    leads = tables.table("leads")
    keep = leads.created_at < as_of
    if created_from is not None:
        keep &= leads.created_at >= created_from
    if created_before is not None:
        keep &= leads.created_at < created_before
    leads = leads.filter(keep)
    acc = tables.table("accounts")
    accounts = acc.select(
        firm_id=acc.account_id,
        employees=acc.employees,
        employee_growth=_column_or_null(acc, "employee_growth", "float64"),
        tech_fit=_column_or_null(acc, "tech_fit", "string"),
    )
    people = leads.mutate(
        job_level=_column_or_null(leads, "job_level", "string"),
        job_function=_column_or_null(leads, "job_function", "string"),
    )
    leads = people.left_join(accounts, people.account_id == accounts.firm_id).drop("firm_id")
    mql = _first_event(tables, "mql", as_of)
    opp = _first_event(tables, LABEL_EVENT, as_of).rename(opp_at="at")
    joined = leads.left_join(mql, leads.lead_id == mql.lead_id).left_join(opp, leads.lead_id == opp.lead_id)
    as_of_lit = ibis.literal(as_of, type="timestamp")
    return joined.select(
        lead_id=leads.lead_id,
        account_id=leads.account_id,
        created_at=leads.created_at,
        cutoff=ibis.greatest(ibis.coalesce(mql.at, as_of_lit), leads.created_at),
        segment=leads.segment.fill_null("unknown"),
        region=leads.region.fill_null("unknown"),
        industry=leads.industry.fill_null("unknown"),
        lead_source=leads.lead_source.fill_null("unknown"),
        tech_fit=leads.tech_fit.fill_null("unknown"),
        job_level=leads.job_level.fill_null("unknown"),
        job_function=leads.job_function.fill_null("unknown"),
        employees=leads.employees.cast("float64"),
        employee_growth=leads.employee_growth.cast("float64"),
        current_score=leads.score,
        converted=opp.opp_at.notnull(),
    )


def _touch_counts(tables: Tables, scored: ir.Table) -> ir.Table:
    """Touch counts per lead before its cutoff (by type, channel and the demo-request interaction)."""
    tp = tables.table("touchpoints")
    j = scored.select("lead_id", "cutoff").join(tp, "lead_id")
    j = j.filter(j.occurred_at < j.cutoff)

    def count(pred: ir.BooleanValue) -> ir.IntegerScalar:
        return pred.ifelse(1, 0).sum()

    demo = j.interaction == "demo_request"
    engaged = (j.touch_type == "marketing") & ~demo
    by_channel = {f"n_{c}": count(engaged & (j.channel == c)) for c in TOUCH_CHANNELS}
    return j.group_by(touch_lead=j.lead_id).aggregate(
        n_marketing=count(engaged),
        n_sales=count(j.touch_type == "sales"),
        n_demo_request=count(demo),
        **by_channel,
        first_touch_at=j.occurred_at.min(),
        last_touch_at=j.occurred_at.max(),
    )


def _account_history(tables: Tables, scored: ir.Table, as_of: dt.datetime) -> ir.Table:
    """Per lead: other leads of its account that became opportunities before the lead's cutoff."""
    leads = tables.table("leads")
    opp = _first_event(tables, LABEL_EVENT, as_of)
    won = leads.select(other_id=leads.lead_id, acct=leads.account_id).join(opp, [("other_id", "lead_id")])
    me = scored.select("lead_id", "account_id", "cutoff")
    j = me.join(won, (me.account_id == won.acct) & (me.lead_id != won.other_id) & (won.at < me.cutoff))
    return j.group_by(history_lead=j.lead_id).aggregate(
        account_prior_opportunities=j.count(), account_latest_at=j.at.max()
    )


def lead_features_expr(
    tables: Tables,
    *,
    as_of: dt.datetime,
    created_from: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
) -> ir.Table:
    """The feature matrix as an Ibis expression (one row per lead created in the window, before ``as_of``)."""
    scored = _scored_leads(tables, as_of, created_from, created_before)
    touches = _touch_counts(tables, scored)
    history = _account_history(tables, scored, as_of)
    j = scored.left_join(touches, scored.lead_id == touches.touch_lead)
    j = j.left_join(history, j.lead_id == history.history_lead)
    zero = {c: j[c].fill_null(0) for c in ("n_marketing", "n_sales", "n_demo_request")}
    channels = {f"n_{c}": j[f"n_{c}"].fill_null(0) for c in TOUCH_CHANNELS}
    span = (j.last_touch_at.epoch_seconds() - j.first_touch_at.epoch_seconds()) / 86400.0
    latest = ibis.greatest(
        j.created_at, j.last_touch_at.fill_null(j.created_at), j.account_latest_at.fill_null(j.created_at)
    )
    return j.select(
        "lead_id",
        "created_at",
        "cutoff",
        *CATEGORICAL,
        latest_input_at=latest,
        **zero,
        **channels,
        engaged_days=span.fill_null(0.0).cast("float64"),
        account_prior_opportunities=j.account_prior_opportunities.fill_null(0),
        employees=j.employees,
        employee_growth=j.employee_growth,
        current_score=j.current_score,
        converted=j.converted,
    ).order_by("lead_id")


def lead_features(
    tables: Tables,
    *,
    as_of: dt.datetime,
    created_from: dt.datetime | None = None,
    created_before: dt.datetime | None = None,
) -> pd.DataFrame:
    """The feature matrix in pandas (the only pull: one row per lead, :data:`FEATURES` plus ids and label).

    Raises :class:`~revalign.analytics.scoring.leakage.LeakageError` if any row read an input dated after its
    scoring time.
    """
    frame = tables.to_pandas(
        lead_features_expr(tables, as_of=as_of, created_from=created_from, created_before=created_before)
    )
    for c in NUMERIC:
        frame[c] = frame[c].astype("float64")
    frame["current_score"] = frame["current_score"].astype("float64")
    frame[TARGET] = frame[TARGET].astype(bool)
    guard(check_cutoff(frame))  # never by construction; if a change ever makes it so, refuse loudly
    return frame


def backtest_frames(
    tables: Tables, *, split: dt.datetime, test_end: dt.datetime, as_of: dt.datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test) for a time-based backtest with no look-ahead into the test cohort.

    Train: leads created before ``split``, with features and labels as known at ``test_end`` (the day the
    model would have been fitted; the cohort had ``test_end − split`` to convert). Test: leads created in
    ``[split, test_end)``, scored at their cut-off, with labels as known at ``as_of`` (the export).
    """
    train = lead_features(tables, as_of=test_end, created_before=split)
    test = lead_features(tables, as_of=as_of, created_from=split, created_before=test_end)
    return train, test
