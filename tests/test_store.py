"""The store on real SQLite files: outcomes, URL bookkeeping, FTS, migrations, locking, crashes.

The tests of save outcomes and URL bookkeeping take `any_db` and run on PostgreSQL too
(tests/backends.py); the rest are about the SQLite file itself (WAL, locks, FTS5, migrations).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest
import sqlite_utils
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.dedupe import content_hash, simhash
from scraper.errors import StorageError
from scraper.models import Article, WriteOutcome
from scraper.store import (
    SCHEMA_VERSION,
    WriteBatch,
    log_fetch,
    open_db,
    record_fetch,
    save_article,
    schema_version,
)
from tests.backends import save_article as save
from tests.writers import kill_writer_at

T0 = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.timezone.utc)
URL = "https://news.example.com/2024/05/01/tram-line"

EN_TEXT = (
    "The city council voted on Tuesday to extend the tram line to the northern suburbs.\n\n"
    "Construction is due to start next spring."
)
ZH_TEXT = "北京时间今天上午，国家统计局发布了最新一期的居民消费价格指数，同比上涨百分之零点二。"


def make_article(text: str = EN_TEXT, url: str | None = URL, title: str = "Tram line extended") -> Article:
    return Article(
        title=title,
        text=text,
        url=url,
        published=dt.date(2024, 5, 1),
        author="A. Writer",
        source="Example News",
        section="City",
        language="en",
    )


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "data" / "corpus.db"


@pytest.fixture
def db(db_path):
    database = open_db(db_path)
    yield database
    database.close()


def count(db, table: str, where: str = "TRUE", params=()) -> int:
    return db.execute(f"SELECT count(*) FROM {table} WHERE {where}", list(params)).fetchone()[0]


def url_rows(db) -> dict[str, tuple[int, str]]:
    return {r[0]: (r[1], r[2]) for r in db.execute("SELECT url, article_id, kind FROM article_urls")}


def assert_index_matches_content(db) -> None:
    """articles_fts holds exactly the tokens of every article's title and text in the index form."""
    tokenize = "tokenize='unicode61 remove_diacritics 2'"
    db.execute(f"CREATE VIRTUAL TABLE temp.expected_fts USING fts5(title, text, {tokenize})")
    db.execute(
        "INSERT INTO temp.expected_fts (rowid, title, text)"
        " SELECT id, scraper_fts(title), scraper_fts(text) FROM articles"
    )
    db.execute("CREATE VIRTUAL TABLE temp.expected_vocab USING fts5vocab(temp, expected_fts, instance)")
    db.execute("CREATE VIRTUAL TABLE temp.actual_vocab USING fts5vocab(main, articles_fts, instance)")
    for left, right in (("actual_vocab", "expected_vocab"), ("expected_vocab", "actual_vocab")):
        extra = db.execute(f"SELECT * FROM temp.{left} EXCEPT SELECT * FROM temp.{right} LIMIT 5").fetchall()
        assert extra == [], f"{left} has tokens {right} lacks: {extra}"
    db.execute("DROP TABLE temp.actual_vocab")
    db.execute("DROP TABLE temp.expected_vocab")
    db.execute("DROP TABLE temp.expected_fts")


def fts_ids(db, query: str) -> list[int]:
    rows = db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid", [query])
    return [r[0] for r in rows]


# -- open_db and migrations ----------------------------------------------------


def test_open_db_creates_parent_dir_wal_and_schema(db, db_path):
    assert db_path.is_file()
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
    assert {"articles", "article_urls", "article_versions", "fetch_log", "articles_fts"} <= set(
        db.table_names()
    )
    assert db["articles"].detect_fts() == "articles_fts"
    indexed = {tuple(i.columns) for t in ("articles", "article_urls", "fetch_log") for i in db[t].indexes}
    assert {("published",), ("site",), ("article_id",), ("url",)} <= indexed


def test_a_writer_checkpoints_its_wal_every_ten_thousand_pages(db):
    """Not SQLite's 1,000: a batch of new articles dirties more than that (store/db.py)."""
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 10_000
    assert schema_version(db) == SCHEMA_VERSION


