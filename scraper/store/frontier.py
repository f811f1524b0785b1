"""The frontier's SQL: queue URLs, pick the due ones, record what came of each fetch; the robots.txt cache.

Input: URLs, Targets and fetch outcomes. Output: Targets that are due; rows in `frontier` and
`robots_cache` (schema in store/schema.py, step 3). Settings: none; the policy (when a URL is due
again, when it is parked) is scraper/crawl's, passed in as times and counts. Every function runs
inside the caller's transaction (store.transaction or a WriteBatch unit), so "page fetched,
article stored, its links queued" commits as one unit and a kill -9 loses nothing: a URL whose
transaction did not commit is still queued and is fetched by the next run.

States: queued (due at next_due), fetched, failed (with reason and attempts), skipped (with reason),
parked (retried at next_due). Seeds, sitemaps, feeds and listing pages stay due (next_due is their
last fetch). `last_run` names the run that last touched a row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlite_utils

from ..models import Target
from .db import iso

STATES = ("queued", "fetched", "failed", "skipped", "parked")
KINDS = ("seed", "sitemap", "feed", "page")
# robots.txt answers are reused for a day (RFC 9309 section 2.4 allows caching up to 24 hours).
ROBOTS_TTL = dt.timedelta(hours=24)

_TARGET_COLUMNS = "url, source, kind, depth, etag, last_modified, page_kind, attempts, article_id"


def add_seeds(
    db: sqlite_utils.Database, source: str, urls: Iterable[str], kind: str, *, now: dt.datetime
) -> int:
    """Queue a source's start URLs, sitemaps or feeds, making known ones due now; returns how many are new."""
    added = 0
    for url in urls:
        cursor = db.execute(
            "INSERT OR IGNORE INTO frontier (url, source, kind, depth, state, discovered_at, next_due)"
            " VALUES (?, ?, ?, 0, 'queued', ?, ?)",
            [url, source, kind, iso(now), iso(now)],
        )
        added += cursor.rowcount
        if not cursor.rowcount:  # known: make it due now, whatever happened to it before
            db.execute(
                "UPDATE frontier SET kind = ?, depth = 0, next_due = ? WHERE url = ?", [kind, iso(now), url]
            )
    return added


def add_urls(
    db: sqlite_utils.Database,
    source: str,
    urls: Iterable[tuple[str, int]],
    *,
    kind: str = "page",
    now: dt.datetime,
    run_id: int,
) -> list[Target]:
    """Queue (url, depth) pairs not seen before; returns the new Targets, due now.

    A URL already in the frontier keeps its row (and its source), whatever its state.
    """
    added = []
    for url, depth in urls:
        cursor = db.execute(
            "INSERT OR IGNORE INTO frontier"
            " (url, source, kind, depth, state, discovered_at, next_due, last_run)"
            " VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
            [url, source, kind, depth, iso(now), iso(now), run_id],
        )
        if cursor.rowcount:
            added.append(Target(url, source, kind, depth))
    return added


def due(
    db: sqlite_utils.Database, source: str, *, now: dt.datetime, recheck_after: float, pages: int
) -> list[Target]:
    """A source's due Targets: every seed, sitemap and feed, then at most `pages` pages, shallowest first.

    A stored article is due when its last fetch is recheck_after seconds old, whatever next_due
    says, so a changed crawl.recheck_after applies at once.
    """
    before = iso(now - dt.timedelta(seconds=recheck_after))
    where = (
        "source = ? AND next_due IS NOT NULL AND CASE WHEN state = 'fetched' AND page_kind = 'article'"
        " THEN last_fetch <= ? ELSE next_due <= ? END"
    )
    order = "CASE kind WHEN 'seed' THEN 0 WHEN 'page' THEN 2 ELSE 1 END, depth, discovered_at"
    rows = db.execute(
        f"SELECT {_TARGET_COLUMNS} FROM frontier WHERE {where} AND kind != 'page' ORDER BY {order}",
        [source, before, iso(now)],
    ).fetchall()
    rows += db.execute(
        f"SELECT {_TARGET_COLUMNS} FROM frontier WHERE {where} AND kind = 'page' ORDER BY {order} LIMIT ?",
        [source, before, iso(now), pages],
    ).fetchall()
    return [Target(*row) for row in rows]


def mark_fetched(
    db: sqlite_utils.Database,
    target: Target,
    *,
    now: dt.datetime,
    run_id: int,
    next_due: dt.datetime | None,
    page_kind: str | None = None,
    article_id: int | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    reason: str | None = None,
) -> None:
    """Record a successful fetch (200 or 304); None keeps the old value."""
    db.execute(
        "UPDATE frontier SET state = 'fetched', reason = ?, attempts = 0, last_fetch = ?, next_due = ?,"
        " last_run = ?, page_kind = coalesce(?, page_kind), article_id = coalesce(?, article_id),"
        " etag = coalesce(?, etag), last_modified = coalesce(?, last_modified) WHERE url = ?",
        [reason, iso(now), _maybe(next_due), run_id, page_kind, article_id, etag, last_modified, target.url],
    )


def mark_failed(
    db: sqlite_utils.Database,
    target: Target,
    state: str,
    reason: str,
    *,
    now: dt.datetime,
    run_id: int,
    next_due: dt.datetime | None,
) -> None:
    """Record a failed or skipped fetch with its reason; failures count attempts in a row."""
    assert state in ("failed", "skipped"), state
    db.execute(
        "UPDATE frontier SET state = ?, reason = ?, attempts = attempts + ?, last_fetch = ?, next_due = ?,"
        " last_run = ? WHERE url = ?",
        [state, reason, 1 if state == "failed" else 0, iso(now), _maybe(next_due), run_id, target.url],
    )


def mark_parked(
    db: sqlite_utils.Database,
    target: Target,
    reason: str,
    *,
    attempts: int,
    now: dt.datetime,
    next_due: dt.datetime,
    run_id: int,
) -> None:
    """Record a parked URL: its reason, failures in a row, and when it is due again."""
    db.execute(
        "UPDATE frontier SET state = 'parked', reason = ?, attempts = ?, last_fetch = ?, next_due = ?,"
        " last_run = ? WHERE url = ?",
        [reason, attempts, iso(now), iso(next_due), run_id, target.url],
    )


def cached_robots(db: sqlite_utils.Database, origin: str, *, now: dt.datetime) -> tuple[int, bytes] | None:
    """The (status, body) of origin's robots.txt fetched within ROBOTS_TTL, if any."""
    row = db.execute(
        "SELECT status, body FROM robots_cache WHERE origin = ? AND fetched_at > ?",
        [origin, iso(now - ROBOTS_TTL)],
    ).fetchone()
    return None if row is None else (int(row[0]), bytes(row[1] or b""))


def save_robots(
    db: sqlite_utils.Database, origin: str, status: int, body: bytes, *, now: dt.datetime
) -> None:
    """Cache one robots.txt answer (only answers that mean something: 2xx and 4xx)."""
    db.execute(
        "INSERT OR REPLACE INTO robots_cache (origin, status, body, fetched_at) VALUES (?, ?, ?, ?)",
        [origin, status, body, iso(now)],
    )


def _maybe(moment: dt.datetime | None) -> str | None:
    return None if moment is None else iso(moment)
