"""Near-duplicates on PostgreSQL: SQLite's stories for one sequence of saves; workers saving at once agree."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
import threading
import time
from typing import Any

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.models import Article, WriteOutcome
from scraper.store import open_db
from scraper.store import save_article as save_sqlite
from scraper.store.db import iso
from scraper.store.pg import near as near_index
from scraper.store.pg import open_pg
from scraper.store.pg.articles import save_article as save_pg
from tests import backends
from tests.backends import query_rows

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.timezone.utc)
# Saves in the sequence compared across backends.
SEQUENCE_SAVES = 1_000
# The tables and columns compared, each in a stable order.
COMPARED = {
    "articles": "SELECT id, url, content_hash, story_id, anchor_count FROM articles ORDER BY id",
    "article_urls": (
        "SELECT url, article_id, kind, similarity, site, published FROM article_urls ORDER BY url"
    ),
    "article_versions": "SELECT article_id, content_hash FROM article_versions ORDER BY id",
    "near_anchors_all": "SELECT anchor, article_id FROM near_anchors_all ORDER BY anchor, article_id",
}


def words(rng: random.Random, count: int) -> list[str]:
    return [f"w{rng.randrange(20_000)}" for _ in range(count)]


def near_sequence(seed: int, saves: int) -> list[tuple[str, str, str | None]]:
    """(text, URL, published) saves: new stories, edited copies, teasers, full texts, updates at a URL."""
    rng = random.Random(seed)
    stories: list[list[str]] = []
    urls: list[str] = []
    sequence = []
    for i in range(saves):
        roll = rng.random()
        if not stories or roll < 0.3:
            body = words(rng, rng.randrange(40, 220))
            stories.append(body)
            text = body
        elif roll < 0.55:  # a copy with a line more or a few words changed
            text = list(rng.choice(stories))
            for _ in range(rng.randrange(0, 4)):
                text[rng.randrange(len(text))] = f"x{rng.randrange(1000)}"
            text += words(rng, rng.randrange(0, 15))
        elif roll < 0.65:  # a teaser: the first third
            body = rng.choice(stories)
            text = body[: max(12, len(body) // 3)]
        elif roll < 0.75:  # a full article after its teaser: much more text
            body = rng.choice(stories)
            text = body + words(rng, len(body) * 2)
        elif roll < 0.9 and urls:  # a new text at a stored URL: an edit of it, or another story
            url = rng.choice(urls)
            text = list(rng.choice(stories)) + words(rng, rng.randrange(0, 10))
            sequence.append((" ".join(text), url, None))
            continue
        else:  # a brief too short to tell
            text = words(rng, rng.randrange(1, 8))
        url = f"https://site{rng.randrange(5)}.test/{i}.html"
        urls.append(url)
        published = f"2026-02-{rng.randrange(1, 28):02d}" if rng.random() < 0.7 else None
        sequence.append((" ".join(text), url, published))
    return sequence


def run_sequence(save: Any, target: Any, sequence: list[tuple[str, str, str | None]], near: str) -> list:
    results = []
    for minutes, (text, url, published) in enumerate(sequence):
        article = Article(
            title="t", text=text, published=dt.date.fromisoformat(published) if published else None
        )
        result = save(
            target, article, url=url, site=url.split("/")[2], fetched_at=T0 + dt.timedelta(minutes=minutes),
            near=near,
        )  # fmt: skip
        results.append((result.outcome.value, result.article_id))
    return results


def sqlite_rows(db: Any, sql: str) -> list[tuple]:
    return [tuple(row) for row in db.execute(sql).fetchall()]


def pg_rows(conn: Any, sql: str) -> list[tuple]:
    return [
        tuple(iso(v) if isinstance(v, dt.datetime) else v for v in row)
        for row in conn.execute(sql).fetchall()
    ]


@pytest.mark.parametrize("near", ["link", "group"])
def test_a_thousand_saves_make_the_same_stories_on_both_backends(pg_url, tmp_path, near):
    sequence = near_sequence(14, SEQUENCE_SAVES)
    sqlite_db = open_db(tmp_path / "corpus.db")
    conn = open_pg(pg_url)
    try:
        on_sqlite = run_sequence(save_sqlite, sqlite_db, sequence, near)
        on_pg = run_sequence(save_pg, conn, sequence, near)
        outcomes = {outcome for outcome, _ in on_sqlite}
        assert outcomes >= {"new", "updated", "duplicate"} | ({"near"} if near == "link" else set())
        assert on_pg == on_sqlite
        for table, sql in COMPARED.items():
            theirs = sqlite_rows(sqlite_db, sql)
            assert theirs, table
            assert pg_rows(conn, sql) == theirs, table
        grouped = sqlite_rows(sqlite_db, "SELECT count(DISTINCT story_id) FROM articles")[0][0]
        assert grouped > 10  # stories of more than one row: the sequence exercises grouping
    finally:
        conn.close()
        sqlite_db.close()


# Workers saving copies of the same stories at once.
WORKERS = 4
STORIES = 6


def story_copies(worker: int) -> list[tuple[int, str, str]]:
    """(story, text, URL): this worker's own copy of each story (one line of its own added), in its order."""
    rng = random.Random(7)
    bodies = [" ".join(words(rng, 150)) for _ in range(STORIES)]
    copies = [
        (story, f"{body} Reported by desk {worker} at {story}.", f"https://w{worker}.test/{story}.html")
        for story, body in enumerate(bodies)
    ]
    random.Random(worker).shuffle(copies)
    return copies


