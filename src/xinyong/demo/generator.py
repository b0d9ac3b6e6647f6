"""The demo city: department submission files for a small Nanjing, with a manifest of ground truth.

``generate_city(subjects, seed, out)`` writes registration files (market supervision, 民政) and
monthly 双公示 files (行政许可, 行政处罚) of the 12 months before ``as_of`` in each department's own
layout, plus ``out/manifest.json``. Everything is drawn from one ``random.Random(seed)``: the same
(subjects, seed, error_rate, as_of) gives byte-identical files, XLSX included.

About ``error_rate`` of the 双公示 rows carry exactly one mistake each (see ``mistakes.REJECT_KINDS``);
``expected_valid + expected_rejected == rows`` for every file. Rows repeated in a file, later
corrections and withdrawals are valid rows and counted in ``error_kinds`` too.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from xinyong.core import clock
from xinyong.demo import layouts, mistakes
from xinyong.demo.layouts import Layout
from xinyong.demo.mistakes import REJECT_KINDS, VALID_KINDS, FileKey
from xinyong.demo.records import (
    LICENSE,
    PENALTY,
    RecordMaker,
    Row,
    add_months,
    add_weekdays,
    messy_code,
    month_index,
    window_start,
)
from xinyong.demo.subjects import Subject, make_subjects
from xinyong.demo.words import Words, load_words

REGISTRATION = "registration"
__all__ = ["REJECT_KINDS", "VALID_KINDS", "GeneratedFile", "Manifest", "generate_city"]

_CLASS_TITLE = {REGISTRATION: "登记注册信息", LICENSE: "行政许可信息", PENALTY: "行政处罚信息"}


@dataclass
class GeneratedFile:
    path: str  # relative to the output directory
    department: str  # department code (accounts/data/departments.yaml)
    info_class: str  # registration | admin_license | admin_penalty
    format: str  # csv | xlsx | json | jsonl
    encoding: str | None  # utf-8 | utf-8-sig | gbk | None (xlsx)
    header_style: str  # label | v2 | v1 | mixed
    rows: int  # data rows (not counting title, blank and header rows)
    expected_valid: int
    expected_rejected: int
    submitted_on: str  # ISO date the department would submit the file
    error_kinds: dict[str, int]  # kind → rows (REJECT_KINDS reject the row, VALID_KINDS do not)
    header_row: int = 1  # 1-based header line (3 below a title row; 0 for JSON)
    marked_rows: dict[str, list[int]] = field(default_factory=dict)  # kind → 1-based data row numbers


@dataclass
class Manifest:
    seed: int
    subjects: int
    as_of: str
    error_rate: float
    files: list[GeneratedFile]
    subject_kinds: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        data["files"] = [GeneratedFile(**f) for f in data["files"]]
        return cls(**data)


@dataclass
class _Plan:
    key: FileKey
    name: str  # period part of the file name: YYYY-MM or "stock"
    submitted_on: date
    title: str
    rows: list[Row] = field(default_factory=list)  # 双公示 files
    subjects: list[Subject] = field(default_factory=list)  # registration files


def generate_city(
    subjects: int,
    seed: int,
    out: Path,
    error_rate: float = 0.03,
    as_of: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Manifest:
    """Write the demo city's submission files and ``out/manifest.json``; return the manifest.
    ``as_of`` (default: the platform's today) is the data date: files cover its 12 months."""
    as_of = as_of or clock.today()
    rng, words = random.Random(seed), load_words()
    people = make_subjects(subjects, rng, words, as_of)
    submitters = sorted(c for c, d in words.departments.items() if d.submits)
    layout_of = layouts.assign_layouts(rng, submitters)
    files = _record_files(people, rng, words, as_of, layout_of, error_rate)
    plans = _registration_plans(people, rng, words, as_of, layout_of)
    plans += _record_plans(files, rng, words, as_of, layout_of)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for done, plan in enumerate(plans, 1):
        written.append(_write(plan, out, rng, words, layout_of[plan.key[0]]))
        if progress:
            progress(done, len(plans))
    kinds: dict[str, int] = defaultdict(int)
    for s in people:
        kinds[s.kind] += 1
    manifest = Manifest(seed, subjects, as_of.isoformat(), error_rate, written, dict(kinds))
    (out / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _record_files(
    people: list[Subject],
    rng: random.Random,
    words: Words,
    as_of: date,
    layout_of: dict[str, Layout],
    error_rate: float,
) -> dict[FileKey, list[Row]]:
    """双公示 rows grouped per (department, class, month), with mistakes, versions and repeats."""
    maker = RecordMaker(rng, words, as_of, {c: lay.wording for c, lay in layout_of.items()})
    start = window_start(as_of)
    files: dict[FileKey, list[Row]] = defaultdict(list)
    for ev in maker.events(people):
        row = maker.row(ev)
        files[(row.dept, row.cls, month_index(row.decided, start))].append(row)
    for key in files:
        files[key].sort(key=lambda r: (r.decided, r.values.get("CF_WSH") or r.values.get("XK_WSH", "")))
    styles = {c: lay.header_style for c, lay in layout_of.items()}
    mistakes.inject_mistakes(files, styles, rng, error_rate, as_of, words)
    mistakes.add_versions(files, rng)
    mistakes.add_duplicates(files, rng)
    return dict(files)


def _submitted(latest: date, layout: Layout, rng: random.Random) -> date:
    """Within 7 working days of the latest decision (国办发〔2015〕51号), later for late units."""
    return add_weekdays(latest, rng.randint(8, 30) if layout.late else rng.randint(1, 7))


def _record_plans(
    files: dict[FileKey, list[Row]], rng: random.Random, words: Words, as_of: date, layout_of: dict[str, Layout]
) -> list[_Plan]:
    start = window_start(as_of)
    plans = []
    for key in sorted(files):
        dept, cls, month = key
        first = add_months(start, month)
        latest = max(r.decided for r in files[key] if r.fresh)
        title = f"{words.departments[dept].name}{first.year}年{first.month}月{_CLASS_TITLE[cls]}"
        submitted = _submitted(latest, layout_of[dept], rng)
        plans.append(_Plan(key, f"{first:%Y-%m}", submitted, title, rows=files[key]))
    return plans


def _registration_plans(
    people: list[Subject], rng: random.Random, words: Words, as_of: date, layout_of: dict[str, Layout]
) -> list[_Plan]:
    """Per registrar: the stock registered before the window, then one file per month of new
    registrations."""
    start = window_start(as_of)
    groups: dict[tuple[str, int], list[Subject]] = defaultdict(list)
    for s in people:
        if s.registrar:
            groups[(s.registrar, max(-1, month_index(s.established, start)))].append(s)
    plans = []
    for (dept, month), members in sorted(groups.items()):
        members.sort(key=lambda s: (s.established, s.sid))
        name = words.departments[dept].name
        if month < 0:
            title, period = f"{name}存量{_CLASS_TITLE[REGISTRATION]}（截至{start:%Y年%m月%d日}）", "stock"
            submitted = add_weekdays(start, rng.randint(1, 5))
        else:
            first = add_months(start, month)
            title, period = f"{name}{first.year}年{first.month}月{_CLASS_TITLE[REGISTRATION]}", f"{first:%Y-%m}"
            submitted = _submitted(members[-1].established, layout_of[dept], rng)
        plans.append(_Plan((dept, REGISTRATION, month), period, submitted, title, subjects=members))
    return plans


def _registration_record(s: Subject, words: Words, rng: random.Random) -> dict[str, Any]:
    scopes = words.names["scopes"]
    return {
        "主体名称": s.name,
        "统一社会信用代码": messy_code(rng, s.uscc),
        "主体类型": s.reg_type,
        "法定代表人（负责人、经营者）": s.rep,
        "注册资本（万元）": s.capital if s.capital is not None else "",
        "成立日期": s.established,
        "住所": s.address,
        "所属区县": s.district.name,
        "所属行业": s.letter,
        "经营范围": scopes.get(s.scope, ""),
        "登记机关": s.registrar_name,
        "登记状态": "存续" if rng.random() < 0.8 else "在业",
    }


def _write(plan: _Plan, out: Path, rng: random.Random, words: Words, layout: Layout) -> GeneratedFile:
    dept, cls, _ = plan.key
    if cls == REGISTRATION:
        layout = _registration_layout(layout)
    cols = layouts.columns(words, cls, layout.header_style, rng)
    stamp = datetime.combine(plan.submitted_on, time(9, 30))
    records = _records(plan, layout, rng, words, stamp)
    cells = layouts.render_rows(records, [k for k, _ in cols], layout, rng)
    path = f"{cls}/{dept}/{dept}_{cls}_{plan.name}.{layout.extension}"
    target = out / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(layouts.file_bytes(layout, [h for _, h in cols], cells, plan.title, stamp))
    marked: dict[str, list[int]] = defaultdict(list)
    rejected = 0
    for number, row in enumerate(plan.rows, 1):
        rejected += mistakes.rejected(row)
        for kind in row.kinds:
            marked[kind].append(number)
    return GeneratedFile(
        path=path,
        department=dept,
        info_class=cls,
        format=layout.format,
        encoding=layout.encoding,
        header_style=layout.header_style,
        rows=len(cells),
        expected_valid=len(cells) - rejected,
        expected_rejected=rejected,
        submitted_on=plan.submitted_on.isoformat(),
        error_kinds={k: len(v) for k, v in sorted(marked.items())},
        header_row=layout.header_row,
        marked_rows=dict(sorted(marked.items())),
    )


def _registration_layout(layout: Layout) -> Layout:
    """Registration files carry Chinese headers only."""
    return replace(layout, header_style="label")


def _records(plan: _Plan, layout: Layout, rng: random.Random, words: Words, stamp: datetime) -> list[dict[str, Any]]:
    dept = words.departments[plan.key[0]]
    if plan.key[1] == REGISTRATION:
        return [_registration_record(s, words, rng) for s in plan.subjects]
    if layout.header_style != "v1":
        return [r.values for r in plan.rows]
    region = dept.region_code if dept.region_code.isdigit() else "320100"
    return [layouts.v1_values(r, region, f"{stamp:%Y-%m-%d %H:%M:%S}") for r in plan.rows]
