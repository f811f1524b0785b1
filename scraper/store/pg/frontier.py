"""The frontier on PostgreSQL: workers anywhere claim due URLs with a lease; `hosts` keeps politeness.

Input: URLs, Targets and fetch outcomes, as store/frontier.py takes them (same names, same meanings,
a psycopg connection instead of a sqlite_utils.Database), plus claim()/release() for many workers.
Output: Claims; rows in `frontier`, `hosts` and `robots_cache` (store/pg/schema.py). Settings: none;
the policy (when a URL is due again, the per-host delay) stays scraper/crawl's and is passed in.

A claim is one transaction: it locks free hosts and one due URL of each with FOR UPDATE SKIP LOCKED
(a worker never waits for another's rows, and never gets the same ones), then leases both. So at
most one request per host is in flight in the whole cluster, and a host is free again only when
release() (after the fetch) has set its next_allowed = end of the fetch + the delay: the per-host
gap holds between workers too. Times that decide politeness are the server's clock, the one clock
all machines share. A lease lapses after `lease`: a killed worker's URLs and hosts are claimed again
then, so LEASE must outlast the longest fetch (fetch.deadline) plus its write.
Writes that take several rows in order sort them first, so two workers never deadlock on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ...models import Target
from ...urls import origin_of
from ..db import iso
from .db import Connection

# How long a claim holds a URL and its host when the caller gives no lease (a crawl passes
# pipeline/claims.lease_for(cfg), sized by its fetch.deadline and extract.time_limit). Past it, a
# worker is taken for dead and both are claimed again: longer than a fetch can take (fetch.deadline,
# 60 s by default, covers all attempts and waits) plus extraction (extract.time_limit, 30 s) and the
# write.
LEASE = dt.timedelta(minutes=3)
# robots.txt answers are reused for a day, as on SQLite (store/frontier.py).
ROBOTS_TTL = dt.timedelta(hours=24)

_TARGET_COLUMNS = (
    "f.url, f.source, f.kind, f.depth, f.etag, f.last_modified, f.page_kind, f.attempts, f.article_id"
)
# Seeds first, then sitemaps and feeds, then pages; shallow before deep; first queued first (as on
# SQLite). (frontier.priority is the kind's rank, seq the queueing order; idx_frontier_claim holds
# this order per host)
_ORDER = "f.priority, f.depth, f.seq"
_CLEAR_LEASE = "lease_by = NULL, lease_until = NULL"
# A frontier row `f` due at %(at)s for %(sources)s, not fetched since %(since)s (NULL: ever).
_DUE = (
    "f.source = ANY(%(sources)s) AND f.next_due IS NOT NULL"
    " AND CASE WHEN f.state = 'fetched' AND f.page_kind = 'article'"
    "     THEN f.last_fetch <= %(at)s - make_interval(secs => %(recheck)s)"
    "     ELSE f.next_due <= %(at)s END"
    " AND (%(since)s::timestamptz IS NULL OR f.last_fetch IS NULL OR f.last_fetch < %(since)s)"
)


@dataclass(frozen=True, slots=True)
class Claim:
    """One URL a worker may fetch now: its Target, its host, and the server's time of the claim."""

    target: Target
    host: str
    claimed_at: dt.datetime
    lease_until: dt.datetime


def add_seeds(conn: Connection, source: str, urls: Iterable[str], kind: str, *, now: dt.datetime) -> int:
    """Queue a source's start URLs, sitemaps or feeds, making known ones due now; returns how many are new."""
    unique = sorted(set(urls))
    _add_hosts(conn, unique)
    rows = conn.execute(
        "INSERT INTO frontier (url, source, kind, depth, state, discovered_at, next_due, host)"
        " SELECT u, %(source)s, %(kind)s, 0, 'queued', %(now)s, %(now)s, h"
        " FROM unnest(%(urls)s::text[], %(hosts)s::text[]) AS t(u, h) ORDER BY u"
        " ON CONFLICT (url) DO UPDATE SET kind = excluded.kind, depth = 0, next_due = excluded.next_due"
        " RETURNING xmax = 0",  # xmax is 0 on a row this statement inserted (not updated)
        {"source": source, "kind": kind, "now": iso(now), "urls": unique, "hosts": _origins(unique)},
    ).fetchall()
    return sum(1 for (inserted,) in rows if inserted)


def add_urls(
    conn: Connection,
    source: str,
    urls: Iterable[tuple[str, int]],
    *,
    kind: str = "page",
    now: dt.datetime,
    run_id: int,
) -> list[Target]:
    """Queue (url, depth) pairs not seen before; returns the new Targets, due now, in the order given.

    A URL already in the frontier keeps its row (and its source), whatever its state.
    """
    depths: dict[str, int] = {}
    for url, depth in urls:
        depths.setdefault(url, depth)  # the first depth given for a URL wins, as on SQLite
    unique = sorted(depths)
    _add_hosts(conn, unique)
    rows = conn.execute(
        "INSERT INTO frontier (url, source, kind, depth, state, discovered_at, next_due, last_run, host)"
        " SELECT u, %(source)s, %(kind)s, d, 'queued', %(now)s, %(now)s, %(run)s, h"
        " FROM unnest(%(urls)s::text[], %(depths)s::int[], %(hosts)s::text[]) AS t(u, d, h) ORDER BY u"
        " ON CONFLICT (url) DO NOTHING RETURNING url",
        {
            "source": source, "kind": kind, "now": iso(now), "run": run_id, "urls": unique,
            "depths": [depths[url] for url in unique], "hosts": _origins(unique),
        },
    ).fetchall()  # fmt: skip
    new = {row[0] for row in rows}
    return [Target(url, source, kind, depth) for url, depth in depths.items() if url in new]


