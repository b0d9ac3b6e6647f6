"""Scheduled work, one function for the web process's loop and for `xinyong jobs run-once` (cron/systemd timer):
seal the audit chain, end list terms that are over, push due webhooks. Each step is idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from xinyong.core import audit, clock


@dataclass
class JobReport:
    sealed: int = 0
    expired: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)


def run_once(factory: sessionmaker[Session]) -> JobReport:
    from xinyong.lists import service as lists
    from xinyong.subscriptions import service as subscriptions

    report = JobReport()
    with factory() as session:  # list expiry commits on its own, whatever happens to the HTTP calls after it
        report.expired = len(lists.expire_terms(session, clock.today()))
        session.commit()
    totals = subscriptions.DeliveryStats()
    while True:
        with factory() as session:
            stats = subscriptions.deliver_due(session, clock.now())
            session.commit()
        for name in ("attempted", "delivered", "retrying", "failed"):
            setattr(totals, name, getattr(totals, name) + getattr(stats, name))
        if stats.attempted < subscriptions.BATCH_SIZE:
            break
    report.deliveries = {n: getattr(totals, n) for n in ("attempted", "delivered", "retrying", "failed")}
    report.sealed = audit.seal_all(factory)
    return report
