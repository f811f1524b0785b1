"""Insert cost of the full-text index: 2,000 real articles into schema 5 (trigram) and 6 (words + bigrams).

Run by hand from the repository root, after benchmarks/query_bench.py has cached its pages:

    python benchmarks/fts_insert_bench.py [--pages /tmp/scraper-query-bench/pages.jsonl] [--articles 2000]

Both databases are made by the real migrations (schema 5 stops before 0006_index_words) and
filled with the same rows through the same INSERT (the triggers maintain the index), in one
transaction each, alternating three rounds; the best round is reported, with the index size.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlite_utils  # noqa: E402

from scraper.store.fts import register_function  # noqa: E402
from scraper.store.schema import MIGRATION_STEPS, MIGRATIONS  # noqa: E402

_INSERT = "INSERT INTO articles (url, title, text, content_hash) VALUES (?, ?, ?, ?)"


def _database(path: Path, schema: int) -> sqlite_utils.Database:
    conn = sqlite3.connect(path, isolation_level=None)
    register_function(conn)
    db = sqlite_utils.Database(conn)
    stop = [f"{v:04d}{s.__name__}" for v, s in enumerate(MIGRATION_STEPS, start=1) if v > schema]
    MIGRATIONS.apply(db, stop_before=stop[0] if stop else None)
    return db


def _fill(db: sqlite_utils.Database, rows: list[tuple[str, str, str, str]]) -> float:
    started = time.perf_counter()
    db.conn.execute("BEGIN")
    db.conn.executemany(_INSERT, rows)
    db.conn.execute("COMMIT")
    return time.perf_counter() - started


def _fts_bytes(db: sqlite_utils.Database) -> int:
    rows = db.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'articles_fts%'").fetchone()
    return int(rows[0] or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=Path("/tmp/scraper-query-bench/pages.jsonl"))
    parser.add_argument("--articles", type=int, default=2000)
    args = parser.parse_args()
    pages = [json.loads(line) for line in args.pages.read_text(encoding="utf-8").splitlines() if line]
    rows = []
    for i in range(args.articles):
        page = pages[i % len(pages)]
        text = "\n\n".join(page["paragraphs"]) + f"\n\n{i}"
        rows.append((f"https://bench.example/{i}", page["title"], text, str(i)))
    text_bytes = sum(len(r[2].encode()) for r in rows)
    best: dict[int, float] = {}
    sizes: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as work:
        for round_ in range(3):
            for schema in (5, 6):
                path = Path(work) / f"s{schema}-{round_}.db"
                db = _database(path, schema)
                seconds = _fill(db, rows)
                best[schema] = min(best.get(schema, seconds), seconds)
                sizes[schema] = _fts_bytes(db)
                db.close()
                path.unlink()
    print(f"{args.articles} articles, {text_bytes / args.articles / 1024:.1f} KiB of text each")
    for schema, name in ((5, "trigram"), (6, "words + CJK bigrams")):
        per = best[schema] / args.articles * 1000
        ratio = sizes[schema] / text_bytes
        print(f"schema {schema} {name:<20} {per:6.2f} ms per article  index {ratio:.2f}x the text")


if __name__ == "__main__":
    main()
