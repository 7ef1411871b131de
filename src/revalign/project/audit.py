"""The façade of the credit-integrity audit (docs/audit.md, docs/audit_review.md): findings, credit as audited."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from revalign.analytics.audit.credit import (
    CREDITS,
    DEFAULT_COUNTED,
    MARKETING_KPIS,
    Counted,
    Credit,
    audited_tables,
    credit_comparison,
)
from revalign.analytics.audit.detect import detect
from revalign.analytics.audit.evidence import evidence_rows
from revalign.analytics.audit.findings import FINDING_NOUNS, HEADLINE_KINDS
from revalign.analytics.audit.rollups import AuditRollups, audit_rollups
from revalign.analytics.concentration import Concentration, concentration
from revalign.analytics.people import names_of
from revalign.definitions.audit import AuditSettings, audit_settings
from revalign.errors import ConfigError
from revalign.model.access import Tables
from revalign.project.base import DateLike, ProjectBase
from revalign.project.memo import per_data_version
from revalign.settings import PROJECT_FILE


class AuditFacade(ProjectBase):
    """Audit findings, the tables as audited, and the roll-ups and evidence the audit page shows."""

    # -- audit: revalign.analytics.audit ---------------------------------------------------------------------------
    @property
    def audit_settings(self) -> AuditSettings:
        """``audit:`` of revalign.yaml, validated (problems raise ConfigError with file:line)."""
        return audit_settings(self.settings.audit, self.folder / PROJECT_FILE)

    @per_data_version
    def audit_findings(self, kinds: Iterable[str] | str | None = None, since: DateLike = None) -> pd.DataFrame:
        """Credit-gaming and data-fault findings of ``kinds`` (default all) since ``since`` (docs/audit.md)."""
        return detect(self.tables, self.audit_settings, kinds=kinds, since=since)

    # -- credit as audited, audit roll-ups and evidence: revalign.analytics.audit ---------------------------------
    def credit_tables(
        self,
        credit: Credit = "recorded",
        *,
        decisions: Mapping[str, str] | None = None,
        counted: Counted = DEFAULT_COUNTED,
        findings: pd.DataFrame | None = None,
    ) -> Tables:
        """The tables as recorded, or as audited: the headline findings ``counted`` under ``decisions``
        (finding_id → open / confirmed / dismissed) undone (:mod:`revalign.analytics.audit.credit`).

        ``findings``: every finding of the headline kinds, when the caller has them already (else detected)."""
        if credit == "recorded":
            return self.tables
        if credit != "audited":
            raise ConfigError(f"credit must be one of {', '.join(CREDITS)}. Got {credit!r} instead.")
        found = self.audit_findings(kinds=HEADLINE_KINDS) if findings is None else findings
        return audited_tables(self.tables, found, decisions, counted=counted)

    def credit_comparison(
        self,
        kpis: Iterable[str] = MARKETING_KPIS,
        *,
        start: DateLike = None,
        end: DateLike = None,
        decisions: Mapping[str, str] | None = None,
        counted: Counted = DEFAULT_COUNTED,
        findings: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """``kpi, recorded, audited, difference`` for ``[start, end)``: marketing-sourced revenue as recorded and
        as audited, side by side (``findings``: see :meth:`credit_tables`)."""
        audited = self.credit_tables("audited", decisions=decisions, counted=counted, findings=findings)
        fs = self.fiscal_year_start_month
        return credit_comparison(
            self.tables, audited, self.catalog, kpis, start=start, end=end, fiscal_year_start_month=fs
        )

    def audit_rollups(
        self, findings: pd.DataFrame | None = None, *, decisions: Mapping[str, str] | None = None
    ) -> AuditRollups:
        """Findings (default: every kind) per rep, team, quarter and kind × quarter, dismissed ones left out."""
        found = self.audit_findings() if findings is None else findings
        return audit_rollups(self.tables, found, decisions, fiscal_year_start_month=self.fiscal_year_start_month)

    def audit_evidence(self, findings: pd.DataFrame) -> pd.DataFrame:
        """The ledger rows behind ``findings`` (pass the few being shown): each finding's evidence timeline."""
        return evidence_rows(self.tables, findings)

    @per_data_version
    def audit_concentration(self, kind: str = "lead_source_overwrite", since: DateLike = None) -> Concentration:
        """Who made most of ``kind``'s findings (the fewest people covering half), with the revenue at stake: the
        overview's and the demo's one-line answer to "who games credit"."""
        found = self.audit_findings(kinds=kind, since=since)
        found = found.assign(who=names_of(self.tables, found["actor_id"]))
        return concentration(found, "who", FINDING_NOUNS.get(kind, kind), amount="revenue_at_stake")
