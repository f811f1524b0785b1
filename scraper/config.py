"""Typed configuration: code defaults, overridden by config.yaml, overridden by CLI flags.

Input: a YAML file path. Output: a frozen Config tree. This is the only module
that reads YAML. Every problem is a ConfigError whose one-line message names
the file, the key path and the fix, e.g.
"config.yaml: fetch.retries must be an integer >= 0, got 'three'".
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import types
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

import yaml
from cssselect import SelectorError
from lxml.cssselect import CSSSelector

from .errors import ConfigError
from .urls import canonicalize_url

DEFAULT_USER_AGENT = "scraper/0.1 (news corpus builder; +https://pypi.org/project/scraper/)"
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# What each list key holds, for the message when a lone string is given instead of a list.
_LIST_ITEMS = {
    "start_urls": "URLs",
    "sitemaps": "URLs",
    "feeds": "URLs",
    "allow": "regular expressions",
    "deny": "regular expressions",
    "drop": "CSS selectors",
}
# The keys under a source's `rules` that hold CSS selectors (drop holds a list of them).
_RULE_KEYS = tuple(f"rules.{name}" for name in ("title", "body", "date", "author", "source", "drop"))
# Header and cookie names are HTTP tokens (RFC 9110 5.6.2): a space, colon or newline would let a
# config value split or forge a header line (httpx refuses them only when the request is sent).
_TOKEN_RE = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_SPACE_RE = re.compile(r"\s")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # tab is allowed in header values


# storage.archive_max_bytes: a WARC file is rotated once it reaches this size (1 GiB, the size
# Common Crawl and Heritrix use); the floor keeps a typo from making one file per record.
ARCHIVE_MAX_BYTES = 1024**3
ARCHIVE_MIN_BYTES = 1024


# URL schemes that name a PostgreSQL database in storage.path (or --db) rather than a SQLite file.
POSTGRES_SCHEMES = ("postgresql", "postgres")


def is_postgres_url(location: str) -> bool:
    """Whether storage.path (or --db) names a PostgreSQL database (postgresql://...) rather than a file."""
    scheme, sep, _ = location.partition("://")
    return bool(sep) and scheme.lower() in POSTGRES_SCHEMES


def data_folder(location: str | Path) -> Path:
    """The folder relative storage paths (the WARC archive, its pointers) are kept against.

    A SQLite file's own folder (the data folder moves as one piece); for a postgresql:// URL, whose
    database lives on a server, the working directory (where cron starts each worker).
    """
    if is_postgres_url(str(location)):
        return Path.cwd()
    return Path(location).resolve().parent


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """Where the SQLite database lives, and the WARC archive of what was fetched (scraper/archive)."""

    path: str = "data/articles.db"
    # Keep every fetched page as WARC records (storage.archive_dir); a row points at its record.
    archive: bool = True
    # "" = a `warc` folder beside the database; a relative path is relative to the database's folder
    # (on PostgreSQL: to the working directory, see data_folder()).
    archive_dir: str = ""
    archive_max_bytes: int = ARCHIVE_MAX_BYTES
    # Also archive robots.txt, sitemaps and feeds (not needed to re-extract articles).
    archive_resources: bool = False

    def archive_path(self) -> Path | None:
        """The folder WARC files go to; None when archiving is off or the database is in memory."""
        if not self.archive or (self.path == ":memory:" and not self.archive_dir):
            return None
        return data_folder(self.path) / (self.archive_dir or "warc")


@dataclass(frozen=True, slots=True)
class FetchConfig:
    """HTTP client settings; sizes are bytes, times are seconds."""

    user_agent: str = DEFAULT_USER_AGENT
    timeout: float = 20.0
    connect_timeout: float = 10.0
    deadline: float = 60.0
    max_bytes: int = 5 * 1024 * 1024
    retries: int = 2
    backoff: float = 1.0
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    max_redirects: int = 10
    allow_private_addresses: bool = False
    # Extra request headers and cookies (YAML mappings), and an http(s) proxy URL; a source may add its own.
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    proxy: str | None = None


@dataclass(frozen=True, slots=True)
class ExtractConfig:
    """Extraction thresholds."""

    min_chars: int = 200
    # Seconds one page may take in extraction; past it the worker is replaced and the page skipped.
    time_limit: float = 30.0


# What a near-duplicate of a stored article does (see store/near.py): link its URL to the stored
# story (no second row), group both rows under one story_id, or nothing (no anchors computed).
NEAR_MODES = ("link", "group", "off")


@dataclass(frozen=True, slots=True)
class DedupeConfig:
    """Near-duplicate detection: the mode (NEAR_MODES) and the containment threshold."""

    near: str = "link"
    # Shared anchors over the smaller text's anchors (dedupe.NEAR_MIN_CONTAINMENT, the measured default).
    near_threshold: float = 0.7


@dataclass(frozen=True, slots=True)
class CrawlConfig:
    """Scheduled-crawl settings (scraper crawl)."""

    concurrency: int = 8
    per_host_delay: float = 1.0
    obey_robots: bool = True
    recheck_after: float = 7 * 86400.0
    max_crawl_delay: float = 30.0
    max_failure_ratio: float = 0.5
    workers: int = 0
    # A run stops cleanly (batch committed, run recorded) after this long, before the next hourly
    # cron slot; 0 means no limit.
    max_run_time: float = 55 * 60.0


@dataclass(frozen=True, slots=True)
class Rules:
    """Per-site CSS selectors that take precedence over the generic extractor."""

    title: str | None = None
    body: str | None = None
    date: str | None = None
    author: str | None = None
    source: str | None = None
    drop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Source:
    """One configured site."""

    name: str
    start_urls: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    article_pattern: str | None = None
    max_depth: int = 3
    max_pages: int = 500
    rules: Rules = field(default_factory=Rules)
    # Per-source fetch settings; None / empty means the fetch (or crawl) section's value.
    user_agent: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[tuple[str, str], ...] = ()
    proxy: str | None = None
    per_host_delay: float | None = None

    def fetch_config(self, base: FetchConfig) -> FetchConfig:
        """The fetch settings for this source: base, with this source's agent, headers, cookies, proxy."""
        return dataclasses.replace(
            base,
            user_agent=self.user_agent or base.user_agent,
            headers=_merge_pairs(base.headers, self.headers),
            cookies=_merge_pairs(base.cookies, self.cookies),
            proxy=self.proxy or base.proxy,
        )


def _merge_pairs(
    base: tuple[tuple[str, str], ...], extra: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    merged = {k.lower(): (k, v) for k, v in base}
    merged.update({k.lower(): (k, v) for k, v in extra})
    return tuple(merged.values())


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration tree."""

    storage: StorageConfig = field(default_factory=StorageConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    dedupe: DedupeConfig = field(default_factory=DedupeConfig)
    sources: tuple[Source, ...] = ()
    path: str | None = None

    def source_for(self, url: str) -> Source | None:
        """The configured source whose start URLs share the URL's host, if any."""
        host = (urlsplit(url).hostname or "").lower()
        for source in self.sources:
            hosts = {(urlsplit(u).hostname or "").lower() for u in source.start_urls}
            if host in hosts or any(host.endswith("." + h.removeprefix("www.")) for h in hosts):
                return source
        return None


# Range checks: key path suffix -> (minimum, description of the rule)
_MINIMUMS: dict[str, tuple[float, str]] = {
    "fetch.timeout": (0.001, "a number > 0"),
    "fetch.connect_timeout": (0.001, "a number > 0"),
    "fetch.deadline": (0.001, "a number > 0"),
    "fetch.max_bytes": (1024, "an integer >= 1024"),
    "storage.archive_max_bytes": (ARCHIVE_MIN_BYTES, f"an integer >= {ARCHIVE_MIN_BYTES} (bytes per file)"),
    "fetch.retries": (0, "an integer >= 0"),
    "fetch.backoff": (0, "a number >= 0"),
    "fetch.max_backoff": (0, "a number >= 0"),
    "fetch.max_retry_after": (0, "a number >= 0"),
    "fetch.max_redirects": (0, "an integer >= 0"),
    "extract.min_chars": (0, "an integer >= 0"),
    "crawl.concurrency": (1, "an integer >= 1"),
    "crawl.per_host_delay": (0, "a number >= 0"),
    "crawl.recheck_after": (0, "a duration >= 0 such as 7d"),
    "crawl.max_crawl_delay": (0, "a number >= 0"),
    "crawl.max_failure_ratio": (0, "a number between 0 and 1"),
    "crawl.workers": (0, "an integer >= 0 (0: one extraction process per CPU core)"),
    "crawl.max_run_time": (0, "a duration >= 0 such as 55m (0: no limit)"),
    "extract.time_limit": (0.1, "a number of seconds >= 0.1"),
    "dedupe.near_threshold": (0.01, "a number between 0.01 and 1"),
    "per_host_delay": (0, "a number >= 0"),
    "max_depth": (0, "an integer >= 0"),
    "max_pages": (1, "an integer >= 1"),
}
_DURATIONS = {"crawl.recheck_after", "crawl.max_run_time"}


def load_config(path: str | Path | None) -> Config:
    """Read and validate a YAML config; None or a missing default path gives code defaults.

    Raises:
        ConfigError: the file is unreadable, not YAML, or has a bad key or value.
    """
    if path is None:
        return Config()
    file = Path(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: file not found; pass --config PATH or create it") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read it: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{file}: not valid YAML{where}; check indentation and quoting") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: the top level must be a mapping of sections, got {type(raw).__name__}")
    config: Config = _build(Config, raw, str(file), "")
    names = [s.name for s in config.sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{file}: sources: name {dupes[0]!r} is used twice; names must be unique")
    return dataclasses.replace(config, path=str(file))


def is_crawlable_url(value: str) -> bool:
    """An http(s) URL with a host, a valid port and no whitespace (checked before any network)."""
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a port that is not a number or out of range
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not _SPACE_RE.search(value)


def sources_from_urls(
    urls: Iterable[str],
    *,
    sitemaps: Iterable[str] = (),
    feeds: Iterable[str] = (),
    allow: Iterable[str] = (),
    article_pattern: str | None = None,
    max_depth: int | None = None,
    max_pages: int | None = None,
) -> tuple[Source, ...]:
    """One Source per distinct host of the URLs, for `scraper crawl URL...` without configured sources.

    A source is named after its host without "www."; a sitemap or feed joins the source of its host,
    or makes its own. Without `allow`, each source stays on the hosts of its own URLs.

    Raises:
        ConfigError: a URL that is not http(s) with a host, or a pattern that is not a regex.
    """
    given = {"start_urls": list(urls), "sitemaps": list(sitemaps), "feeds": list(feeds)}
    patterns = list(allow)
    _check_crawl_args(given, patterns, article_pattern)
    grouped: dict[str, dict[str, list[str]]] = {}
    for kind, items in given.items():
        for url in items:
            name = (urlsplit(url).hostname or "").lower().rstrip(".").removeprefix("www.")
            group = grouped.setdefault(name, {"start_urls": [], "sitemaps": [], "feeds": []})
            group[kind].append(url.strip())
    defaults = Source(name="")
    return tuple(
        Source(
            name=name,
            start_urls=tuple(dict.fromkeys(group["start_urls"])),
            sitemaps=tuple(dict.fromkeys(group["sitemaps"])),
            feeds=tuple(dict.fromkeys(group["feeds"])),
            allow=tuple(patterns) or _host_patterns([u for items in group.values() for u in items]),
            article_pattern=article_pattern,
            max_depth=defaults.max_depth if max_depth is None else max_depth,
            max_pages=defaults.max_pages if max_pages is None else max_pages,
        )
        for name, group in grouped.items()
    )


# The command-line option each kind of crawl URL comes from, for error messages.
_CRAWL_URL_LABELS = {"start_urls": "URL", "sitemaps": "--sitemap", "feeds": "--feed"}


def _check_crawl_args(given: dict[str, list[str]], allow: list[str], article_pattern: str | None) -> None:
    """Every URL crawlable and every pattern a regex, else a ConfigError naming the option."""
    for kind, items in given.items():
        for url in items:
            if not is_crawlable_url(url):
                label = _CRAWL_URL_LABELS[kind]
                raise ConfigError(
                    f"{label} {url!r} is not an http(s) URL with a host, e.g. https://example.com/"
                )
    labelled = [("--allow", p) for p in allow] + [("--article-pattern", article_pattern or "")]
    for label, pattern in labelled:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"{label} {pattern!r} is not a valid regular expression ({exc})") from exc


def _host_patterns(urls: list[str]) -> tuple[str, ...]:
    """Allow patterns keeping a crawl on these URLs' hosts (the default scope of start URLs)."""
    netlocs = dict.fromkeys(canonicalize_url(u).split("/")[2] for u in urls)
    return tuple("^https?://" + re.escape(netloc) + "(?:[/?]|$)" for netloc in netlocs)


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string such as '90', '15m', '7d'."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, (int, float)):
        return float(value)
    match = _DURATION_RE.match(str(value))
    if not match:
        raise ValueError(value)
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


def _build(cls: type, raw: Any, file: str, prefix: str) -> Any:
    where = prefix.rstrip(".") or "top level"
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: {where} must be a mapping, got {_show(raw)}")
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if not (cls is Config and f.name == "path")]
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else f"; valid keys: {', '.join(names)}"
            raise ConfigError(f"{file}: unknown key '{prefix}{key}'{hint}")
        values[key] = _convert(hints[key], value, file, f"{prefix}{key}")
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in values and _required(f)]
    if missing:
        raise ConfigError(f"{file}: {where} is missing the required key '{prefix}{missing[0]}'")
    return cls(**values)


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _convert(hint: Any, value: Any, file: str, key: str) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        hint = next(a for a in get_args(hint) if a is not type(None))
        origin = get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, {} if value is None else value, file, key + ".")  # type: ignore[arg-type]
    if origin is tuple and get_args(hint)[0] == tuple[str, str]:
        return _convert_pairs(value, file, key)
    if origin is tuple:
        return _convert_tuple(get_args(hint)[0], value, file, key)
    if hint is str:
        return _convert_str(value, file, key)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{file}: {key} must be true or false, got {_show(value)}")
        return value
    return _convert_number(hint, value, file, key)


