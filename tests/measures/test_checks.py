from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from tests.builders import NANJING_STEEL, PASSWORD, make_subject, make_user, valid_uscc
from tests.lists.helpers import OFFICER, list_through_procedure
from xinyong.accounts import service as accounts
from xinyong.archive.models import CreditRecord, Subject
from xinyong.core import audit, clock
from xinyong.core.audit import AuditEvent
from xinyong.core.bulk import insert_rows
from xinyong.core.db import get_engine
from xinyong.core.errors import NotFound
from xinyong.lists import service as lists
from xinyong.measures import rules
from xinyong.measures import service as measures
from xinyong.measures.models import Check, CheckFeedback
from xinyong.measures.service import Unprocessable

PROCUREMENT_BASIS = "《中华人民共和国政府采购法》第二十二条"


def _client(session, name="政府采购交易系统", permissions=("check",), department="czj"):
    dept = accounts.find_department(session, department) if department else None
    return accounts.create_client(
        session, audit.SYSTEM, name=name, permissions=list(permissions), department_id=dept.id if dept else None
    )


def _serious_penalty(session, subject: Subject, start: date, end: date) -> CreditRecord:
    rec = CreditRecord(
        info_class="admin_penalty",
        subject_id=subject.id,
        link_method="uscc",
        source_department_id=accounts.find_department(session, "scjgj").id,
        natural_key=f"k{subject.id}",
        key_hash=f"{subject.id:064d}",
        content_hash="0" * 64,
        decision_no="宁市监罚〔2026〕9号",
        decision_date=start,
        severity="serious",
        publicity_start=start,
        publicity_end=end,
        payload={},
    )
    session.add(rec)
    session.flush()
    return rec


# --- the catalogue ------------------------------------------------------------------------------------------


def test_catalogue_has_rewards_and_punishments_with_basis_for_every_list():
    cat = rules.catalogue()
    assert len(cat.measures) >= 10
    assert set(cat.scenarios) >= {"government_procurement", "bidding", "fiscal_subsidy", "civil_service_hiring"}
    assert all(m.legal_basis and m.implementing_units and m.scenarios for m in cat.measures)
    triggered = {m.trigger.list for m in cat.measures if m.trigger.list}
    assert triggered >= {
        "samr_serious_illegal",
        "tax_major_violation",
        "procurement_serious_dishonesty",
        "court_dishonest_executee",
        "tax_a_level",
        "honest_citizen",
        "demonstration_enterprise",
    }
    record_measures = [m for m in cat.measures if m.trigger.record]
    assert {m.measure_class for m in record_measures} == {2}
    assert {1, 2, 3} <= {m.measure_class for m in cat.measures}


def test_evaluate_is_pure_and_respects_scenario_and_validity():
    on = date(2026, 12, 1)
    fact = rules.ListFact(1, "samr_serious_illegal", "dishonesty", "决1", on, None)
    ev = rules.evaluate("government_procurement", on, [fact], [])
    assert ev.standing == "严重失信主体名单内"
    assert [m["code"] for m in ev.measures] == ["samr_list_procurement_restriction"]
    assert rules.evaluate("civil_service_hiring", on, [fact], []).measures == []
    assert rules.evaluate("government_procurement", date(2020, 1, 1), [fact], []).measures == []  # not yet valid
    assert rules.evaluate("financing", on, [], []).standing == "良好"


# --- checks -------------------------------------------------------------------------------------------------


def test_procurement_check_of_a_listed_subject_returns_the_restriction_with_its_legal_basis(session):
    subject = make_subject(session)
    entry = list_through_procedure(session, subject)
    client = _client(session).client
    result = measures.check(session, subject, "government_procurement", client)
    session.commit()
    assert result.standing == "严重失信主体名单内"
    [m] = result.measures
    assert m["code"] == "samr_list_procurement_restriction" and m["type"] == "punishment" and m["class"] == 1
    assert PROCUREMENT_BASIS in m["legal_basis"] and "国发〔2014〕21号" in m["legal_basis"]
    assert m["because"][0]["entry_id"] == entry.id and m["because"][0]["decision_no"] == "宁市监列〔2026〕1号"
    stored = session.get(Check, result.check_id)
    assert stored.client_id == client.id and stored.result["measures"][0]["code"] == m["code"]
    ev = session.scalar(select(AuditEvent).where(AuditEvent.action == "check.run"))
    assert ev.target_id == str(result.check_id) and ev.actor == f"client:{client.id}"


def test_after_the_term_ends_the_check_returns_no_list_measure(session):
    subject = make_subject(session)
    entry = list_through_procedure(session, subject)
    clock.move(timedelta(days=(entry.term_end - clock.today()).days))
    assert [e.id for e in lists.expire_terms(session, clock.today())] == [entry.id]
    assert lists.expire_terms(session, clock.today()) == []
    result = measures.check(session, subject, "government_procurement")
    assert result.standing == "良好" and result.measures == []


