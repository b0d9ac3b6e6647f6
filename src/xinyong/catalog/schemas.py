"""File format of the public credit information catalogue (公共信用信息目录).

Three kinds of YAML files; every model is strict (``extra="forbid"``), so a misspelt key is an error
that names the file and the key (see ``service.load_catalog``):

- ``base_catalog.yaml``: ``editions:``, a list of ``CatalogEdition`` — the 全国公共信用信息基础目录
  editions 2021/2022/2024 (DOMAIN §5).
- ``code_lists.yaml``: ``code_lists:``, a list of ``CodeList`` (DOMAIN §4.5).
- ``classes/*.yaml``: one ``InfoClass`` per file (DESIGN §2, "the catalogue drives collection").

Facts marked ◐ or ❓ in DOMAIN.md, and guesses, carry ``confirmed: false``.

Condition language (``FieldDef.required_when``), one operator per condition, evaluated on a row whose
values are already resolved to code names (a list of codes for a ``multi`` field):

- ``{field: F, in: [a, b]}``: F's code (any of its codes if F is multi) is one of a, b. F must be a
  ``code_list`` field and a, b codes of its list.
- ``{field: F, contains_group: N}``: one of F's codes has ``group`` N in F's code list (e.g. 处罚类别
  group 2 = 罚款/没收, 《行政处罚法》(2021) art. 9).
- ``{field: F, present: true|false}``: F is filled / blank.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, field_validator, model_validator

CodeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

FieldType = Literal[
    "text", "date", "decimal", "integer", "code_list", "uscc", "resident_id", "org_code", "legacy_reg_no"
]
NUMERIC_TYPES = frozenset({"decimal", "integer"})
DEFAULT_SEPARATORS: tuple[str, ...] = (";", "；", "、", ",", "，")

# How to fill a column that a file does not have at all (old v1 layouts lack the 2.0 columns):
# department.name / department.uscc (the submitting unit), infer.subject_category (from the codes present),
# infer.id_type (身份证 when an ID number is present: v1's only ID column, CF_XDR_SFZ, is the resident ID),
# field.<name> (another field of the row), const.<value>. A present but blank column is never derived.
DERIVE_PATTERN = r"^(department\.(name|uscc)|infer\.(subject_category|id_type)|field\.[a-z][a-z0-9_]*|const\..+)$"
_INVISIBLE = re.compile(r"[\s\u200b\u200c\u200d\ufeff*]+")
_REQUIRED_MARK = re.compile(r"[(\[【<](?:必填项?|选填项?|非必填|可选|可空|必须)[)\]】>]")
_EXCEL_INT = re.compile(r"^(\d+)\.0+$")


def normalize_header(header: str) -> str:
    """Canonical spelling of a column header: NFKC (full-width brackets → half-width), no spaces,
    no ``*``, no required markers such as ``(必填)`` or ``【选填】``."""
    text = unicodedata.normalize("NFKC", header)
    text = _INVISIBLE.sub("", text)
    return _REQUIRED_MARK.sub("", text)


def normalize_value(raw: object) -> str:
    """Matching key of a code-list value: NFKC, no spaces, case-folded; Excel's ``1.0`` → ``1``."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", str(raw))).casefold()
    match = _EXCEL_INT.match(text)
    return match.group(1) if match else text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LegalBasis(_Strict):
    """A document the class or rule rests on, e.g. 国办发〔2015〕51号."""

    document_no: Text | None = None
    title: Text | None = None
    article: Text | None = None
    issued_on: date | None = None
    confirmed: bool = True
    note: str | None = None

    @model_validator(mode="after")
    def _named(self) -> LegalBasis:
        if not (self.document_no or self.title):
            raise ValueError("legal_basis 需要 document_no 或 title")
        return self


# ---------------------------------------------------------------------------------------------- code lists


class CodeValue(_Strict):
    """One value of a code list. ``codes`` maps a coding scheme (declared by the list) to the code
    that scheme uses, e.g. ``{v1: "1"}``; ``alias_prefixes`` accept free text after a prefix
    (``其他-…``)."""

    code: CodeName
    label: Text
    aliases: tuple[Text, ...] = ()
    alias_prefixes: tuple[Text, ...] = ()
    codes: dict[CodeName, Text] = Field(default_factory=dict)
    group: int | None = Field(default=None, ge=1)
    ends_record: bool = False
    legacy: bool = False
    confirmed: bool = True
    note: str | None = None


