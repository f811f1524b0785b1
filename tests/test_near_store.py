"""Near-duplicate stories in the store: bad input never crashes nor merges unrelated articles (issue 11)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from scraper.dedupe import NEAR_MAX_ANCHORS, NEAR_MIN_CONTAINMENT
from scraper.models import Article, WriteOutcome
from scraper.store import open_db, save_article
from scraper.store import rebuild_near as rebuild

T0 = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
STORY = (Path(__file__).parent / "fixtures" / "syndication" / "story.txt").read_text(encoding="utf-8")
OTHER = (
    "The city council approved a plan on Tuesday to extend the number 4 tram line by six kilometres to "
    "the new hospital district, with construction due to start next spring. Councillors said the "
    "extension would cut journey times from the northern suburbs by a quarter, and the transport "
    "authority expects 18,000 passengers a day once the line opens. Residents along the route will be "
    "consulted on the position of the three new stops over the summer."
)


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path / "articles.db")
    yield database
    database.close()


def save(db, text: str, url: str, **kwargs):
    return save_article(db, Article("Title", text), url=url, site="example", fetched_at=T0, **kwargs)


def count(db, table: str) -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_empty_text_is_stored_apart(db):
    save(db, STORY, "https://a.example/story")
    assert save(db, "", "https://b.example/empty").outcome == WriteOutcome.INSERTED
    assert count(db, "articles") == 2
    assert db.execute("SELECT anchor_count FROM articles WHERE id = 2").fetchone() == (0,)


def test_one_word_texts_never_merge(db):
    save(db, STORY, "https://a.example/story")
    assert save(db, "railway", "https://b.example/word").outcome == WriteOutcome.INSERTED
    assert save(db, "RAILWAY", "https://c.example/word").outcome == WriteOutcome.DUPLICATE  # same hash
    assert save(db, "holiday", "https://d.example/word").outcome == WriteOutcome.INSERTED
    assert count(db, "articles") == 3
    assert db.execute("SELECT anchor_count FROM articles WHERE id > 1").fetchall() == [(1,), (1,)]


def test_five_megabyte_text_is_indexed_with_bounded_anchors(db):
    rng = random.Random(11)
    words = OTHER.split()
    huge = " ".join(rng.choice(words) + str(rng.randrange(10_000)) for _ in range(800_000))
    assert len(huge) > 5_000_000
    assert save(db, huge, "https://a.example/huge").outcome == WriteOutcome.INSERTED
    assert count(db, "near_anchors") <= NEAR_MAX_ANCHORS
    assert save(db, STORY, "https://b.example/story").outcome == WriteOutcome.INSERTED
    assert save(db, OTHER, "https://c.example/other").outcome == WriteOutcome.INSERTED


def test_texts_of_only_numbers_do_not_merge(db):
    rng = random.Random(5)
    first = " ".join(str(rng.randrange(100_000)) for _ in range(400))
    second = " ".join(str(rng.randrange(100_000)) for _ in range(400))
    assert save(db, first, "https://a.example/table").outcome == WriteOutcome.INSERTED
    assert save(db, second, "https://b.example/table").outcome == WriteOutcome.INSERTED
    assert save(db, STORY, "https://c.example/story").outcome == WriteOutcome.INSERTED
    assert db.execute("SELECT min(anchor_count) FROM articles").fetchone()[0] >= 30


def test_texts_of_only_punctuation_do_not_merge(db):
    save(db, STORY, "https://a.example/story")
    assert (
        save(db, "!!! ... ??? --- *** ///" * 50, "https://b.example/punct").outcome == WriteOutcome.INSERTED
    )
    assert (
        save(db, "••• ··· ——— ''' ,,, ;;;" * 50, "https://c.example/punct").outcome == WriteOutcome.INSERTED
    )
    assert count(db, "articles") == 3
    assert db.execute("SELECT anchor_count FROM articles WHERE id > 1").fetchall() == [(0,), (0,)]


def test_mixed_scripts_match_their_own_story_only(db):
    chinese = "新华社北京5月1日电 国铁集团消息，五一假期首日全国铁路发送旅客2010万人次，创历史新高。" * 3
    mixed = chinese + "\n\n" + OTHER + "\n\nМосква, 1 мая. Поезда перевезли рекордное число пассажиров."
    assert save(db, mixed, "https://a.example/mixed").outcome == WriteOutcome.INSERTED
    assert save(db, STORY, "https://b.example/story").outcome == WriteOutcome.INSERTED
    unrelated = (
        "上海证券交易所今日收盘，上证指数上涨百分之零点五，深证成指上涨百分之零点八，两市成交额超过一万亿元。"
    )
    assert save(db, unrelated, "https://c.example/shares").outcome == WriteOutcome.INSERTED
    # the same mixed text with one more paragraph is the same story
    again = save(db, mixed + "\n\nUpdated at 10:00.", "https://d.example/mixed")
    assert again.outcome == WriteOutcome.NEAR
    assert again.article_id == 1


def test_update_at_the_same_url_replaces_anchors_and_leaves_a_story_it_no_longer_tells(db):
    save(db, STORY, "https://a.example/story", near="group")
    save(db, STORY + "\n\nMore to follow.", "https://b.example/story", near="group")
    assert {r[0] for r in db.execute("SELECT story_id FROM articles")} == {1}
    updated = save(db, OTHER, "https://b.example/story", near="group")
    assert updated.outcome == WriteOutcome.UPDATED
    assert db.execute("SELECT story_id FROM articles WHERE id = 2").fetchone() == (None,)
    theirs = {a for (a,) in db.execute("SELECT anchor FROM near_anchors WHERE article_id = 2")}
    assert theirs
    assert not theirs & {a for (a,) in db.execute("SELECT anchor FROM near_anchors WHERE article_id = 1")}


def test_threshold_of_one_needs_the_whole_shorter_text(db):
    save(db, STORY, "https://a.example/story", near_threshold=1.0)
    paragraphs = STORY.split("\n\n")
    edited = "\n\n".join([*paragraphs[:-2], OTHER])  # the last two paragraphs replaced by another story's
    assert save(db, edited, "https://c.example/story").outcome == WriteOutcome.NEAR  # 0.7 by default
    assert save(db, edited, "https://b.example/story", near_threshold=1.0).outcome == WriteOutcome.INSERTED


def test_full_article_after_its_teaser_keeps_its_own_row_in_the_teasers_story(db):
    paragraphs = STORY.split("\n\n")
    teaser = "\n\n".join(paragraphs[:2])
    assert save(db, teaser, "https://a.example/teaser").outcome == WriteOutcome.INSERTED
    full = save(db, STORY, "https://b.example/full")
    assert full.outcome == WriteOutcome.INSERTED
    assert db.execute("SELECT story_id FROM articles ORDER BY id").fetchall() == [(1,), (1,)]
    # the teaser of a stored full article is a link
    assert save(db, teaser, "https://c.example/teaser").outcome == WriteOutcome.DUPLICATE
    assert save(db, teaser + " More.", "https://d.example/teaser").outcome == WriteOutcome.NEAR


def test_rebuild_in_link_mode_never_folds_a_full_article_into_its_teaser(db):
    """As on write: the full article after its teaser keeps its row (and its text) in the teaser's story."""
    paragraphs = STORY.split("\n\n")
    teaser = "\n\n".join(paragraphs[:2])
    save(db, teaser, "https://a.example/teaser", near="off")
    save(db, STORY, "https://b.example/full", near="off")
    counts = rebuild(db, "link", NEAR_MIN_CONTAINMENT)
    assert counts["linked"] == 0
    assert [row[0] for row in db.execute("SELECT text FROM articles ORDER BY id")] == [teaser, STORY]
    assert db.execute("SELECT story_id FROM articles ORDER BY id").fetchall() == [(1,), (1,)]
