"""What a crawl records per URL outcome: frontier state, fetch_log row, counts, reasons, events.

Input: a Target and how it ended (a ScraperError, a bug, or a stored page). Output: frontier rows
(failed, skipped or parked with the reason), fetch_log rows, the CrawlReport's counts and reasons,
one INFO log line and one UrlResult per URL. Settings: crawl.recheck_after. The _Crawler of
crawl.py is an Outcomes: this module holds its bookkeeping, crawl.py its scheduling.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from ..config import Config
from ..crawl import frontier
from ..errors import ScraperError
from ..models import CrawlReport, Target
from ..store.crawlstore import CrawlStore
from ..urls import origin_of
from .results import UrlResult
from .steps import describe_bug, failure_outcome, now_utc, reason_kind

logger = logging.getLogger(__name__)

# run_sources is written this often during a run, so a killed run keeps its counts so far.
COUNTS_EVERY_S = 5.0
# Failures of a start URL of these kinds mean the source's host cannot be reached at all.
UNREACHABLE_KINDS = frozenset({"DNS", "connection", "timeout"})


class Outcomes:
    """Bookkeeping of one crawl run's URL outcomes (the base of crawl._Crawler)."""

    cfg: Config
    store: CrawlStore
    report: CrawlReport
    run_id: int
    on_event: Callable[[UrlResult], None] | None
    saved_counts_at: float

    def _record_failure(self, target: Target, exc: ScraperError) -> None:
        """A ScraperError ended this URL: record it; park the URL after MAX_ATTEMPTS failures in a row."""
        now = now_utc()
        outcome, status = failure_outcome(exc)
        kind, message = reason_kind(exc), str(exc)
        with self.store.write():
            parked = frontier.record_failure(
                self.store, target, outcome, message,
                status=status, now=now, run_id=self.run_id, recheck=self._recheck(now),
            )  # fmt: skip
            self.store.log_fetch(target.url, status, message, now, outcome)
        self._log_outcome(outcome, target.url, message)
        self._count(target.source, outcome)
        report = self.report.sources[target.source]
        report.note(kind)
        if parked:
            report.note("parked")
        (report.failures if outcome == "failed" else report.skips).append((target.url, message))
        if target.kind == "seed" and kind in UNREACHABLE_KINDS:
            self.report.unreachable.setdefault(origin_of(target.url), f"{kind}: {message}")
        self._emit(target, outcome, reason=message)

    def _record_bug(self, target: Target, exc: Exception, *, frontier_row: bool = True) -> None:
        """Something that is not a ScraperError (a bug) ended this URL: record it, park the URL, go on."""
        now = now_utc()
        message = describe_bug(exc)
        reason = f"error: {message}"
        with self.store.write():
            if frontier_row:
                frontier.park(self.store, target, reason, now=now, run_id=self.run_id, bug=True)
            self.store.log_fetch(target.url, None, reason, now, "error")
        # One line per URL at INFO (-v), with the traceback: a bug must be reportable.
        logger.info("error %s: %s", target.url, message, exc_info=exc)
        self._count(target.source, "error")
        report = self.report.sources[target.source]
        report.errors.append((target.url, message))
        report.note("error")
        if frontier_row:
            report.note("parked")
        self._emit(target, "error", reason=reason)

    @staticmethod
    def _log_outcome(outcome: str, url: str, message: str) -> None:
        """One INFO line per failed or skipped URL; the message often names the URL already."""
        text = message.removeprefix(f"{outcome} ")
        logger.info("%s %s", outcome, text if url in text else f"{url}: {text}")

    # -- bookkeeping -----------------------------------------------------------------------------

    def _recheck(self, now: dt.datetime) -> dt.datetime:
        return now + dt.timedelta(seconds=self.cfg.crawl.recheck_after)

    def _count(self, source: str, outcome: str, n: int = 1) -> None:
        if n:
            counts = self.report.sources[source].counts
            counts[outcome] = counts.get(outcome, 0) + n
        now = time.monotonic()
        if now - self.saved_counts_at >= COUNTS_EVERY_S and self.report.run_id is not None:
            self.saved_counts_at = now
            counts_so_far = {name: dict(r.counts) for name, r in self.report.sources.items()}
            with self.store.write():
                self.store.write_run_counts(self.report.run_id, counts_so_far)

    def _emit(
        self, target: Target, outcome: str, *, title: str | None = None, reason: str | None = None
    ) -> None:
        if outcome in ("new", "updated", "unchanged", "duplicate", "near"):
            logger.info("%s %s", outcome, target.url)
        if self.on_event is not None:
            self.on_event(UrlResult(target.url, outcome, title, reason, source=target.source))
