"""Users, departments and API clients: create, find, authenticate. Every change is audited."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from xinyong.accounts.models import ApiClient, Department, Role, User
from xinyong.archive.identifiers import IdentifierError, validate_uscc
from xinyong.archive.models import Subject
from xinyong.config import get_settings
from xinyong.core import audit, clock
from xinyong.core.audit import Actor
from xinyong.core.errors import Conflict, DomainError, NotFound, PermissionDenied

PERMISSIONS = {
    "check": "信用核查",
    "submit": "数据报送",
    "query": "授权查询",
    "lending": "信易贷",
    "subscribe": "名单订阅",
}
TOKEN_PREFIX = "xy_"


@cache
def _hasher() -> PasswordHasher:
    s = get_settings()
    return PasswordHasher(time_cost=s.password_hash_time_cost, memory_cost=s.password_hash_memory_kib, parallelism=2)


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise DomainError("密码至少需要8个字符", code="weak_password")
    return _hasher().hash(password)


def case_scope(model: Any, user: User) -> Any:
    """The cases of a statutory workflow (`model`: a repair application, an objection, a commitment; each with
    subject_id and department_id) that a user may see: a subject its own, a unit those it handles, the credit office
    all. An SQL condition, so one rule serves both a list and the check on a single case."""
    if user.role == Role.SUBJECT:
        return model.subject_id == (user.subject_id or -1)
    if user.role == Role.DEPARTMENT:
        return model.department_id == (user.department_id or -1)
    return model.id.is_not(None)


def audit_case_read(session: Session, user: User, workflow: str, case: Any, what: str = "read") -> None:
    """A case holds non-public details: every read is audited (`<workflow>.read`, `<workflow>.material_read`),
    except by the subject the case concerns."""
    if user.subject_id != case.subject_id:
        audit.record(session, actor_for(user), f"{workflow}.{what}", workflow, case.id, {})


def applicant_subject(session: Session, user: User) -> Subject:
    """The subject a subject account applies for (repair, objection, commitment); other accounts cannot apply."""
    if user.role != Role.SUBJECT or not user.subject_id:
        raise PermissionDenied("请使用信用主体账号登录后申请", code="subject_account_required")
    subject = session.get(Subject, user.subject_id)
    if subject is None:
        raise NotFound("账号关联的信用主体不存在", code="subject_not_found")
    return subject


def actor_for(user: User) -> Actor:
    return Actor(f"user:{user.id}", user.display_name)


def actor_for_client(client: ApiClient) -> Actor:
    return Actor(f"client:{client.id}", client.name)


# --- departments -----------------------------------------------------------------------------


@cache
def seed_departments_data() -> list[dict[str, Any]]:
    text = resources.files("xinyong.accounts").joinpath("data/departments.yaml").read_text("utf-8")
    return yaml.safe_load(text)["departments"]


def seed_departments(session: Session, actor: Actor = audit.SYSTEM) -> int:
    """Insert the seeded Nanjing units that are not there yet (by code); returns how many were added."""
    existing = set(session.scalars(select(Department.code)))
    added = 0
    for item in seed_departments_data():
        if item["code"] in existing:
            continue
        fields = {k: item[k] for k in ("code", "name", "short_name", "uscc", "level", "region_code")}
        dept = Department(**fields, covers=item.get("covers", []), submits=item.get("submits", []))
        session.add(dept)
        added += 1
    session.flush()
    if added:
        audit.record(session, actor, "department.seed", "department", "*", {"added": added})
    return added


def add_department(
    session: Session,
    actor: Actor,
    *,
    name: str,
    uscc: str,
    code: str,
    short_name: str | None = None,
    level: str = "municipal",
    region_code: str = "320100",
    submits: list[str] | None = None,
) -> Department:
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as exc:
        raise DomainError(f"单位统一社会信用代码无效：{exc.message}", code=exc.code) from exc
    clash = session.scalar(
        select(Department).where(or_(Department.code == code, Department.uscc == uscc, Department.name == name))
    )
    if clash:
        raise Conflict(f"单位已存在：{clash.name}（{clash.code}，{clash.uscc}）", code="department_exists")
    dept = Department(
        code=code,
        name=name,
        short_name=short_name or name,
        uscc=uscc,
        level=level,
        region_code=region_code,
        covers=[],
        submits=submits or [],
    )
    session.add(dept)
    session.flush()
    audit.record(session, actor, "department.add", "department", dept.id, {"name": name, "uscc": uscc, "code": code})
    return dept


def find_department(session: Session, key: str) -> Department:
    """A department named by its USCC, its short code, or its full name."""
    key = key.strip()
    candidates = [key, key.upper()]
    dept = session.scalar(
        select(Department).where(or_(Department.code == key, Department.uscc.in_(candidates), Department.name == key))
    )
    if dept is None:
        raise NotFound(f"找不到单位“{key}”：请使用单位代码（如 scjgj）或统一社会信用代码", code="department_not_found")
    return dept


def list_departments(session: Session) -> list[Department]:
    return list(session.scalars(select(Department).order_by(Department.level, Department.id)))


# --- users -----------------------------------------------------------------------------------


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    password: str,
    role: Role | str,
    display_name: str | None = None,
    department_id: int | None = None,
    subject_id: int | None = None,
) -> User:
    role = Role(role)
    if role is Role.DEPARTMENT and department_id is None:
        raise DomainError("部门报送员必须属于一个单位（--department）", code="department_required")
    if role is Role.SUBJECT and subject_id is None:
        raise DomainError("信用主体账号必须关联一个主体（--subject）", code="subject_required")
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"用户名“{username}”已被使用", code="username_taken")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role.value,
        department_id=department_id,
        subject_id=subject_id,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.create",
        "user",
        user.id,
        {"username": username, "role": role.value, "department_id": department_id, "subject_id": subject_id},
    )
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Password login. A failed attempt is audited too (brute-force traces)."""
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    ok = False
    if user is not None:
        try:
            ok = _hasher().verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    if not ok:
        audit.record(session, Actor("anonymous", "匿名"), "auth.login_failed", "user", username, {})
        return None
    assert user is not None
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    user.last_login_at = clock.now()
    audit.record(session, actor_for(user), "auth.login", "user", user.id, {})
    return user


