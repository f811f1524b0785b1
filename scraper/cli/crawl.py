"""crawl: the cron job over every configured source, or over the URLs given.

Input: the configured sources, or URLs with --sitemap/--feed. Output: progress and the run report
on stderr (--dry-run lists the URLs it would fetch on stdout), the run's exit status, 75 when
another crawl holds the lock. Settings: crawl, fetch, sources, storage.path.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import click

from .. import pipeline, progress
from ..config import Config, sources_from_urls
from ..errors import ConfigError, CrawlLocked, ScraperError
from ..report import format_failure_line, format_report
from .base import EXIT_LOCKED, ConfigProblem, RunFailed, State, cli, shared_options, shown_db


@cli.command()
@click.argument("urls", nargs=-1, metavar="[URL]...")
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Only this source (repeatable).")
@click.option("--max-pages", type=click.IntRange(1), help="Pages per source this run (overrides max_pages).")
@click.option("--dry-run", is_flag=True, help="List what the next run would fetch (stdout); writes nothing.")
@click.option("--allow-private", is_flag=True, help="Allow URLs on loopback and private networks.")
@click.option(
    "--sitemap", "sitemaps", multiple=True, metavar="URL", help="Crawl by URL: a sitemap (repeatable)."
)
@click.option(
    "--feed", "feeds", multiple=True, metavar="URL", help="Crawl by URL: an RSS/Atom feed (repeatable)."
)
@click.option(
    "--allow",
    multiple=True,
    metavar="REGEX",
    help="Crawl by URL: follow only URLs matching this (repeatable; default: the URLs' own hosts).",
)
@click.option("--article-pattern", metavar="REGEX", help="Crawl by URL: store pages whose URL matches this.")
@click.option(
    "--max-depth", type=click.IntRange(0), help="Crawl by URL: links to follow from the start pages."
)
@click.option(
    "--worker",
    envvar="SCRAPER_WORKER",
    metavar="NAME",
    help="PostgreSQL: this worker's name (env SCRAPER_WORKER; default host:pid); one run per name at a time.",
)
@shared_options
@click.pass_obj
def crawl(
    state: State,
    /,
    urls: tuple[str, ...],
    sources: tuple[str, ...],
    max_pages: int | None,
    dry_run: bool,
    allow_private: bool,
    worker: str | None,
    **by_url: Any,
) -> None:
    """Crawl every configured source once (or the URLs given): discover, fetch politely, store what is new.

    The cron job. Progress goes to stderr (a live line on a terminal, one line
    per URL otherwise), then the run report; with -q, one line and only when
    the run failed. Exits 0 when every source was reached and failures stayed
    under crawl.max_failure_ratio; 1 when a source was unreachable, failures
    went over the ratio or a bug was met; 75 when another crawl runs; 130 or
    143 after SIGINT or SIGTERM (the run is recorded either way).

    With URLs (or --sitemap/--feed) no configured source is crawled: each host
    of the URLs becomes a source named after it (without "www."), and the
    other sections of config.yaml still apply.

    \b
    Example:
      scraper crawl
      scraper -q crawl --source bjreview --max-pages 100
      scraper crawl --dry-run
      scraper crawl https://example.com/news/ --sitemap https://example.com/sitemap.xml \\
          --article-pattern '/news/\\d+' --max-pages 50
    """
    state.allow_private = allow_private
    cfg = _crawl_config(state.config(), urls, sources, max_pages, by_url)
    mode = "quiet" if state.verbosity < 0 else "bar" if sys.stderr.isatty() else "lines"
    show = progress.Progress(sys.stderr, mode="quiet" if dry_run else mode)
    on_event = _dry_run_printer(show) if dry_run else show
    try:
        report = pipeline.run_crawl(
            cfg,
            sources=sources or None,
            max_pages=max_pages,
            dry_run=dry_run,
            on_event=on_event,
            worker=worker,
        )
    except CrawlLocked as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_LOCKED)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    finally:
        show.close()
    if state.verbosity >= 0:
        click.echo(_crawl_summary(report, cfg), err=True)
    elif (line := format_failure_line(report)) is not None:  # -q: one line, only when it failed
        click.echo(line, err=True)
    sys.exit(report.exit_status)


def _crawl_config(
    cfg: Config,
    urls: tuple[str, ...],
    sources: tuple[str, ...],
    max_pages: int | None,
    by_url: dict[str, Any],
) -> Config:
    """The config to crawl: as loaded, or with one source per host of the URLs given."""
    if not (urls or by_url["sitemaps"] or by_url["feeds"]):
        used = [f"--{k.replace('_', '-')}" for k in ("allow", "article_pattern", "max_depth") if by_url[k]]
        if used:
            raise click.UsageError(f"{', '.join(used)}: only for a crawl by URL; give the URLs to crawl")
        return cfg
    if sources:
        raise click.UsageError("--source picks configured sources; it cannot be combined with URLs")
    try:
        built = sources_from_urls(urls, max_pages=max_pages, **by_url)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    return dataclasses.replace(cfg, sources=built)


def _dry_run_printer(show: progress.Progress) -> pipeline.Callback:
    def print_article(result: pipeline.UrlResult) -> None:
        show(result)
        if result.outcome in ("article", "new", "duplicate", "near"):
            click.echo(f"{result.source}\t{result.url}")

    return print_article


def _crawl_summary(report: Any, cfg: Config) -> str:
    where = "nothing stored (dry run)" if report.dry_run else f"run {report.run_id}, database {shown_db(cfg)}"
    return f"{format_report(report)}\ncrawl finished: {where}, exit status {report.exit_status}"
