"""Numbers and periods for people: one formatting layer that the CLI, the pages and the JSON API all use.

``units`` formats one value by its unit (currency with the project's symbol, percent, percentage points, ratio,
durations, counts); ``periods`` names a period by its grain and fiscal calendar; ``tables`` gives every column of
a result table its unit and formats whole tables. It sits below the interfaces and above the definitions: it
knows the catalog's units, never how a number is computed.
"""

from revalign.display.departments import department_label
from revalign.display.periods import format_period
from revalign.display.tables import ColumnUnit, DisplayContext, column_units, format_rows
from revalign.display.units import MISSING, UNITS, change_unit, currency_symbol, format_value

__all__ = [
    "MISSING",
    "UNITS",
    "ColumnUnit",
    "DisplayContext",
    "change_unit",
    "column_units",
    "currency_symbol",
    "department_label",
    "format_period",
    "format_rows",
    "format_value",
]
