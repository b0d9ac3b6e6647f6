"""Names, addresses and identifiers for the demo city, all drawn from one ``random.Random``.

Faker's zh_CN provider is not used: its addresses mix provinces and cities and about 60 % of its ID
numbers fail ``stdnum.cn.ric`` (STACK.md §6). Identifiers are built with
:mod:`xinyong.archive.identifiers`, so each one passes the platform's own validators.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import date
from typing import Any

from stdnum.iso7064 import mod_11_10

from xinyong.archive.identifiers import USCC_ALPHABET, make_resident_id, make_uscc
from xinyong.demo.words import District, Words

#: 主体标识码 prefixes (positions 9-10) of codes issued after the 2015 reform: demo convention only.
_NEW_BODY_PREFIX = {"9": "MA", "5": "MJ", "N": "MF"}
#: The first USCCs were issued from 2015-10-01 (GB 32100-2015 in force); older subjects were given
#: codes built on their GB 11714 organisation code (8 digits here).
USCC_START = date(2015, 10, 1)


class NameMaker:
    """Draws unique names and identifiers; remembers what it handed out."""

    def __init__(self, rng: random.Random, words: Words) -> None:
        self.rng = rng
        self.words = words
        self.names: set[str] = set()
        self.codes: set[str] = set()
        surnames: dict[str, int] = words.names["surnames"]
        self._surnames = list(surnames)
        self._cum = list(itertools.accumulate(surnames.values()))

    # --- people -----------------------------------------------------------------------------------

    def surname(self) -> str:
        return self.rng.choices(self._surnames, cum_weights=self._cum)[0]

    def person(self) -> tuple[str, bool]:
        """A person's name and whether he is male."""
        male = self.rng.random() < 0.55
        chars = self.words.names["given_male" if male else "given_female"]
        given = "".join(self.rng.choice(chars) for _ in range(1 if self.rng.random() < 0.35 else 2))
        return self.surname() + given, male

    def resident_id(self, district: District, birth: date, male: bool) -> str:
        """A valid resident ID whose address code existed in the birth year (stdnum 2.2 rule); mostly
        the district's own code, the first of ``id_areas`` that fits."""
        areas = [a for a, start, end in district.id_areas if _within(birth.year, start, end)] or ["320100"]
        area = areas[0] if self.rng.random() < 0.8 else self.rng.choice(areas)
        while True:
            seq = self.rng.randrange(0, 999)
            if seq % 2 != int(male):
                seq += 1
            number = make_resident_id(area, birth, seq)
            if number not in self.codes:
                self.codes.add(number)
                return number

    def birth_date(self, as_of: date, youngest: int = 20, oldest: int = 65) -> date:
        start = date(as_of.year - oldest, 1, 1).toordinal()
        end = date(as_of.year - youngest, 12, 31).toordinal()
        return date.fromordinal(self.rng.randint(start, end))

    # --- places -----------------------------------------------------------------------------------

    def address(self, district: District, street: str | None = None) -> tuple[str, str]:
        """(street, address): 南京市 + district + 街道 + road + number."""
        street = street or self.rng.choice(district.streets)
        road = self.rng.choice(district.roads)
        number = f"{self.rng.randint(1, 399)}号"
        if self.rng.random() < 0.35:
            number += f"{self.rng.randint(1, 30)}幢{self.rng.randint(1, 25)}{self.rng.randint(1, 20):02d}室"
        return street, f"南京市{district.name}{street}{road}{number}"

    # --- names of organisations -------------------------------------------------------------------

    def unique(self, build: Callable[[], str], fallback: Callable[[], str] | None = None) -> str:
        """A name not handed out before; ``fallback`` (with a bigger name space) after 30 tries."""
        for attempt in itertools.count():
            name = build() if attempt < 30 or fallback is None else fallback()
            if name not in self.names:
                self.names.add(name)
                return name
        raise AssertionError("unreachable")

    def trade_name(self) -> str:
        if self.rng.random() < 0.15:
            return self.rng.choice(self.words.names["trade_words"])
        first = self.rng.choice(self.words.names["trade_first"])
        second = self.rng.choice(self.words.names["trade_second"])
        return first + second if first != second else first + "达"

    def company(self, district: District) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """南京 + 字号 + 行业词 + 组织形式 (sometimes with the district between 南京 and 字号)."""
        industry = self.rng.choice(self.words.names["industries"])
        forms = self.words.names["company_forms"]
        form = self.rng.choices(forms, weights=[f["weight"] for f in forms])[0]

        def build() -> str:
            place = "南京" + (district.short if self.rng.random() < 0.2 else "")
            return f"{place}{self.trade_name()}{industry['word']}{form['form']}"

        return (
            self.unique(build, lambda: f"南京{self.trade_name()}{self.trade_name()}{industry['word']}{form['form']}"),
            industry,
            form,
        )

    def shop(self, district: District) -> tuple[str, dict[str, Any]]:
        """个体工商户: 玄武区张记面馆 / 玄武区恒达便利店 / 玄武区中山路老王五金店."""
        shop = self.rng.choice(self.words.names["shop_forms"])

        def build() -> str:
            roll = self.rng.random()
            if roll < 0.45:
                return f"{district.name}{self.surname()}记{shop['form']}"
            if roll < 0.8:
                return f"{district.name}{self.trade_name()}{shop['form']}"
            return f"{district.name}{self.rng.choice(district.roads)}老{self.surname()}{shop['form']}"

        def fallback() -> str:
            return f"{district.name}{self.rng.choice(district.roads)}{self.trade_name()}{shop['form']}"

        return self.unique(build, fallback), shop

    def association(self, district: District) -> str:
        """社会团体: 南京市软件行业协会 / 南京市玄武区围棋协会 / 南京市温州商会."""
        names = self.words.names

        def build() -> str:
            roll = self.rng.random()
            if roll < 0.15:
                return f"南京市{self.rng.choice(names['chambers'])}商会"
            topic, form = self.rng.choice(names["association_topics"]), self.rng.choice(names["association_forms"])
            where = "南京市" if roll < 0.45 else f"南京市{district.name}"
            return f"{where}{topic}{form}"

        def fallback() -> str:
            return f"南京市{district.name}{self.trade_name()}{self.rng.choice(names['association_topics'])}协会"

        return self.unique(build, fallback)

    def nonprofit(self, district: District) -> tuple[str, dict[str, Any]]:
        """民办非企业单位: 南京市玄武区恒达养老服务中心."""
        form = self.rng.choice(self.words.names["nonprofit_forms"])
        return self.unique(lambda: f"南京市{district.name}{self.trade_name()}{form['form']}"), form

    def village(self, district: District, street: str) -> str:
        """村级集体经济组织 (N2): 南京市江宁区秣陵街道东塘村股份经济合作社."""
        names = self.words.names

        def build() -> str:
            village = self.rng.choice(names["village_first"]) + self.rng.choice(names["village_second"])
            unit = "村" if self.rng.random() < 0.7 else "社区"
            return f"南京市{district.name}{street}{village}{unit}股份经济合作社"

        return self.unique(build)

    def cooperative(self, district: District) -> tuple[str, str]:
        """农民专业合作社 (9/3): 南京市高淳区恒达螃蟹养殖专业合作社."""
        product = self.rng.choice(self.words.names["coop_products"])
        return self.unique(lambda: f"南京市{district.name}{self.trade_name()}{product}专业合作社"), product

    # --- codes ------------------------------------------------------------------------------------

    def uscc(self, authority: str, org_type: str, region: str, established: date) -> str:
        """A unique, fully valid USCC (positions 17 and 18 computed by ``make_uscc``)."""
        while True:
            if established < USCC_START and authority == "9":
                body = f"{self.rng.choice('1234567')}{self.rng.randrange(10**7):07d}"
            else:
                tail = "".join(self.rng.choice(USCC_ALPHABET) for _ in range(6))
                body = _NEW_BODY_PREFIX.get(authority, "MA") + tail
            code = make_uscc(authority, org_type, region, body)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def legacy_reg_no(self, region: str) -> str:
        """15-digit 工商注册号: region + 8 digits + ISO 7064 MOD 11,10 check digit."""
        while True:
            first14 = f"{region}000{self.rng.randrange(10**5):05d}"
            number = first14 + mod_11_10.calc_check_digit(first14)
            if number not in self.codes:
                self.codes.add(number)
                return number


def _within(year: int, start: int | None, end: int | None) -> bool:
    return (start is None or year >= start) and (end is None or year <= end)