class CodeList(_Strict):
    """A code list such as 行政相对人类别; ``blank_means`` is the code a blank value stands for
    (v1 当前状态: blank = 正常)."""

    code: CodeName
    name: Text
    source: str | None = None
    confirmed: bool = True
    note: str | None = None
    schemes: dict[CodeName, str] = Field(default_factory=dict)
    blank_means: CodeName | None = None
    replaces: bool = False
    values: tuple[CodeValue, ...] = Field(min_length=1)

    _by_code: dict[str, CodeValue] = PrivateAttr(default_factory=dict)
    _by_key: dict[str, str] = PrivateAttr(default_factory=dict)
    _by_scheme: dict[str, dict[str, str]] = PrivateAttr(default_factory=dict)
    _prefixes: tuple[tuple[str, str], ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _consistent(self) -> CodeList:
        by_code: dict[str, CodeValue] = {}
        by_key: dict[str, str] = {}
        by_scheme: dict[str, dict[str, str]] = {s: {} for s in self.schemes}
        prefixes: list[tuple[str, str]] = []
        for value in self.values:
            if value.code in by_code:
                raise ValueError(f"代码 {value.code!r} 重复")
            by_code[value.code] = value
            for spelling in (value.code, value.label, *value.aliases):
                key = normalize_value(spelling)
                if by_key.setdefault(key, value.code) != value.code:
                    raise ValueError(f"{spelling!r} 同时指向 {by_key[key]!r} 和 {value.code!r}")
            for scheme, code in value.codes.items():
                if scheme not in by_scheme:
                    raise ValueError(f"{value.code}: 未声明的编码方案 {scheme!r}（已声明：{sorted(self.schemes)}）")
                key = normalize_value(code)
                if by_scheme[scheme].setdefault(key, value.code) != value.code:
                    raise ValueError(f"编码方案 {scheme} 的代码 {code!r} 重复")
            prefixes.extend((normalize_value(p), value.code) for p in value.alias_prefixes)
        if self.blank_means is not None and self.blank_means not in by_code:
            raise ValueError(f"blank_means {self.blank_means!r} 不是本代码表的代码")
        self._by_code, self._by_key, self._by_scheme = by_code, by_key, by_scheme
        self._prefixes = tuple(sorted(prefixes, key=lambda p: -len(p[0])))
        return self

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    @property
    def groups(self) -> frozenset[int]:
        return frozenset(v.group for v in self.values if v.group is not None)

    def value(self, code: str) -> CodeValue:
        return self._by_code[code]

    def lookup(self, raw: object, schemes: Sequence[str] | None = None) -> str | None:
        """Code name for a raw label, alias, code name or scheme code; None when unknown.

        Labels and aliases win over scheme codes. With ``schemes`` the first scheme that knows the
        code wins; without, a scheme code counts only if every scheme that knows it agrees.
        """
        if raw is None:
            return self.blank_means
        key = normalize_value(raw)
        if not key:
            return self.blank_means
        if key in self._by_key:
            return self._by_key[key]
        for prefix, code in self._prefixes:
            if key.startswith(prefix):
                return code
        if schemes is not None:
            for scheme in schemes:
                if key in self._by_scheme.get(scheme, {}):
                    return self._by_scheme[scheme][key]
            return None
        hits = {table[key] for table in self._by_scheme.values() if key in table}
        return hits.pop() if len(hits) == 1 else None


# ------------------------------------------------------------------------------------------ info classes


class Condition(_Strict):
    """``required_when``: see the module docstring for the three operators."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    field: CodeName
    in_: tuple[CodeName, ...] | None = Field(default=None, alias="in", min_length=1)
    contains_group: int | None = Field(default=None, ge=1)
    present: bool | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> Condition:
        used = [
            op
            for op, v in (("in", self.in_), ("contains_group", self.contains_group), ("present", self.present))
            if v is not None
        ]
        if len(used) != 1:
            raise ValueError(f"条件须恰好有一个运算符（in / contains_group / present），现有 {used}")
        return self

    @property
    def operator(self) -> str:
        if self.in_ is not None:
            return "in"
        return "contains_group" if self.contains_group is not None else "present"

    def holds(self, row: Mapping[str, Any], code_list: CodeList | None = None) -> bool:
        """Evaluate on resolved values; ``code_list`` is the list of ``field`` (needed for groups)."""
        value = row.get(self.field)
        values = [v for v in (value if isinstance(value, list | tuple) else [value]) if v not in (None, "")]
        if self.present is not None:
            return bool(values) == self.present
        if self.in_ is not None:
            return any(v in self.in_ for v in values)
        if code_list is None:
            raise ValueError(f"contains_group 需要字段 {self.field} 的代码表")
        return any(v in code_list.codes and code_list.value(v).group == self.contains_group for v in values)


class Placeholder(_Strict):
    """A value that stands for something else, e.g. USCC ``00000000000000000X`` = no code."""

    value: Text
    means: CodeName
    note: str | None = None
    confirmed: bool = True

    @field_validator("value", mode="before")
    @classmethod
    def _date_to_text(cls, v: object) -> object:
        return v.isoformat() if isinstance(v, date) else v


class FieldDef(_Strict):
    """One column of an info class. ``codes`` holds the v1 / "2.0" upper-case column codes
    (DOMAIN §4.2–4.4); a ``multi`` code_list field may be split on ``separators`` and may be fed by
    several columns (v1 处罚类别1/处罚类别2), whose values are joined."""

    name: CodeName
    label: Text
    codes: dict[Literal["v1", "v2"], Text] = Field(default_factory=dict)
    aliases: tuple[Text, ...] = ()
    type: FieldType = "text"
    code_list: CodeName | None = None
    code_schemes: tuple[CodeName, ...] = ()
    multi: bool = False
    separators: tuple[str, ...] | None = None
    required: bool = False
    required_when: Condition | None = None
    expected: bool = False
    max_length: int | None = Field(default=None, ge=1)
    min: Decimal | None = None
    max: Decimal | None = None
    max_digits: int | None = Field(default=None, ge=1)
    decimal_places: int | None = Field(default=None, ge=0)
    unit: Text | None = None
    placeholder_values: tuple[Placeholder, ...] = ()
    id_type_field: CodeName | None = None
    derive: Annotated[str, StringConstraints(pattern=DERIVE_PATTERN)] | None = None
    confirmed: bool = True
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FieldDef:
        is_list = self.type == "code_list"
        if is_list != (self.code_list is not None):
            raise ValueError(f"{self.name}: type code_list 与 code_list 须同时出现")
        if not is_list and (self.multi or self.code_schemes):
            raise ValueError(f"{self.name}: multi / code_schemes 只用于 code_list 字段")
        if self.separators is not None and not self.multi:
            raise ValueError(f"{self.name}: separators 只用于 multi 字段")
        if self.required and self.required_when is not None:
            raise ValueError(f"{self.name}: required 与 required_when 不能同时使用")
        if self.required and self.expected:
            raise ValueError(f"{self.name}: expected 只用于非必填字段")
        if self.type not in NUMERIC_TYPES and (self.min, self.max, self.unit) != (None, None, None):
            raise ValueError(f"{self.name}: min / max / unit 只用于数值字段")
        if self.type != "decimal" and (self.max_digits, self.decimal_places) != (None, None):
            raise ValueError(f"{self.name}: max_digits / decimal_places 只用于 decimal 字段")
        if self.id_type_field is not None and self.type != "resident_id":
            raise ValueError(f"{self.name}: id_type_field 只用于 resident_id 字段")
        if self.required_when is not None and self.required_when.field == self.name:
            raise ValueError(f"{self.name}: required_when 不能引用字段自身")
        return self

    @property
    def split_separators(self) -> tuple[str, ...]:
        return self.separators or DEFAULT_SEPARATORS

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every header this field accepts before normalisation: label, aliases, codes, name."""
        return (self.label, *self.aliases, *self.codes.values(), self.name)


class SubjectSpec(_Strict):
    """Which fields identify the subject (信用主体) of a record."""

    name: CodeName
    category: CodeName | None = None
    uscc: CodeName | None = None
    id_type: CodeName | None = None
    id_no: CodeName | None = None
    legacy: tuple[CodeName, ...] = ()

    @property
    def field_names(self) -> tuple[str, ...]:
        single = (self.name, self.category, self.uscc, self.id_type, self.id_no)
        return (*(f for f in single if f), *self.legacy)


class Validations(_Strict):
    """Cross-field checks: ``date_not_future`` dates must not lie after today; each ``not_after``
    pair ``[a, b]`` requires a <= b when both are filled."""

    date_not_future: tuple[CodeName, ...] = ()
    not_after: tuple[tuple[CodeName, CodeName], ...] = ()

    @property
    def field_names(self) -> tuple[str, ...]:
        return (*self.date_not_future, *(f for pair in self.not_after for f in pair))


class InfoClass(_Strict):
    """One catalogue entry (信息类), e.g. ``admin_penalty``. ``natural_key`` identifies a record
    across resubmissions (blank parts count as empty); ``replaces: true`` lets a city file
    override a class of the same code."""

    code: CodeName
    name: Text
    catalog_category: CodeName
    kind: Literal["base", "supplementary"]
    legal_basis: tuple[LegalBasis, ...] = Field(min_length=1)
    effective_from: date
    effective_to: date | None = None
    version: int = Field(ge=1)
    replaces: bool = False
    deadline_working_days: int | None = Field(ge=1)
    # "module:function" run on each stored batch of this class, in the batch's transaction (e.g. list entries
    # following imported list records); it returns counts kept in the batch's details.
    after_load: Annotated[str, StringConstraints(pattern=r"^xinyong(\.[a-z_]+)+:[a-z_]+$")] | None = None
    natural_key: tuple[CodeName, ...] = Field(min_length=1)
    subject: SubjectSpec
    fields: tuple[FieldDef, ...] = Field(min_length=1)
    validations: Validations = Validations()
    provided_by: tuple[Text, ...] = ()
    description: str | None = None
    source: str | None = None
    confirmed: bool = True
    notes: tuple[str, ...] = ()

    _by_name: dict[str, FieldDef] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> InfoClass:
        by_name: dict[str, FieldDef] = {}
        for f in self.fields:
            if f.name in by_name:
                raise ValueError(f"字段 {f.name!r} 重复")
            by_name[f.name] = f

        def need(where: str, name: str, of_type: str | None = None) -> None:
            if name not in by_name:
                raise ValueError(f"{where} 引用了不存在的字段 {name!r}")
            if of_type and by_name[name].type != of_type:
                raise ValueError(f"{where} 引用的字段 {name!r} 须为 {of_type} 类型")

        for name in self.natural_key:
            need("natural_key", name)
        for name in self.subject.field_names:
            need("subject", name)
        for name in self.validations.field_names:
            need("validations", name, "date")
        for f in self.fields:
            cond = f.required_when
            if cond is not None:
                need(f"fields.{f.name}.required_when", cond.field, None if cond.present is not None else "code_list")
            if f.id_type_field:
                need(f"fields.{f.name}.id_type_field", f.id_type_field, "code_list")
            if f.derive and f.derive.startswith("field."):
                need(f"fields.{f.name}.derive", f.derive.removeprefix("field."))
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to 须晚于 effective_from")
        self._by_name = by_name
        return self

    def field(self, name: str) -> FieldDef:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"信息类 {self.code} 没有字段 {name!r}") from None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    @property
    def required_fields(self) -> tuple[str, ...]:
        """Names of the always-required fields (conditional ones: ``conditional_fields``)."""
        return tuple(f.name for f in self.fields if f.required)

    @property
    def conditional_fields(self) -> tuple[FieldDef, ...]:
        return tuple(f for f in self.fields if f.required_when is not None)

    @property
    def expected_fields(self) -> tuple[str, ...]:
        """Optional-but-expected fields, the denominator of completeness (完整率, DOMAIN §12)."""
        return tuple(f.name for f in self.fields if f.expected)


# ------------------------------------------------------------------------------------ base catalogue


class CatalogCategory(_Strict):
    code: CodeName
    name: Text
    aliases: tuple[Text, ...] = ()
    confirmed: bool = True
    note: str | None = None


class CatalogEdition(_Strict):
    """An edition of the 全国公共信用信息基础目录, issued by NDRC and PBoC (DOMAIN §5)."""

    edition: int = Field(ge=2000)
    name: Text
    document_no: Text | None = None
    document_no_confirmed: bool = False
    issued_by: tuple[Text, ...] = ()
    source: str | None = None
    confirmed: bool = True
    note: str | None = None
    categories: tuple[CatalogCategory, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CatalogEdition:
        codes = [c.code for c in self.categories]
        if len(codes) != len(set(codes)):
            raise ValueError(f"{self.edition} 版类别代码重复")
        return self

    def category(self, code: str) -> CatalogCategory | None:
        return next((c for c in self.categories if c.code == code), None)


class BaseCatalogFile(_Strict):
    editions: tuple[CatalogEdition, ...] = Field(min_length=1)
    note: str | None = None


class CodeListsFile(_Strict):
    code_lists: tuple[CodeList, ...] = Field(min_length=1)
    note: str | None = None
