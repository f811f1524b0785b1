"""Command-line interface: flags, config, logging; calls pipeline and query, picks the exit code.

Exit codes: 0 success; 1 some URLs failed (or a ScraperError); 2 bad flags,
bad config or a bad query; 75 (EX_TEMPFAIL) another crawl holds the database's lock.
Data goes to stdout, logs and summaries to stderr.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from . import __version__, output, pipeline, progress, query, store
from .archive.export import export_warc
from .archive.write import run_info
from .config import Config, load_config, sources_from_urls
from .errors import ConfigError, CrawlLocked, QueryError, ScraperError, SkippedContent
from .extract import extract
from .extract.render import to_markdown
from .extract.version import extractor_version
from .models import Article, RunReport
from .report import format_failure_line, format_report

DEFAULT_CONFIG = "config.yaml"
_OUTCOME_WIDTH = 9
EXIT_LOCKED = 75  # sysexits.h EX_TEMPFAIL: cron may simply try again later


class ConfigProblem(click.ClickException):
    """A config error: one line, exit code 2 like a usage error."""

    exit_code = 2


class BadInput(click.ClickException):
    """Input the command cannot read (a binary or compressed file): one line, exit code 2."""

    exit_code = 2


class RunFailed(click.ClickException):
    """A ScraperError that ends a command: one line, exit code 1."""

    exit_code = 1


@dataclasses.dataclass
class State:
    """Options shared by every command."""

    config_path: str | None
    config_given: bool
    db: str | None
    allow_private: bool = False
    verbosity: int = 0

    def config(self) -> Config:
        """Load config.yaml (defaults when the default file is absent) and apply flag overrides."""
        path = self.config_path
        if not self.config_given and path and not Path(path).exists():
            path = None
        try:
            cfg = load_config(path)
        except ConfigError as exc:
            raise ConfigProblem(str(exc)) from exc
        if self.db:
            cfg = dataclasses.replace(cfg, storage=dataclasses.replace(cfg.storage, path=self.db))
        if self.allow_private:
            cfg = dataclasses.replace(cfg, fetch=dataclasses.replace(cfg.fetch, allow_private_addresses=True))
        return cfg


_CONFIG_HELP = "YAML config file (env SCRAPER_CONFIG). Code defaults apply when the default file is absent."
_DB_HELP = "SQLite database path; overrides storage.path."
_VERBOSE_HELP = "More log output on stderr (-vv for debug)."
_QUIET_HELP = "Only errors on stderr, no summaries (for cron)."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scraper")
@click.option(
    "--config",
    "config_path",
    envvar="SCRAPER_CONFIG",
    default=DEFAULT_CONFIG,
    show_default=True,
    help=_CONFIG_HELP,
)
@click.option("--db", help=_DB_HELP)
@click.option("-v", "--verbose", count=True, help=_VERBOSE_HELP)
@click.option("-q", "--quiet", is_flag=True, help=_QUIET_HELP)
@click.pass_context
def cli(ctx: click.Context, config_path: str, db: str | None, verbose: int, quiet: bool) -> None:
    """Turn news and article websites into a clean, deduplicated, searchable SQLite corpus.

    \b
    Examples:
      scraper crawl
      scraper ingest https://www.bjreview.com.cn/Opinion/Voice/202106/t20210629_800251027.html
      scraper search "international exchanges"
      scraper extract page.html --format markdown
    """
    source = ctx.get_parameter_source("config_path")
    given = source is not None and source.name != "DEFAULT"
    ctx.obj = State(config_path=config_path, config_given=given, db=db, verbosity=-1 if quiet else verbose)
    _setup_logging(-1 if quiet else verbose)


def _take_shared(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Callback of a shared option given after the subcommand: it overrides the one before it."""
    state = ctx.find_object(State)
    if state is None or ctx.get_parameter_source(param.name or "") is not ParameterSource.COMMANDLINE:
        return
    if param.name == "config_path":
        state.config_path, state.config_given = value, True
    elif param.name == "db":
        state.db = value
    elif param.name == "verbose":
        state.verbosity = value
    elif param.name == "quiet" and value:
        state.verbosity = -1
    _setup_logging(state.verbosity)


