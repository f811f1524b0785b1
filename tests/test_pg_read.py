"""The read side on PostgreSQL against SQLite: the same corpus gives the same bytes and answers (issue 14).

Each test writes one corpus to a SQLite file and to a PostgreSQL database through the real store,
then runs the real CLI on both. Search scores differ by design (bm25 against ts_rank), so
search output is compared without them; export, show and count must match byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.errors import StorageError
from scraper.query import count_articles, search
from scraper.store.snapshot import snapshot
from tests.backends import query_rows
from tests.test_query import CORPUS, NOW, write_corpus
from tests.test_reextract import crawled  # noqa: F401  (fixture: the fixture site crawled, archive on)

# Queries whose answers both backends must share: words, phrases, Chinese two- and four-character
# words, a single CJK character (LIKE), filters' companions, and text that is FTS5 syntax.
QUERIES = (
    "trade", "the", "Trade talks", '"trade rules"', "国际交流", "北京", "港口 吞吐量", "文化", "港",
    "GENEVA", "tA", "harvest grain", '"unbalanced', "NEAR(", "e-mail", "---", "trade ---",
)  # fmt: skip


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def both(tmp_path: Path, pg_url: str) -> tuple[str, str]:
    """CORPUS written to a SQLite file and to a PostgreSQL database: (path, url)."""
    return write_corpus(str(tmp_path / "corpus.db")), write_corpus(pg_url)


@pytest.mark.parametrize(
    "args",
    [
        ("export",),
        ("export", "--format", "json"),
        ("export", "--format", "csv"),
        ("export", "--site", "gamma", "--format", "json"),
        ("export", "--since", "2021-06-01", "--until", "2021-06-30"),
        ("export", "--author", "JANE", "--lang", "en"),
        ("show", "https://a.example/print/1", "--format", "json"),
        ("show", "4"),
    ],
)
def test_export_and_show_bytes_are_the_same_on_both_backends(both, args):
    sqlite_path, pg = both
    on_sqlite, on_pg = run("--db", sqlite_path, *args), run("--db", pg, *args)
    assert on_sqlite[0] == on_pg[0] == 0
    assert on_sqlite[1] == on_pg[1]
    assert on_sqlite[1]


@pytest.mark.parametrize("text", QUERIES)
def test_search_answers_are_the_same_on_both_backends(both, text):
    sqlite_path, pg = both

    def answers(target: str) -> list[dict]:
        rows = search(target, text, limit=50)
        return sorted(({k: v for k, v in row.items() if k != "score"} for row in rows), key=lambda r: r["id"])

    assert answers(sqlite_path) == answers(pg)


@pytest.mark.parametrize(
    "text",
    ["trade NOT tariffs", '"国际交流" OR 吞吐量', "title:港口", "trad*", "(trade OR council) AND rules"],
)
def test_raw_queries_answer_the_same_on_both_backends(both, text):
    sqlite_path, pg = both
    assert {r["title"] for r in search(sqlite_path, text, raw=True)} == {
        r["title"] for r in search(pg, text, raw=True)
    }


def test_raw_syntax_without_a_postgresql_form_is_the_same_usage_error(pg_url):
    write_corpus(pg_url)
    code, _, err = run("--db", pg_url, "search", "--raw", "trade NEAR(talks)")
    assert code == 2
    assert "bad FTS5 query" in err


def test_an_article_updated_on_postgresql_is_found_by_its_new_text_only(pg_url):
    from scraper.models import Article
    from tests.backends import save_article

    url = "https://u.example/1"
    save_article(
        pg_url,
        Article(title="Old title", text="A story about harbours.", url=url),
        url=url,
        site="u",
        fetched_at=NOW,
    )
    save_article(
        pg_url,
        Article(title="New title", text="A story about bridges.", url=url),
        url=url,
        site="u",
        fetched_at=NOW,
    )
    assert [r["title"] for r in search(pg_url, "bridges")] == ["New title"]
    assert search(pg_url, "harbours") == []
    assert search(pg_url, "old") == []


def test_the_search_step_indexes_rows_stored_before_it(pg_url):
    """Rows written at schema 2 (no search column) are found once open_pg applies the _search step."""
    import psycopg

    from scraper.store.pg import schema

    with psycopg.connect(pg_url, autocommit=True) as conn, conn.transaction():
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {schema.MIGRATIONS_TABLE} (migration_set TEXT NOT NULL,"
            " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
            " PRIMARY KEY (migration_set, name))"
        )
        for version, step in enumerate(schema.MIGRATION_STEPS[:2], start=1):
            step(conn)
            conn.execute(
                f"INSERT INTO {schema.MIGRATIONS_TABLE} (migration_set, name) VALUES (%s, %s)",
                [schema.MIGRATION_SET, schema.migration_name(version, step)],
            )
        conn.execute(
            "INSERT INTO articles (url, title, text)"
            " VALUES ('https://o.example/1', '投身外交(3)', 'AI said café.')"
        )
        conn.execute(
            "INSERT INTO article_urls (url, article_id, kind) VALUES ('https://o.example/1', 1, 'canonical')"
        )
    with pytest.raises(StorageError, match="run `scraper migrate`"):
        search(pg_url, "外交")
    from scraper.store.pg import open_pg

    open_pg(pg_url).close()
    assert [r["title"] for r in search(pg_url, "外交")] == ["投身外交(3)"]
    assert [r["title"] for r in search(pg_url, "cafe")] == ["投身外交(3)"]
    assert search(pg_url, "sai") == []


# --- export --to-sqlite ---


def test_a_snapshot_of_a_postgresql_corpus_answers_like_it(pg_url, tmp_path):
    write_corpus(pg_url)
    file = tmp_path / "snap.db"
    code, _, err = run("--db", pg_url, "export", "--to-sqlite", str(file))
    assert code == 0, err
    assert f"wrote {len(CORPUS)} articles to {file}" in err
    for text in QUERIES:
        strip = lambda rows: [{k: v for k, v in r.items() if k != "score"} for r in rows]  # noqa: E731
        assert sorted(strip(search(file, text)), key=lambda r: r["id"]) == sorted(
            strip(search(pg_url, text)), key=lambda r: r["id"]
        ), text
    for args in (("export",), ("show", "1", "--format", "json"), ("export", "--format", "csv")):
        assert run("--db", str(file), *args)[1] == run("--db", pg_url, *args)[1]
    tables = ("article_urls", "article_versions", "runs")
    for table in tables:
        assert len(query_rows(file, f"SELECT * FROM {table}")) == len(
            query_rows(pg_url, f"SELECT * FROM {table}")
        )
    assert not Path(f"{file}.tmp").exists()
    assert not Path(f"{file}-wal").exists()


def test_a_snapshot_refuses_an_existing_file_unless_forced(db_target, tmp_path):
    write_corpus(db_target)
    file = tmp_path / "snap.db"
    file.write_text("keep me")
    code, _, err = run("--db", db_target, "export", "--to-sqlite", str(file))
    assert code == 1
    assert "exists; pass --force" in err
    assert file.read_text() == "keep me"
    code, _, err = run("--db", db_target, "export", "--to-sqlite", str(file), "--force")
    assert code == 0, err
    assert count_articles(file) == len(CORPUS)
    assert run("--db", db_target, "export", "--to-sqlite", str(file), "--force", "--site", "x")[0] == 2


def test_a_failed_snapshot_leaves_no_file(pg_url, tmp_path, monkeypatch):
    from scraper.store.pg import snapshot as pg_snapshot

    write_corpus(pg_url)
    monkeypatch.setattr(pg_snapshot, "COPIED_TABLES", (*pg_snapshot.COPIED_TABLES, ("no_such_table", "id")))
    file = tmp_path / "snap.db"
    with pytest.raises(StorageError):
        snapshot(pg_url, file)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_text_too_big_for_a_tsvector_is_stored_and_found_by_its_start(pg_url):
    """PostgreSQL refuses a tsvector over 1 MB: the index takes the first MAX_INDEX_CHARS of a text."""
    from scraper.models import Article
    from tests.backends import save_article

    words = [f"w{i:07d}" for i in range(120_000)]  # 960,000 characters, every word distinct
    url = "https://big.example/1"
    result = save_article(
        pg_url, Article(title="Big", text=" ".join(words), url=url), url=url, site="b", fetched_at=NOW
    )
    assert result.outcome.name == "INSERTED"
    assert [r["title"] for r in search(pg_url, "w0000001")] == ["Big"]
    assert [r["title"] for r in search(pg_url, "big")] == ["Big"]


def test_export_warc_on_postgresql_writes_the_archived_responses(
    crawled,  # noqa: F811  (the fixture imported above)
    tmp_path,
    pg_url,
    monkeypatch,
):
    """The crawled fixture corpus (archive on) copied into PostgreSQL exports the same 42 responses.

    On PostgreSQL a relative WARC path is read from the current directory: the test runs in the
    folder that holds warc/, as a worker writing there would.
    """
    import shutil
    import sqlite3

    import psycopg

    from scraper.store.pg import open_pg
    from tests.test_archive_write import records

    shutil.copytree(crawled / "warc", tmp_path / "warc")
    monkeypatch.chdir(tmp_path)
    columns = (
        "id",
        "url",
        "title",
        "text",
        "content_hash",
        "site",
        "warc_file",
        "warc_offset",
        "warc_length",
    )
    with sqlite3.connect(crawled / "corpus.db") as source:
        rows = source.execute(f"SELECT {', '.join(columns)} FROM articles ORDER BY id").fetchall()
    open_pg(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO articles ({', '.join(columns)}) VALUES ({', '.join('%s' for _ in columns)})", rows
        )
    out = tmp_path / "export.warc.gz"
    code, _, err = run("--db", pg_url, "export", "--format", "warc", "-o", str(out))
    assert code == 0, err
    assert "exported 42 archived responses" in err
    found = records(out)
    assert [r["type"] for r in found] == ["warcinfo"] + ["response"] * 42
    assert {r["headers"]["WARC-Target-URI"] for r in found[1:]} == {row[1] for row in rows}


@pytest.mark.parametrize("ranked", [2, 1_000])
def test_both_ways_of_finding_the_newest_matches_give_the_same_page(pg_url, monkeypatch, ranked):
    """The planner's own plan and the plan held to the GIN index (store/pg/read.py _walks) agree.

    Which one runs depends on the planner's estimate, so each is chosen here, with a bound under
    the match count (2) and over it, with and without filters.
    """
    from scraper.store import read as sqlite_read
    from scraper.store.pg import read as pg_read
    from scraper.store.read import Filters

    write_corpus(pg_url)
    monkeypatch.setattr(sqlite_read, "MAX_RANKED", ranked)
    pages = {}
    for walks in (True, False):
        monkeypatch.setattr(pg_read, "_walks", lambda *args, walks=walks: walks)
        pages[walks] = [
            [(row["id"], row["score"]) for row in search(pg_url, text, limit=50, filters=filters)]
            for text in QUERIES
            for filters in (Filters(), Filters(site=("alpha",)), Filters(since="2021-06-01"))
        ]
    assert pages[True] == pages[False]
    assert sum(map(len, pages[True])) > 10
