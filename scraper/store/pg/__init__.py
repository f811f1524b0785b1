"""The corpus and the shared crawl state on PostgreSQL, for many workers on many machines (issue 14).

Input: a postgresql:// URL; Articles, frontier URLs and fetch outcomes from the pipeline. Output: rows
in the PostgreSQL schema (store/pg/schema.py), claimed frontier URLs, SaveResults. Settings:
storage.path (or --db) of `scraper crawl`, the one command that runs here so far; psycopg 3 comes
with the `postgres` extra.

    db.py          open_pg(), connect(), transaction(), pg_errors() (the one place psycopg errors
                   become StorageError), is_postgres_url(), redact()
    schema.py      the migrations; SCHEMA_VERSION, schema_version()
    frontier.py    store/frontier.py's functions, plus claim()/release() of due URLs under leases
                   and the shared `hosts` table (one request in flight per host, the per-host gap)
    articles.py    save_article()/write_article(): SQLite's outcomes, with INSERT ... ON CONFLICT and
                   row locks so workers storing the same URL or text at once agree (dedupe.near off)
    runs.py        fetch_log, runs (one row per worker) and run_sources; the crawl round's start
    crawlstore.py  PgCrawlStore: store.crawlstore's CrawlStore for one worker, its claims, its lock

Nothing here is imported by scraper.store: a SQLite-only install never imports psycopg.
"""

from __future__ import annotations

from . import frontier
from .articles import save_article, write_article
from .db import connect, is_postgres_url, open_pg, pg_errors, redact, transaction
from .schema import SCHEMA_VERSION, schema_version

__all__ = [
    "SCHEMA_VERSION",
    "connect",
    "frontier",
    "is_postgres_url",
    "open_pg",
    "pg_errors",
    "redact",
    "save_article",
    "schema_version",
    "transaction",
    "write_article",
]
