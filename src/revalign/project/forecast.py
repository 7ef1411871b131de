"""The façade of the quarter forecast and the pipeline waterfall (docs/forecast.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from revalign.analytics.forecast import Backtest, QuarterLanding, backtest, last_known_day, quarter_landing
from revalign.analytics.forecast.landing import LOOKBACK
from revalign.analytics.waterfall import Waterfall, pipeline_waterfall
from revalign.display.periods import as_date
from revalign.errors import ConfigError
from revalign.model.calendar import add_periods, period_end, period_label, period_start
from revalign.project.base import DateLike, ProjectBase


class ForecastFacade(ProjectBase):
    """Where the quarter lands, how well that forecast did in past quarters, and how the pipeline moved."""

    def _as_of(self, as_of: DateLike) -> dt.date:
        """``as_of`` as a date, else the last day the ledger knows (a forecast needs the ledger)."""
        day = as_date(as_of) if as_of is not None else last_known_day(self.tables)
        if day is None:
            raise ConfigError("the forecast needs the ledger (stage history of opportunities); none is loaded")
        return day

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
        if quarters is None:
            current = period_start(self._as_of(as_of), "quarter", fs)
            quarters = [period_label(add_periods(current, "quarter", -k), "quarter", fs) for k in range(4, 0, -1)]
        return backtest(self.tables, list(quarters), weeks=weeks, by=tuple(by), lookback=lookback,
                        fiscal_year_start_month=fs, progress=progress)  # fmt: skip

    def pipeline_waterfall(self, start: DateLike = None, end: DateLike = None, *, by: Sequence[str] = ()) -> Waterfall:
        """Weekly pipeline movements from ``start`` to ``end`` (default: the quarter of the ledger's last day)."""
        fs = self.fiscal_year_start_month
        first = as_date(start) if start is not None else period_start(self._as_of(None), "quarter", fs)
        if first is None:
            raise ConfigError(f"the waterfall's start must be a date (YYYY-MM-DD); got {start!r} instead")
        last = as_date(end) if end is not None else period_end(period_start(first, "quarter", fs), "quarter")
        if last is None or last <= first:
            raise ConfigError(f"the waterfall needs start before end; got {start!r} and {end!r}")
        return pipeline_waterfall(self.tables, start=first, end=last, by=tuple(by), fiscal_year_start_month=fs)


__all__ = ["ForecastFacade"]
