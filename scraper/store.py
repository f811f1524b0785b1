"""The SQLite corpus: open_db(), migrations, save_article() and record_fetch().

Input: Articles from extract, with the URL that was fetched. Output: rows in
`articles` (with FTS5 over title and text), `article_urls`, `article_versions`
and `fetch_log`, and a SaveResult per article. Settings: the database path
(storage.path in config.yaml). This is the only module that writes SQL.

Every write is one `BEGIN IMMEDIATE` transaction on a WAL database, so a process
killed at any moment leaves the file consistent, and a second writer waits up to
BUSY_TIMEOUT_S for the lock instead of failing with 'database is locked'.

Schema changes go through MIGRATIONS, a sqlite-utils Migrations set (recorded
in `_sqlite_migrations`, so `sqlite-utils migrate` understands it too). To change
the schema, write a function that takes the Database and append it to
MIGRATION_STEPS; never edit a step that has shipped.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils
from sqlite_utils.migrations import Migrations

from .dedupe import content_hash, simhash, url_key, word_count
from .errors import StorageError
from .models import Article, SaveResult, WriteOutcome

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 10.0
MIGRATION_SET = "scraper"

# article_urls.kind, weakest claim first: a URL is re-pointed to another article
# only by a claim at least as strong as the one it holds, so a 'canonical' row
# (the URL in articles.url) never moves.
URL_KINDS = ("exact-duplicate", "alias", "canonical")

_ARTICLE_COLUMNS = (
    "url, title, text, published, author, source, section, site, language,"
    " content_hash, simhash, word_count, fetched_at"
)


# -- migrations --------------------------------------------------------------


def _create_corpus(db: sqlite_utils.Database) -> None:
    """Schema 1: articles with FTS, article_urls, article_versions, fetch_log."""
    db.executescript(
        textwrap.dedent("""
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL UNIQUE,
            title TEXT,
            text TEXT,
            published TEXT,
            author TEXT,
            source TEXT,
            section TEXT,
            site TEXT,
            language TEXT,
            content_hash TEXT UNIQUE,
            simhash INTEGER,
            word_count INTEGER,
            fetched_at TEXT,
            first_seen TEXT,
            last_seen TEXT
        );
        CREATE INDEX idx_articles_published ON articles (published);
        CREATE INDEX idx_articles_site ON articles (site);
        CREATE TABLE article_urls (
            url TEXT PRIMARY KEY,
            article_id INTEGER REFERENCES articles (id),
            kind TEXT,
            first_seen TEXT,
            last_seen TEXT
        );
        CREATE INDEX idx_article_urls_article_id ON article_urls (article_id);
        CREATE TABLE article_versions (
            id INTEGER PRIMARY KEY,
            article_id INTEGER REFERENCES articles (id),
            title TEXT,
            text TEXT,
            content_hash TEXT,
            fetched_at TEXT,
            replaced_at TEXT
        );
        CREATE INDEX idx_article_versions_article_id ON article_versions (article_id);
        CREATE TABLE fetch_log (
            id INTEGER PRIMARY KEY,
            url TEXT,
            status INTEGER,
            error TEXT,
            at TEXT
        );
        CREATE INDEX idx_fetch_log_url ON fetch_log (url);
        """)
    )
    # The trigram tokenizer indexes every 3-character window, so Chinese and
    # Japanese text (no spaces) is findable by any substring of 3+ characters.
    db.table("articles").enable_fts(["title", "text"], tokenize="trigram", create_triggers=True)


def _add_facets(db: sqlite_utils.Database) -> None:
    """Schema 2: articles.year (publication year) and indexes for the Datasette facets.

    `year` is a VIRTUAL generated column: always consistent with `published`,
    no space in the row, no change to the write path. Datasette 0.65 lists it
    (it reads PRAGMA table_xinfo) and facets on it. The year and language
    indexes let a facet count from an index instead of reading every row
    (language sits after the long text, so a table scan reads all of it).
    Generated columns need SQLite >= 3.31.
    """
    db.executescript(
        textwrap.dedent("""
        ALTER TABLE articles ADD COLUMN year INTEGER GENERATED ALWAYS AS (
            CASE WHEN published GLOB '[0-9][0-9][0-9][0-9]*'
                 THEN CAST(substr(published, 1, 4) AS INTEGER) END
        ) VIRTUAL;
        CREATE INDEX idx_articles_year ON articles (year);
        CREATE INDEX idx_articles_language ON articles (language);
        """)
    )


def _create_crawl(db: sqlite_utils.Database) -> None:
    """Schema 3: the crawl frontier, the robots.txt cache, and the record of crawl runs.

    frontier.py reads and writes `frontier` and `robots_cache`; this module writes `runs` and
    `run_sources`. Times are ISO 8601 UTC text, so they compare as strings.
    """
    db.executescript(
        textwrap.dedent("""
        CREATE TABLE frontier (
            url TEXT PRIMARY KEY,         -- canonical URL (url_key)
            source TEXT NOT NULL,         -- the configured source that found it first
            kind TEXT NOT NULL,           -- seed (a start URL), sitemap, feed or page
            depth INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL,          -- queued, fetched, failed or skipped
            reason TEXT,                  -- why failed or skipped
            page_kind TEXT,               -- article or listing, once fetched
            article_id INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0,  -- failed fetches in a row
            etag TEXT,
            last_modified TEXT,
            discovered_at TEXT NOT NULL,
            last_fetch TEXT,
            next_due TEXT,                -- when to fetch it (again); NULL: never
            last_run INTEGER              -- the run that last fetched or queued it
        );
        CREATE INDEX idx_frontier_due ON frontier (source, next_due);
        CREATE INDEX idx_frontier_state ON frontier (source, state);
        CREATE TABLE robots_cache (
            origin TEXT PRIMARY KEY,      -- scheme://host[:port]
            status INTEGER,
            body BLOB,
            fetched_at TEXT
        );
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started TEXT NOT NULL,
            finished TEXT,                -- NULL: still running, or killed
            exit_status INTEGER,
            pid INTEGER,
            sources TEXT                  -- the source names crawled, comma-separated
        );
        CREATE TABLE run_sources (
            run_id INTEGER NOT NULL REFERENCES runs (id),
            source TEXT NOT NULL,
            discovered INTEGER NOT NULL DEFAULT 0,
            fetched INTEGER NOT NULL DEFAULT 0,
            new INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            unchanged INTEGER NOT NULL DEFAULT 0,
            duplicate INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (run_id, source)
        );
        """)
    )


def _add_run_report(db: sqlite_utils.Database) -> None:
    """Schema 4: runs.report, the run report as a JSON object (see scraper/report.py), and runs.stopped.

    frontier.state gains 'parked' (a URL that keeps failing, retried on a growing interval): the
    column has no CHECK constraint, so that needs no change here.
    """
    db.executescript(
        textwrap.dedent("""
        ALTER TABLE runs ADD COLUMN report TEXT;   -- JSON: sources, unreachable, errors, stopped...
        ALTER TABLE runs ADD COLUMN stopped TEXT;  -- why the run ended early (SIGTERM...); NULL: it did not
        """)
    )


def _add_fetch_outcome(db: sqlite_utils.Database) -> None:
    """Schema 5: fetch_log.outcome (new, updated, unchanged, duplicate, listing, skipped, failed, error).

    Readers told a skip from a failure by the wording of its message, which broke when the wording
    changed; rows written before this step keep NULL.
    """
    db.execute("ALTER TABLE fetch_log ADD COLUMN outcome TEXT")


# Append new steps at the end; the position (1-based) is the schema version.
MIGRATION_STEPS: tuple[Callable[[sqlite_utils.Database], None], ...] = (
    _create_corpus,
    _add_facets,
    _create_crawl,
    _add_run_report,
    _add_fetch_outcome,
)
SCHEMA_VERSION = len(MIGRATION_STEPS)


def _migration_name(version: int, step: Callable[[sqlite_utils.Database], None]) -> str:
    return f"{version:04d}{step.__name__}"


MIGRATIONS = Migrations(MIGRATION_SET)
for _version, _step in enumerate(MIGRATION_STEPS, start=1):
    MIGRATIONS(name=_migration_name(_version, _step))(_step)


def schema_version(db: sqlite_utils.Database) -> int:
    """The highest schema version applied to db (0 for an empty database)."""
    versions = [int(m.name[:4]) for m in MIGRATIONS.applied(db) if m.name[:4].isdigit()]
    return max(versions, default=0)


# -- opening -----------------------------------------------------------------


def open_db(path: str | Path, *, readonly: bool = False) -> sqlite_utils.Database:
    """Open (creating when needed) the corpus database and bring its schema up to date.

    The connection is in driver autocommit mode (isolation_level None): writes
    happen only inside the explicit transactions of this module.

    Raises:
        StorageError: the file is not a SQLite database, cannot be opened, was written
            by a newer scraper, or (readonly) does not exist or needs migrating.
    """
    path = Path(path)
    try:
        conn = _connect(path, readonly=readonly)
    except sqlite3.Error as exc:
        raise _storage_error(path, "cannot open the database", exc) from exc
    db = sqlite_utils.Database(conn)
    try:
        _configure(db, readonly=readonly)
        _check_version(db, path, readonly=readonly)
        if not readonly and MIGRATIONS.pending(db):
            with _immediate(db):
                # Re-read inside the lock: another process may have migrated meanwhile.
                MIGRATIONS.apply(db)
            logger.info("%s: schema now at version %d", path, schema_version(db))
    except sqlite3.Error as exc:
        db.close()
        raise _storage_error(path, "cannot open the database", exc) from exc
    except StorageError:
        db.close()
        raise
    return db


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    if readonly:
        if not path.is_file():
            raise StorageError(f"{path}: no such database; run `scraper crawl` or `scraper migrate` first")
        conn = connect_readonly(path, timeout=BUSY_TIMEOUT_S)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, check_same_thread=False)
    conn.isolation_level = None
    return conn


# SQLite's messages when a read-only open still needs to write (the -shm file of a WAL database,
# in a directory or on a mount we may not write to).
_READONLY_MESSAGES = ("readonly", "read-only", "unable to open")


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
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if not any(text in str(exc).lower() for text in _READONLY_MESSAGES):
            raise
    conn = sqlite3.connect(base + "&immutable=1", uri=True, timeout=timeout, check_same_thread=False)
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
    else:
        db.execute("PRAGMA journal_mode").fetchone()


def _check_version(db: sqlite_utils.Database, path: Path, *, readonly: bool) -> None:
    known = {_migration_name(v, step) for v, step in enumerate(MIGRATION_STEPS, start=1)}
    unknown = [m.name for m in MIGRATIONS.applied(db) if m.name not in known]
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


# -- writing -----------------------------------------------------------------


@contextmanager
def _immediate(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction that takes the write lock up front (BEGIN IMMEDIATE).

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
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One BEGIN IMMEDIATE transaction for a caller that writes through several modules at once.

    The crawl stores an article, updates its frontier row and logs the fetch in one transaction,
    so a kill -9 leaves all three or none.

    Raises:
        StorageError: SQLite failed inside the block (the transaction is rolled back).
    """
    try:
        with _immediate(db):
            yield
    except sqlite3.Error as exc:
        raise _storage_error(_db_path(db), "cannot write", exc) from exc


