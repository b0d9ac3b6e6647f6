"""File layouts of the demo departments: format, encoding, header style, date style, and writers.

Each department keeps one layout for all its files (as real units do); which department gets which
layout is drawn from the seed. XLSX files are written with fixed timestamps so that the same seed
gives byte-identical workbooks.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

from xinyong.demo.records import LICENSE, BadDate, Row
from xinyong.demo.words import Words

TEXT_DATE_STYLES = ("iso", "slash", "cn", "compact", "datetime")
_EXCEL_EPOCH = date(1899, 12, 30)
#: Share of rows whose dates are written in another text style than the file's.
OTHER_DATE_STYLE_SHARE = 0.08


@dataclass(frozen=True)
class Layout:
    format: str  # csv | xlsx | json | jsonl
    encoding: str | None  # utf-8 | utf-8-sig | gbk | None (xlsx)
    header_style: str  # label | v2 | v1 | mixed
    title_row: bool  # xlsx: a title row and a blank row above the header
    date_style: str  # one of TEXT_DATE_STYLES, or excel_date / excel_serial (xlsx)
    wording: str = "new"  # 处罚类别 wording: old | new | mixed
    late: bool = False  # submits later than the 7-working-day deadline

    @property
    def extension(self) -> str:
        return self.format

    @property
    def header_row(self) -> int:
        """1-based row of the header line (0: JSON, which has none)."""
        if self.format in ("json", "jsonl"):
            return 0
        return 3 if self.title_row else 1


#: (weight, layout). GBK CSV with Chinese labels is the most common (older units).
_TEMPLATES: tuple[tuple[int, Layout], ...] = (
    (10, Layout("csv", "gbk", "label", False, "slash")),
    (8, Layout("csv", "gbk", "label", False, "iso")),
    (5, Layout("csv", "gbk", "v1", False, "compact")),
    (4, Layout("csv", "gbk", "mixed", False, "cn")),
    (5, Layout("csv", "utf-8-sig", "label", False, "iso")),
    (4, Layout("csv", "utf-8", "v2", False, "iso")),
    (3, Layout("csv", "utf-8", "v2", False, "datetime")),
    (6, Layout("xlsx", None, "label", True, "excel_date")),
    (4, Layout("xlsx", None, "label", False, "excel_serial")),
    (3, Layout("xlsx", None, "v2", False, "iso")),
    (3, Layout("xlsx", None, "mixed", True, "cn")),
    (3, Layout("xlsx", None, "v1", False, "excel_date")),
    (4, Layout("json", "utf-8", "v2", False, "iso")),
    (3, Layout("jsonl", "utf-8", "v2", False, "datetime")),
    (1, Layout("json", "utf-8", "label", False, "iso")),
)


def assign_layouts(rng: random.Random, departments: Sequence[str]) -> dict[str, Layout]:
    """One layout per department: every template at least once (when there are enough
    departments), the rest drawn by weight."""
    pool = [layout for _, layout in _TEMPLATES]
    extra = max(0, len(departments) - len(pool))
    pool += rng.choices(pool, weights=[w for w, _ in _TEMPLATES], k=extra)
    rng.shuffle(pool)
    return {
        code: replace(layout, wording=rng.choice(["old", "new", "new", "mixed"]), late=rng.random() < 0.15)
        for code, layout in zip(sorted(departments), pool, strict=False)
    }


# --- headers and values ---------------------------------------------------------------------------


def columns(words: Words, cls: str, style: str, rng: random.Random) -> list[tuple[str, str]]:
    """(source key, header text) per column. ``mixed`` draws code or label column by column."""
    spec = words.headers[cls]
    if cls == "registration":
        return [(label, label) for label in spec["label"]]
    if style == "v1":
        return [(code, code) for code in spec["v1"]]
    if style == "v2":
        return [(code, code) for code, _ in spec["v2"]]
    if style == "label":
        return [(code, label) for code, label in spec["v2"]]
    return [(code, rng.choice([code, label])) for code, label in spec["v2"]]


def v1_values(row: Row, region: str, stamp: str) -> dict[str, Any]:
    """A row in the 2016-era v1 codes: 处罚类别 split over CF_CFLB1/CF_CFLB2, 处罚内容 as CF_JG; a
    licence's 当前状态 uses the v1 code list (0 = 正常, 1 = 撤销), not 2.0's 1 = 有效."""
    v = row.values
    if row.cls == LICENSE:
        return {
            "XK_WSH": v["XK_WSH"], "XK_XMMC": row.title, "XK_SPLB": v["XK_XKLB"], "XK_NR": v["XK_NR"],
            "XK_XDR": v["XK_XDR_MC"], "XK_XDR_SHXYM": v["XK_XDR_SHXYM"], "XK_XDR_ZDM": v["XK_XDR_ZZJG"],
            "XK_XDR_GSDJ": v["XK_XDR_GSZC"], "XK_XDR_SWDJ": v["XK_XDR_SWDJ"], "XK_XDR_SFZ": v["XK_XDR_ZJHM"],
            "XK_FR": v["XK_FRDB"], "XK_JDRQ": v["XK_JDRQ"], "XK_JZQ": v["XK_YXQZI"], "XK_XZJG": v["XK_XKJG"],
            "XK_ZT": "0" if v["XK_ZT"] == "1" else v["XK_ZT"], "DFBM": region, "SJC": stamp, "BZ": v["BZ"],
        }  # fmt: skip
    cats = v["CF_CFLB"]
    return {
        "CF_WSH": v["CF_WSH"], "CF_CFMC": row.title, "CF_CFLB1": cats[0] if cats else "",
        "CF_CFLB2": ";".join(cats[1:]), "CF_SY": v["CF_SY"], "CF_YJ": v["CF_YJ"], "CF_XDR_MC": v["CF_XDR_MC"],
        "CF_XDR_SHXYM": v["CF_XDR_SHXYM"], "CF_XDR_ZDM": v["CF_XDR_ZZJG"], "CF_XDR_GSDJ": v["CF_XDR_GSZC"],
        "CF_XDR_SWDJ": v["CF_XDR_SWDJ"], "CF_XDR_SFZ": v["CF_XDR_ZJHM"], "CF_FR": v["CF_FRDB"], "CF_JG": v["CF_NR"],
        "CF_JDRQ": v["CF_JDRQ"], "CF_XZJG": v["CF_CFJG"], "CF_ZT": v["CF_ZT"], "DFBM": region, "SJC": stamp,
        "BZ": v["BZ"],
    }  # fmt: skip


def format_date(value: date | BadDate, style: str) -> Any:
    """A date as departments write it. Excel styles give a date cell or a serial number; a date
    that does not exist is always text."""
    if isinstance(value, date) and style == "excel_date":
        return value
    if isinstance(value, date) and style == "excel_serial":
        return (value - _EXCEL_EPOCH).days
    y, m, d = value.year, value.month, value.day
    if style == "slash":
        return f"{y}/{m}/{d}"
    if style == "cn":
        return f"{y}年{m}月{d}日"
    if style == "compact":
        return f"{y}{m:02d}{d:02d}"
    if style == "datetime":
        return f"{y}-{m:02d}-{d:02d} 00:00:00"
    return f"{y}-{m:02d}-{d:02d}"


def cell(value: Any, fmt: str, date_style: str) -> Any:
    if isinstance(value, date | BadDate):
        return format_date(value, date_style)
    if isinstance(value, Decimal):
        return float(value) if fmt in ("xlsx", "json", "jsonl") else format(value, "f")
    if isinstance(value, list):
        return ";".join(value)
    return value


def render_rows(
    records: Sequence[dict[str, Any]], keys: Sequence[str], layout: Layout, rng: random.Random
) -> list[list[Any]]:
    """Cells of each record in column order; a few rows use another date style than the file's."""
    out = []
    for record in records:
        style = layout.date_style
        if rng.random() < OTHER_DATE_STYLE_SHARE:
            style = rng.choice([s for s in TEXT_DATE_STYLES if s != style])
        out.append([cell(record.get(key, ""), layout.format, style) for key in keys])
    return out


