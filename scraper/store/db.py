"""Opening the corpus database, the one write idiom, and the one place sqlite3 errors become StorageError.

Input: a database path. Output: a sqlite_utils.Database in driver autocommit mode with its schema
brought up to date, or a read-only sqlite3 connection. Settings: storage.path (or --db).

Every write is one `BEGIN IMMEDIATE` transaction on a WAL database (transaction(), or a
store.WriteBatch grouping many), so a process killed at any moment leaves the file consistent,
and a second writer waits up to BUSY_TIMEOUT_S for the lock instead of failing with 'database
is locked'. Every sqlite3.Error leaves store as a StorageError through storage_errors().
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import sqlite_utils

from ..config import is_postgres_url
from ..errors import StorageError
from .fts import register_function
from .schema import MIGRATIONS, SCHEMA_VERSION, applied_unknown, schema_version

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 10.0
# Tries at setting up a database (WAL, migrations) when SQLite answers "locked": openers that
# create the same new file together (two cron jobs, threads) meet in the switch to WAL and the
# first migration, and SQLite may fail one of them rather than let it wait. Seen once, in a CI run
# on a loaded machine (tests/test_store.py, four threads opening a new file); not reproduced in 40
# tries under load, so this retry is a guard, not a measured fix.
FIRST_OPEN_ATTEMPTS = 3
# SQLite's page cache of a writing connection (its default is 2 MB). Each new article inserts its
# near-duplicate anchors at random places of the near_anchors B-tree (and its hash and URL in their
# unique indexes); with 2 MB most of those pages were re-read from the OS for every article:
# benchmarks/neardup_scale.py, 100k articles, check + insert 1,650-2,257/s with 2 MB, 3,051/s with
# 128 MB. Since schema 10 the anchors go to a small table first (store/near.py), whose pages and
# those of the next one (~35 MB at most) stay in this cache. Memory is taken only as pages are
# read; a crawl's main process stays well under 500 MB.
WRITER_CACHE_MB = 128
# Pages the WAL may hold before a commit copies them back into the database file (SQLite's default
# is 1,000, 4 MB). A batch of 500 new articles dirties ~1,150 pages (the small table of new
# near-duplicate anchors, the content_hash index), so every commit was followed by a checkpoint
# rewriting pages the next commit dirties again: at 1M articles (benchmarks/neardup_scale.py
# continued by 20,000 articles) the commit took 152-157 us an article with 1,000 or 4,000 pages,
# 109-122 us with 10,000. The WAL file grows to ~40 MB between checkpoints (and keeps that size).
WAL_CHECKPOINT_PAGES = 10_000

# SQLite's messages when a read-only open still needs to write (the -shm file of a WAL database,
# in a directory or on a mount we may not write to).
_READONLY_MESSAGES = ("readonly", "read-only", "unable to open")

# What to do about a failure, by a fragment of SQLite's message.
_FIXES = (
    ("not a database", "it is not a SQLite database: point storage.path (or --db) at the corpus file"),
    ("malformed", "the file is corrupt: restore a backup, or try `sqlite3 FILE .recover`"),
    ("locked", f"another process held the write lock for over {BUSY_TIMEOUT_S:g}s: look for a stuck scraper"),
    ("busy", f"another process held the write lock for over {BUSY_TIMEOUT_S:g}s: look for a stuck scraper"),
    (
        "readonly",
        "the file or its directory is read-only: fix its permissions (read commands such as"
        " search, stats, show and export work on it as it is)",
    ),
    ("unable to open", "check that the directory exists and is writable"),
    ("disk is full", "free disk space and run again"),
)


@contextmanager
def storage_errors(where: sqlite_utils.Database | Path | str, doing: str) -> Iterator[None]:
    """Turn a sqlite3.Error raised in the block into a StorageError naming the file, `doing` and a fix.

    where: the database (its file is looked up only when something failed) or its path.
    """
    try:
        yield
    except sqlite3.Error as exc:
        path = db_path(where) if isinstance(where, sqlite_utils.Database) else where
        message = str(exc)
        fix = next((hint for fragment, hint in _FIXES if fragment in message.lower()), "see the SQLite error")
        raise StorageError(f"{path}: {doing}: {message}; {fix}") from exc


def db_path(db: sqlite_utils.Database) -> Path | str:
    """The file behind db, for messages."""
    try:
        return Path(db.execute("PRAGMA database_list").fetchone()[2])
    except sqlite3.Error:
        return "<database>"


def iso(moment: dt.datetime) -> str:
    """An aware datetime as ISO 8601 UTC text, the form every stored time has; naive ones are a bug."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware UTC datetime")
    return moment.astimezone(dt.timezone.utc).isoformat()


