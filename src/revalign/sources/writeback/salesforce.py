"""① Write-back to Salesforce through the sync's client: read the target fields, plan, update in batches.

- **Reading what the org holds.** Each target object is read with ``SELECT Id, IsDeleted, <target fields> FROM
  <object>`` through :class:`~revalign.sources.sync.client.SalesforceClient` (the sync's sign-in, retries and
  expired-session handling). A target field the API user cannot read is refused before anything is planned,
  naming the custom field to create. Deleted records are not planned.
- **Updating.** Changes are grouped into one update per record and sent to the composite collections API
  (``PATCH /composite/sobjects``, up to 200 records a request, ``allOrNone: false``): Salesforce answers one result
  per record, in order, so a record it refuses (a validation rule, a locked record) is reported with its message
  and the others are written.
- **Idempotence.** Only the plan's differences are sent; after an apply the org holds the planned values, so the
  next plan is empty and applying it sends no request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from revalign.sources.sync.client import SalesforceClient, SyncError
from revalign.sources.writeback.apply import ApplyReport, Update, apply_batches, fields_by_object
from revalign.sources.writeback.plan import WritebackPlan, plan_changes

CRM = "salesforce"


def current_values(client: SalesforceClient, sobject: str, fields: list[str]) -> pd.DataFrame:
    """The org's ``sobject`` records (deleted ones left out): ``Id`` and each of ``fields``."""
    readable = client.fields(sobject)
    missing = [f for f in fields if f not in readable]
    if missing:
        raise SyncError(
            f"{sobject} has no field {', '.join(missing)} the API user can read: create the custom field(s) in "
            "Setup → Object Manager and grant the integration user read and edit access (docs/writeback.md), or "
            f"point writeback.salesforce.fields elsewhere"
        )
    selected = ["Id", *(["IsDeleted"] if "IsDeleted" in readable else []), *fields]
    soql = f"SELECT {', '.join(selected)} FROM {sobject} ORDER BY Id"
    rows = [r for page in client.pages(soql) for r in page if not r.get("IsDeleted")]
    return pd.DataFrame([{name: r.get(name) for name in ["Id", *fields]} for r in rows], columns=["Id", *fields])


def plan_salesforce(
    client: SalesforceClient, desired: pd.DataFrame, targets: Mapping[str, tuple[str, str]]
) -> WritebackPlan:
    """The changes that make the org hold ``desired`` (``value_name, record_id, value``) in ``targets``' fields."""
    current = {sobject: current_values(client, sobject, names) for sobject, names in fields_by_object(targets).items()}
    return plan_changes(CRM, desired, current, targets)


def apply_salesforce(client: SalesforceClient, plan: WritebackPlan, *, batch_size: int = 200) -> ApplyReport:
    """Send ``plan``'s updates, ``batch_size`` records a request; every refused record is reported, not raised."""

    def send(sobject: str, batch: list[Update]) -> list[str | None]:
        return [None if answer.get("success") else _reason(answer) for answer in _send(client, sobject, batch)]

    return apply_batches(plan, send, batch_size=batch_size)


def _send(client: SalesforceClient, sobject: str, batch: list[Update]) -> list[dict[str, Any]]:
    """One composite collections update; Salesforce's per-record results, in the order of ``batch``."""
    body = {
        "allOrNone": False,
        "records": [{"attributes": {"type": sobject}, "id": record_id, **values} for record_id, values in batch],
    }
    timeout = client.config.timeout
    answers = client.call(lambda sf: sf.restful("composite/sobjects", method="PATCH", json=body, timeout=timeout))
    if not isinstance(answers, list) or len(answers) != len(batch):
        raise SyncError(f"Salesforce answered an update of {len(batch)} {sobject} records with {answers!r:.200}")
    return answers


def _reason(answer: Mapping[str, Any]) -> str:
    errors = answer.get("errors") or [{}]
    return "; ".join(f"{e.get('statusCode', 'ERROR')}: {e.get('message', 'refused')}" for e in errors)
