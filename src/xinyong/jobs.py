"""Scheduled work. Each job is idempotent — it works from the database's state and leaves a mark (a removed entry,
a delivered webhook, a notice with a dedup key, a sealed event) so running it again does nothing more — which is
why the web process may run them on a timer (APScheduler, `xinyong.scheduler`) in every worker and
`xinyong jobs run-once` may run them from cron as well.

JOBS lists them with their trigger; `run_once` runs all of them once, in that order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xinyong.core import audit, clock

PUBLICITY_NOTICE_DAYS = 7  # a record whose window ended in the last week gets its notice; older ones never will


@dataclass
class JobReport:
    sealed: int = 0
    expired: int = 0
    evaluated: int = 0
    reminders: int = 0
    publicity_ended: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)


def expire_list_terms(factory: sessionmaker[Session], report: JobReport) -> None:
    """名单期满自动移出, and a notice to the subject; commits on its own, whatever happens to later jobs."""
    from xinyong.lists import service as lists
    from xinyong.notices import service as notices

    with factory() as session:
        ended = lists.expire_terms(session, clock.today())
        for entry in ended:
            notices.send(
                session,
                kind="list.term_end",
                title="名单期限届满，已自动移出",
                body=f"您在“{lists.list_type_or_raise(entry.list_type).name}”上的名单期限已于{entry.term_end}届满，已自动移出",
                subject_id=entry.subject_id,
                dedup_key=f"list.term_end:{entry.id}",
            )
        session.commit()
    report.expired = len(ended)


def deliver_webhooks(factory: sessionmaker[Session], report: JobReport) -> None:
    from xinyong.subscriptions import service as subscriptions

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


def remind_overdue(factory: sessionmaker[Session], report: JobReport) -> None:
    """逾期提醒: a repair review, an objection's verification or a commitment's fulfilment past its deadline gets
    ONE notice per case and deadline to the unit that must act and to the credit office (which supervises)."""
    from xinyong.commitments import service as commitments
    from xinyong.notices import service as notices
    from xinyong.objections import service as objections
    from xinyong.repair import service as repair

    today = clock.today()
    sent = 0
    with factory() as session:
        cases: list[tuple[str, str, Any, date | None, str]] = []
        for app in repair.overdue(session, today):
            step = "认定单位审核" if app.state == "submitted" else "信用办复核"
            unit = app.department_id if app.state == "submitted" else None
            cases.append(("repair", f"信用修复申请 #{app.id} {step}已逾期", unit, app.deadline, f"/repairs/{app.id}"))
        for o in objections.overdue(session, today):
            cases.append(
                ("objection", f"异议申请 #{o.id} 核实已逾期", o.department_id, o.deadline, f"/objections/{o.id}")
            )
        for c in commitments.overdue(session, today):
            cases.append(
                (
                    "commitment",
                    f"信用承诺 #{c.id} 履约期限已过，待核验",
                    c.department_id,
                    c.due_on,
                    f"/commitments/{c.id}",
                )
            )
        for workflow, title, department_id, deadline, link in cases:
            body = f"办理期限为{deadline}，请尽快办理"
            key = f"overdue:{link}:{deadline}"
            if department_id:
                sent += bool(
                    notices.send(
                        session,
                        kind=f"{workflow}.overdue",
                        title=title,
                        body=body,
                        department_id=department_id,
                        link=link,
                        dedup_key=key + ":unit",
                    )
                )
            sent += bool(
                notices.send(
                    session, kind=f"{workflow}.overdue", title=title, body=body, link=link, dedup_key=key + ":office"
                )
            )
        session.commit()
    report.reminders = sent


def notify_publicity_ended(factory: sessionmaker[Session], report: JobReport) -> None:
    """公示期满: the subject learns that a record left the public view (the views already hide it by date)."""
    from xinyong.archive.models import CreditRecord, RecordState
    from xinyong.notices import service as notices

    today = clock.today()
    sent = 0
    with factory() as session:
        rows = session.execute(
            select(
                CreditRecord.id, CreditRecord.subject_id, CreditRecord.decision_no, CreditRecord.publicity_end
            ).where(
                CreditRecord.is_current.is_(True),
                CreditRecord.state == RecordState.ACTIVE.value,
                CreditRecord.subject_id.is_not(None),
                CreditRecord.publicity_end < today,
                CreditRecord.publicity_end >= today - timedelta(days=PUBLICITY_NOTICE_DAYS),
            )
        )
        for record_id, subject_id, decision_no, end in rows:
            sent += bool(
                notices.send(
                    session,
                    kind="record.publicity_end",
                    title="信用信息公示期满，已停止公示",
                    body=f"信息（{decision_no or record_id}）的公示期已于{end}届满，已停止在公示页面和共享中使用",
                    subject_id=subject_id,
                    dedup_key=f"record.publicity_end:{record_id}",
                )
            )
        session.commit()
    report.publicity_ended = sent


def monthly_evaluation(factory: sessionmaker[Session], report: JobReport) -> None:
    """The general model grades every subject once a month (GB/T 45255: periodic evaluation)."""
    from sqlalchemy import func

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
            return
        run = evaluation.evaluate(session, "general", today)
        session.commit()
        report.evaluated = run.subjects


def seal_audit(factory: sessionmaker[Session], report: JobReport) -> None:
    report.sealed = audit.seal_all(factory)


Job = Callable[[sessionmaker[Session], JobReport], None]

# id → (job, APScheduler trigger and its arguments). Audit sealing runs on its own, shorter interval (settings).
JOBS: dict[str, tuple[Job, str, dict[str, Any]]] = {
    "expire_list_terms": (expire_list_terms, "interval", {"minutes": 10}),
    "deliver_webhooks": (deliver_webhooks, "interval", {"minutes": 1}),
    "remind_overdue": (remind_overdue, "cron", {"hour": "8-18", "minute": 0}),
    "notify_publicity_ended": (notify_publicity_ended, "cron", {"hour": 1, "minute": 10}),
    "monthly_evaluation": (monthly_evaluation, "cron", {"day": 1, "hour": 2, "minute": 0}),
}


def run_once(factory: sessionmaker[Session]) -> JobReport:
    """Every job once, then seal the audit chain (the CLI and cron)."""
    report = JobReport()
    for job, _trigger, _args in JOBS.values():
        job(factory, report)
    seal_audit(factory, report)
    return report
