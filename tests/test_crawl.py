"""End-to-end tests of `scraper crawl` on the fixture news site (tests/fixtures/site/, README there).

A real HTTP server on 127.0.0.1, real SQLite files, real worker processes, no mocks. The site's
robots.txt asks for Crawl-delay: 3; the tests cap it with crawl.max_crawl_delay (CRAWL_DELAY) so a
full crawl takes a few seconds, and check from the server's side that requests keep that gap.

Tests of storage behaviour run on both backends (tests/backends.py): a SQLite file and a database on
the test PostgreSQL. The ones that stay SQLite-only say why: the per-file crawl lock (PostgreSQL's
per-worker lock and its kill -9 test are in tests/test_pg_crawl.py) and --dry-run (refused there).
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scraper.archive import resolve_path
from scraper.cli import cli
from scraper.config import Config, load_config
from scraper.errors import ConfigError, CrawlLocked
from scraper.lockfile import hold_lock, lock_path
from scraper.pipeline import UrlResult, run_crawl
from scraper.progress import Progress
from tests.backends import BACKENDS, query_rows
from tests.pgserver import PgServer
from tests.server import FixtureServer

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(__file__).resolve().parent / "fixtures" / "site"
CRAWL_DELAY = 0.05  # crawl.max_crawl_delay in these tests: robots.txt's Crawl-delay: 3, capped
EXPECTED = {f"/site/articles/a{n:02d}.html" for n in range(1, 43)}
ARTICLE_PATTERN = r"/a\d+\.html(?:\?|$)"


def write_config(folder: Path, server: FixtureServer, *, db: str | None = None, **overrides: Any) -> Path:
    """A config for the fixture site; overrides replace crawl keys or source keys (source_<key>).

    db: the storage (a SQLite path or a postgresql:// URL); folder/corpus.db when None.
    """
    crawl = {"per_host_delay": 0, "max_crawl_delay": CRAWL_DELAY, "workers": 1, "concurrency": 4}
    source: dict[str, Any] = {
        "name": "fixture",
        "start_urls": [server.url("/site/")],
        "allow": [f"^{re.escape(server.base_url)}/site/"],
        "article_pattern": ARTICLE_PATTERN,
        "max_depth": 2,
    }
    for key, value in overrides.items():
        if key.startswith("source_"):
            source[key.removeprefix("source_")] = value
        else:
            crawl[key] = value
    config: dict[str, Any] = {
        "storage": {"path": db or str(folder / "corpus.db")},
        "fetch": {"allow_private_addresses": True, "retries": 0, "timeout": 5, "deadline": 10},
        "crawl": crawl,
        "sources": [{k: v for k, v in source.items() if v is not None}],
    }
    if is_pg(config["storage"]["path"]):
        config["storage"]["archive_dir"] = str(folder / "warc")  # no folder beside a PostgreSQL database
    path = folder / "config.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def is_pg(db: str | Path) -> bool:
    return str(db).startswith("postgresql://")


def stored_paths(db: str | Path) -> list[str]:
    """The URL paths of stored articles, one entry per row (duplicates would show twice)."""
    urls = [row["url"] for row in query_rows(db, "SELECT url FROM articles")]
    return sorted(re.sub(r"^https?://[^/]+", "", url) for url in urls)


def query(db: str | Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows as tuples, on either backend."""
    return [tuple(row.values()) for row in query_rows(db, sql, params)]


def intact(db: str | Path) -> bool:
    """SQLite's integrity check passes (PostgreSQL keeps its own; nothing to check there)."""
    return is_pg(db) or query(db, "PRAGMA integrity_check") == [("ok",)]


class Recorder:
    """An on_event callback that keeps every UrlResult."""

    def __init__(self) -> None:
        self.results: list[UrlResult] = []

    def __call__(self, result: UrlResult) -> None:
        self.results.append(result)

    def outcomes(self, outcome: str) -> list[str]:
        return [re.sub(r"^https?://[^/]+", "", r.url) for r in self.results if r.outcome == outcome]


@pytest.fixture(scope="module", params=BACKENDS)
def first_run(
    server: FixtureServer, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[str, Any]]:
    """One crawl of the fixture site into a fresh database per backend; later tests copy that database."""
    folder = tmp_path_factory.mktemp("first")
    pg: PgServer | None = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    db = pg.database() if pg else None
    cfg = load_config(write_config(folder, server, db=db))
    server.reset()
    events = Recorder()
    started = time.monotonic()
    report = run_crawl(cfg, on_event=events)
    yield {
        "cfg": cfg,
        "db": db or Path(cfg.storage.path),
        "pg": pg,
        "report": report,
        "events": events,
        "requests": server.requests,
        "seconds": time.monotonic() - started,
    }
    if pg and db:
        pg.drop(db)


def copy_db(first: dict[str, Any], folder: Path, server: FixtureServer, **overrides: Any) -> Config:
    """A config over a copy of the first run's database (a SQLite file, or a PostgreSQL database)."""
    pg: PgServer | None = first["pg"]
    if pg:
        return load_config(write_config(folder, server, db=pg.copy(str(first["db"])), **overrides))
    shutil.copy(first["db"], folder / "corpus.db")
    return load_config(write_config(folder, server, **overrides))


# -- first run -------------------------------------------------------------------------------------


def test_first_run_stores_exactly_the_expected_articles(first_run: dict[str, Any]) -> None:
    stored = stored_paths(first_run["db"])
    assert stored == sorted(EXPECTED)  # a05 once, though it is linked at two URLs; no private article
    counts = first_run["report"].sources["fixture"].counts
    assert counts["new"] == 42
    assert counts["duplicate"] == 1  # a05.html?from=home
    assert first_run["report"].exit_status == 0


def test_first_run_follows_sections_but_never_stores_them(first_run: dict[str, Any]) -> None:
    events = first_run["events"]
    listings = set(events.outcomes("listing"))
    for section in ("world", "business", "culture"):
        assert f"/site/{section}/" in listings
        assert f"/site/{section}/page-2.html" in listings  # pagination followed
    assert "/site/" in listings
    assert not any("/private/" in path for path in events.outcomes("new"))


def test_first_run_uses_robots_sitemaps_and_feeds(first_run: dict[str, Any]) -> None:
    routes = [r.route for r in first_run["requests"]]
    assert routes.count("/robots.txt") == 1
    assert "/site/sitemap_index.xml" in routes  # from robots.txt's Sitemap: line
    assert "/site/sitemap-articles.xml.gz" in routes  # a child of the index, gzipped
    assert "/site/feed.xml" in routes  # from <link rel=alternate> on the home page
    assert not [route for route in routes if route.startswith("/site/private/")]  # robots.txt Disallow
    new = set(first_run["events"].outcomes("new"))
    assert "/site/articles/a39.html" in new  # linked only from the feed
    assert {"/site/articles/a40.html", "/site/articles/a42.html"} <= new  # listed only in the sitemap


def test_first_run_records_skips_failures_and_the_run(first_run: dict[str, Any]) -> None:
    events, db = first_run["events"], first_run["db"]
    assert events.outcomes("failed") == ["/site/articles/a77.html"]  # the broken link
    skipped = set(events.outcomes("skipped"))
    assert "/site/files/annual-report.pdf" in skipped
    assert {"/site/private/a90.html", "/site/private/a91.html"} <= skipped  # sitemap-listed, disallowed
    reasons = dict(query(db, "SELECT url, reason FROM frontier WHERE state IN ('failed', 'skipped')"))
    assert any("HTTP 404" in reason for url, reason in reasons.items() if url.endswith("a77.html"))
    assert any("robots.txt" in reason for url, reason in reasons.items() if "/private/" in url)
    (run,) = query(db, "SELECT id, finished IS NOT NULL, exit_status FROM runs")
    assert run[1:] == (1, 0)
    (row,) = query(db, "SELECT new, duplicate, failed, fetched FROM run_sources WHERE run_id = ?", run[0])
    counts = first_run["report"].sources["fixture"].counts
    assert row == (42, 1, 1, counts["fetched"])
    assert query(db, "SELECT count(*) FROM robots_cache") == [(1,)]
    assert intact(db)


def test_every_stored_article_points_at_its_archived_response(first_run: dict[str, Any]) -> None:
    db = first_run["db"]
    refs = query(db, "SELECT url, warc_file, warc_offset, warc_length FROM articles")
    assert len(refs) == 42
    for url, file, offset, length in refs:
        assert Path(file).is_absolute() == is_pg(db)  # PostgreSQL rows keep absolute paths, SQLite's relative
        path = resolve_path(db, file)
        with path.open("rb") as stream:
            stream.seek(offset)
            record = gzip.decompress(stream.read(length))
        assert record.startswith(b"WARC/1.1\r\n")
        assert f"WARC-Target-URI: {url}".encode() in record


def test_on_postgresql_the_archive_needs_an_absolute_folder(
    server: FixtureServer, tmp_path: Path, pg_url: str
) -> None:
    config = write_config(tmp_path, server, db=pg_url)
    data = json.loads(config.read_text())
    del data["storage"]["archive_dir"]
    config.write_text(json.dumps(data))
    server.reset()
    result = CliRunner().invoke(cli, ["--config", str(config), "crawl"])
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert "storage.archive_dir" in line
    assert "storage.archive: false" in line
    assert not server.requests
    assert not list(Path.cwd().glob("postgresql*"))  # before, the archive went to ./postgresql:/...


def test_requests_to_one_host_keep_the_crawl_delay(first_run: dict[str, Any]) -> None:
    times = [r.time for r in first_run["requests"]]  # one host: every request of the run
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) > 50
    assert min(gaps) >= CRAWL_DELAY * 0.95, sorted(gaps)[:5]  # robots.txt's delay, capped, never less


