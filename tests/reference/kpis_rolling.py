"""Plain pandas references for the rolling-window (trailing) cumulative KPIs; registered into ``REFERENCE``."""

from __future__ import annotations
