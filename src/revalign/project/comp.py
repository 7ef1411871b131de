"""The façade of comp plans (docs/incentives.md): the plans, credit lines, payouts and statements as recorded or as
audited, filtered for the viewer, and the perverse-incentive check."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from revalign.analytics.audit.credit import Credit
from revalign.analytics.incentives.check import PerverseCheck, gaming_gains, perverse_incentives
from revalign.analytics.incentives.credit import Records, lines_from_records, records
from revalign.analytics.incentives.payout import (
    Payouts,
    compliance_by_period,
    payouts,
    quota_by_period,
    visible_payouts,
)
from revalign.analytics.privacy import Viewer
from revalign.definitions.comp import (
    EXAMPLE_FILE,
    CompPlan,
    check_comp_plans,
    comp_plan_files,
    example_comp_plan_text,
    latest_versions,
    plan_named,
)
from revalign.definitions.issues import Issue, errors, problems
from revalign.errors import CatalogError
from revalign.project.agreements import AgreementFacade
from revalign.project.audit import AuditFacade
from revalign.project.base import DateLike


class CompFacade(AuditFacade, AgreementFacade):
    """Comp plans (``<project>/comp_plans/*.yaml``, else the shipped example), payouts and the check."""

    def checked_comp_plans(self) -> tuple[dict[str, CompPlan], list[Issue]]:
        """The latest version of each valid plan and every problem (file:line), nothing raised."""
        files = comp_plan_files(self.folder)
        texts = [(p.read_text(encoding="utf-8"), str(p)) for p in files] or [(example_comp_plan_text(), EXAMPLE_FILE)]
        plans, issues = check_comp_plans(texts)
        return latest_versions(plans), issues

    def comp_plans(self) -> dict[str, CompPlan]:
        """Plan name → its latest version; raises :class:`CatalogError` listing every error."""
        plans, issues = self.checked_comp_plans()
        bad = errors(issues)
        if bad:
            raise CatalogError(problems(bad, "the comp plans"), bad)
        return plans

    def comp_plan(self, name: str | None = None) -> CompPlan:
        """The plan called ``name`` (the only one when ``None``)."""
        return plan_named(self.comp_plans(), name)

    def comp_records(
        self,
        plan: CompPlan,
        *,
        start: DateLike = None,
        end: DateLike = None,
        credit: Credit = "recorded",
        decisions: Mapping[str, str] | None = None,
    ) -> Records:
        """The records ``plan`` credits over ``[start, end)``, as recorded or as audited."""
        return records(self.credit_tables(credit, decisions=decisions), plan, start=start, end=end)

    def comp_payouts(
        self,
        plan: str | CompPlan | None = None,
        *,
        viewer: Viewer | None,
        start: DateLike = None,
        end: DateLike = None,
        credit: Credit = "recorded",
        decisions: Mapping[str, str] | None = None,
        compliance: pd.DataFrame | None = None,
    ) -> Payouts:
        """Payouts and statements of ``plan`` over ``[start, end)``, cut to what ``viewer`` may see (pay privacy:
        the person, their managers, finance/RevOps/admin). ``viewer=None`` is a trusted caller (the operator's CLI,
        a notebook) and sees everyone's; the argument has no default so no interface forgets it. A plan with an SLA
        term reads each person's SLA compliance per period from the agreement's clocks unless ``compliance`` is
        given (``user_id, period, compliance``)."""
        spec = plan if isinstance(plan, CompPlan) else self.comp_plan(plan)
        recs = self.comp_records(spec, start=start, end=end, credit=credit, decisions=decisions)
        if spec.sla is not None and compliance is None:
            by_owner = self.sla_compliance(by=("owner_id",), grain=spec.period, start=start, end=end)
            compliance = compliance_by_period(by_owner, spec)
        result = payouts(
            lines_from_records(recs, spec),
            spec,
            quota_by_period(self.tables, spec),
            people=recs.people,
            compliance=compliance,
        )
        return result if viewer is None else visible_payouts(result, self.tables, viewer)

    def comp_check(
        self, plan: str | CompPlan | None = None, *, start: DateLike = None, end: DateLike = None
    ) -> PerverseCheck:
        """The perverse-incentive check of ``plan`` on the records of ``[start, end)`` as recorded."""
        spec = plan if isinstance(plan, CompPlan) else self.comp_plan(plan)
        recs = self.comp_records(spec, start=start, end=end)
        return perverse_incentives(recs, spec, quota_by_period(self.tables, spec), currency=self.settings.currency)

    def comp_gaming_gains(
        self,
        plan: str | CompPlan | None = None,
        *,
        viewer: Viewer | None,
        start: DateLike = None,
        end: DateLike = None,
        decisions: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """Per person: payout as recorded, as audited, and what gaming paid them (the difference), largest first."""
        spec = plan if isinstance(plan, CompPlan) else self.comp_plan(plan)
        rec = self.comp_payouts(spec, viewer=viewer, start=start, end=end)
        aud = self.comp_payouts(spec, viewer=viewer, start=start, end=end, credit="audited", decisions=decisions)
        return gaming_gains(rec, aud)
