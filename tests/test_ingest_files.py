"""`scraper ingest --files` and `scraper extract FILE`: saved pages, real CLI, real SQLite and PostgreSQL.

The ingest tests run on both backends (db_target).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from tests.archives import FIXTURE_PAGES, page
from tests.backends import query_rows

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture
def config(tmp_path, db_target) -> Path:
    """A config storing into db_target (SQLite file or PostgreSQL URL)."""
    path = tmp_path / "config.yaml"
    path.write_text(
        f"storage:\n  path: '{db_target}'\nextract:\n  min_chars: 40\ncrawl:\n  workers: 1\n",
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def urls(target: str) -> list[str]:
    return [row["url"] for row in query_rows(target, "SELECT url FROM articles ORDER BY id")]


def with_canonical(n: int, attr: str = "link") -> bytes:
    url = f"https://news.example.com/story/{n}"
    tag = (
        f'<link rel="canonical" href="{url}">'
        if attr == "link"
        else f'<meta property="og:url" content="{url}">'
    )
    return page(n).replace(b"<head>", b"<head>" + tag.encode())


def test_a_folder_is_walked_sorted_with_gz_pages_and_canonical_urls(config, tmp_path, db_target):
    folder = tmp_path / "saved"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.html").write_bytes(with_canonical(2, "og"))
    (folder / "a.html").write_bytes(with_canonical(1))
    (folder / "sub" / "c.dat").write_bytes(gzip.compress(with_canonical(3)))  # gzip by content
    result = run(config, "ingest", "--files", str(folder))
    assert result.exit_code == 0, result.output
    assert urls(db_target) == [f"https://news.example.com/story/{n}" for n in (1, 2, 3)]
    assert "3 files: 3 new" in result.stderr


def test_binary_file_is_refused_with_one_line(config, tmp_path, db_target):
    (tmp_path / "logo.html").write_bytes(PNG)
    (tmp_path / "ok.html").write_bytes(with_canonical(1))
    result = run(config, "ingest", "--files", str(tmp_path / "logo.html"), str(tmp_path / "ok.html"))
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if "logo.html" in line]
    assert len(lines) == 1
    assert "refused: the file is a PNG image, not an HTML page" in lines[0]
    assert urls(db_target) == ["https://news.example.com/story/1"]


def test_a_page_without_url_is_skipped_naming_the_fix(config, tmp_path, db_target):
    (tmp_path / "bare.html").write_bytes(page(1))
    result = run(config, "ingest", "--files", str(tmp_path / "bare.html"))
    assert "no URL for this page" in result.stderr
    assert "--url-from FILE" in result.stderr
    assert urls(db_target) == []


def test_url_from_maps_files_to_urls(config, tmp_path, monkeypatch, db_target):
    (tmp_path / "one.html").write_bytes(page(1))
    (tmp_path / "two.html.gz").write_bytes(gzip.compress(with_canonical(2)))
    mapping = tmp_path / "urls.tsv"
    mapping.write_text(
        "# saved page\tURL\none.html\thttps://example.net/one\ntwo.html.gz\thttps://example.net/two\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    result = run(config, "ingest", "--files", "one.html", "two.html.gz", "--url-from", str(mapping))
    assert result.exit_code == 0, result.output
    assert urls(db_target) == ["https://example.net/one", "https://example.net/two"]


def test_a_bad_url_from_line_exits_2_naming_the_line(config, tmp_path):
    (tmp_path / "one.html").write_bytes(page(1))
    mapping = tmp_path / "urls.tsv"
    mapping.write_text("one.html https://example.net/one\n", encoding="utf-8")
    result = run(config, "ingest", "--files", str(tmp_path / "one.html"), "--url-from", str(mapping))
    assert result.exit_code == 2
    assert "line 1: expected 'path<TAB>http(s) URL'" in result.output


def test_a_missing_file_fails_and_exits_1(config, tmp_path):
    result = run(config, "ingest", "--files", str(tmp_path / "nope.html"))
    assert result.exit_code == 1
    assert "nope.html: cannot read it: No such file or directory" in result.stderr


def test_files_filters_apply(config, tmp_path, db_target):
    (tmp_path / "a.html").write_bytes(with_canonical(1))
    (tmp_path / "b.html").write_bytes(with_canonical(2))
    result = run(config, "ingest", "--files", str(tmp_path), "--match", "/2$")
    assert result.exit_code == 0
    assert urls(db_target) == ["https://news.example.com/story/2"]


def test_extract_reads_a_gzipped_page(tmp_path):
    source = FIXTURE_PAGES / "bjreview-century" / "page.html"
    path = tmp_path / "saved.html.gz"
    path.write_bytes(gzip.compress(source.read_bytes()))
    result = CliRunner().invoke(cli, ["extract", str(path)])
    assert result.exit_code == 0
    assert result.stdout.startswith("A century of international exchanges\n")


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (PNG, "a PNG image"),
        (b"PK\x03\x04" + bytes(100), "a ZIP archive"),
        (b"%PDF-1.7\n" + bytes(100), "a PDF document"),
        (gzip.compress(PNG), "a PNG image"),
        (gzip.compress(page(1))[:30], "once gunzipped"),
    ],
)
def test_extract_refuses_binary_input_with_one_line_and_exit_2(tmp_path, data, what):
    path = tmp_path / "input.html"
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["extract", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert str(path) in line
    assert what in line
