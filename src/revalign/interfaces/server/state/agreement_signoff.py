"""Sign-off of agreement versions: the generic approvals (:mod:`.approvals`) read for one :class:`AgreementBook`.

The library never reads the app state; this module turns the recorded proposals and signatures into the plain
``(agreement, version)`` set the library computes under (:meth:`AgreementBook.approved_versions`), and into
each version's status for the /agreements page and ``revalign agreement versions``. A signature counts only
for the content it was given on: a signed file edited afterwards is "changed since signed" and no longer counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from revalign.definitions.agreements.loader import AgreementBook, agreement_files
from revalign.definitions.agreements.spec import AgreementSpec
from revalign.interfaces.server.state.approvals import ApprovalRecord, Approvals
from revalign.project.agreements import AgreementFacade

KIND = "agreement"
SIGNED = ("approved", "superseded")
"""Approval statuses of a fully signed version. The generic store marks the older approved version
``superseded`` when a newer one is approved; for an agreement both stay signed: each governs its own dates."""


@dataclass(frozen=True)
class VersionState:
    """One version of an agreement with its proposal (if any) and what the sign-off makes of it."""

    spec: AgreementSpec
    record: ApprovalRecord | None
    status: str  # signed, proposed, draft, baseline, changed
    counts: bool  # numbers may be computed under it

    @property
    def signed(self) -> str:
        sigs = self.record.signatures if self.record is not None else ()
        return "; ".join(f"{s.department}: {s.username} ({s.signed_at:%Y-%m-%d %H:%M})" for s in sigs)


def _records(approvals: Approvals) -> dict[tuple[str, int], ApprovalRecord]:
    return {(r.name, int(r.version)): r for r in approvals.proposals(KIND) if r.version.isdigit()}


def signed_and_proposed(
    book: AgreementBook, records: Iterable[ApprovalRecord]
) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    """``(signed, proposed)`` version keys: signed by every signatory for the content in the files now."""
    hashes = {v.key: v.content_hash() for v in book.versions}
    signed, proposed = set(), set()
    for r in records:
        key = (r.name, int(r.version))
        proposed.add(key)
        if r.status in SIGNED and hashes.get(key) == r.content_hash:
            signed.add(key)
    return signed, proposed


def approved_versions(book: AgreementBook, approvals: Approvals) -> frozenset[tuple[str, int]]:
    """The ``(agreement, version)`` pairs numbers are computed under (pass to ``Project.sla_*(approved=…)``)."""
    signed, proposed = signed_and_proposed(book, _records(approvals).values())
    return book.approved_versions(signed, proposed)


def sync_signoff(project: AgreementFacade, approvals: Approvals) -> frozenset[tuple[str, int]]:
    """Make ``project`` count only the versions signed in ``approvals`` (and the baseline) from now on, and
    return that set: the server (its report cache keys on it) and ``revalign refresh`` (the alert conditions)
    call it, so the overview, the scorecard's agreement targets and the SLA alerts follow the sign-off."""
    book, _ = project.checked_agreements()
    approved = approved_versions(book, approvals)
    project.use_signoff(approved)
    return approved


class SignoffWatch:
    """:func:`sync_signoff` for the server's cache check, re-read only when the proposals, their signatures or
    the agreement files changed: reading and validating the agreement files costs a noticeable part of a second,
    and the report cache asks every few seconds while holding the engine."""

    def __init__(self, project: AgreementFacade, approvals: Approvals) -> None:
        self.project, self.approvals = project, approvals
        self._seen: object = None
        self._approved: frozenset[tuple[str, int]] = frozenset()

    def _state(self) -> object:
        records = tuple((r.id, r.status, r.content_hash, len(r.signatures)) for r in self.approvals.proposals(KIND))
        files = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in agreement_files(self.project.folder))
        return records, files

    def __call__(self) -> frozenset[tuple[str, int]]:
        """The versions that count now (the project is set to count them)."""
        state = self._state()
        if state != self._seen:
            self._approved = sync_signoff(self.project, self.approvals)
            self._seen = state
        return self._approved


def _status(spec: AgreementSpec, record: ApprovalRecord | None, counts: bool) -> str:
    if record is None:
        return "baseline" if counts else "draft"
    if record.content_hash != spec.content_hash():
        return "changed"
    return "signed" if record.status in SIGNED else "proposed"


def version_states(book: AgreementBook, approvals: Approvals) -> list[VersionState]:
    """Every version of every agreement (oldest first per agreement) with its sign-off status."""
    records = _records(approvals)
    signed, proposed = signed_and_proposed(book, records.values())
    counting = book.approved_versions(signed, proposed)
    out = []
    for name in book.names:
        for spec in book.history(name):
            record = records.get(spec.key)
            counts = spec.key in counting
            out.append(VersionState(spec, record, _status(spec, record, counts), counts))
    return out


def propose_version(approvals: Approvals, spec: AgreementSpec, *, by: str, note: str = "") -> ApprovalRecord:
    """Put ``spec`` up for signature by its signatories' departments (again: the same proposal)."""
    return approvals.propose(
        KIND, spec.agreement, spec.version, spec.content_hash(), spec.departments, by=by, note=note
    )


__all__ = [
    "KIND",
    "SIGNED",
    "SignoffWatch",
    "VersionState",
    "approved_versions",
    "propose_version",
    "signed_and_proposed",
    "sync_signoff",
    "version_states",
]
