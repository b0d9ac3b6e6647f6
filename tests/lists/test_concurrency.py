"""Two concurrent steps on one list entry: exactly one wins (PostgreSQL, two connections; SQLite admits one writer
at a time, so the race cannot happen there)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.builders import make_subject
from tests.concurrency import second_waits_then_loses
from tests.conftest import BACKEND
from tests.lists.helpers import OFFICER
from xinyong.core.db import get_engine, make_sessionmaker
from xinyong.lists import service as lists
from xinyong.lists.models import ListEntryEvent

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="needs two overlapping write transactions")


def test_two_concurrent_publications_exactly_one_wins(session, clean_db):
    subject = make_subject(session)
    entry = lists.propose(session, OFFICER, list_type="samr_serious_illegal", subject=subject, reason="严重违法")
    lists.notify(session, entry, OFFICER, doc_no="告1")
    lists.record_statement(session, entry, OFFICER, statement="无", reply="不成立", doc_no="复1")
    lists.decide(session, entry, OFFICER, doc_no="决1")
    session.commit()
    factory = make_sessionmaker(get_engine(clean_db))
    first, second = factory(), factory()
    try:
        a, b = lists.get_or_raise(first, entry.id), lists.get_or_raise(second, entry.id)
        lists.publish(first, a, OFFICER)
        assert second_waits_then_loses(first, second, lambda: lists.publish(second, b, OFFICER)) == (
            "concurrent_transition"
        )
    finally:
        first.close()
        second.close()
    session.expire_all()
    published = select(func.count()).select_from(ListEntryEvent).where(ListEntryEvent.action == "publish")
    assert session.scalar(published) == 1
