"""Host lanes and politeness: one Lane per origin, its robots.txt, its delay, its timeouts.

Input: a host's robots.txt (cached in the database for 24 h, else fetched) and the outcome of each
fetch. Output: a Lane per host with its policy, its delay (max of crawl.per_host_delay and the
capped Crawl-delay) and whether the host is skipped this run (robots.txt unreachable: 5xx, 429,
timeout) or backed off (HOST_MAX_TIMEOUTS timeouts in a row). Settings: crawl (obey_robots,
per_host_delay, max_crawl_delay).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import deque

from ..config import Config
from ..errors import FetchError
from ..fetch import Fetcher
from ..models import Target
from ..store.crawlstore import CrawlStore
from ..urls import canonicalize_url
from .robots import RobotsPolicy, policy_from_response

logger = logging.getLogger(__name__)

ROBOTS_ACCEPT = "text/plain,*/*;q=0.1"
# A host whose requests time out this many times in a row is backed off for the rest of the run: a
# host dripping one byte a second costs fetch.deadline per URL, one URL after another, and would
# make the run overlap the next cron slot.
HOST_MAX_TIMEOUTS = 2


class Lane:
    """One host (origin): its queue, robots.txt policy and when the next request may start."""

    __slots__ = (
        "base_delay", "delay", "origin", "policy", "queue", "ready_at", "running", "state", "timeouts", "why",
    )  # fmt: skip

    def __init__(self, origin: str, delay: float) -> None:
        """delay: the source's per_host_delay (else crawl.per_host_delay); Crawl-delay may raise it."""
        self.origin = origin
        self.queue: deque[Target] = deque()
        self.running = False
        self.ready_at = 0.0
        self.base_delay = delay
        self.delay = delay
        self.policy: RobotsPolicy | None = None
        self.state = "unknown"  # unknown, ok, skip (robots.txt unreachable) or backoff (timeouts)
        self.why = ""  # why the host is skipped or backed off this run
        self.timeouts = 0  # requests that timed out in a row

    def note_fetch(self, *, timed_out: bool) -> bool:
        """Count timeouts in a row; True when this one backs the host off for the rest of the run."""
        if not timed_out:
            self.timeouts = 0
            return False
        self.timeouts += 1
        if self.timeouts >= HOST_MAX_TIMEOUTS and self.state == "ok":
            self.state = "backoff"
            self.why = f"host backed off after {self.timeouts} timeouts"
            return True
        return False


async def load_robots(
    lane: Lane,
    cfg: Config,
    crawl_store: CrawlStore,
    fetcher: Fetcher,
    limit: asyncio.Semaphore,
    *,
    now: dt.datetime,
) -> list[str]:
    """Set lane.state, policy and delay from robots.txt (RFC 9309); returns the sitemaps it names.

    The fetch takes one of the run's request slots (limit) and counts as a request to the host.
    Answers that mean something (2xx, 4xx) are cached; 5xx, 429 and network errors are not, and
    skip the host for this run (lane.why says why). Every fetch is logged in fetch_log.
    """
    crawl = cfg.crawl
    lane.state = "ok"
    if not crawl.obey_robots:
        return []
    cached = crawl_store.cached_robots(lane.origin, now=now)
    status: int | None
    if cached is not None:
        status, body = cached
    else:
        status, body, error = await _fetch_robots(lane, cfg, fetcher, limit)
        answered = status is not None and status < 500 and status != 429  # an answer that means something
        with crawl_store.write():
            if answered and status is not None:  # (mypy: answered implies a status)
                crawl_store.save_robots(lane.origin, status, body, now=now)
            outcome = "listing" if answered else "failed"
            crawl_store.log_fetch(lane.origin + "/robots.txt", status, error, now, outcome)
    agent = fetcher.cfg.user_agent.split("/", 1)[0].strip() or "*"  # the source's own agent, if set
    policy = policy_from_response(status, body, agent)
    if policy is None:
        lane.why = f"robots.txt unreachable ({error or f'HTTP {status}'})"
        logger.info("skipping %s this run: %s", lane.origin, lane.why)
        lane.state = "skip"
        return []
    lane.policy = policy
    lane.delay = max(lane.base_delay, policy.crawl_delay(crawl.max_crawl_delay) or 0.0)
    if cached is None:  # the robots.txt request itself counts: keep the delay after it too
        lane.ready_at += lane.delay - lane.base_delay
    return [canonicalize_url(url) for url in policy.sitemaps()]


async def _fetch_robots(
    lane: Lane, cfg: Config, fetcher: Fetcher, limit: asyncio.Semaphore
) -> tuple[int | None, bytes, str | None]:
    """(status, body, the error message of a failed fetch) of the lane's robots.txt."""
    loop = asyncio.get_running_loop()
    async with limit:
        try:
            found = await fetcher.fetch_bytes(lane.origin + "/robots.txt", accept=ROBOTS_ACCEPT)
            return found.status, found.body, None
        except FetchError as exc:
            return exc.status, b"", str(exc)
        finally:
            lane.ready_at = loop.time() + lane.base_delay
