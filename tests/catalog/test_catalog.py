"""The catalogue files load, map every header spelling, resolve codes, and accept city classes as data."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from xinyong.catalog.service import (
    ENV_VAR,
    Catalog,
    CatalogError,
    UnknownInfoClass,
    clear_catalog_cache,
    get_catalog,
    load_catalog,
    normalize_header,
)
from xinyong.core.errors import NotFound

# DOMAIN §4.3, the "2.0" penalty record.
PENALTY_V2_CODES = [
    "CF_XDR_MC", "CF_XDR_LB", "CF_XDR_SHXYM", "CF_XDR_GSZC", "CF_XDR_ZZJG", "CF_XDR_SWDJ", "CF_XDR_SYDW",
    "CF_XDR_SHZZ", "CF_FRDB", "CF_FR_ZJLX", "CF_FR_ZJHM", "CF_XDR_ZJLX", "CF_XDR_ZJHM", "CF_WSH", "CF_WFXW",
    "CF_SY", "CF_YJ", "CF_CFLB", "CF_NR", "CF_NR_FK", "CF_NR_WFFF", "CF_NR_ZKDX", "CF_JDRQ", "CF_YXQ",
    "CF_GSJZQ", "CF_CFJG", "CF_CFJGDM", "CF_SJLY", "CF_SJLYDM", "BZ",
]  # fmt: skip
# DOMAIN §4.4, the "2.0" licence record.
LICENSE_V2_CODES = [
    "XK_XDR_MC", "XK_XDR_LB", "XK_XDR_SHXYM", "XK_XDR_GSZC", "XK_XDR_ZZJG", "XK_XDR_SWDJ", "XK_XDR_SYDW",
    "XK_XDR_SHZZ", "XK_FRDB", "XK_FR_ZJLX", "XK_FR_ZJHM", "XK_XDR_ZJLX", "XK_XDR_ZJHM", "XK_XKWS", "XK_WSH",
    "XK_XKLB", "XK_XKZS", "XK_XKBH", "XK_NR", "XK_JDRQ", "XK_YXQZ", "XK_YXQZI", "XK_XKJG", "XK_XKJGDM",
    "XK_ZT", "XK_LYDW", "XK_LYDWDM", "BZ",
]  # fmt: skip
# DOMAIN §4.2, v1.
PENALTY_V1_CODES = [
    "CF_WSH", "CF_CFMC", "CF_CFLB1", "CF_CFLB2", "CF_SY", "CF_YJ", "CF_XDR_MC", "CF_XDR_SHXYM", "CF_XDR_ZDM",
    "CF_XDR_GSDJ", "CF_XDR_SWDJ", "CF_XDR_SFZ", "CF_FR", "CF_JG", "CF_JDRQ", "CF_XZJG", "CF_ZT", "DFBM", "SJC",
    "BZ",
]  # fmt: skip
LICENSE_V1_CODES = [
    "XK_WSH", "XK_XMMC", "XK_SPLB", "XK_NR", "XK_XDR", "XK_XDR_SHXYM", "XK_XDR_ZDM", "XK_XDR_GSDJ",
    "XK_XDR_SWDJ", "XK_XDR_SFZ", "XK_FR", "XK_JDRQ", "XK_JZQ", "XK_XZJG", "XK_ZT", "DFBM", "SJC", "BZ",
]  # fmt: skip

UTILITY_ARREARS: dict[str, Any] = {
    "code": "utility_arrears",
    "name": "公用事业欠费信息",
    "catalog_category": "contract_performance",
    "kind": "supplementary",
    "provided_by": ["国网南京供电公司"],
    "legal_basis": [{"title": "江苏省社会信用条例", "note": "公用事业单位提供公共信用信息", "confirmed": False}],
    "effective_from": "2025-01-01",
    "version": 1,
    "deadline_working_days": None,
    "natural_key": ["account_no", "arrears_since"],
    "subject": {"name": "subject_name", "category": "subject_category", "uscc": "uscc", "id_no": "id_no"},
    "validations": {"date_not_future": ["arrears_since"]},
    "fields": [
        {"name": "subject_name", "label": "户名", "aliases": ["用户名称"], "required": True},
        {
            "name": "subject_category",
            "label": "用户类别",
            "type": "code_list",
            "code_list": "subject_category",
            "required": True,
        },
        {
            "name": "uscc",
            "label": "统一社会信用代码",
            "type": "uscc",
            "required_when": {"field": "subject_category", "in": ["legal_person", "individual_business"]},
        },
        {
            "name": "id_no",
            "label": "身份证号码",
            "type": "resident_id",
            "required_when": {"field": "subject_category", "in": ["natural_person"]},
        },
        {"name": "account_no", "label": "用电户号", "aliases": ["户号"], "required": True},
        {
            "name": "arrears_amount",
            "label": "欠费金额（元）",
            "type": "decimal",
            "unit": "元",
            "min": 0,
            "required": True,
        },
        {"name": "arrears_since", "label": "欠费起始日期", "type": "date", "required": True},
    ],
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def write_class(directory: Path, data: dict[str, Any], filename: str | None = None) -> Path:
    path = directory / (filename or f"{data['code']}.yaml")
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_packaged_catalogue_loads_base_classes_and_editions(catalog: Catalog) -> None:
    assert {"admin_penalty", "admin_license", "registration"} <= set(catalog.classes)
    assert [(e.edition, len(e.categories)) for e in catalog.editions] == [(2021, 11), (2022, 12), (2024, 13)]
    assert catalog.current_edition.edition == 2024
    assert catalog.edition(2022).category("law_compliance") is not None
    assert catalog.edition(2021).category("law_compliance") is None
    assert catalog.category("intellectual_property").name == "知识产权信息"
    assert not catalog.edition(2021).document_no_confirmed
    for info_class in catalog.classes.values():
        assert info_class.kind == "base"
        assert catalog.sources[info_class.code].is_file()


def test_double_publicity_classes_carry_deadline_and_legal_basis(catalog: Catalog) -> None:
    for code in ("admin_penalty", "admin_license"):
        info_class = catalog.get(code)
        assert info_class.deadline_working_days == 7
        assert {b.document_no for b in info_class.legal_basis} >= {"国办发〔2015〕51号", "发改办财金〔2018〕424号"}
        assert info_class.natural_key[0] == "decision_no"
    registration = catalog.get("registration")
    assert registration.deadline_working_days is None
    assert registration.natural_key == ("uscc",)


def test_admin_penalty_has_every_v2_and_v1_code(catalog: Catalog) -> None:
    fields = catalog.get("admin_penalty").fields
    assert sorted(f.codes["v2"] for f in fields if "v2" in f.codes) == sorted(PENALTY_V2_CODES)
    headers = catalog.header_map("admin_penalty")
    assert all(code in headers for code in PENALTY_V1_CODES)


def test_admin_license_has_every_v2_and_v1_code(catalog: Catalog) -> None:
    fields = catalog.get("admin_license").fields
    assert sorted(f.codes["v2"] for f in fields if "v2" in f.codes) == sorted(LICENSE_V2_CODES)
    headers = catalog.header_map("admin_license")
    assert all(code in headers for code in LICENSE_V1_CODES)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("CF_XDR_SHXYM", "uscc"),
        ("cf_xdr_shxym", "uscc"),
        ("行政相对人代码_1(统一社会信用代码)", "uscc"),
        ("行政相对人代码_1（统一社会信用代码）", "uscc"),
        ("统一社会信用代码", "uscc"),
        ("uscc", "uscc"),
        ("CF_XDR_SFZ", "id_no"),
        ("CF_XDR_ZJHM", "id_no"),
        ("CF_FR", "legal_rep"),
        ("CF_FRDB", "legal_rep"),
        ("CF_XDR_ZDM", "org_code"),
        ("CF_XDR_GSDJ", "legacy_reg_no"),
        ("CF_XZJG", "deciding_authority"),
        ("CF_CFLB1", "penalty_category"),
        ("CF_CFLB2", "penalty_category"),
        ("罚款金额(万元)", "fine_amount"),
        ("罚款金额（万元）", "fine_amount"),
        ("cf_nr_fk", "fine_amount"),
        ("失信严重程度", "severity"),
    ],
)
def test_header_map_accepts_every_spelling(catalog: Catalog, header: str, field: str) -> None:
    assert catalog.header_map("admin_penalty")[header] == field


@pytest.mark.parametrize(
    ("header", "field"),
    [
        (" 行政相对人名称 ", "subject_name"),
        ("*行政处罚决定书文号", "decision_no"),
        ("处罚决定日期(必填)", "decision_date"),
        ("处罚决定日期（必填）", "decision_date"),
        ("罚款金额 （万元）【选填】", "fine_amount"),
        ("Cf_Xdr_Shxym", "uscc"),
        ("\ufeffCF_XDR_MC", "subject_name"),
        ("no such column", None),
    ],
)
def test_field_for_header_normalises_before_lookup(catalog: Catalog, header: str, field: str | None) -> None:
    assert catalog.field_for_header("admin_penalty", header) == field


def test_licence_header_map_maps_v1_and_v2(catalog: Catalog) -> None:
    headers = catalog.header_map("admin_license")
    assert headers["XK_XDR"] == headers["XK_XDR_MC"] == "subject_name"
    assert headers["XK_JZQ"] == headers["xk_yxqzi"] == "valid_to"
    assert headers["XK_SPLB"] == headers["许可类别"] == "license_category"
    assert headers["XK_ZT"] == "status"


def test_normalize_header() -> None:
    assert normalize_header(" 罚款金额（万元）(必填) ") == "罚款金额(万元)"
    assert normalize_header("法定代表人 \n 姓名*") == "法定代表人姓名"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("警告", "warning"),
        ("通报批评", "public_criticism"),
        ("罚款", "fine"),
        ("1", "fine"),
        ("1.0", "fine"),
        ("0", "warning"),
        ("没收违法所得、没收非法财物", "confiscate_gains_and_property"),
        ("2", "confiscate_gains_and_property"),
        ("暂扣或者吊销许可证、暂扣或者吊销执照", "suspend_or_revoke_license"),
        ("4", "suspend_or_revoke_license"),
        ("吊销许可证件", "revoke_license"),
        ("限制从业", "restrict_practice"),
        ("行政拘留", "detention"),
        ("其他（需注明）", "other"),
        ("其他-责令改正", "other"),
        ("6", "other"),
        ("fine", "fine"),
        ("罚 款", "fine"),
        ("没有这种处罚", None),
        ("", None),
    ],
)
def test_resolve_penalty_category_old_and_new_wording(catalog: Catalog, raw: str, code: str | None) -> None:
    assert catalog.resolve_code("penalty_category", raw) == code


def test_penalty_categories_carry_article_9_groups(catalog: Catalog) -> None:
    penalty = catalog.code_lists["penalty_category"]
    assert penalty.groups == frozenset(range(1, 7))
    assert penalty.value("confiscate_illegal_gains").group == 2
    assert penalty.value("suspend_or_revoke_license").legacy


@pytest.mark.parametrize(
    ("raw", "codes", "unknown"),
    [
        ("警告;罚款", ["warning", "fine"], []),
        ("罚款；没收违法所得、没收非法财物", ["fine", "confiscate_gains_and_property"], []),
        ("罚款、没收违法所得", ["fine", "confiscate_illegal_gains"], []),
        ("罚款,责令停产停业，法律、行政法规规定的其他行政处罚", ["fine", "order_suspend_business", "other"], []),
        ("1;5", ["fine", "detention"], []),
        ("罚款;;乱写", ["fine"], ["乱写"]),
        ("", [], []),
    ],
)
def test_resolve_codes_splits_multi_valued_cells(
    catalog: Catalog, raw: str, codes: list[str], unknown: list[str]
) -> None:
    assert catalog.resolve_codes("penalty_category", raw) == (codes, unknown)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("法人及非法人组织", "legal_person"),
        ("法人", "legal_person"),
        ("法人和非法人组织", "legal_person"),
        ("法人及其他组织", "legal_person"),
        ("1", "legal_person"),
        ("FRJFFRZZ", "legal_person"),
        ("自然人", "natural_person"),
        ("2", "natural_person"),
        ("个体户", "individual_business"),
        ("4", "individual_business"),
        ("3", None),
    ],
)
def test_resolve_subject_category_with_vendor_codes(catalog: Catalog, raw: str, code: str | None) -> None:
    assert catalog.resolve_code("subject_category", raw) == code


def test_record_status_depends_on_the_field_scheme(catalog: Catalog) -> None:
    status = catalog.code_lists["record_status"]
    licence_schemes = catalog.get("admin_license").field("status").code_schemes
    penalty_schemes = catalog.get("admin_penalty").field("status").code_schemes
    assert catalog.resolve_code("record_status", "1", licence_schemes) == "valid"
    assert catalog.resolve_code("record_status", "0", licence_schemes) == "normal"
    assert catalog.resolve_code("record_status", "1", penalty_schemes) == "revoked"
    assert catalog.resolve_code("record_status", "1") is None  # ambiguous without a scheme
    assert catalog.resolve_code("record_status", "") == "normal"
    assert catalog.resolve_code("record_status", "撤销") == "revoked"
    assert {v.code for v in status.values if v.ends_record} == {"revoked", "invalid"}


@pytest.mark.parametrize(
    ("list_name", "raw", "code"),
    [
        ("license_category", "普通", "ordinary"),
        ("license_category", "其他-备案", "other"),
        ("id_type", "身份证", "resident_id"),
        ("id_type", "护照号", "passport"),
        ("id_type", "其他-军官证", "other"),
        ("severity", "严重失信", "serious"),
        ("registration_status", "在业", "active"),
        ("registration_status", "存续(在营、开业、在册)", "active"),
        ("industry_section", "c", "manufacturing"),
        ("industry_section", "制造业", "manufacturing"),
    ],
)
def test_resolve_other_code_lists(catalog: Catalog, list_name: str, raw: str, code: str) -> None:
    assert catalog.resolve_code(list_name, raw) == code


def test_required_fields_follow_conditions(catalog: Catalog) -> None:
    penalty = catalog.get("admin_penalty")
    base = {"subject_category": "natural_person", "penalty_category": ["warning"]}
    required = catalog.required_for("admin_penalty", base)
    assert {"id_no", "id_type"} <= set(required)
    assert not {"uscc", "fine_amount", "legal_rep"} & set(required)
    row = {"subject_category": "legal_person", "penalty_category": ["fine", "revoke_license"]}
    assert {"uscc", "legal_rep", "fine_amount", "license_revoked"} <= set(catalog.required_for("admin_penalty", row))
    assert "decision_no" in penalty.required_fields
    assert "severity" in penalty.expected_fields
    assert penalty.field("penalty_category").multi
    assert [p.value for p in penalty.field("uscc").placeholder_values] == ["00000000000000000X"]
    assert [p.value for p in penalty.field("penalty_valid_until").placeholder_values] == ["2099-12-31"]
    assert penalty.validations.date_not_future == ("decision_date",)
    assert catalog.get("admin_license").validations.not_after == (("valid_from", "valid_to"),)


def test_contains_group_condition(catalog: Catalog) -> None:
    from xinyong.catalog.schemas import Condition

    cond = Condition.model_validate({"field": "penalty_category", "contains_group": 2})
    penalty = catalog.code_lists["penalty_category"]
    assert cond.holds({"penalty_category": ["warning", "confiscate_illegal_gains"]}, penalty)
    assert not cond.holds({"penalty_category": ["warning"]}, penalty)
    assert Condition.model_validate({"field": "x", "present": True}).holds({"x": "a"})


def test_unknown_class_lists_known_classes(catalog: Catalog) -> None:
    with pytest.raises(UnknownInfoClass, match="admin_penalty") as exc:
        catalog.get("admin_penalties")
    assert isinstance(exc.value, ValueError)
    assert isinstance(exc.value, NotFound)
    assert "未知的信息类" in str(exc.value)


def test_catalog_is_immutable(catalog: Catalog) -> None:
    with pytest.raises(TypeError):
        catalog.classes["x"] = catalog.get("registration")  # type: ignore[index]
    with pytest.raises(ValueError):
        catalog.get("registration").code = "x"  # type: ignore[misc]


def test_supplementary_class_is_a_data_change(tmp_path: Path) -> None:
    write_class(tmp_path, UTILITY_ARREARS)
    catalog = load_catalog(extra_dirs=[tmp_path])
    arrears = catalog.get("utility_arrears")
    assert arrears.kind == "supplementary"
    assert arrears.provided_by == ("国网南京供电公司",)
    assert arrears.legal_basis[0].title == "江苏省社会信用条例"
    assert arrears.field_names == (
        "subject_name", "subject_category", "uscc", "id_no", "account_no", "arrears_amount", "arrears_since",
    )  # fmt: skip
    assert catalog.field_for_header("utility_arrears", "户号") == "account_no"
    assert catalog.field_for_header("utility_arrears", "欠费金额(元)") == "arrears_amount"
    assert "admin_penalty" in catalog.classes


def test_extra_dir_may_bring_its_own_code_list(tmp_path: Path) -> None:
    (tmp_path / "code_lists.yaml").write_text(
        yaml.safe_dump(
            {"code_lists": [{"code": "utility_kind", "name": "公用事业类别", "values": [
                {"code": "electricity", "label": "电", "aliases": ["电费"]},
                {"code": "water", "label": "水", "aliases": ["水费"]},
            ]}]},
            allow_unicode=True,
        ),
        encoding="utf-8",
    )  # fmt: skip
    data = copy.deepcopy(UTILITY_ARREARS)
    data["fields"].append(
        {"name": "utility_kind", "label": "欠费类别", "type": "code_list", "code_list": "utility_kind"}
    )
    write_class(tmp_path, data)
    catalog = load_catalog(extra_dirs=[tmp_path])
    assert catalog.resolve_code("utility_kind", "电费") == "electricity"


def _broken(mutate: Any) -> dict[str, Any]:
    data = copy.deepcopy(UTILITY_ARREARS)
    mutate(data)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_broken(lambda d: d.update(colour="blue")), "colour"),
        (_broken(lambda d: d["fields"][0].update(requried=True)), "requried"),
        (_broken(lambda d: d["fields"][1].update(code_list="subject_kind")), "subject_kind"),
        (_broken(lambda d: d["fields"][2]["required_when"].update(field="category")), "category"),
        (_broken(lambda d: d["fields"][2]["required_when"].update({"in": ["company"]})), "company"),
        (_broken(lambda d: d.update(natural_key=["account_number"])), "account_number"),
        (_broken(lambda d: d.update(catalog_category="utilities")), "utilities"),
        (_broken(lambda d: d["fields"][5].update(type="money")), "type"),
        (_broken(lambda d: d.pop("legal_basis")), "legal_basis"),
        (_broken(lambda d: d["fields"].append({"name": "subject_name", "label": "户主"})), "subject_name"),
        (_broken(lambda d: d["fields"].append({"name": "owner", "label": "户名"})), "户名"),
    ],
)
def test_malformed_class_file_names_file_and_key(tmp_path: Path, data: dict[str, Any], message: str) -> None:
    path = write_class(tmp_path, data, "broken.yaml")
    with pytest.raises(CatalogError) as exc:
        load_catalog(extra_dirs=[tmp_path])
    assert str(path) in str(exc.value)
    assert message in str(exc.value)


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("code: a\ncode: b\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"dup\.yaml"):
        load_catalog(extra_dirs=[tmp_path])


def test_duplicate_class_code_fails_unless_replaces(tmp_path: Path) -> None:
    penalty = yaml.safe_load(Path(load_catalog().sources["admin_penalty"]).read_text(encoding="utf-8"))
    penalty["kind"] = "supplementary"
    path = write_class(tmp_path, penalty, "my_penalty.yaml")
    with pytest.raises(CatalogError, match="replaces") as exc:
        load_catalog(extra_dirs=[tmp_path])
    assert str(path) in str(exc.value)

    penalty["replaces"] = True
    penalty["version"] = 2
    write_class(tmp_path, penalty, "my_penalty.yaml")
    catalog = load_catalog(extra_dirs=[tmp_path])
    assert catalog.get("admin_penalty").version == 2
    assert catalog.sources["admin_penalty"] == path


def test_replaces_without_a_class_to_replace_fails(tmp_path: Path) -> None:
    write_class(tmp_path, {**UTILITY_ARREARS, "replaces": True})
    with pytest.raises(CatalogError, match="replaces"):
        load_catalog(extra_dirs=[tmp_path])


def test_two_city_files_with_one_code_fail(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    write_class(first, UTILITY_ARREARS)
    write_class(second, UTILITY_ARREARS)
    with pytest.raises(CatalogError, match="utility_arrears"):
        load_catalog(extra_dirs=[first, second])


def test_missing_extra_dir_fails(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="nowhere"):
        load_catalog(extra_dirs=[tmp_path / "nowhere"])


def test_get_catalog_reads_dirs_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_class(tmp_path, UTILITY_ARREARS)
    clear_catalog_cache()
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert "utility_arrears" in get_catalog().classes
    assert get_catalog() is get_catalog()
    monkeypatch.delenv(ENV_VAR)
    assert "utility_arrears" not in get_catalog().classes
    clear_catalog_cache()


def test_code_labels_name_each_code_by_code_name_and_scheme_code():
    from xinyong.catalog.service import get_catalog

    labels = get_catalog().code_labels("industry_section")
    assert labels["manufacturing"] == labels["C"] == "制造业"  # GB/T 4754 section letter
    assert labels["agriculture"] == labels["A"] == "农、林、牧、渔业"
    assert get_catalog().code_labels("no_such_list") == {}