def shared_options(func: Any) -> Any:
    """--config, --db, -v and -q on a subcommand too, so they work before or after its name."""
    shared: dict[str, Any] = {"expose_value": False, "callback": _take_shared}
    for option in (
        click.option("-q", "--quiet", is_flag=True, help=_QUIET_HELP, **shared),
        click.option("-v", "--verbose", count=True, help=_VERBOSE_HELP, **shared),
        click.option("--db", help=_DB_HELP, **shared),
        click.option("--config", "config_path", help=_CONFIG_HELP, **shared),
    ):
        func = option(func)
    return func


def _setup_logging(verbosity: int) -> None:
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request at INFO; keep that for -vv.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)


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
        _print_result(result)
    report = RunReport()
    if targets:
        try:
            report = pipeline.ingest(targets, cfg, on_result=_print_result)
        except ScraperError as exc:
            raise RunFailed(str(exc)) from exc
    for _ in unreadable:
        report.add("failed")
    if state.verbosity >= 0:
        parts = [f"{n} {k}" for k, n in sorted(report.counts.items())]
        total = output.plural(len(targets) + len(unreadable), "URL")
        click.echo(f"{total}: {', '.join(parts)}; database {cfg.storage.path}", err=True)
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
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    finally:
        show.close()
    if state.verbosity >= 0:
        parts = [f"{n} {k}" for k, n in sorted(report.counts.items())]
        total = output.plural(sum(report.counts.values()), "record" if warc else "file")
        click.echo(f"{total}: {', '.join(parts) or 'nothing'}; database {cfg.storage.path}", err=True)
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


def _print_result(result: pipeline.UrlResult) -> None:
    detail = result.title or result.reason or ""
    click.echo(f"{result.outcome:<{_OUTCOME_WIDTH}} {result.url}  {detail}".rstrip())


@cli.command("extract")
@click.argument("target")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "text", "markdown"]),
    default="text",
    show_default=True,
    help="How to print the article: JSON with every field, plain text, or Markdown.",
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


def _day_option(name: str, help_text: str) -> Any:
    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return query.parse_day(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc

    return click.option(name, callback=convert, help=help_text)


def _filter_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--site", multiple=True, help="Only this site (repeatable)."),
            _day_option("--since", "Published on or after this day (YYYY-MM-DD)."),
            _day_option("--until", "Published on or before this day (YYYY-MM-DD)."),
            click.option("--author", help="Author contains this text."),
            click.option("--lang", help="Language code, e.g. en or zh."),
        ]
    ):
        func = option(func)
    return func


