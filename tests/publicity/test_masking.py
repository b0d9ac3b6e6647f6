from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from xinyong.archive.identifiers import make_resident_id
from xinyong.publicity.masking import mask_ids_in_text, mask_name, mask_resident_id


def test_mask_resident_id_and_name():
    assert mask_resident_id("320102199001011234") == "3201**********1234"
    assert mask_name("张晓明") == "张*明" and mask_name("李四") == "李*" and mask_name("欧阳小明") == "欧**明"


def test_ids_inside_free_text_are_masked_and_uscc_is_not():
    rid = make_resident_id("320102", date(1965, 8, 12), 471)
    text = f"吊销机动车驾驶证（{rid}），当事人单位统一社会信用代码91320100748204660Q"
    masked = mask_ids_in_text(text)
    assert rid not in masked and mask_resident_id(rid) in masked and "91320100748204660Q" in masked


@given(
    st.dates(date(1940, 1, 1), date(2010, 12, 31)),
    st.integers(0, 999),
    st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=20),
)
def test_no_valid_id_survives_masking_whatever_surrounds_it(birth, seq, noise):
    rid = make_resident_id("320104", birth, seq)
    for text in (rid, f"{noise}{rid}", f"{rid}{noise}", f"号码{rid}。", f"ID{rid}x"):
        assert rid not in mask_ids_in_text(text)
