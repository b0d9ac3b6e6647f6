"""Inspection results (检查结果): each drawn target's result comes back as a credit record (一公开).

A result is a `CreditRecord` of catalogue class `inspection_result` provided by the plan's inspecting unit, written
through `archive.versions` like every record the platform itself produces: natural key = class | unit code | plan
number | USCC | resident ID (the subject's name key when it has neither). A corrected result is version n+1 of the
same key; the old version keeps `is_current = false`. Its publicity window is judged by `publicity.rules.judge` like
any record (the `no_window` catch-all: public while active), again for a correction that changes the date.

Results are taken only once the plan is published: a result is a public record on the subject's page, so recording
one earlier would disclose a target before the draw and its seed are published.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department
from xinyong.archive import service as archive
from xinyong.archive import versions
from xinyong.archive.models import CreditRecord, Subject, SubjectKind
from xinyong.core import audit, clock
from xinyong.core.audit import Actor
from xinyong.core.errors import Conflict, DomainError, NotFound
from xinyong.publicity import rules as publicity_rules
from xinyong.supervision.models import InspectionDraw, InspectionPlan
from xinyong.supervision.service import STATE_LABELS, PlanState, sampling

INFO_CLASS = "inspection_result"
NATURAL_KEY = ("plan_no", "uscc", "id_no")  # as catalog/data/classes/inspection_result.yaml declares
_CATEGORY = {
    SubjectKind.NATURAL_PERSON: "natural_person",
    SubjectKind.INDIVIDUAL_BUSINESS: "individual_business",
}


class ResultKind(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str
    description: str | None = None
    findings_required: bool


class ResultKinds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    source: str
    confirmed: bool
    results: tuple[ResultKind, ...] = Field(min_length=1)

    def get(self, code: str) -> ResultKind:
        for kind in self.results:
            if kind.code == code:
                return kind
        choices = "、".join(f"{k.code}（{k.label}）" for k in self.results)
        raise DomainError(f"未知的检查结果“{code}”，可选：{choices}", code="unknown_result")


@cache
def result_kinds() -> ResultKinds:
    text = (resources.files("xinyong.supervision") / "data" / "results.yaml").read_text(encoding="utf-8")
    return ResultKinds.model_validate(yaml.safe_load(text))


def _resident_id(session: Session, subject: Subject) -> str | None:
    if subject.kind != SubjectKind.NATURAL_PERSON:
        return None
    return next((i.value for i in archive.identifiers_of(session, subject.id) if i.scheme == "resident_id"), None)


def draw_of(session: Session, plan_id: int, subject_id: int) -> InspectionDraw | None:
    return session.scalar(
        select(InspectionDraw).where(InspectionDraw.plan_id == plan_id, InspectionDraw.subject_id == subject_id)
    )


def _plan_records(plan: InspectionPlan) -> Any:
    return select(CreditRecord).where(
        CreditRecord.info_class == INFO_CLASS,
        CreditRecord.source_department_id == plan.department_id,
        CreditRecord.payload["plan_no"].as_string() == str(plan.id),
    )


def results_of(session: Session, plan: InspectionPlan) -> dict[int, CreditRecord]:
    """The current result of each target that has one, by subject id (one query)."""
    if plan.department_id is None:
        return {}
    stmt = _plan_records(plan).where(CreditRecord.is_current.is_(True))
    return {r.subject_id: r for r in session.scalars(stmt) if r.subject_id is not None}


def result_history(session: Session, plan: InspectionPlan, subject_id: int) -> list[CreditRecord]:
    """Every version of one target's result, oldest first."""
    if plan.department_id is None:
        return []
    stmt = _plan_records(plan).where(CreditRecord.subject_id == subject_id).order_by(CreditRecord.version)
    return list(session.scalars(stmt))


