"""The only module that knows the stage order: fetch -> extract -> dedupe/store.

Input: URLs and a Config. Output: a RunReport, plus one UrlResult per URL
handed to an optional callback as soon as it is known (the CLI prints them).
Settings: fetch (client, retries, limits), extract.min_chars, crawl.concurrency,
sources (site names and per-site rules).
pipeline.py is the only place that catches ScraperError: once per URL, it
logs the error, records it in the fetch log and the RunReport, and moves on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import sqlite_utils

from . import store
from .config import Config, Rules
from .errors import FetchError, NoArticleFound, ScraperError, SkippedContent
from .extract import extract
from .fetch import Fetcher, make_client
from .models import Article, Page, RunReport
from .urls import host_of, same_site

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class UrlResult:
    """What happened to one URL: outcome is new/updated/unchanged/duplicate/skipped/failed."""

    url: str
    outcome: str
    title: str | None = None
    reason: str | None = None
    article_id: int | None = None


Callback = Callable[[UrlResult], None]


def ingest(urls: Iterable[str], cfg: Config, *, on_result: Callback | None = None) -> RunReport:
    """Fetch, extract and store each URL once; never raises for a single bad URL."""
    return asyncio.run(_ingest(list(urls), cfg, on_result))


async def _ingest(urls: list[str], cfg: Config, on_result: Callback | None) -> RunReport:
    report = RunReport()
    db = store.open_db(cfg.storage.path)
    limit = asyncio.Semaphore(cfg.crawl.concurrency)
    try:
        async with make_client(cfg.fetch) as client:
            fetcher = Fetcher(cfg.fetch, client)

            async def one(url: str) -> None:
                async with limit:
                    result = await _process(url, cfg, fetcher, db)
                _record(report, result)
                if on_result:
                    on_result(result)

            await asyncio.gather(*(one(u) for u in dict.fromkeys(urls)))
    finally:
        db.close()
    return report


async def _process(url: str, cfg: Config, fetcher: Fetcher, db: sqlite_utils.Database) -> UrlResult:
    now = dt.datetime.now(dt.timezone.utc)
    try:
        page = await fetcher.fetch(url)
        article = await asyncio.to_thread(extract_page, page, cfg)
        site = _site_name(page.final_url, cfg)
        saved = store.save_article(db, article, url=page.final_url, site=site, fetched_at=page.fetched_at)
        store.record_fetch(db, url, page.status, None, now)
    except SkippedContent as exc:
        return _failed(db, url, "skipped", exc, now)
    except (FetchError, NoArticleFound) as exc:
        outcome = "skipped" if isinstance(exc, NoArticleFound) else "failed"
        return _failed(db, url, outcome, exc, now)
    except ScraperError as exc:
        return _failed(db, url, "failed", exc, now)
    logger.info("%s %s", saved.outcome.value, url)
    return UrlResult(url, saved.outcome.value, article.title, article_id=saved.article_id)


def extract_page(page: Page, cfg: Config) -> Article:
    """Extract a fetched page with its source's rules; NoArticleFound when the text is too short.

    A canonical URL the page declares on another site is not trusted: it
    would let one page overwrite another site's article.
    """
    source = cfg.source_for(page.final_url)
    article = extract(page.html, page.final_url, source.rules if source else Rules())
    if len(article.text) < cfg.extract.min_chars:
        raise NoArticleFound(
            f"no article at {page.final_url}: main text has {len(article.text)} characters, "
            f"fewer than extract.min_chars ({cfg.extract.min_chars})"
        )
    if not article.url or not same_site(article.url, page.final_url):
        article = replace(article, url=page.final_url)
    return article


def _site_name(url: str, cfg: Config) -> str:
    source = cfg.source_for(url)
    return source.name if source else host_of(url).removeprefix("www.")


def _failed(
    db: sqlite_utils.Database, url: str, outcome: str, exc: ScraperError, now: dt.datetime
) -> UrlResult:
    status = exc.status if isinstance(exc, FetchError) else None
    log = logger.warning if outcome == "skipped" else logger.error
    log("%s %s: %s", outcome, url, exc)
    store.record_fetch(db, url, status, str(exc), now)
    return UrlResult(url, outcome, reason=str(exc))


def _record(report: RunReport, result: UrlResult) -> None:
    report.add(result.outcome)
    if result.outcome == "failed":
        report.failures.append((result.url, result.reason or ""))
    elif result.outcome == "skipped":
        report.skips.append((result.url, result.reason or ""))


async def fetch_one(url: str, cfg: Config) -> Page:
    """Fetch one page with the configured client (used by `scraper extract URL`)."""
    async with make_client(cfg.fetch) as client:
        return await Fetcher(cfg.fetch, client).fetch(url)
