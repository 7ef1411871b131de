"""``GET /api/v1/tree``: every KPI placed under its catalog parent, with status and contribution (JSON or CSV)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from revalign.interfaces.server.api.report_endpoint import report_endpoint
from revalign.interfaces.server.filters import Filters, filters_for
from revalign.interfaces.server.reports.tree import ACCEPTS, tree_report

page_filters = filters_for(*ACCEPTS)
PageFilters = Annotated[Filters, Depends(page_filters)]
"""The filters the Driver tree page and API honour (the page's form shows only these)."""
router, cached_tree_report = report_endpoint("tree", "Driver tree", tree_report, page_filters)
