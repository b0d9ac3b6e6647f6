"""The demo city's credit subjects (信用主体): who exists, where, and who registered them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from xinyong.demo.names import NameMaker
from xinyong.demo.words import District, Words

#: Share of each kind among the generated subjects (the brief of the demo city).
KIND_SHARES: dict[str, float] = {
    "company": 0.72,
    "individual": 0.15,
    "person": 0.05,
    "social": 0.04,
    "collective": 0.02,
    "coop": 0.02,
}
#: Individual businesses whose 双公示 rows carry only a name and the placeholder code (not registered here).
UNREGISTERED_SHARE = 0.02
#: Individual businesses without a USCC: 双公示 rows carry the placeholder code.
PLACEHOLDER_SHARE = 0.10
PLACEHOLDER_CODE = "00000000000000000X"
#: Share of the companies registered before the 2014 reform whose 双公示 rows also carry the 15-digit
#: 工商注册号 (about 5 % of all companies).
LEGACY_REG_NO_SHARE = 0.15
LEGACY_REG_NO_BEFORE = date(2014, 3, 1)

_CAPITAL = {
    "company": ([10, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000], [10, 10, 15, 20, 12, 8, 10, 7, 4, 3, 1]),
    "individual": ([0.5, 1, 2, 3, 5, 10, 20, 50], [10, 15, 15, 12, 15, 15, 10, 8]),
    "social": ([3, 5, 10, 20, 30, 50], [20, 20, 25, 15, 10, 10]),
    "coop": ([10, 50, 100, 200, 500], [20, 30, 25, 15, 10]),
}


@dataclass
class Subject:
    sid: int
    kind: str  # company | individual | person | social | collective | coop
    subkind: str  # social_group | private_nonenterprise | village | township | ""
    name: str
    district: District
    street: str
    address: str
    letter: str  # GB/T 4754 section
    scope: str  # 经营范围 key of names.yaml
    established: date
    uscc: str = ""
    placeholder: bool = False
    registrar: str = ""  # department code of the registration file; "" = in no registration file
    registrar_name: str = ""  # 登记机关
    reg_type: str = ""  # 主体类型
    rep: str = ""
    rep_id: str = ""
    capital: Decimal | None = None
    legacy_reg_no: str = ""
    person_id: str = ""

    @property
    def subject_class(self) -> str:
        """行政相对人类别 (DOMAIN.md §4.5)."""
        return {"person": "自然人", "individual": "个体工商户"}.get(self.kind, "法人及非法人组织")

    @property
    def in_jbxq(self) -> bool:
        return self.district.in_jbxq(self.street)


def kind_counts(total: int) -> dict[str, int]:
    """Largest-remainder split of ``total`` over :data:`KIND_SHARES`."""
    raw = {k: total * share for k, share in KIND_SHARES.items()}
    counts = {k: int(v) for k, v in raw.items()}
    by_remainder = sorted(raw, key=lambda k: (-(raw[k] - counts[k]), k))
    for k in by_remainder[: total - sum(counts.values())]:
        counts[k] += 1
    return counts


class SubjectFactory:
    def __init__(self, rng: random.Random, words: Words, as_of: date) -> None:
        self.rng = rng
        self.words = words
        self.as_of = as_of
        self.names = NameMaker(rng, words)
        self.rural = [d for d in words.districts if d.rural]
        self.townships: set[tuple[str, str]] = set()

    def established(self, earliest: date) -> date:
        """Younger subjects are more frequent (older ones have left the stock): the age density falls
        linearly from ``as_of`` to ``earliest``."""
        span = (self.as_of - earliest).days
        return date.fromordinal(self.as_of.toordinal() - int(span * (1 - self.rng.random() ** 0.5)))

    def capital(self, kind: str) -> Decimal | None:
        if kind not in _CAPITAL:
            return None
        values, weights = _CAPITAL[kind]
        return Decimal(str(self.rng.choices(values, weights=weights)[0]))

    def representative(self, subject: Subject) -> None:
        subject.rep, male = self.names.person()
        birth = self.names.birth_date(self.as_of, 25, 70)
        subject.rep_id = self.names.resident_id(subject.district, birth, male)

    def register(self, s: Subject, registrar: str, auth: str, typ: str, region: str, name: str = "") -> None:
        s.registrar = registrar
        s.registrar_name = name or self.words.departments[registrar].name
        s.uscc = self.names.uscc(auth, typ, region, s.established)

    def market_registrar(self, s: Subject, city_share: float) -> tuple[str, str]:
        """(department, USCC region) of a market-supervision registration. 江北新区 has no GB/T 2260
        code (DOMAIN.md §3), so its registrations carry the district's code."""
        if s.in_jbxq and self.rng.random() < 0.5:
            return "jbxq_xzspj", s.district.code
        if self.rng.random() < city_share:
            return "scjgj", "320100"
        return s.district.scjgj, s.district.code

    def base(self, sid: int, kind: str, district: District, earliest: date) -> Subject:
        street, address = self.names.address(district)
        return Subject(sid, kind, "", "", district, street, address, "", "", self.established(earliest))

    def company(self, sid: int) -> Subject:
        s = self.base(sid, "company", self.rng.choice(self.words.districts), date(1995, 1, 1))
        s.name, industry, form = self.names.company(s.district)
        s.letter, s.scope, s.reg_type = industry["letter"], industry["scope"], form["type"]
        s.capital = self.capital("company")
        if form["form"] == "股份有限公司":
            s.capital = max(s.capital or Decimal(0), Decimal(500))
        self.representative(s)
        registrar, region = self.market_registrar(s, city_share=0.2)
        self.register(s, registrar, "9", "1", region)
        if s.established < LEGACY_REG_NO_BEFORE and self.rng.random() < LEGACY_REG_NO_SHARE:
            s.legacy_reg_no = self.names.legacy_reg_no(region)
        return s

    def individual(self, sid: int) -> Subject:
        s = self.base(sid, "individual", self.rng.choice(self.words.districts), date(1995, 1, 1))
        s.name, shop = self.names.shop(s.district)
        s.letter, s.scope, s.reg_type = shop["letter"], shop["scope"], "个体工商户"
        s.capital = self.capital("individual")
        self.representative(s)
        if self.rng.random() < PLACEHOLDER_SHARE:
            s.placeholder = True
            return s
        registrar, region = self.market_registrar(s, city_share=0.0)
        self.register(s, registrar, "9", "2", region)
        return s

    def person(self, sid: int) -> Subject:
        district = self.rng.choice(self.words.districts)
        s = self.base(sid, "person", district, date(1995, 1, 1))
        s.name, male = self.names.person()
        birth = self.names.birth_date(self.as_of, 20, 65)
        s.established = birth
        s.person_id = self.names.resident_id(district, birth, male)
        s.letter, s.scope = "", ""
        return s

    def social(self, sid: int) -> Subject:
        s = self.base(sid, "social", self.rng.choice(self.words.districts), date(1995, 1, 1))
        if self.rng.random() < 0.45:
            s.subkind, s.name, s.letter, s.reg_type = (
                "social_group",
                self.names.association(s.district),
                "S",
                "社会团体",
            )
            typ = "1"
        else:
            s.name, form = self.names.nonprofit(s.district)
            s.subkind, s.letter, s.reg_type, typ = "private_nonenterprise", form["letter"], "民办非企业单位", "2"
        s.scope = "social"
        s.capital = self.capital("social")
        self.representative(s)
        self.register(s, "mzj", "5", typ, "320100")
        return s

    def collective(self, sid: int) -> Subject:
        """N2 村级 / N3 乡镇级集体经济组织 (letter authority code N, DOMAIN.md §1.6). No department of
        departments.yaml registers them, so they are listed in the district market-supervision file
        with the district's 农业农村局 as 登记机关."""
        district = self.rng.choice(self.rural)
        s = self.base(sid, "collective", district, date(2018, 1, 1))
        key = (district.code, s.street)
        if self.rng.random() < 0.2 and key not in self.townships:
            self.townships.add(key)
            s.subkind, s.reg_type, typ = "township", "乡镇级集体经济组织", "3"
            s.name = self.names.unique(lambda: f"南京市{district.name}{s.street}股份经济合作联合社")
        else:
            s.subkind, s.reg_type, typ = "village", "村级集体经济组织", "2"
            s.name = self.names.village(district, s.street)
        s.letter, s.scope = "A", "collective"
        self.representative(s)
        self.register(s, district.scjgj, "N", typ, district.code, f"南京市{district.name}农业农村局")
        return s

    def coop(self, sid: int) -> Subject:
        s = self.base(sid, "coop", self.rng.choice(self.rural), date(2007, 7, 1))
        s.name, _ = self.names.cooperative(s.district)
        s.letter, s.scope, s.reg_type = "A", "A", "农民专业合作社"
        s.capital = self.capital("coop")
        self.representative(s)
        registrar, region = self.market_registrar(s, city_share=0.0)
        self.register(s, registrar, "9", "3", region)
        return s


def make_subjects(total: int, rng: random.Random, words: Words, as_of: date) -> list[Subject]:
    """``total`` subjects in the shares of :data:`KIND_SHARES`; about :data:`UNREGISTERED_SHARE` of
    them (companies and individual businesses) are left out of every registration file."""
    factory = SubjectFactory(rng, words, as_of)
    makers = {
        "company": factory.company,
        "individual": factory.individual,
        "person": factory.person,
        "social": factory.social,
        "collective": factory.collective,
        "coop": factory.coop,
    }
    subjects: list[Subject] = []
    for kind, count in kind_counts(total).items():
        for _ in range(count):
            subjects.append(makers[kind](len(subjects)))
    # Only individual businesses can lack a code: a legal person's 双公示 row must carry its USCC (DOMAIN §4.3).
    candidates = [s for s in subjects if s.kind == "individual" and s.registrar]
    for s in rng.sample(candidates, min(len(candidates), round(total * UNREGISTERED_SHARE))):
        s.registrar = s.registrar_name = s.uscc = s.legacy_reg_no = ""
    return subjects