# -- later runs ------------------------------------------------------------------------------------


def test_second_run_stores_nothing_and_gets_304s(
    first_run: dict[str, Any], fresh_server: FixtureServer, tmp_path: Path
) -> None:
    cfg = copy_db(first_run, tmp_path, fresh_server)
    events = Recorder()
    report = run_crawl(cfg, on_event=events)
    counts = report.sources["fixture"].counts
    assert not {"new", "updated", "duplicate"} & set(counts)
    requests = fresh_server.requests
    assert requests, "start pages, sitemaps and feeds are fetched every run"
    assert all("If-None-Match" in r.headers for r in requests)  # conditional GETs only
    answered_304 = {note.split()[1] for note in fresh_server.notes if note.startswith("304 ")}
    assert {"/site/", "/site/world/", "/site/feed.xml", "/site/sitemap_index.xml"} <= answered_304
    assert not [r for r in requests if r.route.startswith("/site/articles/")]  # not due yet
    assert "/robots.txt" not in [r.route for r in requests]  # cached for 24 h
    assert stored_paths(cfg.storage.path) == sorted(EXPECTED)


def test_third_run_stores_exactly_a_new_article(
    first_run: dict[str, Any], fresh_server: FixtureServer, tmp_path: Path
) -> None:
    cfg = copy_db(first_run, tmp_path, fresh_server)
    home = (SITE / "index.html").read_bytes()
    link = b'<li class="teaser"><a href="/site/articles/a43.html">Just in</a></li>'
    fresh_server.overlay["/site/"] = (
        200,
        "text/html",
        home.replace(b'<ul class="list">', b'<ul class="list">' + link),
    )
    fresh_server.overlay["/site/articles/a43.html"] = (
        200,
        "text/html",
        (SITE / "new" / "a43.html").read_bytes(),
    )
    report = run_crawl(cfg)
    counts = report.sources["fixture"].counts
    assert counts["new"] == 1
    assert stored_paths(cfg.storage.path) == sorted([*EXPECTED, "/site/articles/a43.html"])
    article_requests = [r.route for r in fresh_server.requests if r.route.startswith("/site/articles/")]
    assert article_requests == ["/site/articles/a43.html"]


