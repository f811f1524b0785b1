"""The corpus database: all of scraper's SQL lives in this package, behind the names below.

Input: Articles, frontier Targets, fetch outcomes and run counts from the pipeline; paths and
filters from query. Output: rows in the SQLite corpus file, Targets that are due, SaveResults,
read-only rows. Settings: storage.path (or --db).

    db.py          open_db(), connect_readonly(), transaction() (the one write idiom: BEGIN
                   IMMEDIATE), storage_errors() (the one place sqlite3 errors become StorageError),
                   migrate() (either backend)
    schema.py      the migrations; SCHEMA_VERSION
    batch.py       WriteBatch: the crawl's page units committed together
    articles.py    save_article(): articles, their URLs and versions, the duplicate decision
    near.py        the near-duplicate anchor index, its lookup, stories, rebuild_near()
    stories.py     read-only views of stories (members, first publisher, the list of stories)
    frontier.py    the frontier and robots.txt cache tables (the policy is scraper/crawl's)
    runs.py        fetch_log, runs and run_sources; a dry run's copy of the crawl state
    crawlstore.py  CrawlStore, what a crawl run writes through (SQLite here, store/pg's on PostgreSQL)
    writer.py      CorpusWriter, what ingest and reextract write through; open_writer() picks the backend

Write functions named write_*, touch_*, log_* and the frontier's run inside the caller's
transaction; save_article(), record_fetch() and the run functions open their own.
"""

from __future__ import annotations

from . import frontier
from .articles import URL_KINDS, PreparedArticle, prepare_article, save_article, touch_article, write_article
from .batch import WriteBatch
from .db import BUSY_TIMEOUT_S, connect_readonly, migrate, open_db, storage_errors, transaction
from .near import rebuild as rebuild_near
from .runs import (
    CRAWL_STATE_TABLES,
    RUN_COUNTS,
    copy_crawl_state,
    finish_run,
    log_fetch,
    record_fetch,
    save_run_counts,
    start_run,
    write_run_counts,
)
from .schema import INDEX_PROGRESS, MIGRATION_SET, MIGRATION_STEPS, MIGRATIONS, SCHEMA_VERSION, schema_version
from .writer import CorpusWriter, open_writer

__all__ = [
    "BUSY_TIMEOUT_S",
    "CRAWL_STATE_TABLES",
    "INDEX_PROGRESS",
    "MIGRATIONS",
    "MIGRATION_SET",
    "MIGRATION_STEPS",
    "RUN_COUNTS",
    "SCHEMA_VERSION",
    "URL_KINDS",
    "CorpusWriter",
    "PreparedArticle",
    "WriteBatch",
    "connect_readonly",
    "copy_crawl_state",
    "finish_run",
    "frontier",
    "log_fetch",
    "migrate",
    "open_db",
    "open_writer",
    "prepare_article",
    "rebuild_near",
    "record_fetch",
    "save_article",
    "save_run_counts",
    "schema_version",
    "start_run",
    "storage_errors",
    "touch_article",
    "transaction",
    "write_article",
    "write_run_counts",
]
