"""The list procedure as data: entry states, the transition table, list types and deadlines. No I/O but reading
the packaged YAML once.

Procedure (国办发〔2020〕49号 part 四, DOMAIN §6.5 ✅) for a dishonesty list:

    propose → proposed ─notify→ noticed ─record_statement→ statement_period ─decide→ decided ─publish→
    in_publicity ─remove→ removed            (withdraw: from any state before publicity → withdrawn)

`decide` from `noticed` (no statement) is allowed only once the statement deadline has passed; from
`statement_period` the reply must have been given. Publicity is reachable only through `decided`, so a
dishonesty entry can never be published without notice and decision. Incentive lists enter `in_publicity`
directly (`enter_incentive`).

Term: `term_end = add_months(publicity_from, term_months)` is the day the term ends: the entry is in force
on days `publicity_from <= d < term_end`, and `expire_terms` removes it on `term_end`.
"""

from __future__ import annotations

import calendar
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from xinyong.core.errors import Conflict


class EntryState(StrEnum):
    PROPOSED = "proposed"
    NOTICED = "noticed"
    STATEMENT_PERIOD = "statement_period"
    DECIDED = "decided"
    IN_PUBLICITY = "in_publicity"
    REMOVED = "removed"
    WITHDRAWN = "withdrawn"


STATE_LABELS = {
    EntryState.PROPOSED: "拟列入",
    EntryState.NOTICED: "已告知",
    EntryState.STATEMENT_PERIOD: "陈述申辩处理中",
    EntryState.DECIDED: "已决定",
    EntryState.IN_PUBLICITY: "公示中",
    EntryState.REMOVED: "已移出",
    EntryState.WITHDRAWN: "已撤回",
}


class Action(StrEnum):
    NOTIFY = "notify"
    RECORD_STATEMENT = "record_statement"
    DECIDE = "decide"
    PUBLISH = "publish"
    REMOVE = "remove"
    WITHDRAW = "withdraw"


ACTION_LABELS = {
    Action.NOTIFY: "告知",
    Action.RECORD_STATEMENT: "登记陈述申辩",
    Action.DECIDE: "作出列入决定",
    Action.PUBLISH: "公示",
    Action.REMOVE: "移出",
    Action.WITHDRAW: "撤回",
}

_BEFORE_PUBLICITY = frozenset(
    {EntryState.PROPOSED, EntryState.NOTICED, EntryState.STATEMENT_PERIOD, EntryState.DECIDED}
)

# action → (states it may start from, state it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[EntryState], EntryState]] = {
    Action.NOTIFY: (frozenset({EntryState.PROPOSED}), EntryState.NOTICED),
    Action.RECORD_STATEMENT: (
        frozenset({EntryState.NOTICED, EntryState.STATEMENT_PERIOD}),
        EntryState.STATEMENT_PERIOD,
    ),
    Action.DECIDE: (frozenset({EntryState.NOTICED, EntryState.STATEMENT_PERIOD}), EntryState.DECIDED),
    Action.PUBLISH: (frozenset({EntryState.DECIDED}), EntryState.IN_PUBLICITY),
    Action.REMOVE: (frozenset({EntryState.IN_PUBLICITY}), EntryState.REMOVED),
    Action.WITHDRAW: (_BEFORE_PUBLICITY, EntryState.WITHDRAWN),
}

# Next steps offered on the office page, in order.
NEXT_ACTIONS: dict[EntryState, tuple[Action, ...]] = {
    state: tuple(a for a, (sources, _to) in TRANSITIONS.items() if state in sources) for state in EntryState
}


def transition(state: str, action: Action) -> EntryState:
    """The state `action` leads to from `state`, or Conflict (409) naming the current state."""
    sources, target = TRANSITIONS[action]
    current = EntryState(state)
    if current not in sources:
        allowed = "、".join(STATE_LABELS[s] for s in EntryState if s in sources)
        raise Conflict(
            f"名单条目当前状态为“{STATE_LABELS[current]}”，不能{ACTION_LABELS[action]}（仅在“{allowed}”状态下可以）",
            code="invalid_transition",
            details={"state": current.value, "action": action.value},
        )
    return target


def add_months(start: date, months: int) -> date:
    """The same day `months` later, clamped to the month's last day (2024-02-29 + 12 → 2025-02-28)."""
    y, m = divmod(start.month - 1 + months, 12)
    year, month = start.year + y, m + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def term_end(publicity_from: date, term_months: int | None) -> date | None:
    return add_months(publicity_from, term_months) if term_months else None


def in_force(publicity_from: date | None, end: date | None, on: date) -> bool:
    return publicity_from is not None and publicity_from <= on and (end is None or on < end)


# --- list types (data/list_types.yaml) -------------------------------------------------------------------


class ListType(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    code: str
    kind: Literal["dishonesty", "incentive"]
    name: str
    legal_basis: str
    authority: str
    department: str
    term_months: int | None
    early_removal_after_months: int | None = None
    removal_conditions: str
    procedure_required: bool
    imported: bool = False

    @property
    def is_dishonesty(self) -> bool:
        return self.kind == "dishonesty"


class Procedure(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    statement_period_working_days: int
    removal_reasons: dict[str, str]


class ListCatalogue(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: date
    procedure: Procedure
    types: dict[str, ListType]

    def get(self, code: str) -> ListType | None:
        return self.types.get(code)


@cache
def catalogue() -> ListCatalogue:
    raw = yaml.safe_load(resources.files("xinyong.lists").joinpath("data/list_types.yaml").read_text("utf-8"))
    types = {code: ListType(code=code, **spec) for code, spec in raw["list_types"].items()}
    for t in types.values():
        if t.is_dishonesty and not t.procedure_required:
            raise ValueError(f"{t.code}: a dishonesty list always requires the procedure (国办发〔2020〕49号)")
    return ListCatalogue(version=raw["version"], procedure=Procedure(**raw["procedure"]), types=types)
