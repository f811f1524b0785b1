"""The frontier on PostgreSQL (scraper/store/pg/frontier.py): leases, the hosts table, many workers."""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
import os
import signal
import time
from collections import defaultdict

import pytest

from scraper.models import Target
from scraper.store.pg import frontier, open_pg

# Due dates are compared with the server's clock: the tests' "now" is a minute before the real one.
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=1)
WEEK = 7 * 86400.0
HOSTS = ("http://a.test", "http://b.test", "https://c.test:8443")
# Seconds a host waits between the end of one request and the start of the next, in the tests.
GAP = 0.05
# Bounds a worker process's loop (a bug must fail the test, not hang it).
WORKER_DEADLINE_S = 120


@pytest.fixture
def conn(pg_url):
    connection = open_pg(pg_url)
    yield connection
    connection.close()


def queue(conn, per_host: int, hosts=HOSTS) -> list[str]:
    urls = [f"{host}/p{i}" for host in hosts for i in range(per_host)]
    with conn.transaction():
        frontier.add_urls(conn, "news", [(url, 1) for url in urls], now=NOW, run_id=1)
    return urls


def test_add_urls_returns_new_targets_in_order_and_creates_their_hosts(conn):
    with conn.transaction():
        first = frontier.add_urls(
            conn, "news", [("http://b.test/2", 2), ("http://a.test/1", 1), ("http://b.test/2", 5)], now=NOW,
            run_id=1,
        )  # fmt: skip
        again = frontier.add_urls(
            conn, "other", [("http://a.test/1", 3), ("http://a.test/3", 1)], now=NOW, run_id=2
        )
    assert first == [
        Target("http://b.test/2", "news", "page", 2),
        Target("http://a.test/1", "news", "page", 1),
    ]
    assert again == [Target("http://a.test/3", "other", "page", 1)]
    rows = conn.execute("SELECT url, source, depth, host, state FROM frontier ORDER BY url").fetchall()
    assert rows == [
        ("http://a.test/1", "news", 1, "http://a.test", "queued"),
        ("http://a.test/3", "other", 1, "http://a.test", "queued"),
        ("http://b.test/2", "news", 2, "http://b.test", "queued"),
    ]
    assert conn.execute("SELECT origin FROM hosts ORDER BY origin").fetchall() == [
        ("http://a.test",),
        ("http://b.test",),
    ]


def test_add_seeds_counts_new_ones_and_makes_known_ones_due_now(conn):
    later = NOW + dt.timedelta(hours=1)
    with conn.transaction():
        assert (
            frontier.add_seeds(conn, "news", ["http://a.test/", "http://a.test/feed"], "seed", now=NOW) == 2
        )
        frontier.mark_fetched(
            conn, Target("http://a.test/feed", "news"), now=NOW, run_id=1, next_due=NOW + dt.timedelta(days=9)
        )
        assert (
            frontier.add_seeds(conn, "news", ["http://a.test/feed", "http://a.test/new"], "feed", now=later)
            == 1
        )
    rows = conn.execute("SELECT url, kind, next_due FROM frontier ORDER BY url").fetchall()
    assert rows == [
        ("http://a.test/", "seed", NOW),
        ("http://a.test/feed", "feed", later),
        ("http://a.test/new", "feed", later),
    ]


def test_a_claim_takes_one_due_url_per_free_host_seeds_first(conn):
    queue(conn, per_host=3)
    with conn.transaction():
        frontier.add_seeds(conn, "news", ["http://b.test/"], "seed", now=NOW)
        frontier.add_urls(conn, "elsewhere", [("http://d.test/x", 0)], now=NOW, run_id=1)
    claims = frontier.claim(conn, "w1", ["news"], limit=10, recheck_after=WEEK)
    assert sorted((c.host, c.target.url) for c in claims) == [
        ("http://a.test", "http://a.test/p0"),
        ("http://b.test", "http://b.test/"),
        ("https://c.test:8443", "https://c.test:8443/p0"),
    ]
    leased = conn.execute(
        "SELECT url, lease_by FROM frontier WHERE lease_by IS NOT NULL ORDER BY url"
    ).fetchall()
    assert leased == sorted((c.target.url, "w1") for c in claims)
    hosts = conn.execute(
        "SELECT origin, lease_by, lease_url FROM hosts WHERE lease_by IS NOT NULL"
    ).fetchall()
    assert sorted(hosts) == sorted((c.host, "w1", c.target.url) for c in claims)
    # every host has a request in flight: nothing more for anyone until one is released
    assert frontier.claim(conn, "w2", ["news"], limit=10, recheck_after=WEEK) == []


