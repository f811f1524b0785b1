"""`scraper ingest --warc` and `--files`: archived responses and saved pages into the corpus.

Input: WARC/ARC files (scraper/archive/read.py) or saved HTML files and folders, the Config and
the filters (--match, --site, --lang, --since, --until). Output: a RunReport, and one UrlResult
per record or file to the callback. Settings: fetch.max_bytes (the cap on a body), crawl.workers
(extraction processes), extract.*, dedupe.*, storage.path (a SQLite file or a postgresql:// URL).

The path is the crawl's: each record becomes a Page (url = target URI, fetched_at = the record's
date, warc = its WarcRef; decoded in the worker, steps.analyze_item), analyze_page() extracts and
prepares it in a worker process, and the main process stores it in write units (article + fetch_log
row) through a store.CorpusWriter, on SQLite or PostgreSQL, committed together: a kill at any moment
leaves whole records stored or none of one, and the next run stores the rest (what was committed is
then unchanged). Pages are stored in file order (a window of pages is in the pool at once), so which
URL of a duplicate wins does not depend on timing. Damaged records are failures (logged as warnings,
exit status 1); records that hold no page are skips (one line at -v).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .. import store
from ..archive.read import ArchivedResponse, ArchiveProblem, ArchiveSkip, iter_records
from ..config import Config
from ..encoding import decode_html
from ..errors import FetchError, SkippedContent, StorageError
from ..extract import parse_html
from ..fetch.body import GZIP_MAGIC, SNIFF_BYTES, decode_body, sniff_binary
from ..models import Page, RunReport
from ..urls import host_of
from .crawl import BATCH_PAGES, BATCH_SECONDS
from .pool import PAGES_PER_WORKER, Extractor, default_processes
from .results import UrlResult, tally
from .steps import Analysis, describe_bug, now_utc

__all__ = ["Filters", "ingest_archives", "ingest_files", "read_url_map"]

logger = logging.getLogger(__name__)

Callback = Callable[[UrlResult], None]
# Pages in flight per extraction slot: the pool holds PAGES_PER_WORKER per worker, and the rest
# wait read in the window, so a worker never waits for the reader. Pages are stored in file order,
# so a slow page at the window's head stalls the pool once the pages behind it are done: replaying
# the dev sets' extract() times through 2 workers, a window of 8 kept them busy 99.2 % of the time
# (10,000 records), 16 pages 99.8 %. A page waits as its undecoded bytes (about 300 KB).
WINDOW_PER_SLOT = 4


@dataclass(frozen=True, slots=True)
class Filters:
    """Which records to ingest: URL regex, sites (hosts), language, record date range (inclusive)."""

    match: re.Pattern[str] | None = None
    sites: tuple[str, ...] = ()
    lang: str | None = None
    since: dt.date | dt.datetime | None = None
    until: dt.date | dt.datetime | None = None

    def refuses(self, url: str, date: dt.datetime) -> str | None:
        """Why a record is filtered out before extraction, or None to keep it."""
        if self.match is not None and not self.match.search(url):
            return f"URL does not match --match {self.match.pattern!r}"
        host = host_of(url).removeprefix("www.")
        if self.sites and not any(host == s or host.endswith("." + s) for s in self.sites):
            return f"site {host} is not among --site {', '.join(self.sites)}"
        if self.since is not None and _before(date, self.since):
            return f"recorded {date.isoformat()}, before --since {self.since.isoformat()}"
        if self.until is not None and _after(date, self.until):
            return f"recorded {date.isoformat()}, after --until {self.until.isoformat()}"
        return None

    def refuses_language(self, language: str | None) -> str | None:
        """Why an extracted article is filtered out by --lang, or None to keep it."""
        if self.lang is None or (language or "").lower().split("-")[0] == self.lang.lower():
            return None
        return f"language {language or 'unknown'} is not --lang {self.lang}"


def _before(date: dt.datetime, bound: dt.date | dt.datetime) -> bool:
    return date < bound if isinstance(bound, dt.datetime) else date.date() < bound


def _after(date: dt.datetime, bound: dt.date | dt.datetime) -> bool:
    return date > bound if isinstance(bound, dt.datetime) else date.date() > bound


def ingest_archives(
    paths: Iterable[str | Path], cfg: Config, filters: Filters, on_result: Callback | None = None
) -> RunReport:
    """Extract and store the HTML responses of WARC/ARC files; never raises for a bad record."""
    return asyncio.run(_ingest(_archived_pages(paths, cfg, filters), cfg, filters, on_result))


def ingest_files(
    paths: Iterable[str | Path],
    cfg: Config,
    url_from: dict[Path, str] | None = None,
    on_result: Callback | None = None,
    filters: Filters | None = None,
) -> RunReport:
    """Extract and store saved HTML files (folders walked in sorted order, .gz read by content)."""
    chosen = filters or Filters()
    pages = _file_pages(paths, cfg, url_from or {}, chosen)
    return asyncio.run(_ingest(pages, cfg, chosen, on_result))


# One unit of work: a page or an archived response to extract (decoded in the worker: see
# steps.analyze_item), or a result already known (skip, problem, filtered).
_Item = Page | ArchivedResponse | UrlResult


def _archived_pages(paths: Iterable[str | Path], cfg: Config, filters: Filters) -> Iterator[_Item]:
    for path in paths:
        for item in iter_records(path, max_bytes=cfg.fetch.max_bytes, db_path=cfg.storage.path):
            if isinstance(item, ArchiveProblem):
                logger.warning("%s", item)
                yield UrlResult(item.file, "failed", reason=f"offset {item.offset}: {item.message}")
            elif isinstance(item, ArchiveSkip):
                logger.info("%s", item)
                yield UrlResult(
                    item.url, "skipped", reason=f"{item.reason} ({item.file}: offset {item.offset})"
                )
            elif (why := filters.refuses(item.url, item.date)) is not None:
                yield UrlResult(item.url, "filtered", reason=why)
            else:
                yield item


async def _ingest(
    items: Iterator[_Item], cfg: Config, filters: Filters, on_result: Callback | None
) -> RunReport:
    """Extract pages in the pool, a window at a time, and store them in order, in batches."""
    report = RunReport()
    writer = store.open_writer(cfg.storage.path, max_units=BATCH_PAGES, max_seconds=BATCH_SECONDS)
    window: deque[tuple[_Item, asyncio.Task[Analysis] | None]] = deque()
    try:
        with Extractor(cfg, processes=default_processes(cfg.crawl.workers)) as extractor:
            size = extractor.workers * PAGES_PER_WORKER * WINDOW_PER_SLOT
            for item in items:
                task = (
                    asyncio.ensure_future(extractor.analyze(item, None, False))
                    if isinstance(item, (Page, ArchivedResponse))
                    else None
                )
                window.append((item, task))
                await asyncio.sleep(0)  # let the pool take the page
                while len(window) > size:
                    _done(report, await _finish(*window.popleft(), writer, filters), on_result)
            while window:
                _done(report, await _finish(*window.popleft(), writer, filters), on_result)
        writer.commit()
    finally:
        for _, task in window:
            if task is not None:
                task.cancel()
        writer.close()
    return report


async def _finish(
    item: _Item, task: asyncio.Task[Analysis] | None, writer: store.CorpusWriter, filters: Filters
) -> UrlResult:
    """Store one page's article (or log why there is none); the page's failure boundary."""
    if isinstance(item, UrlResult) or task is None:
        result = item if isinstance(item, UrlResult) else UrlResult(item.url, "error")
        if result.outcome == "skipped" and result.url.startswith(("http://", "https://")):
            with writer.write():  # a record that holds no page, logged as `ingest URL` logs one
                writer.log_fetch(result.url, None, result.reason, now_utc(), "skipped")
        return result
    page, now = item, now_utc()
    try:
        analysis = await task
        if analysis.article is None or analysis.prepared is None:
            outcome = "failed" if analysis.failed else "skipped"
            reason = analysis.reason or "no article"
            with writer.write():
                writer.log_fetch(page.url, page.status, reason, now, outcome)
            logger.info("%s %s: %s", outcome, page.url, reason)
            return UrlResult(page.url, outcome, reason=reason)
        if (why := filters.refuses_language(analysis.article.language)) is not None:
            return UrlResult(page.url, "filtered", reason=why)
        with writer.write():
            saved = writer.write_article(analysis.prepared)
            writer.log_fetch(page.url, page.status, None, now, saved.outcome.value)
    except StorageError:
        raise
    except Exception as exc:  # the per-page failure boundary, as `ingest URL` has
        reason = f"error: {describe_bug(exc)}"
        logger.info("error %s: %s", page.url, describe_bug(exc), exc_info=exc)
        with writer.write():
            writer.log_fetch(page.url, page.status, reason, now, "error")
        return UrlResult(page.url, "error", reason=reason)
    logger.info("%s %s", saved.outcome.value, page.url)
    return UrlResult(page.url, saved.outcome.value, analysis.article.title, article_id=saved.article_id)


def _done(report: RunReport, result: UrlResult, on_result: Callback | None) -> None:
    tally(report, result)
    if on_result is not None:
        on_result(result)


def read_url_map(path: str | Path) -> dict[Path, str]:
    """The --url-from file: one "path<TAB>url" a line; blank lines and '#' comments skipped.

    Raises:
        ValueError: a line without a tab, or a URL that is not http(s); the message names the line.
    """
    mapping: dict[Path, str] = {}
    text = Path(path).read_text(encoding="utf-8-sig")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        file, tab, url = line.partition("\t")
        if not tab or not url.strip().startswith(("http://", "https://")):
            raise ValueError(f"{path}, line {number}: expected 'path<TAB>http(s) URL', got {line[:80]!r}")
        mapping[Path(file.strip()).resolve()] = url.strip()
    return mapping


def _walk(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Each file given, and every file under each folder given (sorted, recursive)."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def _file_pages(
    paths: Iterable[str | Path], cfg: Config, url_from: dict[Path, str], filters: Filters
) -> Iterator[_Item]:
    for path in _walk(paths):
        try:
            item = _file_page(path, cfg, url_from)
        except OSError as exc:
            logger.warning("%s: cannot read it: %s", path, exc.strerror)
            yield UrlResult(str(path), "failed", reason=f"cannot read it: {exc.strerror}")
            continue
        except SkippedContent as exc:
            logger.warning("%s: %s", path, exc)
            yield UrlResult(str(path), "skipped", reason=str(exc))
            continue
        if isinstance(item, Page) and (why := filters.refuses(item.url, item.fetched_at)) is not None:
            item = UrlResult(item.url, "filtered", reason=why)
        yield item


def _file_page(path: Path, cfg: Config, url_from: dict[Path, str]) -> _Item:
    """A saved page as a Page (fetched_at: the file's mtime), or why it cannot be one."""
    cap = cfg.fetch.max_bytes
    with path.open("rb") as fh:
        data = saved_page(str(path), fh.read(cap + 1), cap)
    shown = str(path)
    html, encoding = decode_html(data)
    url = url_from.get(path.resolve()) or canonical_of(html)
    if url is None:
        reason = (
            "no URL for this page: it declares no canonical URL (<link rel=canonical> or og:url); "
            "give one with --url-from FILE (lines 'path<TAB>url')"
        )
        logger.warning("%s: %s", path, reason)
        return UrlResult(shown, "skipped", reason=reason)
    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)
    return Page(url, url, 200, "text/html", html, encoding, mtime)