def test_open_db_twice_applies_migrations_once(db_path):
    open_db(db_path).close()
    second = open_db(db_path)
    rows = list(second.query("SELECT name FROM _sqlite_migrations WHERE migration_set = 'scraper'"))
    assert len(rows) == SCHEMA_VERSION
    second.close()


def test_schema_newer_than_code_is_a_storage_error(db_path):
    db = open_db(db_path)
    db["_sqlite_migrations"].insert(
        {
            "migration_set": "scraper",
            "name": f"{SCHEMA_VERSION + 1:04d}_future_table",
            "applied_at": "2030-01-01",
        }
    )
    db.close()
    pattern = rf"newer scraper \(schema {SCHEMA_VERSION + 1} > {SCHEMA_VERSION}.*upgrade scraper"
    with pytest.raises(StorageError, match=pattern) as info:
        open_db(db_path)
    assert str(db_path) in str(info.value)


def test_non_database_file_is_a_storage_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is a shopping list, not SQLite\n" * 200)
    with pytest.raises(StorageError, match="not a database") as info:
        open_db(path)
    assert str(path) in str(info.value)
    assert path.read_bytes().startswith(b"this is a shopping list")


def test_readonly_opens_existing_and_refuses_writes(db, db_path):
    save_article(db, make_article(), url=URL, site="example", fetched_at=T0)
    reader = open_db(db_path, readonly=True)
    assert count(reader, "articles") == 1
    with pytest.raises(StorageError, match="readonly"):
        save_article(reader, make_article(text="other"), url=URL, site="example", fetched_at=T0)
    reader.close()


def test_readonly_missing_file_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError, match="no such database"):
        open_db(tmp_path / "missing.db", readonly=True)
    assert not (tmp_path / "missing.db").exists()


# -- outcomes ------------------------------------------------------------------


def test_insert_then_same_again_is_unchanged(any_db):
    first = save(any_db, make_article(), url=URL, site="example", fetched_at=T0)
    assert first.outcome is WriteOutcome.INSERTED
    later = T0 + dt.timedelta(hours=6)
    again = save(any_db, make_article(), url=URL, site="example", fetched_at=later)
    assert again.outcome is WriteOutcome.UNCHANGED
    assert again.article_id == first.article_id
    assert count(any_db, "articles") == 1
    row = any_db["articles"].get(first.article_id)
    assert row["first_seen"] == T0.isoformat()
    assert row["last_seen"] == later.isoformat()
    assert row["fetched_at"] == T0.isoformat()


def test_inserted_row_holds_all_columns(any_db):
    article = make_article(url=None)
    result = save(
        any_db,
        article,
        url="HTTPS://News.Example.com/2024/05/01/tram-line#comments",
        site="example",
        fetched_at=T0,
    )
    row = any_db["articles"].get(result.article_id)
    assert result.url == row["url"] == URL
    assert row["title"] == "Tram line extended"
    assert row["text"] == EN_TEXT
    assert row["published"] == "2024-05-01"
    assert (row["author"], row["source"], row["section"], row["language"], row["site"]) == (
        "A. Writer",
        "Example News",
        "City",
        "en",
        "example",
    )
    assert row["content_hash"] == content_hash(EN_TEXT)
    assert row["simhash"] % (1 << 64) == simhash(EN_TEXT)
    assert row["word_count"] == 22
    assert url_rows(any_db) == {URL: (result.article_id, "canonical")}


def test_aware_datetime_published_is_kept_as_iso(any_db):
    published = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    article = Article(title="t", text=ZH_TEXT, url=URL, published=published)
    result = save(any_db, article, url=URL, site="example", fetched_at=T0)
    assert any_db["articles"].get(result.article_id)["published"] == "2024-05-01T09:30:00+08:00"