# The savepoint that wraps one write unit of a WriteBatch.
_UNIT = "scraper_unit"


class WriteBatch:
    """Write units (`with batch.write():`) grouped into one BEGIN IMMEDIATE transaction per batch.

    The crawl writes each page's article, frontier row and links as one unit. A commit per page
    made SQLite the main process's largest cost (FTS5 writes a new index segment at each commit,
    then merges them), so units are committed together every `max_units` units or `max_seconds`
    seconds, and by commit(). A kill -9 loses the open batch, whole units only: those pages stay
    queued in the frontier and the next run fetches them again. Use one batch per connection, and
    no other transaction on that connection while the batch is open. Each unit is a SAVEPOINT: an
    exception that is not SQLite's undoes that unit only; a SQLite error rolls back the batch.

    A batch holds the write lock from its first unit to its commit. So that another writer
    (`scraper ingest` beside a crawl) is not starved, a caller with work to spare waits out
    pause_left() before starting the next batch: the lock is then free for `pause` seconds.
    """

    def __init__(
        self, db: sqlite_utils.Database, *, max_units: int, max_seconds: float, pause: float = 0.0
    ) -> None:
        self.db = db
        self.max_units = max_units
        self.max_seconds = max_seconds
        self.pause = pause
        self._units = 0
        self._depth = 0
        self._opened = 0.0
        self._committed = -pause

    def pause_left(self) -> float:
        """Seconds to wait before opening the next batch (0 while one is open)."""
        if self.db.conn.in_transaction:
            return 0.0
        return max(0.0, self._committed + self.pause - time.monotonic())

    @property
    def open(self) -> bool:
        """Whether units are written but not committed yet."""
        return self.db.conn.in_transaction

    @contextmanager
    def write(self) -> Iterator[None]:
        """One unit; a nested write() joins the enclosing unit.

        Raises:
            StorageError: SQLite failed; the whole open batch is rolled back.
        """
        conn = self.db.conn
        outer = self._depth == 0
        try:
            if not conn.in_transaction:
                conn.execute("BEGIN IMMEDIATE")
                self._units, self._opened = 0, time.monotonic()
            if outer:
                conn.execute(f"SAVEPOINT {_UNIT}")
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            if outer:
                conn.execute(f"RELEASE {_UNIT}")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise _storage_error(_db_path(self.db), "cannot write", exc) from exc
        except BaseException:
            # Not SQLite's fault (a bug in the caller, an interrupt): undo this unit only, so the
            # other pages of the batch are kept and the caller can record the failure.
            if outer and conn.in_transaction:
                conn.execute(f"ROLLBACK TO {_UNIT}")
                conn.execute(f"RELEASE {_UNIT}")
            raise
        if self._depth == 0:
            self._units += 1
            if self._units >= self.max_units or time.monotonic() - self._opened >= self.max_seconds:
                self.commit()

    def commit(self) -> None:
        """Commit the units written so far (nothing when no batch is open).

        Raises:
            StorageError: SQLite failed; the batch is rolled back.
        """
        if self._depth or not self.db.conn.in_transaction:
            return
        try:
            self.db.conn.execute("COMMIT")
            self._committed = time.monotonic()
        except sqlite3.Error as exc:
            if self.db.conn.in_transaction:
                self.db.conn.execute("ROLLBACK")
            raise _storage_error(_db_path(self.db), "cannot commit", exc) from exc


