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
    evaluated: int = 0
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
    report.evaluated = _monthly_evaluation(factory)
    report.sealed = audit.seal_all(factory)
    return report


def _monthly_evaluation(factory: sessionmaker[Session]) -> int:
    """The general model grades every subject once a month (GB/T 45255: periodic evaluation); returns how many."""
    from sqlalchemy import func, select

    from xinyong.evaluation import service as evaluation
    from xinyong.evaluation.models import EvaluationRun

    today = clock.today()
    with factory() as session:
        done = session.scalar(
            select(func.count())
            .select_from(EvaluationRun)
            .where(EvaluationRun.model == "general", EvaluationRun.as_of >= today.replace(day=1))
        )
        if done:
            return 0
        run = evaluation.evaluate(session, "general", today)
        session.commit()
        return run.subjects