def test_fetched_at_is_stored_in_utc_and_naive_is_refused(any_db):
    tokyo = dt.datetime(2024, 5, 1, 17, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    result = save(any_db, make_article(), url=URL, site="example", fetched_at=tokyo)
    assert any_db["articles"].get(result.article_id)["fetched_at"] == "2024-05-01T08:00:00+00:00"
    with pytest.raises(ValueError, match="naive"):
        save(any_db, make_article(), url=URL, site="example", fetched_at=dt.datetime(2024, 5, 1))  # noqa: DTZ001


def test_tracking_params_find_the_same_article_and_keep_the_alias(any_db):
    first = save(any_db, make_article(url=None), url=URL, site="example", fetched_at=T0)
    tracked = URL + "?utm_source=x"
    # The page declares no canonical, so the fetched URL is the canonical one.
    again = save(any_db, make_article(url=None), url=tracked, site="example", fetched_at=T0)
    assert (again.outcome, again.article_id) == (WriteOutcome.UNCHANGED, first.article_id)
    amp = "https://news.example.com/amp/2024/05/01/tram-line"
    third = save(any_db, make_article(), url=amp, site="example", fetched_at=T0)
    assert (third.outcome, third.article_id) == (WriteOutcome.UNCHANGED, first.article_id)
    assert url_rows(any_db) == {URL: (first.article_id, "canonical"), amp: (first.article_id, "alias")}
    assert count(any_db, "articles") == 1


def test_fetched_url_different_from_declared_canonical_is_an_alias(any_db):
    amp = "https://news.example.com/amp/2024/05/01/tram-line?utm_medium=social"
    result = save(any_db, make_article(), url=amp, site="example", fetched_at=T0)
    assert result.outcome is WriteOutcome.INSERTED
    assert url_rows(any_db) == {
        URL: (result.article_id, "canonical"),
        "https://news.example.com/amp/2024/05/01/tram-line": (result.article_id, "alias"),
    }


def test_known_alias_without_declared_canonical_finds_its_article(any_db):
    amp = "https://news.example.com/amp/tram-line"
    first = save(any_db, make_article(), url=amp, site="example", fetched_at=T0)
    # Later the AMP page stops declaring its canonical URL.
    again = save(any_db, make_article(url=None), url=amp, site="example", fetched_at=T0)
    assert (again.outcome, again.article_id) == (WriteOutcome.UNCHANGED, first.article_id)
    changed = save(
        any_db, make_article(text=EN_TEXT + " Updated at noon.", url=None), url=amp, site="ex", fetched_at=T0
    )
    assert (changed.outcome, changed.article_id) == (WriteOutcome.UPDATED, first.article_id)
    assert count(any_db, "articles") == 1


def test_changed_text_is_updated_with_the_old_version_kept(any_db):
    first = save(any_db, make_article(), url=URL, site="example", fetched_at=T0)
    new_text = EN_TEXT.replace("next spring", "in the autumn")
    later = T0 + dt.timedelta(days=1)
    updated = save(any_db, make_article(text=new_text), url=URL, site="example", fetched_at=later)
    assert (updated.outcome, updated.article_id) == (WriteOutcome.UPDATED, first.article_id)
    row = any_db["articles"].get(first.article_id)
    assert (row["text"], row["content_hash"]) == (new_text, content_hash(new_text))
    assert (row["first_seen"], row["last_seen"], row["fetched_at"]) == (
        T0.isoformat(),
        later.isoformat(),
        later.isoformat(),
    )
    versions = list(any_db["article_versions"].rows)
    assert len(versions) == 1
    assert versions[0]["article_id"] == first.article_id
    assert versions[0]["text"] == EN_TEXT
    assert versions[0]["content_hash"] == content_hash(EN_TEXT)
    assert (versions[0]["fetched_at"], versions[0]["replaced_at"]) == (T0.isoformat(), later.isoformat())
    if not any_db.is_pg:  # SQLite's FTS triggers followed the update (PostgreSQL's search: test_query)
        assert fts_ids(any_db, '"autumn"') == [first.article_id]
        assert fts_ids(any_db, '"spring"') == []


def test_same_text_at_another_url_is_a_duplicate(any_db):
    first = save(any_db, make_article(), url=URL, site="example", fetched_at=T0)
    syndicated = "https://syndication.example.org/story/991"
    reformatted = EN_TEXT.upper().replace(" ", "\n ")
    dup = save(
        any_db, make_article(text=reformatted, url=syndicated), url=syndicated, site="other", fetched_at=T0
    )
    assert (dup.outcome, dup.article_id, dup.url) == (WriteOutcome.DUPLICATE, first.article_id, syndicated)
    assert count(any_db, "articles") == 1
    assert url_rows(any_db)[syndicated] == (first.article_id, "exact-duplicate")
    again = save(any_db, make_article(url=syndicated), url=syndicated, site="other", fetched_at=T0)
    assert again.outcome is WriteOutcome.DUPLICATE
    assert count(any_db, "article_urls") == 2


def test_update_colliding_with_another_articles_text_is_a_duplicate(any_db):
    url_b = "https://news.example.com/b"
    a = save(any_db, make_article(), url=URL, site="example", fetched_at=T0)
    b = save(any_db, make_article(text=ZH_TEXT, url=url_b), url=url_b, site="example", fetched_at=T0)
    result = save(any_db, make_article(text=ZH_TEXT), url=URL, site="example", fetched_at=T0)
    assert (result.outcome, result.article_id) == (WriteOutcome.DUPLICATE, b.article_id)
    assert any_db["articles"].get(a.article_id)["text"] == EN_TEXT
    assert count(any_db, "article_versions") == 0
    assert url_rows(any_db)[URL] == (a.article_id, "canonical")


def test_duplicate_url_that_gets_its_own_text_becomes_an_article(any_db):
    other = "https://mirror.example.net/tram"
    first = save(any_db, make_article(), url=URL, site="example", fetched_at=T0)
    save(any_db, make_article(url=other), url=other, site="mirror", fetched_at=T0)
    own = save(any_db, make_article(text=ZH_TEXT, url=other), url=other, site="mirror", fetched_at=T0)
    assert own.outcome is WriteOutcome.INSERTED
    assert own.article_id != first.article_id
    assert url_rows(any_db)[other] == (own.article_id, "canonical")


def test_article_urls_last_seen_advances(any_db):
    save(any_db, make_article(), url=URL + "?utm_source=a&x=1", site="example", fetched_at=T0)
    later = T0 + dt.timedelta(hours=1)
    save(any_db, make_article(), url=URL + "?x=1", site="example", fetched_at=later)
    rows = {r["url"]: r for r in any_db["article_urls"].rows}
    alias = rows[URL + "?x=1"]
    assert (alias["kind"], alias["first_seen"], alias["last_seen"]) == (
        "alias",
        T0.isoformat(),
        later.isoformat(),
    )
    # An older fetch does not move last_seen back.
    save(any_db, make_article(), url=URL, site="example", fetched_at=T0 - dt.timedelta(days=1))
    assert any_db["articles"].get(1)["last_seen"] == later.isoformat()


def test_record_fetch_appends_to_fetch_log(db):
    record_fetch(db, URL, 200, None, T0)
    record_fetch(db, URL, None, "connect timeout", T0 + dt.timedelta(minutes=1))
    rows = list(db.query("SELECT url, status, error, at FROM fetch_log ORDER BY id"))
    assert rows == [
        {"url": URL, "status": 200, "error": None, "at": "2024-05-01T08:00:00+00:00"},
        {"url": URL, "status": None, "error": "connect timeout", "at": "2024-05-01T08:01:00+00:00"},
    ]


# -- full-text search ------------------------------------------------------------


def test_fts_finds_english_and_chinese(db, db_path):
    en = save_article(db, make_article(), url=URL, site="example", fetched_at=T0)
    zh_url = "https://news.example.cn/2024/cpi"
    zh = save_article(
        db,
        make_article(text=ZH_TEXT, url=zh_url, title="居民消费价格指数"),
        url=zh_url,
        site="cn",
        fetched_at=T0,
    )
    assert fts_ids(db, '"tram line"') == [en.article_id]
    # The index holds CJK runs as bigrams: a two-character word is one token, a longer one a phrase.
    assert fts_ids(db, "统计") == [zh.article_id]
    assert fts_ids(db, '"国家 家统 统计 计局"') == [zh.article_id]
    assert fts_ids(db, '"消费 费价 价格"') == [zh.article_id]
    assert fts_ids(db, '"统计 计年 年鉴"') == []
    # Words are tokens: "line" is not found inside "lines", nor "ram" inside "tram".
    assert fts_ids(db, "ram") == []
    # The way `sqlite-utils search` and Datasette query it: the user's raw text.
    plain = sqlite_utils.Database(db_path)
    assert [r["id"] for r in plain["articles"].search("统计")] == [zh.article_id]
    assert [r["id"] for r in plain["articles"].search("消费")] == [zh.article_id]
    assert [r["url"] for r in plain["articles"].search("northern suburbs")] == [URL]
    plain.close()


def test_fts_title_match_ranks_first_in_sqlite_utils(db, db_path):
    """The table's own rank (sqlite-utils orders by it) weighs a title match like scraper search."""
    body = "他说：" + "外交政策很重要，外交工作要做好。" * 3
    in_text = make_article(text=body, url="https://x.example/text", title="新闻")
    in_title = make_article(text="他的一生。" * 5, url="https://x.example/title", title="投身外交(3)")
    for article in (in_text, in_title):
        save_article(db, article, url=article.url, site="x", fetched_at=T0)
    plain = sqlite_utils.Database(db_path)
    assert [r["title"] for r in plain["articles"].search("外交")] == ["投身外交(3)", "新闻"]
    plain.close()


def test_fts_index_matches_the_stored_text(db):
    """Every article's index entry is its title and text in the index form, after updates too."""
    save_article(db, make_article(text=ZH_TEXT), url=URL, site="example", fetched_at=T0)
    later = T0 + dt.timedelta(days=1)
    save_article(db, make_article(text=EN_TEXT), url=URL, site="example", fetched_at=later)
    assert fts_ids(db, "统计") == []
    assert_index_matches_content(db)


def test_sqlite_has_trigram_tokenizer():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
    conn.execute("INSERT INTO t VALUES ('统计局发布')")
    assert conn.execute("SELECT count(*) FROM t WHERE t MATCH '计局发'").fetchone()[0] == 1
    conn.close()


# -- concurrency and crashes ----------------------------------------------------------


def _save_many(path: Path, prefix: str, n: int, errors: list[BaseException]) -> None:
    try:
        db = open_db(path)
        for i in range(n):
            text = f"{prefix} story number {i}: {EN_TEXT}"
            url = f"https://news.example.com/{prefix}/{i}"
            # The 120 texts are one story with a number changed: this test is about the write lock,
            # so near-duplicate linking (which would keep one row) is off.
            article = make_article(text=text, url=url)
            save_article(db, article, url=url, site=prefix, fetched_at=T0, near="off")
        db.close()
    except BaseException as exc:
        errors.append(exc)


def test_two_writers_in_threads_do_not_fail_with_locked(db_path):
    open_db(db_path).close()
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_save_many, args=(db_path, p, 60, errors)) for p in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db = open_db(db_path)
    assert count(db, "articles") == 120
    db.close()


