"""``GET /api/v1/channels``: the Channels report (JSON, or one table as CSV)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from revalign.interfaces.server.api.report_endpoint import report_endpoint
from revalign.interfaces.server.filters import Filters, filters_for
from revalign.interfaces.server.reports.channels import ACCEPTS, ChannelKey, channels

page_filters = filters_for(*ACCEPTS, by=ChannelKey)
PageFilters = Annotated[Filters, Depends(page_filters)]
"""The filters the Channels page and API honour (the page's form shows only these)."""
router, channels_report = report_endpoint("channels", "Channels", channels, page_filters)
