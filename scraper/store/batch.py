"""WriteBatch: many small write units (one crawled page each) committed together in one transaction.

Input: `with batch.write():` blocks of store writes. Output: BEGIN IMMEDIATE transactions of up to
max_units units or max_seconds seconds (UnitBatch, the same on PostgreSQL: store/pg/writer.py).
Settings: none (the pipeline picks the sizes).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import sqlite_utils

from .db import storage_errors

# The savepoint that wraps one write unit of a WriteBatch.
_UNIT = "scraper_unit"


class UnitBatch:
    """Write units (`with batch.write():`) grouped into one transaction per batch, on any database.

    The crawl writes each page's article, frontier row and links as one unit. A commit per page
    made SQLite the main process's largest cost (FTS5 writes a new index segment at each commit,
    then merges them), so units are committed together every `max_units` units or `max_seconds`
    seconds, and by commit(). A kill -9 loses the open batch, whole units only: those pages stay
    queued in the frontier and the next run fetches them again. Use one batch per connection, and
    no other transaction on that connection while the batch is open. Each unit is a SAVEPOINT: an
    exception that is not the database's undoes that unit only; a database error rolls back the batch.

    A batch holds the write lock from its first unit to its commit. So that another writer
    (`scraper ingest` beside a crawl) is not starved, a caller with work to spare waits out
    pause_left() before starting the next batch: the lock is then free for `pause` seconds.

    A subclass names its database: WriteBatch (SQLite, below), store/pg/writer.py's PgWriteBatch.
    """

    # The statement that opens a batch.
    BEGIN = "BEGIN"
    # The driver's error class: one of these rolls the whole batch back.
    _DRIVER_ERROR: type[Exception] = Exception

    def __init__(self, *, max_units: int, max_seconds: float, pause: float = 0.0) -> None:
        self.max_units = max_units
        self.max_seconds = max_seconds
        self.pause = pause
        self._units = 0
        self._depth = 0
        self._opened = 0.0
        self._committed = -pause

    def pause_left(self) -> float:
        """Seconds to wait before opening the next batch (0 while one is open)."""
        if self.open:
            return 0.0
        return max(0.0, self._committed + self.pause - time.monotonic())

    @property
    def open(self) -> bool:
        """Whether units are written but not committed yet."""
        raise NotImplementedError

    def _execute(self, sql: str) -> None:
        raise NotImplementedError

    def _errors(self, doing: str) -> AbstractContextManager[None]:
        """A context manager that turns the block's driver errors into StorageError."""
        raise NotImplementedError

    @contextmanager
    def write(self) -> Iterator[None]:
        """One unit; a nested write() joins the enclosing unit.

        Raises:
            StorageError: the database failed; the whole open batch is rolled back.
        """
        outer = self._depth == 0
        with self._errors("cannot write"):
            try:
                if not self.open:
                    self._execute(self.BEGIN)
                    self._units, self._opened = 0, time.monotonic()
                if outer:
                    self._execute(f"SAVEPOINT {_UNIT}")
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                if outer:
                    self._execute(f"RELEASE {_UNIT}")
            except self._DRIVER_ERROR:
                self._rollback()
                raise
            except BaseException:
                # Not the database's fault (a bug in the caller, an interrupt): undo this unit only,
                # so the other pages of the batch are kept and the caller can record the failure.
                if outer and self.open:
                    self._execute(f"ROLLBACK TO {_UNIT}")
                    self._execute(f"RELEASE {_UNIT}")
                raise
        if self._depth == 0:
            self._units += 1
            if self._units >= self.max_units or time.monotonic() - self._opened >= self.max_seconds:
                self.commit()

    def commit(self) -> None:
        """Commit the units written so far (nothing when no batch is open).

        Raises:
            StorageError: the database failed; the batch is rolled back.
        """
        if self._depth or not self.open:
            return
        with self._errors("cannot commit"):
            try:
                self._execute("COMMIT")
            except self._DRIVER_ERROR:
                self._rollback()
                raise
        self._committed = time.monotonic()

    def _rollback(self) -> None:
        if self.open:
            self._execute("ROLLBACK")


class WriteBatch(UnitBatch):
    """A UnitBatch on one SQLite Database: BEGIN IMMEDIATE, so the write lock is taken at once."""

    BEGIN = "BEGIN IMMEDIATE"
    _DRIVER_ERROR = sqlite3.Error

    def __init__(
        self, db: sqlite_utils.Database, *, max_units: int, max_seconds: float, pause: float = 0.0
    ) -> None:
        super().__init__(max_units=max_units, max_seconds=max_seconds, pause=pause)
        self.db = db

    @property
    def open(self) -> bool:
        """Whether units are written but not committed yet."""
        return self.db.conn.in_transaction

    def _execute(self, sql: str) -> None:
        self.db.conn.execute(sql)

    def _errors(self, doing: str) -> AbstractContextManager[None]:
        """store.db.storage_errors()."""
        return storage_errors(self.db, doing)
