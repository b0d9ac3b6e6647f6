"""What every statutory workflow (repair, objection, commitment) shares: a transition table, a guarded step that
exactly one of two concurrent callers wins, the step log, and stored materials.

A workflow module declares a `StrEnum` of states, a `StrEnum` of actions and a `Transitions` table in its
`rules.py`; its service calls `advance` once per step. `advance` writes the new state with
``UPDATE … WHERE id = :id AND state = :expected``: on PostgreSQL the second of two concurrent transactions waits
for the first, then finds the state changed and gets a 409, so a case never takes two steps from one state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from xinyong.core import audit, clock
from xinyong.core.audit import Actor
from xinyong.core.db import Base, BigIntPK, JSONType, UTCDateTime
from xinyong.core.errors import Conflict, DomainError, NotFound
from xinyong.core.models import IdMixin

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ALLOWED_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".ofd", ".doc", ".docx", ".txt")


class WorkflowEvent(IdMixin, Base):
    """One step of one case of one workflow: who moved it from which state to which, with the step's details."""

    __tablename__ = "workflow_events"
    __table_args__ = (Index("ix_workflow_events_case", "workflow", "case_id"),)

    workflow: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[int] = mapped_column(BigIntPK)
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    actor_name: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Attachment(IdMixin, Base):
    """A material handed in with a case (proof of performance, commitment letter, evidence). Kept in the database
    so it commits or rolls back with the step that brought it, and never changes (its SHA-256 is recorded)."""

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_case", "workflow", "case_id"),)

    workflow: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[int] = mapped_column(BigIntPK)
    kind: Mapped[str] = mapped_column(String(30))
    file_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_id: Mapped[int | None] = mapped_column(BigIntPK, ForeignKey("workflow_events.id"))


@dataclass(frozen=True)
class Transitions(Generic[S, A]):
    """action → (states it may start from, state it leads to), with the Chinese labels for messages."""

    noun: str
    table: Mapping[A, tuple[frozenset[S], S]]
    state_labels: Mapping[S, str]
    action_labels: Mapping[A, str]

    def target(self, state: str, action: A) -> S:
        """The state `action` leads to from `state`, or Conflict (409) naming the current state."""
        sources, to = self.table[action]
        current = next(s for s in self.state_labels if s.value == state)
        if current not in sources:
            allowed = "、".join(self.state_labels[s] for s in self.state_labels if s in sources)
            raise Conflict(
                f"{self.noun}当前状态为“{self.state_labels[current]}”，不能{self.action_labels[action]}"
                f"（仅在“{allowed}”状态下可以）",
                code="invalid_transition",
                details={"state": current.value, "action": action.value},
            )
        return to

    def next_actions(self, state: str) -> list[A]:
        return [a for a, (sources, _to) in self.table.items() if state in {s.value for s in sources}]


