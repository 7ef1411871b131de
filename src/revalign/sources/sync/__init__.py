"""① Direct syncs of a CRM's API into the project (``revalign sync salesforce|hubspot``; docs/sync.md).

A sync lands the CRM's objects as raw tables in the project's engine, in the shape a Fivetran sync writes, and
loads them through the shipped warehouse mapping, so a direct sync and a Fivetran sync share one code path from the
raw tables on (:mod:`revalign.sources.warehouse`).
"""

from revalign.sources.sync.client import SalesforceClient, SyncError
from revalign.sources.sync.config import (
    HUBSPOT_OBJECTS,
    OBJECTS,
    HubSpotConfig,
    SalesforceConfig,
    hubspot_config,
    salesforce_config,
)
from revalign.sources.sync.hubspot import sync_hubspot
from revalign.sources.sync.hubspot_client import HubSpotClient
from revalign.sources.sync.salesforce import ObjectSync, SyncReport, sync_salesforce

__all__ = [
    "HUBSPOT_OBJECTS",
    "OBJECTS",
    "HubSpotClient",
    "HubSpotConfig",
    "ObjectSync",
    "SalesforceClient",
    "SalesforceConfig",
    "SyncError",
    "SyncReport",
    "hubspot_config",
    "salesforce_config",
    "sync_hubspot",
    "sync_salesforce",
]
