"""Database plumbing shared by every domain: engine, sessions, the declarative base and portable types.

SQLite goes through pysqlite3-binary (SQLite 3.51): the stdlib's 3.40 has the FTS5 trigram LIKE bug
for two-character queries (STACK.md §2). No engine is created at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Engine, Integer, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on both databases (SQLite keeps no offset, so it is restored on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored: use xinyong.core.clock.now()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


def _sqlite_module() -> Any:
    import pysqlite3.dbapi2 as sqlite3

    return sqlite3


CONNECT_TIMEOUT_S = 5


@cache
def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process."""
    if url is None:
        from xinyong.config import get_settings

        url = get_settings().database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, module=_sqlite_module(), connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    # No pre-ping (a round trip per request); stale connections are recycled and retried by the pool instead.
    # A bounded connect: the public hot paths connect on the event loop (publicity.fast.answer), and an unreachable
    # server must fail a request in seconds, not hold a worker for the OS's TCP timeout. The URL's own setting wins.
    connect = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_S}
    return create_engine(url, pool_recycle=1800, pool_size=10, max_overflow=20, connect_args=connect)


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (below) rather than the driver's lazy BEGIN before the first DML only.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_on_begin(conn: Any) -> None:
    """A deferred BEGIN: readers never block one another or a writer (WAL); a writer takes the lock at its first
    write and others wait up to the busy timeout. Embedded SQLite is for one process; production is PostgreSQL."""
    conn.exec_driver_sql("BEGIN")


@cache
def get_sessionmaker(url: str | None = None) -> sessionmaker[Session]:
    return make_sessionmaker(get_engine(url))


def make_sessionmaker(bind: Any) -> sessionmaker[Session]:
    return sessionmaker(bind=bind, expire_on_commit=False)


@contextmanager
def unit_of_work(url: str | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error (CLI commands and jobs)."""
    session = get_sessionmaker(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