@dataclass(frozen=True, slots=True)
class PreparedArticle:
    """An article as the row save_article() writes, keys and hashes computed (CPU work, no SQL).

    The crawl prepares rows in its extraction worker processes and writes them in the main one.
    """

    row: dict[str, Any]
    fetched_key: str


def prepare_article(article: Article, *, url: str, site: str, fetched_at: dt.datetime) -> PreparedArticle:
    """The row and URL key save_article() would compute; same arguments as save_article()."""
    return PreparedArticle(
        _article_row(article, url_key(article.url or url), site, _iso(fetched_at)), url_key(url)
    )


def write_article(db: sqlite_utils.Database, prepared: PreparedArticle) -> SaveResult:
    """save_article() of a prepared row, inside the caller's transaction (see transaction())."""
    return _save(db, dict(prepared.row), prepared.fetched_key)


def touch_article(db: sqlite_utils.Database, article_id: int, at: dt.datetime) -> None:
    """Move an article's last_seen (a 304 answer: unchanged), inside the caller's transaction."""
    db.execute("UPDATE articles SET last_seen = max(last_seen, ?) WHERE id = ?", [_iso(at), article_id])


def log_fetch(
    db: sqlite_utils.Database,
    url: str,
    status: int | None,
    error: str | None,
    at: dt.datetime,
    outcome: str | None = None,
) -> None:
    """record_fetch() inside the caller's transaction."""
    db.execute(
        "INSERT INTO fetch_log (url, status, error, at, outcome) VALUES (?, ?, ?, ?, ?)",
        [url, status, error, _iso(at), outcome],
    )


