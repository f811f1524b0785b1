"""The archive on fetch (issue 12): crawl and ingest write WARC/1.1 files that warcio reads back.

A real HTTP server on 127.0.0.1 (tests/server.py), real SQLite files, real WARC files; warcio's own
reader (ArchiveIterator) and its command line (`warcio check`, `warcio index`) judge what we wrote.
The ingest tests run on PostgreSQL too (db_target), where WARC paths are relative to the working
directory.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import io
import json
import logging
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from scraper.archive import resolve_path
from scraper.archive.write import ArchiveWriter, Exchange, run_info
from scraper.config import FetchConfig, is_postgres_url, load_config
from scraper.dedupe import url_key
from scraper.encoding import decode_html
from scraper.extract import extract
from scraper.extract.version import extractor_version
from scraper.fetch import Fetcher
from scraper.pipeline import ingest, run_crawl
from tests.backends import BACKENDS, query_rows
from tests.pgserver import PgServer
from tests.server import FixtureServer
from tests.test_crawl import query, write_config

SITE = Path(__file__).resolve().parent / "fixtures" / "site"
WARCIO = Path(sys.executable).parent / "warcio"
NAME_RE = re.compile(r"^scraper-\d{14}-\d+-\d{5}\.warc\.gz$")


def warc_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.warc.gz"))


def records(path: Path) -> list[dict[str, Any]]:
    """Every record of a WARC file as warcio reads it: type, headers, HTTP headers, payload."""
    out = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream, check_digests=True):
            out.append(
                {
                    "type": record.rec_type,
                    "headers": dict(record.rec_headers.headers),
                    "http": record.http_headers,
                    "payload": record.content_stream().read(),
                    "offset": None,
                }
            )
    return out


def read_ref(db: Path | str, file: str, offset: int, length: int) -> dict[str, Any]:
    """The one record at (file, offset, length): read exactly those bytes, gunzip, parse."""
    with resolve_path(db, file).open("rb") as stream:
        stream.seek(offset)
        member = stream.read(length)
    assert len(member) == length
    assert gzip.decompress(member).startswith(b"WARC/1.1\r\n")  # one whole gzip member
    (record,) = records_from_bytes(member)
    return record


def records_from_bytes(data: bytes) -> list[dict[str, Any]]:
    return [
        {
            "type": r.rec_type,
            "headers": dict(r.rec_headers.headers),
            "http": r.http_headers,
            "payload": r.content_stream().read(),
        }
        for r in ArchiveIterator(io.BytesIO(data), check_digests=True)
    ]


def warcio_cli(*args: str) -> subprocess.CompletedProcess[str]:
    # the console script, else (none in this environment) the module's entry point
    command = [str(WARCIO)] if WARCIO.exists() else [sys.executable, "-m", "warcio.cli"]
    command += args
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def ingest_config(folder: Path, **storage: Any) -> Any:
    config = {
        "storage": {"path": str(folder / "corpus.db"), **storage},
        "fetch": {"allow_private_addresses": True, "retries": 0, "timeout": 5, "deadline": 10},
    }
    path = folder / "config.yaml"
    path.write_text(json.dumps(config))
    return load_config(path)


def crawl_config(folder: Path, server: FixtureServer, *, db: str | None = None, **storage: Any) -> Any:
    """test_crawl's config with storage keys replaced; db: a SQLite path or a PostgreSQL URL."""
    path = write_config(folder, server, db=db)
    config = json.loads(path.read_text())
    config["storage"].update(storage)
    path.write_text(json.dumps(config))
    return load_config(path)


@pytest.fixture(scope="module", params=BACKENDS)
def archived(
    server: FixtureServer, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[str, Any]]:
    """One crawl of the fixture site with the archive on (the default), per backend.

    On PostgreSQL the archive folder is folder/warc too, given as an absolute storage.archive_dir.
    """
    folder = tmp_path_factory.mktemp("archived")
    pg: PgServer | None = request.getfixturevalue("pg_server") if request.param == "postgres" else None
    url = pg.database() if pg else None
    cfg = crawl_config(folder, server, db=url)
    server.reset()
    report = run_crawl(cfg)
    yield {"cfg": cfg, "db": cfg.storage.path, "report": report, "warc": folder / "warc"}
    if pg and url:
        pg.drop(url)