FAIL_ON_ALIAS = """
CREATE TRIGGER fail_on_alias BEFORE INSERT ON article_urls WHEN NEW.kind = 'alias'
BEGIN SELECT RAISE(ABORT, 'injected failure'); END
"""


def test_a_failed_save_leaves_nothing_behind(db):
    first = save_article(db, make_article(), url=URL, site="example", fetched_at=T0)
    db.execute(FAIL_ON_ALIAS)
    amp = "https://news.example.com/amp/tram"
    with pytest.raises(StorageError, match="injected failure"):
        save_article(db, make_article(text=ZH_TEXT), url=amp, site="example", fetched_at=T0)
    # The update (and its copy into article_versions) was rolled back with the link.
    assert db["articles"].get(first.article_id)["text"] == EN_TEXT
    assert count(db, "article_versions") == 0
    new_url = "https://news.example.com/other"
    with pytest.raises(StorageError, match="injected failure"):
        save_article(db, make_article(text=ZH_TEXT, url=new_url), url=amp, site="example", fetched_at=T0)
    assert count(db, "articles") == 1
    assert not db.conn.in_transaction
    assert (
        save_article(db, make_article(), url=URL, site="x", fetched_at=T0).outcome is WriteOutcome.UNCHANGED
    )


def test_first_open_from_several_threads_migrates_once(db_path):
    errors: list[BaseException] = []

    def first_open() -> None:
        try:
            open_db(db_path).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_open) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db = open_db(db_path)
    assert count(db, "_sqlite_migrations") == SCHEMA_VERSION
    db.close()


