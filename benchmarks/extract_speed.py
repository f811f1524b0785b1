"""Extraction speed per dev set: scraper's extract() beside trafilatura, page by page, in one process.

Run from the repo root with this checkout first on the path:

    PYTHONPATH=$PWD python benchmarks/extract_speed.py [--per-set 200] [--rounds 2]

The budget (issue 10): extract() at least 1.5x trafilatura's pages/s on every dev set and on the
pages benchmarks/crawl_bench.py serves. Each page goes to our extract() and then to trafilatura's
reference call (as benchmarks/extract_bench.py makes it), one after the other, so load from other
processes hits both alike; the time is process CPU time of the call only (decoding is done before).
Sets are sampled evenly (every k-th page) to --per-set pages; "crawl-bench" is the crawl bench's 40
article templates from wcxb-dev. Old/new comparisons: run this twice, back to back, with PYTHONPATH
pointing at each checkout, and compare the scraper column (the trafilatura column is the control).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from crawl_bench import load_templates  # noqa: E402
from extract_bench import _adapter, load_pages  # noqa: E402

DATA = Path("/work/shared/data")
DEV_SETS = ("wcxb-dev", "trafilatura", "readability-testpages", "cwced-zh-dev", "gne-zh")


def _sample(items: list[tuple[str, str | None]], count: int) -> list[tuple[str, str | None]]:
    step = max(1, len(items) // count)
    return items[::step][:count]


def _pages(name: str, per_set: int) -> list[tuple[str, str | None]]:
    """(decoded html, url) for one set, or the crawl bench templates."""
    if name == "crawl-bench":
        from scraper.encoding import decode_html

        templates = load_templates(DATA / "wcxb-dev", 40)
        return [(decode_html(t, None)[0], "http://127.0.0.2/a/1.html") for t in templates]
    records = load_pages([str(DATA / name / "manifest.jsonl")], None)
    return _sample([(r["text_html"], r.get("url")) for r in records], per_set)


def _measure(pages: list[tuple[str, str | None]], rounds: int) -> tuple[float, float]:
    """CPU seconds of ours and of trafilatura over all pages, interleaved page by page."""
    ours, theirs = _adapter("scraper"), _adapter("trafilatura")
    for html, url in pages[:3]:  # warm caches and lazy model loads outside the clock
        ours(html, url)
        theirs(html, url)
    spent = [0.0, 0.0]
    for _ in range(rounds):
        for html, url in pages:
            for slot, run in enumerate((ours, theirs)):
                start = time.process_time()
                run(html, url)
                spent[slot] += time.process_time() - start
    return spent[0], spent[1]


def main() -> int:
    """Print one row per set: pages, pages/s for each, and the ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-set", type=int, default=200, help="pages sampled from each dev set")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the pages")
    parser.add_argument("--sets", nargs="*", default=[*DEV_SETS, "crawl-bench"])
    args = parser.parse_args()
    print("| set | pages | scraper pages/s | trafilatura pages/s | ratio |")
    print("|---|---|---|---|---|")
    for name in args.sets:
        pages = _pages(name, args.per_set)
        ours, theirs = _measure(pages, args.rounds)
        done = len(pages) * args.rounds
        print(
            f"| {name} | {len(pages)} | {done / ours:.1f} | {done / theirs:.1f} | x{theirs / ours:.2f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