def test_a_serious_penalty_in_publicity_brings_class_2_measures_and_not_after(session):
    subject = make_subject(session)
    today = clock.today()
    rec = _serious_penalty(session, subject, today - timedelta(days=10), today + timedelta(days=365))
    result = measures.check(session, subject, "administrative_approval")
    assert result.standing == "存在失信记录"
    codes = {m["code"] for m in result.measures}
    assert codes == {"serious_penalty_key_supervision", "serious_penalty_no_commitment"}
    assert all(m["because"][0]["record_id"] == rec.id for m in result.measures)
    later = measures.check(session, subject, "administrative_approval", on=today + timedelta(days=400))
    assert later.measures == [] and later.standing == "良好"


def test_an_a_level_taxpayer_gets_the_green_channel(session):
    subject = make_subject(session)
    lists.enter_incentive(session, OFFICER, list_type="tax_a_level", subject=subject, reason="2025年度A级")
    result = measures.check(session, subject, "administrative_approval")
    assert result.standing == "守信激励对象"
    assert {m["code"] for m in result.measures} == {"tax_a_green_channel", "tax_a_tolerance_acceptance"}
    assert all(m["type"] == "reward" for m in result.measures)


def test_unknown_scenario_is_refused_with_the_known_ones(session):
    with pytest.raises(Unprocessable, match="政府采购"):
        measures.check(session, make_subject(session), "lottery")


# --- feedback and statistics --------------------------------------------------------------------------------


def test_feedback_is_recorded_and_counted_in_the_statistics(session):
    subject = make_subject(session)
    list_through_procedure(session, subject)
    client = _client(session).client
    result = measures.check(session, subject, "government_procurement", client)
    measures.feedback(session, result.check_id, "samr_list_procurement_restriction", True, "", client)
    with pytest.raises(Exception, match="已反馈"):
        measures.feedback(session, result.check_id, "samr_list_procurement_restriction", False, "x", client)
    other = measures.check(session, subject, "government_procurement", client)
    with pytest.raises(Unprocessable, match="理由"):
        measures.feedback(session, other.check_id, "samr_list_procurement_restriction", False, " ", client)
    measures.feedback(session, other.check_id, "samr_list_procurement_restriction", False, "项目已终止", client)
    with pytest.raises(Unprocessable, match="未返回"):
        measures.feedback(session, other.check_id, "tax_a_green_channel", True, "", client)
    session.commit()
    [row] = measures.statistics(session, clock.today().strftime("%Y-%m"))
    assert (row.unit, row.scenario_name) == ("南京市财政局", "政府采购")
    assert (row.checks, row.punishments_applied, row.rewards_applied, row.not_applied) == (2, 1, 0, 1)
    assert measures.statistics(session, "2020-01") == []
    fb = session.scalars(select(CheckFeedback)).all()
    assert {f.reporting_unit for f in fb} == {"南京市财政局"}


def test_feedback_by_another_client_is_not_found(session):
    subject = make_subject(session)
    list_through_procedure(session, subject)
    mine, theirs = _client(session).client, _client(session, name="另一系统").client
    result = measures.check(session, subject, "government_procurement", mine)
    with pytest.raises(NotFound):
        measures.feedback(session, result.check_id, "samr_list_procurement_restriction", True, "", theirs)


# --- batch --------------------------------------------------------------------------------------------------


def test_a_batch_of_10000_keys_answers_per_item_with_a_bounded_number_of_statements(session):
    now = clock.now()
    rows = [
        {
            "kind": "legal_person",
            "name": f"批量公司{i}",
            "name_key": f"批量公司{i}",
            "name_initials": "plgs",
            "uscc": valid_uscc(i + 1),
            "district_code": "320102",
            "status": "active",
            "created_at": now,
        }
        for i in range(2000)
    ]
    ids = insert_rows(session, Subject, rows, return_ids=True)
    listed = session.get(Subject, ids[0])
    list_through_procedure(session, listed)
    client = _client(session).client
    session.commit()

    keys = [r["uscc"] for r in rows] + [str(i) for i in ids[:2000]]
    keys += [valid_uscc(900_000 + i) for i in range(3000)] + [f"不存在{i}" for i in range(2999)] + ["9999999"]
    assert len(keys) == 10_000
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = get_engine(session.get_bind().url.render_as_string(hide_password=False))
    event.listen(engine, "before_cursor_execute", count)
    try:
        batch = measures.check_batch(session, keys, "government_procurement", client)
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert len(statements) <= 6, statements  # BEGIN + 5 on SQLite; 2 on PostgreSQL + 2 reads and COPY on the driver
    body = batch.to_dict()
    assert (body["total"], body["found"], body["unknown"]) == (10_000, 4000, 6000)
    first, by_id, unknown = body["items"][0], body["items"][2000], body["items"][-1]
    assert (
        first["standing"] == "严重失信主体名单内"
        and first["measures"][0]["code"] == "samr_list_procurement_restriction"
    )
    assert by_id["subject"]["id"] == ids[0] and by_id["measures"] == first["measures"]
    assert body["items"][1]["standing"] == "良好" and body["items"][1]["measures"] == []
    assert unknown == {"key": "9999999", "found": False, "message": "未找到信用主体“9999999”"}
    assert session.scalar(select(func.count()).select_from(Check)) == 4000
    assert len({i["check_id"] for i in body["items"] if i["found"]}) == 4000
    [ev] = session.scalars(select(AuditEvent).where(AuditEvent.action == "check.run")).all()
    assert ev.details["count"] == 4000 and ev.details["unknown"] == 6000 and ev.target_id == body["request_id"]


