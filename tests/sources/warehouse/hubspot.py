"""The simulated company as Fivetran syncs a HubSpot portal: one Arrow table per table ``fivetran_hubspot.yaml``
reads (``owner``, ``company``, ``contact``, ``deal``, ``deal_contact``, ``deal_company``, and the two property
history tables), with HubSpot's internal property values.

HubSpot cannot say everything the simulator knows, so this rendering is lossy where HubSpot is:

- lifecycle stages: HubSpot's defaults only; ``accepted`` is an MQL still, ``onboarded`` a customer, and
  ``recycled``/``rejected``/``disqualified`` are ``other`` (which the mapping reads as a lead);
- original source (``hs_analytics_source``): events, webinars and content are ``OTHER_CAMPAIGNS``;
- history: every ledger change of a mapped property, *including* the value a record is created with (HubSpot's
  property history, unlike Salesforce's field history, holds it), except a contact's creation (the contact row
  gives it).

The same tables are what the fake HubSpot API serves (``tests/sources/sync/fake_hubspot.py``), so a direct sync
can be checked against loading these tables in place.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from revalign.simulate import SimulatedCompany

LIFECYCLE = {
    "lead": "lead",
    "mql": "marketingqualifiedlead",
    "accepted": "marketingqualifiedlead",
    "sql": "salesqualifiedlead",
    "opportunity": "opportunity",
    "customer": "customer",
    "onboarded": "customer",
    "advocate": "evangelist",
    "recycled": "other",
    "rejected": "other",
    "disqualified": "other",
}
SOURCE = {
    "organic_search": "ORGANIC_SEARCH",
    "paid_search": "PAID_SEARCH",
    "paid_social": "PAID_SOCIAL",
    "email": "EMAIL_MARKETING",
    "partner_referral": "REFERRALS",
    "direct": "DIRECT_TRAFFIC",
    "outbound_sales": "OFFLINE",
    "events": "OTHER_CAMPAIGNS",
    "webinar": "OTHER_CAMPAIGNS",
    "content": "OTHER_CAMPAIGNS",
    "other": "OTHER_CAMPAIGNS",
}
STAGE = {
    "discovery": "appointmentscheduled",
    "qualification": "qualifiedtobuy",
    "solution": "presentationscheduled",
    "proposal": "decisionmakerboughtin",
    "negotiation": "contractsent",
    "closed_won": "closedwon",
    "closed_lost": "closedlost",
}
DEAL_TYPE = {"new_business": "newbusiness", "expansion": "existingbusiness", "renewal": "renewal"}
Labels = dict[str, str] | None
CONTACT_HISTORY: dict[tuple[str, str | None], tuple[str, Labels]] = {
    ("lifecycle", None): ("lifecyclestage", LIFECYCLE),
    ("field", "lead_source"): ("hs_analytics_source", SOURCE),
    ("field", "owner_id"): ("hubspot_owner_id", None),
}
"""Ledger events (kind, field name; ``None``: every name) → the contact property whose history holds them."""
DEAL_HISTORY: dict[tuple[str, str | None], tuple[str, Labels]] = {
    ("stage", None): ("dealstage", STAGE),
    ("field", "amount"): ("amount", None),
    ("field", "close_date"): ("closedate", None),
    ("field", "owner_id"): ("hubspot_owner_id", None),
}


def _label(series: pd.Series, labels: dict[str, str] | None) -> pd.Series:
    return series if labels is None else series.map(labels).where(series.notna(), None)


def hubspot_tables(company: SimulatedCompany) -> dict[str, pa.Table]:
    """Every table the ``fivetran_hubspot`` mapping reads, as Fivetran writes it (``_fivetran_synced`` included)."""
    t = {name: table.to_pandas() for name, table in company.tables.items()}
    synced = pd.Timestamp(t["ledger"]["recorded_at"].max()).floor("s")
    deals = t["opportunities"]
    tables = {
        "owner": _owners(t["users"]),
        "company": _companies(t["accounts"]),
        "contact": _contacts(t["leads"]),
        "deal": _deals(deals),
        "deal_contact": pd.DataFrame(
            {"deal_id": deals["opportunity_id"], "contact_id": deals["lead_id"], "type_id": 3}
        ).dropna(subset=["contact_id"]),
        "deal_company": pd.DataFrame(
            {"deal_id": deals["opportunity_id"], "company_id": deals["account_id"], "type_id": 5}
        ).dropna(subset=["company_id"]),
        "contact_property_history": _history(t["ledger"], "lead", "contact_id", CONTACT_HISTORY),
        "deal_property_history": _history(t["ledger"], "opportunity", "deal_id", DEAL_HISTORY),
    }
    return {name: pa.Table.from_pandas(frame.assign(_fivetran_synced=synced), preserve_index=False)
            for name, frame in tables.items()}  # fmt: skip


def _owners(u: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "owner_id": u["user_id"],
            "email": u["email"],
            "first_name": u["name"].str.split(" ").str[0],
            "last_name": u["name"],  # the mapping reads a user's name from last_name: the whole name keeps it exact
            "created_at": pd.to_datetime(u["hired_at"]),
            "updated_at": pd.to_datetime(u["hired_at"]),
            "is_active": True,
        }
    )


def _companies(a: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": a["account_id"],
            "property_name": a["name"],
            "property_industry": a["industry"],
            "property_numberofemployees": a["employees"].astype("float64"),
            "property_hubspot_owner_id": a["owner_id"],
            "property_createdate": a["created_at"],
            "property_hs_lastmodifieddate": a["created_at"],
            "is_deleted": False,
        }
    )


def _contacts(leads: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": leads["lead_id"],
            "property_email": leads["email"],
            "property_createdate": leads["created_at"],
            "property_lifecyclestage": _label(leads["lifecycle_stage"], LIFECYCLE),
            "property_hs_analytics_source": _label(leads["lead_source"], SOURCE),
            "property_hubspot_owner_id": leads["owner_id"],
            "property_associatedcompanyid": leads["account_id"],
            "property_lastmodifieddate": leads["created_at"],
            "_fivetran_deleted": False,
        }
    )


def _deals(o: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": o["opportunity_id"],
            "deal_pipeline_id": "default",
            "deal_pipeline_stage_id": _label(o["stage"], STAGE),
            "owner_id": o["owner_id"],
            "property_dealname": o["opportunity_id"],
            "property_createdate": o["created_at"],
            "property_closedate": pd.to_datetime(o["close_date"]),
            "property_hs_is_closed": o["is_closed"].astype(bool),
            "property_amount": o["amount"],
            "property_dealtype": _label(o["deal_type"], DEAL_TYPE),
            "property_hs_lastmodifieddate": o["created_at"],
            "is_deleted": False,
        }
    )


def _history(
    ledger: pd.DataFrame, entity: str, id_column: str, properties: dict[tuple[str, str | None], tuple[str, Labels]]
) -> pd.DataFrame:
    events = ledger[(ledger["entity_type"] == entity) & ~((ledger["kind"] == "lifecycle") & (ledger["name"] == "lead")
                                                          & ledger["old_value"].isna())]  # fmt: skip
    parts = []
    for (kind, name), (prop, labels) in properties.items():
        rows = events[(events["kind"] == kind) & ((events["name"] == name) if name else True)]
        value = _label(rows["new_value"], labels)
        parts.append(
            pd.DataFrame(
                {
                    id_column: rows["entity_id"],
                    "name": prop,
                    "value": value.astype(object).where(value.notna(), None),
                    "timestamp": rows["occurred_at"],
                    "source": rows["actor_id"].map(lambda a: "CRM_UI" if isinstance(a, str) else "AUTOMATION"),
                    "source_id": rows["actor_id"],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
