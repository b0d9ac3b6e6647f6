from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.builders import PASSWORD, make_subject, make_user
from xinyong.accounts import service
from xinyong.accounts.models import Department
from xinyong.core import audit
from xinyong.core.audit import AuditEvent
from xinyong.core.errors import Conflict, DomainError, NotFound


def test_seeded_departments_include_municipal_units_all_districts_and_jiangbei_zone(session):
    depts = session.scalars(select(Department)).all()
    names = {d.name for d in depts}
    assert {"南京市市场监督管理局", "国家税务总局南京市税务局", "南京市生态环境局"} <= names
    districts = {d.region_code for d in depts if d.level == "district"}
    assert districts == {
        "320102",
        "320104",
        "320105",
        "320106",
        "320111",
        "320113",
        "320114",
        "320115",
        "320116",
        "320117",
        "320118",
    }
    zone = [d for d in depts if d.level == "zone"]
    assert zone and all(d.region_code == "JBXQ" for d in zone)
    from xinyong.archive.identifiers import validate_uscc

    for d in depts:
        assert validate_uscc(d.uscc) == d.uscc


def test_department_found_by_code_or_uscc_and_unknown_is_clear(session):
    d = service.find_department(session, "scjgj")
    assert service.find_department(session, d.uscc.lower()).id == d.id
    with pytest.raises(NotFound, match="找不到单位"):
        service.find_department(session, "no-such")


def test_department_add_validates_uscc_and_refuses_duplicates(session):
    with pytest.raises(DomainError, match="统一社会信用代码"):
        service.add_department(session, audit.SYSTEM, name="测试局", uscc="91320000134762612W", code="csj")
    existing = service.find_department(session, "scjgj")
    with pytest.raises(Conflict):
        service.add_department(session, audit.SYSTEM, name="另一个局", uscc=existing.uscc, code="other")


def test_login_succeeds_with_right_password_and_is_audited(session):
    make_user(session, "alice")
    session.commit()
    assert service.authenticate(session, "alice", "wrong-password") is None
    user = service.authenticate(session, "alice", PASSWORD)
    assert user is not None and user.last_login_at is not None
    session.commit()
    actions = session.scalars(select(AuditEvent.action)).all()
    assert "auth.login_failed" in actions and "auth.login" in actions and "user.create" in actions


def test_roles_need_their_link(session):
    with pytest.raises(DomainError, match="必须属于一个单位"):
        service.create_user(session, audit.SYSTEM, username="d", password=PASSWORD, role="department")
    with pytest.raises(DomainError, match="必须关联一个主体"):
        service.create_user(session, audit.SYSTEM, username="s", password=PASSWORD, role="subject")
    with pytest.raises(ValueError):
        service.create_user(session, audit.SYSTEM, username="x", password=PASSWORD, role="superuser")
    with pytest.raises(DomainError, match="至少需要8个字符"):
        service.create_user(session, audit.SYSTEM, username="y", password="short", role="admin")


def test_api_client_token_shown_once_stored_hashed_and_checked(session):
    issued = service.create_client(session, audit.SYSTEM, name="政府采购系统", permissions=["check"])
    assert issued.token not in str(issued.client.token_hash)
    assert service.authenticate_client(session, issued.token).id == issued.client.id
    assert service.authenticate_client(session, issued.token + "x") is None
    assert service.authenticate_client(session, "garbage") is None
    with pytest.raises(DomainError, match="未知权限"):
        service.create_client(session, audit.SYSTEM, name="银行", permissions=["root"])


def test_subject_user_is_linked_to_its_subject(session):
    subject = make_subject(session)
    user = make_user(session, "firm", role="subject", subject_id=subject.id)
    assert user.subject_id == subject.id
