"""`scraper crawl` on PostgreSQL, end to end: real worker processes, the fixture site, a real server.

Each worker is `python -m scraper crawl` against one database (tests/pgserver.py); the fixture
server's request log is the judge of "fetched once" and of the per-host gap (tests/test_crawl.py
has the site and the SQLite side).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from scraper.models import Target
from scraper.store.pg import frontier, open_pg
from scraper.store.pg import runs as runs_module
from tests.server import FixtureServer
from tests.test_crawl import EXPECTED, ROOT, write_config

# Seconds between requests to the fixture host in these tests (per_host_delay), checked at the server.
DELAY = 0.1
# Timer and scheduling slack allowed when the server compares request start times (seconds).
SLACK = 0.005
# Bounds a worker (a bug must fail the test, not hang it).
WORKER_TIMEOUT_S = 120


def pg_config(folder: Path, server: FixtureServer, pg_url: str, **overrides: Any) -> Path:
    """tests/test_crawl.py's config for the fixture site, stored in PostgreSQL."""
    path = write_config(folder, server, db=pg_url, **overrides)
    config = json.loads(path.read_text())
    config["fetch"]["deadline"] = 2  # a short lease (claims.lease_for) for the kill test
    config["extract"] = {"time_limit": 1}
    path.write_text(json.dumps(config))
    return path


def crawl_command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "scraper", "--config", str(config), *args, "crawl"]