def save_article(
    db: sqlite_utils.Database, article: Article, *, url: str, site: str, fetched_at: dt.datetime
) -> SaveResult:
    """Store one article and say what happened to it, in one transaction.

    Args:
        url: the URL that was fetched (final URL after redirects). The article's
            canonical URL is `article.url or url`, both keyed with url_key().
        site: the source name from config, else the host.
        fetched_at: when the page was fetched; must be timezone-aware.

    Returns:
        A SaveResult: INSERTED, UPDATED, UNCHANGED (only last_seen touched), or
        DUPLICATE (same text already stored under another URL; article_id is that article).

    Raises:
        StorageError: SQLite failed (locked past the busy timeout, disk full, corrupt file).
    """
    fetched_key = url_key(url)
    canonical = url_key(article.url or url)
    row = _article_row(article, canonical, site, _iso(fetched_at))
    try:
        with _immediate(db):
            return _save(db, row, fetched_key)
    except sqlite3.Error as exc:
        raise _storage_error(_db_path(db), f"cannot save {canonical}", exc) from exc


def _save(db: sqlite_utils.Database, row: dict[str, Any], fetched_key: str) -> SaveResult:
    """Pick the outcome and write it; runs inside the caller's transaction."""
    canonical, now = row["url"], row["fetched_at"]
    existing = _find_article(db, canonical)
    if existing is not None:
        article_id, old_hash = existing
        if old_hash == row["content_hash"]:
            db.execute("UPDATE articles SET last_seen = max(last_seen, ?) WHERE id = ?", [now, article_id])
            _link_urls(db, article_id, (canonical, fetched_key), now)
            return SaveResult(WriteOutcome.UNCHANGED, article_id, canonical)
        other = _find_by_hash(db, row["content_hash"])
        if other is None:
            _update_article(db, article_id, row)
            _link_urls(db, article_id, (canonical, fetched_key), now)
            return SaveResult(WriteOutcome.UPDATED, article_id, canonical)
        # The new text is another article's text: keep this row as it was.
        _link_duplicate(db, other, (canonical, fetched_key), now)
        return SaveResult(WriteOutcome.DUPLICATE, other, canonical)
    other = _find_by_hash(db, row["content_hash"])
    if other is not None:
        _link_duplicate(db, other, (canonical, fetched_key), now)
        return SaveResult(WriteOutcome.DUPLICATE, other, canonical)
    article_id = _insert_article(db, row)
    _link_urls(db, article_id, (canonical, fetched_key), now)
    return SaveResult(WriteOutcome.INSERTED, article_id, canonical)


