"""Issue 6 "Done when", end to end on the demo city over HTTP: a repair applied for before the minimum publicity
period is refused citing the rule; after it (clock moved) it is approved by the deciding unit and the credit
office; the public page no longer shows the record, the credit check no longer returns its measures, and the audit
trail shows each step."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from xinyong.accounts import service as accounts
from xinyong.accounts.models import Department, Role
from xinyong.archive.models import CreditRecord, Subject
from xinyong.config import Settings
from xinyong.core import audit, clock
from xinyong.core.audit import AuditEvent
from xinyong.core.db import get_engine, make_sessionmaker
from xinyong.demo.builder import DEMO_PASSWORD, build_demo
from xinyong.lists.models import ListEntry
from xinyong.repair.models import RepairApplication

SCENARIO = "government_procurement"
FILES = {
    "proof_of_performance": ("罚款缴纳凭证.pdf", b"%PDF-1.4 receipt", "application/pdf"),
    "commitment_letter": ("信用承诺书.pdf", b"%PDF-1.4 promise", "application/pdf"),
}


def _login(client, username: str) -> None:
    client.cookies.clear()
    assert client.post("/login", data={"username": username, "password": DEMO_PASSWORD}).status_code in (200, 303)


def _measured(client, token: str, uscc: str, record_id: int) -> list[str]:
    r = client.post(
        "/api/v1/checks", headers={"Authorization": f"Bearer {token}"}, json={"subject": uscc, "scenario": SCENARIO}
    )
    assert r.status_code == 200, r.text
    return [m["code"] for m in r.json()["measures"] if any(b.get("record_id") == record_id for b in m["because"])]


def test_repair_refused_then_approved_takes_effect_everywhere(session, clean_db, client, tmp_path):
    result = build_demo(
        Settings(database_url=clean_db, environment="test", var_dir=tmp_path), subjects=400, seed=9, as_of=clock.today()
    )
    token = dict(result.tokens)["演示：政府采购系统"]
    session.rollback()
    today = clock.today()
    listed = select(ListEntry.subject_id)
    # A serious penalty of a firm, still inside its minimum period, not already under repair or objection.
    record = session.scalar(
        select(CreditRecord)
        .join(Subject, Subject.id == CreditRecord.subject_id)
        .where(
            CreditRecord.info_class == "admin_penalty",
            CreditRecord.is_current.is_(True),
            CreditRecord.state == "active",
            CreditRecord.disputed.is_(False),
            CreditRecord.severity == "serious",
            CreditRecord.publicity_min_end > today,
            CreditRecord.publicity_rule.in_(["ndrc_order_36", "ndrc_order_58"]),
            Subject.kind == "legal_person",
            Subject.id.not_in(listed),
            Subject.id.not_in(select(RepairApplication.subject_id)),
        )
        .order_by(CreditRecord.decision_date.desc(), CreditRecord.id)
        .limit(1)
    )
    assert record is not None, "the demo city should hold a recent serious penalty"
    subject = session.get(Subject, record.subject_id)
    department = session.get(Department, record.source_department_id)
    accounts.create_user(
        session, audit.SYSTEM, username="firm", password=DEMO_PASSWORD, role=Role.SUBJECT, subject_id=subject.id
    )
    accounts.create_user(
        session,
        audit.SYSTEM,
        username="unit",
        password=DEMO_PASSWORD,
        role=Role.DEPARTMENT,
        department_id=department.id,
    )
    session.commit()
    assert _measured(client, token, subject.uscc, record.id), "the serious penalty triggers a procurement measure"

    _login(client, "firm")
    early = client.post("/api/v1/repairs", data={"record_id": record.id, "statement": "已缴清罚款"}, files=FILES)
    assert early.status_code == 409 and early.json()["error"] == "conditions_not_met"
    rule_no = "国家发展和改革委员会令2025年第36号" if record.publicity_rule == "ndrc_order_36" else "第58号"
    assert rule_no in early.json()["message"] and record.publicity_min_end.isoformat() in early.json()["message"]

    clock.move(timedelta(days=(record.publicity_min_end - today).days))
    applied = client.post("/api/v1/repairs", data={"record_id": record.id, "statement": "已缴清罚款"}, files=FILES)
    assert applied.status_code == 201, applied.text
    case_id = applied.json()["id"]
    _login(client, "unit")
    assert client.post(f"/api/v1/repairs/{case_id}/unit_approve", json={"opinion": "已核实"}).status_code == 200
    _login(client, "xinyongban")
    approved = client.post(f"/api/v1/repairs/{case_id}/approve", json={"opinion": "同意修复"})
    assert approved.status_code == 200 and approved.json()["state"] == "repaired"

    client.cookies.clear()
    page = client.get(f"/subjects/{subject.id}")
    assert page.status_code == 200 and record.decision_no not in page.text
    assert record.decision_no not in client.get(f"/api/v1/subjects/{subject.uscc}").text
    assert _measured(client, token, subject.uscc, record.id) == []

    session.expire_all()
    trail = [
        e.action
        for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        if (e.target_type, e.target_id) == ("repair", str(case_id)) or e.action == "record.repair"
    ]
    assert trail == ["repair.submit", "repair.unit_approve", "repair.approve", "record.repair"]
    audit.seal_all(make_sessionmaker(get_engine(clean_db)))
    session.rollback()
    assert audit.verify(session).ok
