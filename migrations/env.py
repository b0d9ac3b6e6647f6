"""Alembic environment: the URL comes from XINYONG_DATABASE_URL (or the caller's config), the engine from core.db."""

from __future__ import annotations

from alembic import context

from xinyong.core.db import get_engine
from xinyong.core.migrate import include_name
from xinyong.schema import load_models

target_metadata = load_models().metadata


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or None
    connectable = context.config.attributes.get("connection") or get_engine(url)
    if hasattr(connectable, "connect"):
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection) -> None:  # alembic Connection
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `xinyong db upgrade`")
run_migrations_online()
