"""The platform's clock. Everything stored is UTC; `now()` can be moved in tests (deadlines, terms)."""

from __future__ import annotations

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