# -- a crawl -------------------------------------------------------------------------------------


def test_a_crawl_writes_warc_files_whose_every_record_warcio_reads(archived: dict[str, Any]) -> None:
    files = warc_files(archived["warc"])
    assert files, "storage.archive is on by default: the crawl writes data/warc beside the database"
    assert all(NAME_RE.match(f.name) for f in files)
    for file in files:
        found = records(file)
        assert found[0]["type"] == "warcinfo"
        assert {r["type"] for r in found[1:]} == {"response", "request"}
        responses = [r for r in found if r["type"] == "response"]
        requests = [r for r in found if r["type"] == "request"]
        assert len(responses) == len(requests)
        ids = {r["headers"]["WARC-Record-ID"] for r in responses}
        assert {r["headers"]["WARC-Concurrent-To"] for r in requests} == ids
        targets = [r["headers"]["WARC-Target-URI"] for r in responses]
        # pages only: robots.txt, sitemaps and feeds need storage.archive_resources
        assert not [t for t in targets if t.endswith(("robots.txt", ".xml", ".xml.gz"))]
        assert all(r["http"].get_statuscode() == "200" for r in responses)


def test_warcio_check_and_index_read_every_record(archived: dict[str, Any]) -> None:
    files = [str(f) for f in warc_files(archived["warc"])]
    checked = warcio_cli("check", "-v", *files)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "digest pass" in checked.stdout
    assert "fail" not in checked.stdout.lower()
    indexed = warcio_cli("index", "-f", "warc-type,warc-target-uri,offset,length", *files)
    assert indexed.returncode == 0, indexed.stderr
    lines = [json.loads(line) for line in indexed.stdout.splitlines()]
    assert sum(len(records(Path(f))) for f in files) == len(lines)


def test_the_warcinfo_names_the_tool_format_extractor_and_config(archived: dict[str, Any]) -> None:
    (info, *_) = records(warc_files(archived["warc"])[0])
    fields = dict(line.split(": ", 1) for line in info["payload"].decode().splitlines() if line.strip())
    assert fields["software"].startswith("scraper/")
    assert fields["format"] == "WARC File Format 1.1"
    assert fields["conformsTo"].endswith("/warc-1.1/")
    assert fields["extractor"] == extractor_version()
    assert fields["config"] == str(Path(archived["cfg"].path).resolve())


def test_each_article_row_points_at_exactly_its_response_record(archived: dict[str, Any]) -> None:
    db = archived["db"]
    rows = query(db, "SELECT id, url, text, warc_file, warc_offset, warc_length, extractor FROM articles")
    assert len(rows) == 42
    # relative to the database's folder; on PostgreSQL (no such folder) absolute
    prefix = f"{archived['warc']}/scraper-" if is_postgres_url(db) else "warc/scraper-"
    for article_id, url, text, file, offset, length, extractor in rows:
        assert file.startswith(prefix)
        assert extractor == extractor_version()
        record = read_ref(db, file, offset, length)
        assert record["type"] == "response"
        target = record["headers"]["WARC-Target-URI"]
        keys = {u for (u,) in query(db, "SELECT url FROM article_urls WHERE article_id = ?", article_id)}
        assert url_key(target) in keys | {url}
        charset = re.search(r"charset=([\w-]+)", record["http"].get_header("Content-Type") or "")
        html, _ = decode_html(record["payload"], charset.group(1) if charset else None)
        assert extract(html, target).text == text  # the archived body gives the stored text again


