"""What departments get wrong in 双公示 files, and later versions of their records.

Each bad row gets exactly one rejecting mistake (:data:`REJECT_KINDS`), so the manifest's expected
counts are exact. Corrections, withdrawals and repeated rows are valid rows (:data:`VALID_KINDS`).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from xinyong.archive.identifiers import USCC_ALPHABET
from xinyong.demo.records import LICENSE, LONG_TERM, PENALTY, BadDate, Row, wan, yuan_text
from xinyong.demo.words import Words

#: Mistakes that make a row invalid; weights = how often each is chosen where it applies.
MISTAKE_WEIGHTS: dict[str, int] = {
    "uscc_check": 3,  # wrong check character (position 18)
    "uscc_forbidden_letter": 1,  # I, O, Z, S or V in the code (GB 32100 §4.3)
    "id_check": 2,  # resident ID with a wrong check digit
    "missing_required": 3,  # 文号 / 处罚内容 / 决定日期 left empty
    "impossible_date": 2,  # 2026-02-30
    "future_date": 2,  # decision date after the data date
    "valid_range": 2,  # 有效期自 after 有效期至
    "negative_fine": 1,
    "unknown_category": 2,  # 处罚类别 that is not a penalty (责令改正 …)
}
REJECT_KINDS: tuple[str, ...] = tuple(MISTAKE_WEIGHTS)
#: Marked rows that are valid: later versions, rows repeated in a file, subjects named without a code.
VALID_KINDS: tuple[str, ...] = ("correction", "withdrawal", "duplicate_in_file", "name_only", "placeholder_code")
_INFO_KINDS = ("name_only", "placeholder_code")
CORRECTION_SHARE = 0.015
WITHDRAWAL_SHARE = 0.006
DUPLICATE_SHARE = 0.006
_BAD_DAYS = ((2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31))

FileKey = tuple[str, str, int]  # (department, info class, month index in the window)


def rejected(row: Row) -> bool:
    return any(k in MISTAKE_WEIGHTS for k in row.kinds)


def applicable(row: Row, header_style: str) -> list[str]:
    """Mistakes that can be made in ``row`` in a layout of ``header_style`` (v1 has no 罚款金额 and
    no 有效期自 column)."""
    kinds = ["missing_required", "impossible_date", "future_date"]
    if row.subject.uscc:
        kinds += ["uscc_check", "uscc_forbidden_letter"]
    if row.subject.kind == "person":
        kinds.append("id_check")
    if row.cls == LICENSE and header_style != "v1":
        kinds.append("valid_range")
    if row.cls == PENALTY:
        kinds.append("unknown_category")
        if header_style != "v1" and isinstance(row.values["CF_NR_FK"], Decimal):
            kinds.append("negative_fine")
    return kinds


def _date_fields(row: Row) -> tuple[str, ...]:
    if row.cls == LICENSE:
        return ("XK_JDRQ", "XK_YXQZ", "XK_YXQZI")
    return ("CF_JDRQ", "CF_YXQ", "CF_GSJZQ")


def apply_mistake(row: Row, kind: str, rng: random.Random, as_of: date, words: Words) -> None:
    p = "XK" if row.cls == LICENSE else "CF"
    v: dict[str, Any] = row.values
    if kind == "uscc_check":
        code = row.subject.uscc
        v[f"{p}_XDR_SHXYM"] = code[:17] + rng.choice([c for c in USCC_ALPHABET if c != code[17]])
    elif kind == "uscc_forbidden_letter":
        code, pos = row.subject.uscc, rng.randint(8, 15)
        v[f"{p}_XDR_SHXYM"] = code[:pos] + rng.choice("IOZSV") + code[pos + 1 :]
    elif kind == "id_check":
        number = row.subject.person_id
        v[f"{p}_XDR_ZJHM"] = number[:17] + rng.choice([c for c in "0123456789X" if c != number[17]])
    elif kind == "missing_required":
        fields = ("CF_WSH", "CF_NR", "CF_JDRQ") if p == "CF" else ("XK_WSH", "XK_JDRQ")
        v[rng.choice(fields)] = ""
    elif kind == "impossible_date":
        month, day = rng.choice(_BAD_DAYS)
        v[f"{p}_JDRQ"] = BadDate(row.decided.year, month, day)
    elif kind == "future_date":
        shift = as_of + timedelta(days=rng.randint(1, 90)) - row.decided
        for name in _date_fields(row):
            if isinstance(v[name], date) and v[name] != LONG_TERM:
                v[name] += shift
    elif kind == "valid_range":
        v["XK_YXQZI"] = v["XK_YXQZ"] - timedelta(days=rng.randint(1, 365))
    elif kind == "negative_fine":
        v["CF_NR_FK"] = -v["CF_NR_FK"]
    elif kind == "unknown_category":
        v["CF_CFLB"] = [rng.choice(words.unknown_categories)]
    row.kinds.append(kind)


def inject_mistakes(
    files: dict[FileKey, list[Row]],
    header_styles: dict[str, str],
    rng: random.Random,
    error_rate: float,
    as_of: date,
    words: Words,
) -> None:
    for key in sorted(files):
        style = header_styles[key[0]]
        for row in files[key]:
            if rng.random() < error_rate:
                kinds = applicable(row, style)
                kind = rng.choices(kinds, weights=[MISTAKE_WEIGHTS[k] for k in kinds])[0]
                apply_mistake(row, kind, rng, as_of, words)


def _info(row: Row, kind: str) -> list[str]:
    return [k for k in row.kinds if k in _INFO_KINDS] + [kind]


def corrected(row: Row, rng: random.Random) -> Row:
    """The same decision (文号, subject) sent again with a changed 罚款金额: a new version."""
    new = row.copy(_info(row, "correction"))
    old: Decimal = row.values["CF_NR_FK"]
    yuan = round(int(old * 10000) * rng.choice([0.5, 0.6, 0.8, 1.2, 1.5, 2.0]) / 100) * 100
    fine = wan(max(100, yuan))
    if fine == old:
        fine = wan(int(old * 10000) + 100)
    new.values["CF_NR_FK"] = fine
    new.values["CF_NR"] = row.values["CF_NR"].replace(yuan_text(old), yuan_text(fine))
    new.values["BZ"] = f"更正：罚款金额由{format(old, 'f')}万元更正为{format(fine, 'f')}万元"
    return new


def withdrawn(row: Row) -> Row:
    """The decision revoked: sent again in a later month with 当前状态 = 1 (撤销)."""
    new = row.copy(_info(row, "withdrawal"))
    new.values["CF_ZT"] = "1"
    new.values["BZ"] = "该行政处罚决定已被依法撤销"
    return new


def add_versions(files: dict[FileKey, list[Row]], rng: random.Random) -> None:
    """Corrections and withdrawals of valid penalty rows, in the same department's file one or two
    months later (only where that file exists)."""
    for key in sorted(files):
        dept, cls, month = key
        later = [k for k in ((dept, cls, month + 1), (dept, cls, month + 2)) if k in files]
        if cls != PENALTY or not later:
            continue
        for row in list(files[key]):
            if not row.fresh or rejected(row):
                continue
            roll = rng.random()
            if roll < CORRECTION_SHARE and isinstance(row.values["CF_NR_FK"], Decimal):
                files[rng.choice(later)].append(corrected(row, rng))
            elif CORRECTION_SHARE <= roll < CORRECTION_SHARE + WITHDRAWAL_SHARE:
                files[rng.choice(later)].append(withdrawn(row))


def add_duplicates(files: dict[FileKey, list[Row]], rng: random.Random) -> None:
    """A few valid rows exported twice in the same file (right after the first copy)."""
    for key in sorted(files):
        out: list[Row] = []
        for row in files[key]:
            out.append(row)
            if row.fresh and not rejected(row) and rng.random() < DUPLICATE_SHARE:
                out.append(row.copy(_info(row, "duplicate_in_file")))
        files[key] = out
