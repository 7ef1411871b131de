"""⑤ One model version's picture as of a moment: what the scoring page, its JSON twin and the CLI show.

:func:`scoring_summary` scores the leads once (one row per lead, held in memory and joined back on the
engine by every part) and pulls only aggregates:
the score distribution, bands against conversion, and sales' feedback by band and reason and by rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import pandas as pd

from revalign.analytics.scoring.bands import band_conversion, score_distribution
from revalign.analytics.scoring.feedback import rejections_by_band, rejections_by_rule
from revalign.analytics.scoring.rules import as_of_moment, score_leads
from revalign.definitions.scoring import ScoringModel
from revalign.model.access import Tables


@dataclass(frozen=True)
class ScoringSummary:
    """Scores of one model version as of ``as_of``: distribution, bands vs conversion, feedback."""

    model: str
    version: int
    as_of: dt.datetime
    mql_threshold: float
    distribution: pd.DataFrame
    bands: pd.DataFrame
    rejections_by_band: pd.DataFrame
    rejections_by_rule: pd.DataFrame

    @property
    def leads(self) -> int:
        return int(self.bands["leads"].sum()) if len(self.bands) else 0

    @property
    def mqls(self) -> int:
        return int(self.bands["mqls"].sum()) if len(self.bands) else 0

    def to_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "version": self.version,
            "as_of": self.as_of.isoformat(),
            "mql_threshold": self.mql_threshold,
            "leads": self.leads,
            "mqls": self.mqls,
            "distribution": self.distribution.to_dict("records"),
            "bands": self.bands.to_dict("records"),
            "rejections_by_band": self.rejections_by_band.to_dict("records"),
            "rejections_by_rule": self.rejections_by_rule.to_dict("records"),
        }


def scoring_summary(
    tables: Tables, model: ScoringModel, as_of: dt.date | dt.datetime, *, width: float = 10.0
) -> ScoringSummary:
    """The summary of ``model`` scored as of ``as_of`` (see the module docstring)."""
    moment = as_of_moment(as_of)
    # scored once and held as a small in-memory table: the four aggregates below then read it, not the ledger again
    scored = ibis.memtable(tables.engine.to_pyarrow(score_leads(tables, model, moment)))
    return ScoringSummary(
        model=model.name,
        version=model.version,
        as_of=moment,
        mql_threshold=model.mql_threshold,
        distribution=tables.to_pandas(score_distribution(scored, width)),
        bands=tables.to_pandas(band_conversion(tables, scored)).drop(columns=["min_score"]),
        rejections_by_band=tables.to_pandas(rejections_by_band(tables, scored)),
        rejections_by_rule=tables.to_pandas(rejections_by_rule(tables, scored, model)),
    )


__all__ = ["ScoringSummary", "scoring_summary"]
