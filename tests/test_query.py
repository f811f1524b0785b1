"""Search, export and show over a known corpus written through the real store, on both backends.

Tests taking `corpus_db` (or `db_target`) run on SQLite and on PostgreSQL (tests/backends.py). Where
the backends rank ties differently (bm25 against ts_rank), a test asserts what both share. Tests
of SQLite's own machinery (the filter index, the trigram migration, the read-only file, near
duplicates) stay SQLite-only and say so.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
import tracemalloc

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper import open_corpus, store
from scraper.cli import cli
from scraper.errors import QueryError
from scraper.models import Article
from scraper.query import (
    Filters,
    count_articles,
    crawl_stats,
    iter_article_json_bytes,
    iter_articles,
    parse_terms,
    search,
    show,
)
from tests.backends import save_article

NOW = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
CORPUS = [
    # (url, site, published, author, language, title, text)
    (
        "https://a.example/1",
        "alpha",
        "2021-06-29",
        "Li Wei",
        "en",
        "Trade talks resume",
        "Negotiators met in Geneva to discuss tariffs and trade rules for the coming year.",
    ),
    (
        "https://a.example/2",
        "alpha",
        "2021-07-15",
        "Jane Roe",
        "en",
        "Harvest report",
        "Farmers reported a strong harvest; trade in grain rose, and prices fell over the summer.",
    ),
    (
        "https://b.example/1",
        "beta",
        "2021-05-01",
        "Jane Roe",
        "en",
        "Local elections",
        "Voters chose a new council. Turnout was high and the count finished before midnight.",
    ),
    (
        "https://c.example/1",
        "gamma",
        "2021-06-30",
        None,
        "zh",
        "北京举行国际交流活动",
        "来自各国的代表在北京参加了国际交流活动，讨论了文化合作与经济发展的问题。",
    ),
    (
        "https://c.example/2",
        "gamma",
        "2022-01-10",
        None,
        "zh",
        "上海港口吞吐量创新高",
        "上海港口今年的货物吞吐量再创新高，贸易往来更加频繁。",
    ),
]


def write_corpus(target):
    """CORPUS, then its first article again at a print URL that declares the canonical one."""
    for url, site, published, author, lang, title, text in CORPUS:
        article = Article(
            title=title,
            text=text,
            url=url,
            published=dt.date.fromisoformat(published),
            author=author,
            language=lang,
        )
        save_article(target, article, url=url, site=site, fetched_at=NOW, near="off")
    first = CORPUS[0]
    again = Article(title=first[5], text=first[6], url=first[0])
    save_article(target, again, url="https://a.example/print/1", site="alpha", fetched_at=NOW, near="off")
    return target


@pytest.fixture
def corpus_db(db_target):
    """CORPUS on this run's backend: a SQLite path or a PostgreSQL URL."""
    return write_corpus(db_target)


def titles(rows):
    return [r["title"] for r in rows]


def test_search_ranks_title_match_first(corpus_db):
    rows = search(corpus_db, "trade")
    assert titles(rows)[0] == "Trade talks resume"
    assert "Harvest report" in titles(rows)
    assert rows[0]["score"] > rows[1]["score"]
    assert "[" in rows[0]["snippet"]
    assert "]" in rows[0]["snippet"]
    assert {"id", "url", "title", "published", "site", "snippet", "score"} <= set(rows[0])


def test_filters(corpus_db):
    assert titles(search(corpus_db, "trade", filters=Filters(site=("beta",)))) == []
    assert titles(search(corpus_db, "trade", filters=Filters(since="2021-07-01"))) == ["Harvest report"]
    assert titles(search(corpus_db, "trade", filters=Filters(until="2021-06-29"))) == ["Trade talks resume"]
    assert titles(search(corpus_db, "trade", filters=Filters(author="roe"))) == ["Harvest report"]
    assert titles(search(corpus_db, "国际交流", filters=Filters(lang="en"))) == []


def test_limit_and_offset_page_through(corpus_db):
    everything = titles(search(corpus_db, "the"))
    assert len(everything) >= 2
    assert titles(search(corpus_db, "the", limit=1, offset=1)) == everything[1:2]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("国际交流", "北京举行国际交流活动"),
        ("北京", "北京举行国际交流活动"),
        ("港口", "上海港口吞吐量创新高"),
    ],
)
def test_chinese_query_finds_chinese_articles(corpus_db, query, expected):
    assert titles(search(corpus_db, query)) == [expected]


