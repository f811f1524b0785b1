"""store/stats.py's crawl statistics on PostgreSQL: per-source totals, runs (with their worker), failures.

Input: a postgresql:// URL. Output: the dict store.stats.crawl_stats() gives on SQLite, times as
ISO text; each run row also names its `worker` (host:pid), since many run at once. Settings: none.
"""

from __future__ import annotations

from typing import Any

from ..stats import SKIP_PREFIXES, unreachable_hosts
from .db import Connection, pg_errors
from .read import connect_readonly, dict_rows


def crawl_stats(url: str, *, runs: int = 10, failures: int = 10) -> dict[str, list[dict[str, Any]]]:
    """store.stats.crawl_stats() on PostgreSQL (runs carry `worker`).

    Raises:
        StorageError: the database is unreachable or its schema is not current.
    """
    conn = connect_readonly(url)
    try:
        with pg_errors(conn, "cannot read crawl statistics"):
            report = conn.execute("SELECT report FROM runs ORDER BY id DESC LIMIT 1").fetchone()
            return {
                "sources": _rows(conn, _SOURCE_TOTALS_SQL),
                "runs": _rows(conn, _RUNS_SQL, [runs]),
                "failures": _rows(conn, _FAILURES_SQL, [failures] * 3),
                "unreachable": unreachable_hosts(report[0] if report else None),
            }
    finally:
        conn.close()


def _rows(conn: Connection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    with conn.cursor() as cur:
        cur.execute(sql, params or [])
        return dict_rows(cur)


_SOURCE_TOTALS_SQL = """
SELECT f.source,
       (SELECT count(*) FROM articles a WHERE a.site = f.source) AS articles,
       count(*) FILTER (WHERE f.state = 'queued') AS queued,
       count(*) FILTER (WHERE f.state = 'fetched') AS fetched,
       count(*) FILTER (WHERE f.state = 'failed') AS failed,
       count(*) FILTER (WHERE f.state = 'skipped') AS skipped,
       max(f.last_fetch) AS last_fetch
FROM frontier f GROUP BY f.source ORDER BY f.source COLLATE "C"
"""
_RUNS_SQL = """
SELECT r.id, r.started, r.finished, r.exit_status, r.sources, r.worker,
       sum(s.discovered)::bigint AS discovered, sum(s.fetched)::bigint AS fetched, sum(s.new)::bigint AS new,
       sum(s.updated)::bigint AS updated, sum(s.unchanged)::bigint AS unchanged,
       sum(s.duplicate)::bigint AS duplicate, sum(s.near)::bigint AS near,
       sum(s.skipped)::bigint AS skipped, sum(s.failed)::bigint AS failed
FROM runs r LEFT JOIN run_sources s ON s.run_id = r.id
GROUP BY r.id ORDER BY r.id DESC LIMIT %s
"""
_FAILURES_SQL = """
SELECT * FROM (
    (SELECT source, url, reason, attempts, last_fetch FROM frontier
     WHERE state = 'failed' ORDER BY last_fetch DESC NULLS LAST LIMIT %s)
    UNION ALL
    (SELECT 'ingest' AS source, l.url, l.error AS reason,
            (SELECT count(*) FROM fetch_log c
             WHERE c.url = l.url AND c.error IS NOT NULL)::integer AS attempts,
            l.at AS last_fetch
     FROM fetch_log l
     WHERE l.error IS NOT NULL
       AND (l.outcome IN ('failed', 'error') OR (l.outcome IS NULL AND NOT ({skips})))
       AND l.id = (SELECT max(m.id) FROM fetch_log m WHERE m.url = l.url)
       AND NOT EXISTS (SELECT 1 FROM frontier f WHERE f.url = l.url)
       AND l.url NOT LIKE '%%/robots.txt'
     ORDER BY l.id DESC LIMIT %s)
) failures ORDER BY last_fetch DESC NULLS LAST LIMIT %s
""".format(skips=" OR ".join(f"l.error LIKE '{prefix}%%'" for prefix in SKIP_PREFIXES))
