"""Audit trail: every change and every non-public read, written in the same transaction, hash-chained.

`record()` adds the event to the caller's transaction: it commits with the change or vanishes with it, and no
lock is taken, so audited writes from many requests do not queue behind one another. `seal()` then chains the
committed events in order — SM3 (GB/T 32905, via `cryptography`) over a canonical JSON of the event and the
previous hash — under a lock (PostgreSQL advisory lock; SQLite's write lock). The web process seals every few
seconds (`XINYONG_AUDIT_SEAL_INTERVAL`), `xinyong audit verify` seals before it checks, so the window in which an
event is stored but not yet chained is seconds long; `verify` reports how many events are in it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from sqlalchemy import BigInteger, String, func, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from xinyong.core import clock
from xinyong.core.db import Base, JSONType, UTCDateTime
from xinyong.core.models import IdMixin


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_events"

    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)  # chain position, set when sealed
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    actor_name: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


GENESIS = "0" * 64
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


def record(
    session: Session,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: object,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an audit event to the session's transaction: written with the change, gone if it rolls back."""
    session.add(AuditEvent(**event_values(actor, action, target_type, target_id, details)))


def event_values(
    actor: Actor, action: str, target_type: str, target_id: object, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The columns of a new event, for hot paths that insert it with Core in the same transaction (a credit
    check writes its row and its event in one statement) instead of through `record`."""
    return {
        "occurred_at": clock.now(),
        "actor": actor.id,
        "actor_name": actor.name,
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id),
        "details": _jsonable(details or {}),
    }


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


def seal(session: Session, limit: int = 50_000) -> int:
    """Chain committed, unsealed events in id order after the last sealed one; returns how many were sealed.

    Run in its own transaction (the caller commits). Events that commit late simply join a later round.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    else:  # take SQLite's write lock before reading the chain's end
        session.execute(text("UPDATE audit_events SET seq = seq WHERE 0"))
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    rows = session.execute(
        select(AuditEvent.__table__).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id).limit(limit)
    ).all()
    now = clock.now()
    updates = []
    for ev in rows:
        seq += 1
        digest = event_hash(
            prev, seq, ev.occurred_at, ev.actor, ev.actor_name, ev.action, ev.target_type, ev.target_id, ev.details
        )
        updates.append({"id": ev.id, "seq": seq, "prev_hash": prev, "hash": digest, "sealed_at": now})
        prev = digest
    if updates:
        session.execute(update(AuditEvent), updates)
    return len(updates)


def seal_all(session_factory: sessionmaker[Session]) -> int:
    """Seal until nothing is left, one transaction per round."""
    total = 0
    while True:
        with session_factory() as session:
            n = seal(session)
            session.commit()
        total += n
        if n == 0:
            return total


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    broken_seq: int | None = None
    reason: str | None = None
    unsealed: int = 0

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
            unsealed = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.seq.is_(None)))
            return VerifyResult(checked, unsealed=unsealed or 0)
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
