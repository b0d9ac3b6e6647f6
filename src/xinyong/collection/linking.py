"""Linking records to subjects, set-based per chunk: by USCC; else by a legacy code known for a subject or a
resident ID; else a subject is created from a valid code; a name-only row links by exact normalised name when
that is unique and goes to the review queue otherwise. Each record keeps how it was linked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.archive import service as archive
from xinyong.archive.models import IdentifierScheme, LinkMethod, Subject, SubjectIdentifier, SubjectKind
from xinyong.core.bulk import insert_rows, member_of

LEGACY_SCHEMES = {
    "legacy_reg_no": IdentifierScheme.LEGACY_REG_NO,
    "org_code": IdentifierScheme.ORG_CODE,
    "tax_no": IdentifierScheme.TAX_NO,
}
CATEGORY_KIND = {
    "legal_person": SubjectKind.LEGAL_PERSON,
    "natural_person": SubjectKind.NATURAL_PERSON,
    "individual_business": SubjectKind.INDIVIDUAL_BUSINESS,
}
NANJING_DISTRICTS = frozenset(
    {"320102", "320104", "320105", "320106", "320111", "320113", "320114", "320115", "320116", "320117", "320118"}
)
CONFIDENCE = {
    LinkMethod.USCC: 1.0,
    LinkMethod.RESIDENT_ID: 1.0,
    LinkMethod.CREATED: 1.0,
    LinkMethod.LEGACY_CODE: 0.95,
    LinkMethod.NAME_EXACT: 0.8,
    LinkMethod.REVIEW: 0.0,
}


@dataclass
class Link:
    subject_id: int | None
    method: LinkMethod
    candidates: list[int]


def kind_for(uscc: str | None, category: str | None) -> SubjectKind:
    """The subject kind from the USCC's authority/type (GB 32100) when there is one, else from 行政相对人类别."""
    if uscc:
        if uscc[:2] == "92":
            return SubjectKind.INDIVIDUAL_BUSINESS
        if uscc[:2] == "11":
            return SubjectKind.GOVERNMENT_BODY
        return SubjectKind.LEGAL_PERSON if uscc[0] == "9" else SubjectKind.ORGANIZATION
    return CATEGORY_KIND.get(category or "", SubjectKind.LEGAL_PERSON)


def district_of(uscc: str | None) -> str | None:
    region = uscc[2:8] if uscc else None
    return region if region in NANJING_DISTRICTS else None


def link_rows(session: Session, rows: list[dict[str, Any]], now: datetime, batch_id: int) -> list[Link]:
    """Link every row of a chunk with a handful of set queries. Subjects for unknown valid codes are created."""
    usccs = {r["uscc"] for r in rows if r.get("uscc")}
    by_uscc = _subjects_by_uscc(session, usccs)
    idents = {(LEGACY_SCHEMES[k].value, r[k]) for r in rows for k in LEGACY_SCHEMES if r.get(k)}
    idents |= {(IdentifierScheme.RESIDENT_ID.value, r["id_no"]) for r in rows if r.get("id_no") and r.get("_rid")}
    by_ident = _subjects_by_identifier(session, idents)

    # create subjects for valid codes never seen before (once per code per chunk)
    to_create: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        if r.get("uscc") and r["uscc"] not in by_uscc:
            to_create.setdefault(("uscc", r["uscc"]), r)
        elif not r.get("uscc") and r.get("_rid") and ("resident_id", r["id_no"]) not in by_ident:
            to_create.setdefault(("resident_id", r["id_no"]), r)
    created = _create_subjects(session, to_create, now, batch_id)
    for (scheme, value), sid in created.items():
        (by_uscc if scheme == "uscc" else by_ident)[value if scheme == "uscc" else (scheme, value)] = sid

    names = {archive.name_key(r["subject_name"]) for r in rows if _name_only(r)}
    by_name = _subjects_by_name(session, names)
    links: list[Link] = []
    new_idents: dict[tuple[str, str], int] = {}
    for r in rows:
        link = _link_one(r, by_uscc, by_ident, by_name, created)
        links.append(link)
        if link.subject_id is not None:
            for key, scheme in LEGACY_SCHEMES.items():
                if r.get(key) and (scheme.value, r[key]) not in by_ident:
                    new_idents.setdefault((scheme.value, r[key]), link.subject_id)
    _add_identifiers(session, new_idents, now, batch_id)
    return links


