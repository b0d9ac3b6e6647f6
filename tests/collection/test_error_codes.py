"""Every error code ingestion can report has a test here that produces it from a submitted file. Adding a code
without adding it here fails `test_every_code_is_covered`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from stdnum.cn import ric
from stdnum.iso7064 import mod_11_10

from tests.collection.files import penalty, write_csv, write_json
from xinyong.accounts.service import find_department
from xinyong.archive import identifiers
from xinyong.archive.identifiers import make_resident_id, make_uscc
from xinyong.catalog.service import load_catalog
from xinyong.collection.models import Rejection
from xinyong.collection.service import ingest_file
from xinyong.collection.validate import ERROR_CODES
from xinyong.core import audit
from xinyong.core.errors import DomainError

USCC = "行政相对人代码_1（统一社会信用代码）"
LEGACY = "行政相对人代码_2（工商注册号）"
ORG = "行政相对人代码_3（组织机构代码）"


def _rid(area: str, birth: str, seq: str = "123") -> str:
    body = area + birth + seq
    return body + ric.calc_check_digit(body + "0")  # stdnum drops the 18th character itself


def _person(id_no: str) -> dict:
    return {"行政相对人类别": "自然人", USCC: "", "法定代表人": "", "证件类型": "身份证", "证件号码": id_no}


def _legacy(body14: str) -> str:
    return body14 + mod_11_10.calc_check_digit(body14)


ROW_CASES: dict[str, dict] = {
    "missing_required": {"违法事实": ""},
    "missing_conditional": {USCC: ""},
    "too_long": {"行政相对人名称": "南" * 201},
    "bad_date": {"处罚决定日期": "2026-02-30"},
    "future_date": {"处罚决定日期": "2099-01-01"},
    "date_order": {"处罚有效期": "2020-01-01"},
    "bad_number": {"罚款金额（万元）": "五万"},
    "negative_amount": {"罚款金额（万元）": "-1"},
    "unknown_code": {"处罚类别": "打板子"},
    "uscc_length": {USCC: "9132010074820466"},
    "uscc_charset": {USCC: "91320100748204660I"},
    "uscc_authority": {USCC: "0" + make_uscc("9", "1", "320100", "74820466")[1:]},
    "uscc_region": {USCC: "91A20100748204660Q"},
    "uscc_org_check": {USCC: make_uscc("9", "1", "320100", "74820466")[:16] + "1X"},
    "uscc_check": {USCC: "91320100748204660A"},
    "rid_length": _person("32010219900101123"),
    "rid_format": _person("3201021990010112AB"),
    "rid_check": _person(make_resident_id("320102", date(1990, 1, 1), 12)[:17] + "0"),
    "rid_birth_date": _person(_rid("320102", "19900230")),
    "rid_future": _person(_rid("320102", "20991231")),
    "rid_area": _person(_rid("440524", "19950101")),
    "org_code_length": {ORG: "1234567"},
    "org_code_format": {ORG: "1234567_8"},
    "org_code_check": {ORG: "74820466" + ("1" if identifiers.org_code_check_char("74820466") != "1" else "2")},
    "legacy_reg_no_length": {LEGACY: "32010000000001"},
    "legacy_reg_no_format": {LEGACY: "3201000000000A1"},
    "legacy_reg_no_check": {
        LEGACY: _legacy("32010000000001")[:14] + str((int(_legacy("32010000000001")[-1]) + 1) % 10)
    },
}
OTHER_CASES = {
    "out_of_range",
    "file_empty",
    "missing_columns",
    "encoding_error",
    "json_invalid",
    "header_not_found",
    "xlsx_unreadable",
}
IDENTIFIER_CODES = {
    "uscc_length",
    "uscc_charset",
    "uscc_authority",
    "uscc_region",
    "uscc_org_check",
    "uscc_check",
    "rid_length",
    "rid_format",
    "rid_check",
    "rid_birth_date",
    "rid_future",
    "rid_area",
    "org_code_length",
    "org_code_format",
    "org_code_check",
    "legacy_reg_no_length",
    "legacy_reg_no_format",
    "legacy_reg_no_check",
}


def test_every_code_is_covered():
    source = Path(identifiers.__file__).read_text(encoding="utf-8")
    emitted = {c for c in IDENTIFIER_CODES if f'"{c}"' in source}
    assert emitted == IDENTIFIER_CODES  # the list above matches what the identifier module raises
    assert set(ERROR_CODES) | IDENTIFIER_CODES <= set(ROW_CASES) | OTHER_CASES


def _ingest(session, path: Path, **kw):
    return ingest_file(
        session,
        path,
        department=find_department(session, "scjgj"),
        info_class=kw.pop("info_class", "admin_penalty"),
        actor=audit.SYSTEM,
        **kw,
    )


@pytest.mark.parametrize("code", sorted(ROW_CASES))
def test_row_error_code(session, tmp_path, code):
    rows = [penalty(), penalty(**{"行政处罚决定书文号": "E-1", **ROW_CASES[code]})]
    summary = _ingest(session, write_csv(tmp_path / "p.csv", rows))
    session.commit()
    assert (summary.accepted, summary.rejected) == (1, 1)
    codes = set(session.scalars(select(Rejection.error_code)))
    assert code in codes, codes
    message = session.scalar(select(Rejection.message).where(Rejection.error_code == code))
    assert message.startswith("第 3 行「")


def test_out_of_range_from_a_supplementary_class_with_a_maximum(session, tmp_path):
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "utility_arrears.yaml").write_text(
        """
