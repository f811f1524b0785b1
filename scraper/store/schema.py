"""The corpus schema: one sqlite-utils Migrations set, applied by open_db().

Tables: `articles` (with FTS5 over title and text), `article_urls`, `article_versions`, `near_anchors`
(with `near_anchors_recent` and `near_anchors_fresh` in front of it, `near_anchor_sets` and
`near_anchor_filter` beside it), `fetch_log`, the crawl's
`frontier` and `robots_cache`, and `runs` with `run_sources`.
Migrations are recorded in `_sqlite_migrations`, so `sqlite-utils migrate` understands them too.
To change the schema, write a function that takes the Database and append it to
MIGRATION_STEPS; never edit (nor rename: its name is recorded) a step that has shipped.
"""

from __future__ import annotations

import itertools
import logging
import operator
import textwrap
from collections.abc import Callable
from contextvars import ContextVar

import sqlite_utils
from sqlite_utils.migrations import Migrations

from ..dedupe import pack_anchors
from . import near_filter
from .fts import FTS_FUNCTION, FTS_TOKENIZE

logger = logging.getLogger(__name__)

MIGRATION_SET = "scraper"
# Set by `scraper migrate` on a terminal: called with (articles indexed, articles in all) while a
# migration rebuilds the full-text index.
INDEX_PROGRESS: ContextVar[Callable[[int, int], None] | None] = ContextVar("index_progress", default=None)
# Articles indexed per statement while rebuilding: progress is reported between batches.
_INDEX_BATCH = 2000
# bm25 weight of a title match against one in the text (1.0); store/read.py ranks with it too.
TITLE_WEIGHT = 10.0
# The covering index a filtered search checks its matches against (store/read.py): the id first,
# so a match's row is one seek, then every column a search filter reads.
FILTER_INDEX = "idx_articles_filter"
FILTER_INDEX_COLUMNS = ("id", "published", "site", "language", "author")


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

    store/frontier.py reads and writes `frontier` and `robots_cache`; store/runs.py writes `runs`
    and `run_sources`. Times are ISO 8601 UTC text, so they compare as strings.
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


def _index_words(db: sqlite_utils.Database) -> None:
    """Schema 6: articles_fts indexes words (unicode61) and CJK bigrams instead of trigrams.

    Measured on benchmarks/query_bench.py's corpus (see the commit): the trigram index was 2.7x
    the text, cost ~15 ms per inserted article in the crawl, could not find a two-character
    Chinese word (a LIKE scan, every score 0.0) and matched "AI" inside "said". Words plus CJK
    bigrams (store/fts.py) are a fraction of the text, rank two-character words with bm25 and
    keep the name articles_fts, so Datasette and sqlite-utils still find it. The index is
    rebuilt from the stored titles and texts: nothing is refetched. The update trigger fires
    only when the title or text changes, not on every last_seen touch.
    """
    db.executescript(
        textwrap.dedent(f"""
        DROP TRIGGER IF EXISTS articles_ai;
        DROP TRIGGER IF EXISTS articles_ad;
        DROP TRIGGER IF EXISTS articles_au;
        DROP TABLE IF EXISTS articles_fts;
        CREATE VIRTUAL TABLE [articles_fts] USING FTS5 (
            [title], [text], tokenize='{FTS_TOKENIZE}', content=[articles]
        );
        CREATE TRIGGER [articles_ai] AFTER INSERT ON [articles] BEGIN
          INSERT INTO [articles_fts] (rowid, [title], [text])
          VALUES (new.rowid, {FTS_FUNCTION}(new.[title]), {FTS_FUNCTION}(new.[text]));
        END;
        CREATE TRIGGER [articles_ad] AFTER DELETE ON [articles] BEGIN
          INSERT INTO [articles_fts] ([articles_fts], rowid, [title], [text])
          VALUES ('delete', old.rowid, {FTS_FUNCTION}(old.[title]), {FTS_FUNCTION}(old.[text]));
        END;
        CREATE TRIGGER [articles_au] AFTER UPDATE OF [title], [text] ON [articles] BEGIN
          INSERT INTO [articles_fts] ([articles_fts], rowid, [title], [text])
          VALUES ('delete', old.rowid, {FTS_FUNCTION}(old.[title]), {FTS_FUNCTION}(old.[text]));
          INSERT INTO [articles_fts] (rowid, [title], [text])
          VALUES (new.rowid, {FTS_FUNCTION}(new.[title]), {FTS_FUNCTION}(new.[text]));
        END;
        """)
    )
    # The table's own rank (what `sqlite-utils search` orders by) weighs the title like search does.
    db.execute(f"INSERT INTO articles_fts (articles_fts, rank) VALUES ('rank', 'bm25({TITLE_WEIGHT}, 1.0)')")
    _fill_index(db)


