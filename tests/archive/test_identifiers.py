"""Tests for xinyong.archive.identifiers (GB 32100-2015, GB 11643-1999, GB 11714-1997)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from xinyong.archive.identifiers import (
    IdentifierError,
    detect_scheme,
    is_valid_resident_id,
    is_valid_uscc,
    load_uscc_authorities,
    make_resident_id,
    make_uscc,
    normalize_code,
    org_code_check_char,
    resident_id_sex,
    uscc_authority,
    uscc_check_char,
    validate_legacy_reg_no,
    validate_org_code,
    validate_resident_id,
    validate_uscc,
)
from xinyong.core.errors import DomainError

# Written out here rather than imported, so a wrong alphabet in the module makes the tests fail.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# GB 11714 alphabet (0-9, A-Z) restricted to the USCC alphabet: the same 31 symbols.
BODY_CHARS = "0123456789" + "ABCDEFGHJKLMNPQRTUWXY"


def error_of(func, *args, **kwargs) -> IdentifierError:
    with pytest.raises(IdentifierError) as info:
        func(*args, **kwargs)
    return info.value


def with_rid_check(body17: str) -> str:
    """A resident ID with a correct check char (stdnum's ISO 7064 MOD 11-2), whatever the body means."""
    return body17 + ric.calc_check_digit(body17 + "0")


# --- USCC -----------------------------------------------------------------------------------------

REAL_USCCS = [  # DOMAIN.md §1.8
    "914403001922038216",
    "911000001000013428",
    "91100000100003962T",
    "91110000802100433B",
    "91330100799655058B",
    "91440300708461136T",
    "91320100748204660Q",
    "11320100MB1886843H",
    "91320281142232229Q",
    "91320105780688132K",
    "91110000600037341L",
]


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_codes_are_valid(code: str) -> None:
    assert validate_uscc(code) == code
    assert is_valid_uscc(code)
    assert detect_scheme(code) == "uscc"


def test_authority_names() -> None:
    assert uscc_authority("91320100748204660Q") == ("工商/市场监管", "企业")
    assert uscc_authority("11320100MB1886843H") == ("机构编制", "机关")


def test_stack_sample_code_fails_position_17_before_18() -> None:
    # The pos-18 check char of 91320000134762612… is J (STACK.md §5, stdnum agrees) ...
    assert uscc_check_char("91320000134762612") == "J"
    assert uscc.is_valid("91320000134762612J")
    # ... but pos 17 is checked first, and 13476261 → GB 11714 check '7', not '2':
    # 1·3 + 3·7 + 4·9 + 7·10 + 6·5 + 2·8 + 6·4 + 1·2 = 202; 202 mod 11 = 4; 11 − 4 = 7.
    for code in ("91320000134762612W", "91320000134762612J"):
        err = error_of(validate_uscc, code)
        assert err.code == "uscc_org_check"
        assert "“7”" in err.message and "第17位" in err.message
    # With pos 17 right, the wrong pos 18 is reported naming the expected char.
    err = error_of(validate_uscc, "91320000134762617W")
    assert err.code == "uscc_check"
    assert f"“{uscc_check_char('91320000134762617')}”" in err.message


def test_standard_worked_example() -> None:
    # GB 32100-2015 worked example: Σ = 1640, 1640 mod 31 = 28, check value 31 − 28 = 3.
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert is_valid_uscc("91350100M000100Y43")
    assert not is_valid_uscc("91350100M000100Y4Z")
    assert error_of(validate_uscc, "91350100M000100Y4Z").code == "uscc_charset"  # Z is never used
    err = error_of(validate_uscc, "91350100M000100Y4A")
    assert err.code == "uscc_check" and "“3”" in err.message


@pytest.mark.parametrize(("auth", "typ"), [("N", "1"), ("N", "2"), ("A", "1"), ("Y", "1")])
def test_letter_authorities_valid_here_but_rejected_by_stdnum(auth: str, typ: str) -> None:
    code = make_uscc(auth, typ, "320115", "MA1X2Y3K")
    assert validate_uscc(code) == code
    # The checksum is right by stdnum's own function ...
    assert uscc.calc_check_digit(code[:17]) == code[17]
    # ... yet stdnum 2.2 rejects it: it wants positions 1-8 all digits (the gap this module fills).
    assert not uscc.is_valid(code)


def test_letter_authority_names() -> None:
    assert uscc_authority(make_uscc("N", "2", "320115", "MA1X2Y3K")) == ("农业(农村)", "村级集体经济组织")


@pytest.mark.parametrize(
    "typed",
    [
        "９１３２０１００７４８２０４６６０Ｑ",
        "9132 0100 7482 0466 0Q",
        "9132\u30000100\t748204660Q ",
        "91320100748204660q",
        "91320100-74820466-0Q",
        "９１３２０１００－７４８２０４６６－０ｑ",
    ],
)
def test_typed_forms_normalise(typed: str) -> None:
    assert normalize_code(typed) == "91320100748204660Q"
    assert validate_uscc(typed) == "91320100748204660Q"


def test_uscc_empty_and_length() -> None:
    assert error_of(validate_uscc, "").code == "uscc_empty"
    assert error_of(validate_uscc, " \u3000 ").code == "uscc_empty"
    err = error_of(validate_uscc, "9132010074820466")
    assert err.code == "uscc_length"
    assert "18位" in err.message and "16位" in err.message


def test_uscc_charset_names_character() -> None:
    err = error_of(validate_uscc, "91320100748204I60Q")
    assert err.code == "uscc_charset"
    assert "“I”" in err.message and "第15位" in err.message
    assert "I、O、Z、S、V" in err.message


@pytest.mark.parametrize(("prefix", "named"), [("01", "“0”"), ("96", "“96”"), ("Y2", "“Y2”")])
def test_unknown_authority_or_combination(prefix: str, named: str) -> None:
    err = error_of(validate_uscc, prefix + "320100748204660Q")
    assert err.code == "uscc_authority"
    assert named in err.message


def test_region_must_be_digits() -> None:
    err = error_of(validate_uscc, "9132A100748204660Q")
    assert err.code == "uscc_region"


def test_check_order() -> None:
    # length before charset, charset before authority, authority before region, region before checks
    assert error_of(validate_uscc, "0I3201007482046").code == "uscc_length"
    assert error_of(validate_uscc, "0I320100748204660Q").code == "uscc_charset"
    assert error_of(validate_uscc, "96A20100748204660Q").code == "uscc_authority"
    assert error_of(validate_uscc, "91A20100748204661Q").code == "uscc_region"
    assert error_of(validate_uscc, "91320100748204661Q").code == "uscc_org_check"


def test_unconfirmed_entries_are_data() -> None:
    confirmed = load_uscc_authorities(allow_unconfirmed=False)
    everything = load_uscc_authorities()
    assert set(confirmed.authorities) == set("123456789ANY")
    assert {"G", "J", "Q"} <= set(everything.authorities)
    assert ("9", "9") in everything.types and ("9", "9") not in confirmed.types
    assert confirmed.types.keys() < everything.types.keys()
    for auth, typ in [("G", "1"), ("J", "1"), ("Q", "2"), ("3", "6"), ("5", "4"), ("5", "5"), ("8", "2")]:
        code = make_uscc(auth, typ, "320100", "MA1X2Y3K")
        assert is_valid_uscc(code)  # real feeds contain them: allowed by default
        assert error_of(validate_uscc, code, allow_unconfirmed=False).code == "uscc_authority"


def test_identifier_error_types() -> None:
    err = error_of(validate_uscc, "")
    assert isinstance(err, ValueError) and isinstance(err, DomainError)
    assert str(err) == err.message


@st.composite
def uscc_parts(draw: st.DrawFn) -> tuple[str, str, str, str]:
    auth, typ = draw(st.sampled_from(sorted(load_uscc_authorities().types)))
    region = draw(
        st.sampled_from(["320100", "320102", "320104", "320105", "320106", "320111", "320113", "320115"])
        | st.text("0123456789", min_size=6, max_size=6)
    )
    body8 = draw(st.text(BODY_CHARS, min_size=8, max_size=8))
    return auth, typ, region, body8


@given(uscc_parts(), st.integers(0, 17), st.data())
def test_made_uscc_valid_and_any_substitution_rejected(parts, pos: int, data: st.DataObject) -> None:
    code = make_uscc(*parts)
    assert len(code) == 18 and validate_uscc(code) == code
    assert code[:16] == "".join(parts)
    # Why one substitution can never survive (so some check must reject it): pos 18 is C18 ≡ −Σ Ci·Wi
    # (mod 31). Changing Ci (i ≤ 17) to C'i changes Σ by (C'i − Ci)·Wi. With 0 ≤ Ci, C'i < 31 and
    # C'i ≠ Ci, the difference is not 0 mod 31; Wi = 3^(i−1) is not 0 mod 31; 31 is prime, so the
    # product is not 0 mod 31 and the expected pos-18 char changes. Changing pos 18 itself makes it
    # differ from the (unchanged) expected char. Earlier checks may reject it first; that is fine.
    new = data.draw(st.sampled_from([c for c in USCC_CHARS if c != code[pos]]))
    mutated = code[:pos] + new + code[pos + 1 :]
    assert not is_valid_uscc(mutated)


# --- resident ID ----------------------------------------------------------------------------------


def test_resident_id_examples() -> None:
    # 11010519491231002X: S = Σ ai·Wi = 167, 167 mod 11 = 2 → table "10X98765432"[2] = 'X' (DOMAIN §2.1)
    assert validate_resident_id("11010519491231002X") == "11010519491231002X"
    assert validate_resident_id("11010519491231002x") == "11010519491231002X"
    assert validate_resident_id("320102199001011232") == "320102199001011232"
    assert validate_resident_id(" 320102 19900101 1232 ") == "320102199001011232"
    assert resident_id_sex("11010519491231002X") == "女"  # sequence 002, even
    assert resident_id_sex("320102199001011232") == "男"  # sequence 123, odd
    assert detect_scheme("11010519491231002x") == "resident_id"


def test_resident_id_check() -> None:
    err = error_of(validate_resident_id, "110105194912310021")
    assert err.code == "rid_check" and "“X”" in err.message


def test_resident_id_empty_length_format() -> None:
    assert error_of(validate_resident_id, "").code == "rid_empty"
    assert error_of(validate_resident_id, "11010519491231002").code == "rid_length"
    assert error_of(validate_resident_id, "1101051949123100AX").code == "rid_format"
    assert error_of(validate_resident_id, "11010519491231002Y").code == "rid_format"


def test_resident_id_impossible_date() -> None:
    number = with_rid_check("32010219900230123")  # 1990-02-30, correct checksum
    assert error_of(validate_resident_id, number).code == "rid_birth_date"


def test_resident_id_unknown_or_abolished_area() -> None:
    # 440524 潮阳县 existed 1983-1993 (stdnum loc.dat): someone born in 1995 cannot hold it.
    assert error_of(validate_resident_id, with_rid_check("44052419950101001")).code == "rid_area"
    assert error_of(validate_resident_id, with_rid_check("99999919900101001")).code == "rid_area"
    # STACK.md's example (born 1880): stdnum rejects it; so does our strict mode.
    old = with_rid_check("44052418800101001")
    assert error_of(validate_resident_id, old, strict_area_years=True).code == "rid_area"


def test_resident_id_future_birth() -> None:
    number = with_rid_check("32010220300101123")
    err = error_of(validate_resident_id, number, today=date(2029, 12, 31))
    assert err.code == "rid_future"
    assert validate_resident_id(number, today=date(2030, 1, 1)) == number


def test_baixia_born_2020_rejected() -> None:
    # 320103 白下区 existed only 1983-2013 (stdnum 2.2 year check).
    number = with_rid_check("32010320200101123")
    assert not ric.is_valid(number)
    assert error_of(validate_resident_id, number).code == "rid_area"
    assert error_of(validate_resident_id, number, strict_area_years=True).code == "rid_area"
    assert is_valid_resident_id(with_rid_check("32010320100101123"))


def test_pre_1983_birth_with_1983_code_gap_in_stdnum() -> None:
    # 320102 玄武区 is "[1983-]" in loc.dat. A person born in 1950 was given the number in 1984 or
    # later (GB 11643: address code = residence when assigned), so the code is legitimate. stdnum 2.2
    # rejects it (the code "was not valid in the birth year"); we accept it unless strict.
    number = with_rid_check("32010219500101123")
    assert not ric.is_valid(number)
    assert validate_resident_id(number) == number
    assert error_of(validate_resident_id, number, strict_area_years=True).code == "rid_area"


def test_make_resident_id() -> None:
    assert make_resident_id("110105", date(1949, 12, 31), 2) == "11010519491231002X"
    assert make_resident_id("320102", date(1990, 1, 1), 123) == "320102199001011232"
    assert error_of(make_resident_id, "320102", date(1990, 1, 1), 1000).code == "rid_format"
    assert error_of(make_resident_id, "32010", date(1990, 1, 1), 1).code == "rid_format"


# (code, last year the code existed or None) — stdnum loc.dat / DOMAIN.md §3
NANJING_AREAS = [
    ("320100", None),
    ("320102", None),
    ("320104", None),
    ("320105", None),
    ("320106", None),
    ("320111", None),
    ("320113", None),
    ("320114", None),
    ("320115", None),
    ("320116", None),
    ("320117", None),
    ("320118", None),
    ("320103", 2013),
    ("320107", 2013),
    ("320112", 2002),
    ("320121", 2000),
    ("320122", 2002),
    ("320123", 2002),
    ("320124", 2013),
    ("320125", 2013),
]

# (code, first year, last year) for stdnum 2.2's strict rule: valid *in* the birth year.
NANJING_AREAS_STRICT = [
    ("320102", 1983, 2010),
    ("320103", 1983, 2013),
    ("320115", 2000, 2010),
    ("320116", 2002, 2010),
    ("320121", 1940, 2000),
    ("320123", 1940, 2002),
]


@st.composite
def nanjing_births(draw: st.DrawFn) -> tuple[str, date]:
    birth = draw(st.dates(date(1940, 1, 1), date(2010, 12, 31)))
    area = draw(st.sampled_from([c for c, end in NANJING_AREAS if end is None or birth.year <= end]))
    return area, birth


@given(nanjing_births(), st.integers(0, 999), st.integers(0, 16), st.integers(1, 9))
def test_made_resident_id_valid_and_substitution_rejected(
    area_birth: tuple[str, date], seq: int, pos: int, delta: int
) -> None:
    area, birth = area_birth
    number = make_resident_id(area, birth, seq)
    assert validate_resident_id(number) == number
    assert number[:17] == f"{area}{birth:%Y%m%d}{seq:03d}"
    assert resident_id_sex(number) == ("男" if seq % 2 else "女")
    # ISO 7064 MOD 11-2: the check value is −Σ ai·Wi (mod 11) with Wi = 2^(18−i) mod 11 ≠ 0. A different
    # digit changes Σ by d·Wi with 1 ≤ |d| ≤ 9 < 11, and 11 is prime, so d·Wi ≢ 0 and the checksum
    # (checked before date and area) always fails.
    mutated = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    assert error_of(validate_resident_id, mutated).code == "rid_check"


@st.composite
def strict_births(draw: st.DrawFn) -> tuple[str, date]:
    area, first, last = draw(st.sampled_from(NANJING_AREAS_STRICT))
    return area, draw(st.dates(date(first, 1, 1), date(last, 12, 31)))


@given(strict_births(), st.integers(0, 999))
def test_strict_mode_matches_stdnum(area_birth: tuple[str, date], seq: int) -> None:
    area, birth = area_birth
    number = make_resident_id(area, birth, seq)
    assert validate_resident_id(number, strict_area_years=True) == number
    assert ric.is_valid(number)


# --- organisation code (GB 11714) and 15-digit registration number --------------------------------


def test_org_code_check_char_by_hand() -> None:
    # weights 3 7 9 10 5 8 4 2; value = 11 − Σ mod 11, 10 → X, 11 → 0
    assert org_code_check_char("00000000") == "0"  # Σ = 0 → 11 → '0'
    assert org_code_check_char("00000006") == "X"  # Σ = 6·2 = 12 ≡ 1 → 10 → 'X'
    # Huawei 19220382: 3 + 63 + 18 + 20 + 0 + 24 + 32 + 4 = 164 ≡ 10 → 1
    assert org_code_check_char("19220382") == "1"
    # MA01KPGK (M=22, A=10, K=20, P=25, G=16): 66 + 70 + 0 + 10 + 100 + 200 + 64 + 40 = 550 ≡ 0 → '0'
    assert org_code_check_char("MA01KPGK") == "0"


def test_validate_org_code() -> None:
    assert validate_org_code("19220382-1") == "192203821"
    assert validate_org_code("ma01kpgk-0") == "MA01KPGK0"
    assert validate_org_code("00000006-X") == "00000006X"
    err = error_of(validate_org_code, "19220382-2")
    assert err.code == "org_code_check" and "“1”" in err.message
    assert error_of(validate_org_code, "1922038-1").code == "org_code_length"
    assert detect_scheme("19220382-1") == "org_code"


def test_legacy_reg_no() -> None:
    # ISO 7064 MOD 11,10 by hand for 32010000000000: running value p (start 10), for each digit
    # s = (p + d) mod 10 (0 → 10), p = 2s mod 11:
    # d=3: s=3 p=6; d=2: s=8 p=5; 0: s=5 p=10; 1: s=1 p=2; 0: 2→4; 4→8; 8→5; 5→10; 10→9; 9→7; 7→3;
    # 3→6; 6→1; 1→2. Check digit c makes (p + c) mod 10 = 1 → c = 9.
    assert validate_legacy_reg_no("320100000000009") == "320100000000009"
    assert validate_legacy_reg_no("320100 00000000 9") == "320100000000009"
    err = error_of(validate_legacy_reg_no, "320100000000001")
    assert err.code == "legacy_reg_no_check" and "“9”" in err.message
    assert error_of(validate_legacy_reg_no, "32010000000000").code == "legacy_reg_no_length"
    assert error_of(validate_legacy_reg_no, "32010000000000A").code == "legacy_reg_no_format"
    assert detect_scheme("320100000000009") == "legacy_reg_no"


# --- scheme detection -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "hello", "91320100748204660R", "110105194912310021", "123"])
def test_detect_scheme_none(value: str) -> None:
    assert detect_scheme(value) is None


def test_detect_prefers_resident_id_when_both_valid() -> None:
    # About 1 in 341 Jiangsu IDs ("32" = 司法行政/公证处) also pass every USCC check.
    both = next(
        number for seq in range(1000) if is_valid_uscc(number := make_resident_id("320102", date(1985, 6, 1), seq))
    )
    assert is_valid_resident_id(both)
    assert detect_scheme(both) == "resident_id"


def test_name_initials_follow_phrase_readings_like_pypinyin():
    from pypinyin import Style, lazy_pinyin

    from xinyong.archive.service import name_initials

    names = [
        "重庆银行",
        "长江安徽阿里巴巴",
        "南京钢铁联合有限公司",
        "银行行长",
        "南京市玄武区重大项目建设有限公司",
        "朝阳区乐器行",
        "江苏省长江重工有限公司",
    ]
    for name in names:
        assert name_initials(name) == "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()
    assert name_initials("重庆银行") == "cqyh"
    assert name_initials("ABC科技(南京)有限公司") == "abckjnjyxgs"
