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
