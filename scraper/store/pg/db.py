"""Connecting to the PostgreSQL corpus, its write idiom, and the one place psycopg errors become StorageError.

Input: a postgresql:// URL (libpq's, so ?host=/socket/dir and PG* environment variables work).
Output: a psycopg Connection in autocommit mode, its session in UTC, with the schema brought up to
date (open_pg), or a StorageError whose message names the database (never its password), what
failed and a fix. Settings: storage.path (or --db) of `scraper crawl`.

Writes happen only inside transaction() (psycopg's `conn.transaction()`, READ COMMITTED): each
statement sees what other workers committed before it started, and row locks (FOR UPDATE,
INSERT ... ON CONFLICT) make concurrent workers wait for, or skip, each other's rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors_module

from ...config import is_postgres_url
from ...errors import StorageConflict, StorageError
from ..db import iso
from . import schema

# Rows come back as tuples (psycopg's default row factory).
Connection = psycopg.Connection[tuple[Any, ...]]

logger = logging.getLogger(__name__)

__all__ = [
    "Connection",
    "connect",
    "is_postgres_url",
    "migrate",
    "open_pg",
    "pg_errors",
    "redact",
    "transaction",
    "url_of",
]

# Seconds to wait for the server to answer a connection attempt: a worker started by cron against a
# server that is down should say so within seconds, not hang on the OS's TCP timeout (minutes).
CONNECT_TIMEOUT_S = 10

# Seconds a writing session waits for a lock another session holds (a row, an anchor bucket) before
# giving up with StorageConflict (PostgreSQL's lock_timeout). A worker holds its locks for one page's
# transaction, milliseconds; a wait this long means the holder is stuck (a stopped process, a hung
# client), and every worker would otherwise wait behind it for good. The crawl records that URL and
# goes on.
LOCK_TIMEOUT_S = 60.0

# The failures where another worker held the rows: the write is rolled back, nothing else is wrong
# (raised as StorageConflict: a crawl records the URL and goes on).
_CONFLICTS = (
    pg_errors_module.DeadlockDetected,
    pg_errors_module.SerializationFailure,
    pg_errors_module.LockNotAvailable,
)
_CONFLICT_FIX = "another worker held the rows; run again"

# What to do about a failure, by the psycopg exception class (checked in order; subclasses first).
_FIXES: tuple[tuple[type[psycopg.Error], str], ...] = (
    (pg_errors_module.InsufficientPrivilege, "grant the database role the rights it needs (see the message)"),
    (pg_errors_module.UndefinedTable, "the schema is missing or old: run `scraper migrate`"),
    (pg_errors_module.DiskFull, "free disk space on the database server and run again"),
    *((kind, _CONFLICT_FIX) for kind in _CONFLICTS),
    (pg_errors_module.QueryCanceled, "a statement ran past its timeout; look for a stuck worker"),
    (
        psycopg.OperationalError,
        "check that the server is running and that storage.url (host, port, database, user) is right",
    ),
)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


@contextmanager
def pg_errors(where: Connection | str, doing: str) -> Iterator[None]:
    """Turn a psycopg.Error raised in the block into a StorageError naming the database, `doing` and a fix.

    where: the connection (its URL is looked up only when something failed) or the URL.
    """
    try:
        yield
    except psycopg.Error as exc:
        text = str(exc).strip()
        message = text.splitlines()[0] if text else type(exc).__name__
        fix = next((hint for kind, hint in _FIXES if isinstance(exc, kind)), "see the PostgreSQL error")
        name = redact(where) if isinstance(where, str) else url_of(where)
        error = StorageConflict if isinstance(exc, _CONFLICTS) else StorageError
        raise error(f"{name}: {doing}: {message}; {fix}") from exc


def connect(url: str) -> Connection:
    """An autocommit connection whose session works in UTC (timestamps come back as aware UTC datetimes).

    Raises:
        StorageError: the server cannot be reached, or refused the connection.
    """
    with pg_errors(url, "cannot connect"):
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        try:
            conn.execute("SET TIME ZONE 'UTC'")
        except psycopg.Error:
            conn.close()
            raise
    return conn


@contextmanager
def transaction(conn: Connection, doing: str = "cannot write") -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back when it raises.

    Raises:
        StorageError: PostgreSQL failed inside the block (the transaction is rolled back).
    """
    with pg_errors(conn, doing), conn.transaction():
        yield


def url_of(conn: Connection) -> str:
    """A postgresql:// URL naming the connection's database, for messages (no password)."""
    try:
        info = conn.info
        host, user, port, name = info.host, info.user, info.port, info.dbname
    except psycopg.Error:
        return "<postgresql database>"
    if host.startswith("/"):  # a Unix socket directory
        return f"postgresql://{user}@/{name}?host={host}"
    return f"postgresql://{user}@{host}:{port}/{name}"


def open_pg(url: str, *, readonly: bool = False) -> Connection:
    """Connect to the PostgreSQL corpus and bring its schema up to date (pending steps in one transaction).

    A writing session (not readonly) waits at most LOCK_TIMEOUT_S for another session's lock.

    Raises:
        StorageError: the server cannot be reached, the schema was written by a newer scraper, or
            (readonly) it needs migrating.
    """
    conn = connect(url)
    try:
        with pg_errors(url, "cannot open the database"):
            _check_version(conn, url, readonly=readonly)
            if not readonly and schema.pending(conn):
                with conn.transaction():
                    names = schema.apply(conn)
                if names:
                    logger.info("%s: schema now at version %d", redact(url), schema.schema_version(conn))
            if not readonly:  # set after migrating: a worker may wait out another's long migration
                conn.execute(f"SET lock_timeout = {int(LOCK_TIMEOUT_S * 1000)}")
    except StorageError:
        conn.close()
        raise
    return conn


def _check_version(conn: Connection, url: str, *, readonly: bool) -> None:
    unknown = schema.applied_unknown(conn)
    if unknown:
        found = max(schema.schema_version(conn), schema.SCHEMA_VERSION + 1)
        raise StorageError(
            f"{redact(url)} was written by a newer scraper (schema {found} > {schema.SCHEMA_VERSION}, "
            f"unknown migrations: {', '.join(unknown)}); upgrade scraper"
        )
    if readonly and schema.pending(conn):
        raise StorageError(
            f"{redact(url)} has schema {schema.schema_version(conn)} < {schema.SCHEMA_VERSION}; "
            "run `scraper migrate` (or open it writable once)"
        )


def migrate(url: str) -> tuple[int, int]:
    """Create the schema, or bring it up to date: (schema version before, after).

    Raises:
        StorageError: the server cannot be reached, or the schema was written by a newer scraper.
    """
    conn = connect(url)
    try:
        with pg_errors(url, "cannot read the schema version"):
            before = schema.schema_version(conn)
    finally:
        conn.close()
    conn = open_pg(url)
    try:
        with pg_errors(url, "cannot read the schema version"):
            return before, schema.schema_version(conn)
    finally:
        conn.close()


def plain(value: Any) -> Any:
    """A PostgreSQL value as SQLite gives it: aware times as ISO text (store.db.iso), bytea as bytes."""
    if isinstance(value, dt.datetime):
        return iso(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value