def start(command: list[str], folder: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, env=env, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(workers: list[subprocess.Popen[bytes]]) -> list[tuple[int, str]]:
    """(exit status, stderr) of each worker, once all have ended."""
    return [(p.wait(WORKER_TIMEOUT_S), p.communicate()[1].decode()) for p in workers]


def pg_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def stored(url: str) -> list[str]:
    """The URL paths of stored articles, one entry per row (duplicates would show twice)."""
    return sorted(row[0].split("/", 3)[3].join(["/", ""]) for row in pg_rows(url, "SELECT url FROM articles"))


def page_requests(server: FixtureServer) -> list[str]:
    return [r.path for r in server.requests]


def assert_polite(server: FixtureServer, delay: float) -> None:
    """Every request to the (one) fixture host started at least `delay` after the one before it."""
    times = sorted(r.time for r in server.requests)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps, "no requests"
    assert min(gaps) >= delay - SLACK, sorted(gaps)[:5]


def test_one_worker_stores_what_a_sqlite_crawl_stores(fresh_server, tmp_path, pg_url):
    sqlite_dir, pg_dir = tmp_path / "sqlite", tmp_path / "pg"
    sqlite_dir.mkdir()
    pg_dir.mkdir()
    on_sqlite = write_config(sqlite_dir, fresh_server, per_host_delay=DELAY)  # dedupe.near: link on both
    [(code, err)] = finish([start(crawl_command(on_sqlite, "-q"), sqlite_dir)])
    assert code == 0, err
    fresh_server.reset()
    worker = start(crawl_command(pg_config(pg_dir, fresh_server, pg_url, per_host_delay=DELAY)), pg_dir)
    [(code, err)] = finish([worker])
    assert code == 0, err
    assert "crawl finished: run 1, database postgresql://" in err
    with sqlite3.connect(sqlite_dir / "corpus.db") as conn:
        expected = set(conn.execute("SELECT url, content_hash FROM articles"))
    assert {f"/site/articles/a{n:02d}.html" for n in range(1, 43)} == EXPECTED
    assert set(pg_rows(pg_url, "SELECT url, content_hash FROM articles")) == expected
    assert stored(pg_url) == sorted(EXPECTED)
    assert_polite(fresh_server, DELAY)
    runs = pg_rows(pg_url, "SELECT finished IS NOT NULL, exit_status, worker LIKE '%:%' FROM runs")
    assert runs == [(True, 0, True)]
    sources = pg_rows(pg_url, "SELECT source, new FROM run_sources")
    assert sources == [("fixture", 42)]
    logged = pg_rows(pg_url, "SELECT count(*) FROM fetch_log WHERE outcome = 'new'")
    assert logged == [(42,)]


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_at_once_fetch_each_url_once_and_keep_the_gap(fresh_server, tmp_path, pg_url, workers):
    config = pg_config(tmp_path, fresh_server, pg_url, per_host_delay=DELAY)
    open_pg(pg_url).close()  # the schema first (workers starting together wait for one migration anyway)
    results = finish([start(crawl_command(config, "-q"), tmp_path) for _ in range(workers)])
    assert [code for code, _ in results] == [0] * workers, results
    assert stored(pg_url) == sorted(EXPECTED)  # every article, once
    paths = page_requests(fresh_server)
    assert len(paths) == len(set(paths)), sorted(p for p in paths if paths.count(p) > 1)
    assert_polite(fresh_server, DELAY)
    runs = pg_rows(
        pg_url, "SELECT count(*), count(DISTINCT worker), min(exit_status), max(exit_status) FROM runs"
    )
    assert runs == [(workers, workers, 0, 0)]
    assert pg_rows(pg_url, "SELECT count(*) FROM frontier WHERE lease_by IS NOT NULL") == [(0,)]
    assert pg_rows(pg_url, "SELECT count(*) FROM hosts WHERE lease_by IS NOT NULL") == [(0,)]


def test_a_worker_killed_mid_crawl_leaves_nothing_leased_for_good(fresh_server, tmp_path, pg_url):
    config = pg_config(tmp_path, fresh_server, pg_url, per_host_delay=0.05)
    first = start(crawl_command(config, "-q"), tmp_path)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _article_count(pg_url) < 10:
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
    finally:
        first.communicate()
    before = set(stored(pg_url))
    assert 10 <= len(before) < 42, "killed mid-crawl"
    leased = pg_rows(pg_url, "SELECT count(*) FROM hosts WHERE lease_by IS NOT NULL")
    fresh_server.reset()
    [(code, err)] = finish([start(crawl_command(config, "-q"), tmp_path)])
    assert code == 0, err
    assert stored(pg_url) == sorted(EXPECTED)  # every article once
    refetched = {r.path for r in fresh_server.requests} & before
    assert not refetched, "articles stored before the kill were fetched again"
    assert pg_rows(pg_url, "SELECT count(*) FROM frontier WHERE lease_by IS NOT NULL") == [(0,)]
    assert pg_rows(pg_url, "SELECT count(*) FROM hosts WHERE lease_by IS NOT NULL") == [(0,)]
    runs = pg_rows(pg_url, "SELECT finished IS NULL, exit_status FROM runs ORDER BY id")
    assert runs == [(True, None), (False, 0)]  # the killed run stays unfinished on record
    assert leased in ([(0,)], [(1,)])


def _article_count(url: str) -> int:
    try:
        return int(pg_rows(url, "SELECT count(*) FROM articles")[0][0])
    except psycopg.Error:  # not migrated yet
        return 0


def test_a_lapsed_worker_does_not_overwrite_the_next_holders_row(pg_url):
    conn = open_pg(pg_url)
    try:
        now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
        with conn.transaction():
            frontier.add_urls(conn, "news", [("http://a.test/1", 1)], now=now, run_id=1)
        [first] = frontier.claim(conn, "w1", ["news"], limit=1, recheck_after=3600, lease=dt.timedelta(0))
        [second] = frontier.claim(conn, "w2", ["news"], limit=1, recheck_after=3600)  # w1's lease lapsed
        target = first.target
        assert not frontier.mark_fetched(conn, target, now=now, run_id=1, next_due=None, worker="w1")
        assert not frontier.mark_failed(
            conn, target, "failed", "late", now=now, run_id=1, next_due=now, worker="w1"
        )
        assert not frontier.mark_parked(
            conn, target, "late", attempts=3, now=now, next_due=now, run_id=1, worker="w1"
        )
        row = conn.execute("SELECT state, lease_by, attempts FROM frontier").fetchall()
        assert row == [("queued", "w2", 0)]  # w2's claim stands
        assert frontier.mark_fetched(conn, second.target, now=now, run_id=2, next_due=None, worker="w2")
        assert conn.execute("SELECT state, lease_by FROM frontier").fetchall() == [("fetched", None)]
        assert second.target == Target("http://a.test/1", "news", "page", 1)
    finally:
        conn.close()


def test_crawl_with_near_duplicates_in_link_mode_stores_what_sqlite_stores(fresh_server, tmp_path, pg_url):
    """dedupe.near at its default (link) on both backends: the same rows, URL kinds and story links."""
    sqlite_dir, pg_dir = tmp_path / "sqlite", tmp_path / "pg"
    sqlite_dir.mkdir()
    pg_dir.mkdir()
    on_sqlite = write_config(sqlite_dir, fresh_server)
    [(code, err)] = finish([start(crawl_command(on_sqlite, "-q"), sqlite_dir)])
    assert code == 0, err
    fresh_server.reset()
    config = pg_config(pg_dir, fresh_server, pg_url)
    settings = json.loads(config.read_text())
    settings.pop("dedupe", None)  # the default: link
    config.write_text(json.dumps(settings))
    [(code, err)] = finish([start(crawl_command(config, "-q"), pg_dir)])
    assert code == 0, err
    urls = "SELECT a.content_hash, u.url, u.kind FROM article_urls u JOIN articles a ON a.id = u.article_id"
    with sqlite3.connect(sqlite_dir / "corpus.db") as conn:
        expected = set(conn.execute(urls))
        anchored = conn.execute("SELECT count(*) FROM near_anchors_all").fetchone()[0]
    assert set(pg_rows(pg_url, urls)) == expected
    assert pg_rows(pg_url, "SELECT count(*) FROM near_anchors_all") == [(anchored,)]
    assert anchored > 0


def test_a_second_run_under_one_worker_name_is_refused(fresh_server, tmp_path, pg_url):
    config = pg_config(tmp_path, fresh_server, pg_url)
    conn = psycopg.connect(pg_url, autocommit=True)
    try:
        open_pg(pg_url).close()
        conn.execute("SELECT pg_advisory_lock(%s, hashtext('cron-a'))", [0x5C2A9E71])  # a running 'cron-a'
        [(code, err)] = finish([start([*crawl_command(config, "-q"), "--worker", "cron-a"], tmp_path)])
        assert code == 75, err
        assert "(lock worker cron-a); try again later" in err
        assert fresh_server.requests == []
    finally:
        conn.close()


def test_sigterm_stops_a_worker_cleanly_and_gives_its_claims_back(fresh_server, tmp_path, pg_url):
    config = pg_config(tmp_path, fresh_server, pg_url, per_host_delay=DELAY)
    worker = start(crawl_command(config, "-q"), tmp_path)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _article_count(pg_url) < 5:
            time.sleep(0.02)
        worker.send_signal(signal.SIGTERM)
        _, stderr = worker.communicate(timeout=WORKER_TIMEOUT_S)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 143, stderr.decode()
    assert "interrupted by SIGTERM" in stderr.decode()
    runs = pg_rows(pg_url, "SELECT finished IS NOT NULL, exit_status, stopped FROM runs")
    assert runs == [(True, 143, "SIGTERM")]
    assert 5 <= len(stored(pg_url)) < 42
    assert pg_rows(pg_url, "SELECT count(*) FROM frontier WHERE lease_by IS NOT NULL") == [(0,)]
    assert pg_rows(pg_url, "SELECT count(*) FROM hosts WHERE lease_by IS NOT NULL") == [(0,)]


def test_max_run_time_ends_a_worker_cleanly(fresh_server, tmp_path, pg_url):
    config = pg_config(tmp_path, fresh_server, pg_url, per_host_delay=DELAY, max_run_time="2s")
    [(code, err)] = finish([start(crawl_command(config), tmp_path)])
    assert code == 0, err
    assert "stopped: crawl.max_run_time (2s)" in err
    runs = pg_rows(pg_url, "SELECT finished IS NOT NULL, exit_status, stopped FROM runs")
    assert runs == [(True, 0, "crawl.max_run_time (2s)")]
    assert len(stored(pg_url)) < 42  # the next run takes the rest
    assert pg_rows(pg_url, "SELECT count(*) FROM frontier WHERE lease_by IS NOT NULL") == [(0,)]
    assert pg_rows(pg_url, "SELECT count(*) FROM hosts WHERE lease_by IS NOT NULL") == [(0,)]


def test_the_crawl_round_starts_with_the_oldest_run_still_going(pg_url):
    conn = open_pg(pg_url)
    try:
        now = dt.datetime.now(dt.timezone.utc)
        hour = dt.timedelta(hours=1)
        ids = {}
        for worker, started, finished in (
            ("long", now - 3 * hour, None),  # a worker crawling for 3 hours, holding a lease
            ("killed", now - 4 * hour, None),  # killed with -9: unfinished, its leases lapsed
            ("done", now - 5 * hour, now - hour),
            ("peer", now - dt.timedelta(seconds=30), None),  # started with this one
            ("me", now, None),
        ):
            row = conn.execute(
                "INSERT INTO runs (started, finished, worker) VALUES (%s, %s, %s) RETURNING id",
                [started, finished, worker],
            ).fetchone()
            ids[worker] = row[0]
        with conn.transaction():
            frontier.add_urls(
                conn, "news", [("http://a.test/1", 1), ("http://a.test/2", 1)], now=now, run_id=1
            )
        lease_sql = "UPDATE frontier SET lease_by = %s, lease_until = now() + %s WHERE url = %s"
        conn.execute(lease_sql, ["long", dt.timedelta(minutes=1), "http://a.test/1"])
        conn.execute(lease_sql, ["killed", dt.timedelta(minutes=-1), "http://a.test/2"])
        lease = dt.timedelta(minutes=1)
        assert runs_module.crawl_round_start(conn, ids["me"], within=lease) == now - 3 * hour
        conn.execute("UPDATE frontier SET lease_until = now() - interval '1 second'")  # 'long' ended
        assert runs_module.crawl_round_start(conn, ids["me"], within=lease) == now - dt.timedelta(seconds=30)
    finally:
        conn.close()


def test_a_deadlock_costs_one_url_not_the_run(fresh_server, tmp_path, pg_url, monkeypatch):
    """PostgreSQL aborting one page's write as a deadlock fails that URL; the rest of the run goes on.

    Before, any StorageError stopped the worker's run, this one included, though only that page's
    transaction was rolled back. The next run stores the page. The deadlock is raised inside the
    page's real transaction, as psycopg raises it; everything around it is the real crawl.
    """
    from click.testing import CliRunner

    from scraper.cli import cli
    from scraper.store.pg import crawlstore

    real = crawlstore.write_article
    victim = "/site/articles/a07.html"

    def write_article(conn: Any, prepared: Any) -> Any:
        saved = real(conn, prepared)  # written, then aborted with the rest of the unit
        if prepared.row["url"].endswith(victim):
            raise psycopg.errors.DeadlockDetected("deadlock detected")
        return saved

    monkeypatch.setattr(crawlstore, "write_article", write_article)
    config = pg_config(tmp_path, fresh_server, pg_url)
    first = CliRunner().invoke(cli, ["--config", str(config), "crawl"])
    assert first.exit_code == 0, first.output  # one failed fetch: under crawl.max_failure_ratio
    assert stored(pg_url) == sorted(EXPECTED - {victim})
    [(state, reason)] = pg_rows(pg_url, f"SELECT state, reason FROM frontier WHERE url LIKE '%{victim}'")
    assert state == "failed"  # due again at once, as a failed fetch is
    assert "deadlock detected; another worker held the rows" in reason
    assert pg_rows(pg_url, "SELECT finished IS NOT NULL, exit_status FROM runs") == [(True, 0)]
    monkeypatch.setattr(crawlstore, "write_article", real)
    second = CliRunner().invoke(cli, ["--config", str(config), "crawl"])
    assert second.exit_code == 0, second.output
    assert stored(pg_url) == sorted(EXPECTED)
