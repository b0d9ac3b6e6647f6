"""Four views of one archive — public, self, authorised, internal — built in one place.

Pages, the JSON API and reports all take their data from here, so masking cannot be forgotten by a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from xinyong.accounts.models import Role, User
from xinyong.archive import service as archive
from xinyong.archive.models import SUBJECT_KIND_LABELS, CreditRecord, RecordState, Subject, SubjectKind
from xinyong.core import clock
from xinyong.publicity.masking import mask_ids_in_text, mask_name, mask_resident_id

PERSONAL_FIELDS = ("id_no", "legal_rep_id_no")


class View(StrEnum):
    PUBLIC = "public"
    SELF = "self"
    AUTHORISED = "authorised"
    INTERNAL = "internal"


def view_for(user: User | None, subject: Subject) -> View:
    if user is None:
        return View.PUBLIC
    if user.role in (Role.CREDIT_OFFICE, Role.ADMIN):
        return View.INTERNAL
    if user.role == Role.SUBJECT and user.subject_id == subject.id:
        return View.SELF
    return View.PUBLIC


@dataclass
class RecordView:
    id: int
    info_class: str
    decision_no: str | None
    decision_date: date | None
    state: str
    severity: str | None
    publicity_end: date | None
    disputed: bool
    version: int
    payload: dict[str, Any]
    publicity_rule: str | None = None
    rule_name: str = ""
    legal_basis: str = ""


@dataclass
class SubjectView:
    id: int
    kind: str
    kind_label: str
    name: str
    uscc: str | None
    district_code: str | None
    district: str
    identifiers: list[tuple[str, str]]
    records: list[RecordView] = field(default_factory=list)
    view: View = View.PUBLIC
    list_entries: list[dict[str, Any]] = field(default_factory=list)


def is_public(record: CreditRecord, today: date) -> bool:
    """A record is shown publicly while active and inside its publicity window (rules arrive with issue 4)."""
    if record.state != RecordState.ACTIVE:
        return False
    return record.publicity_end is None or record.publicity_end >= today


def _rule(code: str | None) -> Any:
    """The dated publicity rule a record was judged under (publicity/data/publicity_rules.yaml)."""
    if not code:
        return None
    from xinyong.publicity.rules import publicity_rules

    try:
        return publicity_rules().get(code)
    except StopIteration:
        return None


def _mask_payload(payload: dict[str, Any], natural_person: bool) -> dict[str, Any]:
    masked = {k: mask_ids_in_text(v) if isinstance(v, str) else v for k, v in payload.items()}
    for key in PERSONAL_FIELDS:
        if masked.get(key):
            masked[key] = mask_resident_id(str(masked[key]))
    if natural_person and masked.get("subject_name"):
        masked["subject_name"] = mask_name(str(masked["subject_name"]))
    for key in ("legal_rep",):
        if natural_person and masked.get(key):
            masked[key] = mask_name(str(masked[key]))
    return masked


def subject_view(session: Session, subject: Subject, view: View) -> SubjectView:
    person = subject.kind == SubjectKind.NATURAL_PERSON
    public = view == View.PUBLIC
    idents = [(i.scheme, i.value) for i in archive.identifiers_of(session, subject.id)]
    if public:
        idents = [(s, mask_resident_id(v) if s == "resident_id" else v) for s, v in idents]
    today = clock.today()
    records = []
    for rec in archive.current_records(session, subject.id):
        if public and not is_public(rec, today):
            continue
        payload = _mask_payload(rec.payload, person) if public else rec.payload
        rule = _rule(rec.publicity_rule)
        records.append(
            RecordView(
                rec.id,
                rec.info_class,
                rec.decision_no,
                rec.decision_date,
                rec.state,
                rec.severity,
                rec.publicity_end,
                rec.disputed,
                rec.version,
                payload,
                rec.publicity_rule,
                rule.name if rule else "",
                rule.legal_basis if rule else "",
            )
        )
    return SubjectView(
        list_entries=list_entries_of(session, subject.id, today),
        id=subject.id,
        kind=subject.kind,
        kind_label=SUBJECT_KIND_LABELS.get(SubjectKind(subject.kind), subject.kind),
        name=mask_name(subject.name) if (public and person) else subject.name,
        uscc=subject.uscc,
        district_code=subject.district_code,
        district=archive.region_name(subject.district_code),
        identifiers=idents,
        records=records,
        view=view,
    )


def search_view(session: Session, q: str, limit: int = 20) -> list[dict[str, Any]]:
    """Public search finds organisations only: a person's name must not be searchable into a record."""
    out = []
    for s in archive.search_subjects(session, q, limit, exclude_kinds=(SubjectKind.NATURAL_PERSON,)):
        person = s.kind == SubjectKind.NATURAL_PERSON
        out.append(
            {
                "id": s.id,
                "kind": s.kind,
                "kind_label": SUBJECT_KIND_LABELS.get(SubjectKind(s.kind), s.kind),
                "name": mask_name(s.name) if person else s.name,
                "uscc": s.uscc,
                "district_code": s.district_code,
                "district": archive.region_name(s.district_code),
            }
        )
    return out


