"""``GET /api/v1/channels``: the Channels report (JSON, or one table as CSV)."""

from __future__ import annotations

from revalign.interfaces.server.api.report_endpoint import report_endpoint
from revalign.interfaces.server.reports.channels import channels

router, channels_report = report_endpoint("channels", "Channels", channels)
