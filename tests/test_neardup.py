"""Near-duplicate fingerprints (dedupe.near_anchors): edited copies match, different texts never do."""

from __future__ import annotations

import random

import pytest

from scraper.dedupe import NEAR_MAX_ANCHORS, is_near_duplicate, near_anchors, near_similarity

WORDS = [
    "minister",
    "council",
    "budget",
    "river",
    "harbour",
    "festival",
    "school",
    "vaccine",
    "court",
    "election",
    "railway",
    "museum",
    "farmers",
    "export",
    "drought",
    "bridge",
    "hospital",
    "research",
    "satellite",
    "treaty",
]


def _article(seed: int, paragraphs: int = 8, words: int = 60) -> list[str]:
    rng = random.Random(seed)
    return [
        " ".join(rng.choice(WORDS) + str(rng.randrange(50)) for _ in range(words)) + "."
        for _ in range(paragraphs)
    ]


def test_an_edited_copy_is_a_near_duplicate() -> None:
    paras = _article(1)
    copy = ["Updated: a new headline for the same story", *paras[1:], "Editor: Li Ming"]
    assert is_near_duplicate(near_anchors("\n".join(paras)), near_anchors("\n".join(copy)))


def test_a_teaser_of_the_first_paragraphs_is_a_near_duplicate() -> None:
    paras = _article(2, paragraphs=30)
    assert near_similarity(near_anchors("\n".join(paras[:3])), near_anchors("\n".join(paras))) == 1.0


def test_different_articles_on_one_template_are_not() -> None:
    template = "Source: Wire Agency. Follow us on Twitter and Facebook for more news from the region."
    a = "\n".join([template, *_article(3), template])
    b = "\n".join([template, *_article(4), template])
    assert not is_near_duplicate(near_anchors(a), near_anchors(b))


def test_two_briefs_on_one_template_are_not() -> None:
    template = "Editor: Li Ming. Follow us on Twitter and Facebook for more news."
    a = " ".join(_article(5, 1, 40)) + " " + template
    b = " ".join(_article(6, 1, 40)) + " " + template
    assert not is_near_duplicate(near_anchors(a), near_anchors(b))


def test_chinese_is_shingled_by_characters() -> None:
    text = "国务院新闻办公室今天举行发布会，介绍今年前三季度国民经济运行情况。" * 3
    edited = "新华社北京10月18日电 " + text
    assert is_near_duplicate(near_anchors(text), near_anchors(edited))
    other = "上海市今天发布暴雨预警，部分地铁线路临时停运，市民出行请注意安全。" * 3
    assert not is_near_duplicate(near_anchors(text), near_anchors(other))


@pytest.mark.parametrize(
    "text", ["", "   ", "word", "1 2 3 4 5 6 7 8 9 10", "!!! ??? ... ---", "مرحبا 你好 hello Привет"]
)
def test_degenerate_texts_give_few_anchors_and_never_match_each_other(text: str) -> None:
    anchors = near_anchors(text)
    assert len(anchors) <= 1
    assert not is_near_duplicate(anchors, near_anchors("1 2 3 4 5 6 7 8 9 10 11"))
    assert not is_near_duplicate(anchors, anchors)  # too short to tell a story from a template


def test_a_huge_text_keeps_a_bounded_number_of_anchors() -> None:
    text = "\n".join(_article(7, paragraphs=2000))  # 120,000 words
    anchors = near_anchors(text)
    assert len(anchors) == NEAR_MAX_ANCHORS
    assert all(-(2**63) <= a < 2**63 for a in anchors)  # fits SQLite's INTEGER
