"""Query benchmark: search latency, export throughput and memory, size per article, on 100k articles.

Run by hand from the repository root:

    python benchmarks/query_bench.py [--data ../shared/data] [--articles 100000] [--work DIR] [--rebuild]

Building the corpus: every page under DATA/*/manifest.jsonl is decoded with
scraper.encoding.decode_html and extracted once with scraper.extract.extract
(in a process pool; the results are cached in WORK/pages.jsonl). Article i
takes the paragraphs of page i mod P, drops one of them, and splices in a
paragraph from a random page of the same script (Chinese or not), so every
content hash differs while the text stays real. It gets a random publication
date in 2015-2024 and the base page's host as its site. store.open_db makes
the schema (migrations, FTS triggers), and rows are inserted in bulk with the
columns save_article writes (see build_corpus for why not save_article).

Queries are sampled from the corpus with a fixed seed: 1-, 2- and 3-word
queries are words (4+ letters) from one paragraph of a non-Chinese article,
Chinese queries are 2- and 4-character runs from Chinese articles. Each
query runs once to warm the OS cache, then ROUNDS times through
scraper.query.search (a new read-only connection per call, as the CLI does).
Export runs the real CLI (`python -m scraper export`) in a subprocess whose
peak RSS is read with os.wait4.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper import query, store  # noqa: E402
from scraper.dedupe import content_hash, url_key, word_count  # noqa: E402
from scraper.encoding import decode_html  # noqa: E402
from scraper.errors import ScraperError  # noqa: E402
from scraper.extract import extract  # noqa: E402
from scraper.query import Filters  # noqa: E402
from scraper.urls import host_of  # noqa: E402

SEED = 20240601
ROUNDS = 3
QUERIES_PER_SET = 30
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_CJK_RUN_RE = re.compile(r"[\u4e00-\u9fff]+")
_WORD_RE = re.compile(r"[A-Za-z]{4,}")
_MIN_TEXT = 200


# -- corpus ------------------------------------------------------------------


def _extract_one(item: tuple[str, str, str | None]) -> dict[str, Any] | None:
    path, folder, url = item
    raw = gzip.decompress(Path(path).read_bytes())
    html, _ = decode_html(raw)
    try:
        article = extract(html, url)
    except ScraperError:
        return None
    if len(article.text) < _MIN_TEXT:
        return None
    paragraphs = [p for p in article.text.split("\n\n") if p.strip()]
    chinese = len(_CJK_RE.findall(article.text)) > len(article.text) / 4
    return {
        "title": article.title,
        "paragraphs": paragraphs,
        "author": article.author,
        "language": article.language or ("zh" if chinese else None),
        "chinese": chinese,
        "host": (host_of(url) if url else None) or f"{folder}.example",
    }


def load_pages(data: Path, cache: Path) -> list[dict[str, Any]]:
    """Every page extracted once (cached in `cache`)."""
    if cache.exists():
        return [json.loads(line) for line in cache.read_text(encoding="utf-8").split("\n") if line]
    items = []
    for manifest in sorted(data.glob("*/manifest.jsonl")):
        for line in manifest.read_text(encoding="utf-8").split("\n"):
            if not line:
                continue
            entry = json.loads(line)
            items.append((str(manifest.parent / entry["html"]), manifest.parent.name, entry.get("url")))
    if not items:
        raise SystemExit(f"no */manifest.jsonl under {data}; pass --data")
    started = time.perf_counter()
    with ProcessPoolExecutor() as pool:
        pages = [p for p in pool.map(_extract_one, items, chunksize=8) if p is not None]
    print(f"extracted {len(pages)} of {len(items)} pages in {time.perf_counter() - started:.0f} s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pages), encoding="utf-8")
    return pages


def build_corpus(path: Path, pages: list[dict[str, Any]], count: int) -> float:
    """Write `count` perturbed articles with the production schema; returns seconds taken.

    store.open_db creates the schema (migrations, FTS triggers); rows go in with
    one INSERT per article and a commit per _BATCH, because save_article's
    dedupe.simhash costs ~45 ms on a 7,000-character text (100k articles would
    take over an hour). simhash is left NULL: no query reads it.
    """
    rng = random.Random(SEED)
    donors = {flag: [p for p in pages if p["chinese"] == flag] for flag in (True, False)}
    fetched_at = "2025-01-01T00:00:00+00:00"
    first_day = dt.date(2015, 1, 1).toordinal()
    db = store.open_db(path)
    conn = db.conn
    conn.execute("PRAGMA synchronous = OFF")
    started = time.perf_counter()
    seen: set[str] = set()
    attempt = 0
    conn.execute("BEGIN")
    while len(seen) < count:
        base = pages[attempt % len(pages)]
        attempt += 1
        donor = rng.choice(donors[base["chinese"]])
        paragraphs = list(base["paragraphs"])
        if len(paragraphs) > 2:
            del paragraphs[rng.randrange(len(paragraphs))]
        paragraphs.insert(rng.randrange(len(paragraphs) + 1), rng.choice(donor["paragraphs"]))
        text = "\n\n".join(paragraphs)
        digest = content_hash(text)
        if digest in seen:
            continue
        seen.add(digest)
        url = url_key(f"https://{base['host']}/bench/{attempt}")
        published = dt.date.fromordinal(first_day + rng.randrange(3650)).isoformat()
        row = (url, base["title"], text, published, base["author"], base["host"], base["language"])
        article_id = conn.execute(
            _INSERT_ARTICLE, (*row, digest, word_count(text), *[fetched_at] * 3)
        ).lastrowid
        conn.execute(_INSERT_URL, (url, article_id, fetched_at, fetched_at))
        if len(seen) % _BATCH == 0:
            conn.execute("COMMIT")
            conn.execute("BEGIN")
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - started


_BATCH = 1000
_INSERT_ARTICLE = (
    "INSERT INTO articles (url, title, text, published, author, site, language, content_hash,"
    " word_count, fetched_at, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_URL = (
    "INSERT INTO article_urls (url, article_id, kind, first_seen, last_seen) VALUES (?, ?, 'canonical', ?, ?)"
)


# -- queries -----------------------------------------------------------------


def sample_queries(pages: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Query sets drawn from the corpus text with a fixed seed."""
    rng = random.Random(SEED + 1)
    latin = [p for p in pages if not p["chinese"]]
    chinese = [p for p in pages if p["chinese"]]
    sets: dict[str, list[str]] = {"1 word": [], "2 words": [], "3 words": []}
    for name, size in (("1 word", 1), ("2 words", 2), ("3 words", 3)):
        while len(sets[name]) < QUERIES_PER_SET:
            words = _WORD_RE.findall(rng.choice(rng.choice(latin)["paragraphs"]))
            if len(words) >= size * 3:
                start = rng.randrange(len(words) - size * 3 + 1)
                sets[name].append(" ".join(w.lower() for w in words[start : start + size * 3 : 3]))
    for name, size in (("zh 2 chars", 2), ("zh 4 chars", 4)):
        sets[name] = []
        while len(sets[name]) < QUERIES_PER_SET:
            runs = [
                r
                for r in _CJK_RUN_RE.findall(rng.choice(rng.choice(chinese)["paragraphs"]))
                if len(r) >= size
            ]
            if runs:
                run = rng.choice(runs)
                start = rng.randrange(len(run) - size + 1)
                sets[name].append(run[start : start + size])
    frequency: Counter[str] = Counter()
    for page in latin:
        frequency.update({w.lower() for para in page["paragraphs"] for w in _WORD_RE.findall(para)})
    sets["common word"] = [word for word, _ in frequency.most_common(QUERIES_PER_SET)]
    return sets


