"""Loading the public credit information catalogue (公共信用信息目录) from its YAML files.

The packaged files hold the national base catalogue (DOMAIN §5), the code lists (DOMAIN §4.5) and the
base classes; a city adds a supplementary class by dropping a YAML file into a directory passed to
``load_catalog`` (or named in ``XINYONG_CATALOG_DIRS``) — no code change (DESIGN §2).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from xinyong.catalog.schemas import (
    DEFAULT_SEPARATORS,
    BaseCatalogFile,
    CatalogCategory,
    CatalogEdition,
    CodeList,
    CodeListsFile,
    InfoClass,
    normalize_header,
    normalize_value,
)
from xinyong.core.errors import NotFound

__all__ = [
    "ENV_VAR",
    "PACKAGE_DATA",
    "Catalog",
    "CatalogError",
    "UnknownCodeList",
    "UnknownInfoClass",
    "clear_catalog_cache",
    "get_catalog",
    "load_catalog",
    "normalize_header",
]

PACKAGE_DATA = Path(__file__).parent / "data"
ENV_VAR = "XINYONG_CATALOG_DIRS"
CODE_LISTS_FILE = "code_lists.yaml"


class CatalogError(ValueError):
    """A catalogue file is malformed or inconsistent; the message names the file and the key."""

    def __init__(self, path: Path | str, message: str) -> None:
        self.path = Path(path)
        super().__init__(f"目录文件 {path} 有误：{message}")


class UnknownInfoClass(NotFound, ValueError):
    def __init__(self, info_class: str, known: Sequence[str]) -> None:
        self.info_class = info_class
        message = f"未知的信息类 {info_class!r}；已知的信息类：{'、'.join(sorted(known)) or '（无）'}"
        super().__init__(message, code="unknown_info_class", details={"known": sorted(known)})


class UnknownCodeList(NotFound, ValueError):
    def __init__(self, name: str, known: Sequence[str]) -> None:
        message = f"未知的代码表 {name!r}；已知的代码表：{'、'.join(sorted(known))}"
        super().__init__(message, code="unknown_code_list", details={"known": sorted(known)})


@dataclass(frozen=True)
class Catalog:
    """The loaded catalogue; immutable. ``sources`` tells which file each class came from."""

    classes: Mapping[str, InfoClass]
    code_lists: Mapping[str, CodeList]
    editions: tuple[CatalogEdition, ...]
    sources: Mapping[str, Path]
    _header_maps: Mapping[str, Mapping[str, str]] = field(repr=False)

    def get(self, code: str) -> InfoClass:
        try:
            return self.classes[code]
        except KeyError:
            raise UnknownInfoClass(code, list(self.classes)) from None

    def header_map(self, code: str) -> Mapping[str, str]:
        """Every accepted header spelling → field name: label, aliases, v1/v2 codes (upper and lower
        case), the code name, each as written, normalised and with full-width brackets. Look up
        arbitrary headers with ``field_for_header``, which normalises first."""
        self.get(code)
        return self._header_maps[code]

    def field_for_header(self, code: str, header: str) -> str | None:
        headers = self.header_map(code)
        key = normalize_header(header)
        return headers.get(key) or headers.get(key.upper())

    def code_list(self, name: str) -> CodeList:
        try:
            return self.code_lists[name]
        except KeyError:
            raise UnknownCodeList(name, list(self.code_lists)) from None

    def code_labels(self, name: str) -> dict[str, str]:
        """Each code of a list, by code name and by every scheme code (e.g. a GB/T 4754 letter) → its label, for
        showing stored codes; empty for a list the catalogue does not have."""
        labels: dict[str, str] = {}
        for v in self.code_lists[name].values if name in self.code_lists else ():
            labels[v.code] = v.label
            for other in v.codes.values():
                labels[other] = v.label
        return labels

    def resolve_code(self, list_name: str, raw: object, schemes: Sequence[str] | None = None) -> str | None:
        """Raw label / alias / code name / scheme code → code name, or None (see ``CodeList.lookup``)."""
        return self.code_list(list_name).lookup(raw, schemes)

    def resolve_codes(
        self,
        list_name: str,
        raw: object,
        separators: Sequence[str] | None = None,
        schemes: Sequence[str] | None = None,
    ) -> tuple[list[str], list[str]]:
        """Split a multi-valued cell (处罚类别 "罚款；没收违法所得") into (codes, unrecognised parts).

        Splits on ``separators`` but keeps the longest run of parts that resolves as one value, so
        the old wording "没收违法所得、没收非法财物" stays one value.
        """
        code_list = self.code_list(list_name)
        if raw is None or not str(raw).strip():
            return [], []
        seps = separators or DEFAULT_SEPARATORS
        pattern = "(" + "|".join(re.escape(s) for s in sorted(set(seps), key=len, reverse=True)) + ")"
        tokens = re.split(pattern, str(raw))
        parts, glue = tokens[0::2], tokens[1::2]
        codes: list[str] = []
        unknown: list[str] = []
        i = 0
        while i < len(parts):
            for j in range(len(parts), i, -1):
                text = parts[i] + "".join(glue[k - 1] + parts[k] for k in range(i + 1, j))
                code = code_list.lookup(text, schemes) if normalize_value(text) else None
                if code is not None:
                    if code not in codes:
                        codes.append(code)
                    i = j
                    break
            else:
                if normalize_value(parts[i]):
                    unknown.append(parts[i].strip())
                i += 1
        return codes, unknown

    def required_for(self, code: str, row: Mapping[str, Any]) -> list[str]:
        """Fields required for this row: the always-required ones plus those whose ``required_when``
        holds. ``row`` holds resolved values (code names; a list for multi fields)."""
        info_class = self.get(code)
        names = list(info_class.required_fields)
        for f in info_class.conditional_fields:
            cond = f.required_when
            if cond is None:
                continue
            target = info_class.field(cond.field)
            code_list = self.code_lists.get(target.code_list) if target.code_list else None
            if cond.holds(row, code_list):
                names.append(f.name)
        return names

    def edition(self, year: int) -> CatalogEdition:
        for edition in self.editions:
            if edition.edition == year:
                return edition
        raise ValueError(f"没有 {year} 年版基础目录；已有：{[e.edition for e in self.editions]}")

    @property
    def current_edition(self) -> CatalogEdition:
        return max(self.editions, key=lambda e: e.edition)

    def category(self, code: str) -> CatalogCategory:
        """The category in the newest edition that has it."""
        for edition in sorted(self.editions, key=lambda e: -e.edition):
            category = edition.category(code)
            if category is not None:
                return category
        raise ValueError(f"基础目录中没有类别 {code!r}")


# ------------------------------------------------------------------------------------------------ loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "在映射中", node.start_mark, f"键 {key!r} 重复", key_node.start_mark
            )
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_UniqueKeyLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError(path, f"无法读取：{exc}") from exc


def _where(raw: Any, loc: Sequence[int | str]) -> str:
    """A readable key path; list items are shown with their ``name``/``code`` when they have one."""
    out = ""
    node = raw
    for item in loc:
        if isinstance(item, int):
            label = ""
            if isinstance(node, list) and 0 <= item < len(node):
                node = node[item]
                if isinstance(node, dict):
                    label = str(node.get("name") or node.get("code") or "")
            else:
                node = None
            out += f"[{item}]" + (f"({label})" if label else "")
        else:
            out += ("." if out else "") + str(item)
            node = node.get(item) if isinstance(node, dict) else None
    return out


_M = TypeVar("_M", bound=BaseModel)
_MESSAGES = {"extra_forbidden": "未知的键", "missing": "缺少必填的键"}


def _parse(model: type[_M], raw: Any, path: Path) -> _M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = _MESSAGES.get(err["type"], err["msg"].removeprefix("Value error, "))
            problems.append(f"{_where(raw, err['loc'])}：{msg}" if err["loc"] else msg)
        raise CatalogError(path, "；".join(problems)) from None


def _load_code_lists(path: Path, into: dict[str, CodeList]) -> None:
    for code_list in _parse(CodeListsFile, _read_yaml(path), path).code_lists:
        if code_list.code in into and not code_list.replaces:
            raise CatalogError(path, f"代码表 {code_list.code!r} 已存在（要替换请写 replaces: true）")
        if code_list.replaces and code_list.code not in into:
            raise CatalogError(path, f"代码表 {code_list.code!r} 写了 replaces: true，但没有可替换的代码表")
        into[code_list.code] = code_list


def _check_references(
    info_class: InfoClass, path: Path, code_lists: Mapping[str, CodeList], categories: set[str]
) -> None:
    """Checks that need other files: code lists, their schemes and codes, catalogue categories."""
    if info_class.catalog_category not in categories:
        raise CatalogError(
            path, f"catalog_category：基础目录中没有类别 {info_class.catalog_category!r}（已知：{sorted(categories)}）"
        )
    for f in info_class.fields:
        if f.code_list is None:
            continue
        if f.code_list not in code_lists:
            raise CatalogError(
                path, f"fields.{f.name}.code_list：未知的代码表 {f.code_list!r}（已知：{sorted(code_lists)}）"
            )
        unknown = [s for s in f.code_schemes if s not in code_lists[f.code_list].schemes]
        if unknown:
            raise CatalogError(path, f"fields.{f.name}.code_schemes：代码表 {f.code_list} 没有编码方案 {unknown}")
    for f in info_class.fields:
        if f.id_type_field and info_class.field(f.id_type_field).code_list != "id_type":
            raise CatalogError(path, f"fields.{f.name}.id_type_field：{f.id_type_field} 须使用代码表 id_type")
        cond = f.required_when
        if cond is None or cond.present is not None:
            continue
        target = code_lists[info_class.field(cond.field).code_list or ""]
        if cond.in_ is not None:
            unknown = [c for c in cond.in_ if c not in target.codes]
            if unknown:
                raise CatalogError(path, f"fields.{f.name}.required_when.in：代码表 {target.code} 没有代码 {unknown}")
        elif cond.contains_group not in target.groups:
            raise CatalogError(
                path,
                f"fields.{f.name}.required_when.contains_group：代码表 {target.code} 没有分组 {cond.contains_group}",
            )


def _header_map(info_class: InfoClass, path: Path) -> Mapping[str, str]:
    """Header spelling → field name; two fields claiming one normalised spelling is an error."""
    owner: dict[str, str] = {}
    headers: dict[str, str] = {}
    for f in info_class.fields:
        for spelling in f.spellings:
            key = normalize_header(spelling)
            if owner.setdefault(key, f.name) != f.name:
                raise CatalogError(path, f"表头 {spelling!r} 同时属于字段 {owner[key]} 和 {f.name}")
            variants = {spelling, spelling.strip(), key, key.replace("(", "（").replace(")", "）")}
            if key.isascii():
                variants |= {key.lower(), key.upper()}
            for variant in variants:
                headers[variant] = f.name
    return MappingProxyType(headers)


def load_catalog(extra_dirs: Sequence[Path | str] = ()) -> Catalog:
    """Load the packaged catalogue plus, from each extra directory, every ``*.yaml`` class file and
    an optional ``code_lists.yaml``. A class code seen twice is an error unless the later file says
    ``replaces: true``."""
    code_lists: dict[str, CodeList] = {}
    _load_code_lists(PACKAGE_DATA / CODE_LISTS_FILE, code_lists)
    base_path = PACKAGE_DATA / "base_catalog.yaml"
    editions = _parse(BaseCatalogFile, _read_yaml(base_path), base_path).editions
    categories = {c.code for e in editions for c in e.categories}

    class_files = sorted((PACKAGE_DATA / "classes").glob("*.yaml"))
    for directory in map(Path, extra_dirs):
        if not directory.is_dir():
            raise CatalogError(directory, "目录不存在")
        if (directory / CODE_LISTS_FILE).is_file():
            _load_code_lists(directory / CODE_LISTS_FILE, code_lists)
        class_files += sorted(p for p in directory.glob("*.yaml") if p.name != CODE_LISTS_FILE)

    classes: dict[str, InfoClass] = {}
    sources: dict[str, Path] = {}
    for path in class_files:
        info_class = _parse(InfoClass, _read_yaml(path), path)
        if info_class.code in classes and not info_class.replaces:
            raise CatalogError(
                path,
                f"code：信息类 {info_class.code!r} 已由 {sources[info_class.code]} 定义（要替换请写 replaces: true）",
            )
        if info_class.replaces and info_class.code not in classes:
            raise CatalogError(path, f"replaces：没有可替换的信息类 {info_class.code!r}")
        classes[info_class.code] = info_class
        sources[info_class.code] = path

    header_maps = {}
    for code, info_class in classes.items():
        _check_references(info_class, sources[code], code_lists, categories)
        header_maps[code] = _header_map(info_class, sources[code])
    return Catalog(
        classes=MappingProxyType(classes),
        code_lists=MappingProxyType(code_lists),
        editions=editions,
        sources=MappingProxyType(sources),
        _header_maps=MappingProxyType(header_maps),
    )


def get_catalog() -> Catalog:
    """The catalogue, cached per value of ``XINYONG_CATALOG_DIRS`` (``os.pathsep``-separated)."""
    return _cached_catalog(os.environ.get(ENV_VAR, ""))


@lru_cache(maxsize=4)
def _cached_catalog(dirs: str) -> Catalog:
    return load_catalog([Path(d) for d in dirs.split(os.pathsep) if d.strip()])


def clear_catalog_cache() -> None:
    """Forget cached catalogues (tests, or after the catalogue directories changed)."""
    _cached_catalog.cache_clear()
