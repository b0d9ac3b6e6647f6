"""Subject search on both databases: substrings of any length, codes, pinyin initials, ranking."""

from __future__ import annotations

from tests.builders import make_subject, valid_uscc
from xinyong.archive.service import search_subjects

NAMES = [
    "南京钢铁联合有限公司",
    "南京",
    "江苏南京玄武科技有限公司",
    "南京玄武区张记面馆",
    "苏州工业园区某某科技有限公司",
    "重庆银行南京分行",
    "百分之百_测试%公司",
]


def _city(session) -> dict[str, int]:
    ids = {}
    for i, name in enumerate(NAMES):
        ids[name] = make_subject(session, name=name, uscc=valid_uscc(i + 1)).id
    session.commit()
    return ids


def names(results) -> list[str]:
    return [s.name for s in results]


def test_two_character_query_finds_every_name_containing_it(session):
    _city(session)
    found = names(search_subjects(session, "南京"))
    assert set(found) == {n for n in NAMES if "南京" in n}
    assert found[0] == "南京"  # the exact name first


def test_substring_prefix_and_exact_ranking(session):
    _city(session)
    found = names(search_subjects(session, "南京玄武"))
    assert found == ["南京玄武区张记面馆", "江苏南京玄武科技有限公司"]  # prefix before substring
    assert set(names(search_subjects(session, "科技有限"))) == {
        "江苏南京玄武科技有限公司",
        "苏州工业园区某某科技有限公司",
    }


def test_code_and_full_width_or_lower_case_code(session):
    ids = _city(session)
    code = valid_uscc(5)
    assert [s.id for s in search_subjects(session, code)] == [ids["苏州工业园区某某科技有限公司"]]
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code.lower())
    assert [s.id for s in search_subjects(session, full_width)] == [ids["苏州工业园区某某科技有限公司"]]


def test_pinyin_initials_prefix(session):
    _city(session)
    assert names(search_subjects(session, "cqyh")) == ["重庆银行南京分行"]
    assert names(search_subjects(session, "NJGT")) == ["南京钢铁联合有限公司"]


def test_like_wildcards_in_queries_are_literal(session):
    _city(session)
    assert names(search_subjects(session, "%")) == ["百分之百_测试%公司"]
    assert names(search_subjects(session, "_测")) == ["百分之百_测试%公司"]
    assert search_subjects(session, "不存在的公司名称") == []


def test_renamed_subject_is_found_by_its_new_name_only(session):
    ids = _city(session)
    from xinyong.archive.models import Subject
    from xinyong.archive.service import name_key

    s = session.get(Subject, ids["南京钢铁联合有限公司"])
    s.name, s.name_key = "南京钢铁集团有限公司", name_key("南京钢铁集团有限公司")
    session.commit()
    assert names(search_subjects(session, "钢铁集团")) == ["南京钢铁集团有限公司"]
    assert search_subjects(session, "钢铁联合") == []