def filtered_queries(
    pages: list[dict[str, Any]], sets: dict[str, list[str]]
) -> dict[str, tuple[list[str], Filters]]:
    """Filtered classes: common words dated 2024 (a tenth of the articles), 1 word on the biggest site.

    The site is the host with the most non-Chinese pages, so its articles hold the 1-word queries.
    """
    hosts = Counter(p["host"] for p in pages if not p["chinese"])
    site = hosts.most_common(1)[0][0]
    return {
        "common, --since": (sets["common word"], Filters(since="2024-01-01")),
        "1 word, --site": (sets["1 word"], Filters(site=(site,))),
    }


def time_searches(path: Path, queries: list[str], filters: Filters | None = None) -> dict[str, Any]:
    """Latency of query.search(limit=20) per query: one warm-up run, then ROUNDS timed runs."""
    samples: list[float] = []
    worst = ("", 0.0)
    hits = []
    for text in queries:
        hits.append(len(query.search(path, text, limit=20, filters=filters)))
        for _ in range(ROUNDS):
            started = time.perf_counter()
            query.search(path, text, limit=20, filters=filters)
            elapsed = (time.perf_counter() - started) * 1000
            samples.append(elapsed)
            worst = max(worst, (text, elapsed), key=lambda pair: pair[1])
    samples.sort()
    return {
        "p50": statistics.median(samples),
        "p95": samples[int(len(samples) * 0.95) - 1],
        "p99": samples[int(len(samples) * 0.99) - 1],
        "max": samples[-1],
        "worst": worst[0],
        "hits": statistics.median(hits),
    }


# -- export ------------------------------------------------------------------


