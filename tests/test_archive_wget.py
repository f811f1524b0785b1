"""A WARC written by GNU wget (`wget --warc-file`) against the loopback server ingests like a crawl.

wget comes from Debian's package (.ci/run installs it where it is missing); without it the test
skips and says why. wget stores what the wire carried (chunked bodies, gzip Content-Encoding when
asked for, its own request records, a warcinfo and a CDX-less metadata record), which is what
other archives (Heritrix, CC-NEWS) hold too: the reader must take it as it is.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from tests.server import FixtureServer
from tests.test_archive_write import ingest_config, records
from tests.test_crawl import query, write_config

WGET = shutil.which("wget")
pytestmark = pytest.mark.skipif(
    WGET is None, reason="wget is not installed (Debian: apt-get install wget; .ci/run does it)"
)


def run(config: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def articles_by_text(db: str | Path) -> dict[str, tuple[Any, ...]]:
    """Stored articles keyed by their text's hash: (title, published, author, URLs seen); either backend."""
    urls: dict[int, set[str]] = {}
    for article_id, url in query(db, "SELECT article_id, url FROM article_urls"):
        urls.setdefault(article_id, set()).add(url)
    rows = query(db, "SELECT id, content_hash, title, published, author FROM articles")
    return {digest: (title, published, author, urls[id_]) for id_, digest, title, published, author in rows}


def test_a_wget_warc_ingests_into_the_articles_a_crawl_stores(
    fresh_server: FixtureServer, tmp_path: Path, db_target: str
) -> None:
    """The reference crawl is stored in SQLite; the wget WARC is ingested into either backend."""
    warc = tmp_path / "wget"
    done = subprocess.run(
        [
            str(WGET), "--recursive", "--level=5", "--no-parent", "--no-verbose", "--execute", "robots=on",
            f"--warc-file={warc}", f"--directory-prefix={tmp_path / 'mirror'}", fresh_server.url("/site/"),
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # exit 8: some link answered 4xx (the fixture site has broken links on purpose); the WARC is whole
    assert done.returncode in (0, 8), done.stderr[-2000:]
    archive = tmp_path / "wget.warc.gz"
    fetched = {r["headers"]["WARC-Target-URI"] for r in records(archive) if r["type"] == "response"}

    crawled = tmp_path / "crawl"
    crawled.mkdir()
    crawl_config = write_config(crawled, fresh_server)
    assert run(crawl_config, "crawl").exit_code == 0
    ingested = tmp_path / "ingest"
    ingested.mkdir()
    config = ingest_config(ingested, path=db_target, archive=False)
    result = run(config.path, "ingest", "--warc", str(archive))
    assert result.exit_code == 0, result.output

    crawl = articles_by_text(crawled / "corpus.db")
    expected = {digest: row for digest, row in crawl.items() if row[3] & fetched}  # the pages wget got
    got = articles_by_text(db_target)
    assert len(expected) >= 38  # every article the site links to
    assert got.keys() == expected.keys()  # the same texts: nothing lost, nothing doubled
    for digest, (title, published, author, urls) in got.items():
        assert (title, published, author) == expected[digest][:3]
        assert urls <= expected[digest][3]  # stored under a URL the crawl knows for that text
