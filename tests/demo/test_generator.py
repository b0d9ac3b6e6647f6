"""The demo city generator: determinism, exact manifest counts, valid identifiers, real geography."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import load_workbook
from stdnum.cn import ric

from xinyong.archive.identifiers import (
    IdentifierError,
    normalize_code,
    validate_legacy_reg_no,
    validate_resident_id,
    validate_uscc,
)
from xinyong.demo.generator import REJECT_KINDS, VALID_KINDS, GeneratedFile, Manifest, generate_city
from xinyong.demo.subjects import PLACEHOLDER_CODE
from xinyong.demo.words import load_words

AS_OF = date(2026, 10, 31)
USCC_HEADERS = {"CF_XDR_SHXYM", "XK_XDR_SHXYM", "行政相对人代码_1（统一社会信用代码）", "统一社会信用代码"}
ID_HEADERS = {"CF_XDR_ZJHM", "XK_XDR_ZJHM", "证件号码", "CF_XDR_SFZ", "XK_XDR_SFZ"}
WSH_HEADERS = {"CF_WSH", "行政处罚决定书文号"}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("city")
    return out, generate_city(2000, seed=7, out=out, as_of=AS_OF)


def read_rows(out: Path, f: GeneratedFile) -> list[dict[str, Any]]:
    """A file's data rows read back the way an ingester would, keyed by header text."""
    data = (out / f.path).read_bytes()
    if f.format == "json":
        return json.loads(data.decode("utf-8"))
    if f.format == "jsonl":
        return [json.loads(line) for line in data.decode("utf-8").splitlines()]
    if f.format == "csv":
        table = list(csv.reader(io.StringIO(data.decode(f.encoding or "utf-8"))))
    else:
        table = list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))
    header, body = table[f.header_row - 1], table[f.header_row :]
    return [dict(zip(header, row, strict=True)) for row in body]


def pick(row: dict[str, Any], names: set[str]) -> str:
    return next((str(v or "") for k, v in row.items() if k in names), "")


def marked(f: GeneratedFile, kinds: tuple[str, ...]) -> set[int]:
    return {n for k in kinds for n in f.marked_rows.get(k, [])}


