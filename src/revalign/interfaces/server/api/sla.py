"""``GET /api/v1/sla``: the SLA report (JSON, or one table as CSV), with owner and team filters.

The numbers are computed under the agreement versions every signatory signed (read from the app state here and
handed to the report as plain data in :class:`SlaFilters`, so a signature changes the cache key and the page).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from revalign.interfaces.server.api.report_endpoint import report_endpoint
from revalign.interfaces.server.deps import ProjectDep, StoreDep
from revalign.interfaces.server.filters import Filters, filters_for
from revalign.interfaces.server.reports.sla import ACCEPTS, SlaFilters, sla
from revalign.interfaces.server.state.agreement_signoff import version_states
from revalign.interfaces.server.state.approvals import Approvals

_base_filters = filters_for(*ACCEPTS)


def page_filters(project: ProjectDep, store: StoreDep, base: Annotated[Filters, Depends(_base_filters)]) -> SlaFilters:
    """FastAPI dependency: the SLA page's filters with the agreement sign-off (so the cache keys on it)."""
    book, _ = project.checked_agreements()
    states = version_states(book, Approvals(store))
    signoff = tuple((s.spec.agreement, s.spec.version, s.status, s.counts) for s in states)
    return SlaFilters(
        start=base.start, end=base.end, period=base.period, owner=base.owner, team=base.team, signoff=signoff
    )


PageFilters = Annotated[SlaFilters, Depends(page_filters)]
"""The filters the SLA page and API honour (the page's form shows only these)."""
router, sla_report = report_endpoint("sla", "SLAs", sla, page_filters)