@pytest.mark.parametrize(
    "hostile",
    ['"unbalanced', "AND", "NEAR(", "title:", "*", "'; DROP TABLE articles; --", "OR OR", "^", '""'],
)
def test_hostile_input_is_plain_text(corpus_db, hostile):
    search(corpus_db, hostile)  # no exception
    assert count_articles(corpus_db) == len(CORPUS)


def test_words_are_plain_terms():
    assert parse_terms('trade "council elections" NEAR(') == ["trade", "council elections", "NEAR("]
    assert parse_terms("ab\x00c") == ["ab", "c"]


def test_raw_mode_passes_fts_syntax(corpus_db):
    assert titles(search(corpus_db, "trade NOT tariffs", raw=True)) == ["Harvest report"]
    with pytest.raises(QueryError, match="bad FTS5 query"):
        search(corpus_db, '"unbalanced', raw=True)


def test_export_streams_every_article_with_urls(corpus_db):
    rows = list(iter_articles(corpus_db, batch=2))
    assert len(rows) == count_articles(corpus_db) == len(CORPUS)
    first = next(r for r in rows if r["url"] == "https://a.example/1")
    assert sorted(first["urls"]) == ["https://a.example/1", "https://a.example/print/1"]
    assert all(r["text"] for r in rows)


def test_show_by_id_and_alias_url(corpus_db):
    article = show(corpus_db, "https://a.example/print/1?utm_source=x&fbclid=abc")
    assert article is not None
    assert article["title"] == "Trade talks resume"
    assert {u["kind"] for u in article["urls"]} == {"canonical", "alias"}
    assert show(corpus_db, str(article["id"]))["url"] == "https://a.example/1"
    assert show(corpus_db, "999") is None


def test_corpus_api(corpus_db):
    corpus = open_corpus(corpus_db)
    assert len(corpus) == len(CORPUS)
    assert titles(corpus.search("trade", site="alpha", since="2021-07-01")) == ["Harvest report"]
    assert sum(1 for _ in corpus) == len(CORPUS)
    assert corpus.get("https://b.example/1")["site"] == "beta"


def test_readonly_connection_cannot_write_or_attach(tmp_path):
    """SQLite-only: the file's read-only open and its authorizer (test_pg_session_is_read_only_... for PG)."""
    from scraper.query import connect_readonly

    corpus_db = write_corpus(str(tmp_path / "corpus.db"))
    conn = connect_readonly(corpus_db)
    with pytest.raises(Exception, match=r"readonly|not authorized|query_only"):
        conn.execute("DELETE FROM articles")
    with pytest.raises(Exception, match="not authorized"):
        conn.execute("ATTACH DATABASE ? AS other", [str(tmp_path / "other.db")])
    conn.close()


