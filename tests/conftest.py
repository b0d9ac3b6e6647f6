"""Test databases: the whole suite runs against SQLite or PostgreSQL (XINYONG_TEST_DB=sqlite|postgresql).

Each run builds a fresh database by running the migrations; each test starts from empty tables with
the seeded departments. Tables are emptied rather than rolled back so that tests may commit, use
several connections (concurrency) and kill processes (kill-safety).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

BACKEND = os.environ.get("XINYONG_TEST_DB", "sqlite")
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
_TMP = Path(tempfile.mkdtemp(prefix=f"xinyong-test-{_WORKER}-"))
if BACKEND == "sqlite":
    DB_URL = f"sqlite:///{_TMP / 'test.db'}"
elif BACKEND == "postgresql":
    _PG_BASE = os.environ.get("XINYONG_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
    DB_NAME = f"xinyong_test_{_WORKER}_{uuid.uuid4().hex[:8]}"
    DB_URL = f"{_PG_BASE}/{DB_NAME}"
else:
    raise RuntimeError(f"XINYONG_TEST_DB must be sqlite or postgresql, not {BACKEND!r}")

os.environ["XINYONG_DATABASE_URL"] = DB_URL
os.environ["XINYONG_ENVIRONMENT"] = "test"
os.environ["XINYONG_SECRET_KEY"] = "test-secret-key-" + "x" * 32
os.environ["XINYONG_PASSWORD_HASH_TIME_COST"] = "1"
os.environ["XINYONG_AUDIT_SEAL_INTERVAL"] = "0"  # tests seal explicitly
os.environ["XINYONG_PASSWORD_HASH_MEMORY_KIB"] = "8192"
os.environ["XINYONG_VAR_DIR"] = str(_TMP / "var")

import pytest  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from xinyong.core import clock  # noqa: E402
from xinyong.core.db import get_engine, make_sessionmaker  # noqa: E402
from xinyong.schema import load_models  # noqa: E402

# No example may fail for being slow: timings depend on the machine's load, never on the code's correctness.
hypothesis_settings.register_profile("xinyong", deadline=None)
hypothesis_settings.load_profile("xinyong")


def _admin_url() -> str:
    return f"{_PG_BASE}/postgres"


@pytest.fixture(scope="session")
def db_url() -> Iterator[str]:
    from xinyong.core import migrate

    if BACKEND == "postgresql":
        admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(
                text(
                    f"CREATE DATABASE \"{DB_NAME}\" TEMPLATE template0 ENCODING 'UTF8' "
                    "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
                )
            )
    migrate.upgrade(DB_URL)
    yield DB_URL
    get_engine(DB_URL).dispose()
    if BACKEND == "postgresql":
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        admin.dispose()


def _empty_tables(url: str) -> None:
    tables = [t.name for t in reversed(load_models().metadata.sorted_tables)]
    engine = get_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence(conn) else None


def _has_sqlite_sequence(conn) -> bool:
    return bool(conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first())


@pytest.fixture
def clean_db(db_url: str) -> Iterator[str]:
    from xinyong.accounts.service import seed_departments

    _empty_tables(db_url)
    with make_sessionmaker(get_engine(db_url))() as s:
        seed_departments(s)
        s.commit()
    clock.reset()
    yield db_url
    clock.reset()


@pytest.fixture
def session(clean_db: str) -> Iterator[Session]:
    """A session on a clean database; the test decides when to commit."""
    with make_sessionmaker(get_engine(clean_db))() as s:
        yield s


@pytest.fixture
def app(clean_db: str):
    from xinyong.app import create_app
    from xinyong.config import Settings

    return create_app(
        Settings(
            database_url=clean_db,
            environment="test",
            secret_key=os.environ["XINYONG_SECRET_KEY"],
            audit_seal_interval=0,
        )
    )


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path
