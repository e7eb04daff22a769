"""Homophone slips of a pinyin input method, read as the collection's word that sounds the same — and
everything else left exactly as typed (made-up county words; no index needed)."""

from __future__ import annotations

import pytest

from bot.typos import Homophones

# words a made-up county's collection uses, and question cue words
WORDS = ["文号", "诉求", "牵头", "揭榜", "揭榜挂帅", "补贴", "面积", "我市", "优势", "电子", "几项", "工作室", "青禾县"]


@pytest.mark.parametrize("typed, meant", [
    ("青禾县那个行动计划，文好是多少？", "青禾县那个行动计划，文号是多少？"),
    ("企业有诉球通过哪个平台反映？", "企业有诉求通过哪个平台反映？"),
    ("揭邦挂帅的项目牵投单位是谁？", "揭榜挂帅的项目牵头单位是谁？"),
    ("住房补帖每月多少？", "住房补贴每月多少？"),
    ("科学家工做室什么时候成立？", "科学家工作室什么时候成立？"),
])
def test_a_slip_is_read_as_the_word_it_sounds_like(typed: str, meant: str) -> None:
    assert Homophones.build(WORDS).correct(typed) == meant


@pytest.mark.parametrize("typed", [
    "我是刚毕业的学生，想去青禾县上班",  # 我是 sounds like 我市: a function word is never "corrected"
    "配合单位又是哪个？",  # 又是 / 优势: shares no character
    "垫资压力大，有没有周转资金？",  # 垫资 / 电子: shares no character
    "涉企政策能免申即享吗？",  # 即享 / 几项: 即 is typed on purpose
    "使用面积目标多少平方米？",  # already right
])
def test_what_was_typed_on_purpose_stays(typed: str) -> None:
    assert Homophones.build(WORDS).correct(typed) == typed


def test_two_words_of_one_sound_leave_the_piece_alone() -> None:
    h = Homophones.build(["诉求", "速求"])
    assert h.correct("企业有诉球怎么办") == "企业有诉球怎么办"
