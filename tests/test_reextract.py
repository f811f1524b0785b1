"""Re-extraction and WARC export (issue 12): archived pages run through a changed extractor.

A crawl of the fixture site (tests/fixtures/site) over the real HTTP server on 127.0.0.1 with the
archive on, copied per test; the commands run through the real CLI into real SQLite and WARC
files. Which articles a changed rule must change is worked out independently, by extract() on
the fixture files with and without the rule.

The reextract tests run on both backends (`corpus`): on PostgreSQL the crawl is a
PostgreSQL crawl (both crawls store the same 42), copied per test from a template database, its
WARC files copied too and its rows pointed at the copies (absolute paths, as PostgreSQL keeps).
The export and show tests here still run on SQLite only (`sqlite_corpus`); both commands run on
PostgreSQL and are compared across backends in tests/test_query.py and tests/test_pg_read.py.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.config import Rules, is_postgres_url, load_config
from scraper.extract import extract
from scraper.extract.version import extractor_version
from scraper.output import plural
from scraper.pipeline import run_crawl
from scraper.query import search
from tests.backends import query_rows
from tests.pgserver import PgServer
from tests.server import FixtureServer
from tests.test_archive_write import crawl_config, ingest_config, records, warcio_cli
from tests.test_crawl import query, write_config

SITE = Path(__file__).resolve().parent / "fixtures" / "site"
# The changed rule: drop block quotations. Four of the fixture site's 42 articles have one.
DROPPED = "blockquote"


@pytest.fixture(scope="module")
def crawled(server: FixtureServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a crawl of the fixture site (corpus.db, warc/, config.yaml), archive on.

    Small WARC files (storage.archive_max_bytes), so the crawl's responses span several.
    """
    folder = tmp_path_factory.mktemp("crawled")
    cfg = crawl_config(folder, server, archive_max_bytes=400_000)
    server.reset()
    report = run_crawl(cfg)
    assert report.exit_status == 0
    return folder


@pytest.fixture
def sqlite_corpus(crawled: Path, tmp_path: Path, server: FixtureServer) -> Path:
    """A copy of the crawled folder, its config pointing at the copy; returns the config path."""
    shutil.copy(crawled / "corpus.db", tmp_path / "corpus.db")
    shutil.copytree(crawled / "warc", tmp_path / "warc")
    return write_config(tmp_path, server)


# Names of the per-test copies of the PostgreSQL crawl.
_COPIES = itertools.count(1)