def save_copies(url: str, worker: int, near: str, start: Any, outcomes: Any) -> None:
    """One worker: wait for the others, then save its copy of every story as fast as it can."""
    conn = open_pg(url)
    start.wait(60)
    for story, text, page in story_copies(worker):
        result = save_pg(conn, Article(title="t", text=text), url=page, site="w", fetched_at=T0, near=near)
        outcomes.put((story, result.outcome.value, result.article_id))
    conn.close()


@pytest.mark.parametrize("near", ["link", "group"])
def test_workers_saving_copies_of_one_story_at_once_make_one_story(pg_url, near):
    open_pg(pg_url).close()
    context = multiprocessing.get_context("spawn")
    outcomes, start = context.Queue(), context.Event()
    workers = [
        context.Process(target=save_copies, args=(pg_url, w, near, start, outcomes)) for w in range(WORKERS)
    ]
    for process in workers:
        process.start()
    start.set()
    results = [outcomes.get(timeout=120) for _ in range(WORKERS * STORIES)]
    for process in workers:
        process.join(60)
    assert [process.exitcode for process in workers] == [0] * WORKERS
    for story in range(STORIES):
        mine = [r for r in results if r[0] == story]
        assert sum(outcome == WriteOutcome.INSERTED.value for _, outcome, _ in mine) == (
            1 if near == "link" else WORKERS
        ), mine
    rows = query_rows(
        pg_url, "SELECT coalesce(story_id, id) AS story, count(*) AS n FROM articles GROUP BY 1"
    )
    assert len(rows) == STORIES  # one story each, whichever worker came first
    urls = query_rows(pg_url, "SELECT kind, count(*) AS n FROM article_urls GROUP BY kind ORDER BY kind")
    if near == "link":
        expected = [{"kind": "canonical", "n": STORIES}, {"kind": "near", "n": STORIES * (WORKERS - 1)}]
    else:
        expected = [{"kind": "canonical", "n": STORIES * WORKERS}]
    assert urls == expected