def test_due_articles_are_rechecked_with_conditional_requests(
    first_run: dict[str, Any], fresh_server: FixtureServer, tmp_path: Path
) -> None:
    cfg = copy_db(first_run, tmp_path, fresh_server, recheck_after=0, max_crawl_delay=0)
    report = run_crawl(cfg)
    counts = report.sources["fixture"].counts
    assert counts.get("unchanged") == 43, counts  # the 42 articles, and a05 at its second URL
    assert "new" not in counts
    rechecked = [r for r in fresh_server.requests if r.route.startswith("/site/articles/a0")]
    assert rechecked
    assert all(r.headers.get("If-None-Match") for r in rechecked)
    db = cfg.storage.path
    assert query(db, "SELECT count(*) FROM articles WHERE last_seen > first_seen") == [(42,)]  # seen again


def test_without_article_pattern_the_page_kind_decides(
    server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    config = write_config(tmp_path, server, db=db_target, source_article_pattern=None, max_crawl_delay=0)
    cfg = load_config(config)
    events = Recorder()
    run_crawl(cfg, on_event=events)
    assert stored_paths(cfg.storage.path) == sorted(EXPECTED)
    listings = set(events.outcomes("listing"))
    assert {"/site/", "/site/world/", "/site/culture/page-2.html"} <= listings


# -- politeness, overlap, crashes ------------------------------------------------------------------


def test_robots_txt_server_error_skips_the_host_this_run(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    fresh_server.overlay["/robots.txt"] = (503, "text/plain", b"down for maintenance")
    cfg = load_config(write_config(tmp_path, fresh_server, db=db_target))
    try:
        report = run_crawl(cfg)
    finally:
        fresh_server.overlay.clear()
    assert [r.route for r in fresh_server.requests] == ["/robots.txt"]
    assert report.sources["fixture"].counts.get("skipped", 0) >= 1
    db = cfg.storage.path
    assert query(db, "SELECT state FROM frontier WHERE url LIKE '%/site/'") == [("queued",)]
    assert query(db, "SELECT count(*) FROM robots_cache") == [(0,)]  # not cached: try again next run


def test_a_held_lock_refuses_a_second_crawl(server: FixtureServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, server)
    db = tmp_path / "corpus.db"
    with hold_lock(db):
        with pytest.raises(CrawlLocked, match="another scraper crawl is running on"):
            run_crawl(load_config(config))
        result = CliRunner().invoke(cli, ["--config", str(config), "crawl"])
    assert result.exit_code == 75
    assert f"(lock {lock_path(db)}); try again later" in result.output
    assert not db.exists()  # refused before opening anything


def test_kill_minus_9_then_two_runs_together(fresh_server: FixtureServer, tmp_path: Path) -> None:
    server = fresh_server
    config = write_config(tmp_path, server)
    db = tmp_path / "corpus.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "scraper", "--config", str(config), "-q", "crawl"]
    first = subprocess.Popen(command, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _article_count(db) < 10:
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait()
    before = set(stored_paths(db))
    assert 10 <= len(before) < 42, "killed mid-run"
    done = {
        re.sub(r"^https?://[^/]+", "", url)
        for (url,) in query(db, "SELECT url FROM frontier WHERE page_kind = 'article' AND state = 'fetched'")
    }
    assert done >= before
    server.reset()
    both = [subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [p.communicate(timeout=60)[1].decode() for p in both]
    codes = sorted(p.returncode for p in both)
    assert codes == [0, 75], outputs
    assert "another scraper crawl is running on" in outputs[[p.returncode for p in both].index(75)]
    assert stored_paths(db) == sorted(EXPECTED)  # every expected article, exactly once
    assert intact(db)
    refetched = {r.path for r in server.requests} & done
    assert not refetched, "articles stored before the kill were fetched again"
    runs = query(db, "SELECT finished IS NULL, exit_status FROM runs ORDER BY id")
    assert runs == [(1, None), (0, 0)]  # the killed run stays unfinished on record


def _article_count(db: Path) -> int:
    try:
        return int(query(db, "SELECT count(*) FROM articles")[0][0])
    except sqlite3.Error:  # not created or not migrated yet
        return 0


# -- dry run, CLI --------------------------------------------------------------------------------


def test_dry_run_lists_articles_and_stores_nothing(fresh_server: FixtureServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, fresh_server)
    result = CliRunner().invoke(cli, ["--config", str(config), "crawl", "--dry-run"])
    assert result.exit_code == 0, result.output
    listed = {re.sub(r"^fixture\thttps?://[^/]+", "", line) for line in result.stdout.splitlines()}
    assert listed >= EXPECTED
    assert not [
        r for r in fresh_server.requests if r.route.startswith("/site/articles/")
    ]  # listed, not fetched
    assert not list(tmp_path.glob("corpus.db*"))


def test_cli_crawl_prints_lines_and_a_summary(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    config = write_config(tmp_path, fresh_server, db=db_target, max_crawl_delay=0)
    result = CliRunner().invoke(cli, ["--config", str(config), "crawl", "--max-pages", "5"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # data only on stdout; a crawl has none
    assert re.search(r"^fixture: \d+ discovered, \d+ fetched", result.stderr, re.M)
    assert "crawl finished: run 1" in result.stderr
    fetched = [r for r in fresh_server.requests if r.route.endswith(".html") or r.route.endswith("/")]
    assert len(fetched) <= 5  # --max-pages counts HTML pages per source
    stats = CliRunner().invoke(cli, ["--config", str(config), "stats", "--format", "json"])
    assert stats.exit_code == 0, stats.output
    data = json.loads(stats.stdout)
    assert data["sources"][0]["source"] == "fixture"
    assert data["runs"][0]["exit_status"] == 0


def test_cli_stats_shows_totals_runs_and_failures(first_run: dict[str, Any]) -> None:
    result = CliRunner().invoke(cli, ["--db", str(first_run["db"]), "stats"])
    assert result.exit_code == 0, result.output
    assert "Sources:" in result.stdout
    assert "Last runs:" in result.stdout
    assert re.search(r"fixture\s+42\s", result.stdout)
    assert "a77.html" in result.stdout  # a recent failure


def test_cli_failures_above_the_ratio_exit_1(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    config = write_config(
        tmp_path,
        fresh_server,
        db=db_target,
        max_failure_ratio=0.2,
        source_start_urls=[fresh_server.url("/site/gone/")],
        source_allow=[f"^{re.escape(fresh_server.base_url)}/site/gone/"],
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "-q", "crawl"])
    assert result.exit_code == 1
    assert "HTTP 404" in result.stderr  # -q still shows errors


def test_unknown_source_is_a_usage_error(server: FixtureServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, server)
    result = CliRunner().invoke(cli, ["--config", str(config), "crawl", "--source", "nope"])
    assert result.exit_code == 2
    assert "no source named 'nope'" in result.output
    with pytest.raises(ConfigError):
        run_crawl(load_config(config), sources=["nope"])


def test_progress_draws_one_line_on_a_terminal_and_lines_otherwise() -> None:
    bar, lines = io.StringIO(), io.StringIO()
    on_tty, plain = Progress(bar, mode="bar"), Progress(lines, mode="lines")
    for show in (on_tty, plain):
        show(UrlResult("http://news.test/a1.html", "new", title="One"))
        show(UrlResult("http://news.test/a2.html", "failed", reason="HTTP 404"))
        show.close()
    assert bar.getvalue().startswith("\rcrawling: 1 new")
    assert "\n" not in bar.getvalue().rstrip("\n")  # redrawn in place, one line
    assert lines.getvalue().splitlines() == [
        "new       http://news.test/a1.html  One",
        "failed    http://news.test/a2.html  HTTP 404",
    ]
    quiet = io.StringIO()
    Progress(quiet, mode="quiet")(UrlResult("http://news.test/a1.html", "new"))
    assert quiet.getvalue() == ""


@pytest.mark.parametrize("command", ["crawl", "stats"])
def test_commands_have_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert f"scraper {command}" in result.output.split("Example:")[1]


def test_an_extractor_bug_costs_one_page_not_the_crawl(
    fresh_server: FixtureServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_target: str
) -> None:
    """A bug inside extract() on one page is recorded against that page; the rest of the site is stored.

    Extraction runs in this process (no worker pool) so the fault can be injected into it.
    """
    from scraper.pipeline import crawl, steps

    real_extract_tree = steps.extract_tree

    def breaks_on_one_page(tree: Any, url: str | None = None, rules: Any = None) -> Any:
        if "/a05.html" in (url or ""):  # the page and its ?from=home alias
            raise KeyError("boom")
        return real_extract_tree(tree, url, rules)

    monkeypatch.setattr(steps, "extract_tree", breaks_on_one_page)
    monkeypatch.setattr(crawl, "default_processes", lambda setting: 0)
    cfg = load_config(write_config(tmp_path, fresh_server, db=db_target))
    events = Recorder()
    report = run_crawl(cfg, on_event=events)
    db = cfg.storage.path
    assert set(stored_paths(db)) == EXPECTED - {"/site/articles/a05.html"}
    assert "/site/articles/a05.html" in events.outcomes("skipped")
    rows = query(db, "SELECT state, reason FROM frontier WHERE url LIKE '%/a05.html%'")
    assert rows
    assert all(s == "skipped" and "KeyError" in r and "extractor failed" in r for s, r in rows)
    assert report.sources["fixture"].counts["new"] == 41


def _fingerprint(path: Path) -> tuple[str, int, list[str]]:
    """The content hash and mtime of a database file, and the names of the files beside it."""
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest, path.stat().st_mtime_ns, sorted(p.name for p in path.parent.iterdir())


def assert_dry_run_refused(first: dict[str, Any], server: FixtureServer, folder: Path) -> None:
    """On PostgreSQL --dry-run is refused in one line that names the fix, and nothing is fetched."""
    config = write_config(folder, server, db=str(first["db"]))
    result = CliRunner().invoke(cli, ["--config", str(config), "crawl", "--dry-run"])
    assert result.exit_code == 2, result.output
    assert "--dry-run" in result.output
    assert not server.requests


def test_dry_run_after_a_real_crawl_lists_nothing_new_and_writes_nothing(
    first_run: dict[str, Any], fresh_server: FixtureServer, tmp_path: Path
) -> None:
    if first_run["pg"]:
        assert_dry_run_refused(first_run, fresh_server, tmp_path)
        return
    cfg = copy_db(first_run, tmp_path, fresh_server)
    db = Path(cfg.storage.path)
    before = _fingerprint(db)
    config = tmp_path / "config.yaml"
    result = CliRunner().invoke(cli, ["--config", str(config), "crawl", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # a real run would store nothing new: nothing to list
    assert not [r for r in fresh_server.requests if r.route.startswith("/site/articles/")]
    assert _fingerprint(db) == before  # not written, not even a -wal or -shm file left beside it


def test_dry_run_lists_the_due_urls_without_fetching_them(
    first_run: dict[str, Any], fresh_server: FixtureServer, tmp_path: Path
) -> None:
    if first_run["pg"]:
        assert_dry_run_refused(first_run, fresh_server, tmp_path)
        return
    cfg = copy_db(first_run, tmp_path, fresh_server, recheck_after=0)
    db = Path(cfg.storage.path)
    before = _fingerprint(db)
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "config.yaml"), "crawl", "--dry-run"])
    assert result.exit_code == 0, result.output
    listed = {re.sub(r"^fixture\thttps?://[^/]+", "", line) for line in result.stdout.splitlines()}
    assert listed == EXPECTED | {"/site/articles/a05.html?from=home"}  # every stored article is due
    assert not [r for r in fresh_server.requests if r.route.startswith("/site/articles/")]
    assert _fingerprint(db) == before


def test_dry_run_without_article_pattern_fetches_only_discovery_pages(
    fresh_server: FixtureServer, tmp_path: Path
) -> None:
    config = write_config(tmp_path, fresh_server, source_article_pattern=None, max_crawl_delay=0)
    result = CliRunner().invoke(cli, ["--config", str(config), "crawl", "--dry-run"])
    assert result.exit_code == 0, result.output
    routes = {r.route for r in fresh_server.requests}
    assert routes == {
        "/robots.txt",
        "/site/",
        "/site/sitemap_index.xml",
        "/site/sitemap-articles.xml.gz",
        "/site/feed.xml",
    }  # the start page, robots.txt, the sitemaps it names, the feed the start page names: no page
    listed = {re.sub(r"^fixture\thttps?://[^/]+", "", line) for line in result.stdout.splitlines()}
    assert {"/site/world/", "/site/articles/a01.html", "/site/articles/a42.html"} <= listed  # candidates
    assert not list(tmp_path.glob("corpus.db*"))


def test_a_source_sends_its_own_agent_headers_and_cookies_and_keeps_its_delay(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    # Per-source fetch settings (issue 9): before, every source was fetched with the fetch section's.
    agent = "corpus-bot/2.0 (+https://example.org/bot)"
    path = write_config(
        tmp_path, fresh_server, db=db_target, max_crawl_delay=0, source_max_depth=1, source_user_agent=agent,
        source_headers={"X-Project": "press-watch"}, source_cookies={"consent": "yes"},
        source_per_host_delay=0.3,
    )  # fmt: skip
    cfg = load_config(path)
    report = run_crawl(cfg, max_pages=5)
    assert report.sources["fixture"].counts["fetched"] >= 4
    requests = [r for r in fresh_server.requests if r.route != "/robots.txt"]
    assert len(requests) >= 4
    for request in requests:
        assert request.headers["User-Agent"] == agent
        assert request.headers["X-Project"] == "press-watch"
        assert request.headers["Cookie"] == "consent=yes"
    times = [r.time for r in fresh_server.requests]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.3 * 0.95, sorted(gaps)[:3]  # the source's per_host_delay, not crawl's 0
