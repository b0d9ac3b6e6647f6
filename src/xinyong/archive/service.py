"""Reading and growing the archive: subjects by key, their records, counts. Linking lives in collection."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

import yaml
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT
from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from xinyong.archive.identifiers import IdentifierError, normalize_code, validate_uscc
from xinyong.archive.models import CreditRecord, RecordState, Subject, SubjectIdentifier
from xinyong.core.errors import NotFound

_SPACES = re.compile(r"\s+")


def name_key(name: str) -> str:
    """What makes two spellings of a name the same: width, spaces and bracket style do not count."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", name)).upper()


def name_initials(name: str) -> str:
    """Pinyin initials for search (重庆银行 → cqyh, 长江 → cj).

    Greedy longest match against pypinyin's phrase table (so heteronyms read as in the phrase), else each
    character's first reading — what pypinyin's default segmentation does, at a fraction of its cost, which
    matters when a batch creates hundreds of thousands of subjects. Letters and digits are kept as typed.
    """
    out: list[str] = []
    i, n = 0, len(name)
    while i < n:
        for size in range(min(_MAX_PHRASE, n - i), 1, -1):
            readings = PHRASES_DICT.get(name[i : i + size])
            if readings:
                out.extend(_first_letter(r[0]) for r in readings)
                i += size
                break
        else:
            out.append(_char_initial(name[i]))
            i += 1
    return "".join(out).lower()[:100]


_MAX_PHRASE = 4


@cache
def _char_initial(ch: str) -> str:
    if ch.isascii():
        return ch if ch.isalnum() else ""
    reading = PINYIN_DICT.get(ord(ch))
    return _first_letter(reading.split(",")[0]) if reading else ""


@cache
def _first_letter(reading: str) -> str:
    return unicodedata.normalize("NFKD", reading)[:1]


@cache
def regions() -> dict[str, str]:
    text = resources.files("xinyong.archive").joinpath("data/regions.yaml").read_text("utf-8")
    return {str(k): v for k, v in yaml.safe_load(text)["regions"].items()}


def region_name(code: str | None) -> str:
    return regions().get(code or "", code or "")


def get_subject(session: Session, subject_id: int) -> Subject | None:
    return session.get(Subject, subject_id)


def subject_by_key(session: Session, key: str) -> Subject:
    """A subject named by its USCC or our numeric id."""
    key = key.strip()
    subject: Subject | None = None
    if key.isdigit() and len(key) < 18:
        subject = session.get(Subject, int(key))
    else:
        try:
            code = validate_uscc(key)
        except IdentifierError:
            code = normalize_code(key)
        subject = session.scalar(select(Subject).where(Subject.uscc == code))
    if subject is None:
        raise NotFound(f"未找到信用主体“{key}”", code="subject_not_found")
    return subject


class SearchHit(NamedTuple):
    """A subject as search lists it (what the result pages and the API show of it)."""

    id: int
    kind: str
    name: str
    uscc: str | None
    district_code: str | None


