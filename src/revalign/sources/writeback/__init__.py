"""① Write-back: the values revalign computes, written to CRM fields through the sync's clients (docs/writeback.md).

A write-back is planned first — the values the CRM should hold against what it holds now, only the differences
(:class:`WritebackPlan`) — and applied only when asked, in batches, idempotently. What the values are is computed
above this layer (:mod:`revalign.analytics.writeback`) and handed down as a table.
"""

from revalign.sources.writeback.apply import ApplyReport, Failure
from revalign.sources.writeback.hubspot import apply_hubspot, plan_hubspot
from revalign.sources.writeback.plan import Change, WritebackPlan, plan_changes
from revalign.sources.writeback.salesforce import apply_salesforce, plan_salesforce

__all__ = [
    "ApplyReport",
    "Change",
    "Failure",
    "WritebackPlan",
    "apply_hubspot",
    "apply_salesforce",
    "plan_changes",
    "plan_hubspot",
    "plan_salesforce",
]
