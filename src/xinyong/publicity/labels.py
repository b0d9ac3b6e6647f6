"""Chinese labels for codes shown on pages (the catalogue holds class names; states are few and fixed)."""

from __future__ import annotations

from xinyong.catalog.service import get_catalog

STATE_LABELS = {"active": "有效", "withdrawn": "已撤销", "repaired": "已修复", "expired": "公示期满"}
SCHEME_LABELS = {
    "uscc": "统一社会信用代码",
    "legacy_reg_no": "工商注册号",
    "org_code": "组织机构代码",
    "tax_no": "税务登记号",
    "resident_id": "身份证号码",
}


def class_label(code: str) -> str:
    catalog = get_catalog()
    return catalog.classes[code].name if code in catalog.classes else code


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def install(env_globals: dict) -> None:
    """Make the labels available to every template."""
    env_globals.update(class_label=class_label, state_label=state_label, scheme_labels=SCHEME_LABELS)
