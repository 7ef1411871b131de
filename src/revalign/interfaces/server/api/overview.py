"""``GET /api/v1/overview``: the Overview report (JSON, or one table as CSV)."""

from __future__ import annotations

from revalign.interfaces.server.api.report_endpoint import report_endpoint
from revalign.interfaces.server.reports.overview import overview

router, overview_report = report_endpoint("overview", "Overview", overview)
