from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.supervision.helpers import OFFICER, graded_city, make_plan, published_plan
from xinyong.accounts import service as accounts
from xinyong.archive import service as archive
from xinyong.archive.models import CreditRecord
from xinyong.core import clock
from xinyong.core.audit import AuditEvent
from xinyong.core.errors import Conflict, DomainError, NotFound
from xinyong.publicity.views import View, is_public, subject_view
from xinyong.supervision import results, service


def _record(session, plan, subject, **kw):
    values = {
        "subject_id": subject.id,
        "result": "no_problem",
        "inspected_on": clock.today(),
        "inspector": "王执法、李执法",
    } | kw
    return results.record_result(session, plan, OFFICER, **values)


def _results(session):
    return list(
        session.scalars(
            select(CreditRecord).where(CreditRecord.info_class == "inspection_result").order_by(CreditRecord.id)
        )
    )


def test_a_result_comes_back_as_a_public_credit_record_of_the_inspecting_unit(session):
    city = graded_city(session)
    plan = published_plan(session)
    firm = city.drawn[0]
    record = _record(session, plan, firm, result="rectification_ordered", findings="后厨未按规定留样")
    scjgj = accounts.find_department(session, "scjgj")
    assert (record.info_class, record.subject_id) == ("inspection_result", firm.id)
    assert record.source_department_id == scjgj.id
    assert (record.version, record.is_current, record.state, record.decision_date) == (1, True, "active", clock.today())
    assert record.natural_key == f"inspection_result|scjgj|{plan.id}|{firm.uscc}|"
    assert record.publicity_rule == "no_window" and record.publicity_end is None and is_public(record, clock.today())
    payload = record.payload
    assert payload["result"] == "发现问题已责令整改" and payload["result_code"] == "rectification_ordered"
    assert payload["plan_no"] == str(plan.id) and payload["risk_grade"] == "D（信用风险高）"
    assert payload["deciding_authority"] == scjgj.name and payload["findings"] == "后厨未按规定留样"
    shown = subject_view(session, firm, View.PUBLIC).records
    assert [(r.info_class, r.payload["result"]) for r in shown] == [("inspection_result", "发现问题已责令整改")]
    assert results.results_of(session, plan) == {firm.id: record}


def test_a_corrected_result_is_a_new_version_and_the_first_stays_as_history(session):
    city = graded_city(session)
    plan = published_plan(session)
    firm = city.drawn[1]
    first = _record(session, plan, firm, result="no_problem")
    second = _record(session, plan, firm, result="case_filed", findings="无证经营，已立案")
    assert (second.version, second.key_hash, second.is_current) == (2, first.key_hash, True)
    session.refresh(first)
    assert first.is_current is False and first.superseded_at is not None
    assert first.payload["result_code"] == "no_problem"  # never updated in place
    assert [r.version for r in results.result_history(session, plan, firm.id)] == [1, 2]
    assert results.results_of(session, plan)[firm.id].id == second.id
    with pytest.raises(Conflict, match="完全相同"):
        _record(session, plan, firm, result="case_filed", findings="无证经营，已立案")
    assert len(_results(session)) == 2


def test_a_result_for_a_subject_the_plan_did_not_draw_is_refused(session):
    city = graded_city(session)
    plan = published_plan(session)
    spared = city.spared[0]
    with pytest.raises(Conflict, match=f"主体 {spared.id} 不是抽查计划 #{plan.id}「.*」抽中的检查对象") as refused:
        _record(session, plan, spared)
    assert refused.value.code == "not_drawn" and refused.value.status_code == 409
    with pytest.raises(NotFound, match="未找到信用主体"):
        results.record_result(
            session, plan, OFFICER, subject_id=999_999, result="no_problem", inspected_on=clock.today(), inspector="王"
        )
    xuanwu = make_plan(session, name="玄武区抽查", scope={"districts": ["320102"]})
    service.draw(session, xuanwu, OFFICER)
    service.reveal(session, xuanwu, OFFICER)
    _record(session, plan, city.drawn[0])
    with pytest.raises(Conflict, match="不是抽查计划"):  # drawn by the other plan only
        _record(session, xuanwu, city.drawn[0])
    assert len(_results(session)) == 1
    events = session.scalars(select(AuditEvent.target_id).where(AuditEvent.action == "inspection.result")).all()
    assert events == [str(_results(session)[0].id)]


def test_results_wait_until_the_draw_and_seed_are_published(session):
    city = graded_city(session)
    plan = make_plan(session)
    service.draw(session, plan, OFFICER)
    with pytest.raises(Conflict, match="须先公开") as refused:
        _record(session, plan, city.drawn[0])
    assert refused.value.code == "plan_not_published"
    service.reveal(session, plan, OFFICER)
    assert _record(session, plan, city.drawn[0]).version == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"result": "passed"}, "未知的检查结果“passed”"),
        ({"result": "case_filed"}, "须填写检查情况"),
        ({"result": "not_found", "findings": "  "}, "须填写检查情况"),
        ({"inspected_on": "tomorrow"}, "不能晚于今天"),
        ({"inspected_on": "before"}, "早于抽查期间"),
        ({"inspector": " "}, "请填写检查人员"),
    ],
)
def test_a_result_with_bad_values_is_refused_in_chinese(session, change, message):
    city = graded_city(session)
    plan = published_plan(session)
    days = {"tomorrow": clock.today() + timedelta(days=1), "before": plan.period_start - timedelta(days=1)}
    if change.get("inspected_on") in days:
        change = change | {"inspected_on": days[change["inspected_on"]]}
    with pytest.raises(DomainError, match=message):
        _record(session, plan, city.drawn[0], **change)
    assert _results(session) == []


def test_recording_a_result_writes_an_audit_event_with_the_versions(session):
    city = graded_city(session)
    plan = published_plan(session)
    first = _record(session, plan, city.drawn[2])
    second = _record(session, plan, city.drawn[2], inspector="张执法")
    events = list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == "inspection.result").order_by(AuditEvent.id))
    )
    assert [(e.actor, e.target_type, e.target_id) for e in events] == [
        ("user:1", "credit_record", str(first.id)),
        ("user:1", "credit_record", str(second.id)),
    ]
    assert events[1].details == {
        "plan_id": plan.id,
        "subject_id": city.drawn[2].id,
        "result": "no_problem",
        "version": 2,
        "previous_version": first.id,
    }


def test_a_persons_result_is_keyed_by_the_resident_id_and_masked_in_public(session):
    city = graded_city(session)
    plan = published_plan(session)
    record = _record(session, plan, city.person, result="rectification_ordered", findings="摊位卫生不达标")
    rid = next(i.value for i in archive.identifiers_of(session, city.person.id) if i.scheme == "resident_id")
    assert record.payload["id_no"] == rid and record.payload["subject_category"] == "natural_person"
    assert record.natural_key == f"inspection_result|scjgj|{plan.id}||{rid}"
    public = subject_view(session, city.person, View.PUBLIC)
    shown = next(r for r in public.records if r.info_class == "inspection_result")
    assert shown.payload["id_no"] != rid and shown.payload["id_no"].startswith(rid[:4])
    assert shown.payload["subject_name"] == "张*明"


def test_the_result_classes_are_data_with_labels():
    kinds = results.result_kinds()
    assert [k.label for k in kinds.results][:4] == ["未发现问题", "发现问题已责令整改", "发现问题已立案查处", "未找到"]
    assert not kinds.get("no_problem").findings_required and kinds.get("case_filed").findings_required
