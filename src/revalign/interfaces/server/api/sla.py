"""``GET /api/v1/sla``: the SLA report (JSON, or one table as CSV), with owner and team filters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from revalign.interfaces.server.api.report_endpoint import report_endpoint
from revalign.interfaces.server.filters import Filters, filters_for
from revalign.interfaces.server.reports.sla import ACCEPTS, sla

page_filters = filters_for(*ACCEPTS)
PageFilters = Annotated[Filters, Depends(page_filters)]
"""The filters the SLA page and API honour (the page's form shows only these)."""
router, sla_report = report_endpoint("sla", "SLAs", sla, page_filters)
