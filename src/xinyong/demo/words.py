"""Word lists and rule data of the demo city (``demo/data/*.yaml``), loaded once and typed."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml


def _load(package: str, name: str) -> Any:
    return yaml.safe_load(resources.files(package).joinpath(f"data/{name}").read_text("utf-8"))


@dataclass(frozen=True)
class District:
    code: str
    name: str
    short: str
    abbr: str
    scjgj: str
    rural: bool
    jbxq: bool
    jbxq_streets: tuple[str, ...]
    streets: tuple[str, ...]
    roads: tuple[str, ...]
    id_areas: tuple[tuple[str, int | None, int | None], ...]

    def in_jbxq(self, street: str) -> bool:
        """江北新区 covers all of 浦口区 and 六合区 plus 栖霞区八卦洲街道 (DOMAIN.md §3)."""
        return self.jbxq or street in self.jbxq_streets


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    region_code: str
    uscc: str
    submits: tuple[str, ...]


@dataclass(frozen=True)
class Applicability:
    """Which subjects a licence type or penalty scenario applies to."""

    kinds: tuple[str, ...]
    subkinds: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    letters: tuple[str, ...] = ()

    def matches(self, kind: str, subkind: str, scope: str, letter: str) -> bool:
        if kind not in self.kinds or (self.subkinds and subkind not in self.subkinds):
            return False
        if self.scopes and scope not in self.scopes:
            return False
        return not (self.letters and letter not in self.letters)

    @classmethod
    def from_yaml(cls, item: dict[str, Any]) -> Applicability:
        return cls(
            tuple(item["kinds"]),
            tuple(item.get("subkinds", ())),
            tuple(item.get("scopes", ())),
            tuple(item.get("letters", ())),
        )


@dataclass(frozen=True)
class LicenceType:
    index: int
    dept: str
    jbxq: bool
    name: str
    certificate: str
    document: str
    category: str
    number: str
    content: str
    years: int | None
    days: int | None
    weight: int
    applies: Applicability


@dataclass(frozen=True)
class Scenario:
    index: int
    dept: str
    name: str
    fact: str
    basis: str
    categories: tuple[str, ...]
    fine: tuple[float, float] | None
    confiscated: tuple[float, float] | None
    revoked: str
    restriction: str
    weight: int
    applies: Applicability


@dataclass(frozen=True)
class Words:
    districts: tuple[District, ...]
    departments: dict[str, Department]
    names: dict[str, Any]
    licences: tuple[LicenceType, ...]
    scenarios: tuple[Scenario, ...]
    categories: dict[str, dict[str, str]]
    unknown_categories: tuple[str, ...]
    penalty_prefixes: dict[str, str]
    licence_prefixes: dict[str, str]
    headers: dict[str, Any]
    district_by_code: dict[str, District] = field(default_factory=dict)


def _district(item: dict[str, Any]) -> District:
    return District(
        code=item["code"],
        name=item["name"],
        short=item["short"],
        abbr=item["abbr"],
        scjgj=item["scjgj"],
        rural=bool(item["rural"]),
        jbxq=bool(item.get("jbxq", False)),
        jbxq_streets=tuple(item.get("jbxq_streets", ())),
        streets=tuple(item["streets"]),
        roads=tuple(item["roads"]),
        id_areas=tuple((str(a), b, c) for a, b, c in item["id_areas"]),
    )


def _licence(index: int, item: dict[str, Any]) -> LicenceType:
    return LicenceType(
        index=index,
        dept=item["dept"],
        jbxq=bool(item.get("jbxq", False)),
        name=item["name"],
        certificate=item.get("certificate", ""),
        document=item["document"],
        category=item["category"],
        number=item.get("number", ""),
        content=item["content"],
        years=item.get("years"),
        days=item.get("days"),
        weight=int(item["weight"]),
        applies=Applicability.from_yaml(item),
    )


def _range(value: Any) -> tuple[float, float] | None:
    return (float(value[0]), float(value[1])) if value else None


def _scenario(index: int, item: dict[str, Any]) -> Scenario:
    return Scenario(
        index=index,
        dept=item["dept"],
        name=item["name"],
        fact=item["fact"],
        basis=item["basis"],
        categories=tuple(item["categories"]),
        fine=_range(item.get("fine")),
        confiscated=_range(item.get("confiscated")),
        revoked=item.get("revoked", ""),
        restriction=item.get("restriction", ""),
        weight=int(item["weight"]),
        applies=Applicability.from_yaml(item),
    )


def _department(item: dict[str, Any]) -> Department:
    return Department(
        code=item["code"],
        name=item["name"],
        region_code=str(item["region_code"]),
        uscc=item["uscc"],
        submits=tuple(item.get("submits") or ()),
    )


@functools.cache
def load_words() -> Words:
    """All demo data, parsed once per process."""
    geo = _load("xinyong.demo", "geography.yaml")
    lic = _load("xinyong.demo", "licences.yaml")
    pen = _load("xinyong.demo", "penalties.yaml")
    depts = _load("xinyong.accounts", "departments.yaml")["departments"]
    districts = tuple(_district(d) for d in geo["districts"])
    return Words(
        districts=districts,
        departments={d["code"]: _department(d) for d in depts},
        names=_load("xinyong.demo", "names.yaml"),
        licences=tuple(_licence(i, item) for i, item in enumerate(lic["licences"])),
        scenarios=tuple(_scenario(i, item) for i, item in enumerate(pen["scenarios"])),
        categories=pen["categories"],
        unknown_categories=tuple(pen["unknown_categories"]),
        penalty_prefixes=pen["document_prefixes"],
        licence_prefixes=lic["document_prefixes"],
        headers=_load("xinyong.demo", "headers.yaml"),
        district_by_code={d.code: d for d in districts},
    )
