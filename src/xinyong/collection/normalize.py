"""What people type, made comparable: trimmed text, half-width codes and numbers, dates in any of the
spellings departments use, amounts in 万元. Pure functions; each returns None for blank and raises
ValueError with a Chinese reason for what cannot be read."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

EXCEL_EPOCH = date(1899, 12, 30)  # Excel's day 0 (1900 leap-year bug included)
_BLANK = {"", "null", "none", "nan", "无", "/", "-", "——", "--"}
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_AMOUNT_UNIT = re.compile(r"^(?P<num>[-+]?[\d,，]*\.?\d+)\s*(?P<unit>万元|万|元)?$")


def text(value: Any) -> str | None:
    """Trimmed text; None when blank. Numbers from spreadsheets lose a spurious `.0`."""
    if value is None:
        return None
    if isinstance(value, str):
        if "\u3000" in value or "\ufeff" in value:
            value = value.replace("\u3000", " ").replace("\ufeff", "")
        s = value.strip()
        return None if not s or (len(s) <= 4 and s.lower() in _BLANK) else s
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    s = str(value).replace("\u3000", " ").replace("\ufeff", "").strip()
    return None if s.lower() in _BLANK else s


def half_width(value: str) -> str:
    """Full-width letters, digits and punctuation → half-width (NFKC)."""
    return unicodedata.normalize("NFKC", value)


def parse_date(value: Any) -> date | None:
    """2026-03-05, 2026/3/5, 2026.3.5, 2026年3月5日, 20260305, 2026-10-08 00:00:00, an Excel cell or serial."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel_serial(float(value))
    s = text(value)
    if s is None:
        return None
    s = half_width(s).strip()
    for pattern in _DATE_PATTERNS:
        m = pattern.match(s)
        if m:
            y, mo, d = (int(g) for g in m.groups()[:3])
            try:
                return date(y, mo, d)
            except ValueError:
                raise ValueError(f"日期“{s}”不存在（{y}年{mo}月没有{d}日或月份有误）") from None
    if re.fullmatch(r"\d{5}(\.\d+)?", s):
        return _excel_serial(float(s))
    raise ValueError(f"无法识别的日期“{s}”，请写成 2026-03-05 这样的格式")


def _excel_serial(serial: float) -> date:
    if not 1 <= serial < 2958466:
        raise ValueError(f"无法识别的 Excel 日期序号 {serial}")
    return EXCEL_EPOCH + timedelta(days=int(serial))


def parse_amount(value: Any, unit: str | None = "万元") -> Decimal | None:
    """A number in the field's unit (万元 for 双公示 amounts). `5000元` is converted; `1,000` accepted."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    s = text(value)
    if s is None:
        return None
    s = half_width(s).replace(" ", "")
    m = _AMOUNT_UNIT.match(s)
    if not m:
        raise ValueError(f"“{s}”不是数字")
    try:
        number = Decimal(m.group("num").replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise ValueError(f"“{s}”不是数字") from None
    written = m.group("unit")
    if unit == "万元" and written == "元":
        number = number / Decimal(10000)
    return number


def parse_integer(value: Any) -> int | None:
    amount = parse_amount(value, unit=None)
    if amount is None:
        return None
    if amount != amount.to_integral_value():
        raise ValueError(f"“{value}”应为整数")
    return int(amount)
