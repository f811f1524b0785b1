"""search, export, show, stats and duplicates: the read-only commands over scraper.query.

Input: a query text, an article id or URL, the filter options. Output: rows on stdout or -o (a
table, JSON, JSON lines, CSV, or WARC records), counts and warnings on stderr. Settings:
storage.path, and storage.archive for export --format warc.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .. import output, query
from ..archive.export import export_warc
from ..archive.write import run_info
from ..config import Config
from ..errors import QueryError, ScraperError
from ..extract.version import extractor_version
from .base import RunFailed, State, cli, day_option, filter_options, format_option, shared_options


@cli.command()
@click.argument("text")
@filter_options
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Rows to show.")
@click.option("--offset", default=0, type=click.IntRange(0), help="Skip this many rows (paging).")
@click.option("--raw", is_flag=True, help="Pass FTS5 syntax through (AND, OR, NEAR, prefix*, column:).")
@format_option(["table", "json", "jsonl", "csv"], "table", "A table with snippets, JSON, JSON lines or CSV.")
@shared_options
@click.pass_obj
def search(state: State, /, text: str, fmt: str, limit: int, offset: int, raw: bool, **filters: Any) -> None:
    """Full-text search over titles and texts, best matches first.

    Words match anywhere, Chinese too; "quoted phrases" stay together; FTS
    syntax in TEXT is read as plain words unless --raw is given.

    \b
    Example:
      scraper search "international exchanges" --since 2021-06-01 --site bjreview
      scraper search 国际 --format json
    """
    if not text.strip():
        raise click.UsageError('nothing to search for: give words, e.g. scraper search "trade talks"')
    cfg = state.config()
    try:
        rows = query.search(
            cfg.storage.path, text, filters=query.Filters(**filters), limit=limit, offset=offset, raw=raw
        )
    except QueryError as exc:
        raise click.UsageError(str(exc)) from exc
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    output.write_rows(rows, fmt, sys.stdout)


@cli.command()
@filter_options
@format_option(
    ["jsonl", "json", "csv", "warc"],
    "jsonl",
    "JSON lines (one article a line), one JSON array, CSV, or WARC (the archived pages).",
)
@click.option("-o", "--output", "out", default="-", show_default=True, help="Output file; '-' is stdout.")
@click.option(
    "--to-sqlite",
    "to_sqlite",
    metavar="FILE",
    help="Write the whole corpus to a new SQLite file instead (a scraper database Datasette opens).",
)
@click.option("--force", is_flag=True, help="With --to-sqlite: replace FILE if it exists.")
@shared_options
@click.pass_obj
def export(state: State, /, fmt: str, out: str, to_sqlite: str | None, force: bool, **filters: Any) -> None:
    """Stream every article (all metadata, text and URLs) as JSON lines, JSON or CSV.

    Memory stays flat on any corpus size; the row count goes to stderr.
    --format warc writes the archived response of each chosen article instead
    (a gzip-per-record WARC that warcio, pywb and `scraper ingest --warc`
    read); articles stored without an archived response are counted apart.

    \b
    Example:
      scraper export --since 2021-06-01 --site bjreview -o june.jsonl
      scraper export --lang zh --author 新华 -o zh.jsonl
      scraper export --format csv > corpus.csv
      scraper export --format warc --site bjreview -o bjreview.warc.gz
      scraper --db postgresql://crawler@db/news export --to-sqlite news.db
    """
    cfg = state.config()
    if to_sqlite:
        _export_sqlite(state, cfg, to_sqlite, force=force, filters=filters)
        return
    if fmt == "warc":
        _export_warc(state, cfg, out, query.Filters(**filters))
        return
    try:
        chosen = query.Filters(**filters)
        if fmt == "csv":
            with click.open_file(out, "w", encoding="utf-8") as stream:
                count = output.write_rows(query.iter_articles(cfg.storage.path, filters=chosen), fmt, stream)
        else:
            with click.open_file(out, "wb") as binary:
                items = query.iter_article_json_bytes(cfg.storage.path, filters=chosen)
                count = output.write_json_bytes(items, fmt, binary)
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    if state.verbosity >= 0:
        click.echo(f"exported {output.plural(count, 'article')}", err=True)


def _export_sqlite(state: State, cfg: Config, file: str, *, force: bool, filters: dict[str, Any]) -> None:
    """export --to-sqlite: the whole corpus as one consistent SQLite file."""
    chosen = sorted(name for name, value in filters.items() if value)
    if chosen:
        raise click.UsageError(f"--to-sqlite copies the whole corpus; drop --{chosen[0]}")
    try:
        count = query.snapshot(cfg.storage.path, file, force=force)
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    if state.verbosity >= 0:
        click.echo(f"wrote {output.plural(count, 'article')} to {file}", err=True)


def _export_warc(state: State, cfg: Config, out: str, chosen: query.Filters) -> None:
    """export --format warc: the chosen articles' archived responses; exit 1 when one was unreadable."""
    if out == "-" and sys.stdout.isatty():
        raise click.UsageError("WARC is binary: give -o FILE.warc.gz, or redirect stdout to a file")
    name = "stdout.warc.gz" if out == "-" else Path(out).name
    info = run_info(cfg.path, extractor_version())
    try:
        total = query.count_articles(cfg.storage.path, filters=chosen)
        with click.open_file(out, "wb") as binary:
            report = export_warc(
                query.iter_warc_refs(cfg.storage.path, chosen), binary, filename=name, info=info
            )
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    for file, offset, problem in report.problems:
        click.echo(f"warning: {file}: offset {offset}: {problem}; that article is left out", err=True)
    missing = total - report.written - len(report.problems)
    if state.verbosity >= 0:
        note = f" ({output.plural(missing, 'article')} without an archived response)" if missing else ""
        click.echo(f"exported {output.plural(report.written, 'archived response')}{note}", err=True)
    if report.problems:
        sys.exit(1)


