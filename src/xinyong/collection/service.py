"""Ingesting a department's submission: one service behind the CLI, the HTTP push and the upload page.

A batch is one transaction: its good rows are stored as records or new versions, its bad rows kept with
their reasons, its subjects linked — or, if anything fails or the process is killed, nothing at all.
Counting rule: `rows` = `accepted` + `duplicates` + `rejected`; `new_versions` and `withdrawn` are parts of
`accepted` (a withdrawal is stored as a new version whose state is withdrawn).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.accounts.models import Department
from xinyong.archive import service as archive
from xinyong.archive import versions
from xinyong.archive.models import CreditRecord, LinkMethod, Subject
from xinyong.catalog.service import Catalog, get_catalog
from xinyong.collection import pipeline
from xinyong.collection.loader import ChunkLoader
from xinyong.collection.models import Batch, BatchState, LinkReview, Rejection
from xinyong.collection.readers import open_rows
from xinyong.collection.validate import RowValidator
from xinyong.core import audit, clock
from xinyong.core.audit import Actor
from xinyong.core.errors import Conflict, DomainError, NotFound

CHUNK_ROWS = 2000
# Test hook: SIGKILL this process once N rows of a batch are stored but not committed (kill-safety test).
FAULT_KILL_ENV = "XINYONG_FAULT_KILL_AFTER_ROWS"


@dataclass
class BatchSummary:
    batch_id: int
    file_name: str
    sha256: str
    info_class: str
    department: str
    format: str
    encoding: str | None
    rows: int = 0
    accepted: int = 0
    new_versions: int = 0
    duplicates: int = 0
    withdrawn: int = 0
    rejected: int = 0
    linked: dict[str, int] = field(default_factory=dict)
    review: int = 0
    unknown_columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def sha256_of(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def ingest_file(
    session: Session,
    path: Path,
    *,
    department: Department,
    info_class: str,
    actor: Actor,
    channel: str = "cli",
    file_name: str | None = None,
    submitted_at: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    catalog: Catalog | None = None,
) -> BatchSummary:
    """Read, validate, link and store one file as one batch. Flushes; the caller commits (or rolls back)."""
    catalog = catalog or get_catalog()
    cls = catalog.get(info_class)
    digest, size = sha256_of(path)
    source = open_rows(path, pipeline.header_matcher(catalog, info_class))
    try:
        validator = RowValidator(catalog, cls, source.header, clock.today(), (department.name, department.uscc))
        if validator.missing_columns:
            raise DomainError(
                f"文件缺少必填列：{'、'.join(validator.missing_columns)}。请确认所选信息类（{cls.name}）与文件一致，"
                "或按标准表头修改列名",
                code="missing_columns",
                details={"missing_columns": validator.missing_columns, "header": source.header},
            )
        now = clock.now()
        batch = Batch(
            department_id=department.id,
            info_class=info_class,
            channel=channel,
            file_name=file_name or path.name,
            file_sha256=digest,
            file_size=size,
            file_format=source.format,
            encoding=source.encoding,
            submitted_by=actor.id,
            submitted_at=submitted_at or now,
            state=BatchState.COMMITTED,
            details={
                "unknown_columns": validator.unknown_columns,
                "header_row": source.header_row,
                "derived_columns": [f.label for f in validator.derived],
                "absent_conditional_columns": validator.absent_conditional,
            },
        )
        session.add(batch)
        session.flush()
        summary = BatchSummary(
            batch.id,
            batch.file_name,
            digest,
            info_class,
            department.code,
            source.format,
            source.encoding,
            unknown_columns=validator.unknown_columns,
        )
        loader = ChunkLoader(session, catalog, cls, department, batch, summary, now)
        kill_after = int(os.environ.get(FAULT_KILL_ENV, "0") or 0)
        worker = pipeline.uses_worker(size, catalog)
        batch.details = batch.details | {"reader_process": worker}
        with pipeline.staged_chunks(
            path,
            source,
            validator,
            department_code=department.code,
            size=CHUNK_ROWS,
            worker=worker,
            json_text=session.get_bind().dialect.name == "postgresql",
        ) as staged_chunks:
            for staged in staged_chunks:
                loader.load(staged)
                if progress:
                    progress(summary.rows)
                if kill_after and summary.rows >= kill_after:
                    os.kill(os.getpid(), signal.SIGKILL)  # fault injection for the kill-safety test
    finally:
        source.close()
    for key in ("rows", "accepted", "new_versions", "duplicates", "withdrawn", "rejected"):
        setattr(batch, key, getattr(summary, key))
    batch.finished_at = clock.now()
    batch.details = batch.details | {"linked": summary.linked, "review": summary.review}
    if cls.after_load:
        batch.details = batch.details | {"after_load": _after_load(cls.after_load)(session, batch, actor)}
    session.flush()
    audit.record(
        session,
        actor,
        "batch.ingest",
        "batch",
        batch.id,
        {
            "department": department.code,
            "info_class": info_class,
            "file": batch.file_name,
            "sha256": digest,
            "rows": summary.rows,
            "accepted": summary.accepted,
            "rejected": summary.rejected,
            "duplicates": summary.duplicates,
        },
    )
    return summary


def _after_load(target: str) -> Callable[[Session, Batch, Actor], dict[str, int]]:
    """The class's follow-up step ("module:function", catalogue data), e.g. list entries from list records."""
    import importlib

    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def uploads_dir() -> Path:
    from xinyong.config import get_settings

    path = get_settings().var_dir / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def ingest_upload(
    session: Session,
    stream: BinaryIO,
    file_name: str,
    *,
    department: Department,
    info_class: str,
    actor: Actor,
    channel: str,
) -> BatchSummary:
    """Keep the submitted file (named by its SHA-256, so nothing is lost and nothing stored twice), then ingest."""
    suffix = Path(file_name).suffix.lower()[:10]
    tmp = uploads_dir() / f".incoming-{uuid.uuid4().hex}{suffix}"
    try:
        with tmp.open("wb") as out:
            shutil.copyfileobj(stream, out, length=1 << 20)
        summary = ingest_file(
            session,
            tmp,
            department=department,
            info_class=info_class,
            actor=actor,
            channel=channel,
            file_name=Path(file_name).name,
        )
        tmp.replace(uploads_dir() / f"{summary.sha256}{suffix}")
        return summary
    finally:
        tmp.unlink(missing_ok=True)