def _convert_tuple(item: Any, value: Any, file: str, key: str) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        # A lone string was once read as a one-item list, silently; "a b" then became one URL with a
        # space. One rule for every list key: say so, and show how to write it.
        leaf = re.sub(r"\[\d+\]", "", key).rsplit(".", 1)[-1]
        what = _LIST_ITEMS.get(leaf, "strings")
        raise ConfigError(f"{file}: {key} must be a list of {what}; write {leaf}: [{json.dumps(value)}]")
    if not isinstance(value, list):
        raise ConfigError(f"{file}: {key} must be a list, got {_show(value)}")
    return tuple(_convert(item, v, file, f"{key}[{i}]") for i, v in enumerate(value))


def _convert_pairs(value: Any, file: str, key: str) -> tuple[tuple[str, str], ...]:
    """A YAML mapping of names to strings (headers, cookies), kept as a tuple of pairs."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise ConfigError(f"{file}: {key} must be a mapping of names to strings, got {_show(value)}")
    pairs = []
    for name, item in value.items():
        if not isinstance(name, str) or not _TOKEN_RE.match(name):
            raise ConfigError(
                f"{file}: {key}: {name!r} is not a valid name; use letters, digits and "
                "!#$%&'*+-.^_`|~ (no spaces, colons or control characters)"
            )
        if isinstance(item, (dict, list)) or item is None:
            raise ConfigError(f"{file}: {key}.{name} must be a string, got {_show(item)}")
        if _CONTROL_RE.search(str(item)):
            raise ConfigError(f"{file}: {key}.{name} must not contain control characters, got {str(item)!r}")
        pairs.append((name, str(item)))
    return tuple(pairs)


def _convert_str(value: Any, file: str, key: str) -> str:
    if key == "dedupe.near" and value is False:
        return "off"  # YAML 1.1 reads an unquoted `off` as false
    if key == "storage.archive_dir" and (value is None or value == ""):
        return ""  # the default: a `warc` folder beside the database
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{file}: {key} must be a non-empty string, got {_show(value)}")
    base = re.sub(r"\[\d+\]", "", key)
    leaf = base.rsplit(".", 1)[-1]
    if leaf in ("start_urls", "sitemaps", "feeds"):
        if not is_crawlable_url(value):
            raise ConfigError(f"{file}: {key} must be an http(s) URL with a host, got {value!r}")
    elif leaf in ("allow", "deny", "article_pattern"):
        try:
            re.compile(value)
        except re.error as exc:
            raise ConfigError(f"{file}: {key} is not a valid regular expression ({exc}): {value!r}") from exc
    elif leaf == "proxy":
        _check_proxy(value, file, key)
    elif base == "dedupe.near" and value not in NEAR_MODES:
        raise ConfigError(f"{file}: {key} must be one of {', '.join(NEAR_MODES)}, got {value!r}")
    elif leaf == "user_agent" and _CONTROL_RE.search(value):
        raise ConfigError(f"{file}: {key} must not contain control characters, got {value!r}")
    elif base.endswith(_RULE_KEYS):
        _check_selector(value, file, key)
    return value


def _check_proxy(value: str, file: str, key: str) -> None:
    """An http(s) proxy URL with a host; a password in it is not repeated in the message."""
    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        _ = parts.port  # raises on a port that is not a number or out of range
    except ValueError:
        ok = False
    if not ok or any(c.isspace() for c in value):
        shown = re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", value)
        example = "http://proxy.example:3128"
        raise ConfigError(f"{file}: {key} must be an http(s) proxy URL such as {example}, got {shown!r}")


def _check_selector(value: str, file: str, key: str) -> None:
    """A rules selector compiles as extraction will compile it (lxml's CSSSelector, HTML rules)."""
    try:
        CSSSelector(value, translator="html")
    except (SelectorError, SyntaxError) as exc:
        raise ConfigError(f"{file}: {key} is not a valid CSS selector ({exc}): {value!r}") from exc


def _convert_number(hint: Any, value: Any, file: str, key: str) -> int | float:
    suffix = key.rsplit(".", 1)[-1]
    rule = _MINIMUMS.get(key) or _MINIMUMS.get(suffix) or (float("-inf"), "a number")
    minimum, described = rule
    try:
        if key in _DURATIONS:
            number: float = parse_duration(value)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(value)
        else:
            number = value
        if hint is int and number != int(number):
            raise ValueError(value)
    except ValueError:
        raise ConfigError(f"{file}: {key} must be {described}, got {_show(value)}") from None
    too_big = key in ("crawl.max_failure_ratio", "dedupe.near_threshold") and number > 1
    if number < minimum or too_big:
        raise ConfigError(f"{file}: {key} must be {described}, got {_show(value)}")
    return int(number) if hint is int else float(number)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if value is None:
        return "nothing"
    if isinstance(value, (dict, list)):
        return f"a {'mapping' if isinstance(value, dict) else 'list'}"
    return repr(value)