def claim(
    conn: Connection,
    worker: str,
    sources: Sequence[str],
    *,
    limit: int,
    recheck_after: float,
    lease: dt.timedelta = LEASE,
    since: dt.datetime | None = None,
) -> list[Claim]:
    """Claim up to `limit` due URLs of these sources, at most one per free host, in one transaction.

    A host is free when no lease on it is live, it is not backed off, and its next_allowed has
    passed. Due means what it means on SQLite (store/frontier.due): next_due has passed, or for a
    stored article its last fetch is recheck_after seconds old.
    since: only URLs not fetched since then (the crawl round's start, crawl_round_start()): a
    listing is due again as soon as it is fetched, and the round must not fetch it twice.
    """
    with conn.transaction():
        at = _server_time(conn)
        rows = conn.execute(
            f"SELECT h.origin, {_TARGET_COLUMNS} FROM hosts h CROSS JOIN LATERAL ("
            f"  SELECT {_TARGET_COLUMNS} FROM frontier f"
            f"   WHERE f.host = h.origin AND {_DUE}"
            "   AND (f.lease_until IS NULL OR f.lease_until <= %(at)s)"
            f"  ORDER BY {_ORDER} LIMIT 1 FOR UPDATE OF f SKIP LOCKED"
            ") f"
            " WHERE h.next_allowed <= %(at)s AND (h.lease_until IS NULL OR h.lease_until <= %(at)s)"
            " AND (h.backoff_until IS NULL OR h.backoff_until <= %(at)s)"
            " ORDER BY h.next_allowed, h.origin LIMIT %(limit)s FOR UPDATE OF h SKIP LOCKED",
            {"sources": list(sources), "at": at, "recheck": recheck_after, "limit": limit, "since": since},
        ).fetchall()
        until = at + lease
        hosts, urls = [row[0] for row in rows], [row[1] for row in rows]
        conn.execute(
            "UPDATE frontier SET lease_by = %s, lease_until = %s WHERE url = ANY(%s)", [worker, until, urls]
        )
        conn.execute(
            "UPDATE hosts SET lease_by = %s, lease_until = %s, lease_url = t.u"
            " FROM unnest(%s::text[], %s::text[]) AS t(o, u) WHERE origin = t.o",
            [worker, until, hosts, urls],
        )
    return [Claim(Target(*row[1:]), row[0], at, until) for row in rows]


def pending(conn: Connection, sources: Sequence[str], *, recheck_after: float, since: dt.datetime) -> int:
    """How many URLs claim() may still give out this round: due ones, leased or not, on hosts not backed off.

    Zero means the round's work is done (a worker stops); otherwise it is held by other workers
    (whose fetches may add links) or waits for a host's gap or a lapsed lease.
    """
    row = conn.execute(
        f"SELECT count(*) FROM frontier f JOIN hosts h ON h.origin = f.host WHERE {_DUE}"
        " AND (h.backoff_until IS NULL OR h.backoff_until <= %(at)s)",
        {"sources": list(sources), "at": _server_time(conn), "recheck": recheck_after, "since": since},
    ).fetchone()
    assert row is not None
    return int(row[0])


def release(conn: Connection, host: str, worker: str, *, delay: float) -> dt.datetime | None:
    """End the worker's request to host: no request starts there before now + delay (or its Crawl-delay).

    Runs inside the caller's transaction (with the page's writes) or alone. Returns the server's
    time of the release, or None when the worker's lease had lapsed and another holds the host.
    """
    row = conn.execute(
        "UPDATE hosts SET lease_by = NULL, lease_until = NULL, lease_url = NULL,"
        " next_allowed = t.at + make_interval(secs => greatest(%s, coalesce(crawl_delay, 0)))"
        " FROM (SELECT clock_timestamp() AS at) AS t WHERE origin = %s AND lease_by = %s RETURNING t.at",
        [delay, host, worker],
    ).fetchone()
    return None if row is None else row[0]


def unclaim(conn: Connection, url: str, worker: str) -> None:
    """Give back a claimed URL that was not fetched (the run stopped first): claimable again at once."""
    conn.execute(f"UPDATE frontier SET {_CLEAR_LEASE} WHERE url = %s AND lease_by = %s", [url, worker])


def set_crawl_delay(conn: Connection, host: str, seconds: float | None) -> None:
    """Record the host's robots.txt Crawl-delay (capped by the caller), kept by every worker's release()."""
    conn.execute("UPDATE hosts SET crawl_delay = %s WHERE origin = %s", [seconds, host])


