"""ingest and extract: the commands that turn pages (URLs, WARC/ARC records, saved files) into articles.

Input: URLs as arguments or on stdin, WARC/ARC files, saved HTML files or folders, one page to
extract. Output: one line per URL or record on stdout (extract prints the article instead), progress
and a summary on stderr. Settings: fetch, extract, sources (their rules), storage.path (for ingest:
a SQLite file or a postgresql:// URL).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from .. import output, pipeline, progress
from ..errors import ConfigError, ScraperError, SkippedContent
from ..extract import extract
from ..extract.render import to_markdown
from ..models import Article, RunReport
from .base import (
    BadInput,
    ConfigProblem,
    RunFailed,
    State,
    cli,
    format_option,
    outcome_counts,
    print_result,
    shared_options,
    shown_db,
)


def _when(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | dt.datetime | None:
    """A --since/--until of ingest: a day, or an ISO 8601 time (UTC when it names no zone)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _archive_filter_options(func: Any) -> Any:
    """--match, --site, --lang, --since, --until of `ingest --warc/--files`."""
    for option in reversed(
        [
            click.option("--match", metavar="REGEX", help="With --warc/--files: only URLs this regex finds."),
            click.option(
                "--site", multiple=True, help="With --warc/--files: only this host, and its subdomains."
            ),
            click.option("--lang", help="With --warc/--files: only articles in this language, e.g. en."),
            click.option("--since", callback=_when, help="With --warc/--files: records from this day on."),
            click.option("--until", callback=_when, help="With --warc/--files: records up to this day."),
        ]
    ):
        func = option(func)
    return func


@cli.command()
@click.argument("urls", nargs=-1, required=True, metavar="URL... | FILE...")
@click.option("--allow-private", is_flag=True, help="Allow URLs on loopback and private networks.")
@click.option(
    "--warc", is_flag=True, help="The arguments are WARC or ARC files (plain or gzip): ingest their pages."
)
@click.option(
    "--files", is_flag=True, help="The arguments are saved HTML files or folders (recursive; .gz read too)."
)
@click.option(
    "--url-from",
    type=click.Path(exists=True, dir_okay=False),
    metavar="FILE",
    help="With --files: each page's URL, one 'path<TAB>url' a line (default: the page's canonical URL).",
)
@_archive_filter_options
@shared_options
@click.pass_obj
def ingest(
    state: State, /, urls: tuple[str, ...], allow_private: bool, warc: bool, files: bool, **archived: Any
) -> None:
    """Fetch URLs, extract their articles and store them; '-' reads URLs from stdin.

    Prints one line per URL (new, updated, unchanged, duplicate, near, skipped or
    failed, with the title or the reason), then a summary on stderr. Exits 1
    when any URL failed.

    With --warc the arguments are WARC or ARC files (a CC-NEWS file, a
    `wget --warc-file` output, scraper's own data/warc): each HTML response is
    extracted and stored under its target URI and capture date. Revisits,
    non-HTML, non-2xx and oversized records are skipped (one line each at -v);
    a damaged record is one warning line naming the file, offset and problem,
    and the rest of the file is read. With --files the arguments are saved
    pages or folders; a page's URL comes from --url-from, else from its own
    <link rel=canonical> or og:url (a page with neither is skipped). Progress
    shows on a terminal; exits 1 when a record or file failed.

    \b
    Example:
      scraper ingest https://www.bjreview.com.cn/Opinion/Voice/202106/t20210629_800251027.html
      cat urls.txt | scraper ingest -
      scraper ingest --warc CC-NEWS-20240501.warc.gz --site reuters.com --lang en
      scraper ingest --files saved/ --url-from urls.tsv
    """
    if warc or files:
        if warc and files:
            raise click.UsageError("--warc and --files: give one (WARC/ARC files, or saved pages)")
        _ingest_archived(state, urls, warc=warc, url_from=archived.pop("url_from"), **archived)
        return
    used = [f"--{k.replace('_', '-')}" for k, v in archived.items() if v]
    if used:
        raise click.UsageError(f"{', '.join(used)}: only with --warc or --files")
    state.allow_private = allow_private
    cfg = state.config()
    targets, unreadable = _read_urls(urls)
    if not targets and not unreadable:
        raise click.UsageError(NO_URLS_ON_STDIN if "-" in urls else NO_URLS_GIVEN)
    for result in unreadable:
        print_result(result)
    report = RunReport()
    if targets:
        try:
            report = pipeline.ingest(targets, cfg, on_result=print_result)
        except ConfigError as exc:
            raise ConfigProblem(str(exc)) from exc
        except ScraperError as exc:
            raise RunFailed(str(exc)) from exc
    for _ in unreadable:
        report.add("failed")
    if state.verbosity >= 0:
        total = output.plural(len(targets) + len(unreadable), "URL")
        click.echo(f"{total}: {outcome_counts(report.counts)}; database {shown_db(cfg)}", err=True)
    if report.failed or report.errors:
        sys.exit(1)


