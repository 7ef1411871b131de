"""The façade of write-back (docs/writeback.md): the project's scores, audited sources and marketing credit,
planned against a CRM's fields and applied."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from revalign.analytics.attribution import attribution_settings, model_of_record
from revalign.analytics.writeback import credit_rule, desired_values
from revalign.definitions.writeback import WritebackSettings, writeback_settings
from revalign.project.audit import AuditFacade
from revalign.project.scoring import ScoringFacade
from revalign.settings import PROJECT_FILE
from revalign.sources.sync import SalesforceClient, salesforce_config
from revalign.sources.writeback import ApplyReport, WritebackPlan, apply_salesforce, plan_salesforce


class WritebackFacade(AuditFacade, ScoringFacade):
    """Plan and apply the write-back of the project's values to a CRM."""

    @property
    def writeback_settings(self) -> WritebackSettings:
        """``writeback:`` of revalign.yaml, validated (problems raise ConfigError with file:line)."""
        return writeback_settings(self.settings.writeback, self.folder / PROJECT_FILE)

    def writeback_values(self, values: tuple[str, ...], *, decisions: Mapping[str, str] | None = None) -> pd.DataFrame:
        """What the CRM should hold: ``entity, record_id, value_name, value`` for each of ``values``.

        ``decisions`` (finding_id → open / confirmed / dismissed): the reviewers' decisions, for the sources as
        audited (default: every finding not dismissed counts)."""
        settings = self.writeback_settings
        score_model = settings.score_model or ""
        if "lead_score" in values:
            score_model = self.scoring_model(settings.score_model).name
        audited = self.tables
        if "audited_source" in values:
            audited = self.credit_tables("audited", decisions=decisions)
        attribution = attribution_settings(self.settings.extra.get("attribution"), self.folder)
        name = settings.credit_model or model_of_record(attribution, "compensation")
        credit = credit_rule(name, attribution.custom_models)
        return desired_values(self.tables, audited, settings, values=values, score_model=score_model, credit=credit)

    def salesforce_client(self) -> SalesforceClient:
        """A client for the org of ``sync.salesforce`` (credentials from the environment; see docs/sync.md)."""
        return SalesforceClient(salesforce_config(self.settings.sync.get("salesforce")))

    def writeback_plan(
        self, *, client: SalesforceClient | None = None, decisions: Mapping[str, str] | None = None
    ) -> WritebackPlan:
        """The changes that make Salesforce hold the project's values (a dry run: nothing is written)."""
        targets = self.writeback_settings.salesforce.targets()
        desired = self.writeback_values(tuple(targets), decisions=decisions)
        return plan_salesforce(client or self.salesforce_client(), desired, targets)

    def writeback_apply(self, plan: WritebackPlan, *, client: SalesforceClient | None = None) -> ApplyReport:
        """Send ``plan``'s changes to Salesforce in batches; refused records are reported, the rest written."""
        batch = self.writeback_settings.salesforce.batch_size
        return apply_salesforce(client or self.salesforce_client(), plan, batch_size=batch)
