"""``GET /api/v1/pipeline``: the Pipeline page's report — the quarter's landing and its pipeline waterfall."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends

from revalign.interfaces.server.api.report_endpoint import report_endpoint
from revalign.interfaces.server.filters import Filters, filters_for
from revalign.interfaces.server.reports.pipeline import ACCEPTS, pipeline_report

page_filters = filters_for(*ACCEPTS, by=Literal["team", "segment", "channel"])
PageFilters = Annotated[Filters, Depends(page_filters)]
"""The filters the Pipeline page and API honour (the page's form shows only these)."""
router, cached_pipeline_report = report_endpoint("pipeline", "Pipeline and forecast", pipeline_report, page_filters)
