"""The exception hierarchy; every error a stage raises on purpose is a ScraperError.

    ScraperError
      ConfigError       config.yaml missing or invalid; the message names the file and key path
      FetchError        .url, .status (int | None), .attempts; raised after retries are used up
        BlockedAddress  the URL resolves to a non-public address and private addresses are not allowed
        SkippedContent  the response is not something to extract: not HTML, binary, too large
        InvalidURL      the URL (or a redirect's target) is malformed; refused before any network
      ExtractError
        NoArticleFound  the page parsed, but no main text was found
        ExtractorBug    extract() broke on one page (a bug); that page is recorded as failed, the run goes on
      StorageError      database unreadable, or its schema is newer than this code
        CrawlLocked     another `scraper crawl` holds the lock file beside the database
      QueryError        a search the database cannot run (bad FTS5 syntax in --raw mode, too slow)
      RecordError       an archived record (WARC/ARC) or the HTTP response in it cannot be read

Stages wrap library errors (httpx, sqlite3, tenacity) at their boundary with
`raise ... from exc`, so only these types leave a stage. pipeline.py catches
ScraperError once per URL and records it in the RunReport. One exception
to "bugs crash": the pipeline turns a bug inside extract() into
ExtractorBug, because a crawl would otherwise meet the same page, and the
same crash, on every scheduled run.
"""

from __future__ import annotations


class ScraperError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(ScraperError):
    """config.yaml is missing or invalid."""


class FetchError(ScraperError):
    """A URL could not be fetched, after any retries."""

    def __init__(self, url: str, message: str, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.attempts = attempts


class BlockedAddress(FetchError):
    """The URL points at a loopback, private or otherwise non-public address."""


class SkippedContent(FetchError):
    """The response was fetched but is not an HTML page we may extract."""


class ExtractError(ScraperError):
    """A page could not be turned into an article."""


class NoArticleFound(ExtractError):
    """The page parsed, but held no main text."""


class ExtractorBug(ExtractError):
    """extract() broke on one page with something other than a ScraperError.

    STYLE.md lets bugs crash, but in a scheduled crawl the page stays due, so
    one hostile page would crash every later run too: the pipeline wraps the
    bug here, records the page as failed and goes on.
    """


class StorageError(ScraperError):
    """The database is unreadable, locked for too long, or newer than this code."""


class StorageConflict(StorageError):
    """Another worker held or changed the rows one write needed (PostgreSQL: a deadlock, a lost race).

    The write was rolled back whole and nothing else is wrong with the database: a crawl records it
    against that URL, which the next run fetches again, and goes on.
    """


class CrawlLocked(StorageError):
    """Another crawl holds the lock on this database; .db and .lock_path say which."""

    def __init__(self, db: str, lock_path: str) -> None:
        super().__init__(f"another scraper crawl is running on {db} (lock {lock_path}); try again later")
        self.db = db
        self.lock_path = lock_path


class QueryError(ScraperError):
    """A query the database cannot run: bad syntax in raw mode, or over its time limit."""


class InvalidURL(FetchError):
    """A URL that cannot be fetched as written (scheme, host, port, length, characters); never retried.

    .reason is the problem alone ("port 65536 is out of range"), for messages that name another URL
    first (a redirect's source). Raised before any network: no DNS lookup, no connection.
    """

    def __init__(self, url: str, message: str, reason: str = "") -> None:
        super().__init__(url, message)
        self.reason = reason or message


class RecordError(ScraperError):
    """An archived record, or the HTTP response stored in it, cannot be read; the message names the problem.

    Raised by scraper/archive's readers: a truncated or corrupt body, a malformed status line or
    header, a chunked body that lies about its sizes, a body over fetch.max_bytes once decoded
    (.oversized: a record to skip, not a damaged one).
    """

    def __init__(self, message: str, *, oversized: bool = False) -> None:
        super().__init__(message)
        self.oversized = oversized
