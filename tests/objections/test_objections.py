"""Objections: the record shows 异议处理中 publicly while open; the outcome is a correction (a new version), a
withdrawal or the record upheld; each party is notified; bad corrections change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from tests.repair.helpers import company_with_account, ingest_penalty, reviewer
from tests.repair.test_repair import PROOF
from xinyong.accounts import service as accounts
from xinyong.archive import versions
from xinyong.archive.models import CreditRecord, RecordState
from xinyong.core import audit
from xinyong.core.errors import Conflict, DomainError, PermissionDenied
from xinyong.notices.models import Notice
from xinyong.objections import service
from xinyong.objections.rules import ObjectionAction
from xinyong.publicity import views


def _disputed(session, tmp_path):
    record = ingest_penalty(session, tmp_path, decided="2026-04-02")
    subject, user = company_with_account(session)
    objection = service.submit(
        session,
        accounts.actor_for(user),
        subject,
        record_id=record.id,
        reason="罚款金额应为 3 万元，决定书已变更",
        requested={"fine_amount": "3"},
        uploads=[PROOF],
    )
    return record, subject, user, objection


def test_open_objection_shows_on_every_public_view(session, tmp_path):
    record, subject, _user, objection = _disputed(session, tmp_path)
    assert objection.deadline > date(2026, 11, 28)
    public = views.subject_view(session, subject, views.View.PUBLIC)
    shown = next(r for r in public.records if r.decision_no == record.decision_no)
    assert shown.disputed is True
    kinds = {(n.audience, n.kind) for n in session.scalars(select(Notice))}
    assert ("department", "objection.submitted") in kinds and ("office", "objection.submitted") in kinds


def test_correction_is_a_new_version_and_clears_the_mark(session, tmp_path):
    record, subject, _user, objection = _disputed(session, tmp_path)
    unit = reviewer(session)
    service.ensure_actor(unit, objection, ObjectionAction.CORRECT)
    service.decide(
        session,
        objection,
        ObjectionAction.CORRECT,
        accounts.actor_for(unit),
        reply="经核实，罚款金额有误，已更正",
        corrections={"fine_amount": "3"},
    )
    current = versions.current_version(session, record.key_hash)
    assert current.version == record.version + 1 and current.payload["fine_amount"] == 3.0
    assert current.disputed is False and current.content_hash != record.content_hash
    assert session.get(CreditRecord, record.id).payload["fine_amount"] != 3.0  # history kept
    assert objection.state == "corrected" and objection.outcome_record_id == current.id
    told = session.scalar(select(Notice).where(Notice.subject_id == subject.id))
    assert told is not None and "已更正" in told.title


def test_correction_of_the_decision_date_judges_the_window_again(session, tmp_path):
    record, _subject, _user, objection = _disputed(session, tmp_path)
    service.decide(
        session,
        objection,
        ObjectionAction.CORRECT,
        audit.SYSTEM,
        reply="决定日期录入错误",
        corrections={"decision_date": "2026年3月20日"},
    )
    current = versions.current_version(session, record.key_hash)
    assert current.decision_date == date(2026, 3, 20) and current.publicity_rule == "ndrc_order_58"


def test_withdrawal_and_upheld(session, tmp_path):
    record, subject, _user, objection = _disputed(session, tmp_path)
    service.decide(session, objection, ObjectionAction.WITHDRAW_RECORD, audit.SYSTEM, reply="处罚决定已被撤销")
    current = versions.current_version(session, record.key_hash)
    assert current.state == RecordState.WITHDRAWN and current.disputed is False
    assert record.decision_no not in [
        r.decision_no for r in views.subject_view(session, subject, views.View.PUBLIC).records
    ]

    other = ingest_penalty(session, tmp_path, decided="2026-05-06", **{"行政处罚决定书文号": "宁环罚〔2026〕77号"})
    _s, user = subject, session.scalar(select(__import__("xinyong.accounts.models", fromlist=["User"]).User))
    second = service.submit(session, accounts.actor_for(user), subject, record_id=other.id, reason="不服")
    service.decide(session, second, ObjectionAction.UPHOLD, audit.SYSTEM, reply="经核实，信息准确无误")
    kept = versions.current_version(session, other.key_hash)
    assert kept.id == other.id and kept.disputed is False and second.state == "upheld"


def test_bad_corrections_are_refused_and_change_nothing(session, tmp_path):
    record, _subject, _user, objection = _disputed(session, tmp_path)
    session.commit()
    with pytest.raises(DomainError) as locked:
        service.decide(
            session, objection, ObjectionAction.CORRECT, audit.SYSTEM, reply="x", corrections={"decision_no": "新文号"}
        )
    assert locked.value.code == "locked_field"
    session.rollback()
    with pytest.raises(DomainError) as bad_date:
        service.decide(
            session,
            objection,
            ObjectionAction.CORRECT,
            audit.SYSTEM,
            reply="x",
            corrections={"decision_date": "2026-02-30"},
        )
    assert "日期" in bad_date.value.message
    session.rollback()
    assert versions.current_version(session, record.key_hash).version == record.version
    assert service.get_or_raise(session, objection.id).state == "submitted"


def test_one_open_objection_per_record_and_only_the_source_department_decides(session, tmp_path):
    record, subject, user, objection = _disputed(session, tmp_path)
    with pytest.raises(Conflict):
        service.submit(session, accounts.actor_for(user), subject, record_id=record.id, reason="再次提出")
    with pytest.raises(PermissionDenied):
        service.ensure_actor(reviewer(session, "sw"), objection, ObjectionAction.UPHOLD)
    with pytest.raises(PermissionDenied):
        service.ensure_actor(user, objection, ObjectionAction.UPHOLD)
    service.ensure_actor(user, objection, ObjectionAction.CANCEL)
    service.decide(session, objection, ObjectionAction.CANCEL, accounts.actor_for(user), reply="")
    with pytest.raises(Conflict) as again:
        service.decide(session, objection, ObjectionAction.UPHOLD, audit.SYSTEM, reply="维持")
    assert again.value.code == "invalid_transition" and again.value.status_code == 409


def test_a_resubmitted_version_keeps_the_dispute_mark(session, tmp_path):
    record, _subject, _user, _objection = _disputed(session, tmp_path)
    changed = ingest_penalty(session, tmp_path, decided="2026-04-02", **{"处罚内容": "罚款5万元（补充说明）"})
    assert changed.version == record.version + 1 and changed.disputed is True
