"""Calendar windows as KPI definitions write them: ``"30 days"``, ``"2 weeks"``, ``"3 months"``, ``"1 year"``.

A window counts calendar units (a month is a calendar month, as MetricFlow's ``dateadd``), so it stays a
``(count, unit)`` pair until it is applied to a date. That is why it is not the funnels' ``parse_duration``
(:mod:`revalign.definitions.funnels.spec`), which reads ``"30d"``/``"12h"`` as a fixed length of time and has no
months: the two spellings mean different things and stay apart.
"""

from __future__ import annotations

import re

WINDOW_UNITS = ("day", "week", "month", "quarter", "year")
_WINDOW = re.compile(rf"\s*(\d+)\s*({'|'.join(WINDOW_UNITS)})s?\s*")


def parse_window(text: str) -> tuple[int, str]:
    """``"30 days"`` → (30, "day"). Units: day, week, month, quarter, year (singular or plural)."""
    m = _WINDOW.fullmatch(text or "")
    if not m:
        raise ValueError(f"window {text!r} must look like '30 days', '2 weeks', '3 months', '1 quarter' or '1 year'.")
    return int(m.group(1)), m.group(2)
