"""① Write-back to HubSpot through the sync's client: read the target properties, plan, batch-update.

- **Which records.** The canonical tables keep a HubSpot record's own id (a contact's ``id`` is its lead's
  ``lead_id``, a deal's its opportunity's ``opportunity_id``: ``fivetran_hubspot.yaml``, the direct sync and a
  Fivetran load alike), so the records to write are asked for by those ids with the batch read
  (``POST /crm/v3/objects/{type}/batch/read``). HubSpot answers only the records it has (not archived ones; the
  others come back as errors of a 207 answer): an id revalign has from elsewhere (a file, Salesforce) is counted
  as not in the CRM and never written.
- **Reading what the portal holds.** A target property that does not exist (``GET /crm/v3/properties/{type}``)
  stops the plan before any write, naming it. HubSpot answers every value as text; a ``number`` property is read
  as a number so that it compares with the one revalign computes.
- **Updating.** One input per record, up to 100 a request, to ``POST /crm/v3/objects/{type}/batch/update``.
  HubSpot answers 200, or 207 (multi-status) with ``errors`` naming the refused records' ids: those are reported
  with HubSpot's message and the rest are written. A batch HubSpot refuses whole (a 4xx) is an error.
- **Idempotence.** Only the plan's differences are sent, so after an apply the next plan is empty and applying it
  sends no request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from revalign.sources.sync.client import SyncError
from revalign.sources.sync.hubspot_client import HubSpotClient
from revalign.sources.writeback.apply import ApplyReport, Update, apply_batches, fields_by_object
from revalign.sources.writeback.plan import WritebackPlan, plan_changes

CRM = "hubspot"
BATCH_LIMIT = 100
"""Inputs HubSpot's batch update takes in one request."""


def current_values(client: HubSpotClient, object_type: str, ids: list[str], fields: list[str]) -> pd.DataFrame:
    """The portal's ``object_type`` records among ``ids`` (archived ones and unknown ids left out): ``Id`` and each
    of ``fields``, a ``number`` property as a float."""
    kinds = client.properties(object_type)
    missing = [f for f in fields if f not in kinds]
    if missing:
        raise SyncError(
            f"HubSpot {object_type} have no property {', '.join(missing)}: create it in Settings → Properties "
            "(docs/writeback.md), or point writeback.hubspot.fields elsewhere"
        )
    rows = []
    for record in client.read(object_type, ids, fields):
        properties = record.get("properties") or {}
        rows.append({"Id": str(record["id"])} | {f: _typed(properties.get(f), kinds[f]) for f in fields})
    return pd.DataFrame(rows, columns=["Id", *fields])


def _typed(text: Any, kind: str) -> Any:
    """A property's text as the value revalign compares: a number for a ``number`` property, blank as missing."""
    if text is None or text == "":
        return None
    if kind == "number":
        try:
            return float(text)
        except (TypeError, ValueError):
            return text
    return text


def plan_hubspot(client: HubSpotClient, desired: pd.DataFrame, targets: Mapping[str, tuple[str, str]]) -> WritebackPlan:
    """The changes that make the portal hold ``desired`` (``value_name, record_id, value``) in ``targets``'
    properties."""
    current = {}
    for object_type, fields in fields_by_object(targets).items():
        names = [name for name, (obj, _) in targets.items() if obj == object_type]
        ids = desired.loc[desired["value_name"].isin(names), "record_id"].astype(str).drop_duplicates().tolist()
        current[object_type] = current_values(client, object_type, sorted(ids), fields)
    return plan_changes(CRM, desired, current, targets)


def apply_hubspot(client: HubSpotClient, plan: WritebackPlan, *, batch_size: int = BATCH_LIMIT) -> ApplyReport:
    """Send ``plan``'s updates, ``batch_size`` (≤ 100) records a request; refused records are reported, not raised."""
    if not 1 <= batch_size <= BATCH_LIMIT:
        raise ValueError(f"batch_size must be 1–{BATCH_LIMIT} (HubSpot's batch limit), not {batch_size}")

    def send(object_type: str, batch: list[Update]) -> list[str | None]:
        inputs = [{"id": rid, "properties": {k: _text(v) for k, v in values.items()}} for rid, values in batch]
        answer = client.request("POST", f"/crm/v3/objects/{object_type}/batch/update", body={"inputs": inputs})
        written = {str(r.get("id")) for r in answer.get("results", [])}
        reasons = _reasons(answer.get("errors") or [])
        fallback = "; ".join(sorted(set(reasons.values()))) or "HubSpot did not return the record as updated"
        return [None if record_id in written else reasons.get(record_id, fallback) for record_id, _ in batch]

    return apply_batches(plan, send, batch_size=batch_size)


def _reasons(errors: list[dict[str, Any]]) -> dict[str, str]:
    """Record id → ``CATEGORY: message`` for each error of a 207 answer (the ids are in the error's context)."""
    found: dict[str, str] = {}
    for error in errors:
        text = f"{error.get('category', 'ERROR')}: {error.get('message', 'refused')}"
        for record_id in (error.get("context") or {}).get("ids", []):
            found[str(record_id)] = text
    return found


def _text(value: Any) -> str | None:
    """A value as HubSpot's properties take it: text, a whole number without ``.0``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
