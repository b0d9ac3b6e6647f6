"""Credit office statistics of joint rewards and punishments, and an official's manual credit check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request

from xinyong.accounts import service as accounts
from xinyong.accounts.deps import require_role
from xinyong.accounts.models import Role, User
from xinyong.archive import service as archive
from xinyong.core import clock
from xinyong.core.web import DbSession, render
from xinyong.measures import service

router = APIRouter(tags=["measures"], include_in_schema=False)
OfficeUser = Annotated[User, Depends(require_role(Role.CREDIT_OFFICE))]
Official = Annotated[User, Depends(require_role(Role.CREDIT_OFFICE, Role.DEPARTMENT))]


@router.get("/office/measures")
def office_statistics(request: Request, session: DbSession, user: OfficeUser, month: str = "") -> Any:
    month = month.strip() or clock.today().strftime("%Y-%m")
    rows = service.statistics(session, month)
    units = sorted({r.unit for r in rows})
    chart = {
        "categories": units,
        "series": [
            {"name": "激励措施实施", "data": [sum(r.rewards_applied for r in rows if r.unit == u) for u in units]},
            {"name": "惩戒措施实施", "data": [sum(r.punishments_applied for r in rows if r.unit == u) for u in units]},
        ],
    }
    return render(request, "measures/statistics.html", rows=rows, month=month, chart=chart)


@router.get("/checks/manual")
def manual_check_form(request: Request, user: Official) -> Any:
    return render(request, "measures/check.html", scenarios=service.scenarios(), result=None, subject="", scenario="")


@router.post("/checks/manual")
def manual_check(
    request: Request,
    session: DbSession,
    user: Official,
    subject: Annotated[str, Form()],
    scenario: Annotated[str, Form()],
) -> Any:
    service.scenario_or_raise(scenario)
    target = archive.subject_by_key(session, subject)
    result = service.check(session, target, scenario, actor=accounts.actor_for(user))
    return render(
        request,
        "measures/check.html",
        scenarios=service.scenarios(),
        result=result.to_dict(),
        subject=subject,
        scenario=scenario,
    )
