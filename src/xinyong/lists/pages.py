"""Credit office page of the lists: entries by state, a form to start a case, and the next step's form per entry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require_role
from xinyong.accounts.models import Role, User
from xinyong.archive import service as archive
from xinyong.core.errors import DomainError
from xinyong.core.web import DbSession, render
from xinyong.lists import rules, service
from xinyong.lists.rules import Action, EntryState

router = APIRouter(tags=["lists"], include_in_schema=False)
OfficeUser = Annotated[User, Depends(require_role(Role.CREDIT_OFFICE))]


@router.get("/office/lists")
def office_lists(request: Request, session: DbSession, user: OfficeUser, state: str = "") -> Any:
    if state and state not in set(EntryState):
        raise DomainError(f"未知状态“{state}”", code="bad_state")
    return render(
        request,
        "lists/office.html",
        entries=service.list_entries(session, state or None),
        counts=service.count_by_state(session),
        state=state,
        states=list(EntryState),
        state_labels=rules.STATE_LABELS,
        action_labels=rules.ACTION_LABELS,
        next_actions=rules.NEXT_ACTIONS,
        types=rules.catalogue().types,
        removal_reasons=rules.catalogue().procedure.removal_reasons,
    )


@router.post("/office/lists")
def start_entry(
    session: DbSession,
    user: OfficeUser,
    list_type: Annotated[str, Form()],
    subject: Annotated[str, Form()],
    reason: Annotated[str, Form()],
    doc_no: Annotated[str, Form()] = "",
) -> Any:
    """A dishonesty list starts the procedure (拟列入); an incentive list is entered directly."""
    kind = service.list_type_or_raise(list_type)
    target = archive.subject_by_key(session, subject)
    actor = accounts.actor_for(user)
    if kind.procedure_required:
        service.propose(session, actor, list_type=kind.code, subject=target, reason=reason)
    else:
        service.enter_incentive(session, actor, list_type=kind.code, subject=target, reason=reason, doc_no=doc_no)
    return RedirectResponse("/office/lists", status_code=303)


@router.post("/office/lists/{entry_id}/{action}")
def step_entry(
    entry_id: int,
    action: Action,
    session: DbSession,
    user: OfficeUser,
    doc_no: Annotated[str, Form()] = "",
    statement: Annotated[str, Form()] = "",
    reply: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    waived: Annotated[bool, Form()] = False,
) -> Any:
    entry = service.get_or_raise(session, entry_id)
    actor = accounts.actor_for(user)
    if action is Action.NOTIFY:
        service.notify(session, entry, actor, doc_no=doc_no)
    elif action is Action.RECORD_STATEMENT:
        service.record_statement(session, entry, actor, statement=statement, reply=reply, doc_no=doc_no)
    elif action is Action.DECIDE:
        service.decide(session, entry, actor, doc_no=doc_no, waived=waived)
    elif action is Action.PUBLISH:
        service.publish(session, entry, actor)
    elif action is Action.REMOVE:
        service.remove(session, entry, actor, reason=reason, doc_no=doc_no or None)
    else:
        service.withdraw(session, entry, actor, reason=reason)
    return RedirectResponse(f"/office/lists#entry-{entry.id}", status_code=303)
