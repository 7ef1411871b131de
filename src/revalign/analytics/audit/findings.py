"""The one shape of an audit finding, shared by every detector and every reader of findings.

A finding says what happened to whose credit: the kind, the record it is about (``entity_type``/``entity_id``)
and the record it relates to (the original lead of a re-creation, the surviving record of a duplicate, the
opportunity of an overwritten lead), who did it and when, the ledger rows that show it, how sure the detector
is, and what is at stake (the won revenue and the channel it moved from and to). Detectors return Ibis tables
or pandas frames with exactly :data:`FINDING_COLUMNS`; ``finding_id`` is deterministic (a hash of kind, entity,
related record and time), so a reviewer's decision on a finding survives a refresh.
"""

from __future__ import annotations

from typing import Final

FINDING_KINDS: Final = (
    "lead_source_overwrite",
    "no_opportunity_recreate",
    "duplicate_lead",
    "duplicate_account",
    "close_date_push",
    "stage_skip",
    "backdated_change",
    "owner_flip_before_close",
)
"""Every kind a detector reports, in the order the audit lists them. The first five share their names with
the simulator's labels (``revalign.simulate.gaming``), so precision and recall are a join on the names."""

FINDING_NOUNS: Final = {
    "lead_source_overwrite": "lead-source overwrites",
    "no_opportunity_recreate": "no-opportunity re-creations",
    "duplicate_lead": "duplicate leads",
    "duplicate_account": "duplicate accounts",
    "close_date_push": "close-date pushes",
    "stage_skip": "stage skips",
    "backdated_change": "back-dated changes",
    "owner_flip_before_close": "owner flips before close",
}
"""How a sentence names many findings of a kind ("65 of 78 lead-source overwrites")."""

HEADLINE_KINDS: Final = ("lead_source_overwrite", "no_opportunity_recreate")
"""The two kinds that move marketing's credit to sales: audited credit undoes them."""

FINDING_COLUMNS: Final = {
    "finding_id": "string",  # deterministic: hash of kind, entity_id, related_id, occurred_at
    "kind": "string",  # one of FINDING_KINDS
    "entity_type": "string",  # lead, opportunity or account
    "entity_id": "string",  # the record the finding is about (the new lead of a re-creation, the duplicate)
    "related_id": "string",  # the original lead / surviving record / the lead's opportunity; null when none
    "actor_id": "string",  # who made the change (ledger actor_id), null when the source does not say
    "occurred_at": "timestamp",  # when it happened in the business
    "recorded_at": "timestamp",  # when revalign learned it
    "confidence": "float64",  # 0..1: how sure the detector is (documented per detector)
    "channel_from": "string",  # credit before (the original channel), null when no credit moved
    "channel_to": "string",  # credit after (the channel as recorded now)
    "opportunity_id": "string",  # the opportunity whose credit is at stake, null when none
    "revenue_at_stake": "float64",  # won amount of that opportunity (0 when open or lost)
    "evidence": "string",  # the ledger event_ids that show it, comma-separated, in time order
    "detail": "string",  # one sentence for people ("source changed from webinar to outbound_sales by U0030")
}
"""Column → Ibis dtype of every findings table, in this order."""
