"""Near-duplicate stories in the store: bad input never crashes nor merges unrelated articles (issue 11)."""

from __future__ import annotations

import datetime as dt
import random
import textwrap
from pathlib import Path

import pytest
import sqlite_utils

from scraper.config import is_postgres_url
from scraper.dedupe import NEAR_MAX_ANCHORS, NEAR_MIN_CONTAINMENT, near_anchors
from scraper.models import Article, WriteOutcome
from scraper.store import SCHEMA_VERSION, near_filter, open_db, save_article
from scraper.store import near as near_index
from scraper.store import rebuild_near as rebuild
from scraper.store.fts import register_function
from scraper.store.schema import MIGRATION_STEPS, MIGRATIONS, schema_version
from tests import backends
from tests.backends import query_rows
from tests.writers import kill_writer_at

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


# -- on both backends (tests/backends.py): the outcomes of a sequence of saves -----------------------


def put(target: str, text: str, url: str, **kwargs):
    """save_article on either backend."""
    return backends.save_article(
        target, Article("Title", text), url=url, site="example", fetched_at=T0, **kwargs
    )


def rows(target: str, sql: str, params=()) -> list[tuple]:
    return [tuple(row.values()) for row in query_rows(target, sql, params)]


def total(target: str, table: str) -> int:
    return rows(target, f"SELECT count(*) FROM {table}")[0][0]


def rebuild_on(target: str, near: str, threshold: float = NEAR_MIN_CONTAINMENT) -> dict[str, int]:
    """store.rebuild_near on a SQLite file, store.pg.near.rebuild on a PostgreSQL URL."""
    if is_postgres_url(target):
        from scraper.store.pg import near as pg_near
        from scraper.store.pg import open_pg

        conn = open_pg(target)
        try:
            return pg_near.rebuild(conn, near, threshold)
        finally:
            conn.close()
    database = open_db(target)
    try:
        return rebuild(database, near, threshold)
    finally:
        database.close()


def test_empty_text_is_stored_apart(db_target):
    put(db_target, STORY, "https://a.example/story")
    assert put(db_target, "", "https://b.example/empty").outcome == WriteOutcome.INSERTED
    assert total(db_target, "articles") == 2
    assert rows(db_target, "SELECT anchor_count FROM articles WHERE id = 2") == [(0,)]


def test_one_word_texts_never_merge(db_target):
    put(db_target, STORY, "https://a.example/story")
    assert put(db_target, "railway", "https://b.example/word").outcome == WriteOutcome.INSERTED
    assert put(db_target, "RAILWAY", "https://c.example/word").outcome == WriteOutcome.DUPLICATE  # same hash
    assert put(db_target, "holiday", "https://d.example/word").outcome == WriteOutcome.INSERTED
    assert total(db_target, "articles") == 3
    assert rows(db_target, "SELECT anchor_count FROM articles WHERE id > 1 ORDER BY id") == [(1,), (1,)]


def test_five_megabyte_text_is_indexed_with_bounded_anchors(db_target):
    rng = random.Random(11)
    words = OTHER.split()
    huge = " ".join(rng.choice(words) + str(rng.randrange(10_000)) for _ in range(800_000))
    assert len(huge) > 5_000_000
    assert put(db_target, huge, "https://a.example/huge").outcome == WriteOutcome.INSERTED
    assert total(db_target, "near_anchors_all") <= NEAR_MAX_ANCHORS
    assert put(db_target, STORY, "https://b.example/story").outcome == WriteOutcome.INSERTED
    assert put(db_target, OTHER, "https://c.example/other").outcome == WriteOutcome.INSERTED


def test_texts_of_only_numbers_do_not_merge(db_target):
    rng = random.Random(5)
    first = " ".join(str(rng.randrange(100_000)) for _ in range(400))
    second = " ".join(str(rng.randrange(100_000)) for _ in range(400))
    assert put(db_target, first, "https://a.example/table").outcome == WriteOutcome.INSERTED
    assert put(db_target, second, "https://b.example/table").outcome == WriteOutcome.INSERTED
    assert put(db_target, STORY, "https://c.example/story").outcome == WriteOutcome.INSERTED
    assert rows(db_target, "SELECT min(anchor_count) FROM articles")[0][0] >= 30


def test_texts_of_only_punctuation_do_not_merge(db_target):
    put(db_target, STORY, "https://a.example/story")
    punct = "!!! ... ??? --- *** ///" * 50
    assert put(db_target, punct, "https://b.example/punct").outcome == WriteOutcome.INSERTED
    punct = "••• ··· ——— ''' ,,, ;;;" * 50
    assert put(db_target, punct, "https://c.example/punct").outcome == WriteOutcome.INSERTED
    assert total(db_target, "articles") == 3
    assert rows(db_target, "SELECT anchor_count FROM articles WHERE id > 1 ORDER BY id") == [(0,), (0,)]


