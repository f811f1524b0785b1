"""run_crawl: discover, politely fetch and incrementally ingest every configured source.

Input: the Config (its sources), optionally a subset of source names and a page budget. Output: a
CrawlReport; articles, frontier rows, fetch_log rows and a `runs` record in the database.
Settings: crawl (concurrency, per_host_delay, obey_robots, recheck_after, max_crawl_delay,
max_failure_ratio, workers), sources (start_urls, sitemaps, feeds, allow, deny, article_pattern,
max_depth, max_pages), fetch, extract, storage.archive* (the run's WARC writer: every fetched page is
archived before it is stored, and the files are closed complete on every way out, SIGTERM and
crawl.max_run_time included; a dry run archives nothing).

On PostgreSQL (a postgresql:// storage.path) the run is claims.py's scheduler instead of the lanes,
as one of any number of workers. On SQLite, one run: take the lock beside the database
(CrawlLocked when another crawl holds it), make every
start page, sitemap and feed due, load due frontier rows (at most max_pages pages per source), then
fetch through one lane per host: robots.txt first (cached 24 h), one request in flight per host,
max(per_host_delay, Crawl-delay capped at max_crawl_delay) between a response and the next request,
at most crawl.concurrency requests in flight overall. Pages are analysed in the extraction pool
while other pages download; each page's outcome, its article and the links it adds are written as one
unit, and units are committed in batches of BATCH_PAGES (store.WriteBatch): a kill -9 loses whole
pages only, which the next run fetches again. Articles are stored when their URL matches
article_pattern (or, without one, when the extractor calls the page an article); other pages are
followed and never stored (pages.py). What to follow, robots.txt, lanes and when a URL is due again
are scraper/crawl's; this module orders the steps and schedules them.

Failure boundary: whatever one URL (page, robots.txt, sitemap, feed) raises while it is fetched,
decoded, parsed, extracted or stored costs that URL only (outcomes.py records it): a ScraperError
with its reason, anything else as outcome "error" (a bug: parked at once, traceback at -v, exit
status 1). StorageError still stops the run, except a StorageConflict (PostgreSQL: another worker
held the rows; the unit was rolled back), recorded against its URL. A URL failing
crawl.frontier.MAX_ATTEMPTS times in a row is parked. Budgets: a host timing out
crawl.hosts.HOST_MAX_TIMEOUTS times in a row is backed off for the rest of the run (its URLs stay
due) and reported unreachable; crawl.max_run_time, SIGTERM and SIGINT stop the run cleanly (stop());
extract.time_limit bounds each page's extraction (pool.py). The exit status and the run report come
from report.py (judge, report_data), stored in runs.report.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import time
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import Any

import httpx

from .. import store
from ..archive.write import ArchiveWriter
from ..config import Config, FetchConfig, Source, is_postgres_url
from ..crawl import frontier
from ..crawl.hosts import Lane, load_robots
from ..crawl.scope import Scope
from ..errors import ConfigError, FetchError, ScraperError, StorageConflict, StorageError
from ..fetch import Fetcher, make_client
from ..lockfile import hold_lock
from ..models import CrawlReport, Page, Resource, RunReport, Target
from ..report import SIGNAL_STATUS, judge, report_data
from ..store.crawlstore import CrawlStore, SqliteCrawlStore
from ..urls import canonicalize_url, origin_of
from .pages import Pages
from .pool import Extractor, default_processes
from .results import UrlResult
from .steps import describe_bug, now_utc, open_archive, reason_kind

logger = logging.getLogger(__name__)

Callback = Callable[[UrlResult], None]
# Pages whose writes share one transaction (see store.WriteBatch): a commit per page cost more than
# the fetch; a kill -9 makes the next run fetch at most this many pages again.
BATCH_PAGES = 32
BATCH_SECONDS = 0.5
# Page writes wait this long after each batch, so `scraper ingest` beside a crawl gets the write
# lock (SQLite's busy handler retries every 100 ms at most).
BATCH_PAUSE = 0.1
# Sitemaps may be up to 50 MB uncompressed (sitemaps.org); feeds get the page cap.
SITEMAP_MAX_BYTES = 50 * 1024 * 1024
SITEMAP_ACCEPT = "application/xml,text/xml;q=0.9,application/gzip;q=0.8,text/plain;q=0.5,*/*;q=0.1"
FEED_ACCEPT = "application/rss+xml,application/atom+xml,application/feed+json,application/xml;q=0.9,*/*;q=0.1"


def run_crawl(
    cfg: Config,
    *,
    sources: Iterable[str] | None = None,
    max_pages: int | None = None,
    dry_run: bool = False,
    on_event: Callback | None = None,
    worker: str | None = None,
) -> CrawlReport:
    """Crawl the configured sources (or the named ones) once.

    Args:
        sources: source names to crawl; None crawls all.
        max_pages: pages per source for this run, instead of each source's max_pages.
        dry_run: preview the next real run, store nothing. The real database is read (never
            written, nor locked): its frontier and robots.txt cache are copied into a throwaway
            in-memory database, so only what is due is listed (a missing file: everything is
            new). Start pages, sitemaps and feeds are fetched (and, with an article_pattern, pages
            that do not match it: listings); article pages are listed as outcome "article"
            without being fetched, and so is every page when the source has no article_pattern.
        on_event: called with a UrlResult per URL outcome.
        worker: on PostgreSQL, this worker's name (default host:pid); a second run under the same
            name is refused (CrawlLocked) while the first runs. Ignored on SQLite.

    The run ends early, cleanly (batch committed, run recorded with report.stopped) on SIGTERM or
    SIGINT (a second one exits at once) and after crawl.max_run_time.

    Raises:
        ConfigError: no sources configured, an unknown source name, or (PostgreSQL) no absolute
            storage.archive_dir while the archive is on.
        CrawlLocked: another crawl holds the database's lock (on PostgreSQL: this worker's).
        StorageError: the database failed (the run stops).
    """
    chosen = _choose_sources(cfg, sources)
    path = cfg.storage.path
    if not dry_run:
        cfg.storage.archive_path()  # an unusable archive folder is refused before the database opens
    if is_postgres_url(path):
        from .claims import crawl_on_postgres  # psycopg only when PostgreSQL is asked for

        return crawl_on_postgres(cfg, chosen, max_pages, on_event, dry_run=dry_run, worker=worker)
    if dry_run:
        return asyncio.run(
            _crawl(cfg, chosen, max_pages, on_event, _sqlite_store(_preview_db(path)), dry_run=True)
        )
    with hold_lock(path):
        return asyncio.run(
            _crawl(cfg, chosen, max_pages, on_event, _sqlite_store(store.open_db(path)), dry_run=False)
        )


def _sqlite_store(db: Any) -> SqliteCrawlStore:
    return SqliteCrawlStore(db, max_units=BATCH_PAGES, max_seconds=BATCH_SECONDS, pause=BATCH_PAUSE)


def _choose_sources(cfg: Config, names: Iterable[str] | None) -> list[Source]:
    where = cfg.path or "config"
    if not cfg.sources:
        raise ConfigError(f"{where}: sources is empty; add a source with start_urls to crawl")
    if names is None:
        return list(cfg.sources)
    known = {source.name: source for source in cfg.sources}
    wanted = list(dict.fromkeys(names))
    for name in wanted:
        if name not in known:
            raise ConfigError(f"{where}: no source named {name!r}; configured: {', '.join(known)}")
    return [known[name] for name in wanted]


async def _crawl(
    cfg: Config,
    sources: list[Source],
    max_pages: int | None,
    on_event: Callback | None,
    crawl_store: CrawlStore,
    *,
    dry_run: bool,
    crawler: type[_Crawler] | None = None,
) -> CrawlReport:
    """One run on an open CrawlStore (closed at the end); crawler: the scheduler (default _Crawler)."""
    started = time.monotonic()
    try:
        run_id = crawl_store.start_run([s.name for s in sources], started=now_utc(), pid=os.getpid())
        report = CrawlReport(run_id, {s.name: RunReport() for s in sources}, dry_run=dry_run)
        report.exit_status = 1  # until the run finishes
        archive = None if dry_run else open_archive(cfg)  # a dry run stores nothing, WARC included
        try:
            async with contextlib.AsyncExitStack() as stack:
                if archive is not None:
                    stack.callback(archive.close)  # on every way out: the files are complete
                fetchers = await _source_fetchers(cfg, sources, stack, archive)
                with Extractor(cfg, processes=default_processes(cfg.crawl.workers)) as extractor:
                    scheduler = (crawler or _Crawler)(cfg, crawl_store, fetchers, extractor, report, on_event)
                    scheduler.dry_run = dry_run
                    await scheduler.run(sources, max_pages)
            report.exit_status, report.exit_reason = judge(report, cfg.crawl.max_failure_ratio)
        finally:
            crawl_store.commit()  # the pages finished so far (a failed batch was rolled back)
            report.duration = time.monotonic() - started
            counts = {name: dict(r.counts) for name, r in report.sources.items()}
            crawl_store.finish_run(
                run_id, counts, exit_status=report.exit_status, finished=now_utc(),
                report=report_data(report), stopped=report.stopped,
            )  # fmt: skip
    finally:
        crawl_store.close()
    return report


async def _source_fetchers(
    cfg: Config, sources: list[Source], stack: contextlib.AsyncExitStack, archive: ArchiveWriter | None
) -> dict[str, Fetcher]:
    """A Fetcher per source name ("" for the fetch section's own settings), one client per proxy.

    Agent, headers and cookies are sent per request, so sources share a client (and its
    connection pool); a proxy belongs to the client, so each proxy gets its own. They share the
    run's archive writer (None: nothing archived).
    """
    clients: dict[str | None, httpx.AsyncClient] = {}

    async def client_for(fetch: FetchConfig) -> httpx.AsyncClient:
        if fetch.proxy not in clients:
            clients[fetch.proxy] = await stack.enter_async_context(make_client(fetch))
        return clients[fetch.proxy]

    resources = cfg.storage.archive_resources
    fetchers = {
        "": Fetcher(cfg.fetch, await client_for(cfg.fetch), archive=archive, archive_resources=resources)
    }
    for source in sources:
        fetch = source.fetch_config(cfg.fetch)
        fetchers[source.name] = Fetcher(
            fetch, await client_for(fetch), archive=archive, archive_resources=resources
        )
    return fetchers


def _preview_db(path: str) -> Any:
    """A throwaway database holding the real one's frontier and robots.txt cache (read-only there)."""
    db = store.open_db(":memory:")
    if path != ":memory:" and Path(path).is_file():
        store.copy_crawl_state(db, path)
    return db


class _Crawler(Pages):
    """The scheduler of one run: lanes per host, a global request limit, a bounded processing queue."""

    def __init__(
        self,
        cfg: Config,
        crawl_store: CrawlStore,
        fetchers: dict[str, Fetcher],
        extractor: Extractor,
        report: CrawlReport,
        on_event: Callback | None,
    ) -> None:
        """fetchers: one per source name (its agent, headers, cookies, proxy), "" for the fetch section."""
        self.cfg, self.store = cfg, crawl_store
        self.fetchers, self.extractor = fetchers, extractor
        self.report, self.on_event = report, on_event
        self.run_id = report.run_id or 0
        self.dry_run = False
        self.lanes: dict[str, Lane] = {}
        self.seen: set[str] = set()
        self.budget: dict[str, int] = {}
        self.scopes: dict[str, Scope] = {}
        self.pending = 0
        self.saved_counts_at = time.monotonic()
        self.idle = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        self.error: BaseException | None = None
        self.stopping = False  # a signal or crawl.max_run_time: take no new URL, cancel the rest
        self.signals = 0
        self.limit = asyncio.Semaphore(cfg.crawl.concurrency)
        # Fetched pages waiting for, or in, extraction: bounds memory however fast fetching is.
        self.slots = asyncio.Semaphore(cfg.crawl.concurrency + 2 * extractor.workers)

    # -- the run ---------------------------------------------------------------------------------

    async def run(self, sources: list[Source], max_pages: int | None) -> None:
        """Queue what is due for each source, then fetch until no work is left (or the run is stopped)."""
        signals = self._catch_signals()
        try:
            self._queue_due(sources, max_pages)
            await self._wait()
        finally:
            for signum in signals:
                asyncio.get_running_loop().remove_signal_handler(signum)
        if self.error is not None:
            raise self.error

    def _queue_due(self, sources: list[Source], max_pages: int | None) -> None:
        """Make each source's start URLs, sitemaps and feeds due, then schedule what is due."""
        now = now_utc()
        for source in sources:
            with self.store.write():
                self._add_seeds(source, max_pages, now)
                targets = frontier.due(
                    self._sqlite_db(),
                    source.name,
                    now=now,
                    recheck_after=self.cfg.crawl.recheck_after,
                    pages=self.budget[source.name],
                )
            for target in targets:
                self._schedule(target)

    def _add_seeds(self, source: Source, max_pages: int | None, now: dt.datetime) -> None:
        """Open the source's scope and page budget; make its start URLs, sitemaps and feeds due.

        Runs inside the caller's store.write(); the PostgreSQL scheduler (claims.py) calls it too.
        """
        self.scopes[source.name] = Scope(source)
        self.budget[source.name] = max_pages or source.max_pages
        for kind, urls in (("seed", source.start_urls), ("sitemap", source.sitemaps), ("feed", source.feeds)):
            keys = [canonicalize_url(url) for url in urls]
            self._count(source.name, "discovered", self.store.add_seeds(source.name, keys, kind, now=now))

    def _sqlite_db(self) -> Any:
        """The SQLite database whose frontier this scheduler reads (PostgreSQL's is claims.py's)."""
        assert isinstance(self.store, SqliteCrawlStore), "the PostgreSQL scheduler claims instead"
        return self.store.db

    async def _wait(self) -> None:
        """Until no work is left, crawl.max_run_time passes, or a signal stops the run."""
        flusher = asyncio.ensure_future(self._commit_every(BATCH_SECONDS))
        try:
            if self.pending:
                limit = self.cfg.crawl.max_run_time or None
                try:
                    await asyncio.wait_for(self.idle.wait(), limit)
                except asyncio.TimeoutError:
                    self.stop(f"crawl.max_run_time ({_duration(self.cfg.crawl.max_run_time)})")
            if self.stopping:
                await asyncio.gather(*self.tasks, return_exceptions=True)  # let cancellations land
        finally:
            flusher.cancel()

    def stop(self, reason: str) -> None:
        """End the run early: take no new URL, cancel fetches and extractions, stop the workers.

        Pages not finished stay queued in the frontier; the next run fetches them.
        """
        if self.report.stopped is None:
            self.report.stopped = reason
        self.stopping = True
        for task in list(self.tasks):
            task.cancel()
        self.extractor.terminate()
        self.idle.set()

    def _catch_signals(self) -> list[int]:
        """Stop cleanly on SIGTERM and SIGINT; returns the signals handled (none off the main thread)."""
        loop = asyncio.get_running_loop()
        handled: list[int] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, self._on_signal, signum)
            except (ValueError, RuntimeError, NotImplementedError):  # not the main thread, or Windows
                continue
            handled.append(signum)
        return handled

    def _on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        self.signals += 1
        if self.signals > 1:  # a second signal: the operator wants out now
            logger.error("%s again: exiting at once, without recording the run", name)
            self.extractor.terminate()
            os._exit(SIGNAL_STATUS.get(name, 128 + signum))
        logger.warning("%s: stopping; committing the pages done so far (again to exit at once)", name)
        self.stop(name)

    async def _commit_every(self, seconds: float) -> None:
        """Commit the open batch now and then, so pages written while the crawl waits are kept."""
        while True:
            await asyncio.sleep(seconds)
            try:
                self.store.commit()
            except ScraperError as exc:  # a StorageError: stop the run
                if self.error is None:
                    self.error = exc
                self.idle.set()
                return

    def _schedule(self, target: Target) -> None:
        if target.url in self.seen or self.stopping:
            return
        if target.kind in ("seed", "page"):
            if self.budget[target.source] <= 0:
                return  # stays queued in the frontier for the next run
            self.budget[target.source] -= 1
        self.seen.add(target.url)
        scope = self.scopes.get(target.source)
        listed = scope is not None and (scope.article is None or scope.is_article_url(target.url))
        if self.dry_run and target.kind == "page" and listed:  # listed, never fetched
            self._emit(target, "article", reason="would be fetched (dry run)")
            return
        origin = origin_of(target.url)
        lane = self.lanes.get(origin)
        if lane is None:
            delay = self.scopes[target.source].source.per_host_delay if target.source in self.scopes else None
            lane = self.lanes[origin] = Lane(
                origin, self.cfg.crawl.per_host_delay if delay is None else delay
            )
        lane.queue.append(target)
        self.pending += 1
        if not lane.running:
            lane.running = True
            self._spawn(self._drive(lane))

    def _fetcher(self, source: str) -> Fetcher:
        return self.fetchers.get(source, self.fetchers[""])

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and self.error is None:
            self.error = task.exception()  # a bug or a StorageError: stop the run, do not hang
            self.idle.set()

    def _done(self) -> None:
        self.pending -= 1
        if self.pending == 0:
            self.idle.set()

    # -- one host ------------------------------------------------------------------------------

    async def _drive(self, lane: Lane) -> None:
        """Fetch a host's queue one request at a time, then hand each response to processing."""
        loop = asyncio.get_running_loop()
        try:
            while lane.queue and not self.stopping:
                target = lane.queue.popleft()
                if not await self._allowed_safely(lane, target):
                    self._done()
                    continue
                await asyncio.sleep(max(0.0, lane.ready_at - loop.time()))
                await self.slots.acquire()
                async with self.limit:
                    try:
                        result = await self._fetch(target)
                    finally:
                        lane.ready_at = loop.time() + lane.delay
                self._count_timeouts(lane, result)
                self._spawn(self._finish(target, result))
        finally:
            lane.running = False

    def _count_timeouts(self, lane: Lane, result: Page | Resource | Exception) -> None:
        """Back a host off for the rest of the run after too many timeouts in a row (see Lane)."""
        timed_out = isinstance(result, FetchError) and reason_kind(result) == "timeout"
        if lane.note_fetch(timed_out=timed_out):
            self.report.unreachable[lane.origin] = f"{lane.why} in a row ({result})"
            logger.info("%s: %s; its other URLs wait for the next run", lane.origin, lane.why)

    async def _allowed_safely(self, lane: Lane, target: Target) -> bool:
        """_allowed inside the per-URL failure boundary (robots.txt rules meet every URL's oddities)."""
        try:
            return await self._allowed(lane, target)
        except StorageError:
            raise
        except Exception as exc:  # the failure boundary of this URL
            self._record_bug(target, exc)
            return False

    async def _allowed(self, lane: Lane, target: Target) -> bool:
        """Whether robots.txt lets us fetch target; records the skip when not."""
        if lane.state == "unknown":
            await self._load_robots_safely(lane, target.source)
        if lane.state in ("skip", "backoff"):  # stays due: the next run tries again
            self._count(target.source, "skipped")
            self.report.sources[target.source].note("robots" if lane.state == "skip" else "host backed off")
            self._emit(target, "skipped", reason=f"{lane.origin}: {lane.why}; host skipped this run")
            return False
        if lane.policy is not None and not lane.policy.allowed(target.url):
            now = now_utc()
            reason = "disallowed by robots.txt"
            with self.store.write():
                self.store.mark_failed(
                    target,
                    "skipped",
                    reason,
                    now=now,
                    run_id=self.run_id,
                    next_due=self._recheck(now),
                )
            self._count(target.source, "skipped")
            self.report.sources[target.source].note("robots")
            self._emit(target, "skipped", reason=reason)
            return False
        return True

    async def _load_robots_safely(self, lane: Lane, source: str) -> None:
        """_load_robots inside the per-URL failure boundary: a bug there skips the host, not the run."""
        try:
            await self._load_robots(lane, source)
        except StorageError:
            raise
        except Exception as exc:  # the failure boundary of the robots.txt URL
            lane.state, lane.why = "skip", f"robots.txt: {describe_bug(exc)}"
            self._record_bug(Target(lane.origin + "/robots.txt", source, "robots"), exc, frontier_row=False)
        if lane.state == "skip":
            self.report.unreachable[lane.origin] = lane.why

    async def _load_robots(self, lane: Lane, source: str) -> None:
        """Set the lane's policy and delay from robots.txt; queue the sitemaps it names."""
        fetcher = self._fetcher(source)
        sitemaps = await load_robots(lane, self.cfg, self.store, fetcher, self.limit, now=now_utc())
        if sitemaps and source in self.scopes:
            with self.store.write():
                added = self.store.add_seeds(source, sitemaps, "sitemap", now=now_utc())
            self._count(source, "discovered", added)
            for url in sitemaps:
                self._schedule(Target(url, source, "sitemap", 0))

    async def _fetch(self, target: Target) -> Page | Resource | Exception:
        etag, modified = target.etag, target.last_modified
        try:
            if target.kind in ("sitemap", "feed"):
                sitemap = target.kind == "sitemap"
                return await self._fetcher(target.source).fetch_bytes(
                    target.url,
                    accept=SITEMAP_ACCEPT if sitemap else FEED_ACCEPT,
                    max_bytes=SITEMAP_MAX_BYTES if sitemap else None,
                    etag=etag,
                    last_modified=modified,
                )
            return await self._fetcher(target.source).fetch(target.url, etag=etag, last_modified=modified)
        except Exception as exc:  # the failure boundary: _finish records it against the URL
            return exc

    # -- after the fetch -------------------------------------------------------------------------

    async def _finish(self, target: Target, result: Page | Resource | Exception) -> None:
        """Record one URL's outcome; whatever it raises is recorded against that URL (not StorageError)."""
        try:
            try:
                await self._outcome(target, result)
            except StorageConflict as exc:  # another worker held the rows: this URL waits for the next run
                self._record_failure(target, exc)
            except StorageError:
                raise
            except ScraperError as exc:
                self._record_failure(target, exc)
            except Exception as exc:  # the per-URL failure boundary: a bug costs this URL only
                self._record_bug(target, exc)
        finally:
            self.slots.release()
            self._done()

    async def _outcome(self, target: Target, result: Page | Resource | Exception) -> None:
        if isinstance(result, ScraperError):
            self._record_failure(target, result)
        elif isinstance(result, Exception):
            self._record_bug(target, result)
        elif isinstance(result, Resource):
            self._count(target.source, "fetched")
            await self._process_listing_file(target, result)
        else:
            self._count(target.source, "fetched")
            await self._process_page(target, result)


def _duration(seconds: float) -> str:
    """55m, 1h30m, 45s: how config.yaml spells crawl.max_run_time."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or f"{seconds:g}s"