def _name_only(r: dict[str, Any]) -> bool:
    return (
        not r.get("uscc")
        and not r.get("_rid")
        and not any(r.get(k) for k in LEGACY_SCHEMES)
        and bool(r.get("subject_name"))
    )


def _link_one(
    r: dict[str, Any],
    by_uscc: dict[str, int],
    by_ident: dict[tuple[str, str], int],
    by_name: dict[str, list[int]],
    created: dict[tuple[str, str], int],
) -> Link:
    if r.get("uscc"):
        sid = by_uscc[r["uscc"]]
        method = LinkMethod.CREATED if ("uscc", r["uscc"]) in created else LinkMethod.USCC
        return Link(sid, method, [])
    if r.get("_rid"):
        key = ("resident_id", r["id_no"])
        method = LinkMethod.CREATED if key in created else LinkMethod.RESIDENT_ID
        return Link(by_ident[key], method, [])
    for k, scheme in LEGACY_SCHEMES.items():
        if r.get(k) and (scheme.value, r[k]) in by_ident:
            return Link(by_ident[(scheme.value, r[k])], LinkMethod.LEGACY_CODE, [])
    if r.get("subject_name"):
        candidates = by_name.get(archive.name_key(r["subject_name"]), [])
        if len(candidates) == 1:
            return Link(candidates[0], LinkMethod.NAME_EXACT, candidates)
        return Link(None, LinkMethod.REVIEW, candidates[:20])
    return Link(None, LinkMethod.REVIEW, [])


def _subjects_by_uscc(session: Session, usccs: Iterable[str]) -> dict[str, int]:
    values = list(usccs)
    if not values:
        return {}
    stmt = select(Subject.id, Subject.uscc).where(member_of(session, Subject.uscc, values))
    return {u: i for i, u in session.execute(stmt)}


def _subjects_by_identifier(session: Session, idents: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    if not idents:
        return {}
    out: dict[tuple[str, str], int] = {}
    for scheme in {s for s, _ in idents}:
        values = [v for s, v in idents if s == scheme]
        stmt = select(SubjectIdentifier.value, SubjectIdentifier.subject_id).where(
            SubjectIdentifier.scheme == scheme, member_of(session, SubjectIdentifier.value, values)
        )
        for value, sid in session.execute(stmt):
            out[(scheme, value)] = sid
    return out


def _subjects_by_name(session: Session, keys: set[str]) -> dict[str, list[int]]:
    if not keys:
        return {}
    out: dict[str, list[int]] = {}
    stmt = (
        select(Subject.name_key, Subject.id)
        .where(member_of(session, Subject.name_key, list(keys)))
        .order_by(Subject.id)
    )
    for key, sid in session.execute(stmt):
        out.setdefault(key, []).append(sid)
    return out


def _create_subjects(
    session: Session, to_create: dict[tuple[str, str], dict[str, Any]], now: datetime, batch_id: int
) -> dict[tuple[str, str], int]:
    if not to_create:
        return {}
    keys = list(to_create)
    values = []
    for scheme, code in keys:
        r = to_create[(scheme, code)]
        uscc = code if scheme == "uscc" else None
        name = r.get("subject_name") or code
        values.append(
            {
                "kind": kind_for(uscc, r.get("subject_category")).value
                if scheme == "uscc"
                else SubjectKind.NATURAL_PERSON.value,
                "name": name,
                "name_key": archive.name_key(name),
                "name_initials": r.get("_initials") or archive.name_initials(name),
                "uscc": uscc,
                "district_code": district_of(uscc) or (code[:6] if scheme == "resident_id" else None),
                "status": "active",
                "created_at": now,
            }
        )
    ids = insert_rows(session, Subject, values, return_ids=True)
    created = dict(zip(keys, ids, strict=True))
    _add_identifiers(session, {k: v for k, v in created.items()}, now, batch_id)
    return created


def _add_identifiers(session: Session, idents: dict[tuple[str, str], int], now: datetime, batch_id: int) -> None:
    if not idents:
        return
    insert_rows(
        session,
        SubjectIdentifier,
        [
            {
                "subject_id": sid,
                "scheme": scheme,
                "value": value,
                "first_seen_at": now,
                "last_seen_at": now,
                "source_batch_id": batch_id,
            }
            for (scheme, value), sid in idents.items()
        ],
    )
