"""The portal's first pages: home, search, a subject's credit page; masking of natural persons in public views."""

from __future__ import annotations

import re

from tests.builders import NANJING_STEEL, PASSWORD, make_person, make_subject, make_user
from tests.collection.files import penalty, write_csv
from xinyong.accounts.service import find_department
from xinyong.collection.service import ingest_file
from xinyong.core import audit

RID_PATTERN = re.compile(r"\b\d{17}[\dX]\b")


def _load(session, tmp_path) -> None:
    from datetime import date

    from xinyong.archive.identifiers import make_resident_id

    rid = make_resident_id("320102", date(1988, 8, 8), 35)
    person = {
        "行政相对人类别": "自然人",
        "行政相对人名称": "李小龙",
        "行政相对人代码_1（统一社会信用代码）": "",
        "法定代表人": "",
        "证件类型": "身份证",
        "证件号码": rid,
        "行政处罚决定书文号": "P-1",
    }
    path = write_csv(tmp_path / "p.csv", [penalty(), penalty(**person)])
    ingest_file(
        session, path, department=find_department(session, "scjgj"), info_class="admin_penalty", actor=audit.SYSTEM
    )
    session.commit()
    return rid


def test_home_search_and_subject_page_in_chinese(session, client, tmp_path):
    _load(session, tmp_path)
    home = client.get("/")
    assert home.status_code == 200 and "信用查询" in home.text and 'lang="zh-CN"' in home.text
    for q in ("南京", "钢铁", NANJING_STEEL.lower(), "njgt"):
        found = client.get("/search", params={"q": q})
        assert "南京钢铁联合有限公司" in found.text, q
    subject_id = session.execute(
        __import__("sqlalchemy").text("SELECT id FROM subjects WHERE uscc = :u"), {"u": NANJING_STEEL}
    ).scalar()
    page = client.get(f"/subjects/{subject_id}")
    assert page.status_code == 200 and "行政处罚信息" in page.text and "宁市监罚〔2026〕101号" in page.text
    assert client.get(f"/subjects/{NANJING_STEEL}").status_code == 200
    missing = client.get("/subjects/999999")
    assert missing.status_code == 404 and "未找到信用主体" in missing.text


def test_public_views_never_show_a_full_id_number_or_a_persons_name(session, client, tmp_path):
    rid = _load(session, tmp_path)
    person_id = session.execute(
        __import__("sqlalchemy").text("SELECT id FROM subjects WHERE kind = 'natural_person'")
    ).scalar()
    found = client.get("/search", params={"q": "李小龙"}).text  # persons are not searchable by name
    assert "共找到 0 个信用主体" in found and f"/subjects/{person_id}" not in found
    page = client.get(f"/subjects/{person_id}").text
    api = client.get(f"/api/v1/subjects/{person_id}").text
    for text in (page, api):
        assert rid not in text and "李小龙" not in text
        assert "李*龙" in text
    assert rid[:4] + "*" * 10 + rid[-4:] in page


def test_self_view_shows_everything_and_is_audited(session, client, tmp_path):
    subject = make_subject(session)
    make_user(session, "firm", role="subject", subject_id=subject.id)
    session.commit()
    client.post("/login", data={"username": "firm", "password": PASSWORD})
    page = client.get(f"/subjects/{subject.id}")
    assert "完整信用档案" in page.text


def test_api_subjects_search_and_detail(session, client, tmp_path):
    _load(session, tmp_path)
    found = client.get("/api/v1/subjects", params={"q": "南京"}).json()
    assert found["count"] == 1 and found["items"][0]["uscc"] == NANJING_STEEL
    detail = client.get(f"/api/v1/subjects/{NANJING_STEEL}").json()
    assert detail["name"] == "南京钢铁联合有限公司" and detail["records"][0]["content"]["fine_amount"] == "5"
    assert client.get("/api/v1/subjects", params={"q": ""}).status_code == 422
    assert client.get("/openapi.json").json()["info"]["title"].startswith("xinyong")


def test_records_carry_their_dated_rule_and_leave_public_view_when_the_window_ends(session, client, tmp_path):
    rows = [
        penalty(**{"行政处罚决定书文号": "环罚-58", "处罚决定日期": "2026-03-20"}),
        penalty(**{"行政处罚决定书文号": "环罚-36", "处罚决定日期": "2026-04-02"}),
        penalty(**{"行政处罚决定书文号": "环罚-旧", "处罚决定日期": "2024-01-10"}),  # general, max 1 year: over
    ]
    ingest_file(
        session,
        write_csv(tmp_path / "p.csv", rows),
        department=find_department(session, "sthjj"),
        info_class="admin_penalty",
        actor=audit.SYSTEM,
    )
    session.commit()
    from sqlalchemy import select

    from xinyong.archive.models import CreditRecord

    rules = dict(session.execute(select(CreditRecord.decision_no, CreditRecord.publicity_rule)).all())
    assert rules == {"环罚-58": "ndrc_order_58", "环罚-36": "ndrc_order_36", "环罚-旧": "ndrc_order_58"}
    detail = client.get(f"/api/v1/subjects/{NANJING_STEEL}").json()
    shown = {r["decision_no"]: r for r in detail["records"]}
    assert set(shown) == {"环罚-58", "环罚-36"}
    assert shown["环罚-36"]["publicity_rule"]["code"] == "ndrc_order_36"
    assert "36" in shown["环罚-36"]["publicity_rule"]["legal_basis"]
    assert shown["环罚-36"]["severity"] == "general" and shown["环罚-36"]["publicity_end"].startswith("2027-04")
    page = client.get(f"/subjects/{NANJING_STEEL}").text
    assert "环罚-旧" not in page and "信用修复管理办法" in page


def test_list_pages_and_the_subject_page_show_a_listed_subject(session, client, tmp_path):
    from tests.lists.helpers import list_through_procedure

    subject = make_subject(session)
    person = make_person(session, name="王小二")
    list_through_procedure(session, subject)
    list_through_procedure(session, person)
    session.commit()
    index = client.get("/lists").text
    assert "市场监督管理严重违法失信名单" in index and "守信激励名单" in index
    page = client.get("/lists/samr_serious_illegal").text
    assert "南京钢铁联合有限公司" in page and NANJING_STEEL in page and "共 2 个主体" in page
    assert "王小二" not in page and "王*二" in page
    subject_page = client.get(f"/subjects/{subject.id}").text
    assert "信用名单" in subject_page and "市场监督管理严重违法失信名单" in subject_page
    assert client.get("/lists/no_such_list").status_code == 404
