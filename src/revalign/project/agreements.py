"""The façade of the marketing–sales agreement and its SLAs (docs/agreements.md): versions, clocks, breaches."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import pandas as pd

from revalign.analytics.agreement_targets import agreement_targets, merged_book, target_conflicts
from revalign.analytics.concentration import Concentration, concentration
from revalign.analytics.mqls import agreed_mql_counts, mql_comparison
from revalign.analytics.people import names_of
from revalign.analytics.sla import data_as_of, sla_breaches, sla_compliance, sla_items
from revalign.analytics.sla.volume import volume_slas
from revalign.analytics.targets import TargetBook
from revalign.definitions.agreements.loader import (
    EXAMPLE_FILE,
    AgreementBook,
    agreement_files,
    checked_book,
    example_agreement_text,
)
from revalign.definitions.issues import Issue, errors, problems
from revalign.errors import CatalogError
from revalign.project.base import DateLike, ProjectBase
from revalign.project.memo import per_data_version, per_definitions


class AgreementFacade(ProjectBase):
    """The agreement versions and their SLA clocks, breach ledger, compliance, volumes, targets and MQLs."""

    signoff: frozenset[tuple[str, int]] | None = None
    """The ``(agreement, version)`` pairs numbers are computed under when a call passes no ``approved``: set by
    the interface that reads the sign-off from the app state (:meth:`use_signoff`); ``None``: every version."""

    def use_signoff(self, approved: Collection[tuple[str, int]] | None) -> None:
        """Compute every agreement number (SLAs, targets, MQLs, the overview's SLA line, alerts) under only the
        ``approved`` versions from now on; the server, ``revalign refresh`` and the CLI call it with the sign-off
        they read (the library never reads the app state itself)."""
        self.signoff = frozenset(approved) if approved is not None else None

    # -- the agreement and its SLAs (docs/agreements.md) --------------------------------------------------------
    @per_definitions
    def checked_agreements(self) -> tuple[AgreementBook, list[Issue]]:
        """The agreement versions (``<project>/agreements/*.yaml``, else the shipped example) and every problem,
        SLA KPIs checked against the catalog (nothing raised: a broken version is left out); read and validated
        once per definitions fingerprint (the pages read it on every request)."""
        files = agreement_files(self.folder)
        texts = [(p.read_text(encoding="utf-8"), str(p)) for p in files] or [(example_agreement_text(), EXAMPLE_FILE)]
        windows = {k.name: (k.window if k.type == "conversion" else None) for k in self.catalog}
        return checked_book(texts, kpi_windows=windows)

    def _counted_versions(self) -> object:
        return sorted(self.signoff) if self.signoff is not None else None

    def counted_agreements(self, approved: Collection[tuple[str, int]] | None = None) -> AgreementBook:
        """The versions numbers are computed under: ``approved`` when given, else the project's :attr:`signoff`
        (``None`` there too: every version in the files)."""
        return self.agreements(approved if approved is not None else self.signoff)

    def checked_targets(self) -> tuple[TargetBook, list[Issue]]:
        """The target files' targets merged with the counted agreement versions' shared-KPI targets (in force by
        effective date, the agreement's winning a clash), and every problem, clashes included.

        Only an agreement the project wrote (``agreements/``) sets targets: the shipped example stands in for the
        SLAs of a project without one, not for its plan.
        """
        files, issues = super().checked_targets()
        if not agreement_files(self.folder):
            return files, issues
        book, _ = self.checked_agreements()  # its problems are the agreements section's of `revalign check`
        agreed = agreement_targets(book.only(self.signoff), list(self.catalog.kpis), self.fiscal_year_start_month)
        clashes = target_conflicts(files.entries, agreed, self.fiscal_year_start_month)
        return merged_book(files, agreed), [*issues, *agreed.issues, *clashes]

    def agreements(self, approved: Collection[tuple[str, int]] | None = None) -> AgreementBook:
        """Every version of the project's agreements (only the ``approved`` ``(agreement, version)`` pairs when
        given: the interfaces pass the sign-off they record, see :meth:`AgreementBook.approved_versions`);
        raises :class:`CatalogError` listing any error."""
        book, issues = self.checked_agreements()
        if errors(issues):
            bad = errors(issues)
            raise CatalogError(problems(bad, "the agreements"), bad)
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
        book = self.counted_agreements(approved)
        return sla_items(self.tables, book, agreement=agreement, start=start, end=end, as_of=as_of)

    @per_data_version
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
            self.counted_agreements(approved),
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
            self.counted_agreements(approved),
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
            self.catalog,
            self.tables,
            self.counted_agreements(approved),
            agreement=agreement,
            start=lo,
            end=hi,
            as_of=as_of,
        )

    def mql_comparison(
        self,
        *,
        agreement: str | None = None,
        start: DateLike = None,
        end: DateLike = None,
        approved: Collection[tuple[str, int]] | None = None,
    ) -> pd.DataFrame:
        """Every lead the agreement or the CRM calls an MQL in ``[start, end)``: its agreed MQL time (the scores
        table under the MQL definition in force), its CRM MQL time, and ``both``/``agreed_only``/``crm_only``."""
        lo = pd.Timestamp(start).to_pydatetime() if start is not None else None
        hi = pd.Timestamp(end).to_pydatetime() if end is not None else None
        book = self.counted_agreements(approved)
        return mql_comparison(self.tables, book, agreement=agreement, start=lo, end=hi)

    def agreed_mql_counts(
        self,
        *,
        grain: str = "month",
        agreement: str | None = None,
        start: DateLike = None,
        end: DateLike = None,
        approved: Collection[tuple[str, int]] | None = None,
    ) -> pd.DataFrame:
        """MQLs under the agreement per period, beside the CRM's: ``period, start, agreed_mqls, crm_mqls, both,
        agreed_only, crm_only``."""
        leads = self.mql_comparison(agreement=agreement, start=start, end=end, approved=approved)
        return agreed_mql_counts(leads, grain, self.fiscal_year_start_month)

    @per_data_version
    def sla_concentration(
        self, sla: str = "mql_followup", *, start: DateLike = None, end: DateLike = None
    ) -> Concentration:
        """Who breached ``sla`` most in ``[start, end)`` (the fewest owners covering half of the breaches)."""
        ledger = self.sla_breaches(slas=[sla], start=start, end=end)
        named = ledger.assign(who=names_of(self.tables, ledger["owner_id"]))
        return concentration(named, "who", f"breaches of the {sla} SLA")