code: utility_arrears
name: 公用事业欠费信息
catalog_category: contract_performance
kind: supplementary
legal_basis: [{title: 南京市公共信用信息补充目录（示例）, confirmed: false}]
effective_from: 2026-01-01
version: 1
deadline_working_days: null
natural_key: [account_no, uscc]
subject: {name: subject_name, uscc: uscc}
fields:
  - {name: subject_name, label: 户名, required: true}
  - {name: uscc, label: 统一社会信用代码, type: uscc, required: true}
  - {name: account_no, label: 户号, required: true}
  - {name: months, label: 欠费月数, type: integer, min: 1, max: 120, required: true}
""",
        encoding="utf-8",
    )
    catalog = load_catalog(extra_dirs=[tmp_path / "catalog"])
    rows = [
        {"户名": "南京钢铁联合有限公司", "统一社会信用代码": "91320100748204660Q", "户号": "A1", "欠费月数": "3"},
        {"户名": "南京钢铁联合有限公司", "统一社会信用代码": "91320100748204660Q", "户号": "A2", "欠费月数": "500"},
    ]
    summary = _ingest(session, write_csv(tmp_path / "u.csv", rows), info_class="utility_arrears", catalog=catalog)
    assert (summary.accepted, summary.rejected) == (1, 1)
    assert session.scalar(select(Rejection.error_code)) == "out_of_range"


def _refused(session, path: Path, code: str) -> None:
    with pytest.raises(DomainError) as exc:
        _ingest(session, path)
    assert exc.value.code == code and exc.value.message
    session.rollback()


def test_file_level_errors_refuse_the_whole_batch(session, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    _refused(session, tmp_path / "empty.csv", "file_empty")
    _refused(session, write_csv(tmp_path / "cols.csv", [{"名称": "某公司", "备注": "x"}]), "missing_columns")
    (tmp_path / "bad.json").write_text('[{"CF_WSH": "1",}', encoding="utf-8")
    _refused(session, tmp_path / "bad.json", "json_invalid")
    (tmp_path / "lines.jsonl").write_text('{"CF_WSH": "1"}\nnot json\n', encoding="utf-8")
    _refused(session, tmp_path / "lines.jsonl", "json_invalid")
    (tmp_path / "notes.csv").write_text("\n".join(["说明文字"] * 30), encoding="utf-8")
    _refused(session, tmp_path / "notes.csv", "header_not_found")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    _refused(session, tmp_path / "broken.xlsx", "xlsx_unreadable")
    good = write_csv(tmp_path / "big.csv", [penalty(**{"行政处罚决定书文号": f"N-{i}"}) for i in range(3000)])
    (tmp_path / "mixed.csv").write_bytes(good.read_bytes() + "南京某公司,乱码\r\n".encode("gbk"))
    _refused(session, tmp_path / "mixed.csv", "encoding_error")


def test_json_lines_reads_the_union_of_keys(session, tmp_path):
    rows = [penalty(), {k: v for k, v in penalty(**{"行政处罚决定书文号": "J-2"}).items() if k != "备注"}]
    assert _ingest(session, write_json(tmp_path / "p.jsonl", rows, lines=True)).accepted == 2
