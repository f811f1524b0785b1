"""Search on PostgreSQL against SQLite: latency p50/p95 at 100k articles, and the Chinese index choice.

Run by hand from the repository root (the test extra brings the embedded PostgreSQL):

    python benchmarks/pg_search_bench.py [--source /tmp/qb1m/articles-300000.db] [--articles 100000]
        [--work DIR] [--pg-url URL] [--trgm]

Corpus: the first N articles (by id) of a corpus benchmarks/query_bench.py built (--source), copied
into a new SQLite corpus through store.open_db (its FTS triggers index each row) and into a new
PostgreSQL database created with the libc C.UTF-8 locale (pg_trgm sees Chinese characters only
under a UTF-8 ctype), with the `search` column store/pg/articles.py writes. Without --pg-url an
embedded server (tests/pgserver.py, fsync off) runs for the bench.

Queries: query_bench.sample_queries() (fixed seed, drawn from the corpus pages), run through
scraper.query.search (limit 20, a new read-only connection per call, as the CLI does): one warm-up
run per query, then ROUNDS timed runs, on each backend in turn.

--trgm: for the Chinese sets, recall of the bigram column against LIKE (substring truth), and the
latency of finding every match through each index: `search @@ tsquery` on the bigram column's GIN
index against LIKE '%w%' on title and text with pg_trgm GIN indexes (built once, timed).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import psycopg  # noqa: E402
import query_bench  # noqa: E402

from scraper import query, store  # noqa: E402
from scraper.store.pg import open_pg  # noqa: E402
from scraper.store.pg.search import SEARCH_VECTOR_SQL, search_params, terms_query  # noqa: E402

ROUNDS = 3
BATCH = 1000
# The columns copied from the source corpus (what save_article writes; ids kept).
COLUMNS = (
    "id", "url", "title", "text", "published", "author", "source", "section", "site", "language",
    "content_hash", "simhash", "word_count", "fetched_at", "first_seen", "last_seen",
)  # fmt: skip
DEFAULT_SOURCE = Path("/tmp/qb1m/articles-300000.db")
PAGES = Path("/tmp/qb1m/pages.jsonl")


def source_rows(source: Path, count: int) -> Any:
    """The first `count` articles of the source corpus, BATCH at a time."""
    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    last = 0
    while last < count:
        rows = conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM articles WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
            [last, count, BATCH],
        ).fetchall()
        if not rows:
            break
        yield rows
        last = rows[-1][0]
    conn.close()


def build_sqlite(path: Path, source: Path, count: int) -> float:
    """The SQLite corpus (FTS filled by open_db's triggers); seconds taken."""
    started = time.perf_counter()
    db = store.open_db(path)
    insert = f"INSERT INTO articles ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    for rows in source_rows(source, count):
        with store.transaction(db):
            db.conn.executemany(insert, rows)
            db.conn.executemany(
                "INSERT INTO article_urls (url, article_id, kind, first_seen, last_seen)"
                " VALUES (?, ?, 'canonical', ?, ?)",
                [(r[1], r[0], r[14], r[15]) for r in rows],
            )
    db.close()
    return time.perf_counter() - started


def build_pg(url: str, source: Path, count: int) -> float:
    """The PostgreSQL corpus, `search` as store/pg/articles.py writes it; seconds taken."""
    started = time.perf_counter()
    conn = open_pg(url)
    names = ", ".join(COLUMNS)
    values = ", ".join(f"%({name})s" for name in COLUMNS)
    for rows in source_rows(source, count):
        params = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO articles ({names}, search) VALUES ({values}, {SEARCH_VECTOR_SQL})",
                [{**p, **search_params(p["title"], p["text"])} for p in params],
            )
            cur.executemany(
                "INSERT INTO article_urls (url, article_id, kind, first_seen, last_seen)"
                " VALUES (%(url)s, %(id)s, 'canonical', %(first_seen)s, %(last_seen)s)",
                params,
            )
    conn.execute("ANALYZE articles")
    conn.close()
    return time.perf_counter() - started


def time_searches(target: str, queries: list[str]) -> dict[str, float]:
    """p50/p95 of query.search(limit=20) in ms, and the median hit count."""
    samples, hits = [], []
    for text in queries:
        hits.append(len(query.search(target, text, limit=20)))
        for _ in range(ROUNDS):
            started = time.perf_counter()
            query.search(target, text, limit=20)
            samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50": statistics.median(samples), "p95": samples[int(len(samples) * 0.95) - 1],
            "hits": statistics.median(hits)}  # fmt: skip


