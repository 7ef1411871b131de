"""① Applying a write-back plan, whatever the CRM: the plan's updates grouped per object, sent in batches, and
every record the CRM refused collected (never raised), so one locked record does not stop the others.

Each CRM module (:mod:`.salesforce`, :mod:`.hubspot`) supplies only how one batch is sent and how the CRM's answer
says which record failed; the batching, the counting and the report are here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from revalign.sources.writeback.plan import WritebackPlan

Update = tuple[str, dict[str, Any]]
"""One record's update: its id and {field: new value}."""

SendBatch = Callable[[str, list[Update]], list[str | None]]
"""Sends one object's batch of updates; answers, per record in order, ``None`` (written) or the CRM's reason."""


@dataclass(frozen=True)
class Failure:
    """A record the CRM refused to update, with its answer (e.g. ``statusCode: message``)."""

    sobject: str
    record_id: str
    fields: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class ApplyReport:
    """What an apply sent and what the CRM answered."""

    requests: int
    records_written: int
    failures: tuple[Failure, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "records_written": self.records_written,
            "failures": [asdict(f) | {"fields": list(f.fields)} for f in self.failures],
        }


def fields_by_object(targets: Mapping[str, tuple[str, str]]) -> dict[str, list[str]]:
    """The target fields of each object (what the plan reads), in the targets' order."""
    by_object: dict[str, list[str]] = {}
    for sobject, field_name in targets.values():
        by_object.setdefault(sobject, []).append(field_name)
    return by_object


def apply_batches(plan: WritebackPlan, send: SendBatch, *, batch_size: int) -> ApplyReport:
    """Send ``plan``'s updates through ``send``, ``batch_size`` records a request, object by object."""
    by_object: dict[str, list[Update]] = {}
    for (sobject, record_id), values in plan.records().items():
        by_object.setdefault(sobject, []).append((record_id, values))
    requests, written, failures = 0, 0, []
    for sobject, updates in by_object.items():
        for start in range(0, len(updates), batch_size):
            batch = updates[start : start + batch_size]
            reasons = send(sobject, batch)
            requests += 1
            for (record_id, values), reason in zip(batch, reasons, strict=True):
                if reason is None:
                    written += 1
                else:
                    failures.append(Failure(sobject, record_id, tuple(values), reason))
    return ApplyReport(requests, written, tuple(failures))
