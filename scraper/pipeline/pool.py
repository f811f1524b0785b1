"""Where extraction runs: a process pool sized to the cores, or this process when a pool cannot start.

Input: Pages. Output: Articles / Analyses, awaited from the event loop, so fetching goes on while
workers parse (bs4/lxml work is CPU-bound and holds the GIL). Settings: crawl.workers (0: one
worker per core). The Config goes to each worker once, through the pool initializer.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import select
import signal
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..archive.read import ArchivedResponse
from ..config import Config
from ..models import Article, Page
from .steps import Analysis, analyze_item, extract_page

logger = logging.getLogger(__name__)

_worker_cfg: Config | None = None
_worker_started: Any = None  # the shared array of page start times (see Extractor)
# How often a worker checks that the crawl is still alive, where pidfd_open is missing (not Linux).
_PARENT_POLL_S = 1.0
# Pages handed to the pool per worker: the second waits in the pool's queue, so a worker never
# idles while the event loop answers the first and sends the next. With one page per worker the
# crawl bench lost about 9 % (crawl_bench --pages 1000: 35.4 pages/s against 38.8 before).
PAGES_PER_WORKER = 2
# How long to wait for a killed worker to be reaped (SIGKILL: at once, barring a hung kernel).
KILL_JOIN_S = 2.0


def _init_worker(cfg: Config, parent: int, started: Any) -> None:
    global _worker_cfg, _worker_started
    _worker_cfg, _worker_started = cfg, started
    # Ctrl-C reaches the whole process group: the crawl stops its workers itself (Extractor.terminate),
    # and a KeyboardInterrupt raised in a worker would come back as a page's result.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), name="watch-parent", daemon=True).start()


def _exit_with(parent: int) -> None:
    """End this worker when the crawl process ends, however it ends.

    After a kill -9 of the crawl nobody sends the pool's stop sentinel, and a worker waits on its
    task queue forever (it holds both ends of that pipe itself).
    """
    try:
        fd = os.pidfd_open(parent)
    except (AttributeError, OSError):
        while True:
            time.sleep(_PARENT_POLL_S)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # alive, or its pid reused by another user's process
                continue
    select.select([fd], [], [])
    os._exit(1)


def _analyze_in_worker(
    page: Page | ArchivedResponse, want_article: bool | None, follow: bool, slot: int
) -> Analysis:
    assert _worker_cfg is not None, "worker started without its config"
    _worker_started[slot] = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
    return analyze_item(page, _worker_cfg, want_article, follow)


class Extractor:
    """Runs analyze_page / extract_page off the event loop; use as a context manager.

    With worker processes, each page gets extract.time_limit seconds from the moment a worker starts
    it (the worker writes that moment into a shared array, one slot per page in the pool, so
    neither a worker's start-up nor a wait in the pool's queue counts): a page over the limit is
    answered "over time", and since a running task cannot be cancelled, the pool is replaced (its
    processes killed, a new pool started); the other pages that were in the old pool are submitted
    again. Extraction in a thread (processes=0, or when no process can start) has no time limit: a
    thread cannot be stopped.
    """

    def __init__(self, cfg: Config, processes: int) -> None:
        """processes: worker processes; 0 runs extraction in a thread of this process."""
        self.cfg = cfg
        self.processes = processes
        self.time_limit = cfg.extract.time_limit
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._busy: asyncio.Semaphore | None = None
        size = max(1, processes) * PAGES_PER_WORKER
        self._started: Any = _context().Array("d", size, lock=False) if processes > 0 else None
        self._free_slots = list(range(size))

    def __enter__(self) -> Extractor:
        if self.processes > 0:
            try:
                self._pool = self._start_pool()
            except (OSError, ValueError, NotImplementedError) as exc:
                self._fall_back(exc)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _start_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=_context(),
            initializer=_init_worker,
            initargs=(self.cfg, os.getpid(), self._started),
        )

    @property
    def workers(self) -> int:
        """How many pages can be extracted at once."""
        return self.processes if self._pool is not None else 1

    def terminate(self) -> None:
        """Stop the worker processes now (the run is ending: a signal, crawl.max_run_time)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            _kill(pool)

    async def analyze(
        self, page: Page | ArchivedResponse, want_article: bool | None, follow: bool
    ) -> Analysis:
        """analyze_page() in a worker process (or a thread, without a pool).

        An archived response is decoded into its Page there too (steps.analyze_item).
        """
        if self._busy is None:
            self._busy = asyncio.Semaphore(len(self._free_slots))
        while (pool := self._pool) is not None:
            async with self._busy:
                if pool is not self._pool:
                    continue  # replaced while this page waited
                try:
                    return await self._analyze_in(pool, page, want_article, follow)
                except (BrokenProcessPool, OSError, PermissionError) as exc:
                    if pool is not self._pool:
                        continue  # another page's time limit replaced the pool: submit again
                    self._fall_back(exc)
        return await asyncio.to_thread(analyze_item, page, self.cfg, want_article, follow)

    async def _analyze_in(
        self,
        pool: concurrent.futures.ProcessPoolExecutor,
        page: Page | ArchivedResponse,
        want_article: bool | None,
        follow: bool,
    ) -> Analysis:
        loop = asyncio.get_running_loop()
        slot = self._free_slots.pop()  # one is free: self._busy admits no more pages than slots
        self._started[slot] = 0.0
        try:
            future = loop.run_in_executor(pool, _analyze_in_worker, page, want_article, follow, slot)
            while not (await asyncio.wait({future}, timeout=self._time_left(slot)))[0]:
                if self._time_left(slot) <= 0:
                    return self._over_time(pool, page)
            return future.result()
        finally:
            self._free_slots.append(slot)

    def _time_left(self, slot: int) -> float:
        """Seconds the page in slot has left; the whole limit while no worker has started it."""
        started = self._started[slot]
        return self.time_limit if not started else started + self.time_limit - time.monotonic()

    def _over_time(
        self, pool: concurrent.futures.ProcessPoolExecutor, page: Page | ArchivedResponse
    ) -> Analysis:
        self._replace(pool)
        reason = f"extraction over extract.time_limit ({self.time_limit:g} s)"
        url = page.final_url if isinstance(page, Page) else page.url
        logger.debug("%s: %s; extraction workers replaced", url, reason)
        return Analysis(None, reason, over_time=True)

    def _replace(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        """Kill a pool whose worker is stuck on a page and start a new one in its place."""
        if pool is self._pool:
            try:
                self._pool = self._start_pool()
            except (OSError, ValueError, NotImplementedError) as exc:
                self._fall_back(exc)
        _kill(pool)

    async def extract(self, page: Page) -> Article:
        """extract_page() off the event loop (a thread: `ingest` handles a few pages at a time)."""
        return await asyncio.to_thread(extract_page, page, self.cfg)

    def _fall_back(self, exc: BaseException) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:  # concurrent calls see the same broken pool: warn once
            logger.warning("cannot use extraction worker processes (%s); extracting in this process", exc)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _kill(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Kill a pool's processes at once; its pending futures fail with BrokenProcessPool.

    ProcessPoolExecutor has no public way to stop a running task, so this reads its process table.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(KILL_JOIN_S)


def _context() -> Any:
    """spawn: forking a process that runs threads can deadlock, and a forkserver outlives a killed crawl.

    Workers are then children of the crawl itself, and each watches it (_exit_with).
    """
    return multiprocessing.get_context("spawn")


def default_processes(setting: int) -> int:
    """crawl.workers, where 0 means one per CPU core this process may use."""
    if setting > 0:
        return setting
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
