"""Issue 5 "Done when", end to end on a demo city, over the HTTP API as a business system uses it:
a subject is listed through the procedure; a procurement check returns the punishment with its legal basis;
feedback is recorded and counted; at the end of the term the subject leaves the list, subscribers are notified,
and the check returns nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.lists.helpers import list_through_procedure
from tests.subscriptions.test_webhooks import receiver, verify_as_documented  # noqa: F401 - fixture
from xinyong.accounts import service as accounts
from xinyong.archive.models import Subject
from xinyong.config import Settings
from xinyong.core import audit, clock
from xinyong.core.db import get_engine, make_sessionmaker
from xinyong.demo.builder import build_demo
from xinyong.jobs import run_once
from xinyong.measures import service as measures

SCENARIO = "government_procurement"


def test_listing_check_feedback_term_end_and_notification(session, clean_db, client, tmp_path, receiver):  # noqa: F811
    build_demo(
        Settings(database_url=clean_db, environment="test", var_dir=tmp_path), subjects=400, seed=9, as_of=clock.today()
    )
    session.rollback()
    procurement = accounts.create_client(
        session, audit.SYSTEM, name="政府采购系统（验收）", permissions=["check", "subscribe"]
    ).token
    session.commit()
    auth = {"Authorization": f"Bearer {procurement}"}
    listed_subjects = {
        s
        for s in session.scalars(
            select(Subject.id).join(__import__("xinyong.lists.models", fromlist=["ListEntry"]).ListEntry)
        )
    }
    subject = session.scalar(
        select(Subject)
        .where(Subject.kind == "legal_person", Subject.id.not_in(listed_subjects or {0}))
        .order_by(Subject.id)
    )

    sub = client.post(
        "/api/v1/subscriptions",
        headers=auth,
        json={"target_type": "subject", "target": subject.uscc, "callback_url": receiver.url},
    )
    assert sub.status_code == 201, sub.text
    secret = sub.json()["secret"]

    before = client.post("/api/v1/checks", headers=auth, json={"subject": subject.uscc, "scenario": SCENARIO})
    assert before.status_code == 200 and not [
        m for m in before.json()["measures"] if m["type"] == "punishment" and "list" in str(m.get("because", ""))
    ]

    session.rollback()  # SQLite: a write needs a snapshot newer than the API's commits
    entry = list_through_procedure(session, subject)
    session.commit()
    assert entry.state == "in_publicity"

    check = client.post("/api/v1/checks", headers=auth, json={"subject": subject.uscc, "scenario": SCENARIO})
    body = check.json()
    punishments = [m for m in body["measures"] if m["type"] == "punishment"]
    assert punishments, body
    assert any("政府采购法" in m["legal_basis"] for m in punishments)
    feedback = client.post(
        f"/api/v1/checks/{body['check_id']}/feedback",
        headers=auth,
        json={"measure_code": punishments[0]["code"], "applied": True, "reason": "已限制其参加本次政府采购"},
    )
    assert feedback.status_code in (200, 201), feedback.text
    session.rollback()
    month = clock.today().strftime("%Y-%m")
    assert sum(r.punishments_applied for r in measures.statistics(session, month)) >= 1

    factory = make_sessionmaker(get_engine(clean_db))
    run_once(factory)
    assert [r.json["type"] for r in receiver.requests] == ["list.entered"]

    clock.move(timedelta(days=3 * 366 + 2))
    report = run_once(factory)
    assert report.expired >= 1
    events = [r.json["type"] for r in receiver.requests]
    assert events == ["list.entered", "list.left"]
    last = receiver.requests[-1]
    assert verify_as_documented(secret, last.headers, last.body)

    after = client.post("/api/v1/checks", headers=auth, json={"subject": subject.uscc, "scenario": SCENARIO})
    assert [m for m in after.json()["measures"] if m["type"] == "punishment"] == []
    session.rollback()
    assert audit.verify(session).ok