@contextmanager
def immediate(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction that takes the write lock up front (BEGIN IMMEDIATE); sqlite3 errors pass.

    A deferred transaction that reads, then writes, fails at once with 'database
    is locked' when another writer got in between; IMMEDIATE waits instead.
    """
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    try:
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


@contextmanager
def transaction(db: sqlite_utils.Database, doing: str = "cannot write") -> Iterator[None]:
    """One BEGIN IMMEDIATE transaction, for one write or for a caller that writes through several modules.

    The ingest stores an article and logs the fetch in one transaction, so a kill -9 leaves both
    or neither. doing: what failed, for the StorageError's message.

    Raises:
        StorageError: SQLite failed inside the block (the transaction is rolled back).
    """
    with storage_errors(db, doing), immediate(db):
        yield


def open_db(path: str | Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """Open (creating when needed) the corpus database and bring its schema up to date.

    The connection is in driver autocommit mode (isolation_level None): writes
    happen only inside transaction() or a store.WriteBatch.

    Raises:
        StorageError: the file is not a SQLite database, cannot be opened, was written
            by a newer scraper, or (readonly) does not exist or needs migrating.
    """
    path = Path(path)
    with storage_errors(path, "cannot open the database"):
        db = sqlite_utils.Database(_connect(path, readonly=readonly))
    try:
        with storage_errors(path, "cannot open the database"):
            for attempt in range(1, FIRST_OPEN_ATTEMPTS + 1):
                try:
                    _set_up(db, path, readonly=readonly)
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc).lower() or attempt == FIRST_OPEN_ATTEMPTS:
                        raise
                    logger.debug("%s: locked while another opener set it up; again", path)
    except StorageError:
        db.close()
        raise
    return db


def migrate(location: str | Path) -> tuple[int, int]:
    """Create the corpus, or bring its schema up to date: (schema version before, after).

    location: a SQLite file, or a postgresql:// URL (store.pg.db.migrate()).

    Raises:
        StorageError: as open_db(): not a database, unreadable, or written by a newer scraper.
    """
    if is_postgres_url(str(location)):
        from .pg.db import migrate as migrate_pg  # psycopg only when PostgreSQL is asked for

        return migrate_pg(str(location))
    path = Path(location)
    before = 0
    if path.is_file():  # read the version as it is, before open_db() migrates
        with storage_errors(path, "cannot open the database"):
            conn = connect_readonly(path, timeout=BUSY_TIMEOUT_S)
            try:
                before = schema_version(sqlite_utils.Database(conn))
            finally:
                conn.close()
    db = open_db(path)
    try:
        return before, schema_version(db)
    finally:
        db.close()


def _set_up(db: sqlite_utils.Database, path: Path, *, readonly: bool) -> None:
    """WAL and pragmas, the version check, and any pending migration (under the write lock)."""
    _configure(db, readonly=readonly)
    _check_version(db, path, readonly=readonly)
    if not readonly and MIGRATIONS.pending(db):
        with immediate(db):
            # Re-read inside the lock: another process may have migrated meanwhile.
            MIGRATIONS.apply(db)
        logger.info("%s: schema now at version %d", path, schema_version(db))


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    if readonly:
        if not path.is_file():
            raise StorageError(f"{path}: no such database; run `scraper crawl` or `scraper migrate` first")
        conn = connect_readonly(path, timeout=BUSY_TIMEOUT_S)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    # the articles_fts triggers call it (store/fts.py); on a read-only connection a write then
    # fails for being read-only, not for a missing function
    register_function(conn)
    conn.isolation_level = None
    return conn


def connect_readonly(
    path: str | Path, *, timeout: float = BUSY_TIMEOUT_S, snapshot: bool = False
) -> sqlite3.Connection:
    """A read-only connection to an existing database file, also on a read-only file, directory or mount.

    `mode=ro` first: it sees what concurrent writers commit. A WAL database opened that way must
    still create its -shm file beside it, which fails where nothing may be written (SQLite says
    "attempt to write a readonly database"); then the file is opened `immutable=1`, which takes
    no lock and reads only the main file: fine when nothing can write there anyway, though
    commits still in a -wal file left beside it are not seen.

    snapshot: leave no file beside the database. `mode=ro` on a WAL database creates its -wal and
    -shm files when they are missing (and a reader cannot delete them); with no -wal file, no
    writer is at work, so the main file holds every commit and is read `immutable=1` (a dry run).

    Raises:
        sqlite3.Error: the file cannot be opened or is not a database.
    """
    file = Path(path).resolve()
    base = f"file:{quote(str(file))}?mode=ro"
    if snapshot and not file.with_name(file.name + "-wal").exists():
        base += "&immutable=1"
    conn = sqlite3.connect(base, uri=True, timeout=timeout, check_same_thread=False)
    register_function(conn)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if not any(text in str(exc).lower() for text in _READONLY_MESSAGES):
            raise
    conn = sqlite3.connect(base + "&immutable=1", uri=True, timeout=timeout, check_same_thread=False)
    register_function(conn)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        conn.close()
        raise
    logger.debug("%s: read-only location; opened immutable", path)
    return conn


def _configure(db: sqlite_utils.Database, *, readonly: bool) -> None:
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    db.execute("PRAGMA foreign_keys = ON")
    # Reading the journal mode is the first real access, so a file that is not a
    # database fails here with sqlite3.DatabaseError.
    if not readonly:
        db.enable_wal()
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a killed process loses
        # nothing committed and the file stays consistent; only a power cut may lose the last
        # commits. FULL cost ~10 ms per commit in the crawl benchmark, most of the main loop's time.
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute(f"PRAGMA cache_size = -{WRITER_CACHE_MB * 1024}")
        db.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
    else:
        db.execute("PRAGMA journal_mode").fetchone()


def _check_version(db: sqlite_utils.Database, path: Path, *, readonly: bool) -> None:
    unknown = applied_unknown(db)
    if unknown:
        found = max(schema_version(db), SCHEMA_VERSION + 1)
        raise StorageError(
            f"{path} was written by a newer scraper (schema {found} > {SCHEMA_VERSION}, "
            f"unknown migrations: {', '.join(unknown)}); upgrade scraper"
        )
    if readonly and MIGRATIONS.pending(db):
        raise StorageError(
            f"{path} has schema {schema_version(db)} < {SCHEMA_VERSION}; "
            "run `scraper migrate` (or open it writable once)"
        )
