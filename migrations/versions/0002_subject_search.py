"""subject search: FTS5 trigram on SQLite, pg_trgm on PostgreSQL

Substring search on Chinese names (two-character queries such as 南京 included) and pinyin-initial prefixes.
SQLite: an external-content FTS5 table with the trigram tokenizer kept in sync by triggers (SQLite 3.51 through
pysqlite3-binary: LIKE on the FTS table also serves queries shorter than three characters, STACK.md §2).
PostgreSQL: pg_trgm GIN index (works on Chinese only with a UTF-8 LC_CTYPE, e.g. C.UTF-8) and a pattern index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE subjects_fts USING fts5(name_key, content='subjects', content_rowid='id', "
    "tokenize='trigram')",
    "INSERT INTO subjects_fts(rowid, name_key) SELECT id, name_key FROM subjects",
    "CREATE TRIGGER subjects_fts_ai AFTER INSERT ON subjects BEGIN "
    "INSERT INTO subjects_fts(rowid, name_key) VALUES (new.id, new.name_key); END",
    "CREATE TRIGGER subjects_fts_ad AFTER DELETE ON subjects BEGIN "
    "INSERT INTO subjects_fts(subjects_fts, rowid, name_key) VALUES ('delete', old.id, old.name_key); END",
    "CREATE TRIGGER subjects_fts_au AFTER UPDATE OF name_key ON subjects BEGIN "
    "INSERT INTO subjects_fts(subjects_fts, rowid, name_key) VALUES ('delete', old.id, old.name_key); "
    "INSERT INTO subjects_fts(rowid, name_key) VALUES (new.id, new.name_key); END",
    "CREATE INDEX ix_subjects_name_initials ON subjects (name_initials)",
]
SQLITE_DOWN = [
    "DROP INDEX ix_subjects_name_initials",
    "DROP TRIGGER subjects_fts_au",
    "DROP TRIGGER subjects_fts_ad",
    "DROP TRIGGER subjects_fts_ai",
    "DROP TABLE subjects_fts",
]
PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_subjects_name_key_trgm ON subjects USING gin (name_key gin_trgm_ops)",
    "CREATE INDEX ix_subjects_name_initials ON subjects (name_initials text_pattern_ops)",
    "CREATE INDEX ix_subjects_name_key_prefix ON subjects (name_key text_pattern_ops)",
]
PG_DOWN = [
    "DROP INDEX ix_subjects_name_key_prefix",
    "DROP INDEX ix_subjects_name_initials",
    "DROP INDEX ix_subjects_name_key_trgm",
]


def _run(statements: list[str]) -> None:
    for sql in statements:
        op.execute(sql)


def upgrade() -> None:
    _run(PG_UP if op.get_bind().dialect.name == "postgresql" else SQLITE_UP)


def downgrade() -> None:
    _run(PG_DOWN if op.get_bind().dialect.name == "postgresql" else SQLITE_DOWN)
