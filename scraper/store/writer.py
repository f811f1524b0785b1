"""CorpusWriter: what ingest and reextract write through, whichever database holds the corpus.

Input: prepared articles and fetch outcomes (`scraper ingest`, URLs, files and WARC records), or
re-extractions of archived articles (`scraper reextract`), in write units (`with writer.write():`).
Output: rows in the corpus, units committed in batches; the archived articles to re-extract.
Settings: storage.path (a SQLite file, or a postgresql:// URL); the pipeline picks batch sizes.

SqliteWriter is the embedded default: this package's functions on one sqlite_utils Database, its
units committed in a WriteBatch. store/pg/writer.py's PgWriter has the same methods on PostgreSQL,
its units in a PgWriteBatch (a transaction per batch, as here). open_writer() picks one by the
location; psycopg is imported only for a postgresql:// URL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Protocol

import sqlite_utils

from ..config import is_postgres_url
from ..models import SaveResult, WriteOutcome
from .articles import PreparedArticle, write_article
from .batch import WriteBatch
from .db import open_db
from .read import Filters
from .reextract import ArchivedArticle, archived_articles, rewrite_article
from .runs import log_fetch


class CorpusWriter(Protocol):
    """What ingest and reextract need from the database (store's verbs, without `db`)."""

    def write(self) -> AbstractContextManager[None]:
        """One write unit (an article and its fetch_log row); committed with its batch."""

    def commit(self) -> None:
        """Commit the units written so far (nothing when none are pending)."""

    def write_article(self, prepared: PreparedArticle) -> SaveResult:
        """store.write_article()."""

    def log_fetch(
        self, url: str, status: int | None, error: str | None, at: dt.datetime, outcome: str | None = None
    ) -> None:
        """store.log_fetch()."""

    def archived_articles(self, filters: Filters | None, *, batch: int) -> Iterator[list[ArchivedArticle]]:
        """store.reextract.archived_articles()."""

    def rewrite_article(self, article_id: int, prepared: PreparedArticle, *, at: dt.datetime) -> WriteOutcome:
        """store.reextract.rewrite_article()."""

    def close(self) -> None:
        """Close the connection (an open batch is rolled back: commit() first)."""


class SqliteWriter:
    """A CorpusWriter on one SQLite Database, its units in a WriteBatch."""

    def __init__(self, db: sqlite_utils.Database, *, max_units: int, max_seconds: float) -> None:
        self.db = db
        self.batch = WriteBatch(db, max_units=max_units, max_seconds=max_seconds)

    def write(self) -> AbstractContextManager[None]:
        """WriteBatch.write."""
        return self.batch.write()

    def commit(self) -> None:
        """WriteBatch.commit."""
        self.batch.commit()

    def write_article(self, prepared: PreparedArticle) -> SaveResult:
        """store.write_article()."""
        return write_article(self.db, prepared)

    def log_fetch(
        self, url: str, status: int | None, error: str | None, at: dt.datetime, outcome: str | None = None
    ) -> None:
        """store.log_fetch()."""
        log_fetch(self.db, url, status, error, at, outcome)

    def archived_articles(self, filters: Filters | None, *, batch: int) -> Iterator[list[ArchivedArticle]]:
        """store.reextract.archived_articles()."""
        return archived_articles(self.db, filters, batch=batch)

    def rewrite_article(self, article_id: int, prepared: PreparedArticle, *, at: dt.datetime) -> WriteOutcome:
        """store.reextract.rewrite_article()."""
        return rewrite_article(self.db, article_id, prepared, at=at)

    def close(self) -> None:
        """Close the database."""
        self.db.close()


def open_writer(location: str, *, max_units: int, max_seconds: float) -> CorpusWriter:
    """A CorpusWriter on the corpus at `location` (schema brought up to date), batches of these sizes.

    Raises:
        StorageError: the database cannot be opened, or its schema is newer than this code.
    """
    if is_postgres_url(location):
        from .pg.writer import PgWriter  # psycopg only when PostgreSQL is asked for

        return PgWriter.open(location, max_units=max_units, max_seconds=max_seconds)
    return SqliteWriter(open_db(location), max_units=max_units, max_seconds=max_seconds)
