"""Objections as data: states, the transition table and the verification deadline.

    submit → submitted ─correct→ corrected            (a new version of the record with the corrections)
                       ─withdraw_record→ record_withdrawn  (a new version in state withdrawn)
                       ─uphold→ upheld                (the record stands as it is)
                       ─cancel→ cancelled             (the applicant drops the objection)

While `submitted`, the record shows 异议处理中 on every public view.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict, Field

from xinyong.core.workflow import Transitions


class ObjectionState(StrEnum):
    SUBMITTED = "submitted"
    CORRECTED = "corrected"
    RECORD_WITHDRAWN = "record_withdrawn"
    UPHELD = "upheld"
    CANCELLED = "cancelled"


STATE_LABELS = {
    ObjectionState.SUBMITTED: "异议处理中",
    ObjectionState.CORRECTED: "已更正",
    ObjectionState.RECORD_WITHDRAWN: "已撤销该信息",
    ObjectionState.UPHELD: "维持原信息",
    ObjectionState.CANCELLED: "申请人已撤回",
}


class ObjectionAction(StrEnum):
    CORRECT = "correct"
    WITHDRAW_RECORD = "withdraw_record"
    UPHOLD = "uphold"
    CANCEL = "cancel"


ACTION_LABELS = {
    ObjectionAction.CORRECT: "更正信息",
    ObjectionAction.WITHDRAW_RECORD: "撤销信息",
    ObjectionAction.UPHOLD: "维持原信息",
    ObjectionAction.CANCEL: "撤回异议",
}

_OPEN = frozenset({ObjectionState.SUBMITTED})
TRANSITIONS: Transitions[ObjectionState, ObjectionAction] = Transitions(
    noun="异议申请",
    table={
        ObjectionAction.CORRECT: (_OPEN, ObjectionState.CORRECTED),
        ObjectionAction.WITHDRAW_RECORD: (_OPEN, ObjectionState.RECORD_WITHDRAWN),
        ObjectionAction.UPHOLD: (_OPEN, ObjectionState.UPHELD),
        ObjectionAction.CANCEL: (_OPEN, ObjectionState.CANCELLED),
    },
    state_labels=STATE_LABELS,
    action_labels=ACTION_LABELS,
)


class ObjectionRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    legal_basis: str
    verify_working_days: int = Field(ge=1)
    confirmed: bool
    locked_fields: tuple[str, ...]


@cache
def catalogue() -> ObjectionRules:
    path = resources.files("xinyong.objections").joinpath("data", "objection_rules.yaml")
    return ObjectionRules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