def search_subjects(session: Session, q: str, limit: int = 20, exclude_kinds: tuple[str, ...] = ()) -> list[SearchHit]:
    """Ranked search in tiers — the USCC itself, the exact name, a name prefix, pinyin initials, any substring.

    Two statements at most (`search_statements`): the indexed tiers in one, each its own LIMIT and the tiers in
    order, then the substring tier only when they did not fill the page. The substring tier is not sorted, so a
    common term (科技) stops at the first `limit` hits instead of sorting every match among millions of names; it
    goes through the trigram index of each database (FTS5 trigram on SQLite, pg_trgm on PostgreSQL; migration
    0002), and queries shorter than three characters, which no trigram index answers, scan the names.

    On PostgreSQL each statement is planned for its own values (a plan cached for a parameter would read every
    entry of the trigram index for a two-character pattern) and without parallel workers (on a busy server their
    start-up costs more than the short scans they split): `SEARCH_SETTINGS`, for this transaction only.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and q.strip():
        session.execute(text("SELECT " + ", ".join(f"set_config('{k}', '{v}', true)" for k, v in SEARCH_SETTINGS)))
    return run_search(lambda sql, params: session.execute(text(sql), params).all(), dialect, q, limit, exclude_kinds)


# Settings for search statements on PostgreSQL, per transaction. publicity.fast gets the same on its own connections
# by sending search statements unprepared (always planned for their values) with parallel workers off.
SEARCH_SETTINGS = (("plan_cache_mode", "force_custom_plan"), ("max_parallel_workers_per_gather", "0"))


def run_search(
    execute: Callable[[str, dict[str, Any]], Sequence[Any]],
    dialect: str,
    q: str,
    limit: int,
    exclude_kinds: tuple[str, ...] = (),
) -> list[SearchHit]:
    """The tiers of `search_statements` through any executor (an ORM session, or a bare driver connection)."""
    q = q.strip()
    if not q or limit < 1:
        return []
    key = name_key(q)
    initials = q.lower() if q.isascii() and q.isalpha() else None
    indexed, substring = search_statements(dialect, len(exclude_kinds), initials is not None, len(key) < 3)
    params: dict[str, Any] = {
        "code": normalize_code(q),
        "key": key,
        "key_end": key + "\U0010ffff",
        "prefix": _like_escape(key) + "%",
        "contains": "%" + _like_escape(key) + "%",
        "phrase": '"' + key.replace('"', '""') + '"',
        "initials": _like_escape(initials or "") + "%",
        "limit": limit,
    }
    params.update({f"x{i}": str(kind) for i, kind in enumerate(exclude_kinds)})
    hits = [SearchHit(*row) for row in execute(indexed, params)]
    if len(hits) < limit:
        hits += [SearchHit(*row) for row in execute(substring, params | {"remaining": limit - len(hits)})]
    return hits


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@cache
def search_statements(dialect: str, excluded: int, initials: bool, short: bool) -> tuple[str, str]:
    """The indexed tiers as one statement, and the substring tier, with :named parameters.

    A later tier leaves out what an earlier one matched by negating its condition, which equals leaving out the
    subjects it found: the later tier runs only when every earlier tier returned all its matches. USCC codes may be
    NULL, hence IS DISTINCT FROM. Prefixes are a LIKE on PostgreSQL (text_pattern_ops index) and a code-point range
    on SQLite (BINARY collation orders UTF-8 by code point; SQLite's LIKE would not use the index).
    """
    sqlite = dialect == "sqlite"
    columns = "id, kind, name, uscc, district_code"
    kinds = f" AND kind NOT IN ({', '.join(f':x{i}' for i in range(excluded))})" if excluded else ""
    other_code = "uscc IS NOT :code" if sqlite else "uscc IS DISTINCT FROM :code"
    prefix = "(name_key >= :key AND name_key < :key_end)" if sqlite else "name_key LIKE :prefix ESCAPE '\\'"
    by_initials = "name_initials LIKE :initials ESCAPE '\\'"

    def tier(rank: int, condition: str) -> str:
        return (
            f"SELECT * FROM (SELECT {columns}, name_key, {rank} AS tier FROM subjects WHERE {condition}{kinds}"
            f" ORDER BY name_key, id LIMIT :limit) AS tier{rank}"
        )

    tiers = [
        tier(1, "uscc = :code"),
        tier(2, f"name_key = :key AND {other_code}"),
        tier(3, f"{prefix} AND name_key <> :key AND {other_code}"),
    ]
    earlier = f"{other_code} AND NOT {prefix}"
    if initials:
        tiers.append(tier(4, f"{by_initials} AND {earlier}"))
        earlier += f" AND NOT {by_initials}"
    indexed = f"SELECT {columns} FROM ({' UNION ALL '.join(tiers)}) AS tiers ORDER BY tier, name_key, id LIMIT :limit"
    if not sqlite:
        contains = "name_key LIKE :contains ESCAPE '\\'"
    elif short:
        contains = "id IN (SELECT rowid FROM subjects_fts WHERE name_key LIKE :contains ESCAPE '\\')"
    else:
        contains = "id IN (SELECT rowid FROM subjects_fts WHERE subjects_fts MATCH :phrase)"
    substring = f"SELECT {columns} FROM subjects WHERE {contains} AND {earlier}{kinds} LIMIT :remaining"
    return indexed, substring


def identifiers_of(session: Session, subject_id: int) -> list[SubjectIdentifier]:
    return list(
        session.scalars(
            select(SubjectIdentifier).where(SubjectIdentifier.subject_id == subject_id).order_by(SubjectIdentifier.id)
        )
    )


def current_records(session: Session, subject_id: int, info_class: str | None = None) -> list[CreditRecord]:
    stmt = select(CreditRecord).where(CreditRecord.subject_id == subject_id, CreditRecord.is_current.is_(True))
    if info_class:
        stmt = stmt.where(CreditRecord.info_class == info_class)
    return list(session.scalars(stmt.order_by(CreditRecord.decision_date.desc(), CreditRecord.id.desc())))


def record_history(session: Session, key_hash: str) -> list[CreditRecord]:
    return list(
        session.scalars(select(CreditRecord).where(CreditRecord.key_hash == key_hash).order_by(CreditRecord.version))
    )


@dataclass(frozen=True)
class ArchiveStats:
    subjects: int
    records: int
    current_records: int


def stats(session: Session) -> ArchiveStats:
    subjects = session.scalar(select(func.count()).select_from(Subject)) or 0
    records = session.scalar(select(func.count()).select_from(CreditRecord)) or 0
    current = session.scalar(select(func.count()).select_from(CreditRecord).where(CreditRecord.is_current.is_(True)))
    return ArchiveStats(subjects, records, current or 0)


def public_records(
    session: Session,
    *,
    today: date,
    info_class: str | None = None,
    department_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    offset: int = 0,
    limit: int = 20,
) -> tuple[int, list[tuple[CreditRecord, Subject | None]]]:
    """Records in their publicity window (current, active, window not over), newest decisions first."""
    where = [
        CreditRecord.is_current.is_(True),
        CreditRecord.state == RecordState.ACTIVE.value,
        or_(CreditRecord.publicity_end.is_(None), CreditRecord.publicity_end >= today),
    ]
    if info_class:
        where.append(CreditRecord.info_class == info_class)
    if department_id:
        where.append(CreditRecord.source_department_id == department_id)
    if date_from:
        where.append(CreditRecord.decision_date >= date_from)
    if date_to:
        where.append(CreditRecord.decision_date <= date_to)
    total = session.scalar(select(func.count()).select_from(CreditRecord).where(*where)) or 0
    stmt = (
        select(CreditRecord, Subject)
        .outerjoin(Subject, Subject.id == CreditRecord.subject_id)
        .where(*where)
        .order_by(CreditRecord.decision_date.desc(), CreditRecord.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return total, [(r, s) for r, s in session.execute(stmt)]
