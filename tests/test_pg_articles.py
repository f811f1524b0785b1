"""save_article() on PostgreSQL gives SQLite's outcomes and rows, and holds with workers saving at once."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading

from scraper.errors import StorageConflict
from scraper.models import Article, WriteOutcome
from scraper.store import open_db
from scraper.store import save_article as save_sqlite
from scraper.store.db import iso
from scraper.store.pg import db as pg_db
from scraper.store.pg import open_pg
from scraper.store.pg.articles import save_article as save_pg

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.timezone.utc)
TEXTS = {
    name: f"{body} " * 30
    for name, body in {
        "A": "The tram line opens to the harbour next spring, the council said on Monday.",
        "A2": "The tram line will open to the harbour in the summer after a delay, the council said.",
        "C": "Rents in the old town rose by a tenth last year, a survey of landlords finds.",
        "D": "The museum reopens its east wing with a show of maps from the eighteenth century.",
        "Z": "北京市公交集团宣布新的线路将于下月开通，方便市民出行。",
    }.items()
}
U = {n: f"https://news.test/{n}.html" for n in range(1, 7)}

# (text, the page's canonical URL or None, the URL fetched, minutes after T0, published)
SEQUENCE = (
    ("A", None, U[1], 0, dt.date(2026, 2, 28)),  # new
    ("A", None, U[1], 5, dt.date(2026, 2, 28)),  # unchanged: last_seen moves
    (
        "A2",
        None,
        U[1],
        10,
        dt.datetime(2026, 3, 1, 7, 30, tzinfo=dt.timezone.utc),
    ),  # updated: A kept as a version
    ("A2", None, U[2], 15, None),  # duplicate of 1 at another URL
    ("A", None, U[3], 20, None),  # A's old text is only a version now: new
    ("A2", U[1], U[4], 25, None),  # canonical U1, same text: unchanged, U4 becomes its alias
    ("C", None, U[4], 30, None),  # U4 is an alias of 1: updated through it
    ("D", None, U[2], 35, None),  # U2 was an exact-duplicate URL, not an alias: new, and U2 becomes canonical
    ("A", U[2], U[5], 40, None),  # canonical U2 has D; A is stored at U3: duplicate of that one
    ("C", None, U[4], 3, None),  # an older fetch of the same text: unchanged, last_seen does not go back
    ("Z", None, U[6], 45, dt.date(2026, 1, 1)),  # Chinese text
    ("Z", None, U[6], 50, dt.date(2026, 1, 1)),
    (
        "D",
        None,
        U[5],
        55,
        None,
    ),  # U5, a duplicate URL of A's row, now of D's: re-pointed (same kind of claim)
)
EXPECTED = [
    "new", "unchanged", "updated", "duplicate", "new", "unchanged", "updated", "new", "duplicate",
    "unchanged", "new", "unchanged", "duplicate",
]  # fmt: skip
TABLES = {
    "articles": "id",
    "article_urls": "url",
    "article_versions": "id",
}


def article(name: str, canonical: str | None, published) -> Article:
    return Article(title=f"Story {name}", text=TEXTS[name], url=canonical, published=published, author="Desk",
                   language="en", source="News Test")  # fmt: skip


def run_sequence(save, target) -> list[tuple[str, int, str]]:
    results = []
    for name, canonical, fetched, minutes, published in SEQUENCE:
        result = save(
            target, article(name, canonical, published), url=fetched, site="news.test",
            fetched_at=T0 + dt.timedelta(minutes=minutes), near="off", extractor="test-1",
        )  # fmt: skip
        results.append((result.outcome.value, result.article_id, result.url))
    return results


def sqlite_rows(db, table: str, columns: list[str], order: str) -> list[tuple]:
    return [tuple(row) for row in db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}")]


def pg_rows(conn, table: str, columns: list[str], order: str) -> list[tuple]:
    rows = conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}").fetchall()
    return [tuple(iso(value) if isinstance(value, dt.datetime) else value for value in row) for row in rows]


def test_one_sequence_gives_the_same_outcomes_and_rows_on_both_backends(pg_url, tmp_path):
    sqlite_db = open_db(tmp_path / "corpus.db")
    conn = open_pg(pg_url)
    try:
        on_sqlite = run_sequence(save_sqlite, sqlite_db)
        on_pg = run_sequence(save_pg, conn)
        assert [outcome for outcome, _, _ in on_sqlite] == EXPECTED
        assert on_pg == on_sqlite
        for table, order in TABLES.items():
            columns = [row[1] for row in sqlite_db.execute(f"PRAGMA table_xinfo({table})")]
            theirs = sqlite_rows(sqlite_db, table, columns, order)
            assert theirs, table
            assert pg_rows(conn, table, columns, order) == theirs, table
    finally:
        conn.close()
        sqlite_db.close()


def save_many(url: str, names: list[str], outcomes) -> None:
    """A worker storing texts at their own URLs and at a shared one, as fast as it can."""
    conn = open_pg(url)
    for i, name in enumerate(names):
        for fetched in (f"https://news.test/{name}.html", f"https://mirror.test/{name}/{i}.html"):
            result = save_pg(conn, article(name, None, None), url=fetched, site="news.test", fetched_at=T0)
            outcomes.put((name, fetched, result.outcome.value, result.article_id))
    conn.close()


def test_workers_saving_the_same_articles_at_once_store_each_text_once(pg_url):
    open_pg(pg_url).close()
    context = multiprocessing.get_context("spawn")
    outcomes = context.Queue()
    names = ["A", "A2", "C", "D", "Z"]
    workers = [
        context.Process(target=save_many, args=(pg_url, names[i:] + names[:i], outcomes)) for i in range(4)
    ]
    for process in workers:
        process.start()
    results = [outcomes.get(timeout=60) for _ in range(4 * len(names) * 2)]
    for process in workers:
        process.join(60)
    assert [process.exitcode for process in workers] == [0] * 4
    conn = open_pg(pg_url)
    try:
        stored = dict(conn.execute("SELECT content_hash, id FROM articles").fetchall())
        assert len(stored) == len(names)  # each text once, whoever won
        for name in names:
            mine = [r for r in results if r[0] == name]
            assert sum(r[2] == WriteOutcome.INSERTED.value for r in mine) == 1, name
            assert len({r[3] for r in mine}) == 1, name  # every worker was pointed at the one row
        urls = conn.execute("SELECT count(*) FROM article_urls").fetchone()
        assert urls == (len(names) * 5,)  # the shared URL and four mirror URLs per text
    finally:
        conn.close()


def test_a_save_waits_a_bounded_time_for_a_stuck_holder(pg_url, monkeypatch):
    """A worker whose transaction never ends (a stopped process) held a row: the others waited for good.

    Now a writing session gives up after LOCK_TIMEOUT_S with a StorageConflict, which a crawl
    records against that URL before it goes on.
    """
    url = "https://a.test/1.html"
    first = open_pg(pg_url)
    save_pg(first, Article(title="t", text="the first text"), url=url, site="a", fetched_at=T0)
    monkeypatch.setattr(pg_db, "LOCK_TIMEOUT_S", 0.5)
    stuck, writer = open_pg(pg_url), open_pg(pg_url)
    outcome: list[object] = []

    def save() -> None:
        try:
            article = Article(title="t", text="a second text, edited")
            outcome.append(save_pg(writer, article, url=url, site="a", fetched_at=T0 + dt.timedelta(hours=1)))
        except StorageConflict as exc:
            outcome.append(exc)

    try:
        with stuck.transaction():
            stuck.execute("SELECT id FROM articles WHERE url = %s FOR UPDATE", [url])
            saver = threading.Thread(target=save, daemon=True)
            saver.start()
            saver.join(30)
            assert not saver.is_alive(), "the save still waits for the stuck transaction"
        [error] = outcome
        assert isinstance(error, StorageConflict), error
        assert "lock timeout" in str(error)
    finally:
        for conn in (first, stuck, writer):
            conn.close()
