"""Per-page steps shared by `ingest` and `crawl`: extract, analyse for links, store, classify failures.

Input: a fetched Page and the Config. Output: an Article (or the reason there is none), the links a
crawl may follow, a SaveResult. analyze_page() runs in worker processes (see pool.py), so it takes
and returns only picklable records, and turns ScraperErrors into reasons instead of raising them.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from dataclasses import dataclass, replace

from lxml.html import HtmlElement

from .. import store
from ..archive.read import ArchivedResponse
from ..archive.write import ArchiveWriter, run_info
from ..config import Config, Rules
from ..crawl import discover
from ..encoding import decode_html
from ..errors import (
    BlockedAddress,
    ExtractError,
    ExtractorBug,
    FetchError,
    NoArticleFound,
    ScraperError,
    SkippedContent,
    StorageConflict,
)
from ..extract import extract, extract_tree, parse_html
from ..extract.version import extractor_version
from ..models import Article, Page, SaveResult
from ..urls import host_of, same_site

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Analysis:
    """What a crawl learns from one HTML page: its article (or why none) and the URLs it points to."""

    article: Article | None
    reason: str | None = None
    prepared: store.PreparedArticle | None = None
    links: tuple[str, ...] = ()
    pagination: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    failed: bool = False  # the extractor broke on this page (a bug): record it, do not take it for a listing
    over_time: bool = False  # extraction ran past extract.time_limit; the worker was replaced


def extract_page(page: Page, cfg: Config, tree: HtmlElement | None = None) -> Article:
    """Extract a fetched page with its source's rules; NoArticleFound when the text is too short.

    `tree`, when given, is the page as parse_html() built it (it is changed).
    A canonical URL the page declares on another site is not trusted: it
    would let one page overwrite another site's article.
    """
    source = cfg.source_for(page.final_url)
    rules = source.rules if source else Rules()
    try:
        if tree is None:
            article = extract(page.html, page.final_url, rules)
        else:
            article = extract_tree(tree, page.final_url, rules)
    except ScraperError:
        raise
    except Exception as exc:  # a bug met on one hostile page must cost that page, not the whole run
        logger.debug("extractor traceback for %s", page.final_url, exc_info=True)
        raise ExtractorBug(
            f"extractor failed on {page.final_url} ({type(exc).__name__}: {exc}): a bug in scraper; "
            "please report it with the page saved as HTML"
        ) from exc
    if len(article.text) < cfg.extract.min_chars:
        raise NoArticleFound(
            f"no article at {page.final_url}: main text has {len(article.text)} characters, "
            f"fewer than extract.min_chars ({cfg.extract.min_chars})"
        )
    if not article.url or not same_site(article.url, page.final_url):
        article = replace(article, url=page.final_url)
    return article


# Page kinds the crawler follows but never stores when a source has no article_pattern.
# "service" is not among them: it is the extractor's fallback for long prose without a
# date or article markup, and on wcxb-dev 64 of the 85 articles it missed landed there
# (tests/fixtures/site has eight such articles); storing a stray "about" page costs
# less than losing articles.
NOT_ARTICLE_KINDS = frozenset({"listing", "forum", "product", "collection", "documentation"})


def analyze_page(page: Page, cfg: Config, want_article: bool | None, follow: bool) -> Analysis:
    """Links (when follow) and the article of a page.

    Args:
        want_article: True when the URL matches the source's article_pattern (store what is found),
            False for pages that are never articles (start pages, pattern misses), None to let
            the extractor's page kind decide.
        follow: whether to collect links, pagination and feeds.
    """
    links: tuple[str, ...] = ()
    pagination: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    # one parse per page: links are read first, then extraction strips the same tree
    tree = parse_html(page.html) if follow or want_article is not False else None
    if follow and tree is not None:
        pagination = tuple(discover.find_pagination(tree, page.final_url))
        links = tuple(link.url for link in discover.extract_links(tree, page.final_url) if not link.nofollow)
        feeds = tuple(discover.find_feeds(tree, page.final_url))
    if want_article is False:
        return Analysis(None, "not an article page", None, links, pagination, feeds)
    try:
        article: Article | None = extract_page(page, cfg, tree)
        reason = None
    except ExtractorBug as exc:
        return Analysis(None, str(exc), None, links, pagination, feeds, failed=True)
    except ExtractError as exc:  # NoArticleFound, or a page with no HTML elements
        article, reason = None, str(exc)
    if article is not None and want_article is None and article.page_kind in NOT_ARTICLE_KINDS:
        reason = f"a {article.page_kind} page, not an article"
        article = None
    if article is None:
        return Analysis(None, reason, None, links, pagination, feeds)
    prepared = prepare_page(page, article, cfg)  # hashing is CPU work too: do it here, in the worker
    article = replace(article, html=None, text="")  # the row holds the text; ship it once
    return Analysis(article, None, prepared, links, pagination, feeds)


def analyze_item(
    item: Page | ArchivedResponse, cfg: Config, want_article: bool | None, follow: bool
) -> Analysis:
    """analyze_page() of a Page, or of an archived response decoded here (page_of).

    `ingest --warc` and `reextract` hand the worker the response's bytes: pickling the decoded
    text cost the main process about 0.5 ms a page more (UTF-8 encoding it, in the pool's feeder
    thread), and the worker as much again to decode it back, where decoding the bytes costs the
    worker about that.
    """
    page = item if isinstance(item, Page) else page_of(item)
    return analyze_page(page, cfg, want_article, follow)


def page_of(record: ArchivedResponse) -> Page:
    """The Page a crawl would have fetched: the record's URL, date, status, decoded body, ref."""
    html, encoding = decode_html(record.body, record.charset)
    headers = {name.lower(): value for name, value in reversed(record.headers)}
    return Page(
        record.url, record.url, record.status, record.media_type, html, encoding, record.date,
        headers.get("etag"), headers.get("last-modified"), warc=record.ref,
    )  # fmt: skip


