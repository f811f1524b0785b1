"""Re-extraction: archived responses run through today's extractor; a changed result is a new version.

Input: the corpus (articles whose response is archived: warc_file, warc_offset, warc_length), row
filters, a Config. Output: a RunReport and one UrlResult per article to an optional callback
("updated", "unchanged", "skipped", "failed"). Settings: storage.path (a SQLite file or a
postgresql:// URL), crawl.workers (extraction processes), extract.*, the sources' rules, dedupe.near.

Each archived record is read back (scraper/archive/read.py), rebuilt into the Page the crawl had,
extracted in the worker pool exactly as a crawl would, and compared with the stored row on the
fields extraction decides (title, text, date, author, source line, section, language). A changed
result replaces the row, the old one kept in article_versions with the extractor that produced
it; an unchanged one is left alone. Writes are short batches (a store.CorpusWriter, on SQLite or
PostgreSQL), so a crawl running beside it waits at most one batch for the lock, and a kill at any
moment loses at most the open batch: the next run checks those articles again and finds the same
result.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from .. import store
from ..archive import resolve_path
from ..archive.read import read_record
from ..config import Config
from ..errors import RecordError, StorageError
from ..models import RunReport, WriteOutcome
from ..store.read import Filters
from ..store.reextract import ArchivedArticle, extraction_changed
from .pool import Extractor, default_processes
from .results import UrlResult, tally
from .steps import now_utc

logger = logging.getLogger(__name__)

# Articles read from the database at a time (keyset pages): memory stays flat on any corpus.
READ_BATCH = 200
# Pages in the extraction pool per worker: enough to keep every worker busy while the main process
# reads records and writes results.
IN_FLIGHT_PER_WORKER = 4
# Write units per commit, and the longest a batch stays open: a crawl beside us waits at most this.
COMMIT_UNITS, COMMIT_SECONDS = 100, 1.0

Callback = Callable[[UrlResult], None]


def reextract(
    cfg: Config, filters: Filters | None = None, *, dry_run: bool = False, on_result: Callback | None = None
) -> RunReport:
    """Re-extract every archived article the filters match; dry_run reports without writing.

    Raises:
        ConfigError: near-duplicates asked for on PostgreSQL (not there yet).
        StorageError: the database failed (a write, or a periodic commit: the run stops there).
    """
    return asyncio.run(_reextract(cfg, filters or Filters(), dry_run, on_result))


async def _reextract(cfg: Config, filters: Filters, dry_run: bool, on_result: Callback | None) -> RunReport:
    report = RunReport()
    failed: list[StorageError] = []  # a periodic commit that failed: no write may follow it
    writer = store.open_writer(cfg.storage.path, max_units=COMMIT_UNITS, max_seconds=COMMIT_SECONDS)
    try:
        with Extractor(cfg, processes=default_processes(cfg.crawl.workers)) as extractor:
            limit = asyncio.Semaphore(extractor.workers * IN_FLIGHT_PER_WORKER)

            async def one(article: ArchivedArticle) -> None:
                async with limit:
                    result = await _check(article, cfg, extractor, writer, dry_run, failed)
                tally(report, result)
                if on_result is not None:
                    on_result(result)

            committer = asyncio.create_task(_commit_every(writer, COMMIT_SECONDS, failed))
            try:
                for chunk in writer.archived_articles(filters, batch=READ_BATCH):
                    await asyncio.gather(*(one(article) for article in chunk))
                    _raise_first(failed)
            finally:
                committer.cancel()
    finally:
        writer.commit()  # nothing when no unit is pending
        writer.close()
    return report


async def _commit_every(writer: store.CorpusWriter, seconds: float, failed: list[StorageError]) -> None:
    """Commit an open batch every `seconds`, so the lock is never held while only extraction runs.

    A failed commit rolled the batch back: it is kept in `failed`, and the run stops at the next
    write or chunk, so no article is reported updated whose write was lost.
    """
    while True:
        await asyncio.sleep(seconds)
        try:
            writer.commit()
        except StorageError as exc:
            failed.append(exc)
            return


def _raise_first(failed: list[StorageError]) -> None:
    if failed:
        raise failed[0]


async def _check(
    article: ArchivedArticle,
    cfg: Config,
    extractor: Extractor,
    writer: store.CorpusWriter,
    dry_run: bool,
    failed: list[StorageError],
) -> UrlResult:
    """One article: read its record, extract it again, write a new version when the result changed."""
    path = resolve_path(cfg.storage.path, article.warc.file)
    ref = article.warc
    try:
        record = read_record(path, ref.offset, ref.length, max_bytes=cfg.fetch.max_bytes)
    except RecordError as exc:
        return UrlResult(article.url, "failed", reason=str(exc), article_id=article.id)
    analysis = await extractor.analyze(record, True, follow=False)  # decoded in the worker
    if analysis.prepared is None:
        reason = f"kept as it was: today's extractor finds no article ({analysis.reason})"
        return UrlResult(article.url, "skipped", reason=reason, article_id=article.id)
    if not extraction_changed(article, analysis.prepared):
        return UrlResult(article.url, "unchanged", article_id=article.id)
    if dry_run:
        return UrlResult(article.url, "updated", analysis.prepared.row["title"], article_id=article.id)
    _raise_first(failed)
    with writer.write():
        outcome = writer.rewrite_article(article.id, analysis.prepared, at=now_utc())
    if outcome is WriteOutcome.DUPLICATE:
        reason = "kept as it was: the new text is another stored article's"
        return UrlResult(article.url, "skipped", reason=reason, article_id=article.id)
    return UrlResult(article.url, "updated", analysis.prepared.row["title"], article_id=article.id)