def back_off(conn: Connection, host: str, until: dt.datetime, reason: str) -> None:
    """Skip a host until `until` for every worker (robots.txt unreachable, timeouts), with the reason."""
    conn.execute(
        "UPDATE hosts SET backoff_until = %s, backoff_reason = %s WHERE origin = %s",
        [iso(until), reason, host],
    )


def mark_fetched(
    conn: Connection,
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
    worker: str | None = None,
) -> bool:
    """Record a successful fetch (200 or 304) and end its lease; None keeps the old value.

    worker: write only while this worker holds the URL's lease (see _holder); returns whether it did.
    """
    cursor = conn.execute(
        "UPDATE frontier SET state = 'fetched', reason = %s, attempts = 0, last_fetch = %s, next_due = %s,"
        " last_run = %s, page_kind = coalesce(%s, page_kind), article_id = coalesce(%s, article_id),"
        f" etag = coalesce(%s, etag), last_modified = coalesce(%s, last_modified), {_CLEAR_LEASE}"
        f" WHERE url = %s{_holder(worker)}",
        [
            reason,
            iso(now),
            _maybe(next_due),
            run_id,
            page_kind,
            article_id,
            etag,
            last_modified,
            target.url,
            *_holder_param(worker),
        ],
    )
    return cursor.rowcount > 0


def mark_failed(
    conn: Connection,
    target: Target,
    state: str,
    reason: str,
    *,
    now: dt.datetime,
    run_id: int,
    next_due: dt.datetime | None,
    worker: str | None = None,
) -> bool:
    """Record a failed or skipped fetch and its reason, ending its lease; a failure adds one attempt.

    worker: write only while this worker holds the URL's lease (see _holder); returns whether it did.
    """
    assert state in ("failed", "skipped"), state
    cursor = conn.execute(
        "UPDATE frontier SET state = %s, reason = %s, attempts = attempts + %s, last_fetch = %s,"
        f" next_due = %s, last_run = %s, {_CLEAR_LEASE} WHERE url = %s{_holder(worker)}",
        [
            state,
            reason,
            1 if state == "failed" else 0,
            iso(now),
            _maybe(next_due),
            run_id,
            target.url,
            *_holder_param(worker),
        ],
    )
    return cursor.rowcount > 0


def mark_parked(
    conn: Connection,
    target: Target,
    reason: str,
    *,
    attempts: int,
    now: dt.datetime,
    next_due: dt.datetime,
    run_id: int,
    worker: str | None = None,
) -> bool:
    """Record a parked URL: its reason, failures in a row, and when it is due again; end its lease.

    worker: write only while this worker holds the URL's lease (see _holder); returns whether it did.
    """
    cursor = conn.execute(
        "UPDATE frontier SET state = 'parked', reason = %s, attempts = %s, last_fetch = %s, next_due = %s,"
        f" last_run = %s, {_CLEAR_LEASE} WHERE url = %s{_holder(worker)}",
        [reason, attempts, iso(now), iso(next_due), run_id, target.url, *_holder_param(worker)],
    )
    return cursor.rowcount > 0


def cached_robots(conn: Connection, origin: str, *, now: dt.datetime) -> tuple[int, bytes] | None:
    """The (status, body) of origin's robots.txt fetched within ROBOTS_TTL, if any."""
    row = conn.execute(
        "SELECT status, body FROM robots_cache WHERE origin = %s AND fetched_at > %s",
        [origin, iso(now - ROBOTS_TTL)],
    ).fetchone()
    return None if row is None else (int(row[0]), bytes(row[1] or b""))


def save_robots(conn: Connection, origin: str, status: int, body: bytes, *, now: dt.datetime) -> None:
    """Cache one robots.txt answer (only answers that mean something: 2xx and 4xx)."""
    conn.execute(
        "INSERT INTO robots_cache (origin, status, body, fetched_at) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (origin) DO UPDATE SET status = excluded.status, body = excluded.body,"
        " fetched_at = excluded.fetched_at",
        [origin, status, body, iso(now)],
    )


def _add_hosts(conn: Connection, urls: Sequence[str]) -> None:
    """Make sure each URL's host has its `hosts` row (sorted: concurrent inserts never deadlock)."""
    conn.execute(
        "INSERT INTO hosts (origin) SELECT DISTINCT o FROM unnest(%s::text[]) AS t(o) ORDER BY o"
        " ON CONFLICT (origin) DO NOTHING",
        [sorted(set(_origins(urls)))],
    )


def _holder(worker: str | None) -> str:
    """The condition that worker holds the URL: its lease, even lapsed, unless another claimed it since."""
    return "" if worker is None else " AND lease_by = %s"


def _holder_param(worker: str | None) -> list[str]:
    return [] if worker is None else [worker]


def _server_time(conn: Connection) -> dt.datetime:
    row = conn.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    moment: dt.datetime = row[0]
    return moment


def _origins(urls: Sequence[str]) -> list[str]:
    return [origin_of(url) for url in urls]


def _maybe(moment: dt.datetime | None) -> str | None:
    return None if moment is None else iso(moment)
