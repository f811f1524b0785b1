"""Records passed between pipeline stages; no I/O here.

fetch produces a Page, extract turns a Page's html into an Article, store
answers a WriteOutcome, and the pipeline sums outcomes into a RunReport.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Page:
    """One fetched HTML page, body decoded to text."""

    url: str
    final_url: str
    status: int
    content_type: str
    html: str
    encoding: str
    fetched_at: dt.datetime
    etag: str | None = None
    last_modified: str | None = None
    # where the response is archived: (WARC file, offset, length of its gzip member or record); None
    # when it is not (storage.archive off, a saved file). See scraper/archive.
    warc: WarcRef | None = None


@dataclass(frozen=True, slots=True)
class WarcRef:
    """Where one archived response record sits: its WARC file, the byte offset and length of the record."""

    file: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Target:
    """One frontier URL to fetch in a crawl: kind is seed, sitemap, feed or page."""

    url: str
    source: str
    kind: str = "page"
    depth: int = 0
    etag: str | None = None
    last_modified: str | None = None
    page_kind: str | None = None
    attempts: int = 0
    article_id: int | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    """One fetched non-HTML body (robots.txt, sitemap, feed) as bytes, Content-Encoding removed."""

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    fetched_at: dt.datetime
    etag: str | None = None
    last_modified: str | None = None
    # where the response is archived (storage.archive_resources); None when it is not
    warc: WarcRef | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """The clean article extract() finds in a page.

    `text` holds paragraphs separated by one blank line. `url` is the
    canonical URL the page declares, else the URL it was given.
    """

    title: str | None
    text: str
    url: str | None = None
    published: dt.date | dt.datetime | None = None
    author: str | None = None
    source: str | None = None
    section: str | None = None
    language: str | None = None
    site_name: str | None = None
    # article, listing, forum, product, collection, documentation or service (see extract/kind.py)
    page_kind: str = "article"
    html: str | None = None

    @property
    def date(self) -> dt.date | dt.datetime | None:
        """Alias of `published`, the name scoring tools look for."""
        return self.published


class WriteOutcome(enum.Enum):
    """What save_article() did with an article."""

    INSERTED = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    # A near-duplicate (same story, another text) linked to a stored article: no row of its own.
    NEAR = "near"


@dataclass(frozen=True, slots=True)
class SaveResult:
    """The outcome of one save, with the id of the row it concerns."""

    outcome: WriteOutcome
    article_id: int
    url: str


@dataclass(slots=True)
class RunReport:
    """Counts per outcome plus (url, message) pairs for skips and failures.

    `errors` are URLs that met a bug (an exception that is not a ScraperError): counted apart, they
    make the exit status non-zero. `reasons` counts failures and skips by kind ("HTTP 404", "DNS",
    "timeout", "robots", "parked", ...) for the run report.
    """

    counts: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)
    skips: list[tuple[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        """Count one URL outcome ("new", "updated", "skipped", "failed", ...)."""
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    @property
    def failed(self) -> int:
        """How many URLs failed for good (a URL that met a bug, outcome "error", included)."""
        return self.counts.get("failed", 0) + self.counts.get("error", 0)

    def note(self, kind: str, n: int = 1) -> None:
        """Count one failure or skip by its kind of reason ("HTTP 404", "timeout", "parked"...)."""
        self.reasons[kind] = self.reasons.get(kind, 0) + n


@dataclass(slots=True)
class CrawlReport:
    """One `scraper crawl` run: a RunReport per source, with the run's id and exit status.

    Each source's counts use the `run_sources` columns: discovered, fetched, new, updated,
    unchanged, duplicate, skipped, failed (plus "listing": pages followed, never stored).
    """

    run_id: int | None
    sources: dict[str, RunReport] = field(default_factory=dict)
    exit_status: int = 0
    dry_run: bool = False
    # origin -> why it could not be reached this run (DNS, connection refused, robots.txt 5xx...)
    unreachable: dict[str, str] = field(default_factory=dict)
    # why the run ended early: "SIGTERM", "SIGINT", "crawl.max_run_time (55m)"; None when it finished
    stopped: str | None = None
    duration: float = 0.0
    # why the exit status is not 0, in words (see report.judge); None when it is 0
    exit_reason: str | None = None

    def total(self, outcome: str) -> int:
        """The count of one outcome over every source."""
        return sum(report.counts.get(outcome, 0) for report in self.sources.values())

    @property
    def failure_ratio(self) -> float:
        """Failed fetches over fetch attempts (fetched + failed), 0 when nothing was tried."""
        failed = self.total("failed")
        tried = self.total("fetched") + failed
        return failed / tried if tried else 0.0
