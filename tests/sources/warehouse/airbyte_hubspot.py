"""The simulated company as Airbyte's HubSpot source writes it to PostgreSQL (destinations v2 final tables): streams
``owners``, ``companies``, ``contacts``, ``deals``, ``contacts_property_history`` and ``deals_property_history``, each
row stamped ``_airbyte_raw_id``, ``_airbyte_extracted_at`` and ``_airbyte_meta``, properties flattened as
``properties_<name>`` columns, associations as JSON arrays (``deals.contacts``, ``deals.companies``), property-history
timestamps in epoch milliseconds (the columns ``airbyte_hubspot.yaml`` cites).

What HubSpot holds, and so what this rendering writes:

- picklists in HubSpot's internal values: lifecycle stages (``marketingqualifiedlead``; the simulator's stages
  without a HubSpot default, such as ``rejected``, as a portal's custom stages), the default sales pipeline's stage
  ids, Original Source values (``ORGANIC_SEARCH``). The simulator's events, webinar and content channels have no
  Original Source value; they are written as the channel's name (a portal whose source is a custom property);
- ``segment`` and ``region`` as custom properties (``properties_segment``, ``properties_region``);
- property history: every value a tracked property took, at the exact time and by whom: the simulator ledger's
  changes, a lead's creation (lifecycle ``lead``) and a deal's opening stage, and (HubSpot records the value a record
  is created with) the creation value of every other tracked property that later changed
  (:func:`creation_values`). A history row has no old value: the loader chains it from the previous row.
"""

from __future__ import annotations

import json

import ibis
import pandas as pd
import pyarrow as pa

from revalign.simulate import SimulatedCompany

SOURCE = {
    "organic_search": "ORGANIC_SEARCH",
    "paid_search": "PAID_SEARCH",
    "paid_social": "PAID_SOCIAL",
    "email": "EMAIL_MARKETING",
    "partner_referral": "REFERRALS",
    "direct": "DIRECT_TRAFFIC",
    "outbound_sales": "OFFLINE",
    "other": "OTHER_CAMPAIGNS",
}
LIFECYCLE = {
    "lead": "lead",
    "mql": "marketingqualifiedlead",
    "sql": "salesqualifiedlead",
    "opportunity": "opportunity",
    "customer": "customer",
    "advocate": "evangelist",
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
CONTACT_PROPERTIES = {"lead_source": ("hs_analytics_source", SOURCE), "owner_id": ("hubspot_owner_id", None)}
DEAL_PROPERTIES = {
    "lead_source": ("hs_analytics_source", SOURCE),
    "owner_id": ("hubspot_owner_id", None),
    "amount": ("amount", None),
    "close_date": ("closedate", None),
}


def _label(series: pd.Series, labels: dict[str, str] | None) -> pd.Series:
    """HubSpot's value for each simulator value (kept as written where HubSpot has none)."""
    if labels is None:
        return series
    return series.map(lambda v: labels.get(v, v) if isinstance(v, str) else None)


def _ms(stamps: pd.Series) -> pd.Series:
    """Naive UTC timestamps → epoch milliseconds (Int64)."""
    return (pd.to_datetime(stamps).astype("datetime64[ms]").astype("int64")).astype("Int64")


def _utc(stamps: pd.Series) -> pd.Series:
    return pd.to_datetime(stamps).dt.tz_localize("UTC")


def airbyte_tables(company: SimulatedCompany) -> dict[str, pa.Table]:
    """Every stream the mapping reads, as Airbyte's PostgreSQL destination writes its final tables."""
    t = {name: table.to_pandas() for name, table in company.tables.items()}
    extracted = pd.Timestamp(t["ledger"]["recorded_at"].max()).floor("s").tz_localize("UTC")
    streams = {
        "owners": _owners(t["users"]),
        "companies": _companies(t["accounts"]),
        "contacts": _contacts(t["leads"]),
        "deals": _deals(t["opportunities"]),
        "contacts_property_history": _contact_history(t["ledger"]),
        "deals_property_history": _deal_history(t["ledger"]),
    }
    out = {}
    for name, frame in streams.items():
        frame = frame.reset_index(drop=True)
        frame["_airbyte_raw_id"] = [f"{name}-{i:07d}" for i in range(len(frame))]
        frame["_airbyte_extracted_at"] = extracted
        frame["_airbyte_meta"] = json.dumps({"changes": [], "sync_id": 1})
        out[name] = pa.Table.from_pandas(frame, preserve_index=False)
    return out


def _owners(u: pd.DataFrame) -> pd.DataFrame:
    first, _, last = u["name"].str.partition(" ").T.to_numpy()
    return pd.DataFrame(
        {
            "id": u["user_id"],
            "email": u["email"],
            "firstName": first,
            "lastName": last,
            "createdAt": _utc(u["hired_at"]),
            "archived": False,
        }
    )


def _companies(a: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": a["account_id"],
            "createdAt": _utc(a["created_at"]),
            "archived": False,
            "properties_name": a["name"],
            "properties_industry": a["industry"],
            "properties_numberofemployees": a["employees"],
            "properties_hubspot_owner_id": a["owner_id"],
            "properties_createdate": _utc(a["created_at"]),
            "properties_segment": a["segment"],
            "properties_region": a["region"],
        }
    )