def test_release_frees_the_host_after_the_gap_and_a_fetched_url_is_not_claimed_again(conn):
    queue(conn, per_host=2, hosts=HOSTS[:1])
    (first,) = frontier.claim(conn, "w1", ["news"], limit=5, recheck_after=WEEK)
    with conn.transaction():
        frontier.mark_fetched(conn, first.target, now=NOW, run_id=1, next_due=NOW + dt.timedelta(days=7),
                              page_kind="article")  # fmt: skip
        released = frontier.release(conn, first.host, "w1", delay=3600)
    assert released is not None
    assert frontier.claim(conn, "w2", ["news"], limit=5, recheck_after=WEEK) == []  # the gap: an hour
    conn.execute("UPDATE hosts SET next_allowed = now()")  # the hour has passed
    (second,) = frontier.claim(conn, "w2", ["news"], limit=5, recheck_after=WEEK)
    assert second.target.url == "http://a.test/p1"
    assert second.claimed_at >= released
    assert frontier.release(conn, first.host, "w1", delay=0) is None  # w1's lease is over: w2 holds it


def test_crawl_delay_and_back_off_hold_for_every_worker(conn):
    queue(conn, per_host=2, hosts=HOSTS[:2])
    with conn.transaction():
        frontier.set_crawl_delay(conn, "http://a.test", 3600.0)
        frontier.back_off(
            conn, "http://b.test", NOW + dt.timedelta(days=3650), "robots.txt unreachable (HTTP 503)"
        )
    (claim,) = frontier.claim(conn, "w1", ["news"], limit=5, recheck_after=WEEK)
    assert claim.host == "http://a.test"
    frontier.release(conn, claim.host, "w1", delay=0.0)  # the worker's own delay is shorter than Crawl-delay
    assert frontier.claim(conn, "w2", ["news"], limit=5, recheck_after=WEEK) == []


def test_a_lapsed_lease_gives_the_url_and_its_host_to_the_next_claim(conn):
    queue(conn, per_host=1, hosts=HOSTS[:1])
    (first,) = frontier.claim(
        conn, "w1", ["news"], limit=5, recheck_after=WEEK, lease=dt.timedelta(seconds=0.05)
    )
    time.sleep(0.2)  # the worker died without releasing anything
    (again,) = frontier.claim(conn, "w2", ["news"], limit=5, recheck_after=WEEK)
    assert again.target == first.target
    assert conn.execute("SELECT lease_by FROM frontier").fetchall() == [("w2",)]


def test_unclaim_gives_a_url_back_at_once(conn):
    queue(conn, per_host=1, hosts=HOSTS[:1])
    (first,) = frontier.claim(conn, "w1", ["news"], limit=5, recheck_after=WEEK)
    with conn.transaction():
        frontier.unclaim(conn, first.target.url, "w1")
        frontier.release(conn, first.host, "w1", delay=0)
    (again,) = frontier.claim(conn, "w2", ["news"], limit=5, recheck_after=WEEK)
    assert again.target == first.target


def test_stored_articles_are_due_after_recheck_after_whatever_next_due_says(conn):
    queue(conn, per_host=1, hosts=HOSTS[:1])
    (claim,) = frontier.claim(conn, "w1", ["news"], limit=5, recheck_after=WEEK)
    fetched = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    with conn.transaction():
        later = fetched + dt.timedelta(days=30)
        frontier.mark_fetched(conn, claim.target, now=fetched, run_id=1, next_due=later, page_kind="article")
        frontier.release(conn, claim.host, "w1", delay=0)
    assert frontier.claim(conn, "w1", ["news"], limit=5, recheck_after=WEEK) == []
    (again,) = frontier.claim(conn, "w1", ["news"], limit=5, recheck_after=86400.0)
    assert again.target.url == claim.target.url