def test_mixed_scripts_match_their_own_story_only(db_target):
    chinese = "新华社北京5月1日电 国铁集团消息，五一假期首日全国铁路发送旅客2010万人次，创历史新高。" * 3
    mixed = chinese + "\n\n" + OTHER + "\n\nМосква, 1 мая. Поезда перевезли рекордное число пассажиров."
    assert put(db_target, mixed, "https://a.example/mixed").outcome == WriteOutcome.INSERTED
    assert put(db_target, STORY, "https://b.example/story").outcome == WriteOutcome.INSERTED
    unrelated = (
        "上海证券交易所今日收盘，上证指数上涨百分之零点五，深证成指上涨百分之零点八，两市成交额超过一万亿元。"
    )
    assert put(db_target, unrelated, "https://c.example/shares").outcome == WriteOutcome.INSERTED
    # the same mixed text with one more paragraph is the same story
    again = put(db_target, mixed + "\n\nUpdated at 10:00.", "https://d.example/mixed")
    assert again.outcome == WriteOutcome.NEAR
    assert again.article_id == 1


def test_update_at_the_same_url_replaces_anchors_and_leaves_a_story_it_no_longer_tells(db_target):
    put(db_target, STORY, "https://a.example/story", near="group")
    put(db_target, STORY + "\n\nMore to follow.", "https://b.example/story", near="group")
    assert {r[0] for r in rows(db_target, "SELECT story_id FROM articles")} == {1}
    updated = put(db_target, OTHER, "https://b.example/story", near="group")
    assert updated.outcome == WriteOutcome.UPDATED
    assert rows(db_target, "SELECT story_id FROM articles WHERE id = 2") == [(None,)]
    theirs = {a for (a,) in rows(db_target, "SELECT anchor FROM near_anchors_all WHERE article_id = 2")}
    assert theirs
    assert not theirs & {
        a for (a,) in rows(db_target, "SELECT anchor FROM near_anchors_all WHERE article_id = 1")
    }


def test_threshold_of_one_needs_the_whole_shorter_text(db_target):
    put(db_target, STORY, "https://a.example/story", near_threshold=1.0)
    paragraphs = STORY.split("\n\n")
    edited = "\n\n".join([*paragraphs[:-2], OTHER])  # the last two paragraphs replaced by another story's
    assert put(db_target, edited, "https://c.example/story").outcome == WriteOutcome.NEAR  # 0.7 by default
    assert (
        put(db_target, edited, "https://b.example/story", near_threshold=1.0).outcome == WriteOutcome.INSERTED
    )


def test_full_article_after_its_teaser_keeps_its_own_row_in_the_teasers_story(db_target):
    paragraphs = STORY.split("\n\n")
    teaser = "\n\n".join(paragraphs[:2])
    assert put(db_target, teaser, "https://a.example/teaser").outcome == WriteOutcome.INSERTED
    full = put(db_target, STORY, "https://b.example/full")
    assert full.outcome == WriteOutcome.INSERTED
    assert rows(db_target, "SELECT story_id FROM articles ORDER BY id") == [(1,), (1,)]
    # the teaser of a stored full article is a link
    assert put(db_target, teaser, "https://c.example/teaser").outcome == WriteOutcome.DUPLICATE
    assert put(db_target, teaser + " More.", "https://d.example/teaser").outcome == WriteOutcome.NEAR


def test_rebuild_in_link_mode_never_folds_a_full_article_into_its_teaser(db_target):
    """As on write: the full article after its teaser keeps its row (and its text) in the teaser's story."""
    paragraphs = STORY.split("\n\n")
    teaser = "\n\n".join(paragraphs[:2])
    put(db_target, teaser, "https://a.example/teaser", near="off")
    put(db_target, STORY, "https://b.example/full", near="off")
    counts = rebuild_on(db_target, "link")
    assert counts["linked"] == 0
    assert [row[0] for row in rows(db_target, "SELECT text FROM articles ORDER BY id")] == [teaser, STORY]
    assert rows(db_target, "SELECT story_id FROM articles ORDER BY id") == [(1,), (1,)]


