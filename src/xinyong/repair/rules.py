"""Credit repair as data: states, the transition table, and the conditions of each dated rule. No I/O but reading
the packaged YAML once.

    submit → submitted ─unit_approve→ unit_approved ─approve→ repaired
             submitted ─unit_refuse→ refused;  unit_approved ─refuse→ refused
             submitted | unit_approved ─withdraw→ withdrawn   (by the applicant)

`evaluate` judges the conditions of one target from plain facts: each is met, not met or needs review (a
material a person must read). An application with a condition not met is refused at once, citing the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from xinyong.core.workflow import Transitions


class RepairState(StrEnum):
    SUBMITTED = "submitted"
    UNIT_APPROVED = "unit_approved"
    REPAIRED = "repaired"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


STATE_LABELS = {
    RepairState.SUBMITTED: "待认定单位审核",
    RepairState.UNIT_APPROVED: "待信用办复核",
    RepairState.REPAIRED: "已修复",
    RepairState.REFUSED: "不予修复",
    RepairState.WITHDRAWN: "已撤回",
}
OPEN_STATES = (RepairState.SUBMITTED, RepairState.UNIT_APPROVED)


class RepairAction(StrEnum):
    UNIT_APPROVE = "unit_approve"
    UNIT_REFUSE = "unit_refuse"
    APPROVE = "approve"
    REFUSE = "refuse"
    WITHDRAW = "withdraw"


ACTION_LABELS = {
    RepairAction.UNIT_APPROVE: "认定单位审核通过",
    RepairAction.UNIT_REFUSE: "认定单位不予修复",
    RepairAction.APPROVE: "信用办复核通过",
    RepairAction.REFUSE: "信用办不予修复",
    RepairAction.WITHDRAW: "撤回申请",
}

TRANSITIONS: Transitions[RepairState, RepairAction] = Transitions(
    noun="修复申请",
    table={
        RepairAction.UNIT_APPROVE: (frozenset({RepairState.SUBMITTED}), RepairState.UNIT_APPROVED),
        RepairAction.UNIT_REFUSE: (frozenset({RepairState.SUBMITTED}), RepairState.REFUSED),
        RepairAction.APPROVE: (frozenset({RepairState.UNIT_APPROVED}), RepairState.REPAIRED),
        RepairAction.REFUSE: (frozenset({RepairState.UNIT_APPROVED}), RepairState.REFUSED),
        RepairAction.WITHDRAW: (frozenset(OPEN_STATES), RepairState.WITHDRAWN),
    },
    state_labels=STATE_LABELS,
    action_labels=ACTION_LABELS,
)

ConditionCode = Literal[
    "in_publicity",
    "min_period",
    "never_early",
    "list_min_period",
    "obligations_performed",
    "commitment",
    "training",
]
MaterialKind = Literal["proof_of_performance", "commitment_letter", "training_certificate"]
Status = Literal["met", "not_met", "needs_review"]
STATUS_LABELS = {"met": "符合", "not_met": "不符合", "needs_review": "待审核"}
NEEDS_MATERIAL: dict[str, str] = {
    "obligations_performed": "proof_of_performance",
    "commitment": "commitment_letter",
    "training": "training_certificate",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleConditions(_Strict):
    conditions: tuple[ConditionCode, ...] = Field(min_length=1)
    training_for: tuple[Literal["minor", "general", "serious"], ...] = ()
    unit_review_working_days: int = Field(ge=1)
    office_review_working_days: int = Field(ge=1)
    confirmed: bool
    note: str = ""


class RepairRules(_Strict):
    version: str
    conditions: dict[ConditionCode, str]
    materials: dict[MaterialKind, str]
    records: dict[str, RuleConditions]
    lists: RuleConditions


@cache
def catalogue() -> RepairRules:
    text = resources.files("xinyong.repair").joinpath("data", "repair_rules.yaml").read_text(encoding="utf-8")
    return RepairRules.model_validate(yaml.safe_load(text))


@dataclass(frozen=True)
class Condition:
    code: str
    label: str
    status: Status
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "label": self.label,
            "status": self.status,
            "status_label": STATUS_LABELS[self.status],
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Facts:
    """What the conditions are judged on, gathered by the service from the record or list entry."""

    today: date
    shown: bool  # active and inside its window (records) / in publicity (list entries)
    earliest: date | None  # min_end (records) or publicity_from + early-removal months (list entries)
    never_early: bool
    severity: str | None
    materials: frozenset[str]
    signed_commitment: str | None  # e.g. "承诺书 #12（2026-11-28 签署）"


def evaluate(spec: RuleConditions, facts: Facts, rule_name: str) -> list[Condition]:
    """Each condition of `spec` judged on `facts`. `rule_name` is cited in the details."""
    labels = catalogue().conditions
    found: list[Condition] = []
    for code in spec.conditions:
        if code == "training" and spec.training_for and facts.severity not in spec.training_for:
            continue
        found.append(Condition(code, labels[code], *_judge(code, facts, rule_name)))
    return found


def _judge(code: str, f: Facts, rule_name: str) -> tuple[Status, str]:
    if code == "in_publicity":
        return ("met", "信息公示中") if f.shown else ("not_met", "该信息已不在公示期内或已被撤销、修复，无需修复")
    if code in ("min_period", "list_min_period"):
        if f.earliest is None or f.today >= f.earliest:
            since = f"（{f.earliest.isoformat()}起可申请）" if f.earliest else ""
            return "met", f"依据{rule_name}，最短期限已满{since}"
        return "not_met", f"依据{rule_name}，最短公示期至{f.earliest.isoformat()}届满，届满后方可申请信用修复"
    if code == "never_early":
        if f.never_early:
            return (
                "not_met",
                f"依据{rule_name}，该类处罚（责令停产停业、限制开展生产经营活动、限制从业等）不得提前终止公示",
            )
        return "met", "不属于不得提前终止公示的处罚类型"
    if code == "commitment" and f.signed_commitment:
        return "met", f"已在线签署{f.signed_commitment}"
    material = NEEDS_MATERIAL[code]
    label = catalogue().materials[material]  # type: ignore[index]
    if material in f.materials:
        return "needs_review", f"已提交“{label}”，由认定单位审核"
    return "not_met", f"请提交“{label}”"
