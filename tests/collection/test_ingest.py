"""Ingestion end to end on realistic files: encodings, layouts, every error code, versions, linking."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.builders import NANJING_STEEL, make_subject
from tests.collection.files import penalty, write_csv, write_json, write_xlsx
from xinyong.accounts.service import find_department
from xinyong.archive.identifiers import make_resident_id, make_uscc
from xinyong.archive.models import CreditRecord, Subject, SubjectIdentifier
from xinyong.collection.models import Batch, LinkReview, Rejection
from xinyong.collection.service import ingest_file
from xinyong.core import audit
from xinyong.core.errors import DomainError

USCC_HDR = "行政相对人代码_1（统一社会信用代码）"
DOC = "行政处罚决定书文号"
CONFISCATED = "没收违法所得、没收非法财物的金额（万元）"


def ingest(session, path: Path, info_class: str = "admin_penalty", dept: str = "scjgj", **kw):
    summary = ingest_file(
        session, path, department=find_department(session, dept), info_class=info_class, actor=audit.SYSTEM, **kw
    )
    session.commit()
    return summary


def count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_gbk_file_with_full_width_codes_and_chinese_dates_ingests(session, tmp_path):
    rows = [
        penalty(**{USCC_HDR: "９１３２０１００７４８２０４６６０ｑ", "处罚决定日期": "2026年3月5日"}),
        penalty(**{DOC: "宁市监罚〔2026〕102号", "处罚决定日期": "2026/3/6", "罚款金额（万元）": "５"}),
        penalty(
            **{
                DOC: "宁市监罚〔2026〕103号",
                "处罚决定日期": "20260307",
                "处罚类别": "罚款；没收违法所得、没收非法财物",
                CONFISCATED: "1.2",
            }
        ),
        penalty(**{DOC: "宁市监罚〔2026〕104号", "处罚决定日期": "2026-10-08 00:00:00"}),
    ]
    path = write_csv(tmp_path / "处罚.csv", rows, encoding="gbk")
    s = ingest(session, path)
    assert (s.rows, s.accepted, s.rejected, s.encoding) == (4, 4, 0, "gbk")
    records = session.scalars(select(CreditRecord).order_by(CreditRecord.source_row)).all()
    assert [r.decision_date.isoformat() for r in records] == ["2026-03-05", "2026-03-06", "2026-03-07", "2026-10-08"]
    assert {r.payload["uscc"] for r in records} == {NANJING_STEEL}
    assert records[1].payload["fine_amount"] == "5"
    assert (
        records[2].payload["penalty_category"] == ["fine", "confiscation_of_illegal_gains_and_property"]
        or len(records[2].payload["penalty_category"]) == 2
    )
    subject = session.scalar(select(Subject).where(Subject.uscc == NANJING_STEEL))
    assert subject is not None and {r.subject_id for r in records} == {subject.id}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_are_detected_without_being_told(session, tmp_path, encoding):
    path = write_csv(tmp_path / "p.csv", [penalty(**{"违法事实": "销售𠮷野家冒牌商品（生僻字）"})], encoding=encoding)
    s = ingest(session, path)
    assert s.accepted == 1
    rec = session.scalar(select(CreditRecord))
    assert rec.payload["violation_facts"].startswith("销售𠮷野家")


def test_xlsx_with_title_row_and_real_date_cells(session, tmp_path):
    from datetime import date, datetime

    rows = [
        penalty(**{"处罚决定日期": datetime(2026, 3, 5), "罚款金额（万元）": 0.5}),
        penalty(**{DOC: "宁市监罚〔2026〕105号", "处罚决定日期": 46086, "处罚有效期": date(2099, 12, 31)}),
    ]
    path = write_xlsx(tmp_path / "p.xlsx", rows, title="南京市市场监督管理局2026年3月行政处罚信息")
    s = ingest(session, path)
    assert (s.accepted, s.rejected, s.format) == (2, 0, "xlsx")
    dates = sorted(r.decision_date.isoformat() for r in session.scalars(select(CreditRecord)))
    assert dates == ["2026-03-05", "2026-03-05"]  # Excel serial 46086 is 2026-03-05


@pytest.mark.parametrize("lines", [False, True])
def test_json_array_and_json_lines_with_v2_codes(session, tmp_path, lines):
    v2 = {
        "CF_XDR_MC": "南京钢铁联合有限公司",
        "CF_XDR_LB": "法人及非法人组织",
        "CF_XDR_SHXYM": NANJING_STEEL,
        "CF_FRDB": "王建国",
        "CF_WSH": "宁市监罚〔2026〕9号",
        "CF_WFXW": "违反产品质量法",
        "CF_SY": "不合格",
        "CF_YJ": "产品质量法第四十九条",
        "CF_CFLB": "警告",
        "CF_NR": "警告",
        "CF_JDRQ": "2026-03-05",
        "CF_YXQ": "2099-12-31",
        "CF_CFJG": "南京市市场监督管理局",
        "CF_CFJGDM": "11320100MB4561374J",
        "CF_SJLY": "南京市市场监督管理局",
        "CF_SJLYDM": "11320100MB4561374J",
        "XYZ_UNKNOWN": "?",
    }
    path = write_json(tmp_path / ("p.jsonl" if lines else "p.json"), [v2], lines=lines)
    s = ingest(session, path)
    assert s.accepted == 1 and s.rejected == 0
    assert s.unknown_columns == ["XYZ_UNKNOWN"]


ERROR_CASES = {
    "missing_required": {"违法事实": ""},
    "missing_conditional": {USCC_HDR: ""},
    "too_long": {"行政相对人名称": "南" * 201},
    "bad_date": {"处罚决定日期": "2026-02-30"},
    "future_date": {"处罚决定日期": "2099-01-01"},
    "date_order": {"处罚有效期": "2020-01-01"},
    "bad_number": {"罚款金额（万元）": "五万"},
    "negative_amount": {"罚款金额（万元）": "-1"},
    "unknown_code": {"处罚类别": "打板子"},
    "uscc_check": {USCC_HDR: "91320100748204660A"},
    "uscc_org_check": {USCC_HDR: make_uscc("9", "1", "320100", "74820466")[:16] + "1X"},
    "uscc_charset": {USCC_HDR: "91320100748204660I"},
    "uscc_length": {USCC_HDR: "9132010074820466"},
    "uscc_authority": {USCC_HDR: "0" + make_uscc("9", "1", "320100", "74820466")[1:]},
    "legacy_reg_no_check": {"行政相对人代码_2（工商注册号）": "320100000000001"},
    "rid_check": {
        "行政相对人类别": "自然人",
        USCC_HDR: "",
        "证件类型": "身份证",
        "证件号码": make_resident_id("320102", __import__("datetime").date(1990, 1, 1), 12)[:17] + "0",
    },
}


@pytest.mark.parametrize("code", sorted(ERROR_CASES))
def test_each_error_code_names_row_column_and_fix(session, tmp_path, code):
    rows = [penalty(), penalty(**{DOC: "宁市监罚〔2026〕777号", **ERROR_CASES[code]})]
    s = ingest(session, write_csv(tmp_path / "p.csv", rows))
    assert (s.accepted, s.rejected) == (1, 1)
    [rej] = session.scalars(select(Rejection).where(Rejection.error_code == code)).all()
    assert rej.row_number == 3  # header is line 1
    assert rej.message.startswith("第 3 行「") and rej.column in rej.message
    assert rej.raw[DOC] == "宁市监罚〔2026〕777号"


def test_reingesting_the_same_file_adds_nothing(session, tmp_path):
    path = write_csv(tmp_path / "p.csv", [penalty(), penalty(**{DOC: "X-2"}), penalty(**{"处罚决定日期": "bad"})])
    first = ingest(session, path)
    records = count(session, CreditRecord)
    second = ingest(session, path)
    assert (first.accepted, second.accepted, second.duplicates, second.rejected) == (2, 0, 2, 1)
    assert count(session, CreditRecord) == records
    assert count(session, Subject) == 1


def test_changed_row_becomes_new_version_and_old_stays_as_history(session, tmp_path):
    ingest(session, write_csv(tmp_path / "a.csv", [penalty()]))
    s = ingest(session, write_csv(tmp_path / "b.csv", [penalty(**{"罚款金额（万元）": "8", "处罚内容": "罚款8万元"})]))
    assert (s.accepted, s.new_versions) == (1, 1)
    versions = session.scalars(select(CreditRecord).order_by(CreditRecord.version)).all()
    assert [(v.version, v.is_current) for v in versions] == [(1, False), (2, True)]
    assert versions[0].payload["fine_amount"] == "5" and versions[1].payload["fine_amount"] == "8"
    assert versions[0].superseded_at is not None and versions[0].key_hash == versions[1].key_hash


def test_withdrawal_ends_the_record_as_a_new_version(session, tmp_path):
    ingest(session, write_csv(tmp_path / "a.csv", [penalty()]))
    s = ingest(session, write_csv(tmp_path / "b.csv", [penalty(**{"当前状态": "1"})]))
    assert (s.accepted, s.withdrawn, s.new_versions) == (1, 1, 1)
    current = session.scalar(select(CreditRecord).where(CreditRecord.is_current.is_(True)))
    assert current.state == "withdrawn" and current.version == 2


def test_repeats_within_a_file_count_as_duplicates_even_across_chunks(session, tmp_path, monkeypatch):
    from xinyong.collection import service

    monkeypatch.setattr(service, "CHUNK_ROWS", 2)
    rows = [penalty(), penalty(**{DOC: "X-2"}), penalty(), penalty(**{DOC: "X-2"}), penalty(**{DOC: "X-3"})]
    s = ingest(session, write_csv(tmp_path / "p.csv", rows))
    assert (s.rows, s.accepted, s.duplicates) == (5, 3, 2)


def test_linking_by_legacy_code_name_and_review_queue(session, tmp_path):
    legacy_subject = make_subject(session, name="南京老字号食品厂", uscc=make_uscc("9", "1", "320104", "13400001"))
    from stdnum.iso7064 import mod_11_10

    legacy = "320104000001" + "23"
    legacy += mod_11_10.calc_check_digit(legacy)
    from xinyong.core import clock

    session.add(
        SubjectIdentifier(
            subject_id=legacy_subject.id,
            scheme="legacy_reg_no",
            value=legacy,
            first_seen_at=clock.now(),
            last_seen_at=clock.now(),
        )
    )
    make_subject(session, name="南京同名贸易有限公司", uscc=make_uscc("9", "1", "320105", "13400002"))
    make_subject(session, name="南京同名贸易有限公司", uscc=make_uscc("9", "1", "320106", "13400003"))
    make_subject(session, name="南京唯一商行", uscc=make_uscc("9", "1", "320106", "13400004"))
    session.commit()
    rows = [
        penalty(
            **{
                DOC: "L-1",
                "行政相对人名称": "南京老字号食品厂",
                USCC_HDR: "00000000000000000X",
                "行政相对人代码_2（工商注册号）": legacy,
                "行政相对人类别": "个体工商户",
            }
        ),
        penalty(
            **{
                DOC: "L-2",
                "行政相对人名称": "南京唯一商行",
                USCC_HDR: "00000000000000000X",
                "行政相对人类别": "个体工商户",
            }
        ),
        penalty(
            **{
                DOC: "L-3",
                "行政相对人名称": "南京同名贸易有限公司",
                USCC_HDR: "00000000000000000X",
                "行政相对人类别": "个体工商户",
            }
        ),
    ]
    s = ingest(session, write_csv(tmp_path / "p.csv", rows))
    assert s.accepted == 3 and s.review == 1
    methods = dict(session.execute(select(CreditRecord.decision_no, CreditRecord.link_method)).all())
    assert methods == {"L-1": "legacy_code", "L-2": "name_exact", "L-3": "review"}
    [review] = session.scalars(select(LinkReview)).all()
    assert len(review.candidates) == 2 and review.state == "open"


def test_natural_person_links_by_resident_id_and_is_created_once(session, tmp_path):
    from datetime import date

    rid = make_resident_id("320102", date(1988, 8, 8), 35)
    row = {
        "行政相对人类别": "自然人",
        "行政相对人名称": "李小龙",
        USCC_HDR: "",
        "法定代表人": "",
        "证件类型": "身份证",
        "证件号码": rid.lower(),
    }
    s = ingest(session, write_csv(tmp_path / "p.csv", [penalty(**row), penalty(**row, **{DOC: "P-2"})]))
    assert s.accepted == 2
    person = session.scalar(select(Subject).where(Subject.kind == "natural_person"))
    assert person.name == "李小龙"
    ident = session.scalar(select(SubjectIdentifier).where(SubjectIdentifier.scheme == "resident_id"))
    assert ident.value == rid and ident.subject_id == person.id


def test_missing_required_columns_refuse_the_batch_and_store_nothing(session, tmp_path):
    path = write_csv(tmp_path / "p.csv", [{"行政相对人名称": "某公司", "备注": "x", "许可类别": "普通"}])
    with pytest.raises(DomainError, match="文件缺少必填列"):
        ingest_file(
            session, path, department=find_department(session, "scjgj"), info_class="admin_penalty", actor=audit.SYSTEM
        )
    session.rollback()
    assert count(session, Batch) == 0 and count(session, CreditRecord) == 0


def test_lineage_from_record_to_batch_file_row_and_submitter(session, tmp_path):
    path = write_csv(tmp_path / "处罚2026年3月.csv", [penalty(), penalty(**{DOC: "X-2"})])
    s = ingest(session, path)
    rec = session.scalar(select(CreditRecord).where(CreditRecord.decision_no == "X-2"))
    batch = session.get(Batch, rec.batch_id)
    assert (batch.id, batch.file_name, batch.file_sha256, rec.source_row) == (
        s.batch_id,
        "处罚2026年3月.csv",
        s.sha256,
        3,
    )
    assert batch.submitted_by == "system" and batch.submitted_at is not None


def test_registration_file_creates_subjects_and_keeps_fact_history(session, tmp_path):
    uscc = make_uscc("9", "1", "320102", "55500001")
    reg = {
        "主体名称": "南京玄武示例科技有限公司",
        "统一社会信用代码": uscc,
        "主体类型": "有限责任公司",
        "法定代表人（负责人、经营者）": "赵敏",
        "注册资本（万元）": "100",
        "成立日期": "2015-06-01",
        "住所": "南京市玄武区新街口街道中山路1号",
        "所属区县": "玄武区",
        "所属行业": "I",
        "经营范围": "软件开发",
        "登记机关": "南京市玄武区市场监督管理局",
        "登记状态": "存续",
    }
    ingest(session, write_csv(tmp_path / "r1.csv", [reg]), info_class="registration", dept="xw_scjgj")
    s = ingest(
        session,
        write_csv(tmp_path / "r2.csv", [reg | {"住所": "南京市玄武区玄武湖街道北京东路2号"}]),
        info_class="registration",
        dept="xw_scjgj",
    )
    assert s.new_versions == 1
    subject = session.scalar(select(Subject).where(Subject.uscc == uscc))
    assert subject.name == "南京玄武示例科技有限公司" and subject.district_code == "320102"
    assert subject.kind == "legal_person" and subject.registered_on.isoformat() == "2015-06-01"
    from xinyong.archive.models import SubjectFact

    history = session.scalars(
        select(SubjectFact).where(SubjectFact.property == "address").order_by(SubjectFact.id)
    ).all()
    assert [(f.value[-7:], f.is_current) for f in history] == [("街道中山路1号", False), ("道北京东路2号", True)]


def test_resending_an_old_file_after_a_correction_reverts_nothing(session, tmp_path):
    old = write_csv(tmp_path / "a.csv", [penalty()])
    ingest(session, old)
    ingest(session, write_csv(tmp_path / "b.csv", [penalty(**{"罚款金额（万元）": "8", "处罚内容": "罚款8万元"})]))
    again = ingest(session, old)
    assert (again.accepted, again.duplicates) == (0, 1)
    current = session.scalar(select(CreditRecord).where(CreditRecord.is_current.is_(True)))
    assert current.version == 2 and current.payload["fine_amount"] == "8"


def test_blank_looking_cells_count_as_empty(session, tmp_path):
    rows = [penalty(**{"行政相对人代码_2（工商注册号）": "  ", "备注": "无", "罚款金额（万元）": "\u3000"})]
    s = ingest(session, write_csv(tmp_path / "p.csv", rows))
    assert (s.accepted, s.rejected) == (0, 1)  # 罚款 needs its amount; the blank-looking cell is not one
    rej = session.scalar(select(Rejection))
    assert rej.error_code == "missing_conditional" and "罚款金额" in rej.column