# --- API clients -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedClient:
    client: ApiClient
    token: str  # shown once


def _token_hash(token: str) -> str:
    # Tokens are 256-bit random, so a fast hash is enough (unlike passwords) and keeps API calls cheap.
    return hashlib.sha256(token.encode()).hexdigest()


def create_client(
    session: Session, actor: Actor, *, name: str, permissions: list[str], department_id: int | None = None
) -> IssuedClient:
    unknown = sorted(set(permissions) - set(PERMISSIONS))
    if unknown:
        known = "、".join(f"{k}（{v}）" for k, v in PERMISSIONS.items())
        raise DomainError(f"未知权限：{', '.join(unknown)}。可用权限：{known}", code="unknown_permission")
    if session.scalar(select(ApiClient.id).where(ApiClient.name == name)):
        raise Conflict(f"接入系统“{name}”已存在", code="client_exists")
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    client = ApiClient(
        name=name,
        token_prefix=prefix,
        token_hash=_token_hash(token),
        permissions=sorted(set(permissions)),
        department_id=department_id,
    )
    session.add(client)
    session.flush()
    audit.record(session, actor, "client.create", "api_client", client.id, {"name": name, "permissions": permissions})
    return IssuedClient(client, token)


def authenticate_client(session: Session, token: str) -> ApiClient | None:
    parts = token.split("_")
    if len(parts) < 3 or not token.startswith(TOKEN_PREFIX):
        return None
    client = session.scalar(select(ApiClient).where(ApiClient.token_prefix == parts[1], ApiClient.active.is_(True)))
    if client is None or not secrets.compare_digest(client.token_hash, _token_hash(token)):
        return None
    return client
