"""The simulated company as Fivetran syncs a Salesforce org: one Arrow table per Salesforce object, in Fivetran's
snake-case columns (the ones ``fivetran_salesforce.yaml`` cites), with Salesforce's picklist labels.

What Salesforce holds, and so what this rendering writes:

- current state: ``user``, ``account``, ``campaign``, ``lead``, ``opportunity``; ``campaign_member`` for every
  marketing touch of a campaign (web visits and sales touches are not campaign members);
- a lead's account only once it is converted (``converted_account_id``), and the opportunity it became
  (``converted_opportunity_id``);
- field history: every change in the simulator's ledger after creation, as ``lead_history`` rows (Status,
  LeadSource, OwnerId) and ``opportunity_field_history`` rows (StageName, Amount, CloseDate, LeadSource, OwnerId),
  with the author (``created_by_id``) and the exact time. Salesforce records no history row for the values a
  record is created with, so an opportunity's opening stage is not in it (:func:`opening_stages`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from revalign.simulate import SimulatedCompany

CHANNEL = {
    "organic_search": "Organic Search",
    "paid_search": "Paid Search",
    "paid_social": "Paid Social",
    "email": "Email",
    "events": "Trade Show",
    "webinar": "Webinar",
    "content": "Content",
    "partner_referral": "Partner Referral",
    "direct": "Web",
    "outbound_sales": "Outbound",
    "other": "Other",
}
STATUS = {
    "lead": "Open - Not Contacted",
    "mql": "Marketing Qualified",
    "accepted": "Working - Contacted",
    "rejected": "Rejected",
    "sql": "Sales Qualified",
    "opportunity": "Closed - Converted",
    "customer": "Customer",
    "onboarded": "Onboarded",
    "advocate": "Advocate",
    "recycled": "Nurture",
    "disqualified": "Closed - Not Converted",
}
STAGE = {
    "discovery": "Prospecting",
    "qualification": "Qualification",
    "solution": "Needs Analysis",
    "proposal": "Proposal/Price Quote",
    "negotiation": "Negotiation/Review",
    "closed_won": "Closed Won",
    "closed_lost": "Closed Lost",
}
DEAL_TYPE = {"new_business": "New Customer", "expansion": "Existing Customer - Upgrade", "renewal": "Renewal"}
SEGMENT = {"smb": "SMB", "mid_market": "Mid-Market", "enterprise": "Enterprise"}
DEPARTMENT = {
    "marketing": "Marketing",
    "sales": "Sales",
    "revops": "Revenue Operations",
    "customer_success": "Customer Success",
    "finance": "Finance",
    "executive": "Executive",
}
LEAD_FIELDS = {"lead_source": ("LeadSource", CHANNEL), "owner_id": ("OwnerId", None)}
OPPORTUNITY_FIELDS = {
    "lead_source": ("LeadSource", CHANNEL),
    "owner_id": ("OwnerId", None),
    "amount": ("Amount", None),
    "close_date": ("CloseDate", None),
}


def _label(series: pd.Series, labels: dict[str, str] | None) -> pd.Series:
    return series if labels is None else series.map(labels).where(series.notna(), None)


def salesforce_tables(company: SimulatedCompany) -> dict[str, pa.Table]:
    """Every Salesforce object the mapping reads, as Fivetran writes it."""
    t = {name: table.to_pandas() for name, table in company.tables.items()}
    synced = pd.Timestamp(t["ledger"]["recorded_at"].max()).floor("s")
    tables = {
        "user": _users(t["users"]),
        "account": _accounts(t["accounts"]),
        "campaign": _campaigns(t["campaigns"]),
        "lead": _leads(t["leads"], t["opportunities"]),
        "opportunity": _opportunities(t["opportunities"]),
        "campaign_member": _members(t["touchpoints"]),
        "lead_history": _history(t["ledger"], "lead", "lead_id"),
        "opportunity_field_history": _history(t["ledger"], "opportunity", "opportunity_id"),
    }
    return {name: pa.Table.from_pandas(frame.assign(_fivetran_synced=synced), preserve_index=False)
            for name, frame in tables.items()}  # fmt: skip


def _users(u: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": u["user_id"],
            "name": u["name"],
            "email": u["email"],
            "title": u["role"],
            "department": _label(u["department"], DEPARTMENT),
            "user_role_id": u["team_id"],
            "manager_id": u["manager_id"],
            "is_active": True,
        }
    )


def _accounts(a: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": a["account_id"],
            "name": a["name"],
            "industry": a["industry"],
            "number_of_employees": a["employees"],
            "owner_id": a["owner_id"],
            "created_date": a["created_at"],
            "last_modified_date": a["created_at"],
            "segment__c": _label(a["segment"], SEGMENT),
            "region__c": a["region"],
            "is_deleted": False,
        }
    )


def _campaigns(c: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": c["campaign_id"],
            "name": c["name"],
            "type": _label(c["channel"], CHANNEL),
            "start_date": c["start_date"],
            "end_date": c["end_date"],
            "budgeted_cost": c["budget"],
            "is_deleted": False,
        }
    )


def _leads(leads: pd.DataFrame, opportunities: pd.DataFrame) -> pd.DataFrame:
    became = opportunities.dropna(subset=["lead_id"]).set_index("lead_id")["opportunity_id"]
    converted = leads["is_converted"].fillna(False).astype(bool)
    return pd.DataFrame(
        {
            "id": leads["lead_id"],
            "email": leads["email"],
            "created_date": leads["created_at"],
            "lead_source": _label(leads["lead_source"], CHANNEL),
            "owner_id": leads["owner_id"],
            "status": _label(leads["lifecycle_stage"], STATUS),
            "is_converted": converted,
            "converted_account_id": leads["account_id"].where(converted, None),
            "converted_opportunity_id": leads["lead_id"].map(became),
            "industry": leads["industry"],
            "segment__c": _label(leads["segment"], SEGMENT),
            "region__c": leads["region"],
            "last_modified_date": leads["created_at"],
            "is_deleted": False,
        }
    )


def _opportunities(o: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": o["opportunity_id"],
            "account_id": o["account_id"],
            "owner_id": o["owner_id"],
            "created_date": o["created_at"],
            "close_date": o["close_date"],
            "stage_name": _label(o["stage"], STAGE),
            "is_closed": o["is_closed"].astype(bool),
            "is_won": o["is_won"].astype(bool),
            "amount": o["amount"],
            "type": _label(o["deal_type"], DEAL_TYPE),
            "lead_source": _label(o["lead_source"], CHANNEL),
            "segment__c": _label(o["segment"], SEGMENT),
            "region__c": o["region"],
            "loss_reason__c": o["lost_reason"],
            "last_modified_date": o["created_at"],
            "is_deleted": False,
        }
    )


def _members(tp: pd.DataFrame) -> pd.DataFrame:
    m = tp[tp["campaign_id"].notna() & (tp["touch_type"] == "marketing")]
    return pd.DataFrame(
        {
            "id": m["touchpoint_id"],
            "lead_id": m["lead_id"],
            "campaign_id": m["campaign_id"],
            "created_date": m["occurred_at"],
            "status": m["interaction"],
            "has_responded": True,
        }
    )


def history_events(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger events Salesforce's field history holds: every change after creation (not a lead's creation,
    not an opportunity's opening stage)."""
    created = (ledger["kind"] == "lifecycle") & (ledger["name"] == "lead")
    return ledger[~created & ~opening_stages(ledger)]