def get_batch_for(session: Session, batch_id: int, department_id: int | None) -> Batch:
    """A batch as its department (or, with None, the credit office) may see it; others get 404, not 403."""
    batch = session.get(Batch, batch_id)
    if batch is None or (department_id is not None and batch.department_id != department_id):
        raise NotFound(f"批次 {batch_id} 不存在", code="batch_not_found")
    return batch


def batch_summary(session: Session, batch: Batch) -> BatchSummary:
    dept = session.get(Department, batch.department_id)
    details = batch.details or {}
    return BatchSummary(
        batch.id,
        batch.file_name,
        batch.file_sha256,
        batch.info_class,
        dept.code if dept else "",
        batch.file_format,
        batch.encoding,
        batch.rows,
        batch.accepted,
        batch.new_versions,
        batch.duplicates,
        batch.withdrawn,
        batch.rejected,
        details.get("linked", {}),
        details.get("review", 0),
        details.get("unknown_columns", []),
    )


def list_batches(session: Session, department_id: int | None, limit: int = 50) -> list[Batch]:
    stmt = select(Batch).order_by(Batch.id.desc()).limit(limit)
    if department_id is not None:
        stmt = stmt.where(Batch.department_id == department_id)
    return list(session.scalars(stmt))


def rejections_of(session: Session, batch_id: int, limit: int = 200) -> list[Rejection]:
    stmt = select(Rejection).where(Rejection.batch_id == batch_id).order_by(Rejection.row_number, Rejection.id)
    return list(session.scalars(stmt.limit(limit)))


