"""fetch_log, runs and run_sources on PostgreSQL: store/runs.py's verbs, a run row per worker.

Input: fetch attempts and run counts from a worker's crawl. Output: rows in `fetch_log`, `runs`
(with `worker`, host:pid) and `run_sources`; the start of the crawl round a worker joins.
Settings: none.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...urls import logged_url
from ..db import iso
from ..runs import RUN_COUNTS, report_text
from .db import Connection, transaction


def log_fetch(
    conn: Connection,
    url: str,
    status: int | None,
    error: str | None,
    at: dt.datetime,
    outcome: str | None = None,
) -> None:
    """Append one fetch attempt to fetch_log, inside the caller's transaction (or alone)."""
    conn.execute(
        "INSERT INTO fetch_log (url, status, error, at, outcome) VALUES (%s, %s, %s, %s, %s)",
        [logged_url(url), status, error, iso(at), outcome],
    )


def start_run(conn: Connection, sources: list[str], *, started: dt.datetime, pid: int, worker: str) -> int:
    """Insert a `runs` row for a worker's crawl that starts now; returns its id.

    Raises:
        StorageError: PostgreSQL failed.
    """
    with transaction(conn, "cannot record the run"):
        row = conn.execute(
            "INSERT INTO runs (started, pid, sources, worker) VALUES (%s, %s, %s, %s) RETURNING id",
            [iso(started), pid, ",".join(sources), worker],
        ).fetchone()
    assert row is not None
    return int(row[0])


def crawl_round_start(conn: Connection, run_id: int, *, within: dt.timedelta) -> dt.datetime:
    """When the crawl this run joins began: the earliest start of the runs still going, this one included.

    A run is still going when it is not finished and either started `within` (a lease) before this
    one, or holds a live lease on a frontier URL (a long crawl's first workers). A run killed with
    -9 never finishes; once its leases lapse it no longer holds the round open.
    """
    row = conn.execute(
        "SELECT min(r.started) FROM runs r WHERE r.id = %(id)s OR (r.finished IS NULL AND ("
        " r.started >= (SELECT started FROM runs WHERE id = %(id)s) - %(within)s"
        " OR EXISTS (SELECT 1 FROM frontier f WHERE f.lease_by = r.worker AND f.lease_until > now())))",
        {"id": run_id, "within": within},
    ).fetchone()
    assert row is not None
    assert row[0] is not None
    moment: dt.datetime = row[0]
    return moment


def finish_run(
    conn: Connection,
    run_id: int,
    counts: dict[str, dict[str, int]],
    *,
    exit_status: int,
    finished: dt.datetime,
    report: dict[str, Any] | None = None,
    stopped: str | None = None,
) -> None:
    """Record a run's end, exit status, per-source counts (RUN_COUNTS) and its report (a JSON object).

    Raises:
        StorageError: PostgreSQL failed.
    """
    text = report_text(report)
    with transaction(conn, "cannot record the run"):
        conn.execute(
            "UPDATE runs SET finished = %s, exit_status = %s, report = %s, stopped = %s WHERE id = %s",
            [iso(finished), exit_status, text, stopped, run_id],
        )
        write_run_counts(conn, run_id, counts)


def write_run_counts(conn: Connection, run_id: int, counts: dict[str, dict[str, int]]) -> None:
    """Record a running crawl's counts so far, inside the caller's transaction (or alone)."""
    names = ", ".join(RUN_COUNTS)
    marks = ", ".join("%s" for _ in RUN_COUNTS)
    updates = ", ".join(f"{name} = excluded.{name}" for name in RUN_COUNTS)
    for source, numbers in counts.items():
        conn.execute(
            f"INSERT INTO run_sources (run_id, source, {names}) VALUES (%s, %s, {marks})"
            f" ON CONFLICT (run_id, source) DO UPDATE SET {updates}",
            [run_id, source, *(numbers.get(name, 0) for name in RUN_COUNTS)],
        )
