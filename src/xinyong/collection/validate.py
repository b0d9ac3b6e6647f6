"""Row validation driven by the catalogue. Every failure has a stable code and a Chinese message that names
the row, the column and what to fix. Identifier errors reuse the identifier module's codes (uscc_*, rid_*)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import mul
from typing import Any

from xinyong.archive.identifiers import (
    USCC_ALPHABET,
    IdentifierError,
    load_uscc_authorities,
    normalize_code,
    validate_legacy_reg_no,
    validate_org_code,
    validate_resident_id,
    validate_uscc,
)
from xinyong.catalog.schemas import CodeList, Condition, FieldDef, InfoClass
from xinyong.catalog.service import Catalog
from xinyong.collection import normalize

ERROR_CODES: dict[str, str] = {
    "missing_required": "必填项为空",
    "missing_conditional": "条件必填项为空",
    "too_long": "内容超长",
    "bad_date": "日期无法识别或不存在",
    "future_date": "日期晚于今天",
    "date_order": "日期先后顺序错误",
    "bad_number": "不是数字",
    "negative_amount": "金额为负数",
    "out_of_range": "数值超出范围",
    "unknown_code": "代码表中没有该值",
}
ID_TYPE_RESIDENT = "resident_id"
_MISSING = object()
MEMO_LIMIT = 4096  # per field; cleared when full, so memory stays flat however long the file
_Outcome = tuple[Any, str | None, tuple[str, str] | None] | None


@dataclass(frozen=True)
class RowError:
    code: str
    column: str | None
    message: str


@dataclass
class ValidatedRow:
    number: int
    values: dict[str, Any]  # field name → normalised value (str, date, Decimal, list[str] for multi)
    raw: dict[str, Any]
    errors: list[RowError]
    placeholders: dict[str, str]  # field name → what its placeholder value means (no_code, long_term)


class RowValidator:
    """Compiled once per batch: which columns feed which field and how each field is read."""

    def __init__(
        self,
        catalog: Catalog,
        info_class: InfoClass,
        header: Sequence[str],
        today: date,
        department: tuple[str, str] | None = None,
    ) -> None:
        self.catalog = catalog
        self.department = department  # (name, uscc) of the submitting unit, for derived columns
        self.info_class = info_class
        self.header = list(header)
        self.today = today
        self.columns: dict[str, list[int]] = {}
        self.unknown_columns: list[str] = []
        for i, h in enumerate(self.header):
            if not h:
                continue
            name = catalog.field_for_header(info_class.code, h)
            if name is None:
                self.unknown_columns.append(h)
            else:
                self.columns.setdefault(name, []).append(i)
        self.fields = [f for f in info_class.fields if f.name in self.columns]
        self.derived = [f for f in info_class.fields if f.derive and f.name not in self.columns]
        self.missing_columns = [
            f.label for f in info_class.fields if f.required and f.name not in self.columns and not f.derive
        ]
        # A conditional field whose column the file lacks altogether (old v1 layouts have no 罚款金额 column) cannot
        # be checked row by row: the batch records it as a warning and completeness scoring sees the gap.
        self.absent_conditional = [
            f.label for f in info_class.conditional_fields if f.name not in self.columns and not f.derive
        ]
        self._checkable = {f.name for f in self.fields} | {f.name for f in self.derived}
        # Compiled rules: pydantic attribute access per row is slow, and a batch repeats the same values (the
        # deciding authority's USCC on every row, a handful of code-list values, dates): each field's outcome
        # is memoised per raw cell, errors included (the readers are pure functions of the cell).
        self._always = [f for f in info_class.fields if f.required]
        self._needed: list[tuple[FieldDef, Callable[[dict[str, Any]], bool]]] = []
        for f in info_class.conditional_fields:
            if f.required_when is not None:
                codes = catalog.code_lists.get(info_class.field(f.required_when.field).code_list or "")
                self._needed.append((f, _compile_condition(f.required_when, codes)))
        self._condition_fields = sorted({f.required_when.field for f, _ in self._needed if f.required_when})
        self._needed_memo: dict[tuple[Any, ...], list[FieldDef]] = {}
        self._resident_fields = [f for f in self.fields if f.type == "resident_id"]
        self._resident_memo: dict[str, str | IdentifierError] = {}
        self._not_future = tuple(info_class.validations.date_not_future)
        self._not_after = tuple(info_class.validations.not_after)
        self._date_rules = bool(self._not_future or self._not_after)
        self._uscc_types = frozenset(load_uscc_authorities(True).types)
        self._readers: dict[str, Callable[[Any, FieldDef], Any]] = {
            "text": self._text,
            "date": self._date,
            "decimal": self._decimal,
            "integer": self._integer,
            "code_list": self._code,
            "uscc": self._uscc,
            "org_code": self._org_code,
            "legacy_reg_no": self._legacy,
            "resident_id": self._text_code,  # checked after the id type is known
        }
        self._plans: list[tuple[FieldDef, int, dict[str, _Outcome], Callable[[Any], _Outcome]]] = [
            (f, self.columns[f.name][0] if len(self.columns[f.name]) == 1 else -1, {}, self._compute(f))
            for f in self.fields
        ]

    def label(self, name: str) -> str:
        return self.info_class.field(name).label

    def raw_of(self, cells: Sequence[Any]) -> dict[str, Any]:
        """The row as submitted, for the rejection report (built only for rejected rows)."""
        return {
            (h or f"第{i + 1}列"): _plain(cells[i])
            for i, h in enumerate(self.header)
            if i < len(cells) and cells[i] not in (None, "")
        }

    def validate(self, number: int, cells: Sequence[Any]) -> ValidatedRow:
        values: dict[str, Any] = {}
        placeholders: dict[str, str] = {}
        errors: list[RowError] = []
        width = len(cells)
        for f, index, memo, compute in self._plans:
            if index < 0:  # fed by several columns: the slow, general path
                outcome = self._outcome(f, self._cell(f, cells))
            else:
                raw = cells[index] if index < width else None
                if raw.__class__ is str:
                    outcome = memo.get(raw, _MISSING)
                    if outcome is _MISSING:
                        outcome = compute(raw)
                        if len(memo) >= MEMO_LIMIT:
                            memo.clear()  # flat memory: a batch's repeated values come back within a chunk
                        memo[raw] = outcome
                else:
                    outcome = compute(raw)
            if outcome is None:
                continue
            value, placeholder, failure = outcome
            if placeholder is not None:
                placeholders[f.name] = placeholder
            if failure is not None:
                errors.append(RowError(failure[0], f.label, f"第 {number} 行「{f.label}」：{failure[1]}"))
            elif value is not None:
                values[f.name] = value
        if self.derived:
            self._derive(values, placeholders)
        if self._resident_fields:
            self._check_resident_ids(number, values, errors)
        self._check_required(number, values, placeholders, errors)
        if self._date_rules:
            self._check_dates(number, values, placeholders, errors)
        return ValidatedRow(number, values, self.raw_of(cells) if errors else {}, errors, placeholders)

    def _compute(self, f: FieldDef) -> Callable[[Any], _Outcome]:
        """The outcome of one raw cell of `f`, a pure function of the cell (so the batch memoises it)."""

        plain_text = f.type == "text" and not f.placeholder_values
        limit = f.max_length

        def compute(raw: Any) -> _Outcome:
            cell = normalize.text(raw) if isinstance(raw, str) else raw
            if plain_text and cell.__class__ is str:  # what _outcome gives, without cleaning the text twice
                if limit and len(cell) > limit:
                    return (None, None, ("too_long", f"超过 {limit} 个字符（现有 {len(cell)} 个）"))
                return (cell, None, None)
            return self._outcome(f, cell)

        return compute

    def _outcome(self, f: FieldDef, cell: Any) -> _Outcome:
        """(value, placeholder meaning, (error code, detail)) of a cleaned cell; None when it is blank."""
        if cell is None:
            return None
        placeholder = _placeholder(f, cell)
        if placeholder and f.type != "date":
            return (None, placeholder, None)
        try:
            value = self._readers[f.type](cell, f)
        except IdentifierError as exc:
            return (None, placeholder, (exc.code, exc.message))
        except ValueError as exc:
            return (None, placeholder, (_value_error_code(f, exc), str(exc)))
        return (None if value == [] else value, placeholder, None)

    # --- readers ------------------------------------------------------------------------------

    def _cell(self, f: FieldDef, cells: Sequence[Any]) -> Any:
        indices = self.columns[f.name]
        if len(indices) == 1:
            i = indices[0]
            cell = cells[i] if i < len(cells) else None
            return normalize.text(cell) if isinstance(cell, str) else cell
        found = [cells[i] for i in indices if i < len(cells) and normalize.text(cells[i]) is not None]
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        return ";".join(normalize.text(c) or "" for c in found)  # v1 处罚类别1 + 处罚类别2

    def _text(self, cell: Any, f: FieldDef) -> str | None:
        value = normalize.text(cell)
        if value is not None and f.max_length and len(value) > f.max_length:
            raise ValueError(f"超过 {f.max_length} 个字符（现有 {len(value)} 个）")
        return value

    def _text_code(self, cell: Any, f: FieldDef) -> str | None:
        value = normalize.text(cell)
        return normalize_code(value) if value else None

    def _date(self, cell: Any, f: FieldDef) -> date | None:
        return normalize.parse_date(cell)

    def _decimal(self, cell: Any, f: FieldDef) -> Decimal | None:
        value = normalize.parse_amount(cell, f.unit)
        if value is not None:
            self._range(value, f)
        return value

    def _integer(self, cell: Any, f: FieldDef) -> int | None:
        value = normalize.parse_integer(cell)
        if value is not None:
            self._range(Decimal(value), f)
        return value

    def _range(self, value: Decimal, f: FieldDef) -> None:
        if f.min is not None and value < f.min:
            raise _RangeError(f"不能小于 {f.min}（现为 {value}）", negative=f.min == 0 and value < 0)
        if f.max is not None and value > f.max:
            raise _RangeError(f"不能大于 {f.max}（现为 {value}）")

    def _code(self, cell: Any, f: FieldDef) -> str | list[str] | None:
        assert f.code_list is not None
        schemes = list(f.code_schemes) or None
        if f.multi:
            codes, unknown = self.catalog.resolve_codes(f.code_list, cell, f.split_separators, schemes)
            if unknown:
                raise _CodeError(self._unknown_message(f, "、".join(unknown)))
            return codes
        code = self.catalog.resolve_code(f.code_list, cell, schemes)
        if code is None:
            raise _CodeError(self._unknown_message(f, str(cell)))
        return code

    def _unknown_message(self, f: FieldDef, value: str) -> str:
        assert f.code_list is not None
        allowed = "、".join(v.label for v in self.catalog.code_list(f.code_list).values if not v.legacy)
        return f"“{value}”不在代码表中，应为：{allowed}"

    def _uscc(self, cell: Any, f: FieldDef) -> str:
        code = str(normalize.text(cell))
        if _is_canonical_uscc(code, self._uscc_types):
            return code  # what validate_uscc returns for it; the slow path explains every other code
        return validate_uscc(code)

    def _org_code(self, cell: Any, f: FieldDef) -> str:
        return validate_org_code(str(normalize.text(cell)))

    def _legacy(self, cell: Any, f: FieldDef) -> str:
        return validate_legacy_reg_no(str(normalize.text(cell)))

    def _derive(self, values: dict[str, Any], placeholders: dict[str, str]) -> None:
        """Fill columns the file does not have, as the catalogue says (see catalog.schemas.DERIVE_PATTERN)."""
        for f in self.derived:
            rule = f.derive or ""
            value: Any = None
            if rule.startswith("department.") and self.department:
                value = self.department[0] if rule == "department.name" else self.department[1]
            elif rule.startswith("field."):
                value = values.get(rule.removeprefix("field."))
            elif rule.startswith("const."):
                const = rule.removeprefix("const.")
                value = normalize.parse_date(const) if f.type == "date" else const
            elif rule == "infer.subject_category":
                value = infer_subject_category(values, self.info_class, placeholders)
            elif rule == "infer.id_type":
                spec = self.info_class.subject
                value = ID_TYPE_RESIDENT if spec.id_no and values.get(spec.id_no) else None
            if value is not None:
                values[f.name] = value

    # --- row checks ---------------------------------------------------------------------------

    def _check_resident_ids(self, number: int, values: dict[str, Any], errors: list[RowError]) -> None:
        """An ID number is checked as a resident ID card (GB 11643) when its 证件类型 says so or is blank."""
        for f in self.fields:
            if f.type != "resident_id" or f.name not in values:
                continue
            id_type = values.get(f.id_type_field) if f.id_type_field else None
            if id_type not in (None, ID_TYPE_RESIDENT):
                continue
            value = values[f.name]
            checked = self._resident_memo.get(value)
            if checked is None:
                try:
                    checked = validate_resident_id(value, today=self.today)
                except IdentifierError as exc:
                    checked = exc
                if len(self._resident_memo) >= MEMO_LIMIT:
                    self._resident_memo.clear()
                self._resident_memo[value] = checked
            if isinstance(checked, IdentifierError):
                errors.append(self._error(number, f, checked.code, checked.message))
                del values[f.name]
            else:
                values[f.name] = checked

    def _check_required(
        self, number: int, values: dict[str, Any], placeholders: dict[str, str], errors: list[RowError]
    ) -> None:
        failed = {e.column for e in errors} if errors else ()
        for f in (*self._always, *self._conditional(values)):
            name = f.name
            if name in values or name in placeholders or f.label in failed:
                continue
            if not f.required and name not in self._checkable:
                continue
            if f.required:
                errors.append(self._error(number, f, "missing_required", "为必填项，不能为空"))
            else:
                cond = f.required_when
                why = ""
                if cond is not None:
                    target = self.info_class.field(cond.field)
                    shown = values.get(cond.field)
                    codes = shown if isinstance(shown, list) else [shown]
                    why = f"（当「{target.label}」为 {'、'.join(self._code_label(target, c) for c in codes)} 时）"
                errors.append(self._error(number, f, "missing_conditional", f"为条件必填项，不能为空{why}"))

    def _conditional(self, values: dict[str, Any]) -> list[FieldDef]:
        """The conditional fields whose condition holds: a function of the few fields conditions look at."""
        try:
            key = tuple([tuple(v) if v.__class__ is list else v for v in map(values.get, self._condition_fields)])
            hit = self._needed_memo.get(key)
        except TypeError:  # an unhashable value: evaluate directly
            return [f for f, holds in self._needed if holds(values)]
        if hit is None:
            hit = [f for f, holds in self._needed if holds(values)]
            if len(self._needed_memo) >= MEMO_LIMIT:
                self._needed_memo.clear()
            self._needed_memo[key] = hit
        return hit

    def _code_label(self, f: FieldDef, code: Any) -> str:
        if f.code_list and isinstance(code, str) and code in self.catalog.code_list(f.code_list).codes:
            return self.catalog.code_list(f.code_list).value(code).label
        return str(code)

    def _check_dates(
        self, number: int, values: dict[str, Any], placeholders: dict[str, str], errors: list[RowError]
    ) -> None:
        for name in self._not_future:
            value = values.get(name)
            if isinstance(value, date) and value > self.today:
                f = self.info_class.field(name)
                errors.append(
                    self._error(number, f, "future_date", f"{value.isoformat()} 晚于今天，决定日期不能是将来")
                )
        for first, second in self._not_after:
            a, b = values.get(first), values.get(second)
            if isinstance(a, date) and isinstance(b, date) and a > b and second not in placeholders:
                fa, fb = self.info_class.field(first), self.info_class.field(second)
                errors.append(
                    self._error(
                        number,
                        fb,
                        "date_order",
                        f"{b.isoformat()} 早于「{fa.label}」{a.isoformat()}，请检查两个日期是否填反",
                    )
                )

    def _error(self, number: int, f: FieldDef, code: str, detail: str) -> RowError:
        return RowError(code, f.label, f"第 {number} 行「{f.label}」：{detail}")


class _RangeError(ValueError):
    def __init__(self, message: str, negative: bool = False) -> None:
        super().__init__(message)
        self.negative = negative


class _CodeError(ValueError):
    pass


def infer_subject_category(
    values: dict[str, Any], info_class: InfoClass, placeholders: dict[str, str] | None = None
) -> str | None:
    """行政相对人类别 from the codes a row carries: a 92… USCC is an individual business (GB 32100 type 2 of
    authority 9), any other USCC an organisation, an ID number alone a natural person; the no-code placeholder
    is what individual businesses without a USCC send."""
    spec = info_class.subject
    uscc = values.get(spec.uscc) if spec.uscc else None
    if spec.uscc and (placeholders or {}).get(spec.uscc) == "no_code":
        return "individual_business"
    if uscc:
        return "individual_business" if str(uscc).startswith("92") else "legal_person"
    if spec.id_no and values.get(spec.id_no):
        return "natural_person"
    return None


def _value_error_code(f: FieldDef, exc: ValueError) -> str:
    if isinstance(exc, _RangeError):
        return "negative_amount" if exc.negative else "out_of_range"
    if isinstance(exc, _CodeError):
        return "unknown_code"
    if f.type == "date":
        return "bad_date"
    if f.type in ("decimal", "integer"):
        return "bad_number"
    return "too_long"


def _placeholder(f: FieldDef, cell: Any) -> str | None:
    if not f.placeholder_values:
        return None
    value = normalize.text(cell)
    if value is None:
        return None
    if f.type == "date":
        try:
            parsed = normalize.parse_date(cell)
        except ValueError:
            return None
        value = parsed.isoformat() if parsed else value
    else:
        # normalize_code of a plain ASCII letters-and-digits value is its upper case (the common case: codes)
        value = value.upper() if value.isascii() and value.isalnum() else normalize_code(value)
    for p in f.placeholder_values:
        if value == p.value.upper() or value == p.value:
            return p.means
    return None


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a raw cell for the rejection report."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _compile_condition(cond: Condition, codes: CodeList | None) -> Callable[[dict[str, Any]], bool]:
    """`cond.holds` as a closure over plain sets (the `in` operator is the common one; the others delegate)."""
    if cond.in_ is None:
        return lambda values: cond.holds(values, codes)
    name, allowed = cond.field, frozenset(cond.in_)

    def holds(values: dict[str, Any]) -> bool:
        value = values.get(name)
        if isinstance(value, list | tuple):
            return any(v in allowed for v in value if v.__hash__ is not None)
        return value.__hash__ is not None and value in allowed

    return holds


_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_VALUE = {ch: i for i, ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_CHECK = {10: "X", 11: "0"}


def _is_canonical_uscc(code: str, types: frozenset[tuple[str, str]]) -> bool:
    """True only for a code `validate_uscc` accepts unchanged (GB 32100 + GB 11714 checks), at a tenth of its
    cost: a batch brings hundreds of thousands of distinct codes. Anything else goes through `validate_uscc`,
    which gives the error; tests/collection/test_fast_paths.py checks both agree."""
    if len(code) != 18 or (code[0], code[1]) not in types or not code[2:8].isascii() or not code[2:8].isdigit():
        return False
    try:
        total = sum(map(mul, map(_USCC_VALUE.__getitem__, code[:17]), _USCC_WEIGHTS))
    except KeyError:  # a character outside the code alphabet
        return False
    if code[17] != USCC_ALPHABET[(31 - total) % 31]:
        return False
    org = 11 - sum(map(mul, map(_ORG_VALUE.__getitem__, code[8:16]), _ORG_WEIGHTS)) % 11
    return code[16] == _ORG_CHECK.get(org, str(org))
