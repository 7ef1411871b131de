"""The filters the reports accept (period, grain, dimension, segment), parsed and checked once.

They are FastAPI query parameters with enumerated types, so OpenAPI documents the allowed values and a wrong
value is a 422 that names the parameter, never a 500 deeper down. Each page declares the filters it honours
(:func:`filters_for`), and :func:`known_parameters` answers any other query parameter with a 422 naming it, so
no parameter is ever silently ignored.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Annotated, Any, Literal, get_args, get_origin

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

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
    owner: str | None = None
    team: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}

    def key(self) -> tuple[Any, ...]:
        return tuple(sorted(self.as_dict().items()))

    def dates(self, fiscal_year_start_month: int = 1) -> tuple[date | None, date | None]:
        """``(first day, day after the last)`` asked for: ``start``/``end``, else the ``period`` label's days.

        The library's ranges are half-open, so the API's inclusive ``end`` becomes the next day.
        """
        if self.period is not None and self.start is None and self.end is None:
            p = parse_period(self.period, fiscal_year_start_month)
            return p.start, p.end
        return self.start, self.end + timedelta(days=1) if self.end is not None else None


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
    owner: Annotated[str | None, Query(pattern=r"^[\w.@-]{1,64}$", description="Only this owner (a user id).")] = None,
    team: Annotated[str | None, Query(pattern=r"^[\w.-]{1,64}$", description="Only this team (a team id).")] = None,
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
        if start is not None or end is not None:
            raise BadRequest(
                "give a period label or start/end dates, not both: they could disagree.",
                loc=("query", "period"),
                rule="period_or_dates",
            )
    return Filters(start=start, end=end, grain=grain, period=period, by=by, segment=segment, owner=owner, team=team)


FILTER_NAMES = tuple(inspect.signature(report_filters).parameters)
"""Every filter a report may accept: start, end, grain, period, by, segment, owner, team."""


def filters_for(*accepted: str, **annotations: Any) -> Callable[..., Filters]:
    """A dependency parsing only the filters ``accepted`` (so OpenAPI lists just those), checked like
    :func:`report_filters`; ``annotations`` narrow a filter's type for this page (e.g. ``by=Literal[...]``).

    A filter the page does not declare is then an unknown parameter to :func:`known_parameters`: a 422 naming
    it, instead of a number computed as if it had not been asked for.
    """
    unknown = [a for a in (*accepted, *annotations) if a not in FILTER_NAMES]
    if unknown:
        raise ValueError(f"unknown filter(s) {unknown}; filters are {', '.join(FILTER_NAMES)}")
    full = inspect.signature(report_filters, eval_str=True).parameters
    params = []
    for name in accepted:
        param = full[name]
        if name in annotations:  # keep the Query(...) description, narrow the type
            meta = get_args(param.annotation)[1:] if get_origin(param.annotation) is Annotated else ()
            param = param.replace(annotation=Annotated[(annotations[name] | None, *meta)])
        params.append(param)

    def dependency(**values: Any) -> Filters:
        return report_filters(**values)

    dependency.__signature__ = inspect.Signature(params, return_annotation=Filters)  # type: ignore[attr-defined]  # FastAPI reads the signature
    return dependency


def _query_names(dependant: Dependant) -> Iterator[str]:
    for field in dependant.query_params:
        yield field.alias
    for sub in dependant.dependencies:
        yield from _query_names(sub)


def known_parameters(request: Request) -> None:
    """FastAPI dependency: a 422 naming the first query parameter the route does not declare.

    A page that silently ignored ``?grain=week`` would show numbers the reader did not ask for; naming the
    parameter and what the route accepts tells them what to do instead.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = set(_query_names(route.dependant))
    for name in request.query_params:
        if name not in allowed:
            accepts = ", ".join(sorted(allowed)) or "no query parameters"
            raise BadRequest(
                f"{name} is not a parameter of {request.url.path} (it would be ignored); it accepts: {accepts}.",
                loc=("query", name),
                rule="unknown_parameter",
            )


Format = Annotated[Literal["json", "csv"], Query(alias="format", description="json, or csv for one table.")]
TableName = Annotated[
    str | None,
    Query(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="Which table of the report to export as CSV."),
]
FiltersDep = Annotated[Filters, Depends(report_filters)]
KnownParameters = Depends(known_parameters)
"""Add to a route's ``dependencies`` so an undeclared query parameter is a 422 naming it."""
