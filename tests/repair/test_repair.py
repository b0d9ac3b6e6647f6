"""Credit repair: conditions of the rule in force for the record, refusal citing it, the two-step review, and the
effects of approval (publicity ends, checks stop returning the measures, the archive keeps every version)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.builders import make_user
from tests.lists.helpers import list_through_procedure
from tests.repair.helpers import company_with_account, ingest_penalty, reviewer
from xinyong.accounts import service as accounts
from xinyong.archive import versions
from xinyong.archive.models import CreditRecord, RecordState
from xinyong.commitments import service as commitments
from xinyong.core import audit, clock
from xinyong.core.audit import AuditEvent
from xinyong.core.errors import Conflict, DomainError, PermissionDenied
from xinyong.core.workflow import Upload, history
from xinyong.lists.rules import EntryState
from xinyong.measures import service as measures
from xinyong.publicity import views
from xinyong.repair import service
from xinyong.repair.models import RepairApplication
from xinyong.repair.rules import RepairAction

PROOF = Upload("proof_of_performance", "罚款缴纳凭证.pdf", b"%PDF-1.4 paid", "application/pdf")
LETTER = Upload("commitment_letter", "信用承诺书.pdf", b"%PDF-1.4 promise", "application/pdf")


def _days_until(day: date) -> timedelta:
    return timedelta(days=(day - clock.today()).days + 1)


def test_same_penalty_is_judged_by_the_rule_of_its_decision_date(session, tmp_path):
    before = ingest_penalty(session, tmp_path, decided="2026-03-20", **{"行政处罚决定书文号": "宁环罚〔2026〕20号"})
    after = ingest_penalty(session, tmp_path, decided="2026-04-02", **{"行政处罚决定书文号": "宁环罚〔2026〕21号"})
    subject, _user = company_with_account(session)
    assert (before.publicity_rule, after.publicity_rule) == ("ndrc_order_58", "ndrc_order_36")
    old = service.assess(session, subject.id, record_id=before.id)
    new = service.assess(session, subject.id, record_id=after.id)
    assert old.rule_name == "失信行为纠正后的信用信息修复管理办法（试行）"
    assert new.rule_name == "信用修复管理办法"
    assert "第58号" in old.legal_basis and "第36号" in new.legal_basis
    # each judged with its own rule's review limits (repair_rules.yaml)
    assert (old.spec.unit_review_working_days, new.spec.unit_review_working_days) == (5, 3)


def test_repair_refused_before_minimum_publicity_period(session, tmp_path):
    record = ingest_penalty(session, tmp_path, decided="2026-10-09")  # general: minimum 3 months under Order 36
    subject, user = company_with_account(session)
    assert record.publicity_min_end == date(2027, 1, 9)
    with pytest.raises(Conflict) as refused:
        service.submit(
            session,
            accounts.actor_for(user),
            subject,
            statement="已缴清罚款并完成整改",
            record_id=record.id,
            uploads=[PROOF, LETTER],
        )
    assert refused.value.code == "conditions_not_met"
    assert "《信用修复管理办法》（国家发展和改革委员会令2025年第36号）" in refused.value.message
    assert "2027-01-09" in refused.value.message
    assert session.scalar(select(func.count()).select_from(RepairApplication)) == 0


def test_conditions_show_met_not_met_and_needs_review(session, tmp_path):
    record = ingest_penalty(session, tmp_path, decided="2026-04-02")
    subject, user = company_with_account(session)
    found = {c.code: c.status for c in service.assess(session, subject.id, record_id=record.id).conditions}
    assert found == {
        "in_publicity": "met",
        "min_period": "met",
        "obligations_performed": "not_met",
        "commitment": "not_met",
    }
    commitments.sign(session, accounts.actor_for(user), subject, template="repair")
    with_material = service.assess(session, subject.id, record_id=record.id, materials=["proof_of_performance"])
    statuses = {c.code: c.status for c in with_material.conditions}
    assert statuses["obligations_performed"] == "needs_review" and statuses["commitment"] == "met"
    assert with_material.admissible


def test_samr_categories_that_may_never_end_early_are_refused(session, tmp_path):
    record = ingest_penalty(
        session,
        tmp_path,
        department="scjgj",
        decided="2023-06-01",
        **{"处罚类别": "责令停产停业", "行政处罚决定书文号": "宁市监罚〔2023〕9号", "罚款金额（万元）": ""},
    )
    subject, _user = company_with_account(session)
    assert record.publicity_rule == "samr_order_45"
    conditions = {c.code: c for c in service.assess(session, subject.id, record_id=record.id).conditions}
    assert conditions["never_early"].status == "not_met"
    assert "不得提前终止公示" in conditions["never_early"].detail


def _approved(session, tmp_path, severity: str = "严重"):
    record = ingest_penalty(session, tmp_path, decided="2025-06-02", **{"信用严重程度": severity})
    subject, user = company_with_account(session)
    unit = reviewer(session)
    office = make_user(session, username="xyb", role="credit_office")
    app = service.submit(
        session,
        accounts.actor_for(user),
        subject,
        statement="已缴清罚款，完成整改并通过复查",
        record_id=record.id,
        uploads=[PROOF, LETTER],
    )
    service.ensure_reviewer(unit, app, RepairAction.UNIT_APPROVE)
    service.unit_approve(session, app, accounts.actor_for(unit), opinion="材料属实")
    service.ensure_reviewer(office, app, RepairAction.APPROVE)
    service.approve(session, app, accounts.actor_for(office), opinion="同意")
    session.commit()
    return record, subject, app


def test_approval_ends_publicity_stops_checks_and_keeps_history(session, tmp_path):
    record = ingest_penalty(session, tmp_path, decided="2025-06-02", **{"信用严重程度": "严重"})
    subject, _user = company_with_account(session)
    check = measures.check(session, subject, "government_procurement")
    assert "serious_penalty_procurement_review" in [m["code"] for m in check.measures]
    session.rollback()

    record, subject, app = _approved(session, tmp_path)
    assert app.state == "repaired" and app.decided_at is not None
    current = versions.current_version(session, record.key_hash)
    assert current.state == RecordState.REPAIRED and current.version == record.version + 1
    old = session.get(CreditRecord, record.id)
    assert old.is_current is False and old.state == RecordState.ACTIVE  # the history stays as it was
    public = views.subject_view(session, subject, views.View.PUBLIC)
    assert record.decision_no not in [r.decision_no for r in public.records]
    internal = views.subject_view(session, subject, views.View.INTERNAL)
    assert record.decision_no in [r.decision_no for r in internal.records]
    after = measures.check(session, subject, "government_procurement")
    assert not [m for m in after.measures if m["code"].startswith("serious_penalty")]
    steps = [e.action for e in history(session, "repair", app.id)]
    assert steps == ["submit", "unit_approve", "approve"]
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"repair.submit", "repair.unit_approve", "repair.approve", "record.repair"} <= actions


def test_reviewers_are_the_deciding_unit_then_the_credit_office(session, tmp_path):
    record = ingest_penalty(session, tmp_path, decided="2026-04-02")
    subject, user = company_with_account(session)
    other_unit = reviewer(session, "sw")
    app = service.submit(
        session, accounts.actor_for(user), subject, statement="已整改", record_id=record.id, uploads=[PROOF, LETTER]
    )
    with pytest.raises(PermissionDenied):
        service.ensure_reviewer(other_unit, app, RepairAction.UNIT_APPROVE)
    with pytest.raises(PermissionDenied):
        service.ensure_reviewer(user, app, RepairAction.APPROVE)
    with pytest.raises(Conflict) as early:
        service.approve(session, app, audit.SYSTEM)  # the office cannot skip the unit's review
    assert early.value.code == "invalid_transition"
    with pytest.raises(Conflict) as twice:
        service.submit(
            session,
            accounts.actor_for(user),
            subject,
            statement="再次申请",
            record_id=record.id,
            uploads=[PROOF, LETTER],
        )
    assert twice.value.code == "repair_exists"


def test_refusal_needs_reasons_and_keeps_the_record_public(session, tmp_path):
    record = ingest_penalty(session, tmp_path, decided="2026-04-02")
    subject, user = company_with_account(session)
    unit = reviewer(session)
    app = service.submit(
        session, accounts.actor_for(user), subject, statement="已整改", record_id=record.id, uploads=[PROOF, LETTER]
    )
    with pytest.raises(DomainError):
        service.unit_refuse(session, app, accounts.actor_for(unit), opinion=" ")
    service.unit_refuse(session, app, accounts.actor_for(unit), opinion="罚款缴纳凭证与决定书金额不符")
    assert app.state == "refused" and app.unit_opinion == "罚款缴纳凭证与决定书金额不符"
    assert versions.current_version(session, record.key_hash).state == RecordState.ACTIVE


def test_list_entry_repaired_early_is_removed(session, tmp_path):
    record = ingest_penalty(session, tmp_path, decided="2026-04-02")
    subject, user = company_with_account(session)
    entry = list_through_procedure(session, subject, publicity_from=clock.today() - timedelta(days=400))
    unit = reviewer(session, "scjgj")
    app = service.submit(
        session,
        accounts.actor_for(user),
        subject,
        statement="已履行全部义务",
        list_entry_id=entry.id,
        uploads=[PROOF, LETTER],
    )
    assert app.department_id == entry.department_id and record.id
    service.unit_approve(session, app, accounts.actor_for(unit))
    service.approve(session, app, audit.SYSTEM)
    assert entry.state == EntryState.REMOVED and entry.removal_reason == "repair"


def test_list_entry_repair_refused_within_the_lists_minimum(session, tmp_path):
    ingest_penalty(session, tmp_path, decided="2026-04-02")
    subject, user = company_with_account(session)
    entry = list_through_procedure(session, subject)
    with pytest.raises(Conflict) as refused:
        service.submit(
            session,
            accounts.actor_for(user),
            subject,
            statement="已整改",
            list_entry_id=entry.id,
            uploads=[PROOF, LETTER],
        )
    assert "市场监督管理严重违法失信名单管理办法" in refused.value.message


def test_bad_material_changes_nothing(session, tmp_path):
    record = ingest_penalty(session, tmp_path, decided="2026-04-02")
    subject, user = company_with_account(session)
    session.commit()
    with pytest.raises(DomainError) as bad:
        service.submit(
            session,
            accounts.actor_for(user),
            subject,
            statement="已整改",
            record_id=record.id,
            uploads=[PROOF, Upload("commitment_letter", "承诺书.exe", b"MZ", "application/x-msdownload")],
        )
    session.rollback()
    assert bad.value.code == "attachment_type" and "承诺书.exe" in bad.value.message
    assert session.scalar(select(func.count()).select_from(RepairApplication)) == 0


def test_clock_moved_past_the_minimum_makes_the_application_admissible(session, tmp_path):
    record = ingest_penalty(session, tmp_path, decided="2026-10-09")
    subject, user = company_with_account(session)
    assert not service.assess(session, subject.id, record_id=record.id, materials=["proof_of_performance"]).admissible
    clock.move(_days_until(record.publicity_min_end))
    app = service.submit(
        session, accounts.actor_for(user), subject, statement="已整改", record_id=record.id, uploads=[PROOF, LETTER]
    )
    assert app.state == "submitted" and app.rule == "ndrc_order_36"