def test_pg_session_is_read_only_with_a_statement_timeout(pg_url):
    """PostgreSQL's read session refuses writes, and a statement past QUERY_SECONDS is cancelled."""
    import psycopg

    from scraper.store.pg.read import connect_readonly

    write_corpus(pg_url)
    conn = connect_readonly(pg_url, seconds=0.5)
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM articles")
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("SELECT pg_sleep(2)")
    finally:
        conn.close()
    assert count_articles(pg_url) == len(CORPUS)


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_cli_search_formats(corpus_db):
    result = run("--db", str(corpus_db), "search", "trade", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["title"] == "Trade talks resume"
    lines = run("--db", str(corpus_db), "search", "trade", "--format", "jsonl").stdout.splitlines()
    assert len(lines) == 2
    csv_out = run("--db", str(corpus_db), "search", "trade", "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith("id,url,title")


def test_cli_raw_syntax_error_exits_2(corpus_db):
    result = run("--db", str(corpus_db), "search", "--raw", '"unbalanced')
    assert result.exit_code == 2
    assert "bad FTS5 query" in result.output


def test_cli_bad_date_exits_2(corpus_db):
    assert run("--db", str(corpus_db), "search", "trade", "--since", "June").exit_code == 2


def test_cli_export_counts_match_table(corpus_db, tmp_path):
    out = tmp_path / "out.jsonl"
    result = run("--db", str(corpus_db), "export", "-o", str(out))
    assert result.exit_code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(CORPUS)
    gamma = run("--db", str(corpus_db), "export", "--site", "gamma", "--format", "json")
    assert len(json.loads(gamma.stdout)) == 2
    assert "exported 2 articles" in gamma.stderr
    csv_out = run("--db", str(corpus_db), "export", "--format", "csv", "--since", "2021-06-01").stdout
    rows = list(csv.DictReader(io.StringIO(csv_out)))
    assert sorted(r["url"] for r in rows) == [
        "https://a.example/1",
        "https://a.example/2",
        "https://c.example/1",
        "https://c.example/2",
    ]


def test_cli_show(corpus_db):
    result = run("--db", str(corpus_db), "show", "https://b.example/1", "--format", "json")
    assert json.loads(result.stdout)["title"] == "Local elections"
    assert run("--db", str(corpus_db), "show", "12345").exit_code == 1


def test_cli_missing_database_is_one_line(tmp_path):
    result = run("--db", str(tmp_path / "nope.db"), "search", "x")
    assert result.exit_code == 1
    assert "no database at" in result.output


def test_title_match_outranks_body_matches(db_target):
    path = db_target
    filler = "Nothing of note happened in the town this week. " * 8
    rows = [
        ("https://r.example/body", "Weekly notes", filler + "The harbour was busy; the harbour was loud."),
        ("https://r.example/title", "Harbour reopens", filler),
    ]
    for url, title, text in rows:
        save_article(path, Article(title=title, text=text, url=url), url=url, site="r", fetched_at=NOW)
    found = search(path, "harbour")
    assert titles(found) == ["Harbour reopens", "Weekly notes"]
    assert found[0]["score"] > found[1]["score"]


def test_snippet_marks_the_matches(corpus_db):
    (row,) = search(corpus_db, "tariffs")
    assert "[tariffs]" in row["snippet"]
    (row,) = search(corpus_db, "港口 吞吐量")  # a two-character word beside a trigram term
    assert "[吞吐量]" in row["snippet"]
    assert "[港口]" in row["snippet"]
    (row,) = search(corpus_db, "北京")  # only a short term: the snippet starts near the match
    assert "[北京]" in row["snippet"]


def test_short_terms_inside_sentences_and_any_case(corpus_db):
    # 文化 occurs only mid-sentence in the text, never in a title
    assert titles(search(corpus_db, "文化")) == ["北京举行国际交流活动"]
    assert titles(search(corpus_db, "贸易 上海")) == ["上海港口吞吐量创新高"]
    assert titles(search(corpus_db, "GENEVA")) == ["Trade talks resume"]
    assert titles(search(corpus_db, "geneva")) == ["Trade talks resume"]
    # a short Latin term is a word: "ta" is not found inside "talks", nor "AI" inside "said"
    assert search(corpus_db, "tA") == []
    assert search(corpus_db, "港口", filters=Filters(site=("alpha",))) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=30))
def test_any_text_is_a_valid_query(corpus_db, text):
    rows = search(corpus_db, text, limit=5)
    assert len(rows) <= 5


def _bulk_corpus(target, count):
    """`count` articles written straight into the real schema in one transaction (fast), either backend."""
    rows = []
    for i in range(count):
        url = f"https://bulk.example/{i}"
        rows.append([url, f"Story {i}", f"Paragraph {i}. " * 50, "2022-02-02", "bulk", str(i)])
    insert = (
        "INSERT INTO articles (url, title, text, published, site, content_hash) VALUES (?, ?, ?, ?, ?, ?)"
    )
    link = "INSERT INTO article_urls (url, article_id, kind) SELECT url, id, 'canonical' FROM articles"
    if str(target).startswith("postgresql://"):
        from scraper.store.pg import open_pg

        conn = open_pg(str(target))
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(insert.replace("?", "%s"), rows)
            cur.execute(link)
        conn.close()
        return
    db = store.open_db(target)
    db.conn.execute("BEGIN")
    db.conn.executemany(insert, rows)
    db.conn.execute(link)
    db.conn.execute("COMMIT")
    db.close()