def lineage(session: Session, record_id: int, department_id: int | None) -> dict[str, Any]:
    """From a record to its batch, file name and hash, source row, submitter and time (and its versions)."""
    record = session.get(CreditRecord, record_id)
    if record is None or (department_id is not None and record.source_department_id != department_id):
        raise NotFound(f"记录 {record_id} 不存在", code="record_not_found")
    batch = session.get(Batch, record.batch_id) if record.batch_id else None
    dept = session.get(Department, record.source_department_id)
    versions = archive.record_history(session, record.key_hash)
    return {
        "record_id": record.id,
        "info_class": record.info_class,
        "version": record.version,
        "is_current": record.is_current,
        "state": record.state,
        "link_method": record.link_method,
        "department": {"code": dept.code, "name": dept.name} if dept else None,
        "batch": None
        if batch is None
        else {
            "id": batch.id,
            "file_name": batch.file_name,
            "sha256": batch.file_sha256,
            "channel": batch.channel,
            "submitted_by": batch.submitted_by,
            "submitted_at": batch.submitted_at.isoformat(),
        },
        "source_row": record.source_row,
        "versions": [
            {
                "record_id": v.id,
                "version": v.version,
                "batch_id": v.batch_id,
                "state": v.state,
                "created_at": v.created_at.isoformat(),
            }
            for v in versions
        ],
    }


def office_overview(session: Session) -> dict[str, int]:
    """Counts the credit office watches: batches, rejected rows, name-only records waiting for a link decision."""
    from sqlalchemy import func

    return {
        "batches": session.scalar(select(func.count()).select_from(Batch)) or 0,
        "rows": session.scalar(select(func.coalesce(func.sum(Batch.rows), 0))) or 0,
        "rejected": session.scalar(select(func.coalesce(func.sum(Batch.rejected), 0))) or 0,
        "open_reviews": session.scalar(select(func.count()).select_from(LinkReview).where(LinkReview.state == "open"))
        or 0,
    }


def batch_records(session: Session, batch: Batch, offset: int = 0, limit: int = 100) -> list[CreditRecord]:
    """Lineage the other way: the records a batch stored, in source-row order."""
    stmt = (
        select(CreditRecord)
        .where(CreditRecord.batch_id == batch.id)
        .order_by(CreditRecord.source_row, CreditRecord.id)
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def open_reviews(session: Session, limit: int = 100) -> list[tuple[LinkReview, CreditRecord, list[Subject]]]:
    """Name-only records waiting for a person to choose their subject, with the candidates to choose from."""
    reviews = list(
        session.scalars(select(LinkReview).where(LinkReview.state == "open").order_by(LinkReview.id).limit(limit))
    )
    if not reviews:
        return []
    records = {
        r.id: r
        for r in session.scalars(select(CreditRecord).where(CreditRecord.id.in_([v.record_id for v in reviews])))
    }
    wanted = {sid for v in reviews for sid in v.candidates}
    subjects = {s.id: s for s in session.scalars(select(Subject).where(Subject.id.in_(wanted)))} if wanted else {}
    return [(v, records[v.record_id], [subjects[c] for c in v.candidates if c in subjects]) for v in reviews]


def resolve_review(session: Session, review_id: int, subject_id: int, actor: Actor) -> CreditRecord:
    """Link a name-only record to the chosen subject. Records are never changed in place: the link becomes a new
    version (same content, `link_method` manual), the old version stays as history; the decision is audited."""
    review = session.get(LinkReview, review_id)
    if review is None:
        raise NotFound(f"待关联记录 {review_id} 不存在", code="review_not_found")
    if review.state != "open":
        raise Conflict(f"待关联记录 {review_id} 已处理", code="review_closed")
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(f"信用主体 {subject_id} 不存在", code="subject_not_found")
    old = session.get(CreditRecord, review.record_id)
    current = versions.current_version(session, old.key_hash)
    if current is None:
        raise Conflict("该记录已没有当前版本，无法关联", code="no_current_version")
    now = clock.now()
    linked = versions.new_version(
        session, current, subject_id=subject.id, link_method=LinkMethod.MANUAL.value, link_confidence=1.0
    )
    review.state, review.resolved_subject_id, review.resolved_by, review.resolved_at = (
        "resolved",
        subject.id,
        actor.id,
        now,
    )
    session.flush()
    audit.record(
        session,
        actor,
        "record.link",
        "credit_record",
        linked.id,
        {"review_id": review.id, "subject_id": subject.id, "previous_version": current.id},
    )
    return linked