def advance(
    session: Session,
    case: Any,
    workflow: str,
    transitions: Transitions[Any, Any],
    action: StrEnum,
    actor: Actor,
    details: Mapping[str, Any] | None = None,
    **values: Any,
) -> WorkflowEvent:
    """Move `case` by `action`: check the table, write the state (and `values`) only if nobody moved it first,
    log the step and write the `<workflow>.<action>` audit event — all in the caller's transaction."""
    previous = case.state
    target = transitions.target(previous, action)
    model = type(case)
    now = clock.now()
    session.flush()
    result = session.execute(
        update(model)
        .where(model.id == case.id, model.state == previous)
        .values(state=target.value, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(f"该{transitions.noun}已被他人处理，请刷新页面后重试", code="concurrent_transition")
    session.refresh(case)
    return _log(session, workflow, case, action.value, previous, target.value, actor, dict(details or {}), now)


def start(session: Session, case: Any, workflow: str, action: str, actor: Actor, details: Mapping[str, Any]) -> None:
    """Log the step that created `case` (its state is already set)."""
    session.add(case)
    session.flush()
    _log(session, workflow, case, action, None, case.state, actor, dict(details), clock.now())


def _log(
    session: Session,
    workflow: str,
    case: Any,
    action: str,
    previous: str | None,
    target: str,
    actor: Actor,
    details: dict[str, Any],
    now: datetime,
) -> WorkflowEvent:
    event = WorkflowEvent(
        workflow=workflow,
        case_id=case.id,
        action=action,
        from_state=previous,
        to_state=target,
        occurred_at=now,
        actor=actor.id,
        actor_name=actor.name,
        details=details,
    )
    session.add(event)
    session.flush()
    audit.record(session, actor, f"{workflow}.{action}", workflow, case.id, {"from": previous, "to": target} | details)
    return event


def history(session: Session, workflow: str, case_id: int) -> list[WorkflowEvent]:
    stmt = select(WorkflowEvent).where(WorkflowEvent.workflow == workflow, WorkflowEvent.case_id == case_id)
    return list(session.scalars(stmt.order_by(WorkflowEvent.id)))


def history_json(session: Session, workflow: str, case_id: int, *, detailed: bool = False) -> list[dict[str, Any]]:
    """The step log as the workflows' APIs show it; `detailed` adds the state left and the step's details."""
    out = []
    for e in history(session, workflow, case_id):
        step: dict[str, Any] = {
            "action": e.action,
            "to": e.to_state,
            "at": e.occurred_at.isoformat(),
            "by": e.actor_name,
        }
        if detailed:
            step |= {"from": e.from_state, "details": e.details}
        out.append(step)
    return out


@dataclass(frozen=True)
class Upload:
    """A file as received (web form or API), before it is checked and stored."""

    kind: str
    file_name: str
    content: bytes
    content_type: str = "application/octet-stream"


def attach(session: Session, workflow: str, case_id: int, upload: Upload, actor: Actor) -> Attachment:
    """Store one material; refuses empty, oversized and unexpected file types with a message naming the file."""
    name = (upload.file_name or "").strip()[:200] or "未命名文件"
    if not upload.content:
        raise DomainError(f"材料“{name}”是空文件，请重新选择", code="empty_attachment")
    if len(upload.content) > MAX_ATTACHMENT_BYTES:
        raise DomainError(f"材料“{name}”超过 10 MB，请压缩后再上传", code="attachment_too_large")
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        allowed = "、".join(s.lstrip(".") for s in ALLOWED_SUFFIXES)
        raise DomainError(f"材料“{name}”的文件类型不受支持，请上传 {allowed} 格式", code="attachment_type")
    row = Attachment(
        workflow=workflow,
        case_id=case_id,
        kind=upload.kind,
        file_name=name,
        content_type=upload.content_type[:100],
        size=len(upload.content),
        sha256=hashlib.sha256(upload.content).hexdigest(),
        content=upload.content,
        uploaded_by=actor.id,
        uploaded_at=clock.now(),
    )
    session.add(row)
    session.flush()
    return row


def attachments(session: Session, workflow: str, case_id: int) -> list[Attachment]:
    stmt = select(Attachment).where(Attachment.workflow == workflow, Attachment.case_id == case_id)
    return list(session.scalars(stmt.order_by(Attachment.id)))


def attachments_json(session: Session, workflow: str, case_id: int) -> list[dict[str, Any]]:
    """A case's materials as the workflows' APIs list them (no content)."""
    return [
        {"id": m.id, "kind": m.kind, "file_name": m.file_name, "size": m.size, "sha256": m.sha256}
        for m in attachments(session, workflow, case_id)
    ]


def attachment(session: Session, workflow: str, case_id: int, attachment_id: int) -> Attachment:
    """One material of one case (only its row is read, not every material of the case)."""
    found = session.scalar(
        select(Attachment).where(
            Attachment.id == attachment_id, Attachment.workflow == workflow, Attachment.case_id == case_id
        )
    )
    if found is None:
        raise NotFound("材料不存在", code="material_not_found")
    return found


def permitted(actions: list[A], ensure: Any) -> list[A]:
    """The next actions `ensure(action)` lets the current user take (it raises DomainError otherwise)."""
    allowed = []
    for action in actions:
        try:
            ensure(action)
        except DomainError:
            continue
        allowed.append(action)
    return allowed
