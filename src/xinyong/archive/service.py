"""Reading and growing the archive: subjects by key, their records, counts. Linking lives in collection."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

import yaml
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT
from sqlalchemy import ColumnElement, and_, func, or_, select, text
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


def search_subjects(session: Session, q: str, limit: int = 20, exclude_kinds: tuple[str, ...] = ()) -> list[Subject]:
    """Ranked search in tiers — the USCC itself, the exact name, a name prefix, pinyin initials, any substring —
    each tier an indexed query that stops once `limit` subjects are found, so a popular two-character query
    (南京) does not sort every match.

    Substrings go through the trigram index of each database (FTS5 trigram on SQLite, pg_trgm on PostgreSQL;
    migration 0002); queries shorter than three characters fall back to LIKE, which both still answer.
    """
    q = q.strip()
    if not q:
        return []
    code, key = normalize_code(q), name_key(q)
    initials = q.lower() if q.isascii() and q.isalpha() else None
    tiers: list[ColumnElement[bool]] = [Subject.uscc == code, Subject.name_key == key, _name_prefix(session, key)]
    if initials:
        tiers.append(Subject.name_initials.startswith(initials, autoescape=True))
    tiers.append(_name_contains(session, key))
    found: list[Subject] = []
    for i, condition in enumerate(tiers):
        stmt = select(Subject).where(condition)
        if exclude_kinds:
            stmt = stmt.where(Subject.kind.not_in(exclude_kinds))
        if found:
            stmt = stmt.where(Subject.id.not_in([s.id for s in found]))
        if i < len(tiers) - 1:
            stmt = stmt.order_by(Subject.name_key, Subject.id)
        # the substring tier is not sorted: a common term (科技) stops at the first `limit` hits instead of
        # sorting every match among millions of names
        found += session.scalars(stmt.limit(limit - len(found)))
        if len(found) >= limit:
            break
    return found


def _name_prefix(session: Session, key: str) -> ColumnElement[bool]:
    """Prefix match through a btree: LIKE 'key%' on PostgreSQL (text_pattern_ops index), a code-point range on
    SQLite (BINARY collation orders UTF-8 by code point; SQLite's LIKE would not use the index)."""
    if session.get_bind().dialect.name == "sqlite":
        return and_(Subject.name_key >= key, Subject.name_key < key + "\U0010ffff")
    return Subject.name_key.startswith(key, autoescape=True)


def _name_contains(session: Session, key: str) -> ColumnElement[bool]:
    if session.get_bind().dialect.name != "sqlite":
        return Subject.name_key.contains(key, autoescape=True)
    if len(key) >= 3:
        phrase = '"' + key.replace('"', '""') + '"'
        fts = text("SELECT rowid FROM subjects_fts WHERE subjects_fts MATCH :phrase").bindparams(phrase=phrase)
    else:
        pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        fts = text("SELECT rowid FROM subjects_fts WHERE name_key LIKE :pattern ESCAPE '\\'").bindparams(
            pattern=pattern
        )
    return Subject.id.in_(fts)


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