@cli.command()
@click.argument("text")
@_filter_options
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Rows to show.")
@click.option("--offset", default=0, type=click.IntRange(0), help="Skip this many rows (paging).")
@click.option("--raw", is_flag=True, help="Pass FTS5 syntax through (AND, OR, NEAR, prefix*, column:).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "jsonl", "csv"]),
    default="table",
    show_default=True,
    help="A table with snippets, JSON, JSON lines or CSV.",
)
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
@_filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "json", "csv", "warc"]),
    default="jsonl",
    show_default=True,
    help="JSON lines (one article a line), one JSON array, CSV, or WARC (the archived pages).",
)
@click.option("-o", "--output", "out", default="-", show_default=True, help="Output file; '-' is stdout.")
@shared_options
@click.pass_obj
def export(state: State, /, fmt: str, out: str, **filters: Any) -> None:
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
    """
    cfg = state.config()
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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Readable text, or JSON with every field.",
)
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
            cfg, sources=sources or None, max_pages=max_pages, dry_run=dry_run, on_event=on_event
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
    where = (
        "nothing stored (dry run)" if report.dry_run else f"run {report.run_id}, database {cfg.storage.path}"
    )
    return f"{format_report(report)}\ncrawl finished: {where}, exit status {report.exit_status}"


@cli.command()
@click.option("--runs", default=10, show_default=True, type=click.IntRange(1), help="Last runs to show.")
@click.option(
    "--failures", default=10, show_default=True, type=click.IntRange(0), help="Recent failures to show."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Readable tables, or JSON.",
)
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
    return _day_option("--since", "Only stories with a member first seen on or after this day (YYYY-MM-DD).")(
        func
    )


@cli.command()
@click.option("--site", multiple=True, help="Only stories with a member on this site (repeatable).")
@_story_since_option
@click.option("--min-size", default=2, show_default=True, type=click.IntRange(2), help="Fewest members.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1), help="Stories to show.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "jsonl", "csv"]),
    default="table",
    show_default=True,
    help="A table, JSON, JSON lines or CSV.",
)
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


@cli.command()
@click.option("--rebuild", is_flag=True, help="Recompute every article's anchors and stories.")
@shared_options
@click.pass_obj
def dedupe(state: State, rebuild: bool) -> None:
    """Rebuild the near-duplicate index of an existing database (dedupe.near, dedupe.near_threshold).

    Databases from before near-duplicate detection need it once. In link mode a stored row that
    repeats an older row's story is folded into it (its URLs become 'near' URLs of the older row).

    \b
    Example:
      scraper dedupe --rebuild
    """
    if not rebuild:
        raise click.UsageError("nothing to do: pass --rebuild to recompute the near-duplicate index")
    cfg = state.config()
    bar = state.verbosity >= 0 and sys.stderr.isatty()
    try:
        db = store.open_db(cfg.storage.path)
        try:
            with (
                click.progressbar(length=0, label="rebuilding", file=sys.stderr)
                if bar
                else nullcontext() as shown
            ):
                counts = store.rebuild_near(
                    db, cfg.dedupe.near, cfg.dedupe.near_threshold, _bar_updater(shown) if bar else None
                )
        finally:
            db.close()
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    if state.verbosity >= 0:
        click.echo(
            f"{output.plural(counts['articles'], 'article')}: {counts['indexed']} indexed, "
            f"{counts['linked']} folded into an older story, {counts['grouped']} grouped",
            err=True,
        )


def _bar_updater(shown: Any) -> Callable[[int, int], None]:
    def update(done: int, total: int) -> None:
        shown.length = total
        shown.update(done - shown.pos)

    return update


@cli.command()
@_filter_options
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
            _print_result(result)

    try:
        report = pipeline.reextract(cfg, query.Filters(**filters), dry_run=dry_run, on_result=on_result)
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    finally:
        shown.close()
    if state.verbosity >= 0:
        parts = [f"{n} {k}" for k, n in sorted(report.counts.items())]
        checked = output.plural(sum(report.counts.values()), "archived article")
        would = " (dry run: nothing written)" if dry_run else ""
        click.echo(
            f"{checked}: {', '.join(parts) or 'nothing to do'}{would}; database {cfg.storage.path}", err=True
        )
    if report.counts.get("failed"):
        sys.exit(1)


@cli.command()
@shared_options
@click.pass_obj
def migrate(state: State) -> None:
    """Create the database, or bring its schema up to date, and print the schema version.

    Every command does this on its own; run it to upgrade a database ahead of time.

    \b
    Example:
      scraper --db data/articles.db migrate
    """
    cfg = state.config()
    shown = _index_progress if state.verbosity >= 0 and sys.stderr.isatty() else None
    token = store.INDEX_PROGRESS.set(shown)
    try:
        db = store.open_db(cfg.storage.path)
        version = store.schema_version(db)
        db.close()
    except ScraperError as exc:
        raise RunFailed(str(exc)) from exc
    finally:
        store.INDEX_PROGRESS.reset(token)
    click.echo(f"{cfg.storage.path}: schema version {version}")


def _index_progress(done: int, total: int) -> None:
    """One redrawn stderr line while a migration rebuilds the full-text index."""
    click.echo(f"\rindexing articles: {done:,} of {total:,}", err=True, nl=done >= total)