def _fill_index(db: sqlite_utils.Database) -> None:
    """Index every stored article, _INDEX_BATCH ids at a time, reporting progress between batches."""
    total = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    progress = INDEX_PROGRESS.get()
    done, last = 0, 0
    while done < total:
        ids = db.execute(
            "SELECT max(id), count(*) FROM (SELECT id FROM articles WHERE id > ? ORDER BY id LIMIT ?)",
            [last, _INDEX_BATCH],
        ).fetchone()
        if not ids[1]:
            break
        db.execute(
            f"INSERT INTO articles_fts (rowid, title, text) SELECT id, {FTS_FUNCTION}(title),"
            f" {FTS_FUNCTION}(text) FROM articles WHERE id > ? AND id <= ?",
            [last, ids[0]],
        )
        last, done = ids[0], done + ids[1]
        if progress is not None:
            progress(done, total)
    logger.info("full-text index rebuilt: %d articles", done)


def _add_near_duplicates(db: sqlite_utils.Database) -> None:
    """Schema 7: near-duplicate anchors, stories and near URLs (issue 11).

    `near_anchors` is the inverted index of dedupe.near_anchors(): one row per (anchor, article),
    WITHOUT ROWID so the primary key is the table. `articles.anchor_count` is how many anchors the
    row has (NULL: not indexed yet, run `scraper dedupe --rebuild`); `articles.story_id` is shared
    by the rows of one story in dedupe.near: group (NULL: the row is its own story).
    `article_urls` rows of kind 'near' keep the similarity, the site and the publication date
    of the URL that was linked instead of stored; run_sources.near counts them per run.
    """
    db.executescript(
        textwrap.dedent("""
        CREATE TABLE near_anchors (
            anchor INTEGER NOT NULL,
            article_id INTEGER NOT NULL,
            PRIMARY KEY (anchor, article_id)
        ) WITHOUT ROWID;
        CREATE INDEX idx_near_anchors_article_id ON near_anchors (article_id);
        ALTER TABLE articles ADD COLUMN story_id INTEGER;
        ALTER TABLE articles ADD COLUMN anchor_count INTEGER;
        CREATE INDEX idx_articles_story_id ON articles (story_id);
        ALTER TABLE article_urls ADD COLUMN similarity REAL;
        ALTER TABLE article_urls ADD COLUMN site TEXT;
        ALTER TABLE article_urls ADD COLUMN published TEXT;
        ALTER TABLE run_sources ADD COLUMN near INTEGER NOT NULL DEFAULT 0;
        """)
    )


def _add_archive_pointers(db: sqlite_utils.Database) -> None:
    """Schema 8: where each article's page is archived, and which extractor produced its text (issue 12).

    `warc_file`, `warc_offset`, `warc_length` point at the WARC response record of the fetch that
    gave the row its text (scraper/archive: the file relative to the database's folder when inside
    it; offset and length of the record's gzip member); `extractor` is extract.version's
    extractor_version() of the code that produced the text. article_versions gets the same four, so
    an old text keeps its source. Rows written before this step keep NULL (nothing was archived).
    """
    columns = ("warc_file TEXT", "warc_offset INTEGER", "warc_length INTEGER", "extractor TEXT")
    db.executescript(
        "".join(
            f"ALTER TABLE {table} ADD COLUMN {column};\n"
            for table in ("articles", "article_versions")
            for column in columns
        )
    )


def _add_filter_index(db: sqlite_utils.Database) -> None:
    """Schema 9: a covering index of the filter columns keyed by id, for filtered searches (issue 13).

    A search with --since/--until/--site/--author/--lang checks each full-text match against its
    row; `articles` stores those columns after `text`, so reading them from the table walks the
    text's overflow pages (1.9 s for a common word at 100k articles). The index holds them beside
    the id, so the check is one seek in a small B-tree (store/read.py FILTER_INDEX).
    """
    db.execute(f"CREATE INDEX IF NOT EXISTS {FILTER_INDEX} ON articles ({', '.join(FILTER_INDEX_COLUMNS)})")


