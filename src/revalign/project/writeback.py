"""The façade of write-back (docs/writeback.md): the project's scores, audited sources and marketing credit,
planned against a CRM's fields and applied."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pandas as pd

from revalign.analytics.attribution import attribution_settings, model_of_record
from revalign.analytics.writeback import credit_rule, desired_values
from revalign.definitions.writeback import WritebackSettings, writeback_settings
from revalign.project.audit import AuditFacade
from revalign.project.scoring import ScoringFacade
from revalign.settings import PROJECT_FILE
from revalign.sources.sync import HubSpotClient, SalesforceClient, hubspot_config, salesforce_config
from revalign.sources.writeback import (
    ApplyReport,
    WritebackPlan,
    apply_hubspot,
    apply_salesforce,
    plan_hubspot,
    plan_salesforce,
)

Crm = Literal["salesforce", "hubspot"]
CrmClient = SalesforceClient | HubSpotClient


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

    def hubspot_client(self) -> HubSpotClient:
        """A client for the portal of ``sync.hubspot`` (token or OAuth values from the environment; docs/sync.md)."""
        return HubSpotClient(hubspot_config(self.settings.sync.get("hubspot")))

    def crm_client(self, crm: Crm) -> CrmClient:
        """A client for ``crm``, as its sync signs in (one client can serve a plan and its apply)."""
        return self.hubspot_client() if crm == "hubspot" else self.salesforce_client()

    def writeback_plan(
        self, crm: Crm = "salesforce", *, client: CrmClient | None = None, decisions: Mapping[str, str] | None = None
    ) -> WritebackPlan:
        """The changes that make ``crm`` hold the project's values (a dry run: nothing is written)."""
        client = client or self.crm_client(crm)
        if isinstance(client, HubSpotClient):
            targets = self.writeback_settings.hubspot.targets()
            return plan_hubspot(client, self.writeback_values(tuple(targets), decisions=decisions), targets)
        targets = self.writeback_settings.salesforce.targets()
        return plan_salesforce(client, self.writeback_values(tuple(targets), decisions=decisions), targets)

    def writeback_apply(self, plan: WritebackPlan, *, client: CrmClient | None = None) -> ApplyReport:
        """Send ``plan``'s changes to its CRM in batches; refused records are reported, the rest written."""
        settings = self.writeback_settings
        crm: Crm = "hubspot" if plan.crm == "hubspot" else "salesforce"
        client = client or self.crm_client(crm)
        if crm == "hubspot" and isinstance(client, HubSpotClient):
            return apply_hubspot(client, plan, batch_size=settings.hubspot.batch_size)
        if crm == "salesforce" and isinstance(client, SalesforceClient):
            return apply_salesforce(client, plan, batch_size=settings.salesforce.batch_size)
        raise ValueError(f"a {plan.crm} plan cannot be applied through a {type(client).__name__}")