def test_rebuild_in_link_mode_folds_a_copy_into_the_older_row_and_off_drops_the_index(db_target):
    put(db_target, STORY, "https://a.example/story", near="off")
    put(db_target, STORY + "\n\nMore to follow.", "https://b.example/story", near="off")
    put(db_target, OTHER, "https://c.example/other", near="off")
    assert rebuild_on(db_target, "link") == {"articles": 3, "indexed": 2, "linked": 1, "grouped": 0}
    assert rows(db_target, "SELECT id FROM articles ORDER BY id") == [(1,), (3,)]
    assert rows(db_target, "SELECT url, article_id, kind FROM article_urls ORDER BY url") == [
        ("https://a.example/story", 1, "canonical"),
        ("https://b.example/story", 1, "near"),
        ("https://c.example/other", 3, "canonical"),
    ]
    assert total(db_target, "near_anchor_sets") == 2
    assert rebuild_on(db_target, "off")["indexed"] == 0
    assert total(db_target, "near_anchors_all") == total(db_target, "near_anchor_sets") == 0


# -- schema 10: the index in three tables, new anchors in front (issue 11) ---------------------------
# SQLite only: the three tables, their moves and the filter are how SQLite keeps its page cache;
# PostgreSQL has one table (store/pg/near.py).


@pytest.fixture
def small_levels(monkeypatch):
    """Tables small enough that a few dozen articles' anchors move through all three."""
    monkeypatch.setattr(near_index, "NEAR_FRESH_ROWS", 40)
    monkeypatch.setattr(near_index, "NEAR_RECENT_ROWS", 100)
    monkeypatch.setattr(near_index, "NEAR_SETTLE_EVERY", 2)
    monkeypatch.setattr(near_filter, "FILTER_MIN_BITS", 64)  # full at 6 anchors: rebuilt bigger


def random_text(rng: random.Random, words: int = 120) -> str:
    return " ".join(f"w{rng.randrange(1_000_000)}" for _ in range(words))


def index_rows(db) -> list[tuple[int, int]]:
    return db.execute("SELECT anchor, article_id FROM near_anchors_all ORDER BY 1, 2").fetchall()


def assert_index_consistent(db) -> None:
    """Each (anchor, article) row in one table only, and the rows of each article are its stored set."""
    rows = index_rows(db)
    assert len(rows) == len(set(rows))
    held: dict[int, set[int]] = {}
    for anchor, article_id in rows:
        held.setdefault(article_id, set()).add(anchor)
    sets = {
        article_id: set(near_index.stored_anchors(db, article_id))
        for (article_id,) in db.execute("SELECT article_id FROM near_anchor_sets")
    }
    assert held == sets
    counts = dict(db.execute("SELECT id, anchor_count FROM articles WHERE anchor_count > 0").fetchall())
    assert {article_id: len(anchors) for article_id, anchors in sets.items()} == counts
    assert_filter_holds_main(db)


def assert_filter_holds_main(db) -> None:
    """The filter as stored (not this process's copy) keeps every anchor near_anchors holds."""
    near_filter._HELD.pop(db, None)
    main = [a for (a,) in db.execute(f"SELECT DISTINCT anchor FROM {near_index.MAIN}")]
    assert near_filter.keep(db, main) == main


def test_anchors_move_through_the_three_tables_and_every_story_is_still_found(db, small_levels):
    rng = random.Random(3)
    texts = [random_text(rng) for _ in range(60)]
    for i, text in enumerate(texts):
        assert save(db, text, f"https://a.example/{i}").outcome == WriteOutcome.INSERTED
    assert all(count(db, table) > 0 for table in near_index.NEAR_TABLES)
    assert_index_consistent(db)
    for i, text in enumerate(texts):  # an edited copy finds its article, wherever its anchors are now
        copy = save(db, text + " and one more sentence at the end", f"https://b.example/{i}")
        assert (copy.outcome, copy.article_id) == (WriteOutcome.NEAR, i + 1)
    assert save(db, random_text(rng), "https://c.example/new").outcome == WriteOutcome.INSERTED


def test_an_update_replaces_anchors_that_reached_the_main_table(db, small_levels):
    rng = random.Random(4)
    first = random_text(rng)
    save(db, first, "https://a.example/0")
    for i in range(1, 40):
        save(db, random_text(rng), f"https://a.example/{i}")
    in_main = db.execute("SELECT count(*) FROM near_anchors WHERE article_id = 1").fetchone()[0]
    assert in_main > 0
    replaced = random_text(rng)
    assert save(db, replaced, "https://a.example/0").outcome == WriteOutcome.UPDATED
    mine = {a for (a, article) in index_rows(db) if article == 1}
    assert mine == set(near_anchors(replaced))
    assert_index_consistent(db)
    assert save(db, first + " again", "https://b.example/0").outcome == WriteOutcome.INSERTED
    copy = save(db, replaced + " again", "https://b.example/1")
    assert (copy.outcome, copy.article_id) == (WriteOutcome.NEAR, 1)


