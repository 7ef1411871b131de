"""The façade of the quarter forecast and the pipeline waterfall (docs/forecast.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from revalign.analytics.forecast import Backtest, QuarterLanding, backtest, last_known_day, quarter_landing
from revalign.analytics.forecast.landing import LOOKBACK
from revalign.analytics.waterfall import Waterfall, pipeline_waterfall
from revalign.display.periods import as_date
from revalign.errors import ConfigError
from revalign.model.calendar import add_periods, parse_period, period_end, period_label, period_start
from revalign.project.base import DateLike, ProjectBase
from revalign.project.memo import per_data_version

YEARS = (1900, 2999)
"""Days a forecast or waterfall may be asked about (the calendar arithmetic needs room on both sides)."""
MAX_WEEKS = 157
"""The longest waterfall: three years of weeks."""
MAX_QUARTERS = 12
"""The most quarters one backtest runs (each costs 13 landings)."""


def _day(value: DateLike, what: str) -> dt.date:
    """``value`` as a date within :data:`YEARS`, else a ConfigError that says what was wrong."""
    day = as_date(value)
    if day is None or not YEARS[0] <= day.year <= YEARS[1]:
        raise ConfigError(f"{what} must be a date (YYYY-MM-DD) in {YEARS[0]}–{YEARS[1]}; got {value!r} instead")
    return day


class ForecastFacade(ProjectBase):
    """Where the quarter lands, how well that forecast did in past quarters, and how the pipeline moved."""

    def _as_of(self, as_of: DateLike) -> dt.date:
        """``as_of`` as a date, else the last day the ledger knows (a forecast needs the ledger)."""
        if not self.tables.has("ledger"):
            raise ConfigError("the forecast needs the ledger (stage history of opportunities); none is loaded")
        if as_of is not None:
            return _day(as_of, "as_of")
        day = last_known_day(self.tables)
        if day is None:
            raise ConfigError("the forecast needs the ledger (stage history of opportunities); it is empty")
        return day

    @per_data_version
    def quarter_landing(
        self, as_of: DateLike = None, *, by: Sequence[str] = (), lookback: int = LOOKBACK
    ) -> QuarterLanding:
        """The landing of the quarter containing ``as_of`` (default: the ledger's last day), split by ``by``."""
        fs = self.fiscal_year_start_month
        return quarter_landing(self.tables, self._as_of(as_of), by=tuple(by), lookback=lookback,
                               fiscal_year_start_month=fs)  # fmt: skip

    def forecast_backtest(
        self,
        quarters: Sequence[str] | None = None,
        *,
        as_of: DateLike = None,
        weeks: Sequence[int] = tuple(range(1, 14)),
        by: Sequence[str] = (),
        lookback: int = LOOKBACK,
        progress: Callable[[int, int], None] | None = None,
    ) -> Backtest:
        """The backtest over ``quarters`` (default: the four quarters before the one containing ``as_of``)."""
        fs = self.fiscal_year_start_month
        current = period_start(self._as_of(as_of), "quarter", fs)
        if quarters is None:
            quarters = [period_label(add_periods(current, "quarter", -k), "quarter", fs) for k in range(4, 0, -1)]
        if not 0 < len(quarters) <= MAX_QUARTERS:
            raise ConfigError(f"a backtest runs 1 to {MAX_QUARTERS} quarters; got {len(quarters)}")
        for q in quarters:
            try:
                start = parse_period(q, fs).start
            except ValueError as exc:
                raise ConfigError(f"quarter {q!r} is not a quarter such as 2025-Q2 ({exc})") from exc
            _day(start, f"quarter {q!r}")
        return backtest(self.tables, list(quarters), weeks=weeks, by=tuple(by), lookback=lookback,
                        fiscal_year_start_month=fs, progress=progress)  # fmt: skip

    @per_data_version
    def pipeline_waterfall(self, start: DateLike = None, end: DateLike = None, *, by: Sequence[str] = ()) -> Waterfall:
        """Weekly pipeline movements from ``start`` to ``end`` (default: the quarter of the ledger's last day)."""
        fs = self.fiscal_year_start_month
        first = _day(start, "start") if start is not None else period_start(self._as_of(None), "quarter", fs)
        last = _day(end, "end") if end is not None else period_end(period_start(first, "quarter", fs), "quarter")
        if not first < last <= first + dt.timedelta(weeks=MAX_WEEKS):
            raise ConfigError(f"the waterfall needs start before end, {MAX_WEEKS} weeks at most; got {first} … {last}")
        return pipeline_waterfall(self.tables, start=first, end=last, by=tuple(by), fiscal_year_start_month=fs)


__all__ = ["ForecastFacade"]
