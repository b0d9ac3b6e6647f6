"""The one-round-trip subject document (publicity/fast.py) is the generic public view (views.subject_view), subject
by subject: a generated city with persons, corrections and withdrawals, plus the edge cases the SQL must get right
(windows ending, an undated record, list entries in and out of force), before and after the clock moves on."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from tests.builders import NANJING_STEEL, make_person, make_subject
from tests.lists.helpers import list_through_procedure
from xinyong.accounts.service import find_department
from xinyong.archive import service as archive
from xinyong.archive.identifiers import make_resident_id
from xinyong.archive.models import CreditRecord, Subject
from xinyong.core import clock
from xinyong.core.db import get_engine
from xinyong.demo.builder import DemoResult, _load
from xinyong.demo.generator import generate_city
from xinyong.publicity import fast, views

RID = make_resident_id("320102", date(1990, 1, 1), 123)


def _generic(session, key: str) -> dict:
    subject = archive.subject_by_key(session, key)
    return fast.subject_document(views.subject_view(session, subject, views.View.PUBLIC))


def _record(session, subject: Subject, no: str, decided: date | None, **overrides) -> CreditRecord:
    values = {
        "info_class": "admin_penalty",
        "subject_id": subject.id,
        "link_method": "uscc",
        "source_department_id": find_department(session, "scjgj").id,
        "natural_key": no,
        "key_hash": f"{no:0>64}"[-64:],
        "content_hash": "0" * 64,
        "decision_no": no,
        "decision_date": decided,
        "severity": "general",
        "publicity_rule": "ndrc_order_36",
        "publicity_end": decided + timedelta(days=365) if decided else None,
        "payload": {"penalty_content": "罚款1万元", "violation": f"持 {RID} 号证件经营"},
    }
    record = CreditRecord(**(values | overrides))
    session.add(record)
    session.flush()
    return record


def _edge_cases(session) -> tuple[int, int]:
    """A firm and a person with every kind of record the filters and orders must treat as the ORM path does."""
    today = clock.today()
    firm = make_subject(session, name="南京快路径测试有限公司", uscc="91320100MA1234567X")
    _record(session, firm, "F-1", today - timedelta(days=30))
    _record(session, firm, "F-2", today - timedelta(days=30))  # same date: id breaks the tie
    _record(session, firm, "F-3", None)  # undated: NULLs sort first on PostgreSQL, last on SQLite
    _record(session, firm, "F-4", today - timedelta(days=400))  # window over
    _record(session, firm, "F-5", today - timedelta(days=365))  # window ends today: still public
    _record(session, firm, "F-6", today, state="withdrawn")
    _record(session, firm, "F-7", today, is_current=False)
    _record(session, firm, "F-8", today, publicity_rule="no_such_rule", disputed=True)
    _record(session, firm, "F-9", today, publicity_rule=None, info_class="admin_license")
    list_through_procedure(session, firm)
    list_through_procedure(session, firm, list_type="tax_major_violation", publicity_from=today + timedelta(days=9))
    person = make_person(session, name="欧阳小明")
    _record(session, person, "P-1", today, payload={"subject_name": "欧阳小明", "legal_rep": "欧阳小明"})
    list_through_procedure(session, person)
    session.commit()
    return firm.id, person.id


def _compare_all(session, client, engine, ids: list[int]) -> None:
    for sid in ids:
        expected = _generic(session, str(sid))
        assert json.loads(fast.public_subject_json(engine, str(sid))) == expected, sid
        response = client.get(f"/api/v1/subjects/{sid}")
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        assert response.json() == expected, sid
    session.rollback()


def test_fast_document_equals_the_generic_public_view(session, client, clean_db, tmp_path):
    manifest = generate_city(300, 5, tmp_path / "city", as_of=clock.today())
    result = DemoResult(built=True)
    _load(clean_db, tmp_path / "city", manifest, result, lambda *_: None)
    assert result.mismatches == []
    session.rollback()
    firm_id, person_id = _edge_cases(session)
    engine = get_engine(clean_db)
    ids = list(session.scalars(select(Subject.id).order_by(Subject.id)))
    today = clock.today()
    records = list(session.scalars(select(CreditRecord).where(CreditRecord.is_current.is_(True))))
    assert any(r.state != "active" for r in records)  # withdrawals are in the data
    assert any(not views.is_public(r, today) and r.state == "active" for r in records)  # windows that ended
    assert any(s == "natural_person" for s in session.scalars(select(Subject.kind)))

    _compare_all(session, client, engine, ids)
    firm = _generic(session, str(firm_id))
    assert [r["decision_no"] for r in firm["records"]][:2] in (["F-3", "F-9"], ["F-9", "F-8"])
    shown = [r["decision_no"] for r in firm["records"]]
    assert "F-4" not in shown and "F-5" in shown and "F-6" not in shown and "F-7" not in shown, shown
    assert RID not in json.dumps(firm) and RID[:4] + "*" * 10 + RID[-4:] in json.dumps(firm, ensure_ascii=False)
    assert [e["list_type"] for e in firm["list_entries"]] == ["samr_serious_illegal"]  # the other starts later
    person = _generic(session, str(person_id))
    assert person["name"] == "欧**明" and "欧阳小明" not in json.dumps(person, ensure_ascii=False)
    assert person["list_entries"] and person["records"][0]["content"]["legal_rep"] == "欧**明"

    clock.move(timedelta(days=3 * 366))  # windows and list terms end, the later list entry comes into force
    _compare_all(session, client, engine, ids)
    later = _generic(session, str(firm_id))["list_entries"]
    assert [e["list_type"] for e in later] == ["tax_major_violation"]  # one term over, the other now in force


def test_keys_and_missing_subjects_read_as_the_generic_path(session, client, clean_db):
    make_subject(session)
    session.commit()
    engine = get_engine(clean_db)
    for key in (NANJING_STEEL, f" {NANJING_STEEL.lower()} ", "1", "0001"):
        assert json.loads(fast.public_subject_json(engine, key)) == _generic(session, key), key
        assert client.get(f"/api/v1/subjects/{key}").json() == _generic(session, key), key
    for key in ("999999", "91320100748204660X", "不存在", "123456789012345678"):
        response = client.get(f"/api/v1/subjects/{key}")
        assert response.status_code == 404
        assert response.json() == {"error": "subject_not_found", "message": f"未找到信用主体“{key}”"}


def test_reader_connections_recover_from_errors_and_a_lost_server_connection(session, clean_db, monkeypatch):
    """A failed statement closes its connection; a connection the server dropped while idle is replaced on the next
    read without an error; the engine's own pool never sees the readers' autocommit connections."""
    make_subject(session)
    session.commit()
    engine = get_engine(clean_db)
    assert json.loads(fast.public_subject_json(engine, "1"))["uscc"] == NANJING_STEEL
    readers = fast._readers(engine)
    broken = {k: sql.replace("FROM subjects s", "FROM no_such_table s") for k, sql in readers.statements.items()}
    monkeypatch.setattr(readers, "statements", broken)
    for _ in range(3):
        with pytest.raises(Exception, match="no_such_table"):
            fast.public_subject_json(engine, "1")
    monkeypatch.undo()
    assert json.loads(fast.public_subject_json(engine, "1"))["uscc"] == NANJING_STEEL
    if engine.dialect.name == "postgresql":
        pids = [conn.info.backend_pid for conn, _, _ in readers._idle]
        with engine.connect() as conn:
            for pid in pids:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert json.loads(fast.public_subject_json(engine, "1"))["uscc"] == NANJING_STEEL
        held = [engine.raw_connection() for _ in range(engine.pool.checkedin() + 1)]
        assert [c.driver_connection.autocommit for c in held] == [False] * len(held)
        for c in held:
            c.close()
    with Session(engine) as other:
        other.execute(update(Subject).values(name="改名"))
        other.rollback()
    assert archive.subject_by_key(session, "1").name == "南京钢铁联合有限公司"


def test_fast_search_equals_the_generic_search_view(session, client, clean_db, tmp_path):
    manifest = generate_city(300, 7, tmp_path / "city", as_of=clock.today())
    _load(clean_db, tmp_path / "city", manifest, DemoResult(built=True), lambda *_: None)
    session.rollback()
    for i, name in enumerate(["南京", "百分之百_测试%公司", "重庆银行南京分行", "江苏南京玄武科技有限公司"]):
        make_subject(session, name=name, uscc=f"91320100MA00000{i:02d}X")
    make_person(session, name="南京人")
    session.commit()
    subjects = list(session.scalars(select(Subject)))
    persons = [s for s in subjects if s.kind == "natural_person"]
    firm = next(s for s in subjects if s.kind == "legal_person" and s.uscc)
    queries = ["南京", "公司", "科技", "有限", "njgt", "nj", "cqyh", "%", "_测", "不存在的公司", "京", "钢铁联合"]
    queries += [firm.uscc, f" {firm.uscc.lower()} ", firm.name, firm.name[:4], firm.name[2:6], firm.name_initials]
    queries += [p.name for p in persons[:5]] + [p.name[:2] for p in persons[:5]] + [d for d in "玄武秦淮建邺鼓楼"]
    engine = get_engine(clean_db)
    sizes = []
    for q in queries:
        for limit in (20, 50):
            expected = views.search_view(session, q, limit=limit)
            assert json.loads(fast.search_json(engine, q, limit)) == {"q": q, "count": len(expected), "items": expected}
            sizes.append(len(expected))
        assert client.get("/api/v1/subjects", params={"q": q}).json()["items"] == views.search_view(session, q), q
        session.rollback()
    assert max(sizes) == 50 and 0 in sizes  # full pages (early stop) and empty ones were compared
    found = json.loads(fast.search_json(engine, "南京人"))["items"]
    assert all(item["kind"] != "natural_person" for item in found)
