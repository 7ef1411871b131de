"""⑤ MQLs under the agreement: leads whose agreed score first reaches the agreed threshold, and the CRM beside it.

The agreement's ``mql:`` names what an MQL is — a scoring model, its version and a threshold — so that marketing
and sales count the same leads. The CRM's own MQL lifecycle events are what a rep or a workflow clicked; this
module counts by the agreement and lines the two up:

- **agreed MQL time** of a lead: the first ``scored_at`` in the ``scores`` table at which its score under the
  model and version of the agreement version *in force at that moment* reaches that version's threshold. Each
  version governs the scores taken from its ``effective_from`` (00:00 UTC) until the next counted version's,
  so a version 2 with a higher threshold lowers the counts from its date only; a lead that qualified earlier
  under version 1 stays an MQL of its month.
- **CRM MQL time**: the lead's first ``mql`` lifecycle event in the ledger.

A lead is an MQL of the period its agreed MQL time falls in (:func:`agreed_mql_counts`). The comparison
(:func:`mql_comparison`) puts each lead that either side calls an MQL in one of three groups: ``both``,
``agreed_only`` (reached the agreed threshold, never MQL'd in the CRM) and ``crm_only`` (MQL'd in the CRM, its
agreed score never reached the threshold: its ``best_score`` says how far below).

The selection and the per-lead aggregation are Ibis expressions (they run on DuckDB, PostgreSQL and Spark); what
comes into pandas is one row per MQL lead. Pass the counted versions (``AgreementBook.only(approved)``): an
unsigned version changes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.definitions.agreements.loader import AgreementBook
from revalign.errors import DataError
from revalign.model.access import Tables
from revalign.model.calendar import period_label, period_start

LEAD_COLUMNS = ["lead_id", "agreed_mql_at", "crm_mql_at", "status", "best_score", "agreement", "version", "threshold"]
STATUSES = ("both", "agreed_only", "crm_only")


@dataclass(frozen=True)
class MqlRule:
    """One counted version's MQL definition and the span of scores it governs (``[start, end)``, UTC)."""

    agreement: str
    version: int
    model: str
    model_version: int
    threshold: float
    start: dt.datetime
    end: dt.datetime | None

    def rows(self, scores: ir.Table) -> ir.BooleanValue:
        """The score rows this rule judges: its model and version, scored while it is in force."""
        cond = (scores["model"] == self.model) & (scores["version"] == self.model_version)
        cond &= scores["scored_at"] >= self.start
        return cond & (scores["scored_at"] < self.end) if self.end is not None else cond


def mql_rules(book: AgreementBook, agreement: str | None = None) -> list[MqlRule]:
    """The MQL definition of each version of ``agreement`` in ``book`` with the span it governs (a version
    without ``mql:`` governs its span with no definition: no lead qualifies then)."""
    history = book.history(agreement)
    out = []
    for i, spec in enumerate(history):
        end = history[i + 1].effective_from if i + 1 < len(history) else None
        if spec.mql is None:
            continue
        out.append(
            MqlRule(
                spec.agreement,
                spec.version,
                spec.mql.scoring_model,
                int(spec.mql.model_version),
                float(spec.mql.threshold),
                dt.datetime.combine(spec.effective_from, dt.time()),
                dt.datetime.combine(end, dt.time()) if end is not None else None,
            )
        )
    return out


def agreed_scores(tables: Tables, rules: list[MqlRule]) -> ir.Table:
    """Per lead with any score under a rule: ``lead_id, agreed_mql_at`` (null: never reached) and ``best_score``."""
    scores = tables.table("scores")
    if not rules:
        raise DataError("no counted version of the agreement defines an MQL (its `mql:` section)", rule="mql")
    governs = functools.reduce(operator.or_, [r.rows(scores) for r in rules])
    threshold = ibis.cases(*[(r.rows(scores), ibis.literal(r.threshold)) for r in rules])
    judged = scores.filter(governs).mutate(threshold=threshold)
    return judged.group_by("lead_id").aggregate(
        agreed_mql_at=judged["scored_at"].min(where=judged["score"] >= judged["threshold"]),
        best_score=judged["score"].max(),
    )


def crm_mqls(tables: Tables) -> ir.Table:
    """Per lead the CRM marked an MQL: ``lead_id, crm_mql_at`` (its first ``mql`` lifecycle event)."""
    ledger = tables.table("ledger")
    mqls = ledger.filter(
        (ledger["entity_type"] == "lead") & (ledger["kind"] == "lifecycle") & (ledger["name"] == "mql")
    )
    return mqls.group_by(lead_id=mqls["entity_id"]).aggregate(crm_mql_at=mqls["occurred_at"].min())