def test_writer_waits_for_a_held_lock(db, db_path):
    holder = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO fetch_log (url, status, at) VALUES ('x', 1, 'now')")
    releaser = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    releaser.start()
    started = time.monotonic()
    result = save_article(db, make_article(), url=URL, site="example", fetched_at=T0)
    waited = time.monotonic() - started
    releaser.join()
    holder.close()
    assert result.outcome is WriteOutcome.INSERTED
    assert waited >= 0.4


WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    from scraper.models import Article
    from scraper.store import open_db, save_article
    db = open_db(sys.argv[1])
    now = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    run, i = sys.argv[2], 0
    while True:
        slot = i % 40
        url = f"https://news.example.com/{slot}"
        text = f"run {run} revision {i} of story {slot}. " + "北京时间今天上午，国家统计局发布了数据。" * 30
        article = Article(title=f"story {slot}", text=text, url=url)
        save_article(db, article, url=url, site="x", fetched_at=now)
        i += 1
        if i % 25 == 0:
            print(i, flush=True)
    """
)


def test_killed_writer_leaves_a_consistent_database(db_path):
    open_db(db_path).close()
    # Kill at varied moments, so that some kills land inside a save.
    kill_writer_at(db_path, WRITER, (0.0, 0.01, 0.02, 0.03, 0.05, 0.07, 0.11, 0.13, 0.17, 0.19, 0.23, 0.31))
    db = open_db(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.execute("INSERT INTO articles_fts(articles_fts) VALUES('integrity-check')")
    # The index compared with the articles table (FTS5's own rank=1 check cannot: it re-reads
    # CJK runs whole, and the index holds them as bigrams).
    assert_index_matches_content(db)
    assert count(db, "article_versions") > 0
    orphans = count(
        db,
        "articles a",
        "NOT EXISTS (SELECT 1 FROM article_urls u WHERE u.url = a.url AND u.article_id = a.id"
        " AND u.kind = 'canonical')",
    )
    assert orphans == 0
    # Every text the writer saves is new (run and revision in it), so an old version equal to the
    # current text would mean the copy was saved without the update.
    half_updated = count(
        db,
        "article_versions v JOIN articles a ON a.id = v.article_id",
        "v.content_hash = a.content_hash",
    )
    assert half_updated == 0
    assert count(db, "articles") == count(db, "articles_fts") == 40
    db.close()


# -- properties ------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    text=st.text(min_size=1).filter(lambda t: t.strip()),
    path=st.sampled_from(["/a", "/news/1?id=2", "/%E4%B8%AD"]),
    tracking=st.booleans(),
)
def test_saving_twice_leaves_one_row(text, path, tracking):
    url = "https://news.example.com" + path
    fetched = url + ("&" if "?" in url else "?") + "utm_campaign=z" if tracking else url
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "p.db")
        first = save_article(db, make_article(text=text, url=url), url=fetched, site="x", fetched_at=T0)
        second = save_article(db, make_article(text=text, url=None), url=fetched, site="x", fetched_at=T0)
        assert first.outcome is WriteOutcome.INSERTED
        assert second.outcome is WriteOutcome.UNCHANGED
        assert count(db, "articles") == 1
        db.close()


@pytest.mark.parametrize(
    ("published", "year"),
    [
        (dt.date(2021, 6, 29), 2021),
        (dt.datetime(1999, 12, 31, 23, 0, tzinfo=dt.timezone.utc), 1999),
        (None, None),
    ],
)
def test_year_is_derived_from_published(any_db, published, year):
    article = dataclasses.replace(make_article(), published=published)
    result = save(any_db, article, url=URL, site="example", fetched_at=T0)
    assert any_db.execute("SELECT year FROM articles WHERE id = ?", [result.article_id]).fetchone()[0] == year


# -- WriteBatch: several write units per transaction ----------------------------


def _fetch_logs(path: Path) -> int:
    """Rows in fetch_log as another connection sees them (committed rows only)."""
    with sqlite3.connect(path) as other:
        return other.execute("SELECT count(*) FROM fetch_log").fetchone()[0]


def _log_unit(batch: WriteBatch, n: int) -> None:
    with batch.write():
        log_fetch(batch.db, f"{URL}?page={n}", 200, None, T0)


def test_write_batch_commits_every_max_units(tmp_path):
    path = tmp_path / "corpus.db"
    db = open_db(path)
    batch = WriteBatch(db, max_units=3, max_seconds=3600)
    for n in range(5):
        _log_unit(batch, n)
    assert _fetch_logs(path) == 3  # units 4 and 5 wait for the next commit
    assert batch.open
    batch.commit()
    assert _fetch_logs(path) == 5
    assert not batch.open


def test_write_batch_nested_write_joins_the_unit(tmp_path):
    path = tmp_path / "corpus.db"
    batch = WriteBatch(open_db(path), max_units=2, max_seconds=3600)
    with batch.write():
        log_fetch(batch.db, URL, 200, None, T0)
        _log_unit(batch, 1)  # nested: no commit in the middle of the outer unit
        assert _fetch_logs(path) == 0
    assert _fetch_logs(path) == 0
    _log_unit(batch, 2)
    assert _fetch_logs(path) == 3


def test_write_batch_failure_rolls_back_the_whole_batch(tmp_path):
    path = tmp_path / "corpus.db"
    batch = WriteBatch(open_db(path), max_units=10, max_seconds=3600)
    _log_unit(batch, 1)
    with pytest.raises(StorageError, match="cannot write"), batch.write():
        batch.db.execute("INSERT INTO no_such_table VALUES (1)")
    assert not batch.open
    batch.commit()
    assert _fetch_logs(path) == 0


def test_write_batch_pauses_after_a_commit_so_other_writers_get_the_lock(tmp_path):
    path = tmp_path / "corpus.db"
    batch = WriteBatch(open_db(path), max_units=1, max_seconds=3600, pause=30.0)
    assert batch.pause_left() == 0.0
    _log_unit(batch, 1)  # committed at once (max_units=1)
    assert 29.0 < batch.pause_left() <= 30.0
    record_fetch(open_db(path), URL, 200, None, T0)  # the lock is free during the pause
    assert _fetch_logs(path) == 2


def test_write_batch_a_bug_in_one_unit_undoes_that_unit_only(tmp_path):
    """A non-SQLite exception inside a unit (a bug met on one page) keeps the batch's other pages."""
    path = tmp_path / "corpus.db"
    batch = WriteBatch(open_db(path), max_units=10, max_seconds=3600)
    _log_unit(batch, 1)

    def buggy_unit() -> None:
        with batch.write():
            log_fetch(batch.db, f"{URL}?page=2", 200, None, T0)
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        buggy_unit()
    assert batch.open  # units 1 (and the next ones) are kept
    _log_unit(batch, 3)
    batch.commit()
    with sqlite3.connect(path) as other:
        urls = [row[0] for row in other.execute("SELECT url FROM fetch_log ORDER BY id")]
    assert urls == [f"{URL}?page=1", f"{URL}?page=3"]


