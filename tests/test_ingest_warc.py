"""`scraper ingest --warc`: the real CLI on real WARC/ARC files into real SQLite and PostgreSQL.

Each test that stores runs on both backends (db_target).
"""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.config import is_postgres_url
from tests.archives import FIXTURE_PAGES, arc, http, members, page, response, warc, warcinfo
from tests.backends import query_rows


@pytest.fixture
def config(tmp_path, db_target) -> Path:
    """A config storing into db_target (SQLite file or PostgreSQL URL)."""
    path = tmp_path / "config.yaml"
    path.write_text(
        f"storage:\n  path: '{db_target}'\n"
        "fetch:\n  max_bytes: 1048576\n"
        "extract:\n  min_chars: 40\n"
        "crawl:\n  workers: 1\n",
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), "ingest", *args], catch_exceptions=False)


def query(target: str, sql: str) -> list[tuple]:
    return [tuple(row.values()) for row in query_rows(target, sql)]


def urls(target: str) -> list[str]:
    return [r[0] for r in query(target, "SELECT url FROM articles ORDER BY id")]


def fixture(name: str) -> tuple[str, bytes, str]:
    """(url, page bytes, language) of a tests/fixtures/pages page."""
    expected = json.loads((FIXTURE_PAGES / name / "expected.json").read_text(encoding="utf-8"))
    return expected["url"], (FIXTURE_PAGES / name / "page.html").read_bytes(), expected.get("language")


def test_gzip_per_record_warc_is_stored_under_target_uri_and_date(config, tmp_path, db_target):
    skipped = [
        warc(b"GET /1 HTTP/1.1\r\n\r\n", kind="request", uri="http://example.com/1"),
        warc(b"", kind="revisit", uri="http://example.com/1"),
        warc(http(b"{}", headers=(("Content-Type", "application/json"),)), uri="http://example.com/api"),
    ]
    path = tmp_path / "crawl.warc.gz"
    path.write_bytes(members(warcinfo(), response(1), *skipped, response(2, date="2023-02-03T04:05:06Z")))
    result = run(config, "--warc", str(path))
    assert result.exit_code == 0, result.output
    assert urls(db_target) == ["http://example.com/1", "http://example.com/2"]
    fetched = query(db_target, "SELECT fetched_at FROM articles ORDER BY id")
    assert [f[0][:19] for f in fetched] == ["2024-05-01T12:00:00", "2023-02-03T04:05:06"]
    log = query(db_target, "SELECT url, outcome FROM fetch_log ORDER BY id")
    assert ("http://example.com/1", "new") in log
    assert ("http://example.com/api", "skipped") in log
    assert "2 new" in result.stderr
    assert "2 skipped" in result.stderr


def test_skips_are_one_line_each_at_verbose(config, tmp_path):
    path = tmp_path / "r.warc"
    path.write_bytes(warc(b"", kind="revisit", uri="http://example.com/9") + response(1))
    result = run(config, "-v", "--warc", str(path))
    lines = [line for line in result.stderr.splitlines() if "revisit" in line]
    assert len(lines) == 1
    assert f"{path}: offset 0: http://example.com/9: skipped" in lines[0]


