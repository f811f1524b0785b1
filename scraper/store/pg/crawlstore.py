"""PgCrawlStore: store.crawlstore's CrawlStore on PostgreSQL, plus the claims many workers share.

Input: a worker's write units, frontier changes, articles, fetch outcomes and run counts (as
SqliteCrawlStore takes them); claim/release/unclaim calls. Output: rows in the PostgreSQL schema.
Settings: none (the pipeline passes the worker's name, its lease and its sources).

Each write unit is its own transaction: a worker holds row locks only while it writes one page,
and other workers see its frontier rows at once. Frontier writes carry the worker's name, so a
worker whose lease lapsed (another worker claimed the URL since) changes nothing of that URL.
The overlap lock is per worker: a session advisory lock on the worker's name, so two processes
given the same name (an overlapping cron slot) do not run together, and any number of differently
named workers do; PostgreSQL frees it when the worker's connection ends, kill -9 included.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ...errors import CrawlLocked
from ...models import SaveResult, Target
from ..articles import PreparedArticle
from . import frontier, runs
from .articles import touch_article, write_article
from .db import Connection, open_pg, pg_errors, redact, transaction

logger = logging.getLogger(__name__)

# The first key of the advisory lock a worker holds on its name (the second is the name's hash):
# any constant unique to this program, apart from schema.MIGRATION_LOCK.
WORKER_LOCK = 0x5C2A9E71


class PgCrawlStore:
    """A CrawlStore on PostgreSQL for one worker: a transaction per unit, frontier writes under its lease."""

    def __init__(self, conn: Connection, worker: str) -> None:
        self.conn = conn
        self.worker = worker
        self._depth = 0

    @classmethod
    def open(cls, url: str, worker: str) -> PgCrawlStore:
        """Connect (migrating the schema) and take the worker's lock.

        Raises:
            CrawlLocked: another process runs as this worker.
            StorageError: the database cannot be opened.
        """
        conn = open_pg(url)
        with pg_errors(conn, "cannot take the worker lock"):
            row = conn.execute(
                "SELECT pg_try_advisory_lock(%s, hashtext(%s))", [WORKER_LOCK, worker]
            ).fetchone()
        if row is None or not row[0]:
            conn.close()
            raise CrawlLocked(redact(url), f"worker {worker}")
        return cls(conn, worker)

    @contextmanager
    def write(self) -> Iterator[None]:
        """One unit, one transaction; a nested write() joins the enclosing unit.

        Raises:
            StorageError: PostgreSQL failed; the unit is rolled back.
        """
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            with transaction(self.conn):
                yield
        finally:
            self._depth = 0

    def commit(self) -> None:
        """Nothing to do: each unit commits when it ends."""

    def pause_left(self) -> float:
        """No pause: PostgreSQL has no database-wide write lock to hand over."""
        return 0.0

    def add_seeds(self, source: str, urls: Iterable[str], kind: str, *, now: dt.datetime) -> int:
        """store.pg.frontier.add_seeds()."""
        return frontier.add_seeds(self.conn, source, urls, kind, now=now)

    def add_urls(
        self,
        source: str,
        urls: Iterable[tuple[str, int]],
        *,
        kind: str = "page",
        now: dt.datetime,
        run_id: int,
    ) -> list[Target]:
        """store.pg.frontier.add_urls()."""
        return frontier.add_urls(self.conn, source, urls, kind=kind, now=now, run_id=run_id)

    def mark_fetched(self, target: Target, **fields: Any) -> None:
        """store.pg.frontier.mark_fetched(), only while this worker holds the URL."""
        self._held(target, frontier.mark_fetched(self.conn, target, worker=self.worker, **fields))

    def mark_failed(self, target: Target, state: str, reason: str, **fields: Any) -> None:
        """store.pg.frontier.mark_failed(), only while this worker holds the URL."""
        self._held(
            target, frontier.mark_failed(self.conn, target, state, reason, worker=self.worker, **fields)
        )

    def mark_parked(self, target: Target, reason: str, **fields: Any) -> None:
        """store.pg.frontier.mark_parked(), only while this worker holds the URL."""
        self._held(target, frontier.mark_parked(self.conn, target, reason, worker=self.worker, **fields))

    def cached_robots(self, origin: str, *, now: dt.datetime) -> tuple[int, bytes] | None:
        """store.pg.frontier.cached_robots()."""
        with pg_errors(self.conn, "cannot read the robots.txt cache"):
            return frontier.cached_robots(self.conn, origin, now=now)

    def save_robots(self, origin: str, status: int, body: bytes, *, now: dt.datetime) -> None:
        """store.pg.frontier.save_robots()."""
        frontier.save_robots(self.conn, origin, status, body, now=now)

    def write_article(self, prepared: PreparedArticle) -> SaveResult:
        """store.pg.write_article()."""
        return write_article(self.conn, prepared)

    def touch_article(self, article_id: int, at: dt.datetime) -> None:
        """store.pg's touch_article()."""
        touch_article(self.conn, article_id, at)

    def log_fetch(
        self, url: str, status: int | None, error: str | None, at: dt.datetime, outcome: str | None = None
    ) -> None:
        """store.pg.runs.log_fetch()."""
        runs.log_fetch(self.conn, url, status, error, at, outcome)

    def write_run_counts(self, run_id: int, counts: dict[str, dict[str, int]]) -> None:
        """store.pg.runs.write_run_counts()."""
        runs.write_run_counts(self.conn, run_id, counts)

    def start_run(self, sources: list[str], *, started: dt.datetime, pid: int) -> int:
        """store.pg.runs.start_run() under this worker's name."""
        return runs.start_run(self.conn, sources, started=started, pid=pid, worker=self.worker)

    def finish_run(self, run_id: int, counts: dict[str, dict[str, int]], **fields: Any) -> None:
        """store.pg.runs.finish_run()."""
        runs.finish_run(self.conn, run_id, counts, **fields)

    def close(self) -> None:
        """Close the connection (which frees the worker lock)."""
        self.conn.close()

    # -- the shared frontier ------------------------------------------------------------------

    def round_start(self, run_id: int, *, within: dt.timedelta) -> dt.datetime:
        """store.pg.runs.crawl_round_start()."""
        with pg_errors(self.conn, "cannot read the runs"):
            return runs.crawl_round_start(self.conn, run_id, within=within)

    def claim(
        self,
        sources: Sequence[str],
        *,
        limit: int,
        recheck_after: float,
        lease: dt.timedelta,
        since: dt.datetime,
    ) -> list[frontier.Claim]:
        """store.pg.frontier.claim() for this worker."""
        with pg_errors(self.conn, "cannot claim URLs"):
            return frontier.claim(
                self.conn,
                self.worker,
                sources,
                limit=limit,
                recheck_after=recheck_after,
                lease=lease,
                since=since,
            )

    def pending(self, sources: Sequence[str], *, recheck_after: float, since: dt.datetime) -> int:
        """store.pg.frontier.pending()."""
        with pg_errors(self.conn, "cannot read the frontier"):
            return frontier.pending(self.conn, sources, recheck_after=recheck_after, since=since)

    def release(self, host: str, *, delay: float) -> None:
        """store.pg.frontier.release() of this worker's request to host."""
        with pg_errors(self.conn, f"cannot release {host}"):
            frontier.release(self.conn, host, self.worker, delay=delay)

    def unclaim(self, url: str) -> None:
        """store.pg.frontier.unclaim() of a URL this worker did not fetch."""
        with pg_errors(self.conn, f"cannot give back {url}"):
            frontier.unclaim(self.conn, url, self.worker)

    def back_off(self, host: str, until: dt.datetime, reason: str) -> None:
        """store.pg.frontier.back_off(): every worker skips host until then."""
        with pg_errors(self.conn, f"cannot back off {host}"):
            frontier.back_off(self.conn, host, until, reason)

    def _held(self, target: Target, written: bool) -> None:
        if not written:
            logger.warning(
                "%s: the lease of worker %s lapsed and another worker claimed the URL; its row is left alone",
                target.url, self.worker,
            )  # fmt: skip