def test_rebuild_empties_all_three_tables_and_fills_them_again(db, small_levels):
    rng = random.Random(5)
    for i in range(30):
        save(db, random_text(rng), f"https://a.example/{i}")
    before = index_rows(db)
    counts = rebuild(db, "link", NEAR_MIN_CONTAINMENT)
    assert counts["indexed"] == 30
    assert index_rows(db) == before
    assert_index_consistent(db)
    rebuild(db, "off", NEAR_MIN_CONTAINMENT)
    assert index_rows(db) == []
    assert count(db, "near_anchor_sets") == 0
    assert count(db, near_filter.TABLE) == 0


def test_the_filter_lets_few_absent_anchors_through_to_the_main_table(db, small_levels):
    rng = random.Random(12)
    texts = [random_text(rng) for _ in range(40)]
    for i, text in enumerate(texts):
        save(db, text, f"https://a.example/{i}")
    assert count(db, near_index.MAIN) > 0
    assert count(db, near_filter.TABLE) > 0
    assert_filter_holds_main(db)
    # in the anchor ranges a move reached (the others have no filter yet: all their anchors pass)
    ranges = {part for (part,) in db.execute(f"SELECT part FROM {near_filter.TABLE}")}
    texts = [random_text(rng) for _ in range(40)]
    absent = [a for text in texts for a in near_anchors(text) if near_filter.range_of(a) in ranges]
    assert len(absent) > 100
    assert len(near_filter.keep(db, absent)) < len(absent) // 10


def test_a_move_by_another_connection_reaches_this_ones_filter(tmp_path, monkeypatch):
    """A lookup on a connection that read the filter finds what another connection moved since."""
    monkeypatch.setattr(near_index, "NEAR_FRESH_ROWS", 40)
    monkeypatch.setattr(near_index, "NEAR_RECENT_ROWS", 100)
    monkeypatch.setattr(near_index, "NEAR_SETTLE_EVERY", 2)
    monkeypatch.setattr(near_index, "NEAR_MERGE_SLICES", 1)  # each move to the main table: every range
    path = tmp_path / "articles.db"
    reader, writer = open_db(path), open_db(path)
    rng = random.Random(13)
    for i in range(20):
        save(reader, random_text(rng), f"https://a.example/{i}")
    assert count(reader, near_filter.TABLE) == 1 << near_filter.FILTER_PART_BITS
    assert near_index.find_near(reader, near_anchors(random_text(rng)), NEAR_MIN_CONTAINMENT) is None
    texts = [random_text(rng) for _ in range(30)]
    for i, text in enumerate(texts, start=21):
        save(writer, text, f"https://b.example/{i}")
    in_main = writer.execute(f"SELECT DISTINCT article_id FROM {near_index.MAIN} WHERE article_id > 20")
    moved = {article_id for (article_id,) in in_main}
    assert moved
    for article_id in sorted(moved):
        anchors = near_anchors(texts[article_id - 21] + " and one more line")
        assert near_index.find_near(reader, anchors, NEAR_MIN_CONTAINMENT)[0] == article_id
    reader.close()
    writer.close()