@pytest.fixture(scope="module")
def crawled_pg(
    server: FixtureServer, pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    """(folder holding warc/, database name): the crawl of `crawled` on PostgreSQL.

    Its WARC files go to folder/warc, an absolute storage.archive_dir, as PostgreSQL needs.
    """
    folder = tmp_path_factory.mktemp("crawled_pg")
    url = pg_server.database()
    path = write_config(folder, server)
    data = json.loads(path.read_text())
    data["storage"] = {"path": url, "archive_max_bytes": 400_000, "archive_dir": str(folder / "warc")}
    path.write_text(json.dumps(data))
    server.reset()
    report = run_crawl(load_config(path))
    assert report.exit_status == 0
    yield folder, url.split("?")[0].rsplit("/", 1)[1]
    pg_server.drop(url)


@pytest.fixture
def corpus(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    server: FixtureServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    """sqlite_corpus on SQLite; on PostgreSQL a copy of crawled_pg's database and WARC files (in tmp_path)."""
    if backend == "sqlite":
        yield request.getfixturevalue("sqlite_corpus")
        return
    pg_server: PgServer = request.getfixturevalue("pg_server")
    folder, template = request.getfixturevalue("crawled_pg")
    name = f"reextract_{os.getpid()}_{next(_COPIES)}"
    with pg_server.connect() as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    url = pg_server.url(name)
    shutil.copytree(folder / "warc", tmp_path / "warc")
    with pg_server.connect(name) as conn:  # the copy's rows point at the copied files (absolute paths)
        for table in ("articles", "article_versions"):
            conn.execute(
                f"UPDATE {table} SET warc_file = replace(warc_file, %s, %s)",
                [str(folder / "warc"), str(tmp_path / "warc")],
            )
    config = write_config(tmp_path, server)
    data = json.loads(config.read_text())
    data["storage"] = {"path": url, "archive_dir": str(tmp_path / "warc")}
    config.write_text(json.dumps(data))
    yield config
    pg_server.drop(url)


def target_of(config: Path) -> str:
    """The database a config stores into (storage.path: a file or a postgresql:// URL)."""
    return str(json.loads(config.read_text())["storage"]["path"])


def with_rule(config: Path, **rules: Any) -> Path:
    """The config with these rules on the fixture source."""
    data = json.loads(config.read_text())
    data["sources"][0]["rules"] = rules
    config.write_text(json.dumps(data))
    return config


def run(config: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def rows(config: Path, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row.values()) for row in query_rows(target_of(config), sql)]


def paths_changed_by_the_rule() -> set[str]:
    """The fixture articles whose extraction the rule changes: extract() with and without it."""
    changed = set()
    for page in sorted((SITE / "articles").glob("a*.html")):
        html = page.read_text(encoding="utf-8", errors="replace")
        url = f"http://127.0.0.1/site/articles/{page.name}"
        before, after = extract(html, url), extract(html, url, Rules(drop=(DROPPED,)))
        if (before.title, before.text) != (after.title, after.text):
            changed.add(f"/site/articles/{page.name}")
    return changed


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_every_article_of_the_crawl_has_its_record_and_extractor(corpus: Path) -> None:
    pointers = rows(corpus, "SELECT warc_file, warc_offset, warc_length, extractor FROM articles")
    assert len(pointers) == 42
    assert all(file and offset is not None and length for file, offset, length, _ in pointers)
    assert {extractor for *_, extractor in pointers} == {extractor_version()}


def test_an_unchanged_extractor_changes_nothing(corpus: Path) -> None:
    before = rows(corpus, "SELECT id, title, text, extractor FROM articles ORDER BY id")
    result = run(corpus, "reextract")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # unchanged articles are not listed without -v
    assert "42 archived articles: 42 unchanged" in result.stderr
    assert rows(corpus, "SELECT id, title, text, extractor FROM articles ORDER BY id") == before
    assert rows(corpus, "SELECT count(*) FROM article_versions") == [(0,)]


def test_a_changed_rule_gives_exactly_the_expected_new_versions(corpus: Path) -> None:
    expected = paths_changed_by_the_rule()
    assert 0 < len(expected) < 42  # the rule must change some articles and leave others
    before = dict(rows(corpus, "SELECT url, text FROM articles"))
    pointers = rows(corpus, "SELECT url, warc_file, warc_offset, warc_length FROM articles ORDER BY url")
    result = run(with_rule(corpus, drop=[DROPPED]), "reextract")
    assert result.exit_code == 0, result.output
    updated = {path_of(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("updated")}
    assert updated == expected
    assert f"{len(expected)} updated" in result.stderr
    versions = rows(
        corpus,
        "SELECT a.url, v.text, v.extractor, v.warc_file FROM article_versions v JOIN articles a"
        " ON a.id = v.article_id",
    )
    assert {path_of(url) for url, *_ in versions} == expected  # one version per changed article
    for url, old_text, old_extractor, old_file in versions:
        assert old_text == before[url]  # the version keeps the text the old rule gave
        assert old_extractor == extractor_version()
        assert old_file
    for url, text in rows(corpus, "SELECT url, text FROM articles"):
        assert (text != before[url]) == (path_of(url) in expected)
    # the same responses: the pointers did not move
    pointers_now = "SELECT url, warc_file, warc_offset, warc_length FROM articles ORDER BY url"
    assert rows(corpus, pointers_now) == pointers
    again = run(corpus, "reextract")  # run twice: nothing left to change
    assert "42 unchanged" in again.stderr
    assert rows(corpus, "SELECT count(*) FROM article_versions") == [(len(expected),)]
    # the search index followed: a word only the old text of a changed article had no longer finds it
    # whole words only: "ighlights", the tail of "Highlights", is no word the index holds
    words = re.compile(r"\b[a-z]{6,}\b")
    url, text, gone = next(
        (u, t, gone)
        for u, t in rows(corpus, "SELECT url, text FROM articles ORDER BY url")
        if path_of(u) in expected
        and (gone := sorted(set(words.findall(before[u])) - set(words.findall(t.lower()))))
    )
    assert url not in {hit["url"] for hit in search(target_of(corpus), gone[0], limit=100)}
    assert url in {hit["url"] for hit in search(target_of(corpus), words.findall(text)[0], limit=100)}
    assert_search_index_holds_the_text(target_of(corpus))


def assert_search_index_holds_the_text(target: str) -> None:
    """On PostgreSQL every row's articles.search is the vector of its current title and text.

    (Search itself re-checks a hit's words against the text, so a stale vector shows in search only
    as a missed match; SQLite's FTS is kept by triggers, tests/test_store.py.)
    """
    if not is_postgres_url(target):
        return
    import psycopg

    from scraper.store.pg.search import SEARCH_VECTOR_SQL, search_params

    with psycopg.connect(target) as conn:
        for title, text, stored in conn.execute("SELECT title, text, search::text FROM articles").fetchall():
            fresh = conn.execute(f"SELECT ({SEARCH_VECTOR_SQL})::text", search_params(title, text)).fetchone()
            assert fresh is not None
            assert stored == fresh[0]


def test_a_dry_run_lists_the_changes_and_writes_nothing(corpus: Path) -> None:
    before = rows(corpus, "SELECT id, title, text FROM articles ORDER BY id")
    result = run(with_rule(corpus, drop=[DROPPED]), "reextract", "--dry-run")
    assert result.exit_code == 0, result.output
    listed = {path_of(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("updated")}
    assert listed == paths_changed_by_the_rule()
    assert "dry run: nothing written" in result.stderr
    assert rows(corpus, "SELECT id, title, text FROM articles ORDER BY id") == before
    assert rows(corpus, "SELECT count(*) FROM article_versions") == [(0,)]


def test_filters_choose_the_articles_checked(corpus: Path) -> None:
    result = run(with_rule(corpus, drop=[DROPPED]), "reextract", "--site", "nowhere")
    assert result.exit_code == 0
    assert "0 archived articles: nothing to do" in result.stderr
    assert rows(corpus, "SELECT count(*) FROM article_versions") == [(0,)]


def test_author_filter_ignores_case_on_both_backends(corpus: Path) -> None:
    """--author is "contains, any ASCII case" (SQLite's LIKE); PostgreSQL's LIKE minds case, so ILIKE."""
    authors = [author for (author,) in rows(corpus, "SELECT author FROM articles") if author]
    assert authors, "the fixture site's articles name authors"
    word = max(authors[0].split(), key=len)
    expected = sum(word.lower() in author.lower() for author in authors)
    result = run(corpus, "reextract", "--dry-run", "--author", word.swapcase())
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"{plural(expected, 'archived article')}: ")


def test_a_missing_warc_file_fails_its_articles_and_the_rest_are_checked(corpus: Path) -> None:
    files = sorted((corpus.parent / "warc").glob("*.warc.gz"))
    assert len(files) > 1
    shutil.move(files[0], corpus.parent / "elsewhere.warc.gz")
    gone = rows(corpus, f"SELECT count(*) FROM articles WHERE warc_file LIKE '%{files[0].name}'")[0][0]
    assert gone > 0
    result = run(corpus, "reextract")
    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("failed")]
    assert len(failed) == gone
    assert all(files[0].name in line for line in failed)
    assert f"{gone} failed" in result.stderr
    assert f"{42 - gone} unchanged" in result.stderr


def test_an_old_database_without_pointers_has_nothing_to_reextract(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # on PostgreSQL, where a warc/ folder would go
    config = write_config(tmp_path, fresh_server)
    data = json.loads(config.read_text())
    data["storage"] = {"path": db_target, "archive": False}
    config.write_text(json.dumps(data))
    assert run(config, "crawl").exit_code == 0
    assert not (tmp_path / "warc").exists()
    result = run(config, "reextract")
    assert result.exit_code == 0
    assert "0 archived articles: nothing to do" in result.stderr


# -- export --format warc --------------------------------------------------------------------------


def test_export_warc_writes_the_chosen_responses_that_warcio_reads(
    sqlite_corpus: Path, tmp_path: Path
) -> None:
    """SQLite only: export is not on PostgreSQL in this branch."""
    corpus = sqlite_corpus
    out = tmp_path / "export.warc.gz"
    result = run(corpus, "export", "--format", "warc", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "exported 42 archived responses" in result.stderr
    found = records(out)
    assert [r["type"] for r in found] == ["warcinfo"] + ["response"] * 42
    urls = {r["headers"]["WARC-Target-URI"] for r in found[1:]}
    assert urls == {url for (url,) in rows(corpus, "SELECT url FROM articles")}
    checked = warcio_cli("check", str(out))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    indexed = warcio_cli("index", str(out))
    assert indexed.returncode == 0
    assert len(indexed.stdout.splitlines()) == 43


def test_an_exported_warc_ingests_into_the_same_articles(
    sqlite_corpus: Path, tmp_path: Path, db_target: str
) -> None:
    """Exported from the SQLite corpus (export is SQLite-only in this branch), ingested into either."""
    corpus = sqlite_corpus
    out = tmp_path / "export.warc.gz"
    assert run(corpus, "export", "--format", "warc", "-o", str(out)).exit_code == 0
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    target = db_target if is_postgres_url(db_target) else str(fresh / "corpus.db")
    config = ingest_config(fresh, archive=False, path=target).path
    result = run(config, "ingest", "--warc", str(out))
    assert result.exit_code == 0, result.output
    columns = "SELECT url, title, content_hash, published, author FROM articles ORDER BY url"
    assert [tuple(r.values()) for r in query_rows(target, columns)] == rows(corpus, columns)
    # each ingested article points at its record in the exported file (outside the database's
    # folder: an absolute path), so reextract works on an ingested corpus too
    files = query_rows(target, "SELECT DISTINCT warc_file FROM articles")
    assert files == [{"warc_file": str(out.resolve())}]
    again = run(config, "reextract")
    assert again.exit_code == 0, again.output
    assert "42 archived articles: 42 unchanged" in again.stderr


def test_export_warc_leaves_out_articles_without_a_response_and_says_so(
    sqlite_corpus: Path, tmp_path: Path
) -> None:
    """SQLite only: export is not on PostgreSQL in this branch."""
    corpus = sqlite_corpus
    with sqlite3.connect(corpus.parent / "corpus.db") as conn:
        conn.execute("UPDATE articles SET warc_file = NULL WHERE id IN (1, 2)")
    out = tmp_path / "export.warc.gz"
    result = run(corpus, "export", "--format", "warc", "-o", str(out))
    assert result.exit_code == 0
    assert "exported 40 archived responses (2 articles without an archived response)" in result.stderr
    assert len(records(out)) == 41


def test_export_warc_refuses_a_terminal(sqlite_corpus: Path) -> None:
    """SQLite only: export is not on PostgreSQL in this branch."""
    corpus = sqlite_corpus
    import os
    import pty
    import subprocess
    import sys

    leader, terminal = pty.openpty()  # stdout is a real terminal, as in a shell
    try:
        done = subprocess.run(
            [sys.executable, "-m", "scraper", "--config", str(corpus), "export", "--format", "warc"],
            stdout=terminal, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    finally:
        os.close(terminal)
        os.close(leader)
    assert done.returncode == 2
    assert "WARC is binary: give -o FILE.warc.gz" in done.stderr


def test_a_reextract_killed_at_once_leaves_a_consistent_database_and_the_next_run_finishes(
    corpus: Path,
) -> None:
    import os
    import signal
    import subprocess
    import sys

    expected = paths_changed_by_the_rule()
    config = with_rule(corpus, drop=[DROPPED])
    command = [sys.executable, "-u", "-m", "scraper", "--config", str(config), "reextract"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=config.parent
    )
    assert process.stdout is not None
    with process.stdout:
        first = process.stdout.readline()  # the first change is being written: kill it now
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert first.startswith("updated")
    if not is_postgres_url(target_of(config)):
        assert query(config.parent / "corpus.db", "PRAGMA integrity_check") == [("ok",)]
    written = rows(config, "SELECT count(*) FROM article_versions")[0][0]
    assert written <= len(expected)  # whole units or nothing
    result = run(config, "reextract")
    assert result.exit_code == 0, result.output
    versions = rows(config, "SELECT a.url FROM article_versions v JOIN articles a ON a.id = v.article_id")
    assert sorted(path_of(url) for (url,) in versions) == sorted(expected)  # each changed once, none twice


def test_show_names_the_extractor_of_the_row_and_of_each_version(sqlite_corpus: Path) -> None:
    """SQLite only: show is not on PostgreSQL in this branch."""
    corpus = sqlite_corpus
    run(with_rule(corpus, drop=[DROPPED]), "reextract")
    [(article_id,)] = rows(corpus, "SELECT article_id FROM article_versions LIMIT 1")
    shown = run(corpus, "show", str(article_id))
    assert shown.exit_code == 0, shown.output
    assert f"extractor: {extractor_version()}" in shown.stdout
    assert f"(extractor {extractor_version()})" in shown.stdout  # the version's line
    assert "warc_file: warc/scraper-" in shown.stdout


def test_a_periodic_commit_that_fails_stops_the_run(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scraper.errors import StorageError
    from scraper.pipeline import reextract
    from scraper.store.batch import UnitBatch

    real_commit = UnitBatch.commit
    failed = []

    def commit_failing_once(batch: UnitBatch) -> None:
        if batch.open and not failed:  # the first commit with units in it: the database fails it
            failed.append(True)
            batch._rollback()
            raise StorageError("disk is full")
        real_commit(batch)

    monkeypatch.setattr(UnitBatch, "commit", commit_failing_once)  # WriteBatch's and PgWriteBatch's
    with pytest.raises(StorageError, match="disk is full"):  # not a run that reports lost writes
        reextract(load_config(with_rule(corpus, drop=[DROPPED])))
    assert failed