def test_runs_keep_their_report_as_json(tmp_path):
    import json

    from scraper.store import finish_run, start_run

    db = open_db(tmp_path / "corpus.db")
    run = start_run(db, ["news"], started=T0, pid=1)
    report = {"sources": {"news": {"new": 1, "reasons": {"HTTP 404": 2}}}, "stopped": "SIGTERM"}
    finish_run(db, run, {"news": {"new": 1}}, exit_status=143, finished=T0, report=report, stopped="SIGTERM")
    text, stopped, status = db.execute("SELECT report, stopped, exit_status FROM runs").fetchone()
    assert json.loads(text) == report
    assert (stopped, status) == ("SIGTERM", 143)


def test_a_parked_url_waits_longer_after_each_failure():
    from scraper.frontier import MAX_ATTEMPTS, PARK_FIRST, PARK_MAX, park_interval

    waits = [park_interval(n) for n in range(1, MAX_ATTEMPTS + 8)]
    assert waits[:MAX_ATTEMPTS] == [PARK_FIRST] * MAX_ATTEMPTS
    assert waits[MAX_ATTEMPTS : MAX_ATTEMPTS + 3] == [PARK_FIRST * 2, PARK_FIRST * 4, PARK_FIRST * 8]
    assert waits[-1] == PARK_MAX
    assert waits == sorted(waits)
    assert park_interval(10**6) == PARK_MAX


