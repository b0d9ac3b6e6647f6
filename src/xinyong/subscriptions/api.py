"""Subscription API for business systems (permission `subscribe`): subscribe to a subject or a list, cancel,
and read the delivery log. Webhook format and signature check: `subscriptions.service`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require_permission
from xinyong.accounts.models import ApiClient
from xinyong.core.web import DbSession
from xinyong.subscriptions import service
from xinyong.subscriptions.models import Subscription, WebhookDelivery

router = APIRouter(tags=["subscriptions"])
Subscriber = Annotated[ApiClient, Depends(require_permission("subscribe"))]


class SubscriptionCreate(BaseModel):
    target_type: Literal["subject", "list"] = Field(description="subject：某一主体；list：某一名单的全部主体")
    target: str = Field(
        min_length=1, max_length=40, description="主体的统一社会信用代码或主体编号；或名单类型代码（GET /api/v1/lists）"
    )
    callback_url: str = Field(min_length=1, max_length=2000, description="接收 webhook 的 http(s) 地址")


def _subscription(s: Subscription) -> dict[str, Any]:
    return {
        "id": s.id,
        "target_type": s.target_type,
        "target": s.target,
        "callback_url": s.callback_url,
        "active": s.active,
        "created_at": s.created_at.isoformat(),
        "cancelled_at": s.cancelled_at.isoformat() if s.cancelled_at else None,
    }


def _delivery(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.event_id,
        "event_type": d.event_type,
        "state": d.state,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None,
        "last_attempt_at": d.last_attempt_at.isoformat() if d.last_attempt_at else None,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "created_at": d.created_at.isoformat(),
        "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
        "payload": d.payload,
    }


@router.post("/subscriptions", status_code=201, summary="订阅主体或名单的列入、移出事件（签名密钥仅此一次返回）")
def create_subscription(body: SubscriptionCreate, session: DbSession, client: Subscriber) -> dict[str, Any]:
    subscription, secret = service.subscribe(
        session, client, body.target_type, body.target, body.callback_url, accounts.actor_for_client(client)
    )
    return _subscription(subscription) | {"secret": secret}


@router.get("/subscriptions", summary="本接入系统的有效订阅")
def list_subscriptions(session: DbSession, client: Subscriber) -> dict[str, Any]:
    items = [_subscription(s) for s in service.list_subscriptions(session, client)]
    return {"count": len(items), "items": items}


@router.delete("/subscriptions/{subscription_id}", status_code=204, summary="取消订阅（未发送的事件不再发送）")
def delete_subscription(subscription_id: int, session: DbSession, client: Subscriber) -> Response:
    subscription = service.get_own_or_raise(session, client, subscription_id)
    service.unsubscribe(session, subscription, accounts.actor_for_client(client))
    return Response(status_code=204)


@router.get("/subscriptions/{subscription_id}/deliveries", summary="订阅的推送记录（最新在前）")
def list_deliveries(
    subscription_id: int,
    session: DbSession,
    client: Subscriber,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    subscription = service.get_own_or_raise(session, client, subscription_id)
    items = [_delivery(d) for d in service.list_deliveries(session, subscription, limit)]
    return {"subscription_id": subscription.id, "count": len(items), "items": items}