def test_export_of_10000_rows_streams(db_target, tmp_path):
    path = db_target
    _bulk_corpus(path, 10_000)
    text_bytes = 10_000 * len("Paragraph 9999. " * 50)
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_articles(path, batch=200))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == count_articles(path) == 10_000
    # the texts alone are ~8 MB; reading them in batches of 200 keeps a fraction of that alive
    assert peak < text_bytes / 10
    out = tmp_path / "bulk.jsonl"
    result = run("--db", str(path), "export", "-o", str(out))
    assert "exported 10000 articles" in result.stderr
    with out.open(encoding="utf-8") as lines:
        ids = [json.loads(line)["id"] for line in lines]
    assert ids == sorted(set(ids))
    assert len(ids) == 10_000


def test_sqlite_encoded_json_equals_python_rows(corpus_db):
    from scraper.query import iter_article_json

    encoded = [json.loads(item) for item in iter_article_json(corpus_db, batch=2)]
    assert encoded == list(iter_articles(corpus_db))
    zh = [json.loads(item) for item in iter_article_json(corpus_db, filters=Filters(lang="zh"))]
    assert [r["title"] for r in zh] == ["北京举行国际交流活动", "上海港口吞吐量创新高"]


# --- stats: ingest failures and unreachable hosts (issue 9) ---


def _runs_db(target, reports=None):
    """A migrated database with two crawl runs; `reports` sets `runs.report` of runs 1 and 2."""
    if str(target).startswith("postgresql://"):
        from scraper.store.pg import open_pg
        from scraper.store.pg.runs import start_run

        conn = open_pg(str(target))
        for day in (1, 2):
            start_run(conn, ["news"], started=NOW.replace(day=day), pid=1, worker=f"host-{day}:1")
        for run_id, report in enumerate(reports or [], 1):
            conn.execute("UPDATE runs SET report = %s WHERE id = %s", [report, run_id])
        conn.close()
        return target
    db = store.open_db(target)
    for day in (1, 2):
        store.start_run(db, ["news"], started=NOW.replace(day=day), pid=1)
    if reports is not None:
        for run_id, report in enumerate(reports, 1):
            db.conn.execute("UPDATE runs SET report = ? WHERE id = ?", [report, run_id])
        db.conn.commit()
    db.close()
    return target


LAST_REPORT = json.dumps(
    {
        "sources": {},
        "unreachable": {"http://down.example": "DNS: name not known", "https://b.example": "robots.txt 503"},
        "errors": [],
        "stopped": None,
        "duration": 1.5,
        "pages_per_s": 0.0,
        "exit_reason": "a source was unreachable",
    }
)


def test_stats_shows_the_last_runs_unreachable_hosts(db_target):
    older = json.dumps({"unreachable": {"http://old.example": "timeout"}})
    path = _runs_db(db_target, [older, LAST_REPORT])
    assert crawl_stats(path)["unreachable"] == [
        {"origin": "http://down.example", "reason": "DNS: name not known"},
        {"origin": "https://b.example", "reason": "robots.txt 503"},
    ]
    result = CliRunner().invoke(cli, ["--db", str(path), "stats"])
    assert result.exit_code == 0, result.output
    section = result.stdout.split("Unreachable hosts (last run):")[1]
    assert "http://down.example" in section
    assert "DNS: name not known" in section
    assert "old.example" not in result.stdout


@pytest.mark.parametrize(
    "reports",
    [
        None,
        [LAST_REPORT, None],
        [LAST_REPORT, "{not json"],
        [LAST_REPORT, "[1, 2]"],
        [LAST_REPORT, '{"x": 1}'],
    ],
    ids=["no-column", "null", "bad-json", "not-an-object", "no-key"],
)
def test_stats_reads_the_report_defensively(db_target, reports):
    path = _runs_db(db_target, reports)
    assert crawl_stats(path)["unreachable"] == []
    result = CliRunner().invoke(cli, ["--db", str(path), "stats"])
    assert result.exit_code == 0, result.output
    assert "Unreachable hosts (last run):\n  (none)" in result.stdout


