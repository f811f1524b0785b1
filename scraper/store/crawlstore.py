"""CrawlStore: the one interface a crawl run writes through, whichever database holds the corpus.

Input: the pipeline's write units (`with crawl_store.write():`), frontier changes, articles, fetch
outcomes and run counts. Output: rows in the corpus. Settings: none (the pipeline picks batch sizes).

SqliteCrawlStore is the embedded default: the functions of this package on one sqlite_utils
Database, its units committed in batches (WriteBatch). store/pg/crawlstore.py's PgCrawlStore has
the same methods on PostgreSQL, plus the claims that let many workers share one frontier. The
pipeline calls only these methods, so the SQLite path is the code it always was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import sqlite_utils

from ..models import SaveResult, Target
from . import frontier
from .articles import PreparedArticle, touch_article, write_article
from .batch import WriteBatch
from .runs import finish_run, log_fetch, start_run, write_run_counts


class CrawlStore(Protocol):
    """What a crawl run needs from the database (store.frontier's and store.runs' verbs, without `db`)."""

    def write(self) -> Any:
        """A context manager: one write unit (a page's article, frontier row, links and fetch_log row)."""

    def commit(self) -> None:
        """Make the units written so far durable."""

    def pause_left(self) -> float:
        """Seconds to wait before the next unit, so other writers get the database."""

    def add_seeds(self, source: str, urls: Iterable[str], kind: str, *, now: dt.datetime) -> int:
        """store.frontier.add_seeds()."""

    def add_urls(
        self,
        source: str,
        urls: Iterable[tuple[str, int]],
        *,
        kind: str = "page",
        now: dt.datetime,
        run_id: int,
    ) -> list[Target]:
        """store.frontier.add_urls()."""

    def mark_fetched(self, target: Target, **fields: Any) -> None:
        """store.frontier.mark_fetched()."""

    def mark_failed(self, target: Target, state: str, reason: str, **fields: Any) -> None:
        """store.frontier.mark_failed()."""

    def mark_parked(self, target: Target, reason: str, **fields: Any) -> None:
        """store.frontier.mark_parked()."""

    def cached_robots(self, origin: str, *, now: dt.datetime) -> tuple[int, bytes] | None:
        """store.frontier.cached_robots()."""

    def save_robots(self, origin: str, status: int, body: bytes, *, now: dt.datetime) -> None:
        """store.frontier.save_robots()."""

    def write_article(self, prepared: PreparedArticle) -> SaveResult:
        """store.write_article()."""

    def touch_article(self, article_id: int, at: dt.datetime) -> None:
        """store.touch_article()."""

    def log_fetch(
        self, url: str, status: int | None, error: str | None, at: dt.datetime, outcome: str | None = None
    ) -> None:
        """store.log_fetch()."""

    def write_run_counts(self, run_id: int, counts: dict[str, dict[str, int]]) -> None:
        """store.write_run_counts()."""

    def start_run(self, sources: list[str], *, started: dt.datetime, pid: int) -> int:
        """store.start_run()."""

    def finish_run(self, run_id: int, counts: dict[str, dict[str, int]], **fields: Any) -> None:
        """store.finish_run()."""

    def close(self) -> None:
        """Close the connection."""


class SqliteCrawlStore:
    """A CrawlStore on one SQLite Database: units batched in a WriteBatch, one crawl at a time (lock file)."""

    def __init__(
        self, db: sqlite_utils.Database, *, max_units: int, max_seconds: float, pause: float = 0.0
    ) -> None:
        self.db = db
        self.batch = WriteBatch(db, max_units=max_units, max_seconds=max_seconds, pause=pause)

    @contextmanager
    def write(self) -> Iterator[None]:
        """One unit of the batch (WriteBatch.write)."""
        with self.batch.write():
            yield

    def commit(self) -> None:
        """WriteBatch.commit."""
        self.batch.commit()

    def pause_left(self) -> float:
        """WriteBatch.pause_left."""
        return self.batch.pause_left()

    def add_seeds(self, source: str, urls: Iterable[str], kind: str, *, now: dt.datetime) -> int:
        """store.frontier.add_seeds()."""
        return frontier.add_seeds(self.db, source, urls, kind, now=now)

    def add_urls(
        self,
        source: str,
        urls: Iterable[tuple[str, int]],
        *,
        kind: str = "page",
        now: dt.datetime,
        run_id: int,
    ) -> list[Target]:
        """store.frontier.add_urls()."""
        return frontier.add_urls(self.db, source, urls, kind=kind, now=now, run_id=run_id)

    def mark_fetched(self, target: Target, **fields: Any) -> None:
        """store.frontier.mark_fetched()."""
        frontier.mark_fetched(self.db, target, **fields)

    def mark_failed(self, target: Target, state: str, reason: str, **fields: Any) -> None:
        """store.frontier.mark_failed()."""
        frontier.mark_failed(self.db, target, state, reason, **fields)

    def mark_parked(self, target: Target, reason: str, **fields: Any) -> None:
        """store.frontier.mark_parked()."""
        frontier.mark_parked(self.db, target, reason, **fields)

    def cached_robots(self, origin: str, *, now: dt.datetime) -> tuple[int, bytes] | None:
        """store.frontier.cached_robots()."""
        return frontier.cached_robots(self.db, origin, now=now)

    def save_robots(self, origin: str, status: int, body: bytes, *, now: dt.datetime) -> None:
        """store.frontier.save_robots()."""
        frontier.save_robots(self.db, origin, status, body, now=now)

    def write_article(self, prepared: PreparedArticle) -> SaveResult:
        """store.write_article()."""
        return write_article(self.db, prepared)

    def touch_article(self, article_id: int, at: dt.datetime) -> None:
        """store.touch_article()."""
        touch_article(self.db, article_id, at)

    def log_fetch(
        self, url: str, status: int | None, error: str | None, at: dt.datetime, outcome: str | None = None
    ) -> None:
        """store.log_fetch()."""
        log_fetch(self.db, url, status, error, at, outcome)

    def write_run_counts(self, run_id: int, counts: dict[str, dict[str, int]]) -> None:
        """store.write_run_counts()."""
        write_run_counts(self.db, run_id, counts)

    def start_run(self, sources: list[str], *, started: dt.datetime, pid: int) -> int:
        """store.start_run()."""
        return start_run(self.db, sources, started=started, pid=pid)

    def finish_run(self, run_id: int, counts: dict[str, dict[str, int]], **fields: Any) -> None:
        """store.finish_run()."""
        finish_run(self.db, run_id, counts, **fields)

    def close(self) -> None:
        """Close the database."""
        self.db.close()
