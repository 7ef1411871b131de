"""Business time, worked by hand: weekends, public holidays, time zones, a DST change, the closing-time boundary.

Every expected instant below is worked out in the comment beside it from a wall calendar, not from the code.
Instants are naive UTC, as in the canonical model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from revalign.analytics.sla.calendar import BusinessCalendar, ContinuousCalendar
from revalign.definitions.agreements.spec import CalendarSpec

YEARS = [2024, 2025]
NY = BusinessCalendar.from_spec(CalendarSpec(timezone="America/New_York", holidays={"country": "US"}), YEARS)
LONDON = BusinessCalendar.from_spec(CalendarSpec(timezone="Europe/London"), YEARS)
SINGAPORE = BusinessCalendar.from_spec(CalendarSpec(timezone="Asia/Singapore", hours="09:00-18:00"), YEARS)
H = 3600.0


def ts(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values)))


def due(cal: BusinessCalendar, start: str, hours: float) -> pd.Timestamp:
    return pd.Timestamp(cal.instant(cal.working_seconds(ts(start)) + hours * H)[0])


def between(cal: BusinessCalendar, a: str, b: str) -> float:
    f = cal.working_seconds(ts(a, b))
    return (f[1] - f[0]) / H


def test_a_weekend_is_not_working_time():
    # Fri 2025-01-10 15:00 EST (20:00 UTC) + 4 business h: Fri 15–17 (2 h), Mon 09–11 (2 h) → Mon 11:00 EST = 16:00 UTC
    assert due(NY, "2025-01-10 20:00", 4) == pd.Timestamp("2025-01-13 16:00")
    # Fri 16:00 EST → Mon 10:00 EST is 1 h + 1 h
    assert between(NY, "2025-01-10 21:00", "2025-01-13 15:00") == pytest.approx(2.0)


def test_a_public_holiday_is_not_working_time():
    # Fri 2025-01-17 16:00 EST (21:00 UTC) + 8 h: Fri 1 h; Mon 01-20 is Martin Luther King Jr. Day (US holiday);
    # Tue 7 h → Tue 2025-01-21 16:00 EST = 21:00 UTC
    assert due(NY, "2025-01-17 21:00", 8) == pd.Timestamp("2025-01-21 21:00")
    # the same start on a calendar without that holiday (London: Mon is a working day): Mon 09:00 + 7 h... in London
    # Fri 21:00 UTC is after hours, so 8 h are the whole of Monday: Mon 17:00 GMT = 17:00 UTC
    assert due(LONDON, "2025-01-17 21:00", 8) == pd.Timestamp("2025-01-20 17:00")


def test_one_instant_on_two_time_zones():
    # Mon 2025-02-03 08:00 UTC. London (GMT, 09–17): before opening, so 2 h run 09–11 → 11:00 UTC.
    assert due(LONDON, "2025-02-03 08:00", 2) == pd.Timestamp("2025-02-03 11:00")
    # Singapore (UTC+8, 09–18): it is 16:00 there, 2 h run 16–18 → 18:00 SGT = 10:00 UTC.
    assert due(SINGAPORE, "2025-02-03 08:00", 2) == pd.Timestamp("2025-02-03 10:00")


def test_a_dst_change_over_the_weekend_moves_the_utc_due_time():
    # London springs forward on Sun 2025-03-30. Fri 03-28 16:00 GMT (= 16:00 UTC) + 8 h: Fri 1 h, Mon 09:00–16:00 BST
    # (7 h) → Mon 16:00 BST = 15:00 UTC (71 calendar hours later, not 72).
    assert due(LONDON, "2025-03-28 16:00", 8) == pd.Timestamp("2025-03-31 15:00")
    assert between(LONDON, "2025-03-28 16:00", "2025-03-31 15:00") == pytest.approx(8.0)
    # New York springs forward on Sun 2025-03-09: Fri 03-07 16:00 EST (21:00 UTC) + 2 h → Mon 10:00 EDT = 14:00 UTC
    assert due(NY, "2025-03-07 21:00", 2) == pd.Timestamp("2025-03-10 14:00")


def test_an_allowance_ending_at_closing_time_is_due_at_closing_not_next_morning():
    # Mon 2025-02-03 09:00 GMT + 8 h = Mon 17:00, not Tue 09:00 (the same working second, but the earlier instant)
    assert due(LONDON, "2025-02-03 09:00", 8) == pd.Timestamp("2025-02-03 17:00")


def test_time_outside_working_hours_counts_nothing():
    assert between(LONDON, "2025-02-01 10:00", "2025-02-02 23:00") == 0.0  # Saturday to Sunday night
    assert between(LONDON, "2025-02-03 17:30", "2025-02-04 08:59") == 0.0  # Monday evening to Tuesday dawn


def test_nulls_stay_null():
    f = NY.working_seconds(pd.Series([pd.Timestamp("2025-01-06 15:00"), pd.NaT]))
    assert not np.isnan(f[0]) and np.isnan(f[1])
    assert np.isnat(NY.instant(np.array([np.nan]))[0])


def test_continuous_time_is_elapsed_seconds():
    cal = ContinuousCalendar()
    f = cal.working_seconds(ts("2025-03-28 16:00", "2025-03-31 15:00"))
    assert (f[1] - f[0]) / H == 71.0
    assert pd.Timestamp(cal.instant(f[:1] + 24 * H)[0]) == pd.Timestamp("2025-03-29 16:00")


def test_vectorised_matches_one_at_a_time():
    starts = pd.Series(pd.date_range("2024-12-20", periods=400, freq="7h13min"))
    whole = NY.instant(NY.working_seconds(starts) + 5.5 * H)
    for i in (0, 57, 133, 399):
        assert whole[i] == NY.instant(NY.working_seconds(starts.iloc[[i]]) + 5.5 * H)[0]
    # and every due instant is exactly 5.5 working hours after its start
    back = NY.working_seconds(pd.Series(whole)) - NY.working_seconds(starts)
    assert back == pytest.approx(np.full(len(starts), 5.5 * H), abs=1e-3)
