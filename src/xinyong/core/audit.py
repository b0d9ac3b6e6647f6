"""Audit trail: every change and every non-public read, written in the same transaction, hash-chained.

`record()` queues an event on the session; the events are chained and inserted just before the
transaction commits, under a lock (PostgreSQL advisory lock; SQLite's write lock), so the chain is
linear and the lock is held only for the last moment of a transaction, not for a whole batch load.
If the transaction rolls back, its events vanish with it: no change without its event, no event
without its change. Hash: SM3 (GB/T 32905) via `cryptography`, over a canonical JSON of the row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from sqlalchemy import BigInteger, String, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from xinyong.core import clock
from xinyong.core.db import Base, JSONType, UTCDateTime
from xinyong.core.models import IdMixin


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    actor_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


GENESIS = "0" * 64
_PENDING = "audit_pending"
_ADVISORY_LOCK_KEY = 7_301_000_001


@dataclass(frozen=True)
class Actor:
    """Who did it: `user:12`, `client:3`, `system`, `cli:root`; `name` is what people read."""

    id: str
    name: str

    @classmethod
    def system(cls) -> Actor:
        return cls("system", "系统")


SYSTEM = Actor.system()


@dataclass
class _Pending:
    actor: Actor
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=clock.now)


def record(
    session: Session,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object,
    details: dict[str, Any] | None = None,
) -> None:
    """Queue an audit event; it is written when `session` commits (and only then)."""
    if not session.in_transaction():
        session.begin()  # so that a rollback before any SQL still discards the event
    session.info.setdefault(_PENDING, []).append(
        _Pending(actor, action, target_type, str(target_id), _jsonable(details or {}))
    )


def event_hash(
    prev_hash: str,
    seq: int,
    occurred_at: datetime,
    actor: str,
    actor_name: str,
    action: str,
    target_type: str,
    target_id: str,
    details: dict[str, Any],
) -> str:
    payload = json.dumps(
        [
            prev_hash,
            seq,
            occurred_at.isoformat(timespec="microseconds"),
            actor,
            actor_name,
            action,
            target_type,
            target_id,
            details,
        ],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    digest = hashes.Hash(hashes.SM3())
    digest.update(payload)
    return digest.finalize().hex()


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _flush_pending(session: Session) -> None:
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    last = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    for item in pending:
        seq += 1
        occurred = item.occurred_at
        digest = event_hash(
            prev,
            seq,
            occurred,
            item.actor.id,
            item.actor.name,
            item.action,
            item.target_type,
            item.target_id,
            item.details,
        )
        session.add(
            AuditEvent(
                seq=seq,
                occurred_at=occurred,
                actor=item.actor.id,
                actor_name=item.actor.name,
                action=item.action,
                target_type=item.target_type,
                target_id=item.target_id,
                details=item.details,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    session.flush()


def _discard_pending(session: Session, previous_transaction: object) -> None:
    """Any rollback of the unit of work drops its queued events, even before the database was touched."""
    if not getattr(previous_transaction, "nested", False):
        session.info.pop(_PENDING, None)


def install(factory: sessionmaker[Session]) -> None:
    """Make sessions from `factory` write their queued events at commit (core.db calls this)."""
    event.listen(factory, "before_commit", _flush_pending)
    event.listen(factory, "after_soft_rollback", _discard_pending)


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify(session: Session, batch_size: int = 5000) -> VerifyResult:
    """Recompute the chain; name the first event whose content, link or sequence does not hold."""
    prev, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = session.execute(  # plain rows: identity-mapped objects may be stale
            select(AuditEvent.__table__).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch_size)
        ).all()
        if not rows:
            return VerifyResult(checked)
        for ev in rows:
            if ev.seq != expected_seq:
                return VerifyResult(checked, expected_seq, f"缺少序号为 {expected_seq} 的审计事件（可能被删除）")
            if ev.prev_hash != prev:
                return VerifyResult(checked, ev.seq, "前序哈希与上一事件不一致（链被篡改）")
            digest = event_hash(
                prev,
                ev.seq,
                ev.occurred_at,
                ev.actor,
                ev.actor_name,
                ev.action,
                ev.target_type,
                ev.target_id,
                ev.details,
            )
            if digest != ev.hash:
                return VerifyResult(checked, ev.seq, "事件内容与其哈希不符（内容被修改）")
            prev, expected_seq, checked = ev.hash, expected_seq + 1, checked + 1
            last_seq = ev.seq