def test_a_schema_8_database_migrates_and_finds_the_same_stories(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    register_function(old.conn)
    MIGRATIONS.apply(old, stop_before=f"0009{MIGRATION_STEPS[8].__name__}")
    rng = random.Random(6)
    texts = [random_text(rng) for _ in range(5)]
    for i, text in enumerate(texts, start=1):  # as schema 8's writer left them: all in near_anchors
        anchors = near_anchors(text)
        old["articles"].insert(
            {"id": i, "url": f"https://a.example/{i}", "text": text, "anchor_count": len(anchors)}
        )
        old["near_anchors"].insert_all({"anchor": a, "article_id": i} for a in anchors)
    stored = old.execute("SELECT anchor, article_id FROM near_anchors ORDER BY 1, 2").fetchall()
    old.close()

    db = open_db(path)
    assert schema_version(db) == SCHEMA_VERSION == 11
    assert index_rows(db) == stored
    assert_index_consistent(db)
    assert count(db, near_filter.TABLE) > 0  # built from the anchors near_anchors holds
    for i, text in enumerate(texts, start=1):
        assert near_index.find_near(db, near_anchors(text + " one more line"), NEAR_MIN_CONTAINMENT)[0] == i
    assert near_index.find_near(db, near_anchors(random_text(rng)), NEAR_MIN_CONTAINMENT) is None
    copy = save(db, texts[2] + " and a last sentence", "https://b.example/3")
    assert (copy.outcome, copy.article_id) == (WriteOutcome.NEAR, 3)
    db.close()


NEAR_WRITER = textwrap.dedent(
    """
    import datetime as dt, random, sys
    from scraper.models import Article
    from scraper.store import near, open_db, save_article
    near.NEAR_FRESH_ROWS, near.NEAR_RECENT_ROWS, near.NEAR_SETTLE_EVERY = 60, 150, 3
    db = open_db(sys.argv[1])
    now = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    rng, i = random.Random(sys.argv[2]), 0
    while True:
        text = " ".join(f"w{rng.randrange(1_000_000)}" for _ in range(150))
        url = f"https://news.example.com/{sys.argv[2]}/{i}"
        save_article(db, Article(title="t", text=text, url=url), url=url, site="x", fetched_at=now)
        i += 1
        if i % 5 == 0:
            print(i, flush=True)
    """
)


def test_a_killed_writer_leaves_each_anchor_in_one_table_and_every_story_found(tmp_path):
    path = tmp_path / "articles.db"
    open_db(path).close()
    kill_writer_at(path, NEAR_WRITER, (0.0, 0.02, 0.05, 0.09, 0.13, 0.2, 0.3))
    db = open_db(path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert_index_consistent(db)
    # rows reached the main table; FRESH may be empty, if the last save moved its rows
    assert count(db, near_index.MAIN) > 0
    assert count(db, near_index.RECENT) > 0
    for article_id, text in db.execute("SELECT id, text FROM articles").fetchall():
        assert near_index.find_near(db, near_anchors(text + " more"), NEAR_MIN_CONTAINMENT)[0] == article_id
    db.close()


def reference_near(db, anchors: list[int], threshold: float) -> tuple[int, float] | None:
    """find_near() as its docstring says, from near_anchors_all: shares over anchors under the cap."""
    postings: dict[int, list[int]] = {}
    for anchor, article_id in index_rows(db):
        postings.setdefault(anchor, []).append(article_id)
    usable = [a for a in anchors if len(postings.get(a, ())) <= near_index.NEAR_POSTINGS_CAP]
    shared: dict[int, int] = {}
    for anchor in usable:
        for article_id in postings.get(anchor, ()):
            shared[article_id] = shared.get(article_id, 0) + 1
    best = None
    for article_id in sorted(shared, key=lambda i: (-shared[i], i))[: near_index.NEAR_CANDIDATES]:
        theirs = near_index.stored_anchors(db, article_id)
        similarity = len(set(anchors) & set(theirs)) / min(len(anchors), len(theirs))
        reaches = min(len(anchors), len(theirs)) >= 3 and similarity >= threshold
        if reaches and (best is None or similarity > best[1]):
            best = (article_id, similarity)
    return best


@pytest.mark.parametrize("cap", [2, 6, 500])
def test_lookup_skips_anchors_over_the_cap_and_matches_the_reference(db, small_levels, monkeypatch, cap):
    """Articles sharing a boilerplate paragraph: its anchors are over a low cap and count for nothing."""
    monkeypatch.setattr(near_index, "NEAR_POSTINGS_CAP", cap)
    rng = random.Random(cap)
    boilerplate = random_text(rng, 60)
    bodies = [random_text(rng, 50) for _ in range(12)]
    for i, body in enumerate(bodies):
        save(db, f"{body}\n\n{boilerplate}", f"https://a.example/{i}", near="group")
    queries = [near_anchors(f"{body} edited\n\n{boilerplate}") for body in bodies]
    queries += [near_anchors(f"{random_text(rng, 50)}\n\n{boilerplate}") for _ in range(4)]
    queries += [near_anchors(body[: len(body) // 2]) for body in bodies[:4]]
    answers = [near_index.find_near(db, q, 0.5) for q in queries]
    assert answers == [reference_near(db, q, 0.5) for q in queries]
    assert answers[0] is not None


def test_lookup_passes_over_index_rows_of_an_article_that_is_gone(db):
    rng = random.Random(9)
    text = random_text(rng)
    save(db, text, "https://a.example/story")
    anchors = near_anchors(text)
    # rows left by a writer that deleted the article another way: they outrank the real one
    db.conn.executemany(
        "INSERT INTO near_anchors_fresh (anchor, article_id) VALUES (?, ?)",
        [(a, ghost) for ghost in range(-near_index.NEAR_CANDIDATES, 1) for a in anchors],
    )
    assert near_index.find_near(db, anchors, NEAR_MIN_CONTAINMENT) == (1, 1.0)
