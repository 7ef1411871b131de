"""The agreements page: every version of the marketing–sales agreement, who signed it and when, and what changed.

The sign-off (proposals and signatures) lives in the app state; the API's dependency reads it into
:class:`AgreementFilters` as plain rows, so the report is computed from the project's files and that data
alone — and a new signature is a new cache key. "Counted" is what the SLA numbers are computed under: a signed
version, or an agreement's first version never put up for signature (the baseline; see
:meth:`revalign.definitions.agreements.loader.AgreementBook.approved_versions`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from revalign.definitions.agreements.diff import version_diff
from revalign.definitions.agreements.loader import AgreementBook
from revalign.errors import RevalignError
from revalign.interfaces.server.errors import NotAvailable
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report
from revalign.project import Project

ACCEPTS: tuple[str, ...] = ()
"""The page takes no filters: it shows every version."""
VERSION_COLUMNS = [
    "agreement",
    "version",
    "effective_from",
    "status",
    "counted",
    "in_force",
    "required",
    "signed",
    "missing",
    "proposed",
    "approval_id",
    "content_hash",
]


@dataclass(frozen=True)
class SignoffRow:
    """One version's sign-off as read from the app state (plain data: the report never reads the store)."""

    agreement: str
    version: int
    status: str  # signed, proposed, draft, baseline, changed
    counted: bool
    approval_id: int | None = None
    signed: str = ""
    missing: str = ""
    proposed: str = ""


@dataclass(frozen=True)
class AgreementFilters(Filters):
    """No user filters; ``signoff`` is every version's sign-off (part of the cache key, not shown as a filter)."""

    signoff: tuple[SignoffRow, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        out.pop("signoff", None)
        return out

    def key(self) -> tuple[Any, ...]:
        return (*super().key(), ("signoff", self.signoff))


def _versions(book: AgreementBook, rows: dict[tuple[str, int], SignoffRow], today: dt.date) -> pd.DataFrame:
    counted = book.only({k for k, r in rows.items() if r.counted} if rows else None)
    live = {n: counted.in_force(today, n) for n in counted.names}
    out = []
    for name in book.names:
        for spec in book.history(name):
            row = rows.get(spec.key, SignoffRow(spec.agreement, spec.version, "in the files", True))
            now = live.get(name)
            out.append(
                {
                    "agreement": spec.agreement,
                    "version": spec.version,
                    "effective_from": spec.effective_from.isoformat(),
                    "status": row.status,
                    "counted": "yes" if row.counted else "no",
                    "in_force": "yes" if now is not None and now.key == spec.key else "",
                    "required": ", ".join(spec.departments),
                    "signed": row.signed,
                    "missing": row.missing,
                    "proposed": row.proposed,
                    "approval_id": row.approval_id,
                    "content_hash": spec.content_hash(),
                }
            )
    frame = pd.DataFrame(out, columns=VERSION_COLUMNS)
    return frame.astype({"approval_id": "Int64"})


def _changes(book: AgreementBook) -> pd.DataFrame:
    """Each version against the one before it: what its signatories agree to change."""
    out = []
    for name in book.names:
        previous = None
        for spec in book.history(name):
            if previous is not None:
                for row in version_diff(previous, spec):
                    out.append({"agreement": name, "from_version": previous.version, "version": spec.version, **row})
            previous = spec
    frame = pd.DataFrame(out, columns=["agreement", "from_version", "version", "item", "before", "after"])
    for col in ("before", "after"):  # mixed numbers, text and absent values: shown as written
        frame[col] = [("—" if v is None else str(v)) for v in frame[col].astype(object).where(frame[col].notna(), None)]
    return frame


def agreements(project: Project, filters: Filters) -> Report:
    """The versions with their sign-off, and the changes between consecutive versions."""
    book, _ = project.checked_agreements()
    if not book.versions:
        raise NotAvailable("Agreements", "no valid agreement version: see `revalign check` for the problems.")
    signoff = filters.signoff if isinstance(filters, AgreementFilters) else ()
    rows = {(r.agreement, r.version): r for r in signoff}
    report = Report(page="agreements", title="Agreements")
    report.add("versions", "Versions and sign-off", _versions(book, rows, dt.date.today()))
    report.add("changes", "What each version changes (against the version before it)", _changes(book))
    report.add("mqls", "MQLs under the agreement's definition and in the CRM, by month", _mqls(project, report))
    report.meta["headline"] = "versions"
    return report


def _mqls(project: Project, report: Report) -> pd.DataFrame:
    """Per month: leads that reached the agreed score threshold (the scoring version in force), the CRM's own
    MQLs, and how many are on one side only — the first thing marketing and sales argue about."""
    try:
        counts = project.agreed_mql_counts(grain="month")
    except RevalignError as exc:  # no scores or no leads yet: say so, keep the rest of the page
        report.notices.append(f"MQLs under the agreement: {exc}")
        return pd.DataFrame()
    if not counts.empty and int(counts["agreed_mqls"].sum()) == 0:
        report.notices.append(
            "No lead has reached the agreed MQL threshold: apply the agreed scoring version (`revalign score apply`)."
        )
    return counts


__all__ = ["ACCEPTS", "AgreementFilters", "SignoffRow", "agreements"]
