"""Identifiers of credit subjects: validation, normalisation and construction.

- 统一社会信用代码 (USCC), GB 32100-2015: 18 characters = authority (1) + organisation type (1) +
  region (6, GB/T 2260) + organisation code (9, GB 11714 incl. its own check char) + check char.
  python-stdnum's ``cn.uscc.validate`` rejects letter authority codes (N…, A…, Y…), so the format
  rules are implemented here and only its check-character function is reused.
- 公民身份号码 (resident ID), GB 11643-1999, checked with ``stdnum.cn.ric`` (ISO 7064 MOD 11-2).
- 组织机构代码 (organisation code), GB 11714-1997, and the 15-digit 工商注册号 (ISO 7064 MOD 11,10).

Errors are :class:`IdentifierError` with a stable ``code`` and a Simplified-Chinese ``message``.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from datetime import date
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml
from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidComponent
from stdnum.iso7064 import mod_11_10

from xinyong.core import clock
from xinyong.core.errors import DomainError

__all__ = [
    "USCC_ALPHABET",
    "AuthorityTable",
    "IdentifierError",
    "detect_scheme",
    "is_valid_resident_id",
    "is_valid_uscc",
    "load_uscc_authorities",
    "make_resident_id",
    "make_uscc",
    "normalize_code",
    "org_code_check_char",
    "resident_id_sex",
    "uscc_authority",
    "uscc_check_char",
    "validate_legacy_reg_no",
    "validate_org_code",
    "validate_resident_id",
    "validate_uscc",
]

#: GB 32100-2015 §4.3: the 31 code symbols; I, O, Z, S, V are never used. Value = index.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: GB 11714-1997: organisation-code symbols, value = index (A=10 … Z=35).
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
#: Earliest birth year accepted in a resident ID (plausibility bound, not from GB 11643).
MIN_BIRTH_YEAR = 1850


class IdentifierError(DomainError, ValueError):
    """An invalid identifier. ``code`` is stable (e.g. ``uscc_length``); ``message`` is for users."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)


def normalize_code(value: str) -> str:
    """What people type → canonical form: NFKC (full-width → half-width), no whitespace
    (incl. U+3000) and no '-', upper case."""
    text = unicodedata.normalize("NFKC", value or "")
    return "".join(ch for ch in text if not ch.isspace() and ch != "-").upper()


# --- registration-authority / organisation-type table (GB 32100-2015 §4.1, data file) -------------


@dataclass(frozen=True)
class AuthorityTable:
    authorities: MappingProxyType[str, str]  # authority code → Chinese name
    types: MappingProxyType[tuple[str, str], tuple[str, str]]  # (auth, type) → (auth name, type name)


@functools.cache
def load_uscc_authorities(allow_unconfirmed: bool = True) -> AuthorityTable:
    """Load ``data/uscc_authorities.yaml`` once. Entries marked ``confirmed: false`` (later additions
    not checked against an official notice) are included unless ``allow_unconfirmed`` is False."""
    text = resources.files("xinyong.archive").joinpath("data/uscc_authorities.yaml").read_text("utf-8")
    authorities: dict[str, str] = {}
    types: dict[tuple[str, str], tuple[str, str]] = {}
    for auth in yaml.safe_load(text)["authorities"]:
        if not (auth.get("confirmed", True) or allow_unconfirmed):
            continue
        code, name = str(auth["code"]), str(auth["name"])
        authorities[code] = name
        for typ in auth["types"]:
            if typ.get("confirmed", True) or allow_unconfirmed:
                types[(code, str(typ["code"]))] = (name, str(typ["name"]))
    return AuthorityTable(MappingProxyType(authorities), MappingProxyType(types))


# --- USCC, GB 32100-2015 ---------------------------------------------------------------------------


def _uscc_charset(number: str) -> None:
    for pos, ch in enumerate(number, 1):
        if ch not in USCC_ALPHABET:
            raise IdentifierError(
                "uscc_charset",
                f"统一社会信用代码第{pos}位含有非法字符“{ch}”：只能使用数字0-9和大写英文字母，"
                "且不使用I、O、Z、S、V，请核对后重新输入",
            )


def uscc_check_char(first17: str) -> str:
    """Position 18 (GB 32100-2015 §5): weights 3^(i-1) mod 31, check = (31 − Σ mod 31) mod 31.
    Reuses ``stdnum.cn.uscc.calc_check_digit``, which works on letter-prefixed bodies."""
    body = normalize_code(first17)
    if len(body) != 17:
        raise IdentifierError("uscc_length", f"计算校验码需要统一社会信用代码前17位，实际为{len(body)}位")
    _uscc_charset(body)
    return uscc.calc_check_digit(body)


