"""Business time: working seconds between instants, and the instant an allowance of working seconds runs out.

A calendar is working days (a numpy weekmask), one span of working hours a day in local wall-clock time,
holidays (public ones from the ``holidays`` package plus the company's own dates) and a time zone. Everything is
vectorised over arrays of clocks with numpy's business-day functions:

    F(t) = busday_count(EPOCH, day(t)) · H + clip(time_of_day(t) − open, 0, H)   (if day(t) is a working day)
    F(t) = busday_count(EPOCH, day(t)) · H                                         (otherwise)

is the number of working seconds from a fixed epoch to the local time ``t`` (``H`` = the working day's length), so
the working time between two instants is ``F(b) − F(a)``, and the due instant of an allowance ``A`` started at
``a`` is ``F⁻¹(F(a) + A)``: the ``k``-th working day with ``k = ⌈x / H⌉ − 1`` (``np.busday_offset``), at ``open +
(x − k·H)``. An allowance that runs out exactly at closing time is due at closing time, not at the next opening.

What is written by hand and why: numpy has working *days* but no working *hours*, and pandas' ``BusinessHour``
offset applies one offset at a time (a Python loop per clock) and knows no time zones; the two formulas above
are the whole of the hand-written part. Instants are naive UTC (the canonical model's convention); they are
converted to local wall-clock time with pandas' time-zone database before ``F`` and back after ``F⁻¹``, so a
DST change between two working days moves the UTC due time by the hour it should. Working hours are assumed not
to contain the DST jump itself (02:00–03:00 local, or 01:00 in Europe); no office opens then.

A *continuous* calendar (no ``calendar:`` on the SLA) is plain elapsed time in UTC: ``F(t)`` = epoch seconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import holidays
import numpy as np
import pandas as pd

from revalign.definitions.agreements.spec import WEEKDAYS, CalendarSpec

EPOCH = np.datetime64("2000-01-03", "D")  # a Monday; any fixed day works (counts before it are negative)
_US_PER_S = 1_000_000


@dataclass(frozen=True)
class BusinessCalendar:
    """A calendar ready for arithmetic: weekmask, holidays as ``datetime64[D]``, the day span, the zone."""

    timezone: str
    weekmask: str
    holidays: np.ndarray
    open_s: float
    close_s: float

    @property
    def day_seconds(self) -> float:
        return self.close_s - self.open_s

    @classmethod
    def from_spec(cls, spec: CalendarSpec, years: Sequence[int]) -> BusinessCalendar:
        """The spec's calendar with public holidays of ``years`` (the years the clocks span)."""
        days: set[dt.date] = set(spec.dates)
        if spec.holidays is not None:
            public = holidays.country_holidays(spec.holidays.country, subdiv=spec.holidays.subdivision, years=years)
            days.update(public.keys())
        weekmask = "".join("1" if d in spec.workdays else "0" for d in WEEKDAYS)
        open_s, close_s = spec.span
        arr = np.array(sorted(days), dtype="datetime64[D]")
        return cls(spec.timezone, weekmask, arr, open_s, close_s)

    @property
    def busdays(self) -> np.busdaycalendar:
        return np.busdaycalendar(weekmask=self.weekmask, holidays=self.holidays)

    def working_seconds(self, utc: pd.Series | np.ndarray) -> np.ndarray:
        """``F(t)``: working seconds from the epoch to each naive-UTC instant (``nan`` where it is null)."""
        local = to_local(utc, self.timezone)
        valid = ~np.isnat(local)
        day = local.astype("datetime64[D]")
        safe = np.where(valid, day, EPOCH)
        tod = (local - day).astype("timedelta64[us]").astype("float64") / _US_PER_S
        before = np.busday_count(EPOCH, safe, busdaycal=self.busdays).astype("float64")
        open_today = np.is_busday(safe, busdaycal=self.busdays)
        inside = np.where(open_today, np.clip(tod - self.open_s, 0.0, self.day_seconds), 0.0)
        return np.where(valid, before * self.day_seconds + inside, np.nan)

    def instant(self, seconds: np.ndarray) -> np.ndarray:
        """``F⁻¹``: the naive-UTC instant at which ``seconds`` working seconds from the epoch are reached."""
        x = np.asarray(seconds, dtype="float64")
        valid = ~np.isnan(x)
        k = np.where(valid, np.ceil(np.where(valid, x, 1.0) / self.day_seconds) - 1, 0).astype("int64")
        day = np.busday_offset(EPOCH, k, roll="forward", busdaycal=self.busdays)
        rest = np.where(valid, x - k * self.day_seconds, 0.0) + self.open_s
        local = day.astype("datetime64[us]") + np.round(rest * _US_PER_S).astype("timedelta64[us]")
        out = to_utc(local, self.timezone)
        return np.where(valid, out, np.datetime64("NaT"))


@dataclass(frozen=True)
class ContinuousCalendar:
    """Elapsed time around the clock (no working hours, no holidays): ``F(t)`` is the UTC epoch second."""

    day_seconds: float = 86400.0

    def working_seconds(self, utc: pd.Series | np.ndarray) -> np.ndarray:
        t = np.asarray(pd.to_datetime(pd.Series(utc)).to_numpy(), dtype="datetime64[us]")
        secs = t.astype("int64").astype("float64") / _US_PER_S
        return np.where(np.isnat(t), np.nan, secs)

    def instant(self, seconds: np.ndarray) -> np.ndarray:
        x = np.asarray(seconds, dtype="float64")
        valid = ~np.isnan(x)
        us = np.round(np.where(valid, x, 0.0) * _US_PER_S).astype("int64")
        return np.where(valid, us.astype("datetime64[us]"), np.datetime64("NaT"))


Calendar = BusinessCalendar | ContinuousCalendar


def to_local(utc: pd.Series | np.ndarray, tz: str) -> np.ndarray:
    """Naive UTC → naive local wall-clock time in ``tz`` (``datetime64[us]``, NaT kept)."""
    idx = pd.DatetimeIndex(pd.to_datetime(pd.Series(utc)).to_numpy()).tz_localize("UTC").tz_convert(tz)
    return np.asarray(idx.tz_localize(None).to_numpy(), dtype="datetime64[us]")


def to_utc(local: np.ndarray, tz: str) -> np.ndarray:
    """Naive local wall-clock time in ``tz`` → naive UTC (a time in a DST gap moves forward; a repeated hour is
    read as standard time — neither happens inside working hours)."""
    idx = pd.DatetimeIndex(local)
    aware = idx.tz_localize(tz, ambiguous=np.zeros(len(idx), dtype=bool), nonexistent="shift_forward")
    return np.asarray(aware.tz_convert("UTC").tz_localize(None).to_numpy(), dtype="datetime64[us]")


__all__ = ["EPOCH", "BusinessCalendar", "Calendar", "ContinuousCalendar", "to_local", "to_utc"]