def tree_digest(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*") if p.is_file()}


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        generate_city(300, seed=seed, out=tmp_path / name, as_of=AS_OF)
    a, b, c = (tree_digest(tmp_path / n) for n in "abc")
    assert a == b
    assert any(p.endswith(".xlsx") for p in a)  # workbooks are byte-identical too
    assert a != c


def test_manifest_counts_equal_the_rows_in_each_file(city: tuple[Path, Manifest]) -> None:
    out, manifest = city
    for f in manifest.files:
        assert len(read_rows(out, f)) == f.rows, f.path
        assert f.expected_valid + f.expected_rejected == f.rows
        assert f.expected_rejected == len(marked(f, REJECT_KINDS))
        assert f.error_kinds == {k: len(v) for k, v in f.marked_rows.items()}
        assert set(f.error_kinds) <= set(REJECT_KINDS) | set(VALID_KINDS)


def test_manifest_round_trips_through_json(city: tuple[Path, Manifest]) -> None:
    out, manifest = city
    assert Manifest.from_json((out / "manifest.json").read_text("utf-8")) == manifest
    assert sum(manifest.subject_kinds.values()) == manifest.subjects == 2000


def test_about_error_rate_of_the_record_rows_are_rejected(city: tuple[Path, Manifest]) -> None:
    _, manifest = city
    records = [f for f in manifest.files if f.info_class != "registration"]
    share = sum(f.expected_rejected for f in records) / sum(f.rows for f in records)
    assert 0.015 < share < 0.045
    seen = Counter(k for f in manifest.files for k in f.error_kinds)
    assert {"correction", "withdrawal", "duplicate_in_file", "uscc_check", "missing_required"} <= set(seen)


def test_codes_validate_except_in_rows_marked_as_errors(city: tuple[Path, Manifest]) -> None:
    out, manifest = city
    checked = wrong = 0
    for f in manifest.files:
        bad = marked(f, REJECT_KINDS)
        for number, row in enumerate(read_rows(out, f), 1):
            code = pick(row, USCC_HEADERS)
            if number in f.marked_rows.get("uscc_check", []):
                with pytest.raises(IdentifierError) as err:
                    validate_uscc(code)
                assert err.value.code == "uscc_check"
                wrong += 1
            elif number in f.marked_rows.get("uscc_forbidden_letter", []):
                assert re.search("[IOZSV]", normalize_code(code)[8:16])
                with pytest.raises(IdentifierError):
                    validate_uscc(code)
            elif number not in bad and code.strip() and code != PLACEHOLDER_CODE:
                validate_uscc(code)
                checked += 1
    assert checked > 2000 and wrong > 0


def test_resident_ids_pass_stdnum_for_their_birth_year_except_wrong_check_rows(city: tuple[Path, Manifest]) -> None:
    out, manifest = city
    checked = 0
    for f in (f for f in manifest.files if f.info_class != "registration"):
        bad = marked(f, REJECT_KINDS)
        for number, row in enumerate(read_rows(out, f), 1):
            number_text = normalize_code(pick(row, ID_HEADERS))
            if number in f.marked_rows.get("id_check", []):
                assert not ric.is_valid(number_text)
            elif number not in bad and number_text:
                assert ric.is_valid(number_text), number_text  # stdnum 2.2: area code valid in birth year
                validate_resident_id(number_text, today=AS_OF)
                checked += 1
    assert checked > 50


def test_some_older_companies_carry_a_valid_legacy_registration_number(city: tuple[Path, Manifest]) -> None:
    out, manifest = city
    numbers = set()
    for f in (f for f in manifest.files if f.info_class != "registration"):
        for row in read_rows(out, f):
            number = pick(
                row, {"CF_XDR_GSZC", "XK_XDR_GSZC", "CF_XDR_GSDJ", "XK_XDR_GSDJ", "行政相对人代码_2（工商注册号）"}
            )
            if number:
                assert validate_legacy_reg_no(number)[:6] in {d.code for d in load_words().districts} | {"320100"}
                numbers.add(number)
    assert len(numbers) > 10


def test_subjects_with_a_code_in_records_are_in_a_registration_file(city: tuple[Path, Manifest]) -> None:
    out, manifest = city
    registered: set[str] = set()
    for f in (f for f in manifest.files if f.info_class == "registration"):
        registered |= {normalize_code(pick(r, USCC_HEADERS)) for r in read_rows(out, f)}
    for f in (f for f in manifest.files if f.info_class != "registration"):
        bad = marked(f, REJECT_KINDS)
        for number, row in enumerate(read_rows(out, f), 1):
            code = normalize_code(pick(row, USCC_HEADERS))
            if number not in bad and code and code != PLACEHOLDER_CODE:
                assert code in registered, (f.path, number)
    assert any(code.startswith(("N2", "N3")) for code in registered)  # letter authority code


def test_registration_addresses_use_the_districts_own_streets(city: tuple[Path, Manifest]) -> None:
    out, manifest = city
    streets = {d.name: d.streets for d in load_words().districts}
    names: list[str] = []
    for f in (f for f in manifest.files if f.info_class == "registration"):
        for row in read_rows(out, f):
            district, address = row["所属区县"], row["住所"]
            assert address.startswith(f"南京市{district}")
            street = address.removeprefix(f"南京市{district}")
            assert any(street.startswith(s) for s in streets[district]), address
            names.append(row["主体名称"])
    assert len(names) == len(set(names))


def test_files_come_from_departments_that_submit_their_class(city: tuple[Path, Manifest]) -> None:
    _, manifest = city
    departments = load_words().departments
    for f in manifest.files:
        assert f.info_class in departments[f.department].submits, f.path
        assert date(2025, 11, 1) < date.fromisoformat(f.submitted_on) < date(2026, 12, 31)


def test_penalty_document_numbers_are_unique_per_department(city: tuple[Path, Manifest]) -> None:
    out, manifest = city
    repeated = ("correction", "withdrawal", "duplicate_in_file", "missing_required")
    seen: dict[str, set[str]] = {}
    for f in (f for f in manifest.files if f.info_class == "admin_penalty"):
        skip = marked(f, repeated)
        numbers = seen.setdefault(f.department, set())
        for number, row in enumerate(read_rows(out, f), 1):
            wsh = pick(row, WSH_HEADERS)
            if number not in skip:
                assert re.fullmatch(r".+〔20\d\d〕\d+号", wsh), wsh
                assert wsh not in numbers, (f.path, wsh)
                numbers.add(wsh)


def test_layouts_vary_by_department(city: tuple[Path, Manifest]) -> None:
    _, manifest = city
    files = manifest.files
    assert {f.format for f in files} == {"csv", "xlsx", "json", "jsonl"}
    assert {f.encoding for f in files} == {"utf-8", "utf-8-sig", "gbk", None}
    assert {f.header_style for f in files} == {"label", "v2", "v1", "mixed"}
    assert {f.header_row for f in files if f.format == "xlsx"} == {1, 3}
    for dept in {f.department for f in files}:
        layouts = {(f.format, f.encoding) for f in files if f.department == dept}
        assert len(layouts) == 1, dept


def test_dates_come_in_the_formats_departments_use(city: tuple[Path, Manifest]) -> None:
    out, manifest = city
    styles: Counter[str] = Counter()
    patterns = {
        "iso": r"\d{4}-\d\d-\d\d",
        "datetime": r"\d{4}-\d\d-\d\d 00:00:00",
        "slash": r"\d{4}/\d{1,2}/\d{1,2}",
        "cn": r"\d{4}年\d{1,2}月\d{1,2}日",
        "compact": r"\d{8}",
    }
    for f in (f for f in manifest.files if f.info_class == "admin_penalty"):
        for row in read_rows(out, f):
            value = row.get("CF_JDRQ", row.get("处罚决定日期"))
            if isinstance(value, datetime):
                styles["excel_date"] += 1
            elif isinstance(value, int):
                styles["excel_serial"] += 1
            else:
                styles.update(k for k, p in patterns.items() if re.fullmatch(p, str(value)))
    assert set(styles) == {*patterns, "excel_date", "excel_serial"}


def strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in strings(k) + strings(v)]
    if isinstance(node, list):
        return [s for item in node for s in strings(item)]
    return [node] if isinstance(node, str) else []


def test_word_lists_encode_in_gbk() -> None:
    """Older departments submit GBK files, so every generated text must be GBK-encodable."""
    data = Path(__file__).parents[2] / "src/xinyong/demo/data"
    for path in data.glob("*.yaml"):
        for text in strings(yaml.safe_load(path.read_text("utf-8"))):
            text.encode("gbk")


def test_progress_reports_every_file(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    manifest = generate_city(
        60, seed=3, out=tmp_path, as_of=AS_OF, progress=lambda done, total: calls.append((done, total))
    )
    assert calls[-1] == (len(manifest.files), len(manifest.files))
    assert [done for done, _ in calls] == list(range(1, len(manifest.files) + 1))
