"""The workflows over HTTP as their users meet them: the subject applies from its credit page and over the API,
the deciding unit and the credit office review on their pages, errors come back in Chinese with stable codes."""

from __future__ import annotations

from sqlalchemy import select

from tests.builders import PASSWORD, make_user
from tests.repair.helpers import company_with_account, ingest_penalty, reviewer
from xinyong.archive import versions
from xinyong.archive.models import RecordState
from xinyong.core.audit import AuditEvent
from xinyong.notices.models import Notice

FILES = {
    "proof_of_performance": ("缴款凭证.pdf", b"%PDF-1.4 paid", "application/pdf"),
    "commitment_letter": ("承诺书.pdf", b"%PDF-1.4 promise", "application/pdf"),
}


def _login(client, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_repair_over_the_api_from_application_to_approval(session, client, tmp_path):
    record = ingest_penalty(session, tmp_path, decided="2026-04-02")
    subject, _user = company_with_account(session)
    reviewer(session)
    make_user(session, username="xyb", role="credit_office")
    session.commit()

    _login(client, "nangang")
    conditions = client.get("/api/v1/repairs/conditions", params={"record_id": record.id})
    assert conditions.status_code == 200 and conditions.json()["rule"] == "ndrc_order_36"
    assert {c["code"]: c["status"] for c in conditions.json()["conditions"]}["obligations_performed"] == "not_met"
    missing = client.post("/api/v1/repairs", data={"record_id": record.id, "statement": "已整改"})
    assert missing.status_code == 409 and missing.json()["error"] == "conditions_not_met"
    assert "履行义务的证明材料" in missing.json()["message"]
    created = client.post("/api/v1/repairs", data={"record_id": record.id, "statement": "已整改"}, files=FILES)
    assert created.status_code == 201, created.text
    case = created.json()
    assert case["state"] == "submitted" and len(case["materials"]) == 2 and case["next_actions"]
    early = client.post(f"/api/v1/repairs/{case['id']}/approve", json={"opinion": "同意"})
    assert early.status_code == 403 and early.json()["error"] == "not_credit_office"

    _login(client, "reviewer-sthjj")
    page = client.get(f"/repairs/{case['id']}")
    assert page.status_code == 200 and "认定单位审核通过" in page.text and "缴款凭证.pdf" in page.text
    material = client.get(f"/repairs/{case['id']}/materials/{case['materials'][0]['id']}")
    assert material.status_code == 200 and material.content == b"%PDF-1.4 paid"
    step = client.post(f"/repairs/{case['id']}/unit_approve", data={"opinion": "材料属实"}, follow_redirects=False)
    assert step.status_code == 303

    _login(client, "xyb")
    assert "待信用办复核" in client.get("/repairs").text
    done = client.post(f"/api/v1/repairs/{case['id']}/approve", json={"opinion": "同意修复"})
    assert done.status_code == 200 and done.json()["state"] == "repaired"
    again = client.post(f"/api/v1/repairs/{case['id']}/approve", json={"opinion": "同意修复"})
    assert again.status_code == 409 and again.json()["error"] == "invalid_transition"

    session.expire_all()
    assert versions.current_version(session, record.key_hash).state == RecordState.REPAIRED
    client.cookies.clear()
    public = client.get(f"/api/v1/subjects/{subject.uscc}").json()
    assert record.decision_no not in str(public)
    reads = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("repair.%"))).all()
    assert {"repair.submit", "repair.read", "repair.material_read", "repair.unit_approve", "repair.approve"} <= set(
        reads
    )
    assert session.scalar(select(Notice).where(Notice.subject_id == subject.id, Notice.kind == "repair.decided"))


def test_subject_page_offers_repair_and_objection_and_forms_render(session, client, tmp_path):
    record = ingest_penalty(session, tmp_path, decided="2026-04-02")
    company_with_account(session)
    session.commit()
    _login(client, "nangang")
    me = client.get(f"/subjects/{record.subject_id}")
    assert f"/repairs/new?record_id={record.id}" in me.text and f"/objections/new?record_id={record.id}" in me.text
    form = client.get("/repairs/new", params={"record_id": record.id})
    assert form.status_code == 200 and "信用修复管理办法" in form.text and "不符合" in form.text
    refused = client.post("/repairs/new", data={"record_id": record.id, "statement": "已整改"})
    assert refused.status_code == 409 and "不符合信用修复条件" in refused.text
    objection = client.post(
        "/objections/new",
        data={"record_id": record.id, "reason": "金额有误", "field": "fine_amount", "value": "3"},
        follow_redirects=False,
    )
    assert objection.status_code == 303
    public_page = client.get(f"/subjects/{record.subject_id}")
    assert "异议处理中" in public_page.text
    for path in (
        "/repairs",
        "/objections",
        "/commitments/mine",
        "/notices",
        "/commitments/sign?template=approval_notice",
    ):
        assert client.get(path).status_code == 200, path
    sign = client.post(
        "/commitments/sign",
        data={
            "template": "approval_notice",
            "item": "食品经营许可",
            "missing": "场所证明",
            "department": "scjgj",
            "agree": "yes",
        },
        follow_redirects=False,
    )
    assert sign.status_code == 303
    assert "食品经营许可" in client.get(sign.headers["location"]).text


def test_other_subjects_cannot_see_or_act_on_a_case(session, client, tmp_path):
    record = ingest_penalty(session, tmp_path, decided="2026-04-02")
    subject, _user = company_with_account(session)
    from tests.builders import make_subject, valid_uscc

    other = make_subject(session, name="南京另一家有限公司", uscc=valid_uscc(77))
    make_user(session, username="other", role="subject", subject_id=other.id)
    session.commit()
    _login(client, "nangang")
    case = client.post("/api/v1/repairs", data={"record_id": record.id, "statement": "已整改"}, files=FILES).json()
    _login(client, "other")
    assert client.get(f"/api/v1/repairs/{case['id']}").status_code == 404
    stolen = client.post("/api/v1/repairs", data={"record_id": record.id, "statement": "x"}, files=FILES)
    assert stolen.status_code == 404 and stolen.json()["error"] == "record_not_found"
    assert subject.id != other.id
