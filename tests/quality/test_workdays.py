from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.quality.workdays import (
    add_working_days,
    is_working_day,
    known_year,
    unknown_years,
    working_days_between,
)

# 2004–2026 known to chinesecalendar 1.11; 2099–2101 certainly unknown (Monday–Friday fallback)
dates = st.one_of(
    st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31)),
    st.dates(min_value=date(2099, 1, 1), max_value=date(2101, 12, 31)),
)


def _count(start: date, end: date) -> int:
    """Plain day-by-day reference: working days in (start, end]."""
    return sum(is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1))


@given(dates, st.integers(min_value=0, max_value=400))
def test_adding_n_working_days_then_counting_gives_n(start, n):
    end = add_working_days(start, n)
    assert working_days_between(start, end) == n
    if n:
        assert is_working_day(end)
        assert working_days_between(start, end - timedelta(days=1)) == n - 1


@given(dates, dates)
def test_counting_matches_a_day_by_day_count_and_is_antisymmetric(a, b):
    start, end = sorted((a, b))
    if (end - start).days <= 800:
        assert working_days_between(start, end) == _count(start, end)
    assert working_days_between(b, a) == -working_days_between(a, b)


@given(dates, dates, dates)
def test_counting_is_additive(a, b, c):
    assert working_days_between(a, b) + working_days_between(b, c) == working_days_between(a, c)


def test_national_day_2026_is_not_working_but_the_make_up_saturday_is():
    for day in range(1, 8):
        assert not is_working_day(date(2026, 10, day))
    assert is_working_day(date(2026, 10, 10))  # Saturday, make-up working day (调休上班)
    assert is_working_day(date(2026, 9, 20))  # Sunday, make-up working day
    assert not is_working_day(date(2026, 9, 25))  # Mid-Autumn Festival, a Friday
    assert not is_working_day(date(2026, 10, 11))


def test_seven_working_days_across_national_day():
    # decided Monday 28 September: the 7th working day after it is Tuesday 13 October, not 7 October
    assert add_working_days(date(2026, 9, 28), 7) == date(2026, 10, 13)
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert working_days_between(date(2026, 9, 17), date(2026, 10, 10)) == 12
    assert add_working_days(date(2026, 10, 9), 0) == date(2026, 10, 9)


def test_unknown_year_falls_back_to_monday_to_friday_and_is_reported():
    assert known_year(2026)
    assert not known_year(2100)
    assert is_working_day(date(2100, 1, 1))  # a Friday; its holiday is unknown
    assert not is_working_day(date(2100, 1, 2))
    assert unknown_years(date(2026, 12, 30), date(2026, 12, 31)) == []
    assert unknown_years(date(2100, 1, 12), date(2099, 12, 30)) == [2099, 2100]
    assert working_days_between(date(2099, 12, 30), date(2100, 1, 12)) == 9


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError, match="不能为负数"):
        add_working_days(date(2026, 10, 1), -1)
