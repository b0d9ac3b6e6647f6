"""The measure catalogue and scenarios as data, and the pure decision "which measures apply now".

`evaluate` takes the facts of one subject on one day — list entries in force and records in their publicity
window — and returns the standing and the measures of the scenario they trigger. No I/O but reading the
packaged YAML once; the service gathers the facts set-based for any number of subjects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from xinyong.lists import rules as list_rules


class RecordCondition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    info_class: str
    severity: str | None = None
    within_publicity: Literal[True] = True  # only records still shown can trigger a measure


class Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    list: str | None = None
    record: RecordCondition | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Trigger:
        if (self.list is None) == (self.record is None):
            raise ValueError("a trigger names either a list or a record condition")
        return self


class Measure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    code: str
    type: Literal["reward", "punishment"]
    measure_class: Literal[1, 2, 3] = Field(alias="class")
    content: str
    trigger: Trigger
    scenarios: tuple[str, ...]
    implementing_units: tuple[str, ...]
    legal_basis: str
    basis_mark: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    confirmed: bool = False

    def valid_on(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_to is None or on <= self.valid_to)


class Standing(BaseModel):
    model_config = ConfigDict(frozen=True)

    on_dishonesty_list: str
    adverse_records: str
    incentive: str
    good: str
    adverse_info_classes: tuple[str, ...]


class MeasureCatalogue(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: date
    standing: Standing
    measures: tuple[Measure, ...]
    scenarios: dict[str, str]

    def by_code(self) -> dict[str, Measure]:
        return {m.code: m for m in self.measures}

    def record_classes(self) -> set[str]:
        """Info classes whose records matter to a check (standing or a trigger)."""
        triggered = {m.trigger.record.info_class for m in self.measures if m.trigger.record}
        return set(self.standing.adverse_info_classes) | triggered


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load(resources.files("xinyong.measures").joinpath(f"data/{name}").read_text("utf-8"))


@cache
def catalogue() -> MeasureCatalogue:
    raw, scen = _load("measures.yaml"), _load("scenarios.yaml")
    cat = MeasureCatalogue(
        version=raw["version"], standing=raw["standing"], measures=raw["measures"], scenarios=scen["scenarios"]
    )
    list_types = list_rules.catalogue().types
    codes: set[str] = set()
    for m in cat.measures:
        if m.code in codes:
            raise ValueError(f"measure {m.code}: duplicate code")
        codes.add(m.code)
        if unknown := set(m.scenarios) - set(cat.scenarios):
            raise ValueError(f"measure {m.code}: unknown scenarios {sorted(unknown)}")
        if m.trigger.list and m.trigger.list not in list_types:
            raise ValueError(f"measure {m.code}: unknown list {m.trigger.list}")
        if m.trigger.list and (list_types[m.trigger.list].kind == "incentive") != (m.type == "reward"):
            raise ValueError(f"measure {m.code}: rewards follow incentive lists, punishments dishonesty lists")
    return cat


@dataclass(frozen=True)
class _Scenario:
    measures: tuple[Measure, ...]  # in catalogue order
    lists: frozenset[str]  # list types that trigger one of them
    records: frozenset[tuple[str, str | None]]  # (info class, severity or None for any) that trigger one


@cache
def _scenario(scenario: str) -> _Scenario:
    """A scenario's measures and what can trigger them: computed once, not for each of a batch's subjects."""
    measures = tuple(m for m in catalogue().measures if scenario in m.scenarios)
    lists = frozenset(m.trigger.list for m in measures if m.trigger.list)
    records = frozenset((m.trigger.record.info_class, m.trigger.record.severity) for m in measures if m.trigger.record)
    return _Scenario(measures, lists, records)


# --- the decision -------------------------------------------------------------------------------------------


class ListFact(NamedTuple):
    entry_id: int
    list_type: str
    kind: str
    decision_no: str | None
    publicity_from: date | None
    term_end: date | None


class RecordFact(NamedTuple):
    record_id: int
    info_class: str
    severity: str | None
    decision_no: str | None
    publicity_end: date | None


class Evaluation(NamedTuple):
    standing_code: str
    standing: str
    measures: list[dict[str, Any]]


def evaluate(scenario: str, on: date, lists: list[ListFact], records: list[RecordFact]) -> Evaluation:
    """Standing and the measures of `scenario` that apply on `on`. `records` are current, active records already
    inside their publicity window on `on`; `lists` are entries in force on `on`."""
    cat = catalogue()
    applied: list[dict[str, Any]] = []
    known = _scenario(scenario)
    if _may_trigger(known, lists, records):  # most subjects have no fact that any measure looks at
        for m in known.measures:
            if not m.valid_on(on):
                continue
            because = _trigger_facts(m.trigger, lists, records)
            if because:
                applied.append(measure_dict(m) | {"because": because})
    if any(f.kind == "dishonesty" for f in lists):
        code = "on_dishonesty_list"
    elif any(r.info_class in cat.standing.adverse_info_classes for r in records):
        code = "adverse_records"
    elif any(f.kind == "incentive" for f in lists):
        code = "incentive"
    else:
        code = "good"
    return Evaluation(code, getattr(cat.standing, code), applied)


def _may_trigger(scenario: _Scenario, lists: list[ListFact], records: list[RecordFact]) -> bool:
    wanted = scenario.records
    return any(f.list_type in scenario.lists for f in lists) or any(
        (r.info_class, None) in wanted or (r.info_class, r.severity) in wanted for r in records
    )


def _trigger_facts(trigger: Trigger, lists: list[ListFact], records: list[RecordFact]) -> list[dict[str, Any]]:
    if trigger.list:
        return [
            {
                "list_type": f.list_type,
                "entry_id": f.entry_id,
                "decision_no": f.decision_no,
                "publicity_from": _iso(f.publicity_from),
                "term_end": _iso(f.term_end),
            }
            for f in lists
            if f.list_type == trigger.list
        ]
    cond = trigger.record
    assert cond is not None
    return [
        {"record_id": r.record_id, "decision_no": r.decision_no, "publicity_end": _iso(r.publicity_end)}
        for r in records
        if r.info_class == cond.info_class and (cond.severity is None or r.severity == cond.severity)
    ]


def measure_dict(m: Measure) -> dict[str, Any]:
    return {
        "code": m.code,
        "type": m.type,
        "class": m.measure_class,
        "content": m.content,
        "legal_basis": m.legal_basis,
        "implementing_units": list(m.implementing_units),
        "confirmed": m.confirmed,
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
