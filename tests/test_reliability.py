"""A crawl that cron can trust (issue 9): failure boundary per URL, parking, budgets, signals, exit status.

Through the real CLI (CliRunner, or `python -m scraper` as a process) against the loopback server in
tests/server.py, with real SQLite files (and, for the crawl tests, a real PostgreSQL database too:
tests/backends.py) and real extraction worker processes. Faults come from server
routes; where a fault must stay a bug whatever the fetch stage fixes, one of our own functions is
patched to raise for one URL (never the transport).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import sqlite3
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.crawl import discover
from scraper.urls import canonicalize_url
from tests.backends import query_rows
from tests.pgserver import children
from tests.server import FixtureServer

ROOT = Path(__file__).resolve().parent.parent
GOOD = {f"/site/articles/a{n:02d}.html" for n in range(1, 43)}
HOSTILE = {
    "/status/404",
    "/retry-after-raw?hex=b2",
    "/redirect-to?url=http://127.0.0.1:65536/",
    "/slow?size=400&delay=0.5",
    "/png-as-html",
    "/many-attributes?n=50000",
}
FEED = "/sites/hostile/feed.xml"
TIME_LIMIT = 3.0  # extract.time_limit here: the fixture pages take milliseconds, /many-attributes ~20 s


def write_config(
    folder: Path,
    server: FixtureServer,
    *,
    articles: tuple[str, ...] = (),
    db: str | None = None,
    **sections: dict[str, Any],
) -> Path:
    """A config for one source on the server; sections (fetch, crawl, extract, source) override keys.

    db: the storage (a SQLite path or a postgresql:// URL); folder/corpus.db when None.

    Without a source override of start_urls it crawls the hostile site. Otherwise its scope is the
    server's routes plus the given article paths only: the server's robots.txt names the fixture
    site's sitemap, which would bring in all of its articles.
    """
    base = re.escape(server.base_url)
    source: dict[str, Any] = {
        "name": "hostile",
        "start_urls": [server.url("/sites/hostile/")],
        "allow": [f"^{base}/"],
        "max_depth": 1,
    }
    if "start_urls" in sections.get("source", {}):
        source["allow"] = [f"^{base}/(?!site/|sites/)", *(f"^{base}{re.escape(a)}$" for a in articles)]
    source.update(sections.get("source", {}))
    config: dict[str, Any] = {
        "storage": {"path": db or str(folder / "corpus.db")},
        "fetch": {"allow_private_addresses": True, "retries": 0, "timeout": 5, "deadline": 2.0}
        | sections.get("fetch", {}),
        "crawl": {"per_host_delay": 0, "max_crawl_delay": 0, "workers": 1, "concurrency": 4}
        | sections.get("crawl", {}),
        "extract": {"time_limit": TIME_LIMIT} | sections.get("extract", {}),
        "sources": [source],
    }
    if str(config["storage"]["path"]).startswith("postgresql://"):
        config["storage"]["archive_dir"] = str(folder / "warc")  # no folder beside a PostgreSQL database
    path = folder / "config.yaml"
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


def query(db: str | Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows as tuples, on either backend."""
    return [tuple(row.values()) for row in query_rows(db, sql, params)]


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def crawl(config: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--config", str(config), *args, "crawl"])


def break_feed_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the feed parser raise (as a bug would) for the hostile site's feed only."""
    real = discover.parse_feed

    def parse_feed(data: bytes, base_url: str, **kwargs: Any) -> Any:
        if base_url.endswith(FEED):
            raise RuntimeError("feed parser bug")
        return real(data, base_url, **kwargs)

    monkeypatch.setattr(discover, "parse_feed", parse_feed)


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the "done when" crawl: a site where about 10 % of the URLs are hostile ----------------------------


def test_hostile_site_stores_every_good_article_and_parks_the_bugs(
    fresh_server: FixtureServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_target: str
) -> None:
    break_feed_parser(monkeypatch)
    config = write_config(tmp_path, fresh_server, db=db_target)
    db = db_target
    result = crawl(config)
    assert result.exit_code == 1, result.output
    stored = {path_of(url) for (url,) in query(db, "SELECT url FROM articles")}
    assert stored == GOOD
    rows = {
        path_of(url): (state, reason)
        for url, state, reason in query(db, "SELECT url, state, reason FROM frontier")
    }
    for path in HOSTILE:
        state, reason = rows[path_of(canonicalize_url(fresh_server.url(path)))]
        assert state in ("failed", "skipped", "parked"), (path, state)
        assert reason, path
    assert rows["/status/404"][1].endswith("HTTP 404 after 1 attempt")
    assert (
        "timeout" in rows["/slow?size=400&delay=0.5"][1].lower()
        or "deadline" in rows["/slow?size=400&delay=0.5"][1]
    )
    assert rows["/many-attributes?n=50000"] == (
        "skipped",
        f"extraction over extract.time_limit ({TIME_LIMIT:g} s)",
    )
    assert rows[FEED] == ("parked", "error: RuntimeError: feed parser bug")
    logged = {path_of(url) for (url,) in query(db, "SELECT url FROM fetch_log WHERE error IS NOT NULL")}
    assert {path_of(canonicalize_url(fresh_server.url(p))) for p in HOSTILE} | {FEED} <= logged
    # the report names them, and says why the exit status is 1
    assert f"error: {fresh_server.url(FEED)}: RuntimeError: feed parser bug" in result.stderr
    assert re.search(r"^exit status 1: \d+ URLs? met a bug", result.stderr, re.M)
    (report,) = query(db, "SELECT report FROM runs")
    data = json.loads(report[0])
    assert data["exit_status"] == 1
    reasons = data["sources"]["hostile"]["reasons"]
    assert reasons["HTTP 404"] == 1
    assert reasons["extraction time limit"] == 1
    assert reasons["content"] == 1  # the PNG
    assert reasons["parked"] >= 1
    assert FEED in [path_of(url) for url, _ in data["errors"]]
    named = {path_of(url) for url, _ in data["errors"] + data["failures"]}
    assert {path_of(canonicalize_url(fresh_server.url(p))) for p in HOSTILE} <= named
    # the next run does not fetch the parked URLs again
    parked = {path_of(url) for (url,) in query(db, "SELECT url FROM frontier WHERE state = 'parked'")}
    assert FEED in parked
    fresh_server.reset()
    again = crawl(config)
    assert again.exit_code in (0, 1), again.output
    fetched = {r.path for r in fresh_server.requests}
    assert not parked & fetched, parked & fetched
    assert "/sites/hostile/" in fetched  # the start page is fetched every run


def test_a_library_exception_in_one_fetch_costs_that_url_only(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    """Retry-After: "²" made the whole crawl die with a traceback, and every later run the same way."""
    start = "/links?to=/retry-after-raw%3Fhex%3Db2&to=/site/articles/a01.html&to=/site/articles/a02.html"
    config = write_config(
        tmp_path,
        fresh_server,
        db=db_target,
        articles=("/site/articles/a01.html", "/site/articles/a02.html"),
        source={"start_urls": [fresh_server.url(start)]},
    )
    result = crawl(config)
    db = db_target
    stored = {path_of(url) for (url,) in query(db, "SELECT url FROM articles")}
    assert stored == {"/site/articles/a01.html", "/site/articles/a02.html"}
    [(state, reason)] = query(db, "SELECT state, reason FROM frontier WHERE url LIKE '%/retry-after-raw?%'")
    assert state in ("failed", "parked")
    assert reason
    assert query(db, "SELECT count(*) FROM fetch_log WHERE url LIKE '%/retry-after-raw?%'") == [(1,)]
    assert query(db, "SELECT finished IS NOT NULL FROM runs") == [(1,)]
    assert "Traceback" not in result.output


def test_a_bug_in_one_ingest_url_costs_that_url_only(
    fresh_server: FixtureServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_target: str
) -> None:
    """One bad URL in `ingest` cancelled the rest of its batch without a line."""
    from scraper import pipeline

    real = pipeline.save_page

    def save_page(db: Any, page: Any, article: Any, cfg: Any) -> Any:
        if page.url.endswith("a02.html"):
            raise RuntimeError("save bug")
        return real(db, page, article, cfg)

    monkeypatch.setattr(pipeline, "save_page", save_page)
    config = write_config(tmp_path, fresh_server, db=db_target)
    urls = [fresh_server.url(f"/site/articles/a0{n}.html") for n in range(1, 5)]
    raw = fresh_server.url("/retry-after-raw?hex=b2")
    result = CliRunner().invoke(cli, ["--config", str(config), "ingest", *urls, raw])
    assert result.exit_code == 1, result.output
    db = db_target
    assert len(query(db, "SELECT url FROM articles")) == 3
    lines = {line.split()[1]: line.split()[0] for line in result.stdout.splitlines()}
    assert lines[urls[1]] == "error"
    assert lines[raw] in ("error", "failed")
    [(error,)] = query(db, "SELECT error FROM fetch_log WHERE url = ?", urls[1])
    assert error == "error: RuntimeError: save bug"


def test_a_link_too_long_to_store_is_dropped_and_the_run_goes_on(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    """A link longer than urls.MAX_URL_LENGTH is not queued.

    PostgreSQL's B-tree index takes at most 2,704 bytes a key: queueing a 3,000-character link
    failed the page's whole write, and the StorageError stopped the crawl there, run after run.
    """
    rng = random.Random(5)
    long = "/long/" + "".join(rng.choices(string.ascii_letters + string.digits, k=3000)) + ".html"
    fresh_server.overlay["/front/"] = (200, "text/html", _links(["/site/articles/a01.html", long]))
    config = write_config(
        tmp_path,
        fresh_server,
        db=db_target,
        articles=("/site/articles/a01.html",),
        source={"start_urls": [fresh_server.url("/front/")]},
    )
    result = crawl(config)
    assert result.exit_code == 0, result.output
    stored = [path_of(url) for (url,) in query(db_target, "SELECT url FROM articles")]
    assert stored == ["/site/articles/a01.html"]
    assert query(db_target, "SELECT count(*) FROM frontier WHERE length(url) > 2048") == [(0,)]
    assert not fresh_server.requests_to(long)


def test_ingest_refuses_a_url_too_long_to_store_in_one_line(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    """The refusal is logged under the URL's shown form (a fetch_log key must fit the index too)."""
    rng = random.Random(6)
    long = fresh_server.url("/site/articles/" + "".join(rng.choices(string.ascii_letters, k=3000)))
    config = write_config(tmp_path, fresh_server, db=db_target)
    result = CliRunner().invoke(cli, ["--config", str(config), "ingest", long])
    assert result.exit_code == 1, result.output
    assert "over the limit of 2048" in result.output
    [(url, outcome)] = query(db_target, "SELECT url, outcome FROM fetch_log")
    assert (len(url), outcome) == (203, "failed")
    assert not fresh_server.requests


# -- parking -----------------------------------------------------------------------------------------


def test_a_url_that_keeps_failing_is_parked_then_left_alone(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    start = "/links?to=/status/503&to=/site/articles/a01.html"
    config = write_config(
        tmp_path,
        fresh_server,
        db=db_target,
        articles=("/site/articles/a01.html",),
        source={"start_urls": [fresh_server.url(start)]},
    )
    db = db_target
    for run in range(3):  # a 503 may pass: tried on the next runs, three times in a row
        fresh_server.reset()
        crawl(config)
        assert [r.path for r in fresh_server.requests_to("/status/503")] == ["/status/503"], run
    [(state, reason, attempts, last, due)] = query(
        db, "SELECT state, reason, attempts, last_fetch, next_due FROM frontier WHERE url LIKE '%/status/503'"
    )
    assert (state, attempts) == ("parked", 3)
    assert "HTTP 503" in reason
    assert due[:10] > last[:10]  # a day later at least
    (report,) = query(db, "SELECT report FROM runs ORDER BY id DESC LIMIT 1")
    assert json.loads(report[0])["sources"]["hostile"]["reasons"]["parked"] == 1
    fresh_server.reset()
    crawl(config)
    assert not fresh_server.requests_to("/status/503")
    assert fresh_server.requests_to("/links")  # the start page still is


# -- budgets -----------------------------------------------------------------------------------------


def test_a_host_that_keeps_timing_out_is_backed_off(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    with FixtureServer() as slow_host:
        slow = [f"/slow?size=400&delay=0.5&n={n}" for n in range(5)]
        slow_host.overlay["/front/"] = (200, "text/html", _links(slow))
        config = write_config(
            tmp_path,
            fresh_server,
            db=db_target,
            fetch={"deadline": 0.5},
            source={
                "start_urls": [
                    fresh_server.url("/links?to=/site/articles/a01.html"),
                    slow_host.url("/front/"),
                ],
                "allow": [
                    f"^{re.escape(fresh_server.url('/site/articles/a01.html'))}$",
                    f"^{re.escape(slow_host.base_url)}/(front|slow)",
                ],
            },
        )
        result = crawl(config)
        assert len(slow_host.requests_to("/slow")) == 2  # then backed off
    assert result.exit_code == 1
    assert f"unreachable: {slow_host.base_url}: host backed off after 2 timeouts" in result.stderr
    db = db_target
    queued = query(db, "SELECT count(*) FROM frontier WHERE url LIKE '%/slow?%' AND state = 'queued'")
    assert queued == [(3,)]  # not fetched this run: still due
    assert len(query(db, "SELECT url FROM articles")) == 1


def test_max_run_time_ends_the_run_cleanly(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    slow = [f"/slow?size=100&delay=0.1&n={n}" for n in range(20)]
    fresh_server.overlay["/front/"] = (200, "text/html", _links(slow))
    config = write_config(
        tmp_path,
        fresh_server,
        db=db_target,
        fetch={"deadline": 60, "timeout": 60},
        crawl={"max_run_time": "2s"},
        source={"start_urls": [fresh_server.url("/front/")]},
    )
    result = crawl(config)
    assert result.exit_code == 0, result.output
    assert "stopped: crawl.max_run_time (2s)" in result.stderr
    db = db_target
    [(finished, status, stopped)] = query(db, "SELECT finished IS NOT NULL, exit_status, stopped FROM runs")
    assert (finished, status, stopped) == (1, 0, "crawl.max_run_time (2s)")
    waiting = query(db, "SELECT count(*) FROM frontier WHERE url LIKE '%/slow?%' AND state = 'queued'")
    assert waiting[0][0] >= 15  # most were never fetched: the next run takes them


def _links(paths: list[str]) -> bytes:
    items = "".join(f'<li><a href="{p}">{p}</a></li>' for p in paths)
    return f"<!DOCTYPE html><html><body><ul>{items}</ul></body></html>".encode()


# -- exit status -------------------------------------------------------------------------------------


def test_quiet_crawl_of_an_unreachable_host_prints_one_line_and_exits_1(
    tmp_path: Path, server: FixtureServer, db_target: str
) -> None:
    port = closed_port()
    config = write_config(
        tmp_path,
        server,
        db=db_target,
        source={"start_urls": [f"http://127.0.0.1:{port}/"], "allow": [f"^http://127.0.0.1:{port}/"]},
    )
    result = crawl(config, "-q")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert f"http://127.0.0.1:{port} unreachable: robots.txt unreachable" in lines[0]
    db = db_target
    [(url, error)] = query(db, "SELECT url, error FROM fetch_log")
    assert url == f"http://127.0.0.1:{port}/robots.txt"
    assert "ConnectError" in error
    stats = json.loads(CliRunner().invoke(cli, ["--db", str(db), "stats", "--format", "json"]).stdout)
    assert stats["failures"] == []  # a crawl's robots.txt is no ingest failure: it is an unreachable host
    assert [row["origin"] for row in stats["unreachable"]] == [f"http://127.0.0.1:{port}"]
    if db_target.startswith("postgresql://"):
        return  # --dry-run is refused on PostgreSQL (tests/test_crawl.py checks the refusal)
    dry = CliRunner().invoke(cli, ["--config", str(config), "crawl", "-q", "--dry-run"])
    assert dry.exit_code == 1
    assert dry.stderr.startswith("crawl dry run exit status 1: ")  # not the throwaway db's "run 1"


def test_quiet_crawl_with_failures_over_the_ratio_says_so_in_one_line(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    start = "/links?to=/status/404&to=/status/410&to=/site/articles/a01.html"
    config = write_config(
        tmp_path,
        fresh_server,
        db=db_target,
        articles=("/site/articles/a01.html",),
        crawl={"max_failure_ratio": 0.2},
        source={"start_urls": [fresh_server.url(start)]},
    )
    result = crawl(config, "-q")
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert "2 of 6 fetches failed (33 %), over crawl.max_failure_ratio 0.2" in line  # 4 pages, 2 sitemaps
    assert "HTTP 404 1" in line


def test_each_failure_is_printed_once(fresh_server: FixtureServer, tmp_path: Path, db_target: str) -> None:
    start = "/links?to=/status/404&to=/png-as-html&to=/site/articles/a01.html"
    config = write_config(
        tmp_path,
        fresh_server,
        db=db_target,
        articles=("/site/articles/a01.html",),
        source={"start_urls": [fresh_server.url(start)]},
    )
    result = crawl(config)
    assert result.exit_code == 0, result.output
    assert "ERROR" not in result.stderr
    for path in ("/status/404", "/png-as-html"):
        lines = [line for line in result.stderr.splitlines() if fresh_server.url(path) in line]
        assert len(lines) == 1, result.stderr
    assert "skipped skipped" not in result.stderr


def test_the_run_report_is_printed_and_stored(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    start = "/links?to=/status/404&to=/site/articles/a01.html&to=/site/articles/a02.html"
    config = write_config(
        tmp_path,
        fresh_server,
        db=db_target,
        articles=("/site/articles/a01.html", "/site/articles/a02.html"),
        source={"start_urls": [fresh_server.url(start)]},
    )
    result = crawl(config)
    assert result.exit_code == 0, result.output
    assert re.search(
        r"^hostile: \d+ discovered, \d+ fetched, 2 new, 1 listing, 1 failed$", result.stderr, re.M
    )
    assert "  by reason: HTTP 404 1" in result.stderr
    assert re.search(r"^run 1: [\d.]+ s, [\d.]+ pages/s$", result.stderr, re.M)
    (report,) = query(db_target, "SELECT report FROM runs")
    data = json.loads(report[0])
    assert set(data) >= {
        "sources",
        "unreachable",
        "errors",
        "stopped",
        "duration",
        "pages_per_s",
        "exit_reason",
    }
    assert data["sources"]["hostile"]["new"] == 2
    assert data["exit_reason"] is None


# -- signals -----------------------------------------------------------------------------------------


def _stored(db: Path) -> int:
    try:
        return int(query(db, "SELECT count(*) FROM articles")[0][0])
    except (sqlite3.Error, psycopg.Error):  # not created or not migrated yet
        return 0


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_crawl_records_the_run_and_stops_the_workers(
    fresh_server: FixtureServer, tmp_path: Path, signum: int, status: int, db_target: str
) -> None:
    slow = [f"/slow?size=200&delay=0.2&n={n}" for n in range(10)]
    pages = ["/site/articles/a01.html", "/site/articles/a02.html", *slow]
    fresh_server.overlay["/front/"] = (200, "text/html", _links(pages))
    config = write_config(
        tmp_path,
        fresh_server,
        db=db_target,
        articles=("/site/articles/a01.html", "/site/articles/a02.html"),
        fetch={"deadline": 60, "timeout": 60},
        crawl={"concurrency": 1},
        source={"start_urls": [fresh_server.url("/front/")]},
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "scraper", "--config", str(config), "-q", "crawl"]
    crawler = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=subprocess.PIPE)
    db = db_target
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (fresh_server.requests_to("/slow") and _stored(db) == 2):
            workers |= set(children(crawler.pid))
            time.sleep(0.05)
        workers |= set(children(crawler.pid))
        assert workers, "the crawl started its extraction workers"
        assert fresh_server.requests_to("/slow"), "mid-crawl"
        crawler.send_signal(signum)
        _, stderr = crawler.communicate(timeout=60)
    finally:
        if crawler.poll() is None:
            crawler.kill()
            crawler.wait()
    assert crawler.returncode == status, stderr.decode()
    name = signal.Signals(signum).name
    [(finished, exit_status, stopped, report)] = query(
        db, "SELECT finished IS NOT NULL, exit_status, stopped, report FROM runs"
    )
    assert (finished, exit_status, stopped) == (1, status, name)
    assert json.loads(report)["stopped"] == name
    assert f"interrupted by {name}" in stderr.decode()
    assert len(query(db, "SELECT url FROM articles")) == 2  # the batch was committed
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)]


# -- extraction time limit ---------------------------------------------------------------------------


def test_a_page_over_the_extraction_time_limit_is_skipped_and_the_worker_replaced(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    # Two slow pages on two workers, fetched 1.5 s apart (a dripped page between them): when the first
    # goes over the limit its pool is killed, and the second, in flight in that pool, is submitted
    # again to the new one (and goes over in its turn; in a thread it would be stored after ~20 s).
    articles = [f"/site/articles/a{n:02d}.html" for n in range(1, 9)]
    pages = ["/many-attributes?n=50000", "/slow?size=5&delay=0.3", "/many-attributes?n=50001", *articles]
    start = "/links?" + "&".join("to=" + quote(p, safe="/") for p in pages)
    config = write_config(
        tmp_path,
        fresh_server,
        db=db_target,
        articles=tuple(articles),
        crawl={"workers": 2},
        source={"start_urls": [fresh_server.url(start)]},
    )
    result = crawl(config)
    db = db_target
    assert len(query(db, "SELECT url FROM articles")) == 8
    rows = query(db, "SELECT state, reason FROM frontier WHERE url LIKE '%/many-attributes?%'")
    assert rows == [("skipped", f"extraction over extract.time_limit ({TIME_LIMIT:g} s)")] * 2
    assert "extraction time limit 2" in result.stderr


# -- a read-only database ----------------------------------------------------------------------------

# Runs the CLI in a process that, when started as root (CI), first imports everything and then drops
# to the unprivileged "nobody": root writes through any file mode, so chmod alone proves nothing.
READ_ONLY_DRIVER = """
import csv, json, os, sys
import anyio._backends._asyncio, importlib.metadata, sqlite_utils.plugins
import scraper.cli
sqlite_utils.plugins.ensure_plugins_loaded()
if os.geteuid() == 0:
    os.setgid(65534)
    os.setuid(65534)
scraper.cli.cli.main(sys.argv[1:], prog_name="scraper")
"""


@pytest.fixture
def read_only_db(fresh_server: FixtureServer) -> Any:
    """A corpus of one article in a directory where, like the file, nothing may be written."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="scraper-ro-", dir="/tmp"))
    db = folder / "corpus.db"
    url = fresh_server.url("/site/articles/a01.html")
    result = CliRunner().invoke(cli, ["--db", str(db), "ingest", "--allow-private", url])
    assert result.exit_code == 0, result.output
    db.chmod(0o444)
    folder.chmod(0o555)
    try:
        yield db
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


def run_unprivileged(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", READ_ONLY_DRIVER, *args]
    return subprocess.run(command, env=env, cwd="/", capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["search", "nutrition"], "Top Nutrition Trends"),
        (["stats"], "Sources:"),
        (["show", "1"], "Top Nutrition Trends"),
        (["export"], '"title":"Top Nutrition Trends'),
    ],
)
def test_read_commands_work_on_a_read_only_database(
    read_only_db: Path, command: list[str], expected: str
) -> None:
    result = run_unprivileged("--db", str(read_only_db), *command)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    # the fixture's ingest archived its page in warc/ (storage.archive); the command added nothing
    assert sorted(p.name for p in read_only_db.parent.iterdir()) == ["corpus.db", "warc"]


def test_a_write_to_a_read_only_database_says_so_in_one_line(
    read_only_db: Path, fresh_server: FixtureServer
) -> None:
    url = fresh_server.url("/site/articles/a02.html")
    result = run_unprivileged("--db", str(read_only_db), "ingest", "--allow-private", url)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "read-only" in line
    assert "read commands such as search, stats, show and export work on it" in line  # what to do
    assert "Traceback" not in result.stderr
