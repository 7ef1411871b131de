"""``GET /api/v1/funnel``: the Funnel report (JSON, or one table as CSV)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from revalign.interfaces.server.api.report_endpoint import report_endpoint
from revalign.interfaces.server.filters import Filters, filters_for
from revalign.interfaces.server.reports.funnel import ACCEPTS, FunnelKey, funnel

page_filters = filters_for(*ACCEPTS, by=FunnelKey)
PageFilters = Annotated[Filters, Depends(page_filters)]
"""The filters the Funnel page and API honour (the page's form shows only these)."""
router, funnel_report = report_endpoint("funnel", "Funnel", funnel, page_filters)
