"""Working days (工作日) in mainland China: weekdays minus public holidays, plus the make-up working days
(调休上班), e.g. Saturday 2026-10-10 after National Day, from the State Council's yearly holiday notice as
packaged by `chinesecalendar`.

A year `chinesecalendar` does not know (the notice for next year usually comes out in November; years
before 2004) falls back to Monday–Friday. Callers ask `unknown_years` which years a computation touched
and say so to the user ("2027年节假日安排未知，按周一至周五计算").

Counting follows the usual rule for periods (《民法典》第二百零一条: the starting day is not counted):
"within n working days after the decision" means on or before `add_working_days(decision, n)`, and
`working_days_between(start, end)` counts the working days in (start, end].
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import chinese_calendar

__all__ = ["add_working_days", "is_working_day", "known_year", "unknown_years", "working_days_between"]


@cache
def known_year(year: int) -> bool:
    """Whether `chinesecalendar` has the holiday arrangements of `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date) -> bool:
    if known_year(day.year):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


@cache
def _prefix(year: int) -> tuple[int, ...]:
    """`_prefix(y)[i]` = working days among the first i days of year y (i = 0 … days in the year)."""
    counts = [0]
    day = date(year, 1, 1)
    while day.year == year:
        counts.append(counts[-1] + is_working_day(day))
        day += timedelta(days=1)
    return tuple(counts)


def _up_to(day: date) -> int:
    """Working days from 1 January of `day`'s year up to and including `day`."""
    return _prefix(day.year)[day.timetuple().tm_yday]


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative when end is before start, 0 when equal."""
    if end < start:
        return -working_days_between(end, start)
    if start.year == end.year:
        return _up_to(end) - _up_to(start)
    total = _prefix(start.year)[-1] - _up_to(start)
    for year in range(start.year + 1, end.year):
        total += _prefix(year)[-1]
    return total + _up_to(end)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (`start` itself not counted); `start` when n is 0."""
    if n < 0:
        raise ValueError(f"工作日数不能为负数：{n}")
    day = start
    while n:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def unknown_years(start: date, end: date) -> list[int]:
    """Years in [start, end] (either order) whose holidays are unknown, i.e. counted as Monday–Friday."""
    low, high = sorted((start.year, end.year))
    return [y for y in range(low, high + 1) if not known_year(y)]
