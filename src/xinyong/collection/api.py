"""JSON API for submitting units: push a batch, read its outcome and rejection report, trace a record's lineage."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require_permission
from xinyong.accounts.models import ApiClient
from xinyong.collection import report, service
from xinyong.core import audit
from xinyong.core.errors import PermissionDenied
from xinyong.core.web import DbSession, content_disposition

router = APIRouter(tags=["collection"])
Submitter = Annotated[ApiClient, Depends(require_permission("submit"))]


def _department_of(session: Any, client: ApiClient) -> Any:
    if client.department_id is None:
        raise PermissionDenied("该接入系统未绑定报送单位，不能报送数据", code="no_department")
    return session.get(accounts.Department, client.department_id)


@router.post("/batches", status_code=201, summary="报送一个批次（文件上传，整批成功或整批不生效）")
def create_batch(
    session: DbSession,
    client: Submitter,
    file: Annotated[UploadFile, File(description="CSV（UTF-8/GBK/GB18030）、XLSX、JSON 或 JSON Lines")],
    info_class: Annotated[str, Form(description="信息类，如 admin_penalty")],
) -> dict[str, Any]:
    department = _department_of(session, client)
    summary = service.ingest_upload(
        session,
        file.file,
        file.filename or "upload",
        department=department,
        info_class=info_class,
        actor=accounts.actor_for_client(client),
        channel="api",
    )
    return summary.to_dict()


@router.get("/batches/{batch_id}", summary="批次结果")
def get_batch(batch_id: int, session: DbSession, client: Submitter) -> dict[str, Any]:
    batch = service.get_batch_for(session, batch_id, _department_of(session, client).id)
    return service.batch_summary(session, batch).to_dict()


@router.get("/batches/{batch_id}/rejections", summary="退回明细（format=xlsx 或 csv）")
def get_rejections(
    batch_id: int, session: DbSession, client: Submitter, format: Annotated[str, Query(pattern="^(xlsx|csv)$")] = "csv"
) -> Response:
    batch = service.get_batch_for(session, batch_id, _department_of(session, client).id)
    audit.record(session, accounts.actor_for_client(client), "batch.rejections.read", "batch", batch.id, {})
    content, media, name = report.render(session, batch, format)
    return Response(content, media_type=media, headers={"Content-Disposition": content_disposition(name)})


@router.get("/batches/{batch_id}/records", summary="批次入库的记录（按原文件行号）")
def get_batch_records(
    batch_id: int,
    session: DbSession,
    client: Submitter,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    batch = service.get_batch_for(session, batch_id, _department_of(session, client).id)
    records = service.batch_records(session, batch, offset, limit)
    audit.record(
        session,
        accounts.actor_for_client(client),
        "batch.records.read",
        "batch",
        batch.id,
        {"offset": offset, "limit": limit},
    )
    return {
        "batch_id": batch.id,
        "total": batch.accepted,
        "offset": offset,
        "items": [
            {
                "record_id": r.id,
                "source_row": r.source_row,
                "version": r.version,
                "state": r.state,
                "decision_no": r.decision_no,
                "subject_id": r.subject_id,
                "link_method": r.link_method,
            }
            for r in records
        ],
    }


@router.get("/records/{record_id}/lineage", summary="记录来源：批次、文件、行号、报送人、时间")
def get_lineage(record_id: int, session: DbSession, client: Submitter) -> dict[str, Any]:
    data = service.lineage(session, record_id, _department_of(session, client).id)
    audit.record(session, accounts.actor_for_client(client), "record.lineage.read", "credit_record", record_id, {})
    return data
