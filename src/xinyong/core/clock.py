"""The platform's clock. Everything stored is UTC; `now()` can be moved in tests (deadlines, terms)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_offset = timedelta(0)


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC) + _offset


def local_tz() -> ZoneInfo:
    from xinyong.config import get_settings

    return ZoneInfo(get_settings().timezone)


def today() -> date:
    """Today's date in the platform's time zone (Asia/Shanghai): deadlines count local days."""
    return now().astimezone(local_tz()).date()


def to_local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(local_tz())


def move(delta: timedelta) -> None:
    """Shift the clock (tests only): terms ending, deadlines passing."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)


_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(month: str) -> tuple[int, int]:
    """'2026-10' → (2026, 10); anything else is a clear Chinese error."""
    from xinyong.core.errors import DomainError

    match = _MONTH.match(month.strip())
    if not match:
        raise DomainError(f"月份格式应为 YYYY-MM（如 2026-10），收到“{month}”", code="bad_month")
    return int(match.group(1)), int(match.group(2))


def month_range(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a calendar month in local time (Asia/Shanghai), as UTC instants."""
    year, mon = parse_month(month)
    tz = local_tz()
    start = datetime(year, mon, 1, tzinfo=tz)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)
