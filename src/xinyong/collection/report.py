"""Rejection reports (退回明细) as XLSX or CSV (UTF-8 with BOM, opens in Excel on Windows).

Cells that a spreadsheet would run as a formula (= + - @, tab, CR) are written as text with a leading quote,
so a malicious value in a submitted file cannot execute in the clerk's Excel (OWASP CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.collection.models import Batch, Rejection
from xinyong.collection.validate import ERROR_CODES

FIXED_COLUMNS = ["原文件行号", "出错列", "错误代码", "错误类型", "错误说明"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _rows(session: Session, batch: Batch) -> tuple[list[str], Iterator[list[Any]]]:
    """Header and rows of the report, raw values as submitted (made safe by each writer)."""
    raw_columns: list[str] = []
    seen: set[str] = set()
    stmt = select(Rejection).where(Rejection.batch_id == batch.id).order_by(Rejection.row_number, Rejection.id)
    for rej in session.scalars(stmt):
        for key in rej.raw:
            if key not in seen:
                seen.add(key)
                raw_columns.append(key)

    def rows() -> Iterator[list[Any]]:
        for rej in session.scalars(stmt.execution_options(yield_per=2000)):
            fixed = [rej.row_number, rej.column or "", rej.error_code, _error_kind(rej.error_code), rej.message]
            yield fixed + [rej.raw.get(c, "") for c in raw_columns]

    return FIXED_COLUMNS + raw_columns, rows()


def _text_cell(ws: Any, value: Any) -> Any:
    """In XLSX a risky string is stored as a string cell: Excel shows it as typed and never evaluates it."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        cell = WriteOnlyCell(ws, value)
        cell.data_type = "s"
        return cell
    return value


def _error_kind(code: str) -> str:
    if code in ERROR_CODES:
        return ERROR_CODES[code]
    if code.startswith("uscc_"):
        return "统一社会信用代码错误"
    if code.startswith("rid_"):
        return "身份证号码错误"
    if code.startswith(("org_code_", "legacy_reg_no_")):
        return "组织机构代码/注册号错误"
    return code


def rejections_csv(session: Session, batch: Batch) -> bytes:
    header, rows = _rows(session, batch)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return buf.getvalue().encode("utf-8-sig")


def rejections_xlsx(session: Session, batch: Batch) -> bytes:
    header, rows = _rows(session, batch)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("退回明细")
    ws.append([f"批次 {batch.id} 退回明细：{batch.file_name}（共 {batch.rows} 行，退回 {batch.rejected} 行）"])
    ws.append(header)
    for row in rows:
        ws.append([_text_cell(ws, v) for v in row])
    wb.properties.creator = "xinyong"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def render(session: Session, batch: Batch, fmt: str) -> tuple[bytes, str, str]:
    """The report as (content, media type, download file name)."""
    stem = f"退回明细_批次{batch.id}"
    if fmt == "xlsx":
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return rejections_xlsx(session, batch), media, f"{stem}.xlsx"
    return rejections_csv(session, batch), "text/csv; charset=utf-8", f"{stem}.csv"
