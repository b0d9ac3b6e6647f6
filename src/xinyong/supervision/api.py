"""JSON API of random inspections: the published plans (一公开), and results pushed by the inspecting unit.

`GET /inspections/{plan_id}` of a published plan carries everything needed to re-run the draw without our
database: the seed, the eligible set {grade: subject ids}, the ratios and the inspector pool
(`xinyong.supervision.service.draw_targets`, algorithm in that module's docstring).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require_permission
from xinyong.accounts.models import ApiClient
from xinyong.core.errors import PermissionDenied
from xinyong.core.web import DbSession
from xinyong.supervision import results, service, views

router = APIRouter(tags=["inspections"])
Submitter = Annotated[ApiClient, Depends(require_permission("submit"))]


@router.get("/inspections", summary="双随机抽查计划（抽取结果和种子在公开后提供）")
def list_inspections(session: DbSession) -> dict[str, Any]:
    items = views.public_plans(session)
    return {"total": len(items), "items": items}


@router.get("/inspections/{plan_id}", summary="一个抽查计划：公开后含种子、候选名单、抽查对象和检查结果（自然人脱敏）")
def get_inspection(plan_id: int, session: DbSession) -> dict[str, Any]:
    return views.public_plan(session, service.get_or_raise(session, plan_id))


class ResultCreate(BaseModel):
    subject_id: int = Field(description="抽中的主体编号")
    result: str = Field(description="检查结果代码，如 no_problem、rectification_ordered、case_filed、not_found")
    inspected_on: date = Field(description="检查完成日期")
    inspector: str = Field(min_length=1, max_length=200, description="检查人员")
    findings: str = Field(default="", max_length=4000, description="检查情况（发现问题时必填）")


@router.post("/inspections/{plan_id}/results", status_code=201, summary="报送一个抽查对象的检查结果（更正即新版本）")
def create_inspection_result(plan_id: int, body: ResultCreate, session: DbSession, client: Submitter) -> dict[str, Any]:
    """Only the plan's inspecting unit may report its results, through a client bound to that unit."""
    plan = service.get_or_raise(session, plan_id)
    if client.department_id is None or client.department_id != plan.department_id:
        raise PermissionDenied("只有抽查计划的检查实施单位可以报送检查结果", code="not_plan_department")
    record = results.record_result(
        session,
        plan,
        accounts.actor_for_client(client),
        subject_id=body.subject_id,
        result=body.result,
        inspected_on=body.inspected_on,
        inspector=body.inspector,
        findings=body.findings,
    )
    return {"record_id": record.id, "version": record.version, "info_class": record.info_class}
