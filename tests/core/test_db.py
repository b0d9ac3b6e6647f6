from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select

from tests.builders import make_subject
from xinyong.archive.models import Subject
from xinyong.core import clock
from xinyong.core.db import get_engine
from xinyong.schema import load_models


def test_migrations_build_every_table_of_the_models(clean_db):
    tables = set(inspect(get_engine(clean_db)).get_table_names())
    assert set(load_models().metadata.tables) <= tables
    assert "alembic_version" in tables


def test_times_are_stored_in_utc_and_come_back_aware(session):
    shanghai = timezone(timedelta(hours=8))
    s = make_subject(session)
    s.updated_at = datetime(2026, 3, 5, 9, 30, tzinfo=shanghai)
    session.commit()
    session.expire_all()
    back = session.scalar(select(Subject.updated_at).where(Subject.id == s.id))
    assert back == datetime(2026, 3, 5, 1, 30, tzinfo=UTC)
    assert back.tzinfo is not None


def test_naive_datetimes_are_refused(session):
    s = make_subject(session)
    s.updated_at = datetime(2026, 3, 5, 9, 30)
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()


def test_clock_can_be_moved_and_today_is_shanghai_local():
    start = clock.now()
    clock.move(timedelta(days=400))
    try:
        assert (clock.now() - start).days >= 399
    finally:
        clock.reset()
    assert abs((clock.now() - start).total_seconds()) < 60


def test_bulk_insert_returns_ids_in_row_order_and_writes_json(session):
    from xinyong.archive.models import Subject
    from xinyong.core.bulk import insert_rows

    now = clock.now()
    rows = [
        {
            "kind": "legal_person",
            "name": f"公司{i}",
            "name_key": f"公司{i}",
            "name_initials": "gs",
            "uscc": None,
            "district_code": None,
            "status": "active",
            "created_at": now,
        }
        for i in range(5)
    ]
    ids = insert_rows(session, Subject, rows, return_ids=True)
    assert len(ids) == 5 and ids == sorted(ids)
    names = dict(session.execute(select(Subject.id, Subject.name)).all())
    assert [names[i] for i in ids] == [f"公司{i}" for i in range(5)]


def test_migrations_and_models_do_not_drift(clean_db):
    """What `alembic revision --autogenerate` would add must be empty: models change only with a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from xinyong.core.migrate import include_name

    with get_engine(clean_db).connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        assert compare_metadata(context, load_models().metadata) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://xinyong@127.0.0.1:1/connect_timeout_default", 5),
        ("postgresql://xinyong@127.0.0.1:1/connect_timeout_own?connect_timeout=2", "2"),
    ],
)
def test_postgresql_connections_are_bounded_in_time_unless_the_url_says_otherwise(url, expected):
    """The public hot paths connect on the event loop: an unreachable server must fail fast (core.db)."""
    from sqlalchemy import event

    engine = get_engine(url)
    seen: dict = {}

    class Stop(Exception):
        pass

    @event.listens_for(engine, "do_connect")
    def capture(dialect, record, cargs, cparams):
        seen.update(cparams)
        raise Stop  # no server needed: only what would be sent

    with pytest.raises(Stop):
        engine.raw_connection()
    assert seen["connect_timeout"] == expected
