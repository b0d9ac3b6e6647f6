"""Departments (信息提供单位), users with roles, and API clients of business systems and banks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base, BigIntPK, JSONType, UTCDateTime
from xinyong.core.models import CreatedMixin, IdMixin


class Role(StrEnum):
    SUBJECT = "subject"
    DEPARTMENT = "department"
    CREDIT_OFFICE = "credit_office"
    ADMIN = "admin"


ROLE_LABELS = {
    Role.SUBJECT: "信用主体",
    Role.DEPARTMENT: "部门报送员",
    Role.CREDIT_OFFICE: "信用办",
    Role.ADMIN: "系统管理员",
}


class Department(IdMixin, CreatedMixin, Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    short_name: Mapped[str] = mapped_column(String(50))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    level: Mapped[str] = mapped_column(String(20))  # municipal | district | zone | public_service
    region_code: Mapped[str] = mapped_column(String(12))
    covers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    submits: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(IdMixin, CreatedMixin, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), index=True)
    department_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("departments.id"))
    subject_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("subjects.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApiClient(IdMixin, CreatedMixin, Base):
    """A business system or bank. The token is shown once; only its SHA-256 is kept."""

    __tablename__ = "api_clients"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    permissions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    department_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
