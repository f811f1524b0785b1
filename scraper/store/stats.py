"""Read-only crawl statistics: per-source totals, recent runs, recent failures, unreachable hosts.

Input: a database path (or a postgresql:// URL: store/pg/stats.py answers). Output: plain dict
rows for `scraper stats`. Settings: none.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from ..config import is_postgres_url
from ..errors import StorageError
from .read import connect_readonly


def crawl_stats(path: str | Path, *, runs: int = 10, failures: int = 10) -> dict[str, list[dict[str, Any]]]:
    """Per-source totals, the last `runs` crawl runs, the last `failures` failed URLs, unreachable hosts.

    Failures are a crawl's failed frontier rows and the URLs whose last `scraper ingest` failed
    (source "ingest"). Unreachable hosts are those of the last run's report, when it has one.

    Returns:
        {"sources": [{source, articles, queued, fetched, failed, skipped, last_fetch}],
         "runs": [{id, started, finished, exit_status, sources, new, updated, ..., failed}],
         "failures": [{source, url, reason, attempts, last_fetch}],
         "unreachable": [{origin, reason}]}

    Raises:
        StorageError: no database, or one no crawl has migrated yet.
    """
    if is_postgres_url(str(path)):
        from .pg import stats as pg_stats

        return pg_stats.crawl_stats(str(path), runs=runs, failures=failures)
    conn = connect_readonly(path)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"frontier", "runs", "run_sources", "fetch_log"} <= tables:
            raise StorageError(f"{path} has no crawl tables yet; run `scraper crawl` (or `scraper migrate`)")
        return {
            "sources": _rows(conn, _SOURCE_TOTALS_SQL),
            "runs": _rows(conn, _RUNS_SQL, [runs]),
            "failures": _rows(conn, _FAILURES_SQL, [failures] * 3),
            "unreachable": _last_run_unreachable(conn),
        }
    finally:
        conn.close()


def _last_run_unreachable(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """{origin, reason} rows from the last run's `report` JSON; none when it has no readable report.

    The column comes with the run-report schema step: on an older database, or for a run that was
    killed before it wrote its report (NULL), or a report that is not the JSON object we write,
    there is nothing to show, which is not an error.
    """
    columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    if "report" not in columns:
        return []
    row = conn.execute("SELECT report FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    return unreachable_hosts(row[0] if row else None)


def unreachable_hosts(text: str | None) -> list[dict[str, Any]]:
    """{origin, reason} rows from a run's `report` JSON text; none when it is missing or not ours."""
    try:
        report = json.loads(text) if text else None
    except (TypeError, ValueError):
        return []
    unreachable = report.get("unreachable") if isinstance(report, dict) else None
    if not isinstance(unreachable, dict):
        return []
    return [{"origin": str(origin), "reason": str(reason)} for origin, reason in unreachable.items()]


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sql, params or [])]


_SOURCE_TOTALS_SQL = """
SELECT f.source,
       (SELECT count(*) FROM articles a WHERE a.site = f.source) AS articles,
       sum(f.state = 'queued') AS queued, sum(f.state = 'fetched') AS fetched,
       sum(f.state = 'failed') AS failed, sum(f.state = 'skipped') AS skipped,
       max(f.last_fetch) AS last_fetch
FROM frontier f GROUP BY f.source ORDER BY f.source
"""
_RUNS_SQL = """
SELECT r.id, r.started, r.finished, r.exit_status, r.sources,
       sum(s.discovered) AS discovered, sum(s.fetched) AS fetched, sum(s.new) AS new,
       sum(s.updated) AS updated, sum(s.unchanged) AS unchanged, sum(s.duplicate) AS duplicate,
       sum(s.near) AS near,
       sum(s.skipped) AS skipped, sum(s.failed) AS failed
FROM runs r LEFT JOIN run_sources s ON s.run_id = r.id
GROUP BY r.id ORDER BY r.id DESC LIMIT ?
"""
# A skip is no failure: the page came, and held no article. fetch_log.outcome says which (schema 5);
# rows written before it have none, and their skips start with these words.
SKIP_PREFIXES = ("skipped ", "no article at ")
_FAILURES_SQL = """
SELECT * FROM (
    SELECT * FROM (
        SELECT source, url, reason, attempts, last_fetch FROM frontier
        WHERE state = 'failed' ORDER BY last_fetch DESC LIMIT ?
    )
    UNION ALL
    SELECT * FROM (
        -- ingest: URLs whose last fetch failed; URLs a crawl knows are in the frontier rows above
        SELECT 'ingest' AS source, l.url, l.error AS reason,
               (SELECT count(*) FROM fetch_log c WHERE c.url = l.url AND c.error IS NOT NULL) AS attempts,
               l.at AS last_fetch
        FROM fetch_log l
        WHERE l.error IS NOT NULL
          AND (l.outcome IN ('failed', 'error') OR (l.outcome IS NULL AND NOT ({skips})))
          AND l.id = (SELECT max(m.id) FROM fetch_log m WHERE m.url = l.url)
          AND NOT EXISTS (SELECT 1 FROM frontier f WHERE f.url = l.url)
          AND l.url NOT LIKE '%/robots.txt'  -- a crawl's robots.txt: under unreachable hosts
        ORDER BY l.id DESC LIMIT ?
    )
) ORDER BY last_fetch DESC LIMIT ?
""".format(skips=" OR ".join(f"l.error LIKE '{prefix}%'" for prefix in SKIP_PREFIXES))
