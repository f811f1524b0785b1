"""What every command shares: the group `cli`, State, the shared and filter options, logging.

Input: the flags before and after a command's name (--config, --db, -v, -q). Output: State on the
click context, the stderr log handler, and the ClickExceptions whose exit codes the commands use.
Settings: config.yaml through load_config(); --db overrides storage.path.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from .. import __version__, pipeline, query
from ..config import Config, is_postgres_url, load_config
from ..errors import ConfigError

# a command function, as a decorator receives and returns it
F = TypeVar("F", bound=Callable[..., Any])

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
_DB_HELP = (
    "SQLite database path (crawl, ingest, reextract, migrate: or a postgresql:// URL);"
    " overrides storage.path."
)
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


def shown_db(cfg: Config) -> str:
    """The database for a summary line: storage.path, a PostgreSQL URL without its password."""
    path = cfg.storage.path
    if not is_postgres_url(path):
        return path
    from ..store.pg.db import redact  # psycopg only when PostgreSQL is used

    return redact(path)


def print_result(result: pipeline.UrlResult) -> None:
    """One stdout line per URL: the outcome, the URL, then the title or the reason."""
    detail = result.title or result.reason or ""
    click.echo(f"{result.outcome:<{_OUTCOME_WIDTH}} {result.url}  {detail}".rstrip())


def outcome_counts(counts: dict[str, int]) -> str:
    """ "2 new, 1 skipped": a run's outcome counts for its summary line, outcomes in name order."""
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))


def format_option(choices: list[str], default: str, help_text: str) -> Callable[[F], F]:
    """The --format option of a command that prints or writes rows, passed as `fmt`."""
    return click.option(
        "--format", "fmt", type=click.Choice(choices), default=default, show_default=True, help=help_text
    )


def day_option(name: str, help_text: str) -> Any:
    """A --since/--until style option that takes a day (YYYY-MM-DD)."""

    def convert(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return query.parse_day(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc

    return click.option(name, callback=convert, help=help_text)


def filter_options(func: Any) -> Any:
    """--site, --since, --until, --author and --lang of search, export and reextract."""
    for option in reversed(
        [
            click.option("--site", multiple=True, help="Only this site (repeatable)."),
            day_option("--since", "Published on or after this day (YYYY-MM-DD)."),
            day_option("--until", "Published on or before this day (YYYY-MM-DD)."),
            click.option("--author", help="Author contains this text."),
            click.option("--lang", help="Language code, e.g. en or zh."),
        ]
    ):
        func = option(func)
    return func
