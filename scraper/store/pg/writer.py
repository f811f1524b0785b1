"""PgWriter: store.writer's CorpusWriter on PostgreSQL, for `scraper ingest` and `scraper reextract`.

Input: write units of prepared articles and fetch_log rows, re-extractions. Output: rows in the
PostgreSQL schema, a transaction per batch. Settings: none (the pipeline picks the batch sizes).

Units are committed together as on SQLite (PgWriteBatch, store.batch's UnitBatch with BEGIN):
a commit per record would cost a round trip and a WAL flush each, and a kill -9 loses the open
batch only, whole units, which the next run stores again (an ingested record that was committed
is then UNCHANGED). Each unit is a SAVEPOINT, so save_article's own savepoints nest inside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager

import psycopg
from psycopg.pq import TransactionStatus

from ...models import SaveResult, WriteOutcome
from ..articles import PreparedArticle
from ..batch import UnitBatch
from ..read import Filters
from ..reextract import ArchivedArticle
from . import reextract, runs
from .articles import write_article
from .db import Connection, open_pg, pg_errors


class PgWriteBatch(UnitBatch):
    """A UnitBatch on one PostgreSQL connection (autocommit mode: the batch's BEGIN opens the transaction)."""

    _DRIVER_ERROR = psycopg.Error

    def __init__(self, conn: Connection, *, max_units: int, max_seconds: float) -> None:
        super().__init__(max_units=max_units, max_seconds=max_seconds)
        self.conn = conn

    @property
    def open(self) -> bool:
        """Whether units are written but not committed yet."""
        return self.conn.info.transaction_status != TransactionStatus.IDLE

    def _execute(self, sql: str) -> None:
        self.conn.execute(sql)

    def _errors(self, doing: str) -> AbstractContextManager[None]:
        """store.pg.db.pg_errors()."""
        return pg_errors(self.conn, doing)


class PgWriter:
    """A CorpusWriter on PostgreSQL: store.pg's verbs on one connection, units in a PgWriteBatch."""

    def __init__(self, conn: Connection, *, max_units: int, max_seconds: float) -> None:
        self.conn = conn
        self.batch = PgWriteBatch(conn, max_units=max_units, max_seconds=max_seconds)

    @classmethod
    def open(cls, url: str, *, max_units: int, max_seconds: float) -> PgWriter:
        """Connect, bringing the schema up to date.

        Raises:
            StorageError: the server cannot be reached, or the schema is newer than this code.
        """
        return cls(open_pg(url), max_units=max_units, max_seconds=max_seconds)

    def write(self) -> AbstractContextManager[None]:
        """PgWriteBatch.write."""
        return self.batch.write()

    def commit(self) -> None:
        """PgWriteBatch.commit."""
        self.batch.commit()

    def write_article(self, prepared: PreparedArticle) -> SaveResult:
        """store.pg.write_article()."""
        return write_article(self.conn, prepared)

    def log_fetch(
        self, url: str, status: int | None, error: str | None, at: dt.datetime, outcome: str | None = None
    ) -> None:
        """store.pg.runs.log_fetch()."""
        runs.log_fetch(self.conn, url, status, error, at, outcome)

    def archived_articles(self, filters: Filters | None, *, batch: int) -> Iterator[list[ArchivedArticle]]:
        """store.pg.reextract.archived_articles()."""
        return reextract.archived_articles(self.conn, filters, batch=batch)

    def rewrite_article(self, article_id: int, prepared: PreparedArticle, *, at: dt.datetime) -> WriteOutcome:
        """store.pg.reextract.rewrite_article()."""
        return reextract.rewrite_article(self.conn, article_id, prepared, at=at)

    def close(self) -> None:
        """Close the connection (PostgreSQL rolls an open batch back)."""
        self.conn.close()
