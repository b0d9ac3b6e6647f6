"""Two concurrent transitions on one case: exactly one wins, the other gets 409 and changes nothing.

Run on PostgreSQL with two connections, where both transactions really overlap (SQLite admits one writer at a
time, so the race cannot happen there and the test is PostgreSQL-only by design)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.builders import make_user
from tests.concurrency import second_waits_then_loses
from tests.conftest import BACKEND
from tests.repair.helpers import company_with_account, ingest_penalty, reviewer
from tests.repair.test_repair import LETTER, PROOF
from xinyong.accounts import service as accounts
from xinyong.archive.models import CreditRecord
from xinyong.core.db import get_engine, make_sessionmaker
from xinyong.core.workflow import WorkflowEvent
from xinyong.repair import service

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="needs two overlapping write transactions")


def test_two_concurrent_approvals_exactly_one_wins(session, clean_db, tmp_path):
    record = ingest_penalty(session, tmp_path, decided="2026-04-02")
    subject, user = company_with_account(session)
    unit = reviewer(session)
    first_officer = make_user(session, username="xyb1", role="credit_office")
    second_officer = make_user(session, username="xyb2", role="credit_office")
    app = service.submit(
        session, accounts.actor_for(user), subject, statement="已整改", record_id=record.id, uploads=[PROOF, LETTER]
    )
    service.unit_approve(session, app, accounts.actor_for(unit))
    session.commit()
    app_id = app.id

    factory = make_sessionmaker(get_engine(clean_db))
    first, second = factory(), factory()
    try:
        # both read the case in state unit_approved before either writes
        a = service.get_or_raise(first, app_id)
        b = service.get_or_raise(second, app_id)
        assert a.state == b.state == "unit_approved"
        service.approve(first, a, accounts.actor_for(first_officer))  # holds the row until it commits
        assert second_waits_then_loses(
            first, second, lambda: service.approve(second, b, accounts.actor_for(second_officer))
        ) == ("concurrent_transition")
    finally:
        first.close()
        second.close()

    session.expire_all()
    repaired = session.scalar(
        select(func.count()).select_from(CreditRecord).where(CreditRecord.key_hash == record.key_hash)
    )
    assert repaired == 2  # the original and ONE repaired version
    approvals = session.scalar(
        select(func.count())
        .select_from(WorkflowEvent)
        .where(WorkflowEvent.case_id == app_id, WorkflowEvent.action == "approve")
    )
    assert approvals == 1