def test_a_batch_over_10000_is_refused_in_chinese(session):
    with pytest.raises(Unprocessable, match="最多 10000"):
        measures.check_batch(session, ["1"] * 10_001, "government_procurement")


# --- API ----------------------------------------------------------------------------------------------------


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_check_api_permission_matrix(client, session):
    make_subject(session)
    checker = _client(session).token
    submitter = _client(session, name="报送系统", permissions=("submit",), department="scjgj").token
    session.commit()
    body = {"subject": NANJING_STEEL, "scenario": "government_procurement"}
    batch = {"subjects": [NANJING_STEEL, "不存在"], "scenario": "government_procurement"}
    for path, payload in (("/api/v1/checks", body), ("/api/v1/checks/batch", batch)):
        assert client.post(path, json=payload).status_code == 401
        r = client.post(path, json=payload, headers=_auth(submitter))
        assert r.status_code == 403 and "信用核查" in r.json()["message"]
        assert client.post(path, json=payload, headers=_auth(checker)).status_code == 200
    assert client.get("/api/v1/scenarios").json()["count"] == 8


def test_check_and_feedback_over_http(client, session):
    subject = make_subject(session)
    list_through_procedure(session, subject)
    mine = _client(session).token
    theirs = _client(session, name="另一系统").token
    session.commit()
    r = client.post(
        "/api/v1/checks", json={"subject": subject.uscc, "scenario": "government_procurement"}, headers=_auth(mine)
    )
    assert r.status_code == 200
    body = r.json()
    assert body["standing"] == "严重失信主体名单内" and PROCUREMENT_BASIS in body["measures"][0]["legal_basis"]
    url = f"/api/v1/checks/{body['check_id']}/feedback"
    payload = {"measure_code": "samr_list_procurement_restriction", "applied": True}
    assert client.post(url, json=payload).status_code == 401
    assert client.post(url, json=payload, headers=_auth(theirs)).status_code == 404
    r = client.post(url, json=payload, headers=_auth(mine))
    assert r.status_code == 201 and r.json()["reporting_unit"] == "南京市财政局"
    assert client.post(url, json=payload, headers=_auth(mine)).status_code == 409
    r = client.post(
        "/api/v1/checks", json={"subject": "91320100000000000X", "scenario": "financing"}, headers=_auth(mine)
    )
    assert r.status_code == 404
    r = client.post("/api/v1/checks", json={"subject": subject.uscc, "scenario": "lottery"}, headers=_auth(mine))
    assert r.status_code == 422 and "政府采购" in r.json()["message"]


def test_batch_api_over_the_limit_is_422_in_chinese(client, session):
    token = _client(session).token
    session.commit()
    r = client.post(
        "/api/v1/checks/batch",
        json={"subjects": ["1"] * 10_001, "scenario": "government_procurement"},
        headers=_auth(token),
    )
    assert r.status_code == 422 and "最多 10000" in r.json()["message"]


# --- pages --------------------------------------------------------------------------------------------------


def _login(client, session, role="credit_office"):
    make_user(session, "officer", role)
    session.commit()
    assert (
        client.post("/login", data={"username": "officer", "password": PASSWORD}, follow_redirects=False).status_code
        == 303
    )


def test_an_official_runs_a_manual_check(client, session):
    subject = make_subject(session)
    list_through_procedure(session, subject)
    _login(client, session, role="department")
    assert client.get("/checks/manual").status_code == 200
    r = client.post("/checks/manual", data={"subject": subject.uscc, "scenario": "government_procurement"})
    assert r.status_code == 200 and "严重失信主体名单内" in r.text and PROCUREMENT_BASIS in r.text
    session.expire_all()
    stored = session.scalar(select(Check))
    assert stored.client_id is None and stored.actor.startswith("user:")


def test_statistics_page_shows_the_table_and_chart(client, session):
    subject = make_subject(session)
    list_through_procedure(session, subject)
    api_client = _client(session).client
    result = measures.check(session, subject, "government_procurement", api_client)
    measures.feedback(session, result.check_id, "samr_list_procurement_restriction", True, "", api_client)
    session.commit()
    _login(client, session)
    page = client.get("/office/measures")
    assert page.status_code == 200
    assert "南京市财政局" in page.text and "/static/vendor/echarts.min.js" in page.text and "惩戒措施实施" in page.text
    assert client.get("/office/measures?month=2026-13").status_code == 400  # as on every page with a month
