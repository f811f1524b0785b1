"""dedupe, reextract and migrate: the commands that bring an existing database up to date.

Input: the database at storage.path (reextract and migrate: a SQLite file or a postgresql:// URL),
and for reextract the archived responses. Output: one line
per changed article (reextract) or the schema version (migrate) on stdout, progress and a summary
on stderr. Settings: dedupe.near, dedupe.near_threshold, extract, storage.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import click

from .. import output, pipeline, progress, query, store
from ..config import Config, is_postgres_url
from ..errors import ConfigError, ScraperError
from .base import (
    ConfigProblem,
    RunFailed,
    State,
    cli,
    filter_options,
    outcome_counts,
    print_result,
    shared_options,
    shown_db,
)


@cli.command()
@click.option("--rebuild", is_flag=True, help="Recompute every article's anchors and stories.")
@shared_options
@click.pass_obj
def dedupe(state: State, rebuild: bool) -> None:
    """Rebuild the near-duplicate index of an existing database (dedupe.near, dedupe.near_threshold).

    Databases from before near-duplicate detection need it once. In link mode a stored row that
    repeats an older row's story is folded into it (its URLs become 'near' URLs of the older row).
    --db may be a postgresql:// URL.

    \b
    Example:
      scraper dedupe --rebuild
      scraper dedupe --rebuild --db postgresql://scraper@db.example/news
    """
    if not rebuild:
        raise click.UsageError("nothing to do: pass --rebuild to recompute the near-duplicate index")
    cfg = state.config()
    bar = state.verbosity >= 0 and sys.stderr.isatty()
    try:
        with (
            click.progressbar(length=0, label="rebuilding", file=sys.stderr)
            if bar
            else nullcontext() as shown
        ):
            counts = _rebuild_near(cfg, _bar_updater(shown) if bar else None)
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    if state.verbosity >= 0:
        click.echo(
            f"{output.plural(counts['articles'], 'article')}: {counts['indexed']} indexed, "
            f"{counts['linked']} folded into an older story, {counts['grouped']} grouped",
            err=True,
        )


def _rebuild_near(cfg: Config, on_progress: Callable[[int, int], None] | None) -> dict[str, int]:
    """store.rebuild_near() on the SQLite file, or store.pg.near.rebuild() on the PostgreSQL URL."""
    near, threshold = cfg.dedupe.near, cfg.dedupe.near_threshold
    if is_postgres_url(cfg.storage.path):
        from ..store.pg import near as pg_near
        from ..store.pg import open_pg

        conn = open_pg(cfg.storage.path)
        try:
            return pg_near.rebuild(conn, near, threshold, on_progress)
        finally:
            conn.close()
    db = store.open_db(cfg.storage.path)
    try:
        return store.rebuild_near(db, near, threshold, on_progress)
    finally:
        db.close()


def _bar_updater(shown: Any) -> Callable[[int, int], None]:
    def update(done: int, total: int) -> None:
        shown.length = total
        shown.update(done - shown.pos)

    return update


@cli.command()
@filter_options
@click.option("--dry-run", is_flag=True, help="List what would change; write nothing.")
@shared_options
@click.pass_obj
def reextract(state: State, /, dry_run: bool, **filters: Any) -> None:
    """Run today's extractor over the archived pages; a changed result becomes a new version.

    Each chosen article whose response is archived (storage.archive, or
    ingested from a WARC) is extracted again from that response, in worker
    processes as in a crawl. A changed title, text, date, author, source line,
    section or language replaces the row, the old one kept as a version with
    the extractor that produced it (`scraper show ID`); an unchanged one is
    left alone. Prints one line per updated, skipped or failed article, then a
    summary; exits 1 when an archived record could not be read. Safe beside a
    running crawl (short write batches) and safe to stop at any moment: run it
    again and it finds what is left.

    \b
    Example:
      scraper reextract --site bjreview --since 2021-01-01
      scraper reextract --dry-run
    """
    cfg = state.config()
    mode = "bar" if state.verbosity >= 0 and sys.stderr.isatty() else "quiet"
    shown = progress.Progress(sys.stderr, mode=mode, label="re-extracting")

    def on_result(result: pipeline.UrlResult) -> None:
        shown(result)
        if result.outcome != "unchanged" or state.verbosity > 0:
            if mode == "bar":
                click.echo("\r\x1b[K", nl=False, err=True)
            print_result(result)

    try:
        report = pipeline.reextract(cfg, query.Filters(**filters), dry_run=dry_run, on_result=on_result)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    finally:
        shown.close()
    if state.verbosity >= 0:
        checked = output.plural(sum(report.counts.values()), "archived article")
        would = " (dry run: nothing written)" if dry_run else ""
        counts = outcome_counts(report.counts) or "nothing to do"
        click.echo(f"{checked}: {counts}{would}; database {shown_db(cfg)}", err=True)
    if report.counts.get("failed"):
        sys.exit(1)


@cli.command()
@shared_options
@click.pass_obj
def migrate(state: State) -> None:
    """Create the database, or bring its schema up to date, and print the schema version.

    Every command does this on its own; run it to upgrade a database ahead of time
    (a SQLite file, or a PostgreSQL database: --db postgresql://...). Says so when
    the schema was up to date already; refuses a schema newer than this scraper.

    \b
    Example:
      scraper --db data/articles.db migrate
      scraper --db postgresql://crawler@db.example/news migrate
    """
    cfg = state.config()
    shown = _index_progress if state.verbosity >= 0 and sys.stderr.isatty() else None
    token = store.INDEX_PROGRESS.set(shown)
    try:
        before, after = store.migrate(cfg.storage.path)
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    finally:
        store.INDEX_PROGRESS.reset(token)
    current = " (up to date: nothing to migrate)" if before == after else ""
    click.echo(f"{shown_db(cfg)}: schema version {after}{current}")


def _index_progress(done: int, total: int) -> None:
    """One redrawn stderr line while a migration rebuilds the full-text index."""
    click.echo(f"\rindexing articles: {done:,} of {total:,}", err=True, nl=done >= total)