def _add_near_levels(db: sqlite_utils.Database) -> None:
    """Schema 10: two small tables in front of `near_anchors`; each article's anchors in one row (issue 11).

    New anchors go into `near_anchors_fresh`; store/near.py moves them, in anchor order, to
    `near_anchors_recent` and from there to `near_anchors`, so the big table is written in sorted
    runs instead of at ~22 random places per article. A row is in exactly one of the three;
    `near_anchors_all` reads them together. `near_anchor_sets` keeps each indexed article's anchors
    (dedupe.pack_anchors), read to verify a candidate and to delete an article's rows, so the
    index tables need no article_id index: it is dropped, its random inserts cost as much as the
    table's. Existing anchors stay in `near_anchors`; their sets are filled from it.
    """
    db.executescript(
        textwrap.dedent("""
        CREATE TABLE near_anchors_recent (
            anchor INTEGER NOT NULL,
            article_id INTEGER NOT NULL,
            PRIMARY KEY (anchor, article_id)
        ) WITHOUT ROWID;
        CREATE TABLE near_anchors_fresh (
            anchor INTEGER NOT NULL,
            article_id INTEGER NOT NULL,
            PRIMARY KEY (anchor, article_id)
        ) WITHOUT ROWID;
        CREATE TABLE near_anchor_sets (
            article_id INTEGER PRIMARY KEY,
            anchors BLOB NOT NULL
        );
        CREATE VIEW near_anchors_all AS
            SELECT anchor, article_id FROM near_anchors
            UNION ALL SELECT anchor, article_id FROM near_anchors_recent
            UNION ALL SELECT anchor, article_id FROM near_anchors_fresh;
        """)
    )
    rows = db.execute("SELECT article_id, anchor FROM near_anchors ORDER BY article_id, anchor")
    batch: list[tuple[int, bytes]] = []
    for article_id, group in itertools.groupby(rows, key=operator.itemgetter(0)):
        batch.append((article_id, pack_anchors([anchor for _, anchor in group])))
        if len(batch) >= _INDEX_BATCH:
            db.conn.executemany("INSERT INTO near_anchor_sets (article_id, anchors) VALUES (?, ?)", batch)
            batch = []
    db.conn.executemany("INSERT INTO near_anchor_sets (article_id, anchors) VALUES (?, ?)", batch)
    db.execute("DROP INDEX idx_near_anchors_article_id")


def _add_near_filter(db: sqlite_utils.Database) -> None:
    """Schema 11: `near_anchor_filter`, a Bloom filter per anchor range of `near_anchors` (issue 11).

    A lookup probes `near_anchors` only for the anchors the filter may hold (store/near_filter.py):
    most anchors of a new text are in no stored article, and each probe read a page of a table
    bigger than the page cache. Built here from the anchors the table holds; `bits` is the filter,
    `anchors` how many were added (it is rebuilt bigger when full), `token` changes on each write.
    """
    db.execute(
        f"CREATE TABLE {near_filter.TABLE} (part INTEGER PRIMARY KEY, bits BLOB NOT NULL,"
        " anchors INTEGER NOT NULL, token INTEGER NOT NULL)"
    )
    near_filter.build_all(db)


# Append new steps at the end; the position (1-based) is the schema version.
MIGRATION_STEPS: tuple[Callable[[sqlite_utils.Database], None], ...] = (
    _create_corpus,
    _add_facets,
    _create_crawl,
    _add_run_report,
    _add_fetch_outcome,
    _index_words,
    _add_near_duplicates,
    _add_archive_pointers,
    _add_filter_index,
    _add_near_levels,
    _add_near_filter,
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


def applied_unknown(db: sqlite_utils.Database) -> list[str]:
    """The names of migrations applied to db that this code does not know (a newer scraper's)."""
    known = {_migration_name(v, step) for v, step in enumerate(MIGRATION_STEPS, start=1)}
    return [m.name for m in MIGRATIONS.applied(db) if m.name not in known]