def test_read_only_open_of_a_database_nobody_may_write(tmp_path):
    """A WAL database in a read-only place: mode=ro cannot create its -shm; immutable reads it."""
    from scraper.store import connect_readonly

    path = tmp_path / "corpus.db"
    db = open_db(path)
    record_fetch(db, URL, 200, None, T0)
    db.close()  # the last connection checkpoints and removes the -wal file
    snapshot = connect_readonly(path, snapshot=True)  # no -wal beside it: read as an immutable file
    assert snapshot.execute("SELECT count(*) FROM fetch_log").fetchone() == (1,)
    snapshot.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.db"]


# -- schema 8: the archive pointer and the extractor (issue 12) ------------------------------------

ARCHIVE_COLUMNS = ("warc_file", "warc_offset", "warc_length", "extractor")


def test_a_schema_7_database_gains_the_archive_columns_and_old_rows_keep_null(db_path):
    db = open_db(db_path)
    save_article(db, make_article(), url=URL, site="example", fetched_at=T0)
    db.execute("INSERT INTO article_versions (article_id, title, text) VALUES (1, 'old', 'older text')")
    for table in ("articles", "article_versions"):  # back to what schema 7 had
        for column in ARCHIVE_COLUMNS:
            db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    db.executescript(  # and what schemas 9, 10 and 11 added
        "DROP INDEX idx_articles_filter;"
        " DROP VIEW near_anchors_all; DROP TABLE near_anchors_recent; DROP TABLE near_anchors_fresh;"
        " DROP TABLE near_anchor_sets; CREATE INDEX idx_near_anchors_article_id ON near_anchors (article_id);"
        " DROP TABLE near_anchor_filter;"
        " DELETE FROM _sqlite_migrations WHERE name >= '0008';"
    )
    assert schema_version(db) == 7
    db.close()

    db = open_db(db_path)
    assert schema_version(db) == SCHEMA_VERSION  # schema 8 and the steps after it
    for table in ("articles", "article_versions"):
        assert set(ARCHIVE_COLUMNS) <= set(db[table].columns_dict)
        assert db.execute(f"SELECT {', '.join(ARCHIVE_COLUMNS)} FROM {table}").fetchall() == [(None,) * 4]
    db.close()