@cli.command()
@click.argument("key")
@format_option(["text", "json"], "text", "Readable text, or JSON with every field.")
@shared_options
@click.pass_obj
def show(state: State, key: str, fmt: str) -> None:
    """Show one article by id or URL: metadata, text, every URL and earlier versions.

    \b
    Example:
      scraper show 42
      scraper show https://www.bjreview.com.cn/Opinion/Voice/202106/t20210629_800251027.html
    """
    cfg = state.config()
    try:
        article = query.show(cfg.storage.path, key)
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    if article is None:
        raise RunFailed(f"no article with id or URL {key!r}; try 'scraper search'")
    click.echo(
        json.dumps(article, ensure_ascii=False, indent=2) if fmt == "json" else output.article_text(article)
    )


@cli.command()
@click.option("--runs", default=10, show_default=True, type=click.IntRange(1), help="Last runs to show.")
@click.option(
    "--failures", default=10, show_default=True, type=click.IntRange(0), help="Recent failures to show."
)
@format_option(["text", "json"], "text", "Readable tables, or JSON.")
@shared_options
@click.pass_obj
def stats(state: State, runs: int, failures: int, fmt: str) -> None:
    """Show per-source totals, the last crawl runs, recent failures and unreachable hosts.

    Failures are a crawl's failed URLs and those whose last `scraper ingest`
    failed (source "ingest"); unreachable hosts are those of the last run.

    \b
    Example:
      scraper stats
      scraper stats --runs 3 --format json
    """
    cfg = state.config()
    try:
        data = query.crawl_stats(cfg.storage.path, runs=runs, failures=failures)
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for title, rows in (
        ("Sources", data["sources"]),
        ("Last runs", data["runs"]),
        ("Recent failures", data["failures"]),
        ("Unreachable hosts (last run)", data["unreachable"]),
    ):
        click.echo(f"{title}:")
        click.echo(output.plain_table(rows) if rows else "  (none)")


def _story_since_option(func: Any) -> Any:
    return day_option("--since", "Only stories with a member first seen on or after this day (YYYY-MM-DD).")(
        func
    )


@cli.command()
@click.option("--site", multiple=True, help="Only stories with a member on this site (repeatable).")
@_story_since_option
@click.option("--min-size", default=2, show_default=True, type=click.IntRange(2), help="Fewest members.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1), help="Stories to show.")
@format_option(["table", "json", "jsonl", "csv"], "table", "A table, JSON, JSON lines or CSV.")
@shared_options
@click.pass_obj
def duplicates(
    state: State, site: tuple[str, ...], since: str | None, min_size: int, limit: int, fmt: str
) -> None:
    """List stories told at several URLs (near duplicates), biggest first, with their first publisher.

    \b
    Example:
      scraper duplicates --min-size 3
      scraper duplicates --site chinadaily --since 2024-05-01 --format json
    """
    cfg = state.config()
    try:
        stories = query.duplicates(cfg.storage.path, sites=site, since=since, min_size=min_size)
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    rows = [{**s, "sites": ",".join(s["sites"])} if fmt in ("table", "csv") else s for s in stories[:limit]]
    if fmt == "table" and not rows:
        click.echo(f"no story with {min_size} members or more", err=True)
    elif fmt == "table":
        click.echo(output.plain_table(rows))
    else:
        output.write_rows(rows, fmt, sys.stdout)