def test_stats_runs_carry_their_worker_on_postgresql(pg_url):
    """Many workers crawl at once on PostgreSQL: each run row says which one ran it."""
    _runs_db(pg_url, [None, LAST_REPORT])
    runs = crawl_stats(pg_url)["runs"]
    assert [(r["id"], r["worker"], r["started"]) for r in runs] == [
        (2, "host-2:1", NOW.replace(day=2).isoformat()),
        (1, "host-1:1", NOW.replace(day=1).isoformat()),
    ]
    result = CliRunner().invoke(cli, ["--db", pg_url, "stats"])
    assert result.exit_code == 0, result.output
    assert "host-2:1" in result.stdout.split("Last runs:")[1]


def test_stats_shows_ingest_failures(fresh_server, tmp_path):
    """SQLite-only until `scraper ingest` runs on PostgreSQL (another helper's part of issue 14)."""
    db = tmp_path / "ingest.db"
    gone, pdf = fresh_server.url("/status/410"), fresh_server.url("/pdf")
    result = CliRunner().invoke(cli, ["--db", str(db), "ingest", "--allow-private", gone, pdf])
    assert result.exit_code == 1
    data = json.loads(CliRunner().invoke(cli, ["--db", str(db), "stats", "--format", "json"]).stdout)
    [failure] = data["failures"]  # the PDF was skipped (it came, but is no article): not a failure
    assert (failure["source"], failure["url"], failure["attempts"]) == ("ingest", gone, 1)
    assert "HTTP 410" in failure["reason"]
    text = CliRunner().invoke(cli, ["--db", str(db), "stats"]).stdout
    assert gone in text.split("Recent failures:")[1]


# --- query caps (issue 9) ---


def test_a_100_kb_query_exits_2_naming_the_cap(corpus_db):
    from scraper.query import MAX_QUERY_CHARS

    result = run("--db", str(corpus_db), "search", "trade " * 17_000)
    assert result.exit_code == 2
    assert f"search takes at most {MAX_QUERY_CHARS:,}" in result.output
    assert "the query has 102,000 characters" in result.output
    assert len(result.output) < 500  # one error line under click's usage lines; the query is not echoed


def test_too_many_terms_exits_2_naming_the_cap(corpus_db):
    from scraper.query import MAX_QUERY_TERMS

    words = " ".join(f"w{i:03d}" for i in range(MAX_QUERY_TERMS + 1))
    result = run("--db", str(corpus_db), "search", words)
    assert result.exit_code == 2
    assert (
        f"the query has {MAX_QUERY_TERMS + 1} terms; search takes at most {MAX_QUERY_TERMS}" in result.output
    )
    with pytest.raises(QueryError):
        search(corpus_db, words, raw=True)
    assert search(corpus_db, " ".join(f"w{i:03d}" for i in range(MAX_QUERY_TERMS))) == []


def test_repeated_terms_count_once():
    assert parse_terms("trade Trade TRADE talks trade") == ["trade", "talks"]


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_search_exits_2(corpus_db, text):
    result = run("--db", str(corpus_db), "search", text)
    assert result.exit_code == 2
    assert "nothing to search for" in result.output


# -- the word and bigram index (issue 13) ----------------------------------------------------


def _small_corpus(target, rows):
    for url, title, text in rows:
        save_article(
            target, Article(title=title, text=text, url=url), url=url, site="s", fetched_at=NOW, near="off"
        )


def test_two_character_chinese_ranks_the_title_match_first(db_target):
    path = db_target
    _small_corpus(
        path,
        [
            ("https://z.example/1", "新闻", "我们讨论了外交部的政策和其他外交问题，外交很重要。"),
            ("https://z.example/2", "投身外交(3)", "他的一生都在为国家工作。"),
            ("https://z.example/3", "天气", "今天北京晴。"),
        ],
    )
    found = search(path, "外交")
    assert titles(found) == ["投身外交(3)", "新闻"]
    assert found[0]["score"] > found[1]["score"] > 0
    assert [row["matched"] for row in found] == ["title", "text"]
    assert "[外交]" in found[1]["snippet"]


