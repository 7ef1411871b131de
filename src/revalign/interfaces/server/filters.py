"""The filters every report accepts (period, grain, dimension, segment), parsed and checked once.

They are FastAPI query parameters with enumerated types, so OpenAPI documents the allowed values and a wrong
value is a 422 that names the parameter, never a 500 deeper down.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, Query

from revalign.interfaces.server.errors import BadRequest
from revalign.model.calendar import parse_period

Grain = Literal["day", "week", "month", "quarter", "year"]
Segment = Literal["smb", "mid_market", "enterprise", "unknown"]
Dimension = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Slice by a dimension the KPI catalog knows (e.g. channel, segment, region, owner).",
    ),
]
EARLIEST, LATEST = date(1990, 1, 1), date(2100, 12, 31)


@dataclass(frozen=True)
class Filters:
    """What the user asked to see. ``None`` means "no restriction" / "the analytic's default"."""

    start: date | None = None
    end: date | None = None
    grain: str | None = None
    period: str | None = None
    by: str | None = None
    segment: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}

    def key(self) -> tuple[Any, ...]:
        return tuple(sorted(self.as_dict().items()))


def report_filters(
    start: Annotated[date | None, Query(description="First day of the period (ISO date).")] = None,
    end: Annotated[date | None, Query(description="Last day of the period (ISO date), inclusive.")] = None,
    grain: Annotated[Grain | None, Query(description="Time grain (default: the report's own).")] = None,
    period: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9-]{4,10}$",
            description="Scorecard period label: 2025, FY2025, 2025-Q1, 2025-03, 2025-W07 or 2025-03-14.",
        ),
    ] = None,
    by: Dimension = None,
    segment: Annotated[Segment | None, Query(description="Only this customer segment.")] = None,
) -> Filters:
    """FastAPI dependency: the report filters, checked (an end before the start is a 422, not an empty page)."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and not (EARLIEST <= value <= LATEST):
            raise BadRequest(
                f"{name} must be between {EARLIEST} and {LATEST}. Got {value} instead.",
                loc=("query", name),
                rule="range",
            )
    if start is not None and end is not None and end < start:
        raise BadRequest(
            f"end ({end}) must not be before start ({start}). Swap them or widen the period.",
            loc=("query", "end"),
            rule="date_order",
        )
    if period is not None:
        try:
            parse_period(period)
        except ValueError as exc:
            raise BadRequest(str(exc), loc=("query", "period"), rule="period_label") from exc
    return Filters(start=start, end=end, grain=grain, period=period, by=by, segment=segment)


Format = Annotated[Literal["json", "csv"], Query(alias="format", description="json, or csv for one table.")]
TableName = Annotated[
    str | None,
    Query(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="Which table of the report to export as CSV."),
]
FiltersDep = Annotated[Filters, Depends(report_filters)]
