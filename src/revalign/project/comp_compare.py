"""The façade of the what-if (docs/incentives.md): a draft plan read from a file, and plans compared side by side
over the same past periods, with the alignment of pay (north-star share, rank correlation with audited
contribution)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from revalign.analytics.incentives.alignment import CONTRIBUTION, audited_contribution
from revalign.analytics.incentives.compare import PlanComparison, PlanRun, compare_plans
from revalign.analytics.incentives.credit import members, people_records
from revalign.analytics.privacy import Viewer
from revalign.definitions.comp import CompPlan, check_comp_plans
from revalign.definitions.issues import errors, problems
from revalign.errors import CatalogError, ConfigError, PermissionDenied
from revalign.project.base import DateLike
from revalign.project.comp import CompFacade

AGGREGATE_PAY = (
    "A comparison of plans sums many people's pay (total cost, distribution, rank correlation): it is for the "
    "finance, RevOps and admin roles. Your own statements are on the incentives page."
)


class CompareFacade(CompFacade):
    """Draft plans and plan comparison (``revalign comp compare``, the incentives page)."""

    def comp_draft(self, path: str | Path) -> CompPlan:
        """The plan in the draft file ``path`` (not yet in ``comp_plans/``), read and checked like the plans in
        the folder: every problem raises :class:`CatalogError` with file:line."""
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"no draft plan file at {file}.")
        plans, issues = check_comp_plans([(file.read_text(encoding="utf-8"), str(file))])
        bad = errors(issues)
        if bad:
            raise CatalogError(problems(bad, "the draft plan"), bad)
        if len(plans) != 1:
            raise ConfigError(f"{file}: a draft file holds one plan version; it holds {len(plans)}.")
        return plans[0]

    def comp_compare(
        self,
        plans: Sequence[str | CompPlan],
        *,
        viewer: Viewer | None,
        drafts: Sequence[CompPlan] = (),
        start: DateLike = None,
        end: DateLike = None,
        decisions: Mapping[str, str] | None = None,
    ) -> PlanComparison:
        """``plans`` (names or plans) and ``drafts`` side by side over ``[start, end)``: cost of sales, its share of
        new revenue, the distribution of pay, and the alignment of pay against each person's audited contribution.

        A comparison sums many people's pay, so it is for a trusted caller (``viewer=None``) or a pay-data role;
        anyone else gets :class:`PermissionDenied` (their own statements come from :meth:`comp_payouts`)."""
        if viewer is not None and not viewer.sees_all_pay:
            raise PermissionDenied(AGGREGATE_PAY)
        people = people_records(self.tables)
        runs = []
        for spec, draft in [*((p, False) for p in plans), *((d, True) for d in drafts)]:
            plan = spec if isinstance(spec, CompPlan) else self.comp_plan(spec)
            label = f"{plan.name} v{plan.version}" + (" (draft)" if draft else "")
            pay = self.comp_payouts(plan, viewer=None, start=start, end=end)
            runs.append(PlanRun(label, plan, pay, members(plan, people)))
        contribution = audited_contribution(self.credit_tables("audited", decisions=decisions), start=start, end=end)
        revenue = float(audited_contribution(self.tables, start=start, end=end)[CONTRIBUTION].sum())
        return compare_plans(runs, contribution, new_revenue=revenue)