def test_damaged_records_are_one_line_each_and_the_rest_is_stored(config, tmp_path, db_target):
    lying = warc(http(page(2)), uri="http://example.com/2", length=len(http(page(2))) - 7)
    bad_uri = warc(http(page(3)), uri="no-scheme/3")
    gz = [gzip.compress(r) for r in (response(1), lying, bad_uri, response(4), response(5))]
    path = tmp_path / "damaged.warc.gz"
    path.write_bytes(b"".join(gz[:4]) + gz[4][: len(gz[4]) // 2])
    result = run(config, "--warc", str(path))
    assert result.exit_code == 1
    assert urls(db_target) == ["http://example.com/1", "http://example.com/4"]
    problems = [line for line in result.stderr.splitlines() if "WARNING" in line]
    starts = [sum(len(g) for g in gz[:i]) for i in (1, 2, 4)]
    assert len(problems) == 3
    for line, offset in zip(problems, starts, strict=True):
        assert f"{path}: offset {offset}: " in line
    assert "Content-Length" in problems[0]
    assert "'no-scheme/3' is not an http(s) URL" in problems[1]
    assert "truncated gzip member" in problems[2]
    assert "3 failed" in result.stderr


def test_a_file_that_is_not_a_warc_is_one_line_and_nothing_stored(config, tmp_path, db_target):
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n" * 50, encoding="utf-8")
    result = run(config, "--warc", str(path))
    assert result.exit_code == 1
    problems = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(problems) == 1
    assert f"{path}: offset 0: not a WARC or ARC file" in problems[0]
    assert urls(db_target) == []


def test_whole_file_gzip_plain_and_arc_files_in_one_run(config, tmp_path, db_target):
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(warcinfo() + response(1)))
    plain = tmp_path / "plain.warc"
    plain.write_bytes(response(2))
    old = tmp_path / "old.arc.gz"
    old.write_bytes(gzip.compress(arc(("http://example.com/3", http(page(3))))))
    result = run(config, "--warc", str(whole), str(plain), str(old))
    assert result.exit_code == 0, result.output
    assert urls(db_target) == ["http://example.com/1", "http://example.com/2", "http://example.com/3"]


def test_the_first_record_of_a_text_wins_and_the_next_is_a_duplicate(config, tmp_path, db_target):
    path = tmp_path / "dup.warc.gz"
    same = warc(http(page(1)), uri="http://example.org/copy-of-1")
    path.write_bytes(members(response(1), same, response(2)))
    run(config, "--warc", str(path))
    assert urls(db_target) == ["http://example.com/1", "http://example.com/2"]
    log = query(db_target, "SELECT url, outcome FROM fetch_log ORDER BY id")
    assert log == [
        ("http://example.com/1", "new"),
        ("http://example.org/copy-of-1", "duplicate"),
        ("http://example.com/2", "new"),
    ]


def test_ingesting_twice_is_unchanged(config, tmp_path, db_target):
    path = tmp_path / "a.warc.gz"
    path.write_bytes(members(response(1), response(2)))
    run(config, "--warc", str(path))
    again = run(config, "--warc", str(path))
    assert "2 unchanged" in again.stderr
    assert len(urls(db_target)) == 2


@pytest.mark.parametrize(
    ("args", "kept"),
    [
        (("--match", r"/[12]$"), ["http://example.com/1", "http://example.com/2"]),
        (("--site", "example.org"), ["http://news.example.org/3"]),
        (("--since", "2024-01-01"), ["http://example.com/1", "http://news.example.org/3"]),
        (("--until", "2023-12-31"), ["http://example.com/2"]),
        (("--since", "2024-05-01", "--until", "2024-05-01"), ["http://example.com/1"]),
    ],
)
def test_filters(config, tmp_path, args, kept, db_target):
    path = tmp_path / "f.warc.gz"
    path.write_bytes(
        members(
            response(1),
            response(2, date="2023-06-01T00:00:00Z"),
            warc(http(page(3)), uri="http://news.example.org/3", date="2024-09-09T09:09:09Z"),
        )
    )
    result = run(config, "--warc", str(path), *args)
    assert result.exit_code == 0, result.output
    assert urls(db_target) == kept
    assert f"{3 - len(kept)} filtered" in result.stderr


def test_lang_filter_applies_after_extraction(config, tmp_path, db_target):
    records = []
    for name in ("bjreview-century", "lastampa-temperature", "ledevoir-trottinettes"):
        url, body, _ = fixture(name)
        records.append(warc(http(body), uri=url))
    path = tmp_path / "lang.warc.gz"
    path.write_bytes(members(*records))
    result = run(config, "--warc", str(path), "--lang", "fr")
    assert result.exit_code == 0, result.output
    assert urls(db_target) == [fixture("ledevoir-trottinettes")[0]]
    langs = query(db_target, "SELECT language FROM articles")
    assert langs == [("fr",)]


def test_header_charset_decodes_the_page(config, tmp_path, db_target):
    url, body, _ = fixture("netease-biz-gbk")
    headers = (("Content-Type", "text/html; charset=gbk"),)
    path = tmp_path / "gbk.warc"
    path.write_bytes(warc(http(body, headers=headers), uri=url))
    assert run(config, "--warc", str(path)).exit_code == 0
    [(text,)] = query(db_target, "SELECT text FROM articles")
    assert "\ufffd" not in text


def test_filters_need_warc_or_files(config):
    result = CliRunner().invoke(
        cli, ["--config", str(config), "ingest", "http://example.com/", "--site", "x"]
    )
    assert result.exit_code == 2
    assert "--site: only with --warc or --files" in result.output


def test_warc_with_url_from_is_refused(config, tmp_path):
    mapping = tmp_path / "urls.tsv"
    mapping.write_text("a.html\thttp://example.com/a\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "ingest", "--warc", "x.warc", "--url-from", str(mapping)]
    )
    assert result.exit_code == 2


def test_a_kill_leaves_whole_records_and_a_rerun_finishes(config, tmp_path, db_target):
    """kill -9 mid-run: committed records are whole (article, URL, fetch_log); a rerun stores the rest."""
    path = tmp_path / "many.warc.gz"
    path.write_bytes(members(*(response(n) for n in range(400))))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    args = [sys.executable, "-m", "scraper", "--config", str(config), "-q", "ingest", "--warc", str(path)]
    proc = subprocess.Popen(args, env=env)
    try:
        while proc.poll() is None and _count(db_target, "SELECT count(*) FROM articles") < 5:
            time.sleep(0.05)
    finally:
        proc.kill()
        proc.wait()
    stored = _count(db_target, "SELECT count(*) FROM articles")
    assert 0 < stored < 400  # killed mid-run (the check below holds either way)
    if not is_postgres_url(db_target):
        assert query(db_target, "PRAGMA integrity_check") == [("ok",)]
    assert _count(db_target, "SELECT count(*) FROM fetch_log WHERE outcome = 'new'") == stored
    assert _count(db_target, "SELECT count(DISTINCT article_id) FROM article_urls") == stored
    again = run(config, "--warc", str(path))
    assert again.exit_code == 0
    assert f"400 records: {400 - stored} new, {stored} unchanged" in again.stderr
    assert _count(db_target, "SELECT count(*) FROM articles") == 400
    assert _count(db_target, "SELECT count(DISTINCT url) FROM articles") == 400


# The schema is not there yet while the killed run is starting (SQLite: not even the file).
_NOT_YET = (sqlite3.OperationalError, psycopg.errors.UndefinedTable)


def _count(target: str, sql: str) -> int:
    if not is_postgres_url(target) and not Path(target).exists():
        return 0
    try:
        return int(query(target, sql)[0][0])
    except _NOT_YET:  # the schema is being created
        return 0
