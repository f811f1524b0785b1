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
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..config import Config
from ..models import Article, Page
from .steps import Analysis, analyze_page, extract_page

logger = logging.getLogger(__name__)

_worker_cfg: Config | None = None
# How often a worker checks that the crawl is still alive, where pidfd_open is missing (not Linux).
_PARENT_POLL_S = 1.0


def _init_worker(cfg: Config, parent: int) -> None:
    global _worker_cfg
    _worker_cfg = cfg
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


def _analyze_in_worker(page: Page, want_article: bool | None, follow: bool) -> Analysis:
    assert _worker_cfg is not None, "worker started without its config"
    return analyze_page(page, _worker_cfg, want_article, follow)


class Extractor:
    """Runs analyze_page / extract_page off the event loop; use as a context manager."""

    def __init__(self, cfg: Config, processes: int) -> None:
        """processes: worker processes; 0 runs extraction in a thread of this process."""
        self.cfg = cfg
        self.processes = processes
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> Extractor:
        if self.processes > 0:
            try:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=_context(),
                    initializer=_init_worker,
                    initargs=(self.cfg, os.getpid()),
                )
            except (OSError, ValueError, NotImplementedError) as exc:
                self._fall_back(exc)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    @property
    def workers(self) -> int:
        """How many pages can be extracted at once."""
        return self.processes if self._pool is not None else 1

    async def analyze(self, page: Page, want_article: bool | None, follow: bool) -> Analysis:
        """analyze_page() in a worker process (or a thread, without a pool)."""
        if self._pool is not None:
            loop = asyncio.get_running_loop()
            try:
                return await loop.run_in_executor(self._pool, _analyze_in_worker, page, want_article, follow)
            except (BrokenProcessPool, OSError, PermissionError) as exc:
                self._fall_back(exc)
        return await asyncio.to_thread(analyze_page, page, self.cfg, want_article, follow)

    async def extract(self, page: Page) -> Article:
        """extract_page() off the event loop (a thread: `ingest` handles a few pages at a time)."""
        return await asyncio.to_thread(extract_page, page, self.cfg)

    def _fall_back(self, exc: BaseException) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:  # concurrent calls see the same broken pool: warn once
            logger.warning("cannot use extraction worker processes (%s); extracting in this process", exc)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


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