def _contacts(leads: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": leads["lead_id"],
            "createdAt": _utc(leads["created_at"]),
            "archived": False,
            "properties_email": leads["email"],
            "properties_createdate": _utc(leads["created_at"]),
            "properties_hs_analytics_source": _label(leads["lead_source"], SOURCE),
            "properties_hubspot_owner_id": leads["owner_id"],
            "properties_associatedcompanyid": leads["account_id"],
            "properties_lifecyclestage": _label(leads["lifecycle_stage"], LIFECYCLE),
            "properties_industry": leads["industry"],
            "properties_segment": leads["segment"],
            "properties_region": leads["region"],
        }
    )


def _array(ids: pd.Series) -> pd.Series:
    """One id as the JSON array of associated record ids Airbyte writes ([] when none)."""
    return ids.map(lambda v: json.dumps([v] if isinstance(v, str) else []))


def _deals(o: pd.DataFrame) -> pd.DataFrame:
    closed = o["is_closed"].astype(bool)
    return pd.DataFrame(
        {
            "id": o["opportunity_id"],
            "createdAt": _utc(o["created_at"]),
            "archived": False,
            "properties_pipeline": "default",
            "properties_dealstage": _label(o["stage"], STAGE),
            "properties_createdate": _utc(o["created_at"]),
            "properties_closedate": _utc(pd.to_datetime(o["closed_at"]).where(closed, pd.to_datetime(o["close_date"]))),
            "properties_hs_is_closed": closed,
            "properties_hs_is_closed_won": o["is_won"].astype(bool),
            "properties_amount": o["amount"],
            "properties_hubspot_owner_id": o["owner_id"],
            "properties_dealtype": _label(o["deal_type"], DEAL_TYPE),
            "properties_hs_analytics_source": _label(o["lead_source"], SOURCE),
            "properties_closed_lost_reason": o["lost_reason"],
            "properties_segment": o["segment"],
            "properties_region": o["region"],
            "contacts": _array(o["lead_id"]),
            "companies": _array(o["account_id"]),
        }
    )


def creation_values(ledger: pd.DataFrame) -> pd.DataFrame:
    """For each (record, field) the ledger later changes, the value it was created with, at the record's creation:
    HubSpot's property history holds it, the simulator's ledger does not (it starts at the first change)."""
    fields = ledger[ledger["kind"] == "field"].sort_values("occurred_at", kind="stable")
    first = fields.groupby(["entity_type", "entity_id", "name"], sort=False).head(1)
    created = ledger[
        ((ledger["kind"] == "lifecycle") & (ledger["name"] == "lead"))
        | ((ledger["kind"] == "stage") & ledger["old_value"].isna())
    ].drop_duplicates(["entity_type", "entity_id"])
    at = created.set_index(["entity_type", "entity_id"])["occurred_at"]
    when = pd.MultiIndex.from_frame(first[["entity_type", "entity_id"]]).map(at.to_dict().get)
    return first.assign(new_value=first["old_value"], old_value=None, occurred_at=list(when), actor_id=None)


def _history_rows(
    ledger: pd.DataFrame, entity: str, properties: dict[str, tuple[str, dict[str, str] | None]]
) -> pd.DataFrame:
    ev = pd.concat([ledger, creation_values(ledger)], ignore_index=True)
    ev = ev[(ev["entity_type"] == entity) & ev["new_value"].notna()]
    parts = []
    kinds = {"lifecycle": ("lifecyclestage", LIFECYCLE), "stage": ("dealstage", STAGE)}
    for kind, (prop, labels) in kinds.items():
        rows = ev[ev["kind"] == kind]
        parts.append(rows.assign(property=prop, value=_label(rows["new_value"], labels)))
    for name, (prop, labels) in properties.items():
        rows = ev[(ev["kind"] == "field") & (ev["name"] == name)]
        value = _label(rows["new_value"], labels)
        if name == "close_date":  # a date property's history value is epoch milliseconds, as text
            value = _ms(rows["new_value"]).astype(str)
        parts.append(rows.assign(property=prop, value=value))
    return pd.concat(parts, ignore_index=True)


def _contact_history(ledger: pd.DataFrame) -> pd.DataFrame:
    ev = _history_rows(ledger, "lead", CONTACT_PROPERTIES)
    return pd.DataFrame(
        {
            "vid": ev["entity_id"],
            "property": ev["property"],
            "value": ev["value"],
            "timestamp": _ms(ev["occurred_at"]),
            "source_type": "CRM_UI",
            "source_id": ev["actor_id"],
            "updated_by_user_id": ev["actor_id"],
        }
    )


def _deal_history(ledger: pd.DataFrame) -> pd.DataFrame:
    ev = _history_rows(ledger, "opportunity", DEAL_PROPERTIES)
    return pd.DataFrame(
        {
            "dealId": ev["entity_id"],
            "property": ev["property"],
            "value": ev["value"],
            "timestamp": _ms(ev["occurred_at"]),
            "source": "CRM_UI",
            "sourceId": ev["actor_id"],
            "updatedByUserId": ev["actor_id"],
        }
    )


def write_airbyte_postgres(tables: dict[str, pa.Table], url: str, schema: str = "hubspot") -> None:
    """The streams into ``schema`` at ``url``; association arrays and ``_airbyte_meta`` as ``jsonb`` like Airbyte's."""
    con = ibis.connect(url)
    try:
        con.raw_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        for name, table in tables.items():
            con.create_table(name, table, database=schema, overwrite=True)
            for column in ("contacts", "companies", "_airbyte_meta"):
                if column in table.column_names:
                    con.raw_sql(
                        f'ALTER TABLE "{schema}"."{name}" ALTER COLUMN "{column}" TYPE jsonb USING "{column}"::jsonb'
                    )
    finally:
        con.disconnect()
