"""A report's content (a canonical, JSON-able dict built from one subject view) and its PDF (HTML → WeasyPrint).

Section order follows the 信用中国 public credit report, 《公共信用信息报告标准（2022年版）》 (国家公共信用信息中心,
2022-09-07; DOMAIN.md §4.6). Records are placed by their catalogue category; the city's supplementary classes go to
the last section. Fonts: the CSS names must match fontconfig ('Noto Sans CJK SC', STACK.md §7).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import segno
from cryptography.hazmat.primitives import hashes
from jinja2 import Environment, FileSystemLoader, select_autoescape

from xinyong.catalog.schemas import FieldDef, InfoClass
from xinyong.catalog.service import get_catalog
from xinyong.core import clock
from xinyong.publicity.labels import SCHEME_LABELS, class_label, state_label
from xinyong.publicity.views import RecordView, SubjectView
from xinyong.reports.models import REPORT_KIND_LABELS, ReportKind

PLATFORM = "南京市公共信用信息平台"
CONTENT_FORMAT = "xinyong.credit_report/1"
NO_RECORDS = "暂无记录"


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    categories: tuple[str, ...] = ()


SECTIONS = (
    Section("administrative", "行政管理", ("administrative",)),
    Section("honesty", "诚实守信", ("honours",)),
    Section("dishonesty_list", "严重失信主体名单", ("dishonesty_list",)),
    Section("abnormal_operation", "经营异常", ("abnormal_operation",)),
    Section("commitment", "信用承诺", ("commitment",)),
    Section("evaluation", "信用评价", ("evaluation_result",)),
    Section("judicial", "司法判决", ("judicial",)),
    Section(
        "other",
        "其他信息",
        ("professional_qualification", "contract_performance", "law_compliance", "intellectual_property", "voluntary"),
    ),
    Section("advice", "信用状况提升建议"),
    Section("local", "公共信用信息地方补充内容"),
)
SECTION_NUMBERS = "一二三四五六七八九十"
_BY_CATEGORY = {cat: s.code for s in SECTIONS for cat in s.categories}
BASIC_CATEGORY = "registration"  # 登记注册基本信息 is the report's 基础信息, not a numbered section
ADVERSE_SECTIONS = ("dishonesty_list", "abnormal_operation")

# Not printed per record: they identify the subject (shown once, in 基础信息) or are transmission bookkeeping.
HIDDEN_FIELDS = frozenset(
    {
        "legal_rep",
        "legal_rep_id_type",
        "legal_rep_id_no",
        "status",
        "region_code",
        "updated_at",
        "deciding_authority_uscc",
        "data_source_uscc",
        "result_code",  # an inspection result's machine code; its label (检查结果) is printed
    }
)


def section_of(info_class: InfoClass | None) -> str:
    if info_class is None:
        return "other"
    if info_class.kind == "supplementary":
        return "local"
    return _BY_CATEGORY.get(info_class.catalog_category, "other")


def _display(field: FieldDef, value: Any) -> str:
    """A payload value as printed: code-list codes become their labels, lists are joined with 、."""
    values = value if isinstance(value, list) else [value]
    if field.code_list:
        codes = get_catalog().code_list(field.code_list)
        values = [codes.value(v).label if v in codes.codes else v for v in values]
    return "、".join(str(v) for v in values if v not in (None, ""))


def _fields(info_class: InfoClass | None, payload: dict[str, Any], skip: frozenset[str]) -> list[list[str]]:
    if info_class is None:
        return [[k, str(v)] for k, v in payload.items() if k not in skip and v not in (None, "", [])]
    out = []
    for field in info_class.fields:
        if field.name in skip:
            continue
        text = _display(field, payload.get(field.name))
        if text:
            out.append([field.label, text])
    return out


def _record(rec: RecordView, info_class: InfoClass | None) -> dict[str, Any]:
    skip = HIDDEN_FIELDS | frozenset(info_class.subject.field_names if info_class else ())
    fields = _fields(info_class, rec.payload, skip)
    if rec.publicity_end:
        fields.append(["公示截止日期", rec.publicity_end.isoformat()])
    if rec.rule_name:
        fields.append(["公示期依据", rec.rule_name])
    if rec.state != "active" or rec.disputed:
        fields.append(["信息状态", "异议处理中" if rec.disputed else state_label(rec.state)])
    return {"class": class_label(rec.info_class), "decision_no": rec.decision_no or "", "fields": fields}


def _advice(counts: dict[str, int], has_penalty: bool) -> list[str]:
    adverse = has_penalty or any(counts.get(code) for code in ADVERSE_SECTIONS)
    if not adverse:
        return ["本报告未载有失信信息，请继续保持良好的信用状况，依法诚信经营。"]
    return [
        "本报告载有行政处罚、经营异常或严重失信主体名单等信息。信用主体可在纠正失信行为、履行相关义务后，"
        "按照国家信用修复有关规定，通过“信用中国”网站或本平台申请信用修复。",
        "对信息内容有异议的，可向本平台或信息提供单位提出异议申请。",
    ]


def grade_record(grade: dict[str, Any]) -> dict[str, Any]:
    """The subject's latest grade (`evaluation.pages.grade_view`) as an entry of 信用评价: the grade, the score and
    the largest contributions in words, so the report says why, as the subject page does."""
    fields = [
        ["信用等级", f"{grade['grade']}（{grade['label']}）" if grade.get("label") else str(grade["grade"])],
        [
            "评价得分",
            f"{grade['score_text']}（基础分 {grade['base_score']}）"
            if grade.get("base_score")
            else grade["score_text"],
        ],
        ["评价模型", f"{grade['model_name']}（{grade['version']}）"],
        ["评价日期", str(grade["as_of"])],
    ]
    reasons = [r["text"] for r in grade.get("reasons", [])]
    if reasons:
        fields += [[f"主要因素{i}", text] for i, text in enumerate(reasons, start=1)]
    else:
        fields.append(["主要因素", "评价期内没有影响得分的信用信息，按基础分评定"])
    if grade.get("more"):
        fields.append(["其他因素", f"另有 {grade['more']} 项影响较小的因素"])
    if not grade.get("confirmed", True):
        fields.append(["说明", "评价模型的指标和权重为示例设置，尚待主管部门确认"])
    return {"class": "公共信用综合评价", "decision_no": "", "fields": fields}


def report_content(
    subject: SubjectView,
    kind: ReportKind,
    serial: str,
    issued_at: datetime,
    purpose: str | None = None,
    grade: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything the report states, as plain JSON types; its SM3 digest is the report's fingerprint. `grade` (the
    subject's latest grade view, if graded) opens the 信用评价 section."""
    catalog = get_catalog()
    sections: dict[str, list[dict[str, Any]]] = {s.code: [] for s in SECTIONS}
    registration: list[list[str]] = []
    has_penalty = False
    if grade is not None:
        sections["evaluation"].append(grade_record(grade))
    for rec in subject.records:
        info_class = catalog.classes.get(rec.info_class)
        if info_class is not None and info_class.catalog_category == BASIC_CATEGORY:
            skip = frozenset(info_class.subject.field_names) | {"subject_type", "district"}
            registration.extend(f for f in _fields(info_class, rec.payload, skip) if f not in registration)
            continue
        has_penalty = has_penalty or rec.info_class == "admin_penalty"
        sections[section_of(info_class)].append(_record(rec, info_class))
    counts = {code: len(items) for code, items in sections.items() if code != "advice"}
    identifiers = [[SCHEME_LABELS.get(s, s), v] for s, v in subject.identifiers if s != "uscc"]
    return {
        "format": CONTENT_FORMAT,
        "platform": PLATFORM,
        "serial": serial,
        "kind": kind.value,
        "title": REPORT_KIND_LABELS[kind],
        "view": subject.view.value,
        "issued_at": issued_at.isoformat(timespec="seconds"),
        "purpose": purpose if kind == ReportKind.REVIEW else None,
        "subject": {
            "name": subject.name,
            "kind": subject.kind_label,
            "uscc": subject.uscc,
            "district": subject.district,
            "identifiers": identifiers,
            "registration": registration,
        },
        "sections": [
            {
                "code": s.code,
                "title": s.title,
                "records": sections[s.code],
                **({"paragraphs": _advice(counts, has_penalty)} if s.code == "advice" else {}),
            }
            for s in SECTIONS
        ],
    }