# --- writers --------------------------------------------------------------------------------------


def file_bytes(layout: Layout, headers: list[str], rows: list[list[Any]], title: str, stamp: datetime) -> bytes:
    if layout.format == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(headers)
        writer.writerows(rows)
        return buf.getvalue().encode(layout.encoding or "utf-8")
    if layout.format == "json":
        objects = [dict(zip(headers, r, strict=True)) for r in rows]
        return (json.dumps(objects, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if layout.format == "jsonl":
        lines = [json.dumps(dict(zip(headers, r, strict=True)), ensure_ascii=False) for r in rows]
        return "".join(line + "\n" for line in lines).encode("utf-8")
    return xlsx_bytes(headers, rows, title if layout.title_row else "", stamp)


def xlsx_bytes(headers: list[str], rows: list[list[Any]], title: str, stamp: datetime) -> bytes:
    """A workbook whose bytes depend only on its content and ``stamp``: openpyxl stamps the save
    time into docProps/core.xml and the zip entries, so both are rewritten."""
    wb = Workbook(write_only=True)
    wb.properties.creator = "xinyong demo"
    wb.properties.created = stamp
    ws = wb.create_sheet("Sheet1")
    if title:
        ws.append([title])
        ws.append([])
    ws.append(headers)
    for r in rows:
        ws.append(r)
    raw = io.BytesIO()
    wb.save(raw)
    return _restamp(raw.getvalue(), stamp)


def _restamp(data: bytes, stamp: datetime) -> bytes:
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            payload = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                payload = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + iso, payload)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, payload)
    return out.getvalue()