def test_dedupe_rebuild_through_the_cli_on_both_backends(db_target, tmp_path):
    rng = random.Random(3)
    body = " ".join(words(rng, 120))
    for i, text in enumerate((body, body + " More to follow.", " ".join(words(rng, 80)))):
        url = f"https://s{i}.test/a.html"
        backends.save_article(db_target, Article(title="t", text=text), url=url, site=f"s{i}", fetched_at=T0,
                              near="off")  # fmt: skip
    config = tmp_path / "config.yaml"
    config.write_text("dedupe:\n  near: link\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "--db", db_target, "dedupe", "--rebuild"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "3 articles: 2 indexed, 1 folded into an older story, 0 grouped" in result.stderr
    kinds = query_rows(db_target, "SELECT url, article_id, kind FROM article_urls ORDER BY url")
    assert [(r["url"], r["article_id"], r["kind"]) for r in kinds] == [
        ("https://s0.test/a.html", 1, "canonical"),
        ("https://s1.test/a.html", 1, "near"),
        ("https://s2.test/a.html", 3, "canonical"),
    ]
    assert query_rows(db_target, "SELECT count(*) AS n FROM near_anchor_sets") == [{"n": 2}]


@pytest.mark.parametrize("cap", [2, 6, 500])
def test_lookup_skips_anchors_over_the_cap_as_sqlite_does(pg_url, tmp_path, monkeypatch, cap):
    """Articles sharing a boilerplate paragraph: both lookups leave its anchors out, find the same story."""
    from scraper.dedupe import near_anchors
    from scraper.store import near as sqlite_near
    from scraper.store import near_match
    from scraper.store.pg import near as pg_near

    monkeypatch.setattr(sqlite_near, "NEAR_POSTINGS_CAP", cap)
    monkeypatch.setattr(near_match, "NEAR_POSTINGS_CAP", cap)
    rng = random.Random(cap)
    boilerplate = " ".join(words(rng, 60))
    bodies = [" ".join(words(rng, 50)) for _ in range(12)]
    sqlite_db, conn = open_db(tmp_path / "corpus.db"), open_pg(pg_url)
    try:
        for i, body in enumerate(bodies):
            for save, target in ((save_sqlite, sqlite_db), (save_pg, conn)):
                save(target, Article("t", f"{body}\n\n{boilerplate}"), url=f"https://a.test/{i}", site="a",
                     fetched_at=T0, near="group")  # fmt: skip
        queries = [near_anchors(f"{body} edited\n\n{boilerplate}") for body in bodies]
        queries += [near_anchors(f"{' '.join(words(rng, 50))}\n\n{boilerplate}") for _ in range(4)]
        queries += [near_anchors(body[: len(body) // 2]) for body in bodies[:4]]
        on_sqlite = [sqlite_near.find_near(sqlite_db, q, 0.5) for q in queries]
        assert [pg_near.find_near(conn, q, 0.5) for q in queries] == on_sqlite
        assert on_sqlite[0] is not None
    finally:
        conn.close()
        sqlite_db.close()


def _waiting_on_advisory_lock(monitor: Any, pid: int) -> bool:
    found = monitor.execute(
        "SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND NOT granted", [pid]
    ).fetchone()
    return found is not None


def test_a_changed_row_and_a_worker_joining_it_to_a_story_do_not_deadlock(pg_url):
    """A worker storing a new text at a stored URL locks the old text's buckets before the row.

    The other side: a worker in group mode holding those buckets (it saves a copy of the old
    text) and joining the row to its story. With the old text's buckets locked after the row, each
    waited for the other and PostgreSQL aborted one ("deadlock detected": a page lost, the run
    stopped). Replayed here step by step: the joiner's buckets and row update are issued by hand.
    """
    rng = random.Random(11)
    old_text, new_text = " ".join(words(rng, 150)), " ".join(words(rng, 150))
    url = "https://a.test/story.html"
    conn = open_pg(pg_url)
    stored = save_pg(conn, Article(title="t", text=old_text), url=url, site="a", fetched_at=T0, near="group")
    old_anchors = near_index.stored_anchors(conn, stored.article_id)
    assert old_anchors
    joiner, monitor = open_pg(pg_url), open_pg(pg_url)
    outcome: list[Any] = []

    def change() -> None:
        try:
            later = T0 + dt.timedelta(hours=1)
            outcome.append(
                save_pg(
                    conn, Article(title="t", text=new_text), url=url, site="a", fetched_at=later, near="group"
                )
            )
        except Exception as exc:  # reported by the assertion below
            outcome.append(exc)

    try:
        with joiner.transaction():
            near_index.lock_anchors(joiner, old_anchors)
            changer = threading.Thread(target=change)
            changer.start()
            deadline = time.monotonic() + 30
            while not _waiting_on_advisory_lock(monitor, conn.info.backend_pid):
                assert time.monotonic() < deadline, "the changing save never waited for the buckets"
                time.sleep(0.02)
            joiner.execute("UPDATE articles SET story_id = id WHERE id = %s", [stored.article_id])
        changer.join(30)
        assert [getattr(result, "outcome", result) for result in outcome] == [WriteOutcome.UPDATED]
    finally:
        for each in (conn, joiner, monitor):
            each.close()
