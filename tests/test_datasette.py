"""The corpus opens in Datasette with the shipped metadata: search box, facets, canned queries.

Every test runs twice: on the SQLite file the store wrote, and on `scraper export --to-sqlite` of
the same corpus written to PostgreSQL (the plain-file promise of issue 14).

Datasette (the `test` extra) runs as a subprocess on 127.0.0.1, so its own
deprecation warnings cannot trip filterwarnings=error, and it reads the real
database file that store.save_article wrote.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scraper import store
from scraper.models import Article
from scraper.store.snapshot import snapshot
from tests.backends import save_article

pytest.importorskip("datasette")

METADATA = Path(__file__).resolve().parents[1] / "datasette" / "metadata.yml"
PLUGINS = METADATA.parent / "plugins"
NOW = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
CORPUS = [
    # (url, site, published, language, title, text)
    ("https://a.example/1", "alpha", "2021-06-29", "en", "Trade talks resume", "Tariffs were discussed."),
    ("https://a.example/2", "alpha", "2022-07-15", "en", "Harvest report", "Grain trade rose this summer."),
    ("https://b.example/1", "beta", "2022-05-01", "en", "Local elections", "Voters chose a new council."),
    ("https://c.example/1", "gamma", "2021-06-30", "zh", "北京举行国际交流活动", "各国代表参加了活动。"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module", params=["sqlite", "postgres-snapshot"])
def datasette_db(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Path]:
    """The corpus as store writes it; or written to PostgreSQL, then `export --to-sqlite` of it."""
    # The file name is the database name the metadata file configures.
    path = tmp_path_factory.mktemp("datasette") / "articles.db"
    if request.param == "sqlite":
        yield _write_corpus(path)
        return
    server = request.getfixturevalue("pg_server")
    url = server.database()
    try:
        _write_corpus(url)
        snapshot(url, path)
        yield path
    finally:
        server.drop(url)


def _write_corpus(target: Path | str) -> Path | str:
    """CORPUS through the real store (SQLite or PostgreSQL), plus a second URL and a near URL."""
    if isinstance(target, str):
        return _write_pg_corpus(target)
    path = target
    db = store.open_db(path)
    for url, site, published, lang, title, text in CORPUS:
        article = Article(
            title=title, text=text, url=url, published=dt.date.fromisoformat(published), language=lang
        )
        store.save_article(db, article, url=url, site=site, fetched_at=NOW)
    # the first article seen again at a second URL, for the most-duplicated query
    first = Article(title=CORPUS[0][4], text=CORPUS[0][5], url=CORPUS[0][0])
    store.save_article(db, first, url="https://a.example/print/1", site="alpha", fetched_at=NOW)
    # the election story carried by another site, as dedupe.near: link records it (the texts here are
    # too short to be matched: the row is written as the store writes it)
    with store.transaction(db):
        db.execute(
            "INSERT INTO article_urls"
            " (url, article_id, kind, first_seen, last_seen, similarity, site, published) VALUES"
            " ('https://d.example/elections', 3, 'near', ?, ?, 0.9, 'delta', '2022-05-02')",
            [NOW.isoformat(), NOW.isoformat()],
        )
    db.close()
    return path


def _write_pg_corpus(url: str) -> str:
    """_write_corpus on PostgreSQL (near duplicates are not computed there yet: the row is written)."""
    import psycopg

    for url_, site, published, lang, title, text in CORPUS:
        article = Article(
            title=title, text=text, url=url_, published=dt.date.fromisoformat(published), language=lang
        )
        save_article(url, article, url=url_, site=site, fetched_at=NOW, near="off")
    first = Article(title=CORPUS[0][4], text=CORPUS[0][5], url=CORPUS[0][0])
    save_article(url, first, url="https://a.example/print/1", site="alpha", fetched_at=NOW, near="off")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO article_urls"
            " (url, article_id, kind, first_seen, last_seen, similarity, site, published) VALUES"
            " ('https://d.example/elections', 3, 'near', %s, %s, 0.9, 'delta', '2022-05-02')",
            [NOW, NOW],
        )
    return url


@pytest.fixture(scope="module")
def datasette_url(datasette_db: Path) -> Iterator[str]:
    path = datasette_db
    port = _free_port()
    command = [
        *(sys.executable, "-m", "datasette", "serve", str(path)),
        *("--metadata", str(METADATA), "--plugins-dir", str(PLUGINS)),
    ]
    log = path.with_suffix(".log")
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)], stdout=sink, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, process, log)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(errors="replace")
            pytest.fail(f"datasette exited with {process.returncode}: {output}")
        try:
            if httpx.get(f"{url}/-/versions.json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("datasette did not start within 30 s")


def get_json(url: str, path: str, **params: str) -> dict:
    response = httpx.get(url + path, params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("trade", {"Trade talks resume", "Harvest report"}),
        ("国际交流", {"北京举行国际交流活动"}),
        ("council", {"Local elections"}),
        # two-character Chinese words: one bigram of the index
        ("代表", {"北京举行国际交流活动"}),
        ("活动", {"北京举行国际交流活动"}),
        ("交流 代表", {"北京举行国际交流活动"}),
        ("北京举行", {"北京举行国际交流活动"}),
        # words, not substrings
        ("rad", set()),
    ],
)
def test_search_box_uses_the_fts_index(datasette_url, query, expected):
    data = get_json(datasette_url, "/articles/articles.json", _search=query, _shape="objects")
    assert {row["title"] for row in data["rows"]} == expected


def test_facets_on_site_language_and_year(datasette_url):
    data = get_json(datasette_url, "/articles/articles.json", _shape="objects")
    facets = data["facet_results"]
    counts = {name: {r["value"]: r["count"] for r in facets[name]["results"]} for name in facets}
    assert counts["site"] == {"alpha": 2, "beta": 1, "gamma": 1}
    assert counts["language"] == {"en": 3, "zh": 1}
    assert counts["year"] == {2021: 2, 2022: 2}
    filtered = get_json(datasette_url, "/articles/articles.json", year="2021", _shape="objects")
    assert {row["site"] for row in filtered["rows"]} == {"alpha", "gamma"}


def test_search_and_facet_together(datasette_url):
    data = get_json(
        datasette_url, "/articles/articles.json", _search="trade", _facet="site", _shape="objects"
    )
    site = {r["value"]: r["count"] for r in data["facet_results"]["site"]["results"]}
    assert site == {"alpha": 2}


def test_canned_queries_run(datasette_url):
    latest = get_json(datasette_url, "/articles/latest_articles.json", _shape="array")
    assert latest[0]["title"] == "Harvest report"
    assert len(latest) == len(CORPUS)
    per_day = get_json(datasette_url, "/articles/articles_per_day_per_site.json", _shape="array")
    assert {(row["day"], row["site"]) for row in per_day} == {(c[2], c[1]) for c in CORPUS}
    duplicated = get_json(datasette_url, "/articles/most_duplicated_stories.json", _shape="array")
    # a near URL is one more URL of its article
    expected = [("Trade talks resume", 2), ("Local elections", 2)]
    assert [(row["title"], row["urls"]) for row in duplicated] == expected
    stories = get_json(datasette_url, "/articles/biggest_stories.json", _shape="array")
    assert [(row["title"], row["members"], row["rows"]) for row in stories] == [("Local elections", 2, 1)]


def test_sqlite_utils_search_finds_two_character_chinese(datasette_db):
    """`sqlite-utils search` sends the raw text, with no plugin: a two-character word is one token."""
    for query, expected in (
        ("代表", ["北京举行国际交流活动"]),
        ("trade", ["Trade talks resume", "Harvest report"]),
    ):
        command = [sys.executable, "-m", "sqlite_utils", "search", str(datasette_db), "articles", query]
        done = subprocess.run([*command, "-c", "title"], capture_output=True, text=True, check=True)
        assert [row["title"] for row in json.loads(done.stdout)] == expected
