"""What the pipeline reports per URL, as soon as it is known (the CLI prints these)."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import RunReport


@dataclass(frozen=True, slots=True)
class UrlResult:
    """What happened to one URL.

    outcome is new/updated/unchanged/duplicate/skipped/failed; a crawl adds "listing" (a page
    fetched to follow its links, not stored) and, in a dry run, "article" (would be fetched and stored).
    """

    url: str
    outcome: str
    title: str | None = None
    reason: str | None = None
    article_id: int | None = None
    source: str | None = None


def tally(report: RunReport, result: UrlResult) -> None:
    """Count one URL's outcome in a report, with its reason for failures, skips and bugs."""
    report.add(result.outcome)
    if result.outcome == "failed":
        report.failures.append((result.url, result.reason or ""))
    elif result.outcome == "skipped":
        report.skips.append((result.url, result.reason or ""))
    elif result.outcome == "error":
        report.errors.append((result.url, result.reason or ""))
