"""The run report of a crawl, like Scrapy's stats dump: what each source did, and why the exit status.

Input: a CrawlReport (or the JSON object report_data() made of one, as stored in runs.report).
Output: report_data() (the JSON object), judge() (exit status and the reason for it in words),
format_report() (several lines for stderr) and format_failure_line() (one line for -q, None when
the run succeeded). Pure: no I/O, no logging; the pipeline gathers the numbers, the CLI prints.

The JSON object (runs.report; `scraper stats` reads it):
    sources      {name: {discovered, fetched, new, ..., failed, error, "reasons": {kind: count}}}
    unreachable  {origin: why}
    errors       [[url, message], ...]   URLs that met a bug (not a ScraperError)
    failures     [[url, message], ...]   URLs that failed or were skipped (at most FAILURES_KEPT)
    stopped      why the run ended early (SIGTERM, crawl.max_run_time (55m)), or null
    duration     seconds; pages_per_s: fetched pages per second
    exit_status, exit_reason   the status and, when it is not 0, why in words
"""

from __future__ import annotations

import signal
from typing import Any

from .models import CrawlReport

# The per-source counts shown, in this order (run_sources columns, then the crawl's own).
COUNTS = (
    "discovered",
    "fetched",
    "new",
    "updated",
    "unchanged",
    "duplicate",
    "near",
    "listing",
    "skipped",
    "failed",
    "error",
)
# Errors listed by format_report; the rest are counted ("and N more"): a report stays readable.
ERRORS_SHOWN = 10
# Failed and skipped URLs kept in the stored report: enough to name every bad URL of a normal run,
# bounded for a run where a whole site fails (fetch_log has them all).
FAILURES_KEPT = 200
# Reason kinds named in the one-line summary under -q (the most frequent first).
REASONS_IN_LINE = 4
# Exit statuses of a run stopped by a signal: 128 + the signal number, as a shell reports it.
SIGNAL_STATUS = {"SIGINT": 128 + signal.SIGINT, "SIGTERM": 128 + signal.SIGTERM}


def report_data(report: CrawlReport) -> dict[str, Any]:
    """The JSON object of a run report (stored in runs.report)."""
    fetched = report.total("fetched")
    return {
        "run_id": report.run_id,
        "dry_run": report.dry_run,
        "sources": {
            name: {**{k: r.counts.get(k, 0) for k in COUNTS}, "reasons": dict(sorted(r.reasons.items()))}
            for name, r in report.sources.items()
        },
        "unreachable": dict(report.unreachable),
        "errors": [[url, message] for r in report.sources.values() for url, message in r.errors],
        "failures": [
            [url, message] for r in report.sources.values() for url, message in [*r.failures, *r.skips]
        ][:FAILURES_KEPT],
        "stopped": report.stopped,
        "duration": round(report.duration, 3),
        "pages_per_s": round(fetched / report.duration, 2) if report.duration > 0 else 0.0,
        "exit_status": report.exit_status,
        "exit_reason": report.exit_reason,
    }


def judge(report: CrawlReport, max_failure_ratio: float) -> tuple[int, str | None]:
    """The exit status of a run and, when it is not 0, why in words.

    128 + the signal for a run a signal stopped; 1 for a bug met on any URL, an unreachable
    source, or failed fetches over max_failure_ratio; else 0 (a run stopped by crawl.max_run_time
    included: the next run goes on from the frontier).
    """
    reasons = []
    errors = sum(len(r.errors) for r in report.sources.values())
    if errors:
        reasons.append(f"{_plural(errors, 'URL')} met a bug (see errors; -v shows the traceback)")
    for origin, why in report.unreachable.items():
        reasons.append(f"{origin} unreachable: {why}")
    failed = report.total("failed")
    tried = report.total("fetched") + failed
    if tried and report.failure_ratio > max_failure_ratio:
        reasons.append(
            f"{failed} of {tried} fetches failed ({report.failure_ratio:.0%}), "
            f"over crawl.max_failure_ratio {max_failure_ratio:g}".replace("%)", " %)")
        )
    if report.stopped in SIGNAL_STATUS:
        return SIGNAL_STATUS[report.stopped], "; ".join([f"interrupted by {report.stopped}", *reasons])
    return (1, "; ".join(reasons)) if reasons else (0, None)


def format_report(report: CrawlReport | dict[str, Any]) -> str:
    """The run report as lines for stderr: per-source counts and reasons, unreachable hosts, errors."""
    data = report_data(report) if isinstance(report, CrawlReport) else report
    lines = []
    for name, counts in data["sources"].items():
        shown = [f"{counts[k]} {k}" for k in COUNTS if counts.get(k)]
        lines.append(f"{name}: {', '.join(shown) or 'nothing to do'}")
        if counts.get("reasons"):
            lines.append("  by reason: " + _reasons(counts["reasons"]))
    for origin, why in data["unreachable"].items():
        lines.append(f"unreachable: {origin}: {why}")
    errors = data["errors"]
    for url, message in errors[:ERRORS_SHOWN]:
        lines.append(f"error: {url}: {message}")
    if len(errors) > ERRORS_SHOWN:
        lines.append(f"error: and {len(errors) - ERRORS_SHOWN} more (see fetch_log)")
    timing = f"{data['duration']:.1f} s, {data['pages_per_s']:g} pages/s"
    lines.append(
        f"run {data['run_id']}: {timing}" + (f", stopped: {data['stopped']}" if data["stopped"] else "")
    )
    if data["exit_reason"]:
        lines.append(f"exit status {data['exit_status']}: {data['exit_reason']}")
    return "\n".join(lines)


def format_failure_line(report: CrawlReport | dict[str, Any]) -> str | None:
    """One line saying why the run failed (for -q), or None when its exit status is 0."""
    data = report_data(report) if isinstance(report, CrawlReport) else report
    if not data["exit_status"]:
        return None
    reasons: dict[str, int] = {}
    for counts in data["sources"].values():
        for kind, n in counts.get("reasons", {}).items():
            reasons[kind] = reasons.get(kind, 0) + n
    top = dict(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:REASONS_IN_LINE])
    tail = f" (by reason: {_reasons(top)})" if top else ""
    run = "crawl dry run" if data.get("dry_run") else f"crawl run {data['run_id']}"
    return f"{run} exit status {data['exit_status']}: {data['exit_reason']}{tail}"


def _reasons(reasons: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(reasons.items(), key=lambda i: (-i[1], i[0])))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