def open_archive(cfg: Config) -> ArchiveWriter | None:
    """The run's WARC writer (storage.archive); None when archiving is off. Its file opens lazily."""
    directory = cfg.storage.archive_path()
    if directory is None:
        return None
    return ArchiveWriter(
        directory,
        db_path=cfg.storage.path,
        max_bytes=cfg.storage.archive_max_bytes,
        info=run_info(cfg.path, extractor_version()),
    )


def site_name(url: str, cfg: Config) -> str:
    """The configured source name of a URL, else its host without www."""
    source = cfg.source_for(url)
    return source.name if source else host_of(url).removeprefix("www.")


def prepare_page(page: Page, article: Article, cfg: Config) -> store.PreparedArticle:
    """The database row of a page's article (keys, hashes, WARC pointer, extractor); pure CPU work."""
    site = site_name(page.final_url, cfg)
    return store.prepare_article(
        article,
        url=page.final_url,
        site=site,
        fetched_at=page.fetched_at,
        near=cfg.dedupe.near,
        near_threshold=cfg.dedupe.near_threshold,
        warc=page.warc,
        extractor=extractor_version(),
    )


def save_page(writer: store.CorpusWriter, page: Page, article: Article, cfg: Config) -> SaveResult:
    """Store the article of a page, inside the caller's write unit (writer.write())."""
    return writer.write_article(prepare_page(page, article, cfg))


def failure_outcome(exc: ScraperError) -> tuple[str, int | None]:
    """("skipped" or "failed", HTTP status) for an error that ended one URL, logged at its level.

    Skipped: not HTML, too large, no article text. Failed: HTTP errors after retries, refused
    addresses, unparseable pages.
    """
    outcome = "skipped" if isinstance(exc, (SkippedContent, NoArticleFound)) else "failed"
    status = exc.status if isinstance(exc, FetchError) else None
    return outcome, status


# Fragments of the messages of a failed name lookup, where the cause chain does not hold a gaierror.
DNS_MESSAGES = (
    "cannot resolve",
    "name or service not known",
    "nodename nor servname",
    "resolves to no address",
)


def reason_kind(exc: BaseException) -> str:
    """The kind of reason a URL failed or was skipped, as the run report counts it.

    "HTTP <status>", "DNS", "timeout", "connection", "blocked address", "content" (not HTML, binary,
    too large), "no article", "extractor bug", "storage conflict" (PostgreSQL: another worker held the
    rows), "fetch" (another fetch failure), or "error" (a bug).
    """
    if not isinstance(exc, ScraperError):
        return "error"
    if isinstance(exc, FetchError) and exc.status is not None:
        return f"HTTP {exc.status}"
    simple = (
        (BlockedAddress, "blocked address"),
        (SkippedContent, "content"),
        (NoArticleFound, "no article"),
        (ExtractorBug, "extractor bug"),
        (StorageConflict, "storage conflict"),
    )
    for kind, name in simple:
        if isinstance(exc, kind):
            return name
    return _network_kind(exc) if isinstance(exc, FetchError) else type(exc).__name__


def _network_kind(exc: BaseException) -> str:
    """DNS, timeout or connection, read from the exception and what caused it."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, socket.gaierror) for e in chain) or any(m in text for m in DNS_MESSAGES):
        return "DNS"
    if any(_named(e, "Timeout") or isinstance(e, TimeoutError) for e in chain):
        return "timeout"
    if any(_named(e, "Connect") or isinstance(e, OSError) for e in chain):
        return "connection"
    return "fetch"


def _named(exc: BaseException, part: str) -> bool:
    """Whether exc's class, or a base class, has `part` in its name (httpx's TimeoutException...)."""
    return any(part in cls.__name__ for cls in type(exc).__mro__)


def describe_bug(exc: BaseException) -> str:
    """One line for an exception that is not a ScraperError (a bug): its type and message.

    An exception group of one (anyio's TaskGroup wraps what a connection raised) is named by its
    member, which says what went wrong.
    """
    members = getattr(exc, "exceptions", None)
    if isinstance(members, tuple) and len(members) == 1 and isinstance(members[0], BaseException):
        return f"{describe_bug(members[0])} (in {type(exc).__name__})"
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def now_utc() -> dt.datetime:
    """The current time, aware UTC."""
    return dt.datetime.now(dt.timezone.utc)