def listing_view(session: Session, **filters: Any) -> tuple[int, list[dict[str, Any]]]:
    """双公示 listings as the public may see them (names of persons and ID numbers masked)."""
    total, rows = archive.public_records(session, today=clock.today(), **filters)
    items = []
    for rec, subject in rows:
        person = rec.payload.get("subject_category") == "natural_person" or (
            subject is not None and subject.kind == SubjectKind.NATURAL_PERSON
        )
        payload = _mask_payload(rec.payload, person)
        items.append(
            {
                "id": rec.id,
                "info_class": rec.info_class,
                "subject_id": rec.subject_id if not person else None,
                "subject_name": payload.get("subject_name", ""),
                "uscc": payload.get("uscc") if not person else None,
                "decision_no": rec.decision_no,
                "decision_date": rec.decision_date.isoformat() if rec.decision_date else None,
                "authority": payload.get("deciding_authority", ""),
                "content": payload.get("penalty_content") or payload.get("license_content") or "",
                "publicity_end": rec.publicity_end.isoformat() if rec.publicity_end else None,
                "disputed": rec.disputed,
            }
        )
    return total, items


def list_entries_of(session: Session, subject_id: int, today: date) -> list[dict[str, Any]]:
    """The subject's entries on serious-dishonesty and incentive lists that are in publicity today."""
    from xinyong.lists import service as lists

    kinds = {t.code: t for t in lists.list_types()}
    out = []
    for entry in lists.active_entries(session, [subject_id], today).get(subject_id, []):
        kind = kinds.get(entry.list_type)
        out.append(
            {
                "entry_id": entry.id,
                "list_type": entry.list_type,
                "name": kind.name if kind else entry.list_type,
                "kind": kind.kind if kind else "",
                "legal_basis": kind.legal_basis if kind else "",
                "decision_no": entry.decision_no,
                "publicity_from": entry.publicity_from,
                "term_end": entry.term_end,
            }
        )
    return out


def list_page_view(session: Session, list_type: str, page: int, size: int = 20) -> tuple[Any, int, list[dict]]:
    """One list's entries in publicity as the public may see them (persons masked, no identifier shown)."""
    from xinyong.lists import service as lists

    kind = lists.list_type_or_raise(list_type)
    total, rows = lists.public_entries(session, list_type, clock.today(), (page - 1) * size, size)
    items = []
    for entry, subject, department in rows:
        person = subject.kind == SubjectKind.NATURAL_PERSON
        items.append(
            {
                "subject_id": None if person else subject.id,
                "name": mask_name(subject.name) if person else subject.name,
                "uscc": None if person else subject.uscc,
                "authority": department.name,
                "decision_no": entry.decision_no,
                "publicity_from": entry.publicity_from,
                "term_end": entry.term_end,
            }
        )
    return kind, total, items
