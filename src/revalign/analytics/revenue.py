"""One revenue vocabulary: *revenue* means new revenue, the won new-business deals of the catalog's ``new_revenue``.

Channels, the pipeline views and attribution all count new-business deals only, as the catalog's sales KPIs
do (``new_revenue``, ``deals_won``, ``opportunities_closed``, ``win_rate``, ``pipeline_created``), so no page
shows a second, larger "revenue" beside the north star. Renewals and expansions are real money but not
acquisition: they come from existing customers, carry no lead and no channel, and are shown as their own lines
(:func:`revenue_by_deal_type`), never credited to a channel called ``unknown``.
"""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.funnel.periods import as_timestamp, in_range
from revalign.model.access import Tables
from revalign.model.tables import DEAL_TYPES

NEW_BUSINESS = "new_business"
"""The deal type whose won amount is revenue (``new_revenue``); the others are renewals and expansions."""


def new_business(opportunities: ir.Table) -> ir.Table:
    """The new-business opportunities (a deal without a deal type is not counted, as in the catalog's KPIs)."""
    return opportunities.filter(opportunities.deal_type == NEW_BUSINESS)


def revenue_by_deal_type(tables: Tables, *, start: object = None, end: object = None) -> pd.DataFrame:
    """Won deals and won amount per deal type, closed in ``[start, end)``: new business, expansion, renewal.

    Columns: ``deal_type``, ``won_deals``, ``revenue``, ``counted_as`` (``new_revenue`` for new business, which
    is the revenue every other table shows; ``not channel revenue`` for the others). Every deal type appears,
    with zeros when nothing closed, so the table reads the same in every period.
    """
    opps = tables.table("opportunities")
    won = opps.filter(
        opps.is_won & opps.closed_at.notnull() & in_range(opps.closed_at, as_timestamp(start), as_timestamp(end))
    )
    agg = tables.to_pandas(won.group_by("deal_type").agg(won_deals=won.count(), revenue=won.amount.sum()))
    kinds = [*DEAL_TYPES, *sorted(str(t) for t in agg["deal_type"].dropna().unique() if t not in DEAL_TYPES)]
    frame = pd.DataFrame({"deal_type": kinds}).merge(agg, on="deal_type", how="left")
    frame["won_deals"] = frame["won_deals"].fillna(0).astype("int64")
    frame["revenue"] = frame["revenue"].fillna(0.0).astype("float64")
    frame["counted_as"] = ["new_revenue" if k == NEW_BUSINESS else "not channel revenue" for k in kinds]
    return frame


__all__ = ["NEW_BUSINESS", "new_business", "revenue_by_deal_type"]
