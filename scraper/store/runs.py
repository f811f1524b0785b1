"""What happened when: the fetch log, the record of crawl runs, and a dry run's copy of the crawl state.

Input: fetch attempts and run counts from the pipeline. Output: rows in `fetch_log` (so cron runs
can be audited), `runs` and `run_sources`. Settings: none.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import sqlite_utils

from ..urls import logged_url
from .db import connect_readonly, immediate, iso, storage_errors, transaction

RUN_COUNTS = (
    "discovered",
    "fetched",
    "new",
    "updated",
    "unchanged",
    "duplicate",
    "near",
    "skipped",
    "failed",
)
# The tables a dry run copies from the real database: what is due, and the robots.txt answers.
CRAWL_STATE_TABLES = ("frontier", "robots_cache")


def log_fetch(
    db: sqlite_utils.Database,
    url: str,
    status: int | None,
    error: str | None,
    at: dt.datetime,
    outcome: str | None = None,
) -> None:
    """record_fetch() inside the caller's transaction."""
    db.execute(
        "INSERT INTO fetch_log (url, status, error, at, outcome) VALUES (?, ?, ?, ?, ?)",
        [logged_url(url), status, error, iso(at), outcome],
    )


def record_fetch(
    db: sqlite_utils.Database,
    url: str,
    status: int | None,
    error: str | None,
    at: dt.datetime,
    outcome: str | None = None,
) -> None:
    """Append one fetch attempt to fetch_log, so cron runs can be audited.

    Raises:
        StorageError: SQLite failed.
    """
    with transaction(db, f"cannot log the fetch of {url}"):
        log_fetch(db, url, status, error, at, outcome)


def start_run(db: sqlite_utils.Database, sources: list[str], *, started: dt.datetime, pid: int) -> int:
    """Insert a `runs` row for a crawl that starts now; returns its id.

    Raises:
        StorageError: SQLite failed.
    """
    with transaction(db):
        cursor = db.execute(
            "INSERT INTO runs (started, pid, sources) VALUES (?, ?, ?)",
            [iso(started), pid, ",".join(sources)],
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def report_text(report: dict[str, Any] | None) -> str | None:
    """A run's report as stored in runs.report on both backends: JSON, keys sorted, text unescaped."""
    return None if report is None else json.dumps(report, ensure_ascii=False, sort_keys=True)


def finish_run(
    db: sqlite_utils.Database,
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
        StorageError: SQLite failed.
    """
    text = report_text(report)
    with transaction(db):
        db.execute(
            "UPDATE runs SET finished = ?, exit_status = ?, report = ?, stopped = ? WHERE id = ?",
            [iso(finished), exit_status, text, stopped, run_id],
        )
        write_run_counts(db, run_id, counts)


def save_run_counts(db: sqlite_utils.Database, run_id: int, counts: dict[str, dict[str, int]]) -> None:
    """Record a running crawl's counts so far (a run killed later keeps them).

    Raises:
        StorageError: SQLite failed.
    """
    with transaction(db):
        write_run_counts(db, run_id, counts)


def write_run_counts(db: sqlite_utils.Database, run_id: int, counts: dict[str, dict[str, int]]) -> None:
    """save_run_counts() inside the caller's transaction."""
    names = ", ".join(RUN_COUNTS)
    marks = ", ".join("?" for _ in RUN_COUNTS)
    for source, numbers in counts.items():
        db.execute(
            f"INSERT OR REPLACE INTO run_sources (run_id, source, {names}) VALUES (?, ?, {marks})",
            [run_id, source, *(numbers.get(name, 0) for name in RUN_COUNTS)],
        )


def copy_crawl_state(db: sqlite_utils.Database, path: str | Path) -> None:
    """Copy the frontier and robots.txt cache of the database at path into db (a dry run's).

    The file is opened read-only (connect_readonly, snapshot): a dry run never writes the real
    database, nor leaves a file beside it.
    Columns are matched by name, so a database one schema behind still previews.

    Raises:
        StorageError: the file cannot be read as a database.
    """
    with storage_errors(path, "cannot read the database"):
        source = connect_readonly(path, snapshot=True)
        try:
            with immediate(db):
                for table in CRAWL_STATE_TABLES:
                    _copy_table(source, db, table)
        finally:
            source.close()


def _copy_table(source: sqlite3.Connection, db: sqlite_utils.Database, table: str) -> None:
    theirs = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
    columns = [c for c in theirs if c in db.table(table).columns_dict]
    if not columns:
        return  # a database from before the crawl tables
    names = ", ".join(columns)
    marks = ", ".join("?" for _ in columns)
    rows = source.execute(f"SELECT {names} FROM {table}")
    db.conn.executemany(f"INSERT OR REPLACE INTO {table} ({names}) VALUES ({marks})", rows)
