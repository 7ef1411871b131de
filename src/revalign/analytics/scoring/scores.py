"""⑤ The ``scores`` table: each lead's score under one model version as of one moment, written once.

:func:`apply_scores` writes :func:`~revalign.analytics.scoring.rules.score_leads` into the canonical ``scores``
table inside one :meth:`Engine.transaction`, so a crash leaves either every row of the run or none. A run is
identified by (model, version, scored_at): applying the same version at the same moment again adds nothing, so a
scheduler may retry freely. A new version or a later moment adds its own rows; nothing is ever overwritten, so
last quarter's MQLs under last quarter's agreed version stay as they were.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from revalign.analytics.scoring.rules import as_of_moment, score_leads
from revalign.definitions.scoring import ScoringModel
from revalign.model.access import Tables
from revalign.model.tables import SCORES

SCORES_TABLE = SCORES.name


@dataclass(frozen=True)
class ApplyResult:
    """What one ``apply`` did: the run's key and how many rows it added (0 when it had been applied before)."""

    model: str
    version: int
    scored_at: dt.datetime
    rows_added: int
    already_applied: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "version": self.version,
            "scored_at": self.scored_at.isoformat(),
            "rows_added": self.rows_added,
            "already_applied": self.already_applied,
        }


def _run_rows(tables: Tables, model: str, version: int, moment: dt.datetime) -> int:
    t = tables.table(SCORES_TABLE)
    run = t.filter((t.model == model) & (t.version == version) & (t.scored_at == ibis.literal(moment, "timestamp")))
    return int(tables.execute(run.count()))


def apply_scores(tables: Tables, model: ScoringModel, as_of: dt.date | dt.datetime) -> ApplyResult:
    """Score every lead as of ``as_of`` under ``model`` and append the rows to ``scores``, atomically and once."""
    moment = as_of_moment(as_of)
    engine = tables.engine
    scored = score_leads(tables, model, moment).select(*SCORES.column_names)
    with engine.transaction():
        if _run_rows(tables, model.name, model.version, moment):
            return ApplyResult(model.name, model.version, moment, 0, True)
        rows = engine.to_pyarrow(scored)
        engine.write(SCORES_TABLE, rows, schema=SCORES.schema, mode="append")
    return ApplyResult(model.name, model.version, moment, rows.num_rows, False)


def latest_scores(tables: Tables, model: str, version: int | None = None) -> ir.Table:
    """The rows of the latest scoring run of ``model`` (of ``version``, else of its newest version)."""
    t = tables.table(SCORES_TABLE).filter(lambda s: s.model == model)
    if version is None:
        version = int(tables.execute(t.version.max()) or 0)
    t = t.filter(t.version == version)
    return t.filter(t.scored_at == t.scored_at.max())


def scoring_runs(tables: Tables) -> ir.Table:
    """Every run written to ``scores``: model, version, scored_at, leads, MQLs."""
    t = tables.table(SCORES_TABLE)
    return (
        t.group_by(["model", "version", "scored_at"])
        .aggregate(leads=t.count(), mqls=t.is_mql.sum())
        .order_by([ibis.desc("scored_at"), "model", ibis.desc("version")])
    )


__all__ = ["SCORES_TABLE", "ApplyResult", "apply_scores", "latest_scores", "scoring_runs"]
