"""List entries decided upstream (a court) arrive as files through the collection pipeline: they enter the list
in publicity with the authority's decision, a re-sent file changes nothing, a 撤销 row removes the entry, a bad
row is rejected with a reason and enters nothing, and the credit check sees the entry."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from tests.builders import NANJING_STEEL
from tests.collection.files import write_csv
from xinyong.accounts import service as accounts
from xinyong.archive.identifiers import make_resident_id
from xinyong.archive.models import Subject
from xinyong.collection.service import ingest_file
from xinyong.core import audit
from xinyong.lists.models import ListEntry
from xinyong.lists.rules import EntryState
from xinyong.measures import service as measures

HEADER = [
    "被执行人姓名/名称",
    "主体类别",
    "统一社会信用代码",
    "证件号码",
    "名单类型",
    "案号",
    "执行法院",
    "失信情形",
    "发布日期",
    "有效期至",
    "当前状态",
]
PERSON_ID = make_resident_id("320102", date(1985, 6, 1), 231)


def _rows(status: str = "") -> list[dict[str, str]]:
    court = "南京市中级人民法院"
    return [
        {
            "被执行人姓名/名称": "南京钢铁联合有限公司",
            "主体类别": "法人及非法人组织",
            "统一社会信用代码": NANJING_STEEL,
            "名单类型": "失信被执行人",
            "案号": "（2026）苏01执123号",
            "执行法院": court,
            "失信情形": "有履行能力而拒不履行生效法律文书确定义务",
            "发布日期": "2026年9月1日",
            "有效期至": "",
            "当前状态": status,
        },
        {
            "被执行人姓名/名称": "李建华",
            "主体类别": "自然人",
            "证件号码": PERSON_ID,
            "名单类型": "失信被执行人",
            "案号": "（2026）苏01执456号",
            "执行法院": court,
            "失信情形": "违反限制消费令",
            "发布日期": "2026-10-08",
            "有效期至": "2028-10-08",
        },
    ]


def _ingest(session, tmp_path, rows, name="court.csv"):
    path = write_csv(tmp_path / name, rows, encoding="gbk", header=HEADER)
    court = accounts.find_department(session, "zy")
    return ingest_file(session, path, department=court, info_class="list_entry", actor=audit.SYSTEM)


def test_court_list_file_enters_the_list_and_the_check_sees_it(session, tmp_path, client):
    summary = _ingest(session, tmp_path, _rows())
    assert (summary.accepted, summary.rejected) == (2, 0)
    entries = session.scalars(select(ListEntry).order_by(ListEntry.id)).all()
    assert [e.state for e in entries] == [EntryState.IN_PUBLICITY, EntryState.IN_PUBLICITY]
    company, person = entries
    assert company.decision_no == "（2026）苏01执123号" and company.publicity_from == date(2026, 9, 1)
    assert company.term_end == date(2028, 9, 1)  # no end sent: the list's term (24 months) from publicity
    assert person.term_end == date(2028, 10, 8)
    assert company.documents[0]["authority"] == "南京市中级人民法院" and company.documents[0]["imported"] is True
    session.commit()
    firm = session.scalar(select(Subject).where(Subject.uscc == NANJING_STEEL))
    check = measures.check(session, firm, "government_procurement")
    assert check.standing_code == "on_dishonesty_list"
    public = client.get("/api/v1/lists/court_dishonest_executee/entries").json()
    assert {i["subject_name"] for i in public["items"]} == {"南京钢铁联合有限公司", "李*华"}
    assert PERSON_ID not in str(public)


def test_resending_changes_nothing_and_a_revocation_removes_the_entry(session, tmp_path):
    _ingest(session, tmp_path, _rows())
    again = _ingest(session, tmp_path, _rows(), name="again.csv")
    assert again.duplicates == 2 and session.scalar(select(func.count()).select_from(ListEntry)) == 2
    revoked = _ingest(session, tmp_path, _rows(status="撤销")[:1], name="revoked.csv")
    assert revoked.withdrawn == 1
    company = session.scalar(select(ListEntry).order_by(ListEntry.id))
    assert company.state == EntryState.REMOVED and company.removal_reason == "withdrawn_decision"


def test_a_row_without_its_decision_is_rejected_and_enters_nothing(session, tmp_path):
    rows = _rows()[:1]
    rows[0]["案号"] = ""
    summary = _ingest(session, tmp_path, rows)
    assert (summary.accepted, summary.rejected) == (0, 1)
    assert session.scalar(select(func.count()).select_from(ListEntry)) == 0


def test_the_list_type_code_list_matches_the_list_catalogue():
    from xinyong.catalog.service import get_catalog
    from xinyong.lists import rules

    assert set(get_catalog().code_list("list_type").codes) == set(rules.catalogue().types)
