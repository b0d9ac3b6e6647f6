"""Masking of personal data in public views — the one place it happens (DESIGN.md §2).

A natural person's ID number keeps its first 4 and last 4 characters (3201**********0018); a name keeps
its first and last character (张*明, 李*).
"""

from __future__ import annotations

import re

from xinyong.archive.identifiers import is_valid_resident_id

_ID_LIKE = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")  # over-masking an all-digit code is the safe side


def mask_resident_id(value: str | None) -> str:
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(value: str | None) -> str:
    if not value:
        return ""
    if len(value) == 1:
        return "*"
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_ids_in_text(value: str) -> str:
    """Mask every valid resident ID inside free text (a driving licence is numbered by its holder's ID, and
    违法事实 may quote one); codes that are not valid ID numbers, such as USCCs, stay as they are."""
    if len(value) < 18:
        return value
    return _ID_LIKE.sub(
        lambda m: mask_resident_id(m.group(0)) if is_valid_resident_id(m.group(0)) else m.group(0), value
    )
