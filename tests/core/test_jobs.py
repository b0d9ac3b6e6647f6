"""The scheduled jobs end list terms, push webhooks and seal the audit chain, and are idempotent."""

from __future__ import annotations

from datetime import timedelta

from typer.testing import CliRunner

from tests.builders import make_subject
from tests.lists.helpers import list_through_procedure
from xinyong.cli import app as cli
from xinyong.core import audit, clock
from xinyong.core.db import get_engine, make_sessionmaker
from xinyong.jobs import run_once


def test_run_once_expires_terms_and_seals_then_does_nothing_more(session, clean_db):
    subject = make_subject(session)
    list_through_procedure(session, subject)
    session.commit()
    factory = make_sessionmaker(get_engine(clean_db))
    first = run_once(factory)
    assert first.expired == 0 and first.sealed > 0 and first.evaluated == 1  # graded once this month
    assert run_once(factory).evaluated == 0
    clock.move(timedelta(days=3 * 366 + 2))
    second = run_once(factory)
    assert second.expired == 1 and second.sealed >= 1
    assert run_once(factory).expired == 0
    session.rollback()
    result = audit.verify(session)
    assert result.ok and result.unsealed == 0


def test_jobs_cli_reports_in_chinese(session):
    out = CliRunner().invoke(cli, ["jobs", "run-once"])
    assert out.exit_code == 0 and "期满移出 0 条" in out.output


def test_evaluate_cli_prints_grades_as_json(session):
    import json

    make_subject(session)
    session.commit()
    out = CliRunner().invoke(cli, ["evaluate", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["model"] == "general" and data["subjects"] == 1 and sum(data["grade_counts"].values()) == 1


def test_scheduler_registers_every_job_on_its_trigger(clean_db):
    from xinyong.jobs import JOBS
    from xinyong.scheduler import build_scheduler

    scheduler = build_scheduler(make_sessionmaker(get_engine(clean_db)), seal_interval=2)
    ids = {job.id for job in scheduler.get_jobs()}
    assert ids == {"seal_audit", *JOBS}
    assert str(scheduler.timezone) == "Asia/Shanghai"
    assert build_scheduler(make_sessionmaker(get_engine(clean_db)), seal_interval=0).get_job("seal_audit") is None


def test_only_the_seal_jobs_skipped_runs_are_kept_out_of_the_log(clean_db, caplog):
    import logging

    from xinyong.scheduler import build_scheduler

    scheduler = build_scheduler(make_sessionmaker(get_engine(clean_db)), seal_interval=2)
    logger = logging.getLogger("apscheduler.scheduler")
    message = 'Execution of job "%s" skipped: maximum number of running instances reached (%d)'
    with caplog.at_level(logging.WARNING, logger="apscheduler.scheduler"):
        for job_id in ("seal_audit", "deliver_webhooks"):
            logger.warning(message, scheduler.get_job(job_id), 1)
    assert [r.args[0].id for r in caplog.records] == ["deliver_webhooks"]
    assert "seal_audit" in str(scheduler.get_job("seal_audit"))  # named, not "_guarded.<locals>.run"


def test_overdue_reminders_are_sent_once_per_case_and_deadline(session, clean_db, tmp_path):
    from sqlalchemy import func, select

    from tests.repair.helpers import company_with_account, ingest_penalty
    from tests.repair.test_repair import LETTER, PROOF
    from xinyong.accounts import service as accounts
    from xinyong.jobs import JobReport, notify_publicity_ended, remind_overdue
    from xinyong.notices.models import Notice
    from xinyong.repair import service as repair

    record = ingest_penalty(session, tmp_path, decided="2026-04-02")
    subject, user = company_with_account(session)
    app = repair.submit(
        session, accounts.actor_for(user), subject, statement="已整改", record_id=record.id, uploads=[PROOF, LETTER]
    )
    session.commit()
    factory = make_sessionmaker(get_engine(clean_db))

    def overdue_notices() -> int:
        session.rollback()
        stmt = select(func.count()).select_from(Notice).where(Notice.kind == "repair.overdue")
        return session.scalar(stmt)

    report = JobReport()
    remind_overdue(factory, report)
    assert report.reminders == 0 and overdue_notices() == 0
    clock.move(timedelta(days=(app.deadline - clock.today()).days + 1))
    remind_overdue(factory, report)
    assert report.reminders == 2 and overdue_notices() == 2  # the deciding unit and the credit office
    remind_overdue(factory, report)
    assert report.reminders == 0 and overdue_notices() == 2

    clock.move(timedelta(days=(record.publicity_end - clock.today()).days + 1))
    notify_publicity_ended(factory, report)
    assert report.publicity_ended == 1
    notify_publicity_ended(factory, report)
    assert report.publicity_ended == 0
