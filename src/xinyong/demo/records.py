"""双公示 records of the demo city: licence and penalty events, their rows in the 2.0 field codes
(DOMAIN.md §4.3/§4.4), and the changes departments make to them later (corrections, withdrawals)."""

from __future__ import annotations

import calendar
import itertools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from xinyong.demo.subjects import PLACEHOLDER_CODE, Subject
from xinyong.demo.words import LicenceType, Scenario, Words

LICENSE = "admin_license"
PENALTY = "admin_penalty"
WINDOW_MONTHS = 12
LICENCES_PER_SUBJECT = 1.5
PENALTIES_PER_SUBJECT = 0.4
REPEAT_OFFENDER_SHARE = 0.25
#: 有效期 written as "long-term" by most departments.
LONG_TERM = date(2099, 12, 31)


@dataclass(frozen=True)
class BadDate:
    """A calendar date that does not exist (2026-02-30), written as text in every layout."""

    year: int
    month: int
    day: int


@dataclass
class Event:
    cls: str
    subject: Subject
    dept: str
    decided: date
    licence: LicenceType | None = None
    scenario: Scenario | None = None
    wsh: str = ""
    number: str = ""


@dataclass
class Row:
    """One record as the department means it; ``values`` are keyed by 2.0 field code. ``kinds`` marks
    rows the manifest counts (at most one of them rejects the row, see ``generator.REJECT_KINDS``)."""

    cls: str
    dept: str
    subject: Subject
    decided: date
    title: str
    values: dict[str, Any]
    kinds: list[str] = field(default_factory=list)
    fresh: bool = True

    def copy(self, kinds: list[str]) -> Row:
        return Row(self.cls, self.dept, self.subject, self.decided, self.title, dict(self.values), kinds, False)


# --- dates ----------------------------------------------------------------------------------------


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    return date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def window_start(as_of: date) -> date:
    """First day of the 12-month window ending with ``as_of``'s month."""
    return add_months(as_of.replace(day=1), 1 - WINDOW_MONTHS)


def month_index(d: date, start: date) -> int:
    return (d.year - start.year) * 12 + d.month - start.month


def add_weekdays(d: date, days: int) -> date:
    """Working days approximated by weekdays (holidays ignored)."""
    while days > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days -= 1
    return d


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# --- amounts --------------------------------------------------------------------------------------


def wan(yuan: int) -> Decimal:
    """Yuan → 万元 (the unit of 罚款金额), without trailing zeros."""
    return (Decimal(yuan) / 10000).normalize()


def yuan_text(amount: Decimal) -> str:
    yuan = int(amount * 10000)
    return f"{format(amount, 'f')}万元" if yuan >= 10000 else f"{yuan}元"


def messy_code(rng: random.Random, code: str) -> str:
    """Codes as people type them: sometimes full-width, lower case or with spaces (all valid
    after ``identifiers.normalize_code``)."""
    roll = rng.random()
    if roll < 0.04:
        return "".join(chr(ord(ch) + 0xFEE0) for ch in code)
    if roll < 0.07:
        return code.lower()
    if roll < 0.10:
        return f" {code[:8]} {code[8:]}" if rng.random() < 0.5 else code + " "
    return code


# --- events ---------------------------------------------------------------------------------------