def _article_row(article: Article, canonical: str, site: str, now: str) -> dict[str, Any]:
    return {
        "url": canonical,
        "title": article.title,
        "text": article.text,
        "published": article.published.isoformat() if article.published is not None else None,
        "author": article.author,
        "source": article.source,
        "section": article.section,
        "site": site,
        "language": article.language,
        "content_hash": content_hash(article.text),
        "simhash": _signed64(simhash(article.text)),
        "word_count": word_count(article.text),
        "fetched_at": now,
    }


def _find_article(db: sqlite_utils.Database, canonical: str) -> tuple[int, str] | None:
    """The (id, content_hash) of the article whose canonical URL, or alias, is `canonical`."""
    found = db.execute("SELECT id, content_hash FROM articles WHERE url = ?", [canonical]).fetchone()
    if found is None:
        found = db.execute(
            "SELECT a.id, a.content_hash FROM article_urls u JOIN articles a ON a.id = u.article_id"
            " WHERE u.url = ? AND u.kind = 'alias'",
            [canonical],
        ).fetchone()
    return None if found is None else (found[0], found[1])


def _find_by_hash(db: sqlite_utils.Database, digest: str) -> int | None:
    found = db.execute("SELECT id FROM articles WHERE content_hash = ?", [digest]).fetchone()
    return None if found is None else int(found[0])