def canonical_json(content: dict[str, Any]) -> bytes:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def digest(content: dict[str, Any]) -> str:
    """SM3 (GB/T 32905) of the canonical JSON, hex — the same hash the audit chain uses."""
    h = hashes.Hash(hashes.SM3())
    h.update(canonical_json(content))
    return h.finalize().hex()


def section_counts(content: dict[str, Any]) -> list[list[Any]]:
    return [[s["title"], len(s["records"])] for s in content["sections"] if s["code"] != "advice"]


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=4)


def group_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@cache
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def report_html(content: dict[str, Any], verification_code: str, verify_url: str, verify_home: str) -> str:
    return (
        _env()
        .get_template("report.html")
        .render(
            c=content,
            numbers=SECTION_NUMBERS,
            no_records=NO_RECORDS,
            counts=section_counts(content),
            issued_local=clock.to_local(datetime.fromisoformat(content["issued_at"])).strftime("%Y年%m月%d日 %H:%M:%S"),
            code=group_code(verification_code),
            verify_url=verify_url,
            verify_home=verify_home,
            qr=qr_data_uri(verify_url),
        )
    )


def render_pdf(content: dict[str, Any], verification_code: str, base_url: str) -> bytes:
    """A4 PDF; the canonical content rides along as the attachment `content.json`, so anyone holding the PDF can
    recompute the digest the verify page shows."""
    from weasyprint import HTML, Attachment

    root = base_url.rstrip("/")
    html = report_html(content, verification_code, f"{root}/verify/{group_code(verification_code)}", f"{root}/verify")
    attachment = Attachment(
        string=canonical_json(content).decode(), name="content.json", description="报告内容（规范化 JSON）"
    )
    return HTML(string=html).write_pdf(attachments=[attachment], font_config=_fonts())


@cache
def _fonts() -> Any:
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()