def opening_stages(ledger: pd.DataFrame) -> pd.Series:
    """Each opportunity's first stage event (no old value): the value it was created with."""
    return (ledger["kind"] == "stage") & ledger["old_value"].isna()


def _history(ledger: pd.DataFrame, entity: str, id_column: str) -> pd.DataFrame:
    ev = history_events(ledger)
    ev = ev[ev["entity_type"] == entity]
    fields = LEAD_FIELDS if entity == "lead" else OPPORTUNITY_FIELDS
    parts = []
    for kind, (field, labels) in [("lifecycle", ("Status", STATUS)), ("stage", ("StageName", STAGE))]:
        rows = ev[ev["kind"] == kind]
        parts.append(_history_rows(rows, id_column, field, labels))
    for name, (field, labels) in fields.items():
        rows = ev[(ev["kind"] == "field") & (ev["name"] == name)]
        parts.append(_history_rows(rows, id_column, field, labels))
    return pd.concat(parts, ignore_index=True)


def _history_rows(ev: pd.DataFrame, id_column: str, field: str, labels: dict[str, str] | None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": "H" + ev["event_id"],
            id_column: ev["entity_id"],
            "field": field,
            "old_value": _label(ev["old_value"], labels),
            "new_value": _label(ev["new_value"], labels),
            "created_by_id": ev["actor_id"],
            "created_date": ev["occurred_at"],
            "data_type": "Text",
            "is_deleted": False,
        }
    )


def write_parquet(tables: dict[str, pa.Table], folder: Path, schema: str = "salesforce") -> Path:
    """The tables as ``folder/<schema>/<table>.parquet`` (a lake folder)."""
    (folder / schema).mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, folder / schema / f"{name}.parquet")
    return folder


def write_postgres(tables: dict[str, pa.Table], url: str, schema: str = "salesforce") -> None:
    """The tables into ``schema`` of the PostgreSQL database at ``url``, typed as Fivetran types them."""
    import ibis

    con = ibis.connect(url)
    try:
        con.raw_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        for name, table in tables.items():
            con.create_table(name, table, database=schema, overwrite=True)
    finally:
        con.disconnect()