def _insert_article(db: sqlite_utils.Database, row: dict[str, Any]) -> int:
    placeholders = ", ".join(f":{name.strip()}" for name in _ARTICLE_COLUMNS.split(","))
    cursor = db.execute(
        f"INSERT INTO articles ({_ARTICLE_COLUMNS}, first_seen, last_seen)"
        f" VALUES ({placeholders}, :fetched_at, :fetched_at)",
        row,
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _update_article(db: sqlite_utils.Database, article_id: int, row: dict[str, Any]) -> None:
    """Keep the old title and text in article_versions, then overwrite the row."""
    db.execute(
        "INSERT INTO article_versions (article_id, title, text, content_hash, fetched_at, replaced_at)"
        " SELECT id, title, text, content_hash, fetched_at, ? FROM articles WHERE id = ?",
        [row["fetched_at"], article_id],
    )
    assignments = ", ".join(f"{name} = :{name}" for name in row if name != "url")
    db.execute(
        f"UPDATE articles SET {assignments}, last_seen = max(last_seen, :fetched_at) WHERE id = :id",
        {**row, "id": article_id},
    )


def _link_urls(db: sqlite_utils.Database, article_id: int, keys: tuple[str, str], now: str) -> None:
    """Record the canonical key and the fetched key of an article that was found or inserted."""
    owner = db.execute("SELECT url FROM articles WHERE id = ?", [article_id]).fetchone()[0]
    for key in dict.fromkeys(keys):
        _link_url(db, key, article_id, "canonical" if key == owner else "alias", now)


def _link_duplicate(db: sqlite_utils.Database, article_id: int, keys: tuple[str, str], now: str) -> None:
    for key in dict.fromkeys(keys):
        _link_url(db, key, article_id, "exact-duplicate", now)


def _link_url(db: sqlite_utils.Database, key: str, article_id: int, kind: str, now: str) -> None:
    """Upsert one article_urls row; a weaker claim only touches last_seen (see URL_KINDS)."""
    held = db.execute("SELECT kind FROM article_urls WHERE url = ?", [key]).fetchone()
    if held is None:
        db.execute(
            "INSERT INTO article_urls (url, article_id, kind, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)",
            [key, article_id, kind, now, now],
        )
    elif URL_KINDS.index(kind) >= URL_KINDS.index(held[0]):
        db.execute(
            "UPDATE article_urls SET article_id = ?, kind = ?, last_seen = max(last_seen, ?) WHERE url = ?",
            [article_id, kind, now, key],
        )
    else:
        db.execute("UPDATE article_urls SET last_seen = max(last_seen, ?) WHERE url = ?", [now, key])


def record_fetch(
    db: sqlite_utils.Database,
    url: str,
    status: int | None,
    error: str | None,
    at: dt.datetime,
    outcome: str | None = None,
) -> None:
    """Append one fetch attempt to fetch_log, so cron runs can be audited.

    Raises:
        StorageError: SQLite failed.
    """
    try:
        with _immediate(db):
            log_fetch(db, url, status, error, at, outcome)
    except sqlite3.Error as exc:
        raise _storage_error(_db_path(db), f"cannot log the fetch of {url}", exc) from exc


# -- crawl runs --------------------------------------------------------------

RUN_COUNTS = ("discovered", "fetched", "new", "updated", "unchanged", "duplicate", "skipped", "failed")


def start_run(db: sqlite_utils.Database, sources: list[str], *, started: dt.datetime, pid: int) -> int:
    """Insert a `runs` row for a crawl that starts now; returns its id.

    Raises:
        StorageError: SQLite failed.
    """
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO runs (started, pid, sources) VALUES (?, ?, ?)",
            [_iso(started), pid, ",".join(sources)],
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def finish_run(
    db: sqlite_utils.Database,
    run_id: int,
    counts: dict[str, dict[str, int]],
    *,
    exit_status: int,
    finished: dt.datetime,
    report: dict[str, Any] | None = None,
    stopped: str | None = None,
) -> None:
    """Record a run's end, exit status, per-source counts (RUN_COUNTS) and its report (a JSON object).

    Raises:
        StorageError: SQLite failed.
    """
    text = None if report is None else json.dumps(report, ensure_ascii=False, sort_keys=True)
    with transaction(db):
        db.execute(
            "UPDATE runs SET finished = ?, exit_status = ?, report = ?, stopped = ? WHERE id = ?",
            [_iso(finished), exit_status, text, stopped, run_id],
        )
        write_run_counts(db, run_id, counts)


def save_run_counts(db: sqlite_utils.Database, run_id: int, counts: dict[str, dict[str, int]]) -> None:
    """Record a running crawl's counts so far (a run killed later keeps them).

    Raises:
        StorageError: SQLite failed.
    """
    with transaction(db):
        write_run_counts(db, run_id, counts)


def write_run_counts(db: sqlite_utils.Database, run_id: int, counts: dict[str, dict[str, int]]) -> None:
    """save_run_counts() inside the caller's transaction."""
    names = ", ".join(RUN_COUNTS)
    marks = ", ".join("?" for _ in RUN_COUNTS)
    for source, numbers in counts.items():
        db.execute(
            f"INSERT OR REPLACE INTO run_sources (run_id, source, {names}) VALUES (?, ?, {marks})",
            [run_id, source, *(numbers.get(name, 0) for name in RUN_COUNTS)],
        )


# -- dry runs ----------------------------------------------------------------

# The tables a dry run copies from the real database: what is due, and the robots.txt answers.
CRAWL_STATE_TABLES = ("frontier", "robots_cache")


def copy_crawl_state(db: sqlite_utils.Database, path: str | Path) -> None:
    """Copy the frontier and robots.txt cache of the database at path into db (a dry run's).

    The file is opened read-only (connect_readonly, snapshot): a dry run never writes the real
    database, nor leaves a file beside it.
    Columns are matched by name, so a database one schema behind still previews.

    Raises:
        StorageError: the file cannot be read as a database.
    """
    try:
        source = connect_readonly(path, snapshot=True)
    except sqlite3.Error as exc:
        raise _storage_error(path, "cannot read the database", exc) from exc
    try:
        with transaction(db):
            for table in CRAWL_STATE_TABLES:
                _copy_table(source, db, table)
    except sqlite3.Error as exc:
        raise _storage_error(path, "cannot read the database", exc) from exc
    finally:
        source.close()


def _copy_table(source: sqlite3.Connection, db: sqlite_utils.Database, table: str) -> None:
    theirs = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
    columns = [c for c in theirs if c in db.table(table).columns_dict]
    if not columns:
        return  # a database from before the crawl tables
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    rows = source.execute(f"SELECT {names} FROM {table}")
    db.conn.executemany(f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({marks})", rows)


# -- helpers -----------------------------------------------------------------


def _iso(moment: dt.datetime) -> str:
    """An aware datetime as ISO 8601 text in UTC; naive datetimes are a bug."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware UTC datetime")
    return moment.astimezone(dt.timezone.utc).isoformat()


def _signed64(value: int) -> int:
    """An unsigned 64-bit value as the signed integer SQLite can hold."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _db_path(db: sqlite_utils.Database) -> Path | str:
    try:
        return Path(db.execute("PRAGMA database_list").fetchone()[2])
    except sqlite3.Error:
        return "<database>"


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


def _storage_error(path: Path | str, doing: str, exc: sqlite3.Error) -> StorageError:
    message = str(exc)
    fix = next((hint for fragment, hint in _FIXES if fragment in message.lower()), "see the SQLite error")
    return StorageError(f"{path}: {doing}: {message}; {fix}")