class RecordMaker:
    def __init__(self, rng: random.Random, words: Words, as_of: date, wording: dict[str, str]) -> None:
        self.rng = rng
        self.words = words
        self.as_of = as_of
        self.start = window_start(as_of)
        self.wording = wording
        self.district_abbr = {d.scjgj: d.abbr for d in words.districts}

    def _eligible(self, subjects: list[Subject], items: tuple[Any, ...]) -> dict[int, list[Subject]]:
        groups: dict[tuple[str, str, str, str, bool], list[Subject]] = defaultdict(list)
        for s in subjects:
            groups[(s.kind, s.subkind, s.scope, s.letter, bool(s.uscc))].append(s)
        eligible: dict[int, list[Subject]] = {}
        for item in items:
            needs_code = "{uscc}" in getattr(item, "number", "")
            found = [
                s
                for key, members in groups.items()
                if item.applies.matches(*key[:4]) and (key[4] or not needs_code)
                for s in members
            ]
            if found:
                eligible[item.index] = found
        return eligible

    def _date(self, s: Subject) -> date:
        lo = max(self.start, s.established).toordinal()
        return date.fromordinal(self.rng.randint(lo, self.as_of.toordinal()))

    def events(self, subjects: list[Subject]) -> list[Event]:
        total = len(subjects)
        events = self._licence_events(subjects, round(total * LICENCES_PER_SUBJECT))
        events += self._penalty_events(subjects, round(total * PENALTIES_PER_SUBJECT))
        self._number(events)
        return events

    def _licence_events(self, subjects: list[Subject], count: int) -> list[Event]:
        eligible = self._eligible(subjects, self.words.licences)
        types = [t for t in self.words.licences if t.index in eligible]
        if not types:
            return []
        cum = list(itertools.accumulate(t.weight for t in types))
        events = []
        for _ in range(count):
            t = self.rng.choices(types, cum_weights=cum)[0]
            s = self.rng.choice(eligible[t.index])
            events.append(Event(LICENSE, s, self._licence_dept(t, s), self._date(s), licence=t))
        return events

    def _penalty_events(self, subjects: list[Subject], count: int) -> list[Event]:
        eligible = self._eligible(subjects, self.words.scenarios)
        ids = {i: {s.sid for s in members} for i, members in eligible.items()}
        scenarios = [sc for sc in self.words.scenarios if sc.index in eligible]
        if not scenarios:
            return []
        cum = list(itertools.accumulate(sc.weight for sc in scenarios))
        events: list[Event] = []
        penalised: list[Subject] = []
        for _ in range(count):
            sc = self.rng.choices(scenarios, cum_weights=cum)[0]
            s = self.rng.choice(eligible[sc.index])
            if penalised and self.rng.random() < REPEAT_OFFENDER_SHARE:
                again = self.rng.choice(penalised)
                s = again if again.sid in ids[sc.index] else s
            penalised.append(s)
            events.append(Event(PENALTY, s, self._penalty_dept(sc, s), self._date(s), scenario=sc))
        return events

    def _market(self, s: Subject, city_share: float) -> str:
        return "scjgj" if self.rng.random() < city_share else s.district.scjgj

    def _licence_dept(self, t: LicenceType, s: Subject) -> str:
        """江北新区行政审批局 grants many licences for subjects inside the zone."""
        if t.jbxq and s.in_jbxq and self.rng.random() < 0.45:
            return "jbxq_xzspj"
        return self._market(s, 0.25) if t.dept == "market" else t.dept

    def _penalty_dept(self, sc: Scenario, s: Subject) -> str:
        if sc.dept == "market":
            return self._market(s, 0.2)
        if sc.dept == "safety":
            return "jbxq_yjglj" if s.in_jbxq and self.rng.random() < 0.5 else "yjglj"
        return sc.dept

    def _prefix(self, cls: str, dept: str) -> str:
        if dept in self.district_abbr:
            return self.district_abbr[dept] + ("市监许" if cls == LICENSE else "市监罚")
        return (self.words.licence_prefixes if cls == LICENSE else self.words.penalty_prefixes)[dept]

    def _number(self, events: list[Event]) -> None:
        """文书号 unique per department: per (department, class, year) a running number with gaps
        (decisions that are not published); licence numbers run per department."""
        counters: dict[tuple[str, str, int], int] = {}
        seqs: dict[str, int] = {}
        for ev in sorted(events, key=lambda e: (e.dept, e.cls, e.decided, e.subject.sid)):
            key = (ev.dept, ev.cls, ev.decided.year)
            counters[key] = counters.get(key, self.rng.randint(0, 40)) + self.rng.randint(1, 3)
            ev.wsh = f"{self._prefix(ev.cls, ev.dept)}〔{ev.decided.year}〕{counters[key]}号"
            if ev.licence and ev.licence.number:
                seqs[ev.dept] = seqs.get(ev.dept, self.rng.randint(100, 2000)) + self.rng.randint(1, 4)
                ev.number = self._licence_number(ev, seqs[ev.dept])
                if "{seq" in ev.licence.number:
                    ev.wsh = ev.number

    def _licence_number(self, ev: Event, seq: int) -> str:
        region = self.words.departments[ev.dept].region_code
        assert ev.licence is not None
        return ev.licence.number.format(
            region=region if region.isdigit() else ev.subject.district.code,
            seq=seq,
            y=ev.decided.year,
            yy=f"{ev.decided.year % 100:02d}",
            id=ev.subject.person_id,
            uscc=ev.subject.uscc,
        )

    # --- rows -------------------------------------------------------------------------------------

    def subject_values(self, p: str, s: Subject) -> dict[str, Any]:
        no_code = s.placeholder or (s.kind == "individual" and not s.uscc)
        code = PLACEHOLDER_CODE if no_code else messy_code(self.rng, s.uscc) if s.uscc else ""
        v: dict[str, Any] = {
            f"{p}_XDR_MC": s.name,
            f"{p}_XDR_LB": s.subject_class,
            f"{p}_XDR_SHXYM": code,
            f"{p}_XDR_GSZC": s.legacy_reg_no,
            f"{p}_XDR_ZZJG": s.uscc[8:17] if s.uscc and self.rng.random() < 0.15 else "",
            f"{p}_XDR_SWDJ": "",
            f"{p}_XDR_SYDW": "",
            f"{p}_XDR_SHZZ": s.uscc if s.kind == "social" and self.rng.random() < 0.5 else "",
            f"{p}_FRDB": s.rep,
            f"{p}_FR_ZJLX": "",
            f"{p}_FR_ZJHM": "",
            f"{p}_XDR_ZJLX": "",
            f"{p}_XDR_ZJHM": "",
        }
        if s.kind == "person":
            v[f"{p}_XDR_ZJLX"], v[f"{p}_XDR_ZJHM"] = "身份证", s.person_id
        elif self.rng.random() < 0.3:
            v[f"{p}_FR_ZJLX"], v[f"{p}_FR_ZJHM"] = "身份证", s.rep_id
        return v

    def row(self, ev: Event) -> Row:
        s = ev.subject
        kinds = ["placeholder_code"] if s.placeholder else []
        if s.kind in ("company", "individual") and not s.uscc and not s.placeholder:
            kinds = ["name_only"]
        if ev.licence:
            values, title = self._licence_values(ev, ev.licence), ev.licence.name
        else:
            assert ev.scenario is not None
            values, title = self._penalty_values(ev, ev.scenario), f"{ev.scenario.name}案"
        return Row(ev.cls, ev.dept, s, ev.decided, title, values, kinds)

    def _licence_values(self, ev: Event, t: LicenceType) -> dict[str, Any]:
        dept = self.words.departments[ev.dept]
        if t.years:
            valid_to = add_months(ev.decided, 12 * t.years) - timedelta(days=1)
        else:
            valid_to = ev.decided + timedelta(days=t.days) if t.days else LONG_TERM
        v = self.subject_values("XK", ev.subject)
        v |= {
            "XK_XKWS": t.document,
            "XK_WSH": ev.wsh,
            "XK_XKLB": t.category,
            "XK_XKZS": t.certificate,
            "XK_XKBH": ev.number,
            "XK_NR": f"{t.name}。{t.content}",
            "XK_JDRQ": ev.decided,
            "XK_YXQZ": ev.decided,
            "XK_YXQZI": valid_to,
            "XK_XKJG": dept.name,
            "XK_XKJGDM": dept.uscc,
            "XK_ZT": "1",
            "XK_LYDW": dept.name,
            "XK_LYDWDM": dept.uscc,
            "BZ": "",
        }
        return v

    def amount(self, bounds: tuple[float, float]) -> Decimal:
        """An amount in 万元, rounded to 100 yuan (small fines) or 1000 yuan."""
        lo, hi = bounds
        step = 100 if hi <= 1 else 1000
        yuan = round(self.rng.uniform(lo * 10000, hi * 10000) / step) * step
        return wan(max(step, yuan))

    def categories(self, dept: str, keys: tuple[str, ...]) -> list[str]:
        """处罚类别 in the department's wording: pre-2021 (old), 2021 (new) or both (mixed)."""
        style = self.wording.get(dept, "new")
        if style == "mixed":
            style = self.rng.choice(["old", "new"])
        return list(dict.fromkeys(self.words.categories[k][style] for k in keys))

    def _penalty_values(self, ev: Event, sc: Scenario) -> dict[str, Any]:
        dept, s = self.words.departments[ev.dept], ev.subject
        fine = self.amount(sc.fine) if sc.fine and "fine" in sc.categories else None
        gains = (
            self.amount(sc.confiscated or [0.01, 0.5])
            if sc.confiscated or "confiscate_gains" in sc.categories
            else None
        )
        when = ev.decided - timedelta(days=self.rng.randint(20, 120))
        revoked = f"{sc.revoked}（{s.person_id or s.uscc}）" if sc.revoked else ""
        v = self.subject_values("CF", s)
        v |= {
            "CF_WSH": ev.wsh,
            "CF_WFXW": sc.name,
            "CF_SY": sc.fact.format(when=cn_date(when), place=s.address),
            "CF_YJ": sc.basis,
            "CF_CFLB": self.categories(ev.dept, sc.categories),
            "CF_NR": penalty_content(sc, fine, gains),
            "CF_NR_FK": fine if fine is not None else "",
            "CF_NR_WFFF": gains if gains is not None else "",
            "CF_NR_ZKDX": revoked,
            "CF_JDRQ": ev.decided,
            "CF_YXQ": self._penalty_term(ev.decided, sc),
            "CF_GSJZQ": self._publicity_end(ev.decided, fine),
            "CF_CFJG": dept.name,
            "CF_CFJGDM": dept.uscc,
            "CF_SJLY": dept.name,
            "CF_SJLYDM": dept.uscc,
            "CF_ZT": self.rng.choice(["", "", "0"]),
            "BZ": "",
        }
        return v

    def _penalty_term(self, decided: date, sc: Scenario) -> date:
        if "suspend_licence" in sc.categories:
            return add_months(decided, 6) - timedelta(days=1)
        return LONG_TERM if self.rng.random() < 0.3 else add_months(decided, 36) - timedelta(days=1)

    def _publicity_end(self, decided: date, fine: Decimal | None) -> date | str:
        """公示截止期, sent by some departments: 3 months for small fines, else 3 years (SAMR Order 45)."""
        if self.rng.random() < 0.5:
            return ""
        months = 3 if fine is not None and fine <= Decimal("0.5") else 36
        return add_months(decided, months) - timedelta(days=1)


def penalty_content(sc: Scenario, fine: Decimal | None, gains: Decimal | None) -> str:
    """处罚内容 in words, e.g. 警告，罚款人民币5000元，没收违法所得人民币1200元."""
    parts = {
        "warning": "警告",
        "criticism": "通报批评",
        "fine": f"罚款人民币{yuan_text(fine)}" if fine is not None else "罚款",
        "confiscate_gains": f"没收违法所得人民币{yuan_text(gains)}" if gains is not None else "没收违法所得",
        "confiscate_property": "没收涉案物品",
        "suspend_business": "责令停产停业",
        "suspend_licence": f"暂扣{sc.revoked}六个月",
        "revoke_licence": f"吊销{sc.revoked}",
        "restrict": sc.restriction,
    }
    return "，".join(parts[k] for k in sc.categories)
