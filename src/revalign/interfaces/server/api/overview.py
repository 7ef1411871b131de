"""``GET /api/v1/overview``: the Overview report (JSON, or one table as CSV)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from revalign.interfaces.server.api.report_endpoint import report_endpoint
from revalign.interfaces.server.filters import Filters, filters_for
from revalign.interfaces.server.reports.overview import ACCEPTS, overview

page_filters = filters_for(*ACCEPTS)
PageFilters = Annotated[Filters, Depends(page_filters)]
"""The filters the Overview page and API honour (the page's form shows only these)."""
router, overview_report = report_endpoint("overview", "Overview", overview, page_filters)
