"""Subscriptions and webhook delivery.

Events: `list.entered` (a subject goes into publicity on a list: `publish`, `enter_incentive`) and `list.left`
(it is removed: `remove`, `expire_terms`). Each is a POST of a JSON body to the subscription's callback URL:

    {"id": "<delivery id>", "type": "list.entered", "occurred_at": "...", "subscription_id": 7,
     "data": {"entry_id": 12, "list_type": "samr_serious_illegal", "list_name": "...", "subject": {...}, ...}}

with the headers
    X-Xinyong-Event: list.entered
    X-Xinyong-Delivery: <delivery id, a UUID — the same on every retry: deduplicate on it>
    X-Xinyong-Timestamp: <Unix seconds of this attempt>
    X-Xinyong-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{raw body}" keyed with the subscription secret>

Verifying a webhook (the receiver's side; `verify_signature` below does exactly this):
    1. Take the raw request body bytes, before any JSON parsing.
    2. expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    3. Accept only if hmac.compare_digest(expected, X-Xinyong-Signature) and
       abs(time.time() - int(timestamp)) <= 300 (5 minutes: an old, replayed request is refused).
    4. Answer 2xx quickly (within 5 s); anything else, or no answer, counts as a failure and is retried.

Retries: after a failed attempt the next one waits `BACKOFF[attempts - 1]` (1 min, 5 min, 30 min, 2 h, 12 h);
after `MAX_ATTEMPTS` attempts the delivery is `failed`. A delivered row is never sent again. Delivery is at
least once: a job that dies after sending but before committing sends again on its next run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from xinyong.accounts.models import ApiClient
from xinyong.archive import service as archive
from xinyong.core import audit, clock
from xinyong.core.audit import Actor
from xinyong.core.errors import Conflict, DomainError, NotFound
from xinyong.lists import rules as list_rules
from xinyong.subscriptions.models import Subscription, WebhookDelivery

if TYPE_CHECKING:
    from xinyong.lists.models import ListEntry

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT_SECONDS = 5.0
SIGNATURE_TOLERANCE_SECONDS = 300
BATCH_SIZE = 100
MAX_ERROR_CHARS = 500
TARGET_TYPES = ("subject", "list")
EVENT_TYPES = {"entered": "list.entered", "left": "list.left"}
USER_AGENT = "xinyong-webhooks/1"

Sender = Callable[[str, bytes, dict[str, str]], int]
"""Sends one POST (url, body, headers) and returns the status code; raises on a network error or timeout."""


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass
class DeliveryStats:
    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


# --- subscriptions ---------------------------------------------------------------------------------------


def _check_callback_url(url: str) -> str:
    url = url.strip()
    message = "回调地址须为以 http:// 或 https:// 开头的完整网址（含主机名）"
    if not url or len(url) > 2000 or any(c.isspace() for c in url):
        raise DomainError(message, code="bad_callback_url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises ValueError on a port that is not a number in range
    except ValueError as exc:
        raise DomainError(message, code="bad_callback_url") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DomainError(message, code="bad_callback_url")
    return url


def _resolve_target(session: Session, target_type: str, target: str) -> str:
    """The stored target: a subject's id (given as id or USCC), or a known list type code."""
    if target_type == "subject":
        return str(archive.subject_by_key(session, target).id)
    if target_type == "list":
        code = target.strip()
        if list_rules.catalogue().get(code) is None:
            known = "、".join(list_rules.catalogue().types)
            raise NotFound(f"未知名单类型“{code}”。可用类型：{known}", code="unknown_list_type")
        return code
    raise DomainError(f"订阅对象类型须为：{'、'.join(TARGET_TYPES)}", code="bad_target_type")


def subscribe(
    session: Session, client: ApiClient, target_type: str, target: str, callback_url: str, actor: Actor
) -> tuple[Subscription, str]:
    """Subscribe `client`; returns the subscription and its signing secret (shown to the client only now)."""
    resolved = _resolve_target(session, target_type, target)
    url = _check_callback_url(callback_url)
    duplicate = session.scalar(
        select(Subscription.id).where(
            Subscription.client_id == client.id,
            Subscription.target_type == target_type,
            Subscription.target == resolved,
            Subscription.callback_url == url,
            Subscription.active.is_(True),
        )
    )
    if duplicate:
        raise Conflict(f"已有相同的订阅（编号 {duplicate}）", code="subscription_exists")
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    subscription = Subscription(
        client_id=client.id, target_type=target_type, target=resolved, callback_url=url, secret=secret, active=True
    )
    session.add(subscription)
    session.flush()
    audit.record(
        session,
        actor,
        "subscription.create",
        "subscription",
        subscription.id,
        {"client_id": client.id, "target_type": target_type, "target": resolved, "callback_url": url},
    )
    return subscription, secret


def get_own_or_raise(session: Session, client: ApiClient, subscription_id: int) -> Subscription:
    """Another client's subscription is reported as not found, so ids reveal nothing."""
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or subscription.client_id != client.id:
        raise NotFound(f"未找到订阅 {subscription_id}", code="subscription_not_found")
    return subscription


def unsubscribe(session: Session, subscription: Subscription, actor: Actor) -> Subscription:
    """Cancel: no new events; deliveries still pending are given up (`failed`, "订阅已取消")."""
    if not subscription.active:
        raise Conflict("该订阅已取消", code="subscription_cancelled")
    subscription.active = False
    subscription.cancelled_at = clock.now()
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription.id,
            WebhookDelivery.state == DeliveryState.PENDING.value,
        )
        .values(state=DeliveryState.FAILED.value, next_attempt_at=None, last_error="订阅已取消")
    )
    audit.record(session, actor, "subscription.cancel", "subscription", subscription.id, {})
    session.flush()
    return subscription


