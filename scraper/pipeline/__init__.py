"""The only package that knows the stage order: discover -> fetch -> extract -> dedupe/store.

Input: URLs (ingest) or the configured sources (run_crawl), and a Config. Output: a RunReport or a
CrawlReport, plus one UrlResult per URL handed to an optional callback as soon as it is known (the
CLI prints them). Settings: fetch (client, retries, limits), extract.min_chars, crawl (concurrency,
politeness, recheck_after, workers), sources (scope, depth, page budget, per-site rules).
This package is the only place that catches ScraperError, and the only one that catches every
Exception: once per URL (its failure boundary), it logs the outcome at INFO, records it in the fetch
log and the report (a non-ScraperError as outcome "error", counted apart: a bug) and moves on.
StorageError and BaseException (KeyboardInterrupt, cancellation) still end the run.

`ingest` extracts in a thread, so extract.time_limit does not apply to it: a thread cannot be
stopped, and a worker process would cost every `scraper ingest URL` a process start (about a
second); ingest is a one-off command that Ctrl-C ends. The crawl extracts in worker processes.

    steps.py     per-page work shared by ingest and crawl (extract, analyse links, save, classify)
    pool.py      the extraction process pool
    crawl.py     run_crawl: the run, its scheduler over host lanes, signals and budgets
    claims.py    run_crawl on PostgreSQL: one of many workers, URLs claimed from the shared frontier
    pages.py     a crawl's fetched page, sitemap or feed: store the article, queue the links
    outcomes.py  a crawl's per-URL bookkeeping: failures, bugs, counts, events
    archived.py  ingest --warc / --files: archived responses and saved pages, through the pool
What to fetch next (discovery, robots.txt, scope, host lanes, frontier policy) is scraper/crawl's;
all SQL is scraper/store's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from .. import store
from ..config import Config
from ..errors import NoArticleFound, ScraperError, StorageError
from ..fetch import Fetcher, make_client
from ..models import Page, RunReport
from .archived import Filters, ingest_archives, ingest_files, read_url_map, saved_page
from .crawl import run_crawl
from .pool import Extractor
from .reextract import reextract
from .results import UrlResult, tally
from .steps import describe_bug, extract_page, failure_outcome, now_utc, open_archive, save_page

__all__ = [
    "Filters",
    "UrlResult",
    "extract_page",
    "fetch_one",
    "ingest",
    "ingest_archives",
    "ingest_files",
    "read_url_map",
    "reextract",
    "run_crawl",
    "saved_page",
]

logger = logging.getLogger(__name__)

Callback = Callable[[UrlResult], None]


def ingest(urls: Iterable[str], cfg: Config, *, on_result: Callback | None = None) -> RunReport:
    """Fetch, extract and store each URL once; never raises for a single bad URL."""
    return asyncio.run(_ingest(list(urls), cfg, on_result))


# Write units per commit of `scraper ingest URL...`: each URL's outcome is durable as soon as it is
# printed (a few URLs, fetched over the network: the commits cost nothing beside the fetches).
INGEST_UNITS = 1


async def _ingest(urls: list[str], cfg: Config, on_result: Callback | None) -> RunReport:
    report = RunReport()
    archive = open_archive(cfg)  # first: an unusable archive folder is refused before the database opens
    writer = store.open_writer(cfg.storage.path, max_units=INGEST_UNITS, max_seconds=0.0)
    limit = asyncio.Semaphore(cfg.crawl.concurrency)
    try:
        async with make_client(cfg.fetch) as client:
            fetcher = Fetcher(
                cfg.fetch, client, archive=archive, archive_resources=cfg.storage.archive_resources
            )
            with Extractor(cfg, processes=0) as extractor:

                async def one(url: str) -> None:
                    async with limit:
                        result = await _process(url, cfg, fetcher, extractor, writer)
                    tally(report, result)
                    if on_result:
                        on_result(result)

                await asyncio.gather(*(one(u) for u in dict.fromkeys(urls)))
    finally:
        if archive is not None:
            archive.close()
        writer.close()
    return report


async def _process(
    url: str, cfg: Config, fetcher: Fetcher, extractor: Extractor, writer: store.CorpusWriter
) -> UrlResult:
    """One URL of an ingest, inside the failure boundary: whatever goes wrong costs this URL only.

    A ScraperError is recorded with its reason; any other exception (a bug, or a library raising
    what it should not) is recorded as outcome "error" with its type and message, logged with its
    traceback at -v. StorageError still stops the run: the database is gone for every URL.
    """
    now = now_utc()
    try:
        page = await fetcher.fetch(url)
        article = await extractor.extract(page)
        if article.page_kind == "listing":  # a menu or index of links is not an article (issue 9)
            raise NoArticleFound(f"no article at {page.final_url}: a listing page, links and no article text")
        with writer.write():  # one unit, committed at its end (INGEST_UNITS)
            saved = save_page(writer, page, article, cfg)
            writer.log_fetch(url, page.status, None, now, saved.outcome.value)
    except StorageError:
        raise
    except ScraperError as exc:
        outcome, status = failure_outcome(exc)
        text = str(exc).removeprefix(f"{outcome} ")
        logger.info("%s %s", outcome, text if url in text else f"{url}: {text}")
        with writer.write():
            writer.log_fetch(url, status, str(exc), now, outcome)
        return UrlResult(url, outcome, reason=str(exc))
    except Exception as exc:  # the per-URL failure boundary
        reason = f"error: {describe_bug(exc)}"
        logger.info("error %s: %s", url, describe_bug(exc), exc_info=exc)
        with writer.write():
            writer.log_fetch(url, None, reason, now, "error")
        return UrlResult(url, "error", reason=reason)
    logger.info("%s %s", saved.outcome.value, url)
    return UrlResult(url, saved.outcome.value, article.title, article_id=saved.article_id)


async def fetch_one(url: str, cfg: Config) -> Page:
    """Fetch one page with the configured client (used by `scraper extract URL`)."""
    async with make_client(cfg.fetch) as client:
        return await Fetcher(cfg.fetch, client).fetch(url)
