"""The façade of the marketing–sales agreement and its SLAs (docs/agreements.md): versions, clocks, breaches."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pandas as pd

from revalign.analytics.concentration import Concentration, concentration
from revalign.analytics.people import names_of
from revalign.analytics.sla import data_as_of, sla_breaches, sla_compliance, sla_items
from revalign.analytics.sla.volume import volume_slas
from revalign.definitions.agreements.loader import (
    EXAMPLE_FILE,
    AgreementBook,
    agreement_files,
    check_agreements,
    example_agreement_text,
)
from revalign.definitions.issues import Issue, errors
from revalign.errors import CatalogError
from revalign.project.base import DateLike, ProjectBase


class AgreementFacade(ProjectBase):
    """The agreement versions and their SLA clocks, breach ledger, compliance and volumes."""

    # -- the agreement and its SLAs (docs/agreements.md) --------------------------------------------------------
    def checked_agreements(self) -> tuple[AgreementBook, list[Issue]]:
        """The agreement versions (``<project>/agreements/*.yaml``, else the shipped example) and every problem,
        SLA KPIs checked against the catalog (nothing raised: a broken version is left out)."""
        files = agreement_files(self.folder)
        texts = [(p.read_text(encoding="utf-8"), str(p)) for p in files] or [(example_agreement_text(), EXAMPLE_FILE)]
        windows = {k.name: (k.window if k.type == "conversion" else None) for k in self.catalog}
        specs, issues = check_agreements(texts, kpi_windows=windows)
        return AgreementBook(tuple(specs)), issues

    def agreements(self, approved: Collection[tuple[str, int]] | None = None) -> AgreementBook:
        """Every version of the project's agreements (only the ``approved`` ``(agreement, version)`` pairs when
        given: the interfaces pass the sign-off they record, see :meth:`AgreementBook.approved_versions`);
        raises :class:`CatalogError` listing any error."""
        book, issues = self.checked_agreements()
        if errors(issues):
            bad = errors(issues)
            raise CatalogError(f"{len(bad)} problem(s) in the agreements:\n  " + "\n  ".join(map(str, bad)), bad)
        return book.only(approved)

    def sla_items(
        self,
        *,
        agreement: str | None = None,
        start: DateLike = None,
        end: DateLike = None,
        as_of: DateLike = None,
        approved: Collection[tuple[str, int]] | None = None,
    ) -> pd.DataFrame:
        """Every SLA clock started in ``[start, end)`` with its status (met, breached, overdue, at risk, open),
        under the version in force at its start among the ``approved`` ones (``None``: every version)."""
        book = self.agreements(approved)
        return sla_items(self.tables, book, agreement=agreement, start=start, end=end, as_of=as_of)

    def sla_breaches(
        self,
        *,
        agreement: str | None = None,
        slas: Sequence[str] | None = None,
        owner: str | None = None,
        team: str | None = None,
        start: DateLike = None,
        end: DateLike = None,
        as_of: DateLike = None,
        approved: Collection[tuple[str, int]] | None = None,
    ) -> pd.DataFrame:
        """The breach ledger: one row per closed breach, under the agreement version in force at its start."""
        return sla_breaches(
            self.tables,
            self.agreements(approved),
            agreement=agreement,
            slas=slas,
            owner=owner,
            team=team,
            start=start,
            end=end,
            as_of=as_of,
        )

    def sla_compliance(
        self,
        *,
        by: Sequence[str] = ("sla",),
        grain: str | None = "month",
        agreement: str | None = None,
        start: DateLike = None,
        end: DateLike = None,
        as_of: DateLike = None,
        approved: Collection[tuple[str, int]] | None = None,
    ) -> pd.DataFrame:
        """Compliance per SLA (and team or owner) per month: met / (met + breached + overdue)."""
        return sla_compliance(
            self.tables,
            self.agreements(approved),
            by=by,
            grain=grain,
            agreement=agreement,
            start=start,
            end=end,
            as_of=as_of,
        )

    def sla_volumes(
        self,
        *,
        agreement: str | None = None,
        start: DateLike = None,
        end: DateLike = None,
        approved: Collection[tuple[str, int]] | None = None,
    ) -> pd.DataFrame:
        """Volume SLAs per month and slice (a catalog KPI against the agreement's minimum): met, breached, open."""
        as_of = data_as_of(self.tables).date()
        lo = pd.Timestamp(start).date() if start is not None else None
        hi = pd.Timestamp(end).date() if end is not None else None
        return volume_slas(
            self.catalog, self.tables, self.agreements(approved), agreement=agreement, start=lo, end=hi, as_of=as_of
        )

    def sla_concentration(
        self, sla: str = "mql_followup", *, start: DateLike = None, end: DateLike = None
    ) -> Concentration:
        """Who breached ``sla`` most in ``[start, end)`` (the fewest owners covering half of the breaches)."""
        ledger = self.sla_breaches(slas=[sla], start=start, end=end)
        named = ledger.assign(who=names_of(self.tables, ledger["owner_id"]))
        return concentration(named, "who", f"breaches of the {sla} SLA")
