"""``GET /api/v1/funnel``: the Funnel report (JSON, or one table as CSV)."""

from __future__ import annotations

from revalign.interfaces.server.api.report_endpoint import report_endpoint
from revalign.interfaces.server.reports.funnel import funnel

router, funnel_report = report_endpoint("funnel", "Funnel", funnel)