def list_subscriptions(session: Session, client: ApiClient) -> list[Subscription]:
    """The client's active subscriptions, oldest first."""
    stmt = select(Subscription).where(Subscription.client_id == client.id, Subscription.active.is_(True))
    return list(session.scalars(stmt.order_by(Subscription.id)))


def list_deliveries(session: Session, subscription: Subscription, limit: int = 100) -> list[WebhookDelivery]:
    """The delivery log of one subscription, newest first."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    return list(session.scalars(stmt.order_by(WebhookDelivery.id.desc()).limit(limit)))


# --- the outbox ------------------------------------------------------------------------------------------


def _entry_data(session: Session, entry: ListEntry) -> dict[str, Any]:
    kind = list_rules.catalogue().get(entry.list_type)
    subject = archive.get_subject(session, entry.subject_id)
    person = subject is not None and subject.kind == "natural_person"
    return {
        "entry_id": entry.id,
        "list_type": entry.list_type,
        "list_name": kind.name if kind else entry.list_type,
        "list_kind": kind.kind if kind else None,
        "subject": {
            "id": entry.subject_id,
            "kind": subject.kind if subject else None,
            "name": None if person or subject is None else subject.name,  # persons: no name leaves the platform
            "uscc": subject.uscc if subject else None,
        },
        "state": entry.state,
        "decision_no": entry.decision_no,
        "publicity_from": entry.publicity_from.isoformat() if entry.publicity_from else None,
        "term_end": entry.term_end.isoformat() if entry.term_end else None,
        "removed_at": entry.removed_at.isoformat() if entry.removed_at else None,
        "removal_reason": entry.removal_reason,
    }


def notify_list_change(session: Session, entry: ListEntry, change: Literal["entered", "left"]) -> int:
    """Queue one delivery per active subscription to the entry's subject or list, in the caller's transaction
    (one query for the subscriptions, one insert batch). Returns how many were queued."""
    event_type = EVENT_TYPES[change]
    matching = list(
        session.scalars(
            select(Subscription)
            .where(
                Subscription.active.is_(True),
                or_(
                    and_(Subscription.target_type == "subject", Subscription.target == str(entry.subject_id)),
                    and_(Subscription.target_type == "list", Subscription.target == entry.list_type),
                ),
            )
            .order_by(Subscription.id)
        )
    )
    if not matching:
        return 0
    now = clock.now()
    occurred = (entry.updated_at or now).isoformat()
    data = _entry_data(session, entry)
    deliveries = []
    for subscription in matching:
        event_id = str(uuid.uuid4())
        payload = {
            "id": event_id,
            "type": event_type,
            "occurred_at": occurred,
            "subscription_id": subscription.id,
            "data": data,
        }
        deliveries.append(
            WebhookDelivery(
                subscription_id=subscription.id,
                event_id=event_id,
                event_type=event_type,
                payload=payload,
                state=DeliveryState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
            )
        )
    session.add_all(deliveries)
    session.flush()
    return len(deliveries)


# --- signing and sending ---------------------------------------------------------------------------------


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): the same on every retry, whatever order the database keeps keys in."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float | None = None,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> bool:
    """The receiver's check (module docstring): signature matches and the timestamp is within the tolerance."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


def http_send(url: str, body: bytes, headers: dict[str, str]) -> int:
    """The default sender: one POST, no redirects followed, 5 s timeout."""
    import httpx2

    response = httpx2.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS, follow_redirects=False)
    return response.status_code


def _attempt(delivery: WebhookDelivery, subscription: Subscription, now: datetime, send: Sender) -> bool:
    body = body_of(delivery.payload)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Xinyong-Event": delivery.event_type,
        "X-Xinyong-Delivery": delivery.event_id,
        "X-Xinyong-Timestamp": timestamp,
        "X-Xinyong-Signature": sign(subscription.secret, timestamp, body),
    }
    delivery.attempts += 1
    delivery.last_attempt_at = now
    status: int | None = None
    error: str | None = None
    try:
        status = send(subscription.callback_url, body, headers)
    except Exception as exc:  # any failure to get an answer is a failed attempt, logged and retried
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
    delivery.last_status_code = status
    if status is not None and 200 <= status < 300:
        delivery.state = DeliveryState.DELIVERED.value
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        delivery.last_error = None
        return True
    delivery.last_error = error or f"HTTP {status}"
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = DeliveryState.FAILED.value
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
    return False


def deliver_due(
    session: Session, now: datetime, send: Sender | None = None, batch_size: int = BATCH_SIZE
) -> DeliveryStats:
    """Send pending deliveries due by `now` (oldest first, at most `batch_size`); the job commits.

    On PostgreSQL the rows are locked with SKIP LOCKED, so two jobs running at once never send the same one.
    """
    sender = send or http_send
    stmt = (
        select(WebhookDelivery, Subscription)
        .join(Subscription, Subscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.state == DeliveryState.PENDING.value, WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    stats = DeliveryStats()
    for delivery, subscription in session.execute(stmt).all():
        stats.attempted += 1
        if _attempt(delivery, subscription, now, sender):
            stats.delivered += 1
        elif delivery.state == DeliveryState.FAILED.value:
            stats.failed += 1
        else:
            stats.retrying += 1
        session.flush()
    return stats
