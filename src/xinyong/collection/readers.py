"""Readers for what departments really send: CSV in UTF-8 (with or without BOM), GBK or GB18030; XLSX whose
header row may sit below a title; JSON arrays or JSON lines. Rows stream, so memory stays flat in file size
(JSON arrays excepted: they are parsed whole).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xinyong.core.errors import DomainError

SAMPLE_BYTES = 1 << 20
HEADER_SCAN_ROWS = 20


class ReadError(DomainError):
    """The file cannot be read at all: the batch is refused and nothing is stored."""


@dataclass
class RowSource:
    """Rows of one file: `header` as written, rows as lists of cell values with their 1-based row number."""

    format: str
    encoding: str | None
    header: list[str]
    header_row: int
    rows: Iterator[tuple[int, list[Any]]]
    warnings: list[str] = field(default_factory=list)
    close: Callable[[], None] = lambda: None


def detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".json",):
        return "json"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".txt"):
        return "csv"
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK"):
        return "xlsx"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"[", b"{")):
        return "json" if stripped.startswith(b"[") else "jsonl"
    return "csv"


def detect_encoding(path: Path) -> str:
    """BOM → utf-8-sig; valid UTF-8 sample → utf-8; else the GB family, read as GB18030 (a superset of GBK)."""
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample[:200_000]).best()
    name = (best.encoding if best else "").lower().replace("_", "")
    if not best or name in ("gbk", "gb2312", "gb18030", "hz", "cp936", "big5"):
        return "gb18030"
    return best.encoding


def open_rows(path: Path, is_header: Callable[[list[str]], bool]) -> RowSource:
    """Open a submission. `is_header` tells whether a row of cells looks like the header (catalogue-driven)."""
    if not path.exists() or path.stat().st_size == 0:
        raise ReadError(f"文件为空或不存在：{path.name}", code="file_empty")
    fmt = detect_format(path)
    if fmt == "xlsx":
        return _xlsx(path, is_header)
    if fmt in ("json", "jsonl"):
        return _json(path, fmt)
    return _csv(path, is_header)


def _find_header(first: list[tuple[int, list[Any]]], is_header: Callable[[list[str]], bool]) -> int:
    for i, (_, cells) in enumerate(first):
        texts = [str(c).strip() for c in cells if c not in (None, "")]
        if texts and is_header(texts):
            return i
    for i, (_, cells) in enumerate(first):
        if sum(1 for c in cells if c not in (None, "")) >= 2:
            return i
    raise ReadError("找不到表头行：前20行中没有可识别的列名", code="header_not_found")


def _with_header(
    fmt: str, enc: str | None, rows: Iterator[tuple[int, list[Any]]], is_header: Callable[[list[str]], bool]
) -> RowSource:
    first: list[tuple[int, list[Any]]] = []
    for item in rows:
        first.append(item)
        if len(first) >= HEADER_SCAN_ROWS:
            break
    if not first:
        raise ReadError("文件中没有任何数据行", code="file_empty")
    at = _find_header(first, is_header)
    header_row, header_cells = first[at]
    header = [("" if c is None else str(c)).strip() for c in header_cells]
    rest = first[at + 1 :]

    def chained() -> Iterator[tuple[int, list[Any]]]:
        yield from rest
        yield from rows

    return RowSource(fmt, enc, header, header_row, _skip_blank(chained()))


def _skip_blank(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    for number, cells in rows:
        if any(c not in (None, "") and str(c).strip() for c in cells):
            yield number, cells


def _csv(path: Path, is_header: Callable[[list[str]], bool]) -> RowSource:
    encoding = detect_encoding(path)
    text = io.TextIOWrapper(path.open("rb"), encoding=encoding, errors="strict", newline="")
    sample = text.read(65536)
    text.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel

    def rows() -> Iterator[tuple[int, list[Any]]]:
        reader = csv.reader(text, dialect)
        try:
            for cells in reader:
                yield reader.line_num, cells
        except UnicodeDecodeError as exc:
            raise ReadError(
                f"文件编码错误：在第 {reader.line_num + 1} 行附近无法按 {encoding} 解码。"
                "请将文件另存为 UTF-8 或 GBK 编码后重新上传",
                code="encoding_error",
            ) from exc

    label = "gbk" if encoding == "gb18030" else encoding
    try:
        source = _with_header("csv", label, rows(), is_header)
    except BaseException:
        text.close()
        raise
    source.close = text.close
    return source


def _xlsx(path: Path, is_header: Callable[[list[str]], bool]) -> RowSource:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise ReadError(f"无法读取 Excel 文件：{exc}", code="xlsx_unreadable") from exc

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for i, cells in enumerate(sheet.iter_rows(), start=1):
            yield i, list(cells)

    return _with_header("xlsx", None, rows(), is_header)


def _json(path: Path, fmt: str) -> RowSource:
    encoding = detect_encoding(path)
    with path.open("r", encoding=encoding) as fh:
        head = fh.read(4096).lstrip()
    if head.startswith("["):
        with path.open("r", encoding=encoding) as fh:
            try:
                data = json.load(fh)
            except json.JSONDecodeError as exc:
                raise ReadError(
                    f"JSON 格式错误：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}", code="json_invalid"
                ) from exc
        if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
            raise ReadError("JSON 文件应为对象数组，每个对象是一条记录", code="json_invalid")
        objects: Iterator[tuple[int, dict[str, Any]]] = ((i, obj) for i, obj in enumerate(data, start=1))
        fmt = "json"
    else:
        data = []
        objects = _json_lines(path, encoding)
        fmt = "jsonl"
    header: list[str] = []
    seen: set[str] = set()
    count = 0
    for _, obj in objects:  # first pass: the union of keys is the header (rows may omit empty keys)
        count += 1
        for key in obj:
            if key not in seen:
                seen.add(key)
                header.append(key)
    if not count:
        raise ReadError("文件中没有任何数据行", code="file_empty")
    again = ((i, obj) for i, obj in enumerate(data, start=1)) if fmt == "json" else _json_lines(path, encoding)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for number, obj in again:
            yield number, [obj.get(k) for k in header]

    return RowSource(fmt, encoding, header, 0, rows())


def _json_lines(path: Path, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("r", encoding=encoding) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ReadError(f"JSON 行格式错误：第 {number} 行，{exc.msg}", code="json_invalid") from exc
            if not isinstance(obj, dict):
                raise ReadError(f"JSON 行格式错误：第 {number} 行不是对象", code="json_invalid")
            yield number, obj
