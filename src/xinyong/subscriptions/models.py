"""Subscriptions of API clients and the webhook delivery log (the outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xinyong.core.db import Base, BigIntPK, JSONType, UTCDateTime
from xinyong.core.models import CreatedMixin, IdMixin


class Subscription(IdMixin, CreatedMixin, Base):
    """One client's interest in one subject (`target` = subject id) or one list (`target` = list type code).

    `secret` signs the webhooks (HMAC-SHA256); it must be kept in clear to sign, and is shown to the client
    only once, on creation. Cancelling keeps the row (`active` false) so that its delivery log stays readable.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_target", "target_type", "target", "active"),)

    client_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("api_clients.id"), index=True)
    target_type: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(40))
    callback_url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookDelivery(IdMixin, CreatedMixin, Base):
    """One event for one subscription and every attempt to send it: `pending` until a 2xx (`delivered`) or
    until the last attempt fails (`failed`). `event_id` is the `X-Xinyong-Delivery` header receivers dedupe on."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),)

    subscription_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("subscriptions.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
