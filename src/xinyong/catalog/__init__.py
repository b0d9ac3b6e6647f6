"""The public credit information catalogue (公共信用信息目录): info classes, fields and code lists as
versioned YAML data (DESIGN §2)."""

from xinyong.catalog.schemas import CatalogEdition, CodeList, CodeValue, Condition, FieldDef, InfoClass
from xinyong.catalog.service import (
    Catalog,
    CatalogError,
    UnknownCodeList,
    UnknownInfoClass,
    get_catalog,
    load_catalog,
    normalize_header,
)

__all__ = [
    "Catalog",
    "CatalogEdition",
    "CatalogError",
    "CodeList",
    "CodeValue",
    "Condition",
    "FieldDef",
    "InfoClass",
    "UnknownCodeList",
    "UnknownInfoClass",
    "get_catalog",
    "load_catalog",
    "normalize_header",
]