def test_short_latin_terms_match_words_not_substrings(db_target):
    path = db_target
    _small_corpus(
        path,
        [
            ("https://l.example/1", "Budget", "The minister said the plan was final."),
            ("https://l.example/2", "New rules for AI", "Lawmakers passed the act."),
        ],
    )
    assert titles(search(path, "AI")) == ["New rules for AI"]
    assert titles(search(path, "ai")) == ["New rules for AI"]
    (row,) = search(path, "said")
    assert row["matched"] == "text"
    assert "[said]" in row["snippet"]


def test_migrate_moves_a_trigram_database_to_the_word_index(tmp_path):
    """A database at schema 5 (trigram index) is reindexed from its stored text by `migrate` (SQLite-only)."""
    import sqlite_utils

    from scraper.store.schema import MIGRATION_STEPS, MIGRATIONS

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    MIGRATIONS.apply(old, stop_before=f"0006{MIGRATION_STEPS[5].__name__}")
    assert "trigram" in old["articles_fts"].schema
    old["articles"].insert({"url": "https://o.example/1", "title": "投身外交(3)", "text": "AI said it."})
    old.close()
    assert MIGRATIONS.pending(sqlite_utils.Database(path))
    result = run("--db", str(path), "migrate")
    assert result.exit_code == 0, result.output
    assert titles(search(path, "外交")) == ["投身外交(3)"]
    assert titles(search(path, "ai")) == ["投身外交(3)"]
    assert search(path, "sai") == []


# -- small things a user hits (issue 13) -----------------------------------------------------


def test_table_format_has_a_header(corpus_db):
    lines = run("--db", str(corpus_db), "search", "trade").stdout.splitlines()
    assert lines[0].split() == ["id", "published", "site", "title"]
    assert "Trade talks resume" in lines[1]


def test_export_filters_by_language_and_author(corpus_db):
    result = run("--db", str(corpus_db), "export", "--lang", "zh")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows
    assert {row["language"] for row in rows} == {"zh"}
    result = run("--db", str(corpus_db), "export", "--author", "jane")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {row["title"] for row in rows} == {"Harvest report", "Local elections"}


def test_python_api_rejects_a_bad_date_and_an_unknown_filter(corpus_db):
    corpus = open_corpus(corpus_db)
    with pytest.raises(ValueError, match=r"since.*'June 1'"):
        list(corpus.articles(since="June 1"))
    with pytest.raises(ValueError, match="unknown filter 'language'"):
        list(corpus.articles(language="en"))
    with pytest.raises(ValueError, match="until"):
        corpus.search("trade", until="tomorrow")
    assert {a["title"] for a in corpus.articles(since="2021-07-01")} >= {"Harvest report"}


def _sited_corpus(target, count):
    """count articles, "Story i" on site "a" (even i) or "b" (odd i), stored in order."""
    for i in range(count):
        url = f"https://m.example/{i}"
        article = Article(title=f"Story {i}", text=f"Harbour news number {i}.", url=url)
        save_article(target, article, url=url, site="ab"[i % 2], fetched_at=NOW, near="off")
    return target


def test_a_search_matching_many_articles_ranks_only_the_newest(db_target, monkeypatch):
    """Past MAX_RANKED matches only the newest are scored (bm25 of every match is too slow at 1M)."""
    from scraper.store import read

    path = _sited_corpus(db_target, 6)
    monkeypatch.setattr(read, "MAX_RANKED", 2)
    assert sorted(titles(search(path, "harbour"))) == ["Story 4", "Story 5"]
    assert len(search(path, "harbour", filters=Filters(since="2000-01-01"))) == 0


def test_the_newest_ranked_are_the_newest_that_pass_the_filters(db_target, monkeypatch):
    """The bound is taken after the filters: newer matches on another site never crowd a site out."""
    from scraper.store import read

    path = _sited_corpus(db_target, 6)
    monkeypatch.setattr(read, "MAX_RANKED", 2)
    assert sorted(titles(search(path, "harbour", filters=Filters(site=("a",))))) == ["Story 2", "Story 4"]
    assert sorted(titles(search(path, "harbour", filters=Filters(site=("b",))))) == ["Story 3", "Story 5"]
    monkeypatch.setattr(read, "MAX_RANKED", 10)
    assert len(search(path, "harbour", filters=Filters(site=("a",)))) == 3