def org_code_check_char(first8: str) -> str:
    """GB 11714-1997 check char: weights 3 7 9 10 5 8 4 2 over values 0-9, A=10…Z=35;
    11 − (Σ mod 11), where 10 is written 'X' and 11 is written '0'."""
    body = normalize_code(first8)
    if len(body) != 8:
        raise IdentifierError("org_code_length", f"计算校验码需要组织机构代码前8位，实际为{len(body)}位")
    bad = next((ch for ch in body if ch not in _ORG_ALPHABET), None)
    if bad is not None:
        raise IdentifierError("org_code_format", f"组织机构代码含有非法字符“{bad}”：只能使用数字和大写英文字母")
    value = 11 - sum(_ORG_ALPHABET.index(ch) * w for ch, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def validate_uscc(value: str, *, allow_unconfirmed: bool = True) -> str:
    """Validate a USCC (GB 32100-2015) and return it normalised. Checks, in order: empty, length,
    character set, authority/type combination, region digits (pos 3-8), GB 11714 check (pos 17),
    check char (pos 18)."""
    number = normalize_code(value)
    if not number:
        raise IdentifierError("uscc_empty", "统一社会信用代码不能为空，请输入18位统一社会信用代码")
    if len(number) != 18:
        raise IdentifierError("uscc_length", f"统一社会信用代码应为18位，实际为{len(number)}位，请核对位数")
    _uscc_charset(number)
    table = load_uscc_authorities(allow_unconfirmed)
    auth, typ = number[0], number[1]
    if auth not in table.authorities:
        raise IdentifierError("uscc_authority", f"统一社会信用代码第1位登记管理部门代码“{auth}”不存在，请核对第1位")
    if (auth, typ) not in table.types:
        raise IdentifierError(
            "uscc_authority",
            f"统一社会信用代码前两位“{auth}{typ}”不是有效组合：登记管理部门“{auth}”"
            f"（{table.authorities[auth]}）下没有机构类别代码“{typ}”，请核对前两位",
        )
    if not number[2:8].isdigit():
        raise IdentifierError(
            "uscc_region",
            f"统一社会信用代码第3-8位应为6位数字的行政区划码，实际为“{number[2:8]}”，请核对",
        )
    expected = org_code_check_char(number[8:16])
    if number[16] != expected:
        raise IdentifierError(
            "uscc_org_check",
            f"统一社会信用代码第17位（组织机构代码校验码）应为“{expected}”，实际为“{number[16]}”，请核对第9-17位",
        )
    expected = uscc.calc_check_digit(number[:17])
    if number[17] != expected:
        raise IdentifierError(
            "uscc_check",
            f"统一社会信用代码第18位校验码应为“{expected}”，实际为“{number[17]}”，请核对各位是否输错",
        )
    return number


def is_valid_uscc(value: str) -> bool:
    try:
        validate_uscc(value)
    except IdentifierError:
        return False
    return True


def make_uscc(authority: str, org_type: str, region: str, body8: str) -> str:
    """Build a valid USCC from its parts, computing pos 17 (GB 11714) and pos 18 (GB 32100)."""
    base = normalize_code(authority + org_type + region + body8)
    if len(base) != 16:
        raise IdentifierError("uscc_length", f"统一社会信用代码前16位应为16位，实际为{len(base)}位")
    _uscc_charset(base)
    body17 = base + org_code_check_char(base[8:])
    return validate_uscc(body17 + uscc.calc_check_digit(body17))


def uscc_authority(value: str) -> tuple[str, str]:
    """Chinese names of (registration authority, organisation type) of a valid USCC."""
    number = validate_uscc(value)
    return load_uscc_authorities(True).types[(number[0], number[1])]


# --- resident ID, GB 11643-1999 -------------------------------------------------------------------


def _area_years(area: str) -> list[tuple[int | None, int | None]] | None:
    """Year ranges in which ``area`` was a county code (stdnum ``cn/loc.dat``); None if unknown."""
    info: dict[str, Any] = {k: v for _, props in numdb.get("cn/loc").info(area) for k, v in props.items()}
    if "county" not in info:
        return None
    ranges: list[tuple[int | None, int | None]] = []
    for county in info["county"].split(","):
        if not county.startswith("["):
            ranges.append((None, None))
            continue
        start, end = county[1:].split("]")[0].split("-")
        ranges.append((int(start) if start else None, int(end) if end else None))
    return ranges


def validate_resident_id(value: str, today: date | None = None, *, strict_area_years: bool = False) -> str:
    """Validate an 18-character resident ID (GB 11643-1999) and return it normalised.

    Checksum, birth date and address code are checked with ``stdnum.cn.ric``; a birth date after
    ``today`` (default: the platform clock) is rejected. The address code is the county of permanent
    residence *when the number was assigned* (GB 11643-1999 地址码: 常住户口所在县), never before birth,
    so by default a code is accepted if it existed at any time from the birth year on (people born
    before 1983 hold codes created in 1983).
    ``strict_area_years=True`` applies stdnum 2.2's rule instead: the code must be valid in the birth year.
    """
    number = normalize_code(value)
    if not number:
        raise IdentifierError("rid_empty", "公民身份号码不能为空，请输入18位公民身份号码")
    if len(number) != 18:
        raise IdentifierError("rid_length", f"公民身份号码应为18位，实际为{len(number)}位，请核对位数")
    bad = next((ch for ch in number[:17] if not ch.isdigit() or not ch.isascii()), None)
    if bad is not None or not (number[17].isdigit() or number[17] == "X"):
        raise IdentifierError(
            "rid_format",
            f"公民身份号码含有非法字符“{bad or number[17]}”：前17位应为数字，最后一位应为数字或X",
        )
    expected = ric.calc_check_digit(number)
    if number[17] != expected:
        raise IdentifierError(
            "rid_check", f"公民身份号码第18位校验码应为“{expected}”，实际为“{number[17]}”，请核对各位是否输错"
        )
    try:
        birth = ric.get_birth_date(number)
    except InvalidComponent:
        birth = None
    if birth is None or birth.year < MIN_BIRTH_YEAR:
        raise IdentifierError("rid_birth_date", f"公民身份号码第7-14位出生日期“{number[6:14]}”不是有效日期，请核对")
    if birth > (today or clock.today()):
        raise IdentifierError("rid_future", f"公民身份号码中的出生日期{birth.isoformat()}晚于今天，请核对第7-14位")
    if strict_area_years:
        try:
            ric.get_birth_place(number)
            ok = True
        except InvalidComponent:  # date already checked: this is the area (or its year range)
            ok = False
    else:
        ranges = _area_years(number[:6])
        ok = ranges is not None and any(end is None or birth.year <= end for _, end in ranges)
    if not ok:
        raise IdentifierError(
            "rid_area",
            f"公民身份号码前6位地址码“{number[:6]}”不存在，或在出生年份{birth.year}年已撤销，请核对前6位",
        )
    return number


def is_valid_resident_id(value: str) -> bool:
    try:
        validate_resident_id(value)
    except IdentifierError:
        return False
    return True


def make_resident_id(area: str, birth: date, seq: int) -> str:
    """Build a valid resident ID: area + YYYYMMDD + 3-digit sequence (odd = male, even = female)
    + ISO 7064 MOD 11-2 check char (``stdnum.cn.ric.calc_check_digit``)."""
    if not (len(area) == 6 and area.isdigit() and area.isascii()):
        raise IdentifierError("rid_format", f"地址码应为6位数字，实际为“{area}”")
    if not 0 <= seq <= 999:
        raise IdentifierError("rid_format", f"顺序码应在0-999之间，实际为{seq}")
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return validate_resident_id(body + ric.calc_check_digit(body + "0"))


def resident_id_sex(value: str) -> str:
    """'男' or '女' from the parity of the sequence code (position 17)."""
    return "男" if int(validate_resident_id(value)[16]) % 2 else "女"


# --- organisation code (GB 11714-1997) and 15-digit registration number --------------------------


def validate_org_code(value: str) -> str:
    """Validate a 9-character 组织机构代码 (GB 11714-1997; 'XXXXXXXX-X' accepted), return it normalised."""
    number = normalize_code(value)
    if len(number) != 9:
        raise IdentifierError("org_code_length", f"组织机构代码应为9位，实际为{len(number)}位，请核对")
    expected = org_code_check_char(number[:8])
    if number[8] != expected:
        raise IdentifierError("org_code_check", f"组织机构代码第9位校验码应为“{expected}”，实际为“{number[8]}”，请核对")
    return number


def validate_legacy_reg_no(value: str) -> str:
    """Validate a 15-digit 工商注册号: 6-digit region + 8-digit sequence + ISO 7064 MOD 11,10 check."""
    number = normalize_code(value)
    if len(number) != 15:
        raise IdentifierError("legacy_reg_no_length", f"工商注册号应为15位数字，实际为{len(number)}位，请核对")
    if not (number.isdigit() and number.isascii()):
        raise IdentifierError("legacy_reg_no_format", "工商注册号只能由15位数字组成，请核对")
    expected = mod_11_10.calc_check_digit(number[:14])
    if number[14] != expected:
        raise IdentifierError(
            "legacy_reg_no_check", f"工商注册号第15位校验码应为“{expected}”，实际为“{number[14]}”，请核对"
        )
    return number


def detect_scheme(value: str) -> str | None:
    """Which valid identifier ``value`` is: "resident_id", "uscc", "legacy_reg_no", "org_code" or None.

    Resident IDs are tried first: about 1 in 341 (1/11 × 1/31) IDs whose province code is also an
    authority/type pair (11-13, 21, 31-35, 41, 51-53, 61-62, ...) pass every USCC check too, whereas a
    USCC passes the resident-ID checks only if positions 1-6 happen to be a real county code *and*
    7-14 a plausible birth date (7-8 are the tail of its region code, usually "00"), far rarer.
    """
    checks = (
        ("resident_id", validate_resident_id),
        ("uscc", validate_uscc),
        ("legacy_reg_no", validate_legacy_reg_no),
        ("org_code", validate_org_code),
    )
    for scheme, check in checks:
        try:
            check(value)
        except IdentifierError:
            continue
        return scheme
    return None
