"""The dates a report covers, stated on every page ("Covers 2025-10-01 – 2025-12-31") and in its JSON twin.

A number without its dates invites the wrong comparison (a quarter's channel revenue against a year's north
star); every report says which days it counts, from the same dates it passed to the library.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any


def covers(start: date | None, end: date | None, label: str | None = None) -> dict[str, Any]:
    """``meta["covers"]`` for the half-open range ``[start, end)``: ISO ``start``, inclusive ``end``, and the
    sentence shown on the page. ``None`` on either side means unbounded (every date loaded)."""
    last = end - timedelta(days=1) if end is not None else None
    if start is None and last is None:
        text = "Covers every date loaded"
    else:
        text = f"Covers {start.isoformat() if start else 'the first date loaded'} – "
        text += last.isoformat() if last else "the last date loaded"
    if label:
        text += f" ({label})"
    return {
        "start": start.isoformat() if start else None,
        "end": last.isoformat() if last else None,
        "label": label,
        "text": text,
    }


__all__ = ["covers"]