def test_a_crawl_with_the_archive_off_writes_no_warc_and_null_pointers(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    cfg = crawl_config(tmp_path, fresh_server, db=db_target, archive=False)
    report = run_crawl(cfg)
    assert report.sources["fixture"].counts["new"] == 42
    assert not (tmp_path / "warc").exists()
    assert not list(tmp_path.rglob("*.warc*"))
    db = cfg.storage.path
    assert query(
        db, "SELECT count(*) FROM articles WHERE warc_file IS NOT NULL OR warc_offset IS NOT NULL"
    ) == [(0,)]
    assert query(db, "SELECT count(DISTINCT extractor) FROM articles") == [(1,)]  # recorded all the same


def test_rotation_gives_several_files_each_starting_with_warcinfo(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    # relative to the database's folder; PostgreSQL needs it absolute
    raw = str(tmp_path / "raw") if is_postgres_url(db_target) else "raw"
    cfg = crawl_config(tmp_path, fresh_server, db=db_target, archive_max_bytes=20_000, archive_dir=raw)
    run_crawl(cfg)
    files = warc_files(tmp_path / "raw")
    assert len(files) >= 3
    serials = [int(f.name[-13:-8]) for f in files]
    assert serials == list(range(serials[0], serials[0] + len(files)))  # one writer's files, in order
    for file in files:
        found = records(file)
        assert found[0]["type"] == "warcinfo"
        assert [r["type"] for r in found].count("warcinfo") == 1
    db = cfg.storage.path
    rows = query(db, "SELECT warc_file, warc_offset, warc_length FROM articles")
    assert len({file for file, _, _ in rows}) >= 2
    for file, offset, length in rows:
        assert file.startswith(f"{raw}/")
        assert read_ref(db, file, offset, length)["type"] == "response"


def test_resources_are_archived_only_with_archive_resources(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    cfg = crawl_config(tmp_path, fresh_server, db=db_target, archive_resources=True)
    run_crawl(cfg)
    targets = [
        r["headers"]["WARC-Target-URI"]
        for f in warc_files(tmp_path / "warc")
        for r in records(f)
        if r["type"] == "response"
    ]
    assert any(t.endswith("/robots.txt") for t in targets)
    assert any(t.endswith("/site/feed.xml") for t in targets)
    assert any(t.endswith("/site/sitemap_index.xml") for t in targets)


def test_a_stopped_crawl_leaves_complete_files(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    path = write_config(tmp_path, fresh_server, db=db_target)
    config = json.loads(path.read_text())
    config["crawl"]["max_run_time"] = 1  # stops while pages are being fetched and archived
    config["crawl"]["max_crawl_delay"] = 0.1
    path.write_text(json.dumps(config))
    report = run_crawl(load_config(path))
    files = [str(f) for f in warc_files(tmp_path / "warc")]
    assert files
    checked = warcio_cli("check", *files)
    assert checked.returncode == 0, (report.stopped, checked.stdout, checked.stderr)


def test_a_dry_run_archives_nothing(fresh_server: FixtureServer, tmp_path: Path) -> None:
    cfg = crawl_config(tmp_path, fresh_server)
    report = run_crawl(cfg, dry_run=True)
    assert report.dry_run
    assert fresh_server.requests  # start pages, sitemaps and feeds were fetched
    assert not (tmp_path / "warc").exists()


# -- ingest, updates, failures -----------------------------------------------------------------


def _ingest_target(tmp_path: Path, db_target: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """ingest_config(tmp_path) into db_target; on PostgreSQL with an absolute archive_dir, tmp_path/warc."""
    if not is_postgres_url(db_target):
        return ingest_config(tmp_path)
    return ingest_config(tmp_path, path=db_target, archive_dir=str(tmp_path / "warc"))


def _rows(target: str, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row.values()) for row in query_rows(target, sql)]


def test_the_ingest_command_archives_its_pages(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from scraper.cli import cli

    cfg = _ingest_target(tmp_path, db_target, monkeypatch)
    url = fresh_server.url("/site/articles/a02.html")
    result = CliRunner().invoke(cli, ["--config", str(cfg.path), "ingest", url])
    assert result.exit_code == 0, result.output
    db = cfg.storage.path
    ((file, offset, length),) = _rows(db, "SELECT warc_file, warc_offset, warc_length FROM articles")
    # beside the database; on PostgreSQL (no folder beside it) the absolute archive_dir's path
    assert file.startswith(f"{tmp_path}/warc/" if is_postgres_url(db) else "warc/")
    record = read_ref(db, file, offset, length)
    assert record["headers"]["WARC-Target-URI"] == url
    assert record["payload"] == (SITE / "articles" / "a02.html").read_bytes()


def test_ingest_archives_and_an_update_moves_the_old_pointer_to_versions(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _ingest_target(tmp_path, db_target, monkeypatch)
    db = cfg.storage.path
    page = (SITE / "articles" / "a01.html").read_bytes()
    fresh_server.overlay["/changing.html"] = (200, "text/html", page)
    url = fresh_server.url("/changing.html")
    assert ingest([url], cfg).counts == {"new": 1}
    ((first_file, first_offset, first_length),) = _rows(
        db, "SELECT warc_file, warc_offset, warc_length FROM articles"
    )
    assert read_ref(db, first_file, first_offset, first_length)["payload"] == page

    changed = page.replace(b"</p>", b" A correction was added.</p>", 1)
    fresh_server.overlay["/changing.html"] = (200, "text/html", changed)
    assert ingest([url], cfg).counts == {"updated": 1}
    ((file, offset, length, extractor),) = _rows(
        db, "SELECT warc_file, warc_offset, warc_length, extractor FROM articles"
    )
    assert read_ref(db, file, offset, length)["payload"] == changed
    versions = _rows(db, "SELECT warc_file, warc_offset, warc_length, extractor FROM article_versions")
    assert versions == [(first_file, first_offset, first_length, extractor)]
    assert file != first_file  # a new process never appends to an old file

    assert ingest([url], cfg).counts == {"unchanged": 1}  # archived again, but the row keeps its source
    assert _rows(db, "SELECT warc_file, warc_offset, warc_length FROM articles") == [(file, offset, length)]
    assert len(warc_files(tmp_path / "warc")) == 3


def test_a_write_failure_stores_the_pages_and_warns_once(
    fresh_server: FixtureServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the archive folder should be")
    cfg = ingest_config(tmp_path, archive_dir=str(blocker))
    urls = [fresh_server.url(f"/site/articles/a0{n}.html") for n in range(1, 5)]
    with caplog.at_level(logging.WARNING):
        report = ingest(urls, cfg)
    assert report.counts == {"new": 4}
    db = Path(cfg.storage.path)
    assert query(db, "SELECT count(*) FROM articles WHERE warc_file IS NULL") == [(4,)]
    warnings = [r for r in caplog.records if r.name.startswith("scraper.archive")]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    message = warnings[0].getMessage()
    assert str(blocker) in message
    assert "storage.archive_dir" in message
    assert "\n" not in message


def test_nothing_fetched_writes_no_file(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path / "warc", db_path=tmp_path / "x.db", max_bytes=1 << 20, info={})
    writer.close()
    assert not (tmp_path / "warc").exists()


def test_a_failed_ingest_writes_no_file(fresh_server: FixtureServer, tmp_path: Path) -> None:
    cfg = ingest_config(tmp_path)
    report = ingest([fresh_server.url("/status/404"), fresh_server.url("/pdf")], cfg)
    assert report.counts == {"failed": 1, "skipped": 1}
    assert not (tmp_path / "warc").exists()


# -- the fetcher's hook --------------------------------------------------------------------------


def fetch_with_archive(
    fetch_config: FetchConfig, folder: Path, call: str, url: str, **kwargs: Any
) -> tuple[Any, ArchiveWriter]:
    writer = ArchiveWriter(folder / "warc", db_path=folder / "x.db", max_bytes=1 << 20, info={"x": "y"})
    resources = kwargs.pop("archive_resources", False)

    async def run() -> Any:
        async with Fetcher(fetch_config, archive=writer, archive_resources=resources) as fetcher:
            return await getattr(fetcher, call)(url, **kwargs)

    try:
        return asyncio.run(run()), writer
    finally:
        writer.close()


def test_a_compressed_response_is_stored_decoded_with_the_original_coding_noted(
    fresh_server: FixtureServer, fetch_config: FetchConfig, tmp_path: Path
) -> None:
    page, _ = fetch_with_archive(fetch_config, tmp_path, "fetch", fresh_server.url("/gzip"))
    assert page.warc is not None
    record = read_ref(tmp_path / "x.db", page.warc.file, page.warc.offset, page.warc.length)
    http = record["http"]
    assert http.get_header("Content-Encoding") is None
    assert http.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert http.get_header("Content-Length") == str(len(record["payload"]))
    assert record["payload"].decode(page.encoding) == page.html
    assert record["headers"]["WARC-Target-URI"] == fresh_server.url("/gzip")
    date = dt.datetime.fromisoformat(record["headers"]["WARC-Date"].replace("Z", "+00:00"))
    assert date == page.fetched_at
    (file,) = warc_files(tmp_path / "warc")
    request = next(r for r in records(file) if r["type"] == "request")
    assert request["headers"]["WARC-Concurrent-To"] == record["headers"]["WARC-Record-ID"]
    assert request["http"].protocol == "GET"
    assert request["http"].statusline == "/gzip HTTP/1.1"
    assert "scraper/" in request["http"].get_header("User-Agent")


def test_a_redirected_page_is_archived_once_under_its_final_url(
    fresh_server: FixtureServer, fetch_config: FetchConfig, tmp_path: Path
) -> None:
    page, _ = fetch_with_archive(fetch_config, tmp_path, "fetch", fresh_server.url("/redirect/2"))
    (file,) = warc_files(tmp_path / "warc")
    responses = [r for r in records(file) if r["type"] == "response"]
    assert [r["headers"]["WARC-Target-URI"] for r in responses] == [page.final_url]  # hops not archived


def test_a_304_is_not_archived(
    fresh_server: FixtureServer, fetch_config: FetchConfig, tmp_path: Path
) -> None:
    from tests.server import ETAG

    page, writer = fetch_with_archive(fetch_config, tmp_path, "fetch", fresh_server.url("/etag"), etag=ETAG)
    assert page.status == 304
    assert page.warc is None
    assert writer.files == []


@pytest.mark.parametrize("resources", [False, True])
def test_fetch_bytes_archives_only_with_archive_resources(
    fresh_server: FixtureServer, fetch_config: FetchConfig, tmp_path: Path, resources: bool
) -> None:
    found, writer = fetch_with_archive(
        fetch_config, tmp_path, "fetch_bytes", fresh_server.url("/robots.txt"), archive_resources=resources
    )
    assert (found.warc is not None) is resources
    assert len(writer.files) == int(resources)


def test_writes_from_many_threads_each_get_their_own_record(tmp_path: Path) -> None:
    writer = ArchiveWriter(
        tmp_path / "w", db_path=tmp_path / "x.db", max_bytes=50_000, info=run_info(None, "t")
    )
    refs: list[Any] = []

    def work(n: int) -> None:
        for i in range(20):
            body = f"<html><p>thread {n} page {i}</p></html>".encode() * 40
            exchange = Exchange(
                f"http://h{n}.example/{i}", f"GET /{i} HTTP/1.1", [("Host", f"h{n}.example")], "HTTP/1.1",
                200, "OK", [("Content-Type", "text/html")], body, dt.datetime.now(dt.timezone.utc),
            )  # fmt: skip
            refs.append((exchange.url, body, writer.write(exchange)))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert len(refs) == 120
    assert len({(r.file, r.offset) for _, _, r in refs}) == 120
    assert len(writer.files) > 1
    for url, body, ref in refs:
        record = read_ref(tmp_path / "x.db", ref.file, ref.offset, ref.length)
        assert (record["headers"]["WARC-Target-URI"], record["payload"]) == (url, body)
    checked = warcio_cli("check", *[str(f) for f in writer.files])
    assert checked.returncode == 0, checked.stdout


def test_credentials_sent_are_named_but_never_stored_in_the_request_record(
    fresh_server: FixtureServer, fetch_config: FetchConfig, tmp_path: Path
) -> None:
    import dataclasses

    secret = "session-4f1c9e"
    cfg = dataclasses.replace(
        fetch_config, cookies=(("sid", secret),), headers=(("Authorization", f"Bearer {secret}"),)
    )
    fetch_with_archive(cfg, tmp_path, "fetch", fresh_server.url("/html"))
    sent = fresh_server.requests[-1].headers
    assert secret in sent["Cookie"]  # the site got them
    (file,) = warc_files(tmp_path / "warc")
    assert secret.encode() not in gzip.decompress(file.read_bytes())
    request = next(r for r in records(file) if r["type"] == "request")
    assert request["http"].get_header("Cookie") == "[redacted by scraper]"
    assert request["http"].get_header("Authorization") == "[redacted by scraper]"