def _ingest_archived(
    state: State, paths: tuple[str, ...], *, warc: bool, url_from: str | None, **chosen: Any
) -> None:
    """`ingest --warc` / `--files`: progress on a terminal, a summary, exit 1 when something failed."""
    if warc and url_from:
        raise click.UsageError("--url-from is for --files; WARC and ARC records carry their URLs")
    cfg = state.config()
    try:
        filters = pipeline.Filters(
            re.compile(chosen["match"]) if chosen["match"] else None,
            tuple(s.lower().removeprefix("www.") for s in chosen["site"]),
            chosen["lang"],
            chosen["since"],
            chosen["until"],
        )
        mapping = pipeline.read_url_map(url_from) if url_from else None
    except (re.error, ValueError, UnicodeDecodeError) as exc:
        raise click.UsageError(str(exc)) from exc
    mode = "bar" if state.verbosity >= 0 and sys.stderr.isatty() else "quiet"
    show = progress.Progress(sys.stderr, mode=mode, label="ingesting")
    try:
        if warc:
            report = pipeline.ingest_archives(paths, cfg, filters, on_result=show)
        else:
            report = pipeline.ingest_files(paths, cfg, mapping, on_result=show, filters=filters)
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from exc
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    finally:
        show.close()
    if state.verbosity >= 0:
        total = output.plural(sum(report.counts.values()), "record" if warc else "file")
        counts = outcome_counts(report.counts) or "nothing"
        click.echo(f"{total}: {counts}; database {shown_db(cfg)}", err=True)
    if report.failed or report.errors:
        sys.exit(1)


NO_URLS_GIVEN = "no URLs given: pass URLs as arguments or '-' to read them from stdin"
NO_URLS_ON_STDIN = "no URLs on stdin: pipe one URL per line into 'scraper ingest -'"


def _read_urls(args: tuple[str, ...]) -> tuple[list[str], list[pipeline.UrlResult]]:
    """The URLs to ingest, and a failed result for each line or argument that is not UTF-8."""
    urls: list[str] = []
    unreadable: list[pipeline.UrlResult] = []
    for number, arg in enumerate(args, 1):
        if arg == "-":
            _read_stdin(urls, unreadable)
        elif arg.strip():
            try:
                arg.encode("utf-8")  # argv that is not UTF-8 arrives with surrogate escapes
            except UnicodeEncodeError:
                shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
                unreadable.append(_unreadable(shown, f"argument {number} is not UTF-8"))
                continue
            urls.append(arg.strip())
    return urls, unreadable


def _read_stdin(urls: list[str], unreadable: list[pipeline.UrlResult]) -> None:
    """Append stdin's URLs (one a line; blank lines and '#' comments skipped) to `urls`."""
    for number, raw in enumerate(sys.stdin.buffer, 1):
        try:
            line = raw.decode("utf-8").removeprefix("\ufeff").strip()
        except UnicodeDecodeError as exc:
            shown = raw.decode("utf-8", "backslashreplace").strip()
            where = f"byte 0x{raw[exc.start]:02x} at column {exc.start + 1}"
            reason = f"stdin line {number} is not UTF-8 ({where}); save the list as UTF-8"
            unreadable.append(_unreadable(shown, reason))
            continue
        if line and not line.startswith("#"):
            urls.append(line)


def _unreadable(shown: str, reason: str) -> pipeline.UrlResult:
    return pipeline.UrlResult(shown or "-", "failed", reason=reason)


@cli.command("extract")
@click.argument("target")
@format_option(
    ["json", "text", "markdown"],
    "text",
    "How to print the article: JSON with every field, plain text, or Markdown.",
)
@click.option("--url", "page_url", help="The page's URL, when TARGET is a file (helps dates and links).")
@click.option("--allow-private", is_flag=True, help="Allow a URL on loopback and private networks.")
@shared_options
@click.pass_obj
def extract_cmd(state: State, target: str, fmt: str, page_url: str | None, allow_private: bool) -> None:
    """Extract the article from a file or URL and print it; nothing is stored.

    A gzip-compressed file (page.html.gz) is read by its content; a binary or
    other compressed file (PNG, PDF, ZIP...) is refused with exit status 2.

    \b
    Example:
      scraper extract saved-page.html --format json
      scraper extract https://example.com/news/story.html --format markdown
    """
    state.allow_private = allow_private
    cfg = state.config()
    try:
        if target.startswith(("http://", "https://")):
            page = asyncio.run(pipeline.fetch_one(target, cfg))
            article = pipeline.extract_page(
                page, dataclasses.replace(cfg, extract=dataclasses.replace(cfg.extract, min_chars=0))
            )
        else:
            data = _readable_page(target, _read_file(target), cfg.fetch.max_bytes)
            source = cfg.source_for(page_url) if page_url else None
            article = extract(data, page_url, source.rules if source else None)
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    click.echo(format_article(article, fmt))


def _readable_page(target: str, data: bytes, cap: int) -> bytes:
    """A file's page bytes, gunzipped when gzip (by content); BadInput when binary, corrupt or too large."""
    try:
        return pipeline.saved_page(target, data, cap)
    except SkippedContent as exc:  # binary, empty, over the cap, corrupt gzip
        raise BadInput(f"{target}: {exc}; scraper extract reads an HTML page, or a gzipped one") from exc


def _read_file(target: str) -> bytes:
    if target == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(target).read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {target}: {exc.strerror}", param_hint="TARGET") from exc


def format_article(article: Article, fmt: str) -> str:
    """Render an Article as json, plain text or markdown."""
    if fmt == "json":
        data = {f.name: getattr(article, f.name) for f in dataclasses.fields(article)}
        data["published"] = article.published.isoformat() if article.published else None
        return json.dumps(data, ensure_ascii=False, indent=2)
    lines = [article.title or ""]
    facts = [x for x in (_iso(article), article.author, article.source) if x]
    if fmt == "markdown":
        head = [f"# {article.title}"] if article.title else []
        if facts:
            head.append("*" + " · ".join(facts) + "*")
        body = to_markdown(article.html) if article.html else article.text
        return "\n\n".join([*head, body])
    if facts:
        lines.append(" · ".join(facts))
    return "\n".join(lines) + "\n\n" + article.text


def _iso(article: Article) -> str | None:
    return article.published.isoformat() if article.published else None
