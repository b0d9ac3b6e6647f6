"""`xinyong demo` builds a city that every page has something to show for, and serves it as it is next time."""

from __future__ import annotations

from sqlalchemy import func, select

from xinyong.archive.models import Subject
from xinyong.config import Settings
from xinyong.core import clock
from xinyong.demo.builder import DEMO_PASSWORD, build_demo


def test_demo_build_creates_logins_tokens_list_entries_and_checks(session, clean_db, client, tmp_path):
    from xinyong.lists.models import ListEntry
    from xinyong.measures.models import Check, CheckFeedback

    settings = Settings(database_url=clean_db, environment="test", var_dir=tmp_path)
    result = build_demo(settings, subjects=600, seed=5, as_of=clock.today())
    assert result.built and result.mismatches == [] and result.rows > 1000
    assert {u for _, u, _ in result.logins} == {"admin", "xinyongban", "scjgj", "qiye"}
    assert len(result.tokens) == 2 and all(t.startswith("xy_") for _, t in result.tokens)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ListEntry)) == result.listed >= 2
    assert session.scalar(select(func.count()).select_from(Check)) == result.checks > 0
    with_measures = sum(1 for r in session.scalars(select(Check.result)) if r.get("measures"))
    assert session.scalar(select(func.count()).select_from(CheckFeedback)) == with_measures
    session.rollback()
    for username in ("admin", "xinyongban", "scjgj", "qiye"):
        r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD}, follow_redirects=False)
        assert r.status_code == 303, username
        client.post("/logout")
    token = dict(result.tokens)["演示：政府采购系统"]
    uscc = session.scalar(select(func.min(Subject.uscc)))
    r = client.post(
        "/api/v1/checks",
        json={"subject": uscc, "scenario": "government_procurement"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    assert result.graded > 500
    graded = session.scalar(select(func.min(Subject.id)).where(Subject.kind == "legal_person"))
    page = client.get(f"/subjects/{graded}").text
    assert "为什么是这个等级" in page or "信用等级" in page
    again = build_demo(settings, subjects=600, seed=5)
    assert not again.built and again.subjects == result.subjects  # an existing demo is served as it is