def chinese_index_comparison(url: str, queries: list[str]) -> dict[str, float]:
    """Recall of the bigram column against LIKE, and newest-20 latency: bigram search vs pg_trgm LIKE."""
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    started = time.perf_counter()
    conn.execute("CREATE INDEX IF NOT EXISTS bench_trgm_title ON articles USING gin (title gin_trgm_ops)")
    conn.execute("CREATE INDEX IF NOT EXISTS bench_trgm_text ON articles USING gin (text gin_trgm_ops)")
    index_s = time.perf_counter() - started
    found = truth = 0
    trgm_ms, bigram_ms = [], []
    for text in queries:
        pattern = f"%{text}%"
        like = "SELECT id FROM articles WHERE (title LIKE %s OR text LIKE %s)"
        match, args = terms_query([text])
        bigram = f"SELECT id FROM articles WHERE search @@ ({match})"
        expected = {r[0] for r in conn.execute(like, [pattern] * 2)}
        got = {r[0] for r in conn.execute(bigram, args)}
        truth += len(expected)
        found += len(expected & got)
        for _ in range(ROUNDS):  # every match, through each index (bitmap scans)
            started = time.perf_counter()
            conn.execute(like, [pattern] * 2).fetchall()
            trgm_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            conn.execute(bigram, args).fetchall()
            bigram_ms.append((time.perf_counter() - started) * 1000)
    size = conn.execute("SELECT pg_relation_size('bench_trgm_text') + pg_relation_size('bench_trgm_title'),"
                        " pg_relation_size('idx_articles_search')").fetchone()  # fmt: skip
    conn.close()
    return {"recall": found / truth if truth else 1.0, "truth": truth, "trgm_index_s": index_s,
            "trgm_p50": statistics.median(trgm_ms), "bigram_p50": statistics.median(bigram_ms),
            "trgm_p95": sorted(trgm_ms)[int(len(trgm_ms) * 0.95) - 1],
            "bigram_p95": sorted(bigram_ms)[int(len(bigram_ms) * 0.95) - 1],
            "trgm_mb": size[0] / 1e6, "search_gin_mb": size[1] / 1e6}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/pg_search_bench"))
    parser.add_argument(
        "--pg-url", help="a server to create the bench database on (default: an embedded one)"
    )
    parser.add_argument("--trgm", action="store_true", help="also compare the bigram column with pg_trgm")
    parser.add_argument("--no-latency", action="store_true", help="skip the search latency table")
    args = parser.parse_args()
    server = None
    if not args.pg_url:
        from tests.pgserver import PgServer

        server = PgServer()
        server.start()
        args.pg_url = server.url()
    try:
        run(args)
    finally:
        if server is not None:
            server.stop()


def run(args: argparse.Namespace) -> None:
    args.work.mkdir(parents=True, exist_ok=True)
    sqlite_path = args.work / f"articles-{args.articles}.db"
    name = f"bench_{args.articles}"
    admin = psycopg.connect(args.pg_url, autocommit=True)
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    pg_url = args.pg_url.replace("/postgres?", f"/{name}?")
    if not exists:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'")
        print(f"built PostgreSQL in {build_pg(pg_url, args.source, args.articles):.0f} s", flush=True)
    admin.close()
    if not sqlite_path.exists():
        print(f"built SQLite in {build_sqlite(sqlite_path, args.source, args.articles):.0f} s", flush=True)
    print(f"load: {os.getloadavg()[0]:.2f}", flush=True)
    sets = query_bench.sample_queries(query_bench.load_pages(query_bench._default_data(), PAGES))
    print(f"{'queries':<14}{'SQLite p50':>11}{'p95':>8}{'PG p50':>9}{'p95':>8}{'hits':>6}")
    for label, queries in sets.items() if not args.no_latency else ():
        lite = time_searches(str(sqlite_path), queries)
        pg = time_searches(pg_url, queries)
        print(f"{label:<14}{lite['p50']:11.1f}{lite['p95']:8.1f}{pg['p50']:9.1f}{pg['p95']:8.1f}{pg['hits']:6.0f}",
              flush=True)  # fmt: skip
    print(f"load: {os.getloadavg()[0]:.2f}", flush=True)
    if args.trgm:
        for label in ("zh 2 chars", "zh 4 chars"):
            print(label, chinese_index_comparison(pg_url, sets[label]), flush=True)
        print(f"load: {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
