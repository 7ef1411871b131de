"""What "the same as the file path" means for a warehouse load: ledger events keyed by (record, kind, field, time,
value), and the KPIs of the catalog that a CRM's tables can compute.

The file path is the simulator's canonical tables written as Parquet and loaded with the ``canonical`` mapping.
"""

from __future__ import annotations

import pandas as pd

from revalign.definitions.kpis.catalog import default_catalog
from revalign.engine import Engine
from revalign.kpis.query import evaluate
from revalign.model.access import Tables

EVENT_KEY = ["entity_type", "entity_id", "kind", "name", "occurred_at", "new_value"]

CRM_KPIS = (
    "active_closers", "advocates", "average_deal_size", "complete_leads", "customers_onboarded", "customers_won",
    "data_quality_score", "deals_per_rep", "deals_won", "lead_to_customer_rate", "lead_to_opportunity_rate",
    "leads_to_opportunity", "marketing_influenced_pipeline", "marketing_sourced_pipeline",
    "marketing_sourced_pipeline_trailing_90d", "marketing_sourced_revenue", "mql_acceptance_rate", "mql_decisions",
    "mql_rejection_rate", "mql_to_sql_rate", "mqls", "mqls_accepted", "mqls_rejected", "mqls_trailing_90d",
    "new_customers", "new_leads", "new_revenue", "new_revenue_ttm", "new_revenue_ytd", "onboarding_rate",
    "opportunities_closed", "opportunities_created", "pipeline_created", "pipeline_in_period",
    "pipeline_realisation_rate", "pipeline_velocity", "sales_cycle_days_mean", "sales_cycle_days_median",
    "sla_acceptance_compliance", "sql_to_opportunity_rate", "sqls", "total_bookings", "win_rate",
)  # fmt: skip
"""KPIs over leads, opportunities, users and the ledger: what a CRM holds. The rest of the catalog reads spend, web
traffic, subscriptions, quotas, forecasts, sales touches or hire dates, which a CRM sync does not carry."""


def ledger_events(engine: Engine) -> pd.DataFrame:
    """The ledger keyed by :data:`EVENT_KEY`, values in one text per type.

    The simulator writes an amount as ``4000`` and a date as ``2025-03-31``; the loader's ledger text (the one an
    export diff writes too) is ``4000.0`` and ``2025-03-31 00:00:00``. Both are read back as the same value here.
    """
    frame = engine.execute(engine.table("ledger"))[[*EVENT_KEY, "old_value", "actor_id"]].astype(object)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"]).dt.floor("s")
    for side in ("old_value", "new_value"):
        amount = frame["name"] == "amount"
        frame.loc[amount, side] = pd.to_numeric(frame.loc[amount, side]).astype("float64").astype(str)
        dated = frame["name"] == "close_date"
        frame.loc[dated, side] = frame.loc[dated, side].str[:10]
    return frame.where(frame.notna(), None)


def kpi_values(engine: Engine) -> pd.DataFrame:
    """:data:`CRM_KPIS` by quarter."""
    values = evaluate(Tables(engine), default_catalog(), list(CRM_KPIS), grain="quarter")
    return values.set_index(["kpi", "period_start"])["value"].astype(float).sort_index()