def saved_page(name: str, data: bytes, cap: int) -> bytes:
    """A saved page's HTML bytes: gunzipped when gzip (by content, not name), at most cap bytes.

    Raises:
        SkippedContent: the page is empty, over the cap, binary (a PNG, a PDF, a ZIP...) or
            corrupt gzip; the message is the problem alone.
    """
    gz = data.startswith(GZIP_MAGIC)
    if gz:
        try:
            data = decode_body(name, data, "gzip", cap)
        except FetchError as exc:  # SkippedContent too: the messages name a GET, not a file
            problem = str(exc).split(" failed: ")[-1].replace("body", "file")
            raise SkippedContent(name, f"cannot read it: {problem}") from exc
    if len(data) > cap:
        raise SkippedContent(name, f"larger than fetch.max_bytes ({cap} bytes); raise it to read it")
    if not data.strip():
        raise SkippedContent(name, "nothing in it" + (" once gunzipped (cut short?)" if gz else ""))
    binary = sniff_binary(data[:SNIFF_BYTES])
    if binary is not None:
        raise SkippedContent(name, f"refused: the file is {binary}, not an HTML page")
    return data


def canonical_of(html: str) -> str | None:
    """The absolute http(s) URL a page declares for itself: <link rel=canonical>, else og:url."""
    tree = parse_html(html)
    if tree is None:
        return None
    found: dict[str, str] = {}
    for element in tree.iter("link", "meta"):
        rel = (element.get("rel") or "").lower().split()
        if element.tag == "link" and "canonical" in rel:
            found.setdefault("canonical", (element.get("href") or "").strip())
        elif element.tag == "meta" and (element.get("property") or "").lower() == "og:url":
            found.setdefault("og", (element.get("content") or "").strip())
    for key in ("canonical", "og"):
        if found.get(key, "").startswith(("http://", "https://")):
            return found[key]
    return None
