"""A crawl run as one of many workers on PostgreSQL: URLs come from claims, not from a local queue.

Input: the Config (storage.path a postgresql:// URL, dedupe.near off), the sources, a worker name.
Output: a CrawlReport; articles, frontier rows, fetch_log rows and this worker's `runs` row in the
shared database. Settings: those of crawl.py; fetch.deadline and extract.time_limit size the lease.

The run is crawl.py's, with one difference in scheduling: instead of loading what is due and
driving one lane per host, the worker claims due URLs from the shared frontier (store/pg: at most
one URL per free host, under a lease), up to crawl.concurrency at a time, fetches each (robots.txt
first, from the shared cache or fetched), gives the host back with release() as soon as the response
is read (no request starts there before the end of this one plus the host's delay, for every
worker), then stores the page as crawl.py does. Links go into the shared frontier, where any worker
may claim them. A worker stops when nothing is left to claim in this crawl round (no due URL of its
sources, leased or not, that was not fetched since the round began), when its page budget is spent,
after crawl.max_run_time, or on SIGTERM/SIGINT; URLs it claimed but did not finish are given back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
from collections.abc import Iterable

from ..config import Config, Source
from ..crawl.hosts import Lane
from ..errors import ConfigError, StorageError
from ..models import CrawlReport, Page, Resource, Target
from ..store.pg.crawlstore import PgCrawlStore
from ..store.pg.frontier import Claim
from .crawl import Callback, _crawl, _Crawler
from .steps import now_utc, refuse_near_on_postgres

logger = logging.getLogger(__name__)

# How often a worker with nothing to claim looks again: other workers' pages add links, and hosts
# come free when their gap ends. Ten claims a second per idle worker cost the database little.
CLAIM_POLL_S = 0.1
# A host whose robots.txt is unreachable, or that timed out HOST_MAX_TIMEOUTS times in a row, is
# skipped by every worker for this long (on SQLite: for the rest of the run): about one cron slot.
HOST_SKIP = dt.timedelta(minutes=15)
# A claim covers robots.txt and the page (two fetch.deadline at most), extraction
# (extract.time_limit) and the write; this much more covers a slow write on a loaded machine.
LEASE_MARGIN_S = 10.0


def lease_for(cfg: Config) -> dt.timedelta:
    """How long a claim holds its URL and host: past it, the worker is taken for dead."""
    seconds = 2 * cfg.fetch.deadline + cfg.extract.time_limit + LEASE_MARGIN_S
    return dt.timedelta(seconds=seconds)


def default_worker() -> str:
    """host:pid, unique among running workers."""
    return f"{socket.gethostname()}:{os.getpid()}"


def crawl_on_postgres(
    cfg: Config,
    sources: list[Source],
    max_pages: int | None,
    on_event: Callback | None,
    *,
    dry_run: bool,
    worker: str | None,
) -> CrawlReport:
    """run_crawl() on PostgreSQL, as one worker.

    Raises:
        ConfigError: dedupe.near is not off, or a dry run was asked for.
        CrawlLocked: another process runs under this worker name.
        StorageError: the database failed.
    """
    refuse_near_on_postgres(cfg)
    if dry_run:
        raise ConfigError("--dry-run is not available on PostgreSQL yet; run it on a SQLite database")
    crawl_store = PgCrawlStore.open(cfg.storage.path, worker or default_worker())
    return asyncio.run(
        _crawl(cfg, sources, max_pages, on_event, crawl_store, dry_run=False, crawler=_PgCrawler)
    )


class _PgCrawler(_Crawler):
    """crawl._Crawler whose URLs come from claims on the shared frontier."""

    store: PgCrawlStore

    def _init_claims(self) -> None:
        self.lease = lease_for(self.cfg)
        self.wake = asyncio.Event()
        self.in_flight = 0
        self.since = now_utc()
        # URLs claimed and not yet stored or given back, and those whose host is not released yet
        self.held: dict[str, Claim] = {}
        self.host_held: set[str] = set()

    async def run(self, sources: list[Source], max_pages: int | None) -> None:
        """Queue the sources' start URLs, then claim and crawl until the round's work is done (or stopped)."""
        self._init_claims()
        signals = self._catch_signals()
        try:
            self._add_start_urls(sources, max_pages)
            self.since = self.store.round_start(self.run_id, within=self.lease)
            self.pending += 1  # the claim loop itself: the run is idle when it ends
            self._spawn(self._claim_loop())
            await self._wait()
        finally:
            self._give_back_all()
            for signum in signals:
                asyncio.get_running_loop().remove_signal_handler(signum)
        if self.error is not None:
            raise self.error

    def _add_start_urls(self, sources: Iterable[Source], max_pages: int | None) -> None:
        now = now_utc()
        for source in sources:
            with self.store.write():
                self._add_seeds(source, max_pages, now)

    def _schedule(self, target: Target) -> None:
        """A new link or sitemap is in the shared frontier already: look for claims now."""
        self.wake.set()

    async def _claim_loop(self) -> None:
        try:
            while not self.stopping:
                claims = self._claim_some()
                for claim in claims:
                    self.held[claim.target.url] = claim
                    self.host_held.add(claim.target.url)
                    self.in_flight += 1
                    self.pending += 1
                    self.seen.add(claim.target.url)
                    self._spawn(self._crawl_claim(claim))
                if claims:
                    continue
                if self.in_flight == 0 and not self._work_left():
                    return
                self.wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), CLAIM_POLL_S)
        finally:
            self._done()

    def _open_sources(self) -> list[str]:
        return [name for name, left in self.budget.items() if left > 0]

    def _claim_some(self) -> list[Claim]:
        """Claim what fits in crawl.concurrency; URLs past a source's page budget are given back."""
        free, names = self.cfg.crawl.concurrency - self.in_flight, self._open_sources()
        if free <= 0 or not names:
            return []
        claims = self.store.claim(
            names, limit=free, recheck_after=self.cfg.crawl.recheck_after, lease=self.lease, since=self.since
        )
        kept = []
        for claim in claims:
            target = claim.target
            if target.kind in ("seed", "page"):
                if self.budget[target.source] <= 0:
                    self.store.unclaim(target.url)
                    self.store.release(claim.host, delay=0.0)
                    continue
                self.budget[target.source] -= 1
            kept.append(claim)
        return kept

    def _work_left(self) -> bool:
        names = self._open_sources()
        return (
            bool(names)
            and self.store.pending(names, recheck_after=self.cfg.crawl.recheck_after, since=self.since) > 0
        )

    def _lane(self, claim: Claim) -> Lane:
        """This worker's Lane for the claim's host: its robots.txt policy and delay (hosts holds the gap)."""
        lane = self.lanes.get(claim.host)
        if lane is None:
            scope = self.scopes.get(claim.target.source)
            delay = scope.source.per_host_delay if scope is not None else None
            lane = self.lanes[claim.host] = Lane(
                claim.host, self.cfg.crawl.per_host_delay if delay is None else delay
            )
        return lane

    async def _crawl_claim(self, claim: Claim) -> None:
        """Fetch a claimed URL, give its host back, store the page; if stopped first, give the URL back."""
        target, lane = claim.target, self._lane(claim)
        try:
            result = await self._fetch_claimed(lane, claim)
            self._give_back(claim, url=False, delay=lane.delay)  # the gap starts when the response is read
            if result is None:  # marked skipped (disallowed), or given back below (host skipped)
                self._done()
            else:
                self._count_timeouts(lane, result)
                await self._finish(target, result)
                self.held.pop(target.url, None)  # its frontier row is marked: the lease has ended
        finally:
            self.in_flight -= 1
            self.wake.set()
            self._give_back(claim, delay=lane.delay)  # nothing when it was stored or given back

    def _give_back(self, claim: Claim, *, url: bool = True, delay: float) -> None:
        """Release the claim's host (once), and unless url=False the URL too if it is still held."""
        if claim.target.url in self.host_held:
            self.host_held.discard(claim.target.url)
            self.store.release(claim.host, delay=delay)
        if url and self.held.pop(claim.target.url, None) is not None:
            self.store.unclaim(claim.target.url)

    def _give_back_all(self) -> None:
        """Give back what the run holds still: claims whose task was cancelled before it began."""
        try:
            for claim in list(self.held.values()):
                lane = self.lanes.get(claim.host)
                self._give_back(claim, delay=lane.delay if lane is not None else 0.0)
        except StorageError as exc:  # the run is ending anyway; the leases lapse on their own
            logger.warning("could not give back %d claimed URLs: %s", len(self.held), exc)

    async def _fetch_claimed(self, lane: Lane, claim: Claim) -> Page | Resource | Exception | None:
        """The claimed URL's fetch result; None when robots.txt (or a skipped host) forbids the fetch."""
        target = claim.target
        if not await self._allowed_safely(lane, target):
            if lane.state in ("skip", "backoff"):
                self.store.back_off(lane.origin, now_utc() + HOST_SKIP, lane.why)
            return None
        await asyncio.sleep(max(0.0, lane.ready_at - asyncio.get_running_loop().time()))  # after robots.txt
        await self.slots.acquire()
        async with self.limit:
            return await self._fetch(target)

    def _count_timeouts(self, lane: Lane, result: Page | Resource | Exception) -> None:
        """crawl._Crawler's, and a host backed off here is backed off for every worker."""
        before = lane.state
        super()._count_timeouts(lane, result)
        if lane.state == "backoff" and before != "backoff":
            self.store.back_off(lane.origin, now_utc() + HOST_SKIP, lane.why)


__all__ = ["CLAIM_POLL_S", "HOST_SKIP", "LEASE_MARGIN_S", "crawl_on_postgres", "default_worker", "lease_for"]