def test_a_database_without_the_filter_index_gives_the_same_filtered_results(tmp_path, monkeypatch):
    """Schema 9's covering index only speeds the filter check; an older file is checked row by row.

    SQLite-only: the index is SQLite's (PostgreSQL plans its own filters)."""
    from scraper.store import read

    path = tmp_path / "many.db"
    _sited_corpus(path, 6)
    monkeypatch.setattr(read, "MAX_RANKED", 2)
    with_index = titles(search(path, "harbour", filters=Filters(site=("b",))))
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'idx_articles_filter'").fetchone()
        conn.execute("DROP INDEX idx_articles_filter")
    assert titles(search(path, "harbour", filters=Filters(site=("b",)))) == with_index
    assert sorted(with_index) == ["Story 3", "Story 5"]


def test_filtered_export_and_count_read_the_filter_index_and_agree_without_it(tmp_path):
    """Export pages take their ids from the filter index; an older file without it gives the same rows.

    SQLite-only, as the filter index is; test_filtered_export_and_count_agree runs on both."""
    path = tmp_path / "many.db"
    _sited_corpus(path, 7)

    def exported() -> tuple[list[str], int, list[str]]:
        rows = list(iter_articles(path, filters=Filters(site=("b",)), batch=2))
        blobs = iter_article_json_bytes(path, filters=Filters(site=("a",)), batch=2)
        titles_a = [json.loads(blob)["title"] for blob in blobs]
        return [r["title"] for r in rows], count_articles(path, filters=Filters(site=("a",))), titles_a

    with_index = exported()
    assert with_index == (["Story 1", "Story 3", "Story 5"], 4, ["Story 0", "Story 2", "Story 4", "Story 6"])
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX idx_articles_filter")
    assert exported() == with_index


def test_filtered_export_and_count_agree(db_target):
    path = _sited_corpus(db_target, 7)
    rows = list(iter_articles(path, filters=Filters(site=("b",)), batch=2))
    blobs = iter_article_json_bytes(path, filters=Filters(site=("a",)), batch=2)
    assert [r["title"] for r in rows] == ["Story 1", "Story 3", "Story 5"]
    assert [json.loads(blob)["title"] for blob in blobs] == ["Story 0", "Story 2", "Story 4", "Story 6"]
    assert count_articles(path, filters=Filters(site=("a",))) == 4


def test_raw_mode_reads_chinese_as_the_index_holds_it(corpus_db):
    found = titles(search(corpus_db, '"国际交流" OR 吞吐量', raw=True))
    assert sorted(found) == ["上海港口吞吐量创新高", "北京举行国际交流活动"]
    assert titles(search(corpus_db, "title:港口", raw=True)) == ["上海港口吞吐量创新高"]


def _story_text(seed: int, words: int = 400) -> str:
    """A long deterministic text; the same seed gives the same text (a near-duplicate once edited)."""
    vocabulary = [f"w{(seed * 7919 + i * 104729) % 5003}" for i in range(words)]
    return " ".join(vocabulary[i] for i in range(words)) + "."


def test_export_bytes_equal_the_rows_with_stories_near_urls_and_no_site(tmp_path):
    """SQLite-only until near duplicates reach PostgreSQL (another helper's part of issue 14)."""
    path = tmp_path / "stories.db"
    db = store.open_db(path)
    text = _story_text(1)
    saves = [  # (url, site, text, near mode)
        ("https://a.example/1", "alpha", text, "link"),
        ("https://b.example/1", "beta", text + " One more closing sentence here.", "link"),  # a near URL
        ("https://c.example/2", "gamma", _story_text(2), "group"),
        ("https://d.example/2", "delta", _story_text(2) + " Added at the end.", "group"),  # a group story
        ("https://e.example/3", None, _story_text(3), "link"),  # no site at all
    ]
    for url, site, body, near in saves:
        article = Article(title=url, text=body, url=url)
        store.save_article(db, article, url=url, site=site, fetched_at=NOW, near=near)
    db.close()
    from scraper.query import iter_article_json_bytes

    rows = list(iter_articles(path))
    assert [json.loads(item) for item in iter_article_json_bytes(path, batch=2)] == rows
    expected = [["alpha", "beta"], ["delta", "gamma"], ["delta", "gamma"], []]
    assert [sorted(r["sites"]) for r in rows] == expected
