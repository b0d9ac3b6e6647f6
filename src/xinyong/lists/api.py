"""Public JSON API of the lists: list types with their legal basis, and the entries now in publicity."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from xinyong.archive.models import SubjectKind
from xinyong.core import clock
from xinyong.core.web import DbSession
from xinyong.lists import service
from xinyong.publicity.masking import mask_name

router = APIRouter(tags=["lists"])


@router.get("/lists", summary="名单类型（含设立依据、认定单位、期限和移出条件）")
def list_list_types() -> dict[str, Any]:
    items = [
        {
            "code": t.code,
            "kind": t.kind,
            "name": t.name,
            "legal_basis": t.legal_basis,
            "authority": t.authority,
            "term_months": t.term_months,
            "early_removal_after_months": t.early_removal_after_months,
            "removal_conditions": t.removal_conditions,
            "procedure_required": t.procedure_required,
        }
        for t in service.list_types()
    ]
    return {"count": len(items), "items": items}


@router.get("/lists/{list_type}/entries", summary="名单公示中的主体（自然人姓名脱敏）")
def list_public_entries(
    list_type: str,
    session: DbSession,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    kind = service.list_type_or_raise(list_type)
    total, rows = service.public_entries(session, list_type, clock.today(), offset, limit)
    items = []
    for entry, subject, department in rows:
        person = subject.kind == SubjectKind.NATURAL_PERSON
        items.append(
            {
                "entry_id": entry.id,
                "subject_name": mask_name(subject.name) if person else subject.name,
                "uscc": None if person else subject.uscc,
                "listing_authority": department.name,
                "decision_no": entry.decision_no,
                "publicity_from": entry.publicity_from.isoformat() if entry.publicity_from else None,
                "term_end": entry.term_end.isoformat() if entry.term_end else None,
            }
        )
    return {"list_type": kind.code, "name": kind.name, "total": total, "offset": offset, "items": items}
