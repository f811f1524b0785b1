"""The corpus and the shared crawl state on PostgreSQL, for many workers on many machines (issue 14).

Input: a postgresql:// URL; Articles, frontier URLs and fetch outcomes from the pipeline. Output: rows
in the PostgreSQL schema (store/pg/schema.py), claimed frontier URLs, SaveResults, and the rows of the
read commands. Settings: storage.path (or --db) of every command but `crawl --dry-run`; psycopg 3
comes with the `postgres` extra.

    db.py          open_pg(), connect(), transaction(), pg_errors() (the one place psycopg errors
                   become StorageError), is_postgres_url(), redact()
    schema.py      the migrations; SCHEMA_VERSION, schema_version()
    frontier.py    store/frontier.py's functions, plus claim()/release() of due URLs under leases
                   and the shared `hosts` table (one request in flight per host, the per-host gap)
    articles.py    save_article()/write_article(): SQLite's outcomes, with INSERT ... ON CONFLICT and
                   row locks so workers storing the same URL or text at once agree
    near.py        the near-duplicate anchor index and its per-bucket advisory locks (dedupe.near)
    writer.py      PgWriter: store.writer's CorpusWriter for ingest and reextract, per-batch commits
    reextract.py   store/reextract.py's reads and rewrites of archived articles
    runs.py        fetch_log, runs (one row per worker) and run_sources; the crawl round's start
    crawlstore.py  PgCrawlStore: store.crawlstore's CrawlStore for one worker, its claims, its lock
    search.py      the full-text index (articles.search, SQLite's word and CJK bigram form) and
                   the tsquery of parsed terms or raw FTS5 syntax
    read.py        store/read.py's search, export rows, show and count, read-only and time-limited
    stats.py       store/stats.py's crawl statistics (runs name their worker)
    snapshot.py    the corpus copied into a new SQLite file from one REPEATABLE READ snapshot

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
