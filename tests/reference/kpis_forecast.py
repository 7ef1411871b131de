"""Plain pandas references for the forecast KPIs (from forecast snapshots); registered into ``REFERENCE``."""

from __future__ import annotations
