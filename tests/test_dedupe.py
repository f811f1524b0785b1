"""dedupe.py: normalised text, content hashes, url keys, word counts, simhash."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper.dedupe import (
    content_hash,
    normalize_text,
    simhash,
    simhash_distance,
    url_key,
    word_count,
)
from scraper.urls import canonicalize_url

WHITESPACE = st.sampled_from([" ", "  ", "\t", "\n", "\n\n", "\r\n", "\xa0", "\u3000", " \u2009 "])
WORD = st.text(alphabet=st.characters(exclude_categories=("Zs", "Zl", "Zp", "Cc", "Cs")), min_size=1)

# A news paragraph, and the same story with one sentence reworded, for simhash.
STORY = (
    "The city council voted on Tuesday to extend the tram line to the northern suburbs, "
    "ending a decade of debate. Construction is due to start next spring and the first "
    "trams should run in 2027. Opponents said the cost had doubled since the plan was "
    "first proposed, and that buses would have served the same streets for far less money. "
    "The mayor said the line would cut commuting times by a third for forty thousand people."
)
STORY_EDITED = STORY.replace("Construction is due to start next spring", "Work begins next spring")
OTHER_STORY = (
    "Heavy rain flooded several villages in the valley overnight, and rescue teams "
    "evacuated more than two hundred residents by boat. The river rose four metres in six "
    "hours, the highest level recorded since records began, and forecasters expect more "
    "rain over the weekend. Schools will stay closed until the roads have been inspected."
)


def test_normalize_text_folds_width_case_and_spaces():
    assert normalize_text("  Ｈｅｌｌｏ\u3000WORLD \n\n Straße\u200b ") == "hello world strasse"


def test_content_hash_is_sha256_hex_of_normalized_text():
    digest = content_hash("Hello  World")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == content_hash("hello world")
    assert digest != content_hash("hello worlds")


@given(words=st.lists(WORD, min_size=1, max_size=12), data=st.data())
def test_content_hash_ignores_whitespace(words, data):
    spaced = "".join(w + data.draw(WHITESPACE) for w in words)
    padded = data.draw(WHITESPACE) + spaced
    assert content_hash(padded) == content_hash(" ".join(words))


@given(text=st.text(alphabet=st.characters(max_codepoint=127, exclude_categories=("Cc",))))
def test_content_hash_ignores_ascii_case(text):
    assert content_hash(text.upper()) == content_hash(text.lower()) == content_hash(text)


@given(text=st.text())
def test_normalize_text_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@pytest.mark.parametrize(
    "url",
    ["HTTPS://Example.COM:443/a?utm_source=x&id=3#top", "http://example.com", "https://example.com/%7Euser/"],
)
def test_url_key_is_canonicalize_url(url):
    assert url_key(url) == canonicalize_url(url)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("The quick brown fox, jumped!", 5),
        ("国家统计局发布数据", 9),
        ("2024年GDP增长5.2%", 7),  # 2024, 年, GDP, 增, 长, 5, 2
        ("東京スカイツリーに行った", 12),
        ("한국어 문장입니다", 2),  # Hangul is written with spaces: counted per word
        ("snake_case words", 2),
    ],
)
def test_word_count_counts_cjk_per_character(text, expected):
    assert word_count(text) == expected


def test_simhash_is_64_bit_and_deterministic():
    value = simhash(STORY)
    assert 0 <= value < 1 << 64
    assert value == simhash(STORY)
    assert simhash("") == 0


def test_simhash_near_duplicates_are_close_and_others_far():
    near = simhash_distance(simhash(STORY), simhash(STORY_EDITED))
    far = simhash_distance(simhash(STORY), simhash(OTHER_STORY))
    assert near <= 12
    assert far >= 20
    assert simhash_distance(simhash(STORY), simhash(STORY.upper().replace(" ", "  "))) == 0


def test_simhash_handles_chinese_text():
    text = "北京时间今天上午，国家统计局发布了最新一期的居民消费价格指数，同比上涨百分之零点二。"
    edited = text.replace("最新一期的", "最新的")
    assert simhash_distance(simhash(text), simhash(edited)) <= 12
    assert simhash(text) != simhash(OTHER_STORY)


def test_simhash_distance_accepts_signed_values():
    value = (1 << 63) | 5
    signed = value - (1 << 64)
    assert simhash_distance(value, signed) == 0
    assert simhash_distance(0, value) == 3


# Fingerprints computed by the first simhash() (a Python loop per shingle and per bit). Rows
# already stored keep these values, so a faster simhash() must return exactly the same ones.
PINNED_SIMHASHES = [
    (STORY, 0x1D32C36B54C522C9),
    (OTHER_STORY, 0xBC041731650098B2),
    ("北京市今天举行新闻发布会，介绍了城市交通发展的最新情况。地铁新线路将于明年开通。", 0x89DEA5A0D52428A4),
    ("a b", 0xBB37DEA5C027F928),
    ("Straße\u00ad\u200b x", 0xCBD0848CBB003B9E),
]


@pytest.mark.parametrize(("text", "expected"), PINNED_SIMHASHES)
def test_simhash_values_stay_those_already_stored(text, expected):
    assert simhash(text) == expected


def test_normalize_text_drops_format_characters_only():
    assert normalize_text("co\u00adop\u200be\ufeffration \u00e9t\u00e9") == "cooperation \u00e9t\u00e9"