def test_rows_record_their_warc_pointer_and_extractor_and_versions_keep_the_old_ones(any_db):
    from scraper.models import WarcRef

    first, second = WarcRef("warc/a.warc.gz", 0, 100), WarcRef("warc/b.warc.gz", 350, 90)
    saved = save(any_db, make_article(), url=URL, site="x", fetched_at=T0, warc=first, extractor="0.1+a")
    assert saved.outcome is WriteOutcome.INSERTED
    row = f"SELECT {', '.join(ARCHIVE_COLUMNS)} FROM articles"
    assert any_db.execute(row).fetchall() == [("warc/a.warc.gz", 0, 100, "0.1+a")]

    later = T0 + dt.timedelta(days=1)
    again = save(any_db, make_article(), url=URL, site="x", fetched_at=later, warc=second, extractor="0.2+b")
    assert again.outcome is WriteOutcome.UNCHANGED  # the first record that gave this text stays its source
    assert any_db.execute(row).fetchall() == [("warc/a.warc.gz", 0, 100, "0.1+a")]

    changed = make_article(text=EN_TEXT + "\n\nThe vote was unanimous.")
    updated = save(any_db, changed, url=URL, site="x", fetched_at=later, warc=second, extractor="0.2+b")
    assert updated.outcome is WriteOutcome.UPDATED
    assert any_db.execute(row).fetchall() == [("warc/b.warc.gz", 350, 90, "0.2+b")]
    versions = f"SELECT text, {', '.join(ARCHIVE_COLUMNS)} FROM article_versions"
    assert any_db.execute(versions).fetchall() == [(EN_TEXT, "warc/a.warc.gz", 0, 100, "0.1+a")]

    newest = make_article(text=EN_TEXT + "\n\nCorrection: the vote was 9 to 2.")
    save(any_db, newest, url=URL, site="x", fetched_at=later)  # not archived: no pointer
    assert any_db.execute(row).fetchall() == [(None, None, None, None)]
