"""One value for reading, by its unit: ``$3,273,400``, ``36.1%``, ``+1.0 pt``, ``6.15×``, ``12.3 days``, ``207``.

Every KPI of the catalog has a unit (``definitions.kpis.spec.UNITS``); this table says how each one reads, so a
number never shows as a fraction (0.3607), a ratio never as a percentage (737.5 %) and a count never with decimals
(207.00). Values are stored as the library computes them: a percent is a fraction (0.361 → 36.1 %); the
``…_x100`` units are for the few numbers the library already multiplies by 100 (the driver tree's percentages).

The text is for people only: the JSON API keeps the raw value beside it and CSV keeps raw values.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal

from revalign.definitions.kpis.spec import UNITS as CATALOG_UNITS

MISSING = "—"
MINUS = "\u2212"
"""The typographic minus: ``−1.2%`` lines up with ``+1.2%`` where a hyphen would not."""

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥", "KRW": "₩"}
"""Currencies written with a symbol in front; any other code is written in front with a space (``CHF 1,200``)."""

Kind = Literal["count", "currency", "percent", "points", "ratio", "duration", "number"]


@dataclass(frozen=True)
class Unit:
    """How the numbers of one unit read: the kind of number, a factor applied first, and a suffix."""

    kind: Kind
    scale: float = 1.0
    suffix: str = ""


UNITS: dict[str, Unit] = {
    "count": Unit("count"),
    "people": Unit("count"),
    "currency": Unit("currency"),
    "currency_per_day": Unit("currency", suffix="/day"),
    "percent": Unit("percent", scale=100.0),
    "ratio": Unit("ratio"),
    "days": Unit("duration", suffix=" days"),
    "hours": Unit("duration", suffix=" h"),
    "months": Unit("duration", suffix=" months"),
    "score": Unit("number"),
    # display-only units: differences and numbers the library already gives in percent
    "percent_points": Unit("points", scale=100.0),
    "percent_x100": Unit("percent"),
    "percent_points_x100": Unit("points"),
    "number": Unit("number"),
}
"""Every unit a value can be shown in: the catalog's units first, then those only tables use."""

if missing := set(CATALOG_UNITS) - set(UNITS):  # a unit the catalog allows must read right
    raise AssertionError(f"display units lack catalog units {sorted(missing)}")

CHANGE_UNITS = {"percent": "percent_points", "percent_x100": "percent_points_x100"}


def change_unit(unit: str | None) -> str | None:
    """The unit of a difference of two values in ``unit``: a change of a percent is in percentage points."""
    return CHANGE_UNITS.get(unit, unit) if unit else unit


def currency_symbol(code: str) -> str:
    """What goes before an amount in ``code``: ``$`` for USD, ``CHF `` for a currency without a symbol here."""
    code = (code or "USD").upper()
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


def is_missing(value: Any) -> bool:
    """None, NaN and NaT (pandas' missing time) are all "no value"."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ == "NaTType"


def _magnitude(x: float, unit: Unit, currency: str) -> str:
    """``|x|`` in ``unit``, without a sign."""
    kind = unit.kind
    if kind == "count":
        return f"{x:,.0f}" if x == round(x) else f"{x:,.1f}"
    if kind == "currency":
        prefix = currency_symbol(currency)
        whole = x >= 1000 or x == round(x)  # cents only where they matter: $45.12, not $0.00 or $1,234,567.89
        return f"{prefix}{x:,.0f}{unit.suffix}" if whole else f"{prefix}{x:,.2f}{unit.suffix}"
    if kind == "percent":
        return f"{x:,.1f}%"
    if kind == "points":
        text = f"{x:,.1f}"
        return f"{text} pt" if text == "1.0" else f"{text} pts"
    if kind == "ratio":
        return f"{x:,.2f}×"
    if kind == "duration":
        return f"{x:,.1f}{unit.suffix}"
    if x >= 1000:
        return f"{x:,.0f}"
    return f"{x:,.2f}" if x >= 1 or x == 0 else f"{x:.3g}"


def format_value(value: Any, unit: str | None = None, *, currency: str = "USD", signed: bool = False) -> str:
    """``value`` for reading, in ``unit`` (a name of :data:`UNITS`; None or unknown: a plain number).

    Missing is ``—``; ``signed`` (and every percentage-point value) puts ``+`` before a positive number; a
    negative number gets ``−``. Text, dates and booleans read as they are (a date without its midnight time).
    """
    if is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, numbers.Real):  # numpy's numbers are registered as Real too
        return str(value)
    spec = UNITS.get(unit or "number", UNITS["number"])
    if math.isinf(value):
        return (MINUS if value < 0 else "") + "∞"
    x = float(value) * spec.scale
    text = _magnitude(abs(x), spec, currency)
    if x < 0:
        return MINUS + text
    if x > 0 and (signed or spec.kind == "points"):
        return "+" + text
    return text


__all__ = ["CURRENCY_SYMBOLS", "MINUS", "MISSING", "UNITS", "Unit", "change_unit", "currency_symbol", "format_value"]