# Runs the CLI in a fresh interpreter and prints its own peak RSS (VmHWM) at exit:
# ru_maxrss from wait4 would include the forking parent's memory.
_EXPORT_WRAPPER = """
import atexit, sys
from pathlib import Path
def _peak():
    status = Path("/proc/self/status").read_text().split("\\n")
    sys.stderr.write(next(line for line in status if line.startswith("VmHWM")) + "\\n")
atexit.register(_peak)
from scraper.cli import cli
cli(sys.argv[1:], prog_name="scraper")
"""


def run_export(path: Path, out: Path, *extra: str) -> dict[str, float]:
    """Run `scraper export` in a subprocess: rows, seconds, rows/s, peak RSS in MiB (Linux)."""
    command = [sys.executable, "-c", _EXPORT_WRAPPER, "--db", str(path), "export", "-o", str(out), *extra]
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"export failed: {done.stderr}")
    rows = int(re.search(r"exported (\d+) articles", done.stderr).group(1))  # type: ignore[union-attr]
    peak_kib = int(re.search(r"VmHWM:\s+(\d+) kB", done.stderr).group(1))  # type: ignore[union-attr]
    return {"rows": rows, "seconds": seconds, "rate": rows / seconds, "rss_mib": peak_kib / 1024}


def table_sizes(path: Path) -> dict[str, int]:
    """Bytes per table and its indexes (the FTS shadow tables together), when dbstat is compiled in."""
    conn = query.connect_readonly(path, seconds=3600)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:  # dbstat is optional in SQLite builds
        return {}
    finally:
        conn.close()
    sizes: dict[str, int] = {}
    for name, size in rows:
        group = "articles_fts" if name.startswith("articles_fts") else name
        sizes[group] = sizes.get(group, 0) + size
    return sizes


# -- main --------------------------------------------------------------------


def _default_data() -> Path:
    """../shared/data beside the checkout (or beside its worktree folder)."""
    candidates = [ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data"]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=_default_data())
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/scraper-query-bench"))
    parser.add_argument("--rebuild", action="store_true", help="Rebuild the database even if it exists.")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    pages = load_pages(args.data, args.work / "pages.jsonl")
    path = args.work / f"articles-{args.articles}.db"
    if args.rebuild or not path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        seconds = build_corpus(path, pages, args.articles)
        print(f"built {args.articles} articles in {seconds:.0f} s ({args.articles / seconds:.0f}/s)")
    report(path, pages, args.articles, args.work)


def report(path: Path, pages: list[dict[str, Any]], count: int, work: Path) -> None:
    """Run every measurement and print the table."""
    print(f"\n{count} articles from {len(pages)} extracted pages; database {path}\n")
    columns = "".join(f"{name:>9}" for name in ("p50 ms", "p95 ms", "p99 ms", "max ms"))
    print(f"{'search, limit 20':<22}{columns}{'hits':>6}  slowest query")
    sets = sample_queries(pages)
    classes = {name: (queries, None) for name, queries in sets.items()} | filtered_queries(pages, sets)
    for name, (queries, filters) in classes.items():
        r = time_searches(path, queries, filters)
        print(
            f"{name:<22}{r['p50']:9.1f}{r['p95']:9.1f}{r['p99']:9.1f}{r['max']:9.1f}{r['hits']:6.0f}"
            f"  {r['worst']!r}"
        )
    conn = query.connect_readonly(path)
    tenth = conn.execute(
        "SELECT substr(published, 1, 10) FROM articles ORDER BY published LIMIT 1 OFFSET ?", [count // 10 - 1]
    ).fetchone()[0]
    conn.close()
    print(f"\n{'export to JSONL (CLI)':<22}{'rows':>9}{'s':>9}{'rows/s':>9}{'peak RSS MiB':>14}")
    runs = (
        ("10% (--until)", work / "export.jsonl", ("--until", tenth)),
        ("all", work / "export.jsonl", ()),
        # past the page cache's dirty limit a file export waits on the disk; /dev/null shows the CPU side
        ("all, to /dev/null", Path(os.devnull), ()),
    )
    for label, out, extra in runs:
        r = run_export(path, out, *extra)
        print(f"{label:<22}{r['rows']:9.0f}{r['seconds']:9.2f}{r['rate']:9.0f}{r['rss_mib']:14.1f}")
    size = sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists())
    print(f"\ndatabase size: {size / 2**20:.0f} MiB, {size / count / 1024:.1f} KiB per article")
    conn = query.connect_readonly(path, seconds=3600)  # reads every text: minutes at 1M
    text_chars = conn.execute("SELECT avg(length(text)) FROM articles").fetchone()[0]
    conn.close()
    print(f"average text: {text_chars:.0f} characters")
    for name, part in sorted(table_sizes(path).items(), key=lambda kv: -kv[1])[:6]:
        print(f"  {name:<34}{part / count / 1024:7.2f} KiB per article")


if __name__ == "__main__":
    main()
