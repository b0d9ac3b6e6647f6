"""Credit commitments: templates as data, online signing, fulfilment, and a breach becoming a credit record that
triggers the measure of its class at the next check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.builders import make_person, make_subject, make_user
from xinyong.accounts import service as accounts
from xinyong.accounts.models import Role
from xinyong.archive.models import CreditRecord
from xinyong.commitments import rules, service
from xinyong.commitments.rules import CommitmentAction
from xinyong.core import clock
from xinyong.core.errors import Conflict, DomainError, PermissionDenied
from xinyong.core.workflow import Upload
from xinyong.measures import service as measures
from xinyong.publicity import views


def _signer(session, subject):
    return make_user(session, username=f"s{subject.id}", role=Role.SUBJECT, subject_id=subject.id)


def _approval(session, subject=None):
    subject = subject or make_subject(session)
    user = _signer(session, subject)
    dept = accounts.find_department(session, "scjgj")
    c = service.sign(
        session,
        accounts.actor_for(user),
        subject,
        template="approval_notice",
        context={"item": "食品经营许可", "missing": "场所使用证明"},
        department=dept,
    )
    return subject, user, c


def test_every_template_renders_with_its_context_fields(session):
    subject = make_subject(session)
    for code, tpl in rules.catalogue().templates.items():
        text = service.render_text(session, tpl, subject, {k: f"<{k}>" for k in tpl.context_fields}, clock.today())
        assert subject.name in text and subject.uscc in text, code
        assert "{" not in text, f"{code}: a placeholder was left unfilled"


def test_signing_keeps_the_text_as_signed_and_sets_the_due_date(session):
    subject, _user, c = _approval(session)
    assert c.state == "signed" and c.due_on == clock.today() + timedelta(days=30)
    assert "食品经营许可" in c.text and "场所使用证明" in c.text and len(c.text_sha256) == 64
    with pytest.raises(DomainError) as missing:
        service.sign(session, accounts.actor_for(_user), subject, template="approval_notice", context={"item": "x"})
    assert "以承诺替代的证明材料" in missing.value.message


def test_evidence_then_confirmation(session):
    _subject, user, c = _approval(session)
    unit = make_user(session, username="unit", role=Role.DEPARTMENT)
    with pytest.raises(PermissionDenied):
        service.ensure_actor(unit, c, CommitmentAction.SUBMIT_EVIDENCE)
    service.submit_evidence(
        session,
        c,
        accounts.actor_for(user),
        note="已补交场所使用证明",
        uploads=[Upload("evidence", "证明.pdf", b"%PDF")],
    )
    service.ensure_actor(unit, c, CommitmentAction.CONFIRM)
    service.confirm(session, c, accounts.actor_for(unit), note="材料齐全")
    assert c.state == "fulfilled" and c.closed_at is not None
    with pytest.raises(Conflict):
        service.breach(session, c, accounts.actor_for(unit), facts="迟到的违诺")


def test_breach_becomes_a_record_that_triggers_its_measure(session):
    subject, _user, c = _approval(session)
    before = measures.check(session, subject, "administrative_approval")
    assert "commitment_breach_no_notice_commitment" not in [m["code"] for m in before.measures]
    service.breach(
        session,
        c,
        accounts.actor_for(make_user(session, username="unit", role=Role.DEPARTMENT)),
        facts="经现场核查，未取得场所使用权，承诺不实",
    )
    record = session.get(CreditRecord, c.breach_record_id)
    assert record.info_class == "commitment_breach" and record.publicity_rule == "ndrc_order_36"
    assert record.payload["commitment_title"] == c.title and record.subject_id == subject.id
    after = measures.check(session, subject, "administrative_approval")
    assert "commitment_breach_no_notice_commitment" in [m["code"] for m in after.measures]
    assert after.standing_code == "adverse_records"
    public = views.subject_view(session, subject, views.View.PUBLIC)
    assert record.decision_no in [r.decision_no for r in public.records]


def test_public_list_masks_persons_and_shows_no_text(session, client):
    person = make_person(session)
    user = _signer(session, person)
    service.sign(
        session, accounts.actor_for(user), person, template="industry_self_discipline", context={"industry": "餐饮"}
    )
    session.commit()
    body = client.get("/api/v1/commitments").json()
    item = body["items"][0]
    assert item["subject_name"] == "张*明" and item["uscc"] is None and "text" not in item
    page = client.get("/commitments")
    assert page.status_code == 200 and "张*明" in page.text and "张晓明" not in page.text


def test_repair_commitment_counts_for_repair(session):
    subject = make_subject(session)
    user = _signer(session, subject)
    c = service.sign(session, accounts.actor_for(user), subject, template="repair")
    assert c.department_id is None and c.due_on is None
    assert service.usable_for_repair(session, subject.id).id == c.id
    assert session.scalar(select(CreditRecord)) is None
