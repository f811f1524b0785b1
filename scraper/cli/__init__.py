"""Command-line interface: flags, config, logging; calls pipeline and query, picks the exit code.

Exit codes: 0 success; 1 some URLs failed (or a ScraperError); 2 bad flags,
bad config or a bad query; 75 (EX_TEMPFAIL) another crawl holds the database's lock.
Data goes to stdout, logs and summaries to stderr.

One module per group of commands, each registering on the group `cli` that base.py defines:
base (the group, State, the shared options, logging, the exit-code exceptions), ingest (ingest,
extract), query (search, export, show, stats, duplicates), crawl, maintain (dedupe, reextract,
migrate). `scraper.cli:cli` is the console script.
"""

from __future__ import annotations

from . import crawl, ingest, maintain, query  # noqa: F401  (importing them registers their commands)
from .base import (
    DEFAULT_CONFIG,
    EXIT_LOCKED,
    BadInput,
    ConfigProblem,
    RunFailed,
    State,
    cli,
    day_option,
    filter_options,
    print_result,
    shared_options,
)
from .ingest import NO_URLS_GIVEN, NO_URLS_ON_STDIN, format_article

__all__ = [
    "DEFAULT_CONFIG",
    "EXIT_LOCKED",
    "NO_URLS_GIVEN",
    "NO_URLS_ON_STDIN",
    "BadInput",
    "ConfigProblem",
    "RunFailed",
    "State",
    "cli",
    "day_option",
    "filter_options",
    "format_article",
    "print_result",
    "shared_options",
]
