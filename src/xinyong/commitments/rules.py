"""Credit commitments as data: states, the transition table and the templates. No I/O but reading the YAML once.

sign → signed ─submit_evidence→ evidence_submitted ─confirm→ fulfilled
       signed | evidence_submitted ─breach→ breached      (a credit record is written)
       evidence_submitted ─return_evidence→ signed        (the unit asks for more)
       signed ─confirm→ fulfilled                          (verified without evidence, e.g. on site)
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from xinyong.core.workflow import Transitions


class CommitmentState(StrEnum):
    SIGNED = "signed"
    EVIDENCE_SUBMITTED = "evidence_submitted"
    FULFILLED = "fulfilled"
    BREACHED = "breached"


STATE_LABELS = {
    CommitmentState.SIGNED: "履约中",
    CommitmentState.EVIDENCE_SUBMITTED: "待核验",
    CommitmentState.FULFILLED: "已履约",
    CommitmentState.BREACHED: "已违诺",
}
OPEN_STATES = (CommitmentState.SIGNED, CommitmentState.EVIDENCE_SUBMITTED)


class CommitmentAction(StrEnum):
    SUBMIT_EVIDENCE = "submit_evidence"
    RETURN_EVIDENCE = "return_evidence"
    CONFIRM = "confirm"
    BREACH = "breach"


ACTION_LABELS = {
    CommitmentAction.SUBMIT_EVIDENCE: "提交履约材料",
    CommitmentAction.RETURN_EVIDENCE: "退回补充材料",
    CommitmentAction.CONFIRM: "核验为已履约",
    CommitmentAction.BREACH: "认定违诺",
}

TRANSITIONS: Transitions[CommitmentState, CommitmentAction] = Transitions(
    noun="信用承诺",
    table={
        CommitmentAction.SUBMIT_EVIDENCE: (frozenset({CommitmentState.SIGNED}), CommitmentState.EVIDENCE_SUBMITTED),
        CommitmentAction.RETURN_EVIDENCE: (frozenset({CommitmentState.EVIDENCE_SUBMITTED}), CommitmentState.SIGNED),
        CommitmentAction.CONFIRM: (frozenset(OPEN_STATES), CommitmentState.FULFILLED),
        CommitmentAction.BREACH: (frozenset(OPEN_STATES), CommitmentState.BREACHED),
    },
    state_labels=STATE_LABELS,
    action_labels=ACTION_LABELS,
)


class Template(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str
    name: str
    legal_basis: str
    confirmed: bool
    context_fields: dict[str, str] = Field(default_factory=dict)
    due_days: int | None = Field(default=None, ge=1)
    verified_by: Literal["department", "credit_office", "none"]
    text: str


class Templates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    templates: dict[str, Template]
    scenarios: dict[str, str]

    def model_post_init(self, _context: object) -> None:
        for code, t in self.templates.items():
            if t.scenario not in self.scenarios:
                raise ValueError(f"承诺模板 {code} 的场景 {t.scenario} 未定义")


@cache
def catalogue() -> Templates:
    text = resources.files("xinyong.commitments").joinpath("data", "templates.yaml").read_text(encoding="utf-8")
    return Templates.model_validate(yaml.safe_load(text))