def record_result(
    session: Session,
    plan: InspectionPlan,
    actor: Actor,
    *,
    subject_id: int,
    result: str,
    inspected_on: date,
    inspector: str,
    findings: str = "",
) -> CreditRecord:
    """Store one target's result as a credit record (a new version when it corrects an earlier one); audited.

    Refused (409) before the plan is published and for a subject the plan did not draw; refused (400) for an unknown
    result, a date before the inspection period or in the future, no inspector, or missing findings where the
    result requires them. A correction identical to the current version is refused rather than stored twice.
    """
    if plan.department_id is None:
        raise Conflict("该抽查计划未指定检查实施单位，不能录入检查结果", code="plan_without_department")
    if plan.state != PlanState.PUBLISHED.value:
        label = STATE_LABELS.get(PlanState(plan.state), plan.state)
        raise Conflict(
            f"抽查计划当前状态为“{label}”：须先公开抽查结果和种子，才能录入检查结果", code="plan_not_published"
        )
    subject = archive.get_subject(session, subject_id)
    if subject is None:
        raise NotFound(f"未找到信用主体 {subject_id}", code="subject_not_found")
    draw = draw_of(session, plan.id, subject.id)
    if draw is None:
        raise Conflict(
            f"主体 {subject.id} 不是抽查计划 #{plan.id}「{plan.name}」抽中的检查对象，不能录入检查结果",
            code="not_drawn",
        )
    kind = result_kinds().get(result)
    if inspected_on > clock.today():
        raise DomainError("检查完成日期不能晚于今天", code="date_in_future")
    if inspected_on < plan.period_start:
        raise DomainError(f"检查完成日期早于抽查期间（自 {plan.period_start} 起）", code="date_before_period")
    inspector = inspector.strip()
    if not inspector:
        raise DomainError("请填写检查人员", code="inspector_required")
    findings = findings.strip()
    if kind.findings_required and not findings:
        raise DomainError(f"检查结果为“{kind.label}”时须填写检查情况", code="findings_required")

    department = session.get(Department, plan.department_id)
    assert department is not None
    category = _CATEGORY.get(SubjectKind(subject.kind), "legal_person")
    values: dict[str, Any] = {
        "subject_name": subject.name,
        "subject_category": category,
        "uscc": subject.uscc,
        "id_no": _resident_id(session, subject),
        "plan_no": str(plan.id),
        "plan_name": plan.name,
        "inspection_items": "、".join(plan.items),
        "risk_grade": f"{draw.grade}（{sampling().grades[draw.grade].label}）"
        if draw.grade in sampling().grades
        else draw.grade,
        "result": kind.label,
        "result_code": kind.code,
        "decision_date": inspected_on.isoformat(),
        "inspector": inspector,
        "findings": findings,
        "deciding_authority": department.name,
        "deciding_authority_uscc": department.uscc,
    }
    payload = {k: v for k, v in values.items() if v not in (None, "")}
    current = next((r for r in result_history(session, plan, subject.id) if r.is_current), None)
    if current is None:
        key_parts = [str(payload.get(k) or "") for k in NATURAL_KEY]
        if not payload.get("uscc") and not payload.get("id_no"):
            key_parts.append(archive.name_key(subject.name))
        record = versions.create_record(
            session,
            info_class=INFO_CLASS,
            subject=subject,
            department_id=department.id,
            department_code=department.code,
            key_parts=key_parts,
            payload=payload,
            decision_no=None,
            decision_date=inspected_on,
        )
    else:
        if current.content_hash == versions.content_hash(payload):
            raise Conflict("与当前的检查结果完全相同，无需更正", code="duplicate_result")
        window = publicity_rules.judge(INFO_CLASS, {"decision_date": inspected_on}, department.code)
        record = versions.new_version(
            session,
            current,
            payload=payload,
            decision_date=inspected_on,
            publicity_rule=window.rule,
            publicity_start=window.start,
            publicity_min_end=window.min_end,
            publicity_end=window.end,
        )
    audit.record(
        session,
        actor,
        "inspection.result",
        "credit_record",
        record.id,
        {
            "plan_id": plan.id,
            "subject_id": subject.id,
            "result": kind.code,
            "version": record.version,
            "previous_version": current.id if current else None,
        },
    )
    return record
