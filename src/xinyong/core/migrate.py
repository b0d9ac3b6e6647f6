"""Run the Alembic migrations from code (CLI, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

REPO_ROOT = Path(__file__).resolve().parents[3]
# Search structures of migration 0002 are not ORM models (FTS5 shadow tables, trigram/pattern indexes).
UNMANAGED = ("subjects_fts", "ix_subjects_name_key_trgm", "ix_subjects_name_key_prefix", "ix_subjects_name_initials")


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Autogenerate compares only what the models own."""
    return not (name and name.startswith(UNMANAGED))


def alembic_config(url: str) -> Config:
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def current(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from xinyong.core.db import get_engine

    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