def test_robots_cache_keeps_the_latest_answer_for_a_day(conn):
    with conn.transaction():
        frontier.save_robots(conn, "http://a.test", 200, b"User-agent: *\nDisallow: /a", now=NOW)
        frontier.save_robots(conn, "http://a.test", 404, b"", now=NOW + dt.timedelta(hours=1))
    assert frontier.cached_robots(conn, "http://a.test", now=NOW + dt.timedelta(hours=2)) == (404, b"")
    assert frontier.cached_robots(conn, "http://a.test", now=NOW + dt.timedelta(hours=26)) is None
    assert frontier.cached_robots(conn, "http://b.test", now=NOW) is None


# -- several worker processes at once -----------------------------------------------------------------


def crawl_worker(url: str, worker: str, delay: float, start) -> None:
    """A worker's loop without the network: claim, 'fetch', mark fetched and release in one transaction.

    Each claim and release is logged with the server's times in `claim_log`, for the test to check.
    All workers start claiming together (start: a Barrier), whatever their processes took to start.
    """
    conn = open_pg(url)
    start.wait(WORKER_DEADLINE_S)
    deadline = time.monotonic() + WORKER_DEADLINE_S
    while time.monotonic() < deadline:
        claims = frontier.claim(conn, worker, ["news"], limit=2, recheck_after=WEEK)
        if not claims:
            if conn.execute("SELECT count(*) FROM frontier WHERE state = 'queued'").fetchone() == (0,):
                break
            time.sleep(0.005)
            continue
        time.sleep(0.01)  # the fetches
        for claim in claims:
            with conn.transaction():
                frontier.mark_fetched(
                    conn, claim.target, now=NOW, run_id=1, next_due=None, page_kind="article"
                )
                released = frontier.release(conn, claim.host, worker, delay=delay)
                conn.execute(
                    "INSERT INTO claim_log VALUES (%s, %s, %s, %s, %s)",
                    [claim.target.url, claim.host, worker, claim.claimed_at, released],
                )
    conn.close()


def test_workers_claiming_at_once_never_share_a_url_nor_crowd_a_host(pg_url, conn):
    urls = queue(conn, per_host=12)
    conn.execute(
        "CREATE TABLE claim_log (url TEXT, host TEXT, worker TEXT, claimed TIMESTAMPTZ, released TIMESTAMPTZ)"
    )
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(4)
    workers = [context.Process(target=crawl_worker, args=(pg_url, f"w{i}", GAP, start)) for i in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(WORKER_DEADLINE_S + 30)
    assert [process.exitcode for process in workers] == [0, 0, 0, 0]
    log = conn.execute(
        "SELECT url, host, worker, claimed, released FROM claim_log ORDER BY claimed"
    ).fetchall()
    assert sorted(row[0] for row in log) == sorted(urls)  # each URL claimed exactly once
    assert all(row[4] is not None for row in log)  # no lease lapsed: each worker released its own host
    assert len({row[2] for row in log}) > 1  # the workers did share the work
    by_host = defaultdict(list)
    for _url, host, _worker, claimed, released in log:
        by_host[host].append((claimed, released))
    for host, spans in by_host.items():
        for (_, released), (claimed, _) in itertools.pairwise(spans):
            # one request in flight per host, and GAP between the end of one and the start of the next
            assert claimed - released >= dt.timedelta(seconds=GAP), host


def claim_and_hang(url: str, ready) -> None:
    """A worker that claims, says so, and waits to be killed."""
    conn = open_pg(url)
    frontier.claim(conn, "doomed", ["news"], limit=10, recheck_after=WEEK, lease=dt.timedelta(seconds=1))
    ready.set()
    time.sleep(WORKER_DEADLINE_S)


def test_a_killed_workers_urls_come_back_after_its_lease(pg_url, conn):
    urls = queue(conn, per_host=1)
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    doomed = context.Process(target=claim_and_hang, args=(pg_url, ready))
    doomed.start()
    assert ready.wait(WORKER_DEADLINE_S)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join()
    assert frontier.claim(conn, "w1", ["news"], limit=10, recheck_after=WEEK) == []  # still leased
    leased = conn.execute("SELECT count(*) FROM frontier WHERE lease_by = 'doomed'").fetchone()
    assert leased == (len(urls),)
    time.sleep(1.2)
    claims = frontier.claim(conn, "w1", ["news"], limit=10, recheck_after=WEEK)
    assert sorted(c.target.url for c in claims) == sorted(urls)
