"""Issuing and verifying credit reports. Content comes from publicity.views only (masking, publicity windows).

Serial: ``XY`` + local issue date + a 6-digit sequence of that day (``XY20260305000001``). Verification code:
16 characters from ``secrets`` over Crockford's base-32 alphabet (no I, L, O, U: 80 bits), printed in groups of
four. Issuing and every verification write an audit event in the caller's transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from xinyong.archive.models import Subject
from xinyong.config import get_settings
from xinyong.core import audit, clock
from xinyong.core.audit import Actor
from xinyong.core.db import is_postgres
from xinyong.core.errors import DomainError
from xinyong.publicity.views import View, subject_view
from xinyong.reports import render
from xinyong.reports.models import REPORT_KIND_LABELS, CreditReport, ReportKind

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32
CODE_LENGTH = 16
_CODE_READS_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
ANONYMOUS = Actor("anonymous", "公众")
KIND_VIEWS = {ReportKind.PUBLIC: View.PUBLIC, ReportKind.SELF: View.SELF, ReportKind.REVIEW: View.PUBLIC}
VIEW_LABELS = {View.PUBLIC: "公开", View.SELF: "本主体", View.AUTHORISED: "授权", View.INTERNAL: "内部"}
_SERIAL_LOCK_KEY = 7_301_000_002


@dataclass(frozen=True)
class IssuedReport:
    report: CreditReport
    pdf_bytes: bytes

    @property
    def file_name(self) -> str:
        return f"{REPORT_KIND_LABELS[ReportKind(self.report.kind)]}_{self.report.serial}.pdf"


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    """What a person types or a QR carries (lower case, dashes, spaces, O for 0) → the stored form."""
    return code.strip().upper().translate(_CODE_READS_AS)


def _next_serial(session: Session, issued_at: datetime) -> str:
    """The day's next serial. On PostgreSQL an advisory lock held to commit makes concurrent issues queue (each
    holds it for one render, about 0.2 s), so serials never collide; SQLite's single writer does the same."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SERIAL_LOCK_KEY})
    prefix = f"XY{clock.to_local(issued_at):%Y%m%d}"
    last = session.scalar(select(func.max(CreditReport.serial)).where(CreditReport.serial.startswith(prefix)))
    return f"{prefix}{(int(last[len(prefix) :]) if last else 0) + 1:06d}"


def _summary(session: Session, subject: Subject, content: dict, kind: ReportKind) -> dict:
    """What the public verify page shows. The name comes from the public view, so a person's is masked even when
    the report itself (a self report) carries the full name; no identifier of a person is included."""
    public_name = content["subject"]["name"] if content["view"] == View.PUBLIC else None
    if public_name is None:
        public_name = subject_view(session, subject, View.PUBLIC).name
    return {
        "serial": content["serial"],
        "kind": kind.value,
        "title": content["title"],
        "issued_at": content["issued_at"],
        "subject_name": public_name,
        "subject_kind": content["subject"]["kind"],
        "uscc": subject.uscc,
        "counts": render.section_counts(content),
    }


def issue(
    session: Session,
    subject: Subject,
    kind: ReportKind | str,
    actor: Actor,
    view: View | None = None,
    *,
    purpose: str | None = None,
    base_url: str | None = None,
) -> IssuedReport:
    """Build, register and render one report; the caller commits. Who may ask for which kind is the caller's
    decision (pages, CLI); here a public or review report can only come from the public view."""
    kind = ReportKind(kind)
    view = View(view) if view is not None else KIND_VIEWS[kind]
    if view != KIND_VIEWS[kind]:
        label, needed = REPORT_KIND_LABELS[kind], VIEW_LABELS[KIND_VIEWS[kind]]
        raise DomainError(f"{label}只能基于{needed}视图出具，不能用{VIEW_LABELS[view]}视图", code="report_view")
    data = subject_view(session, subject, view)
    issued_at = clock.now().replace(microsecond=0)
    serial = _next_serial(session, issued_at)
    from xinyong.evaluation.pages import grade_view

    content = render.report_content(data, kind, serial, issued_at, purpose, grade=grade_view(session, subject.id))
    report = CreditReport(
        serial=serial,
        kind=kind.value,
        subject_id=subject.id,
        view=view.value,
        issued_at=issued_at,
        issued_by=actor.id,
        issued_by_name=actor.name,
        verification_code=new_verification_code(),
        content_digest=render.digest(content),
        summary=_summary(session, subject, content, kind),
        revoked=False,
    )
    session.add(report)
    session.flush()
    pdf = render.render_pdf(content, report.verification_code, base_url or get_settings().base_url)
    audit.record(
        session,
        actor,
        "report.issue",
        "credit_report",
        report.id,
        {
            "serial": serial,
            "kind": kind.value,
            "view": view.value,
            "subject_id": subject.id,
            "digest": report.content_digest,
        },
    )
    return IssuedReport(report, pdf)


def verify(session: Session, code: str) -> CreditReport | None:
    """Look a report up by its verification code. Audited as a public read, misses too (guessing shows up)."""
    normalized = normalize_code(code)
    report = None
    if len(normalized) == CODE_LENGTH:
        report = session.scalar(select(CreditReport).where(CreditReport.verification_code == normalized))
    audit.record(
        session,
        ANONYMOUS,
        "report.verify",
        "credit_report",
        report.id if report else "-",
        {"found": True, "serial": report.serial} if report else {"found": False, "code": normalized[:32]},
    )
    return report


def revoke(session: Session, report: CreditReport, actor: Actor, reason: str) -> CreditReport:
    """Declare an issued report void (e.g. it was issued on records later withdrawn); the verify page says so."""
    if report.revoked:
        raise DomainError(f"报告 {report.serial} 已作废", code="report_revoked")
    report.revoked = True
    report.revoked_at = clock.now()
    session.flush()
    audit.record(
        session, actor, "report.revoke", "credit_report", report.id, {"serial": report.serial, "reason": reason}
    )
    return report


def get_by_serial(session: Session, serial: str) -> CreditReport | None:
    return session.scalar(select(CreditReport).where(CreditReport.serial == serial.strip().upper()))