def _in(stamps: pd.Series, start: dt.datetime | dt.date | None, end: dt.datetime | dt.date | None) -> pd.Series:
    keep = stamps.notna()
    if start is not None:
        keep &= stamps >= pd.Timestamp(start)
    if end is not None:
        keep &= stamps < pd.Timestamp(end)
    return keep


def _label(frame: pd.DataFrame, rules: list[MqlRule]) -> pd.DataFrame:
    """Each lead's group, and the version whose definition made it an MQL (the one in force at its MQL time)."""
    agreed, crm = frame["agreed_mql_at"].notna(), frame["crm_mql_at"].notna()
    frame["status"] = pd.Series("both", index=frame.index).where(agreed & crm, "agreed_only").where(agreed, "crm_only")
    frame["agreement"] = frame["version"] = frame["threshold"] = None
    for r in rules:
        hit = _in(frame["agreed_mql_at"], r.start, r.end)
        frame.loc[hit, ["agreement", "version", "threshold"]] = [r.agreement, r.version, r.threshold]
    return frame


def mql_comparison(
    tables: Tables,
    book: AgreementBook,
    *,
    agreement: str | None = None,
    start: dt.datetime | dt.date | None = None,
    end: dt.datetime | dt.date | None = None,
) -> pd.DataFrame:
    """Every lead either side calls an MQL in ``[start, end)`` (by its agreed or its CRM MQL time): ``lead_id,
    agreed_mql_at, crm_mql_at, status, best_score, agreement, version, threshold`` (see the module docstring)."""
    rules = mql_rules(book, agreement)
    agreed = agreed_scores(tables, rules)
    crm = crm_mqls(tables)
    joined = agreed.outer_join(crm, "lead_id")
    joined = joined.select(
        lead_id=ibis.coalesce(joined["lead_id"], joined["lead_id_right"]),
        agreed_mql_at=joined["agreed_mql_at"],
        crm_mql_at=joined["crm_mql_at"],
        best_score=joined["best_score"],
    )
    joined = joined.filter(joined["agreed_mql_at"].notnull() | joined["crm_mql_at"].notnull())
    frame = joined.to_pandas()
    for col in ("agreed_mql_at", "crm_mql_at"):
        frame[col] = pd.to_datetime(frame[col])
    frame = frame[_in(frame["agreed_mql_at"], start, end) | _in(frame["crm_mql_at"], start, end)].copy()
    frame = _label(frame, rules)
    order = frame.sort_values(["status", "lead_id"], key=lambda s: s.map(STATUSES.index) if s.name == "status" else s)
    return order[LEAD_COLUMNS].reset_index(drop=True)


def agreed_mqls(
    tables: Tables,
    book: AgreementBook,
    *,
    agreement: str | None = None,
    start: dt.datetime | dt.date | None = None,
    end: dt.datetime | dt.date | None = None,
) -> pd.DataFrame:
    """The leads that became MQLs under the agreement in ``[start, end)``: the comparison's ``both`` and
    ``agreed_only`` rows whose agreed MQL time is in the window."""
    frame = mql_comparison(tables, book, agreement=agreement, start=start, end=end)
    keep = _in(frame["agreed_mql_at"], start, end)
    return frame[keep].sort_values(["agreed_mql_at", "lead_id"]).reset_index(drop=True)


def agreed_mql_counts(frame: pd.DataFrame, grain: str = "month", fiscal_year_start_month: int = 1) -> pd.DataFrame:
    """Per period of the agreed MQL time (``grain``: day … year): ``period, start, agreed_mqls, crm_mqls, both,
    agreed_only, crm_only``, from a :func:`mql_comparison` frame (the CRM columns count by the CRM's MQL time)."""
    rows: dict[dt.date, dict[str, int]] = {}
    for col, statuses in (("agreed_mql_at", ("both", "agreed_only")), ("crm_mql_at", ("both", "crm_only"))):
        for when, status in zip(frame[col], frame["status"], strict=True):
            if pd.isna(when) or status not in statuses:
                continue
            day = period_start(pd.Timestamp(when).date(), grain, fiscal_year_start_month)
            slot = rows.setdefault(day, dict.fromkeys(("agreed_mqls", "crm_mqls", *STATUSES), 0))
            slot["agreed_mqls" if col == "agreed_mql_at" else "crm_mqls"] += 1
            if col == "agreed_mql_at" or status == "crm_only":
                slot[status] += 1
    out = [{"period": period_label(d, grain, fiscal_year_start_month), "start": d, **rows[d]} for d in sorted(rows)]
    return pd.DataFrame(out, columns=["period", "start", "agreed_mqls", "crm_mqls", *STATUSES])


__all__ = [
    "LEAD_COLUMNS",
    "STATUSES",
    "MqlRule",
    "agreed_mql_counts",
    "agreed_mqls",
    "agreed_scores",
    "crm_mqls",
    "mql_comparison",
    "mql_rules",
]
