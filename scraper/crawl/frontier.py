"""Frontier policy: which URL of which source to fetch when; when a URL that keeps failing is parked.

Input: a Target whose fetch failed. Output: when it is due again, written through store.frontier,
which owns the `frontier` and `robots_cache` SQL (its names are re-exported here). Settings: none
(the pipeline passes recheck times).

States: queued (due at next_due), fetched, failed (with reason and attempts), skipped (with reason),
parked (failed MAX_ATTEMPTS times in a row, or met a bug: retried after park_interval(), which
doubles with each further failure). A parked seed, sitemap or feed the config names is still tried
every run (add_seeds makes it due): the user asked for it, and parking it would silently empty the
source. Discovered URLs stay parked until their next_due.
Seeds, sitemaps, feeds and listing pages stay due (next_due is their last fetch), so every run
fetches them again, conditionally; the pipeline keeps one run from fetching a URL twice. Articles
fall due again after crawl.recheck_after.
"""

from __future__ import annotations

import datetime as dt

from ..models import Target
from ..store.crawlstore import CrawlStore
from ..store.frontier import (
    KINDS,
    ROBOTS_TTL,
    STATES,
    add_seeds,
    add_urls,
    cached_robots,
    due,
    mark_failed,
    mark_fetched,
    save_robots,
)

__all__ = [
    "KINDS",
    "MAX_ATTEMPTS",
    "PARK_FIRST",
    "PARK_MAX",
    "ROBOTS_TTL",
    "STATES",
    "TRANSIENT_STATUSES",
    "add_seeds",
    "add_urls",
    "cached_robots",
    "due",
    "mark_failed",
    "mark_fetched",
    "next_due_after",
    "park",
    "park_interval",
    "record_failure",
    "save_robots",
]

# A URL that failed this many fetches in a row is parked: a transient failure (5xx, timeout) gets
# that many runs to pass, and an hourly cron stops paying for a dead URL after the third.
MAX_ATTEMPTS = 3
# A parked URL is tried again after PARK_FIRST, then after twice as long at each further failure,
# at most PARK_MAX apart: a page that comes back is found within a month, and a dead one costs
# about one request a month.
PARK_FIRST = dt.timedelta(days=1)
PARK_MAX = dt.timedelta(days=30)
# A failure that may pass (network, 5xx, 408, 429) is retried on the next runs; after
# MAX_ATTEMPTS in a row the URL is parked.
TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def next_due_after(
    page_kind: str | None, skipped: bool, *, now: dt.datetime, recheck: dt.datetime
) -> dt.datetime:
    """When a fetched page is due again: a listing at once (each run looks for new links), else at recheck."""
    return now if page_kind != "article" and not skipped else recheck


def park_interval(attempts: int) -> dt.timedelta:
    """How long a URL that has failed `attempts` fetches in a row stays parked."""
    doublings = min(max(0, attempts - MAX_ATTEMPTS), 5)  # 2**5 days passes PARK_MAX already
    return min(PARK_MAX, PARK_FIRST * (1 << doublings))


def park(
    store: CrawlStore,
    target: Target,
    reason: str,
    *,
    now: dt.datetime,
    run_id: int,
    bug: bool,
    at_least: dt.datetime | None = None,
) -> dt.datetime:
    """Park a URL that keeps failing (or met a bug) with its reason; returns when it is due again.

    A bug parks at once: counted as MAX_ATTEMPTS failures, so the same page does not break every run.
    at_least: never due before this (a permanent failure's recheck time, when later than the park's).
    """
    attempts = target.attempts + 1
    if bug:
        attempts = max(attempts, MAX_ATTEMPTS)
    next_due = now + park_interval(attempts)
    if at_least is not None:
        next_due = max(next_due, at_least)
    store.mark_parked(target, reason, attempts=attempts, now=now, next_due=next_due, run_id=run_id)
    return next_due


def record_failure(
    store: CrawlStore,
    target: Target,
    outcome: str,
    reason: str,
    *,
    status: int | None,
    now: dt.datetime,
    run_id: int,
    recheck: dt.datetime,
) -> bool:
    """Record a failed or skipped fetch and when to try again; returns whether the URL was parked.

    A failure that may pass (no status, or TRANSIENT_STATUSES) is due again at once, one that will
    not at `recheck`; a skip of a page waits for `recheck` too. The MAX_ATTEMPTS-th failure in a
    row parks the URL (a permanent one for at least until `recheck`).
    """
    transient = status is None or status in TRANSIENT_STATUSES
    if outcome == "failed" and target.attempts + 1 >= MAX_ATTEMPTS:
        later = None if transient else recheck
        park(store, target, reason, now=now, run_id=run_id, bug=False, at_least=later)
        return True
    retry_soon = outcome == "failed" and transient
    next_due = now if retry_soon or target.kind != "page" else recheck
    store.mark_failed(target, outcome, reason, now=now, run_id=run_id, next_due=next_due)
    return False
