"""Submission files as departments send them, written by tests (GBK CSV, XLSX with a title row, JSON)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from tests.builders import NANJING_STEEL

SCJGJ_USCC = None  # filled from the seeded department in tests when needed

PENALTY_HEADER = [
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1（统一社会信用代码）",
    "行政相对人代码_2（工商注册号）",
    "法定代表人",
    "证件类型",
    "证件号码",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额（万元）",
    "处罚决定日期",
    "处罚有效期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "当前状态",
    "备注",
]
AUTHORITY = ("南京市市场监督管理局", "11320100MB4561374J")


def penalty(**overrides: Any) -> dict[str, Any]:
    """One valid penalty row for 南京钢铁联合有限公司, by Chinese header; override by header or short names."""
    row = {
        "行政相对人名称": "南京钢铁联合有限公司",
        "行政相对人类别": "法人及非法人组织",
        "行政相对人代码_1（统一社会信用代码）": NANJING_STEEL,
        "行政相对人代码_2（工商注册号）": "",
        "法定代表人": "王建国",
        "证件类型": "",
        "证件号码": "",
        "行政处罚决定书文号": "宁市监罚〔2026〕101号",
        "违法行为类型": "违反产品质量法",
        "违法事实": "生产销售不合格钢材",
        "处罚依据": "《中华人民共和国产品质量法》第四十九条",
        "处罚类别": "罚款",
        "处罚内容": "罚款5万元",
        "罚款金额（万元）": "5",
        "处罚决定日期": "2026-03-05",
        "处罚有效期": "2099-12-31",
        "处罚机关": AUTHORITY[0],
        "处罚机关统一社会信用代码": AUTHORITY[1],
        "数据来源单位": AUTHORITY[0],
        "数据来源单位统一社会信用代码": AUTHORITY[1],
        "当前状态": "0",
        "备注": "",
    }
    row.update(overrides)
    return row


def write_csv(
    path: Path,
    rows: list[dict[str, Any]],
    encoding: str = "utf-8",
    header: list[str] | None = None,
    title: str | None = None,
) -> Path:
    header = header or _union_keys(rows)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if title:
        w.writerow([title])
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[dict[str, Any]], title: str | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    header = _union_keys(rows)
    if title:
        ws.append([title])
        ws.append([])
    ws.append(header)
    for r in rows:
        ws.append([r.get(h) for h in header])
    wb.save(path)
    return path


def write_json(path: Path, rows: list[dict[str, Any]], lines: bool = False) -> Path:
    if lines:
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    else:
        path.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _union_keys(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r))
