"""A scorecard status for people: an icon and what it means, the same on pages and in the terminal.

The colour is never the only sign (WCAG 1.4.1): the icon and the word stay beside it wherever a status shows.
"""

from __future__ import annotations

from typing import Any

STATUS_SIGNS: dict[str, tuple[str, str]] = {
    "green": ("●", "on target"),
    "amber": ("▲", "slightly off target"),
    "red": ("■", "off target"),
    "no_target": ("○", "no target set"),
    "no_data": ("○", "no data for this period"),
    # SLA clocks (analytics/sla): met, breached, overdue (breached and still open), at risk, open
    "met": ("●", "done within the SLA's allowance"),
    "breached": ("■", "done after the SLA's allowance ran out"),
    "overdue": ("■", "past its due time and still not done"),
    "at_risk": ("▲", "most of the allowance used and not done yet"),
    "open": ("○", "running, within its allowance"),
}
"""Each status's icon and meaning."""


def status_sign(status: Any) -> tuple[str, str]:
    """``(icon, meaning)`` of a status; an unknown status: a plain dot and the word itself."""
    return STATUS_SIGNS.get(str(status), ("·", str(status).replace("_", " ")))
