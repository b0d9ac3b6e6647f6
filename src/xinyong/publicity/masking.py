"""Masking of personal data in public views — the one place it happens (DESIGN.md §2).

A natural person's ID number keeps its first 4 and last 4 characters (3201**********0018); a name keeps
its first and last character (张*明, 李*).
"""

from __future__ import annotations


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
