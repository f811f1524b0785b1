"""End to end through the CLI: a real server on 127.0.0.1, real SQLite files, no mocks.

The tests of `ingest URL...` and `migrate` run on both backends (db_target: a SQLite file or a
fresh PostgreSQL database).
"""

from __future__ import annotations

import json
import sqlite3
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from scraper.cli import cli
from scraper.config import is_postgres_url
from tests.backends import query_rows

PAGES = Path(__file__).parent / "fixtures" / "pages"
BJREVIEW = json.loads((PAGES / "bjreview-century" / "expected.json").read_text(encoding="utf-8"))
BJREVIEW_PATH = "/pages/bjreview-century/page.html"


@pytest.fixture
def make_config(tmp_path):
    """Write a config.yaml for a test: a database in tmp_path, fast retries, loopback allowed."""

    def make(extra: str = "", *, private: bool = True, target: str | None = None) -> Path:
        """target: the database (default tmp_path/articles.db).

        A PostgreSQL target gets its WARC folder in tmp_path, as a SQLite file's (PostgreSQL needs an
        absolute storage.archive_dir).
        """
        path = tmp_path / "config.yaml"
        postgres = target is not None and is_postgres_url(target)
        archive = f"  archive_dir: '{tmp_path / 'warc'}'\n" if postgres else ""
        path.write_text(
            f"storage:\n  path: '{target or tmp_path / 'articles.db'}'\n{archive}"
            "fetch:\n  backoff: 0.01\n  max_backoff: 0.05\n  max_bytes: 1048576\n"
            f"  allow_private_addresses: {'true' if private else 'false'}\n"
            "extract:\n  min_chars: 40\n" + extra,
            encoding="utf-8",
        )
        return path

    return make


def run(config: Path, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["--config", str(config), *args], input=input, catch_exceptions=False)


def rows(target: str) -> list[dict]:
    return query_rows(target, "SELECT * FROM articles ORDER BY id")


def test_bjreview_article_is_stored_clean(fresh_server, make_config, db_target):
    config = make_config(target=db_target)
    result = run(config, "ingest", fresh_server.url(BJREVIEW_PATH))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("new ")
    assert BJREVIEW["title"] in result.stdout
    [row] = rows(db_target)
    assert row["title"] == BJREVIEW["title"]
    assert row["published"] == "2021-06-29"
    assert row["source"] == "NO.26 JULY 1, 2021"
    assert row["text"] == BJREVIEW["text"]
    assert len(row["text"].split("\n\n")) == 6
    every_field = "\n".join(str(v) for k, v in row.items() if k != "source")
    for junk in BJREVIEW["must_not_contain"]:
        if junk != "NO.26 JULY 1, 2021":
            assert junk not in every_field, junk
    assert row["site"] == "127.0.0.1"
    assert row["word_count"] > 300


def test_ingest_twice_is_unchanged_and_tracking_params_are_the_same_article(
    fresh_server, make_config, db_target
):
    config = make_config(target=db_target)
    url = fresh_server.url(BJREVIEW_PATH)
    assert run(config, "ingest", url).exit_code == 0
    second = run(config, "ingest", url)
    assert second.stdout.startswith("unchanged ")
    third = run(config, "ingest", url + "?utm_source=x&utm_medium=email")
    assert third.stdout.startswith("unchanged ")
    [row] = rows(db_target)
    assert row["last_seen"] > row["first_seen"]


def test_same_text_at_another_url_is_a_duplicate(fresh_server, make_config, db_target):
    config = make_config(target=db_target)
    assert run(config, "ingest", fresh_server.url(BJREVIEW_PATH)).exit_code == 0
    result = run(config, "ingest", fresh_server.url("/fixtures" + BJREVIEW_PATH))
    assert result.stdout.startswith("duplicate ")
    assert len(rows(db_target)) == 1
    kinds = sorted(row["kind"] for row in query_rows(db_target, "SELECT kind FROM article_urls"))
    assert kinds == ["canonical", "exact-duplicate"]


def test_flaky_server_is_retried_until_it_answers(fresh_server, make_config, db_target):
    config = make_config(target=db_target)
    result = run(config, "ingest", fresh_server.url("/flaky/2?key=cli"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("new ")
    assert len(fresh_server.requests_to("/flaky/2")) == 3
    assert len(rows(db_target)) == 1


def test_404_is_requested_once_and_fails_with_exit_1(fresh_server, make_config, db_target):
    config = make_config(target=db_target)
    result = run(config, "ingest", fresh_server.url("/status/404"))
    assert result.exit_code == 1
    assert result.stdout.startswith("failed ")
    assert "HTTP 404" in result.stdout
    assert len(fresh_server.requests_to("/status/404")) == 1
    [(status, error)] = [
        tuple(r.values()) for r in query_rows(db_target, "SELECT status, error FROM fetch_log")
    ]
    assert status == 404
    assert "HTTP 404" in error


def test_429_retry_after_is_honoured(fresh_server, make_config, db_target):
    config = make_config(target=db_target)
    result = run(config, "ingest", fresh_server.url("/retry-after/1?key=cli"))
    assert result.exit_code == 0, result.output
    first, second = fresh_server.requests_to("/retry-after/1")
    assert second.time - first.time >= 1.0


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/big?size=2000000", "larger than fetch.max_bytes"),
        ("/gzip-bomb", "larger than fetch.max_bytes"),
        ("/brotli-bomb", "larger than fetch.max_bytes"),
        ("/png-as-html", "PNG"),
        ("/pdf", "application/pdf"),
    ],
)
def test_bad_bodies_are_skipped_with_a_reason(fresh_server, make_config, path, reason, db_target):
    config = make_config(target=db_target)
    tracemalloc.start()
    result = run(config, "ingest", fresh_server.url(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.exit_code == 0
    assert result.stdout.startswith("skipped ")
    assert reason in result.stdout
    assert rows(db_target) == []
    assert peak < 16 * 1024 * 1024  # max_bytes is 1 MiB; a bomb inflates to 100 MiB


def test_loopback_is_refused_without_allow_private(fresh_server, make_config, db_target):
    config = make_config(private=False, target=db_target)
    result = run(config, "ingest", fresh_server.url(BJREVIEW_PATH))
    assert result.exit_code == 1
    assert "loopback" in result.stdout
    assert "--allow-private" in result.stdout
    assert fresh_server.requests == []
    allowed = run(config, "ingest", "--allow-private", fresh_server.url(BJREVIEW_PATH))
    assert allowed.exit_code == 0
    assert allowed.stdout.startswith("new ")


def test_urls_from_stdin_and_a_summary_on_stderr(fresh_server, make_config, db_target):
    config = make_config(target=db_target)
    urls = f"{fresh_server.url(BJREVIEW_PATH)}\n\n# a comment\n{fresh_server.url('/status/410')}\n"
    result = run(config, "ingest", "-", input=urls)
    assert result.exit_code == 1
    outcomes = sorted(line.split()[0] for line in result.stdout.splitlines())
    assert outcomes == ["failed", "new"]
    assert "2 URLs: 1 failed, 1 new" in result.stderr


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("fetch:\n  retries: three\n", "fetch.retries must be an integer >= 0, got 'three'"),
        ("fetch:\n  retrys: 3\n", "unknown key 'fetch.retrys'; did you mean 'fetch.retries'?"),
        ("sources:\n  - name: x\n    start_urls: [ftp://example.com/]\n", "sources[0].start_urls[0]"),
        ("fetch: [1\n", "not valid YAML"),
    ],
)
def test_broken_config_exits_2_naming_the_key(tmp_path, yaml_text, message):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml_text, encoding="utf-8")
    result = run(config, "ingest", "http://127.0.0.1/")
    assert result.exit_code == 2
    assert message in result.output
    assert str(config) in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_explicit_config_exits_2(tmp_path):
    result = run(tmp_path / "nope.yaml", "search", "x")
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_extract_file_formats(tmp_path):
    page = PAGES / "bjreview-century" / "page.html"
    runner = CliRunner()
    as_json = runner.invoke(
        cli, ["--config", str(tmp_path / "none.yaml"), "extract", str(page), "--format", "json"]
    )
    assert as_json.exit_code == 2  # an explicit config that does not exist
    as_json = runner.invoke(cli, ["extract", str(page), "--format", "json"])
    data = json.loads(as_json.stdout)
    assert data["title"] == BJREVIEW["title"]
    assert data["published"] == "2021-06-29"
    assert data["text"] == BJREVIEW["text"]
    markdown = runner.invoke(cli, ["extract", str(page), "--format", "markdown"]).stdout
    assert markdown.startswith(f"# {BJREVIEW['title']}\n")
    text = runner.invoke(cli, ["extract", str(page)]).stdout
    assert "Copyright" not in text


def test_extract_url_needs_no_database(fresh_server, tmp_path):
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "x.db"), "extract", "--allow-private", fresh_server.url(BJREVIEW_PATH)]
    )
    assert result.exit_code == 0, result.output
    assert BJREVIEW["title"] in result.stdout
    assert not (tmp_path / "x.db").exists()


def test_every_command_has_help():
    runner = CliRunner()
    top = runner.invoke(cli, ["--help"])
    assert top.exit_code == 0
    for name, command in cli.commands.items():
        assert command.help, name
        assert "Example" in command.help, name
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert name in top.stdout


def test_python_m_scraper_runs(tmp_path):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "scraper", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    assert "scraper" in result.stdout


def _schema_version(target: str) -> int:
    """This code's schema version on the target's backend."""
    if is_postgres_url(target):
        from scraper.store.pg.schema import SCHEMA_VERSION as PG_VERSION

        return PG_VERSION
    from scraper.store import SCHEMA_VERSION

    return SCHEMA_VERSION


def _tables(target: str) -> set[str]:
    if is_postgres_url(target):
        sql = "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    return {row["name"] for row in query_rows(target, sql)}


def test_migrate_creates_the_database_at_the_current_schema(db_target):
    result = CliRunner().invoke(cli, ["--db", db_target, "migrate"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{db_target}: schema version {_schema_version(db_target)}\n"
    assert {"articles", "article_urls", "article_versions", "fetch_log", "frontier", "runs"} <= _tables(
        db_target
    )


def test_migrate_on_an_up_to_date_database_says_so(db_target):
    assert CliRunner().invoke(cli, ["--db", db_target, "migrate"]).exit_code == 0
    again = CliRunner().invoke(cli, ["--db", db_target, "migrate"])
    assert again.exit_code == 0, again.output
    version = _schema_version(db_target)
    assert again.stdout == f"{db_target}: schema version {version} (up to date: nothing to migrate)\n"


def test_migrate_applies_the_pending_steps_of_an_old_database(db_target):
    """A database at schema 1 is brought to this code's version; its rows stay."""
    if is_postgres_url(db_target):
        import psycopg

        from scraper.store.pg import schema as pg_schema

        with psycopg.connect(db_target, autocommit=True) as conn, conn.transaction():
            conn.execute(
                f"CREATE TABLE {pg_schema.MIGRATIONS_TABLE} (migration_set TEXT NOT NULL, name TEXT NOT NULL,"
                " applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (migration_set, name))"
            )
            first = pg_schema.MIGRATION_STEPS[0]
            first(conn)
            conn.execute(
                f"INSERT INTO {pg_schema.MIGRATIONS_TABLE} (migration_set, name) VALUES (%s, %s)",
                [pg_schema.MIGRATION_SET, pg_schema.migration_name(1, first)],
            )
            conn.execute("INSERT INTO articles (url, title) VALUES ('https://o.example/1', 'Old')")
    else:
        import sqlite_utils

        from scraper.store.schema import MIGRATION_STEPS, MIGRATIONS

        old = sqlite_utils.Database(db_target)
        MIGRATIONS.apply(old, stop_before=f"0002{MIGRATION_STEPS[1].__name__}")
        old["articles"].insert({"url": "https://o.example/1", "title": "Old"})
        old.close()
    result = CliRunner().invoke(cli, ["--db", db_target, "migrate"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{db_target}: schema version {_schema_version(db_target)}\n"
    assert [r["title"] for r in query_rows(db_target, "SELECT title FROM articles")] == ["Old"]


def test_migrate_refuses_a_newer_schema_in_one_line(db_target):
    assert CliRunner().invoke(cli, ["--db", db_target, "migrate"]).exit_code == 0
    future = f"{_schema_version(db_target) + 1:04d}_future_table"
    table = "_scraper_migrations" if is_postgres_url(db_target) else "_sqlite_migrations"
    if is_postgres_url(db_target):
        import psycopg

        with psycopg.connect(db_target, autocommit=True) as conn:
            conn.execute(f"INSERT INTO {table} (migration_set, name) VALUES ('scraper', %s)", [future])
    else:
        with sqlite3.connect(db_target) as conn:
            conn.execute(
                f"INSERT INTO {table} (migration_set, name, applied_at) VALUES ('scraper', ?, '2030-01-01')",
                [future],
            )
        conn.close()
    result = CliRunner().invoke(cli, ["--db", db_target, "migrate"])
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith(f"Error: {db_target} was written by a newer scraper (schema ")
    assert f"unknown migrations: {future}); upgrade scraper" in line


@pytest.mark.parametrize("command", [["ingest", "http://127.0.0.1:9/x"], ["reextract"], ["migrate"]])
def test_an_unreachable_postgresql_url_fails_in_one_line_without_its_password(tmp_path, monkeypatch, command):
    """ingest, reextract and migrate run on PostgreSQL: a server that is not there is one line, exit 1."""
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text("storage:\n  archive: false\n", encoding="utf-8")
    url = f"postgresql://crawler:s3cret@/news?host={tmp_path / 'no-server'}"
    result = CliRunner().invoke(cli, ["--config", str(config), "--db", url, *command])
    assert result.exit_code == 1, result.output
    [line] = result.output.splitlines()
    assert line.startswith(
        f"Error: postgresql://crawler:***@/news?host={tmp_path / 'no-server'}: cannot connect: "
    )
    assert "s3cret" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]  # no file named after the URL


def test_ingest_on_postgresql_without_an_archive_folder_is_refused_before_any_work(
    tmp_path, pg_url, monkeypatch
):
    """The archive is on by default; a PostgreSQL database has no folder beside it: exit 2, one line."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        cli, ["--db", pg_url, "ingest", "http://127.0.0.1:9/x"]
    )  # no config.yaml here
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert "storage.archive_dir: the database is on PostgreSQL" in line
    assert "storage.archive: false" in line
    assert query_rows(pg_url, "SELECT to_regclass('articles') AS t") == [{"t": None}]  # nothing opened
    assert list(tmp_path.iterdir()) == []  # no ./warc, no folder named after the URL


def test_an_extractor_bug_on_one_page_is_recorded_and_the_run_goes_on(
    fresh_server, make_config, monkeypatch, db_target
):
    """A bug met inside extract() costs that page (failed, exit 1), never the other URLs."""
    from scraper.pipeline import steps

    real_extract = steps.extract

    def breaks_on_one_page(html, url=None, rules=None):
        if "/fixtures/" in (url or ""):
            raise RecursionError("maximum recursion depth exceeded")
        return real_extract(html, url, rules)

    monkeypatch.setattr(steps, "extract", breaks_on_one_page)
    config = make_config(target=db_target)
    broken = fresh_server.url("/fixtures" + BJREVIEW_PATH)
    result = run(config, "ingest", broken, fresh_server.url(BJREVIEW_PATH))
    assert result.exit_code == 1
    lines = {line.split()[0]: line.split(None, 2)[1:] for line in result.stdout.splitlines()}
    assert lines["failed"][0] == broken
    assert "RecursionError" in lines["failed"][1]
    assert [r["title"] for r in rows(db_target)] == [BJREVIEW["title"]]
    [error] = [
        r["error"] for r in query_rows(db_target, "SELECT error FROM fetch_log WHERE url = ?", (broken,))
    ]
    assert "extractor failed" in error
    assert "please report it" in error


# --- shared options before or after the subcommand (issue 9) ---

SHARED_COMMANDS = {
    # command -> arguments that finish quickly without a network (loopback is refused by default)
    "ingest": ["http://127.0.0.1:1/story.html"],
    "extract": [str(PAGES / "bjreview-century" / "page.html")],
    "search": ["trade"],
    "export": [],
    "show": ["1"],
    "crawl": [],
    "stats": [],
    "migrate": [],
    "duplicates": [],
    "dedupe": ["--rebuild"],
    "reextract": [],
}


def test_shared_commands_cover_every_command():
    assert set(SHARED_COMMANDS) == set(cli.commands)


def _shared_config(tmp_path: Path) -> Path:
    config = tmp_path / "shared.yaml"
    config.write_text(
        f"storage:\n  path: {tmp_path / 'from-config.db'}\n"
        "sources:\n  - name: closed\n    start_urls: ['http://127.0.0.1:1/']\n    max_pages: 1\n",
        encoding="utf-8",
    )
    return config


@pytest.mark.parametrize("command", sorted(SHARED_COMMANDS))
@pytest.mark.parametrize("option", ["--db", "--config", "-q", "-v"])
def test_shared_option_after_the_subcommand_acts_as_before_it(tmp_path, command, option):
    """`scraper CMD ... --db x` does what `scraper --db x CMD ...` does, for every command."""
    config = _shared_config(tmp_path)
    value = {"--db": [str(tmp_path / "given.db")], "--config": [str(config)]}.get(option, [])
    base = ["--config", str(config)] if option != "--config" else []
    runner = CliRunner()
    before = runner.invoke(cli, [*base, option, *value, command, *SHARED_COMMANDS[command]])
    for path in tmp_path.glob("*.db*"):
        path.unlink()
    after = runner.invoke(cli, [*base, command, *SHARED_COMMANDS[command], option, *value])
    assert "No such option" not in after.output
    assert (after.exit_code, after.stdout) == (before.exit_code, before.stdout), after.output
    if option == "--db" and command in ("ingest", "migrate"):
        assert (tmp_path / "given.db").exists()


@pytest.mark.parametrize("command", sorted(SHARED_COMMANDS))
def test_config_after_the_subcommand_wins(tmp_path, command):
    config = _shared_config(tmp_path)
    missing = tmp_path / "missing.yaml"
    args = ["--config", str(config), command, *SHARED_COMMANDS[command], "--config", str(missing)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert f"{missing}: file not found" in result.output


def test_db_after_the_subcommand_wins(tmp_path):
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    result = CliRunner().invoke(cli, ["--db", str(first), "migrate", "--db", str(second)])
    assert result.exit_code == 0, result.output
    assert str(second) in result.stdout
    assert second.exists()
    assert not first.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["search", "trade"],
        ["export"],
        ["show", "1"],
        ["stats"],
        ["duplicates"],
        ["export", "--to-sqlite", "x.db"],
    ],
)
def test_read_commands_on_an_unreachable_postgresql_fail_in_one_line(tmp_path, monkeypatch, command):
    """The read commands take a postgresql:// URL; a server that is not there is one line, no password."""
    monkeypatch.chdir(tmp_path)
    url = f"postgresql://crawler:s3cret@/news?host={tmp_path / 'no-server'}"
    result = CliRunner().invoke(cli, ["--db", url, *command])
    assert result.exit_code == 1
    assert result.output.startswith("Error: postgresql://crawler:***@/news?host=")
    assert "cannot connect" in result.output
    assert "s3cret" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_quiet_after_the_subcommand_beats_verbose_before_it(fresh_server, make_config):
    config = make_config()
    result = run(config, "-v", "ingest", fresh_server.url("/status/404"), "-q")
    assert result.exit_code == 1
    assert result.stdout.startswith("failed ")
    assert "URL" not in result.stderr  # no summary under -q
    assert " INFO " not in result.stderr


def test_ingest_db_after_the_subcommand(fresh_server, tmp_path):
    """The issue's example: `scraper ingest --db x.db URL` failed with "No such option"."""
    db = tmp_path / "x.db"
    result = CliRunner().invoke(
        cli, ["ingest", "--db", str(db), "--allow-private", fresh_server.url(BJREVIEW_PATH)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("new ")
    assert sqlite3.connect(db).execute("SELECT count(*) FROM articles").fetchone() == (1,)


def test_every_command_lists_the_shared_options_in_its_help():
    runner = CliRunner()
    for name in cli.commands:
        text = runner.invoke(cli, [name, "--help"]).stdout
        for option in ("--config", "--db", "-q, --quiet", "-v, --verbose"):
            assert option in text, (name, option)


# --- -q means errors only; counts in the right number (issue 9) ---


def test_quiet_ingest_prints_no_summary_and_one_url_is_singular(fresh_server, make_config, db_target):
    config = make_config(target=db_target)
    url = fresh_server.url(BJREVIEW_PATH)
    loud = run(config, "ingest", url)
    assert "1 URL: 1 new;" in loud.stderr
    quiet = run(config, "-q", "ingest", url)
    assert quiet.exit_code == 0
    assert quiet.stdout.startswith("unchanged ")  # stdout is data: it stays
    assert quiet.stderr == ""


def test_quiet_export_prints_no_count_and_one_article_is_singular(fresh_server, make_config):
    config = make_config()
    assert run(config, "ingest", fresh_server.url(BJREVIEW_PATH)).exit_code == 0
    loud = run(config, "export")
    assert loud.stderr.strip() == "exported 1 article"
    quiet = run(config, "export", "-q")
    assert quiet.exit_code == 0
    assert quiet.stderr == ""
    assert json.loads(quiet.stdout)["title"] == BJREVIEW["title"]


def test_plural():
    from scraper.output import plural

    assert [plural(n, "URL") for n in (0, 1, 2)] == ["0 URLs", "1 URL", "2 URLs"]


# --- reading URLs (issue 9) ---


def test_empty_stdin_says_no_urls_on_stdin(make_config):
    result = CliRunner().invoke(cli, ["--config", str(make_config()), "ingest", "-"], input=b"")
    assert result.exit_code == 2
    assert "no URLs on stdin" in result.output
    comments = CliRunner().invoke(cli, ["--config", str(make_config()), "ingest", "-"], input=b"# x\n\n")
    assert "no URLs on stdin" in comments.output


def test_a_stdin_line_that_is_not_utf8_fails_alone(fresh_server, make_config, db_target):
    """One line of stdin that is not UTF-8 used to abort `ingest -`: 0 of 3 stored."""
    config = make_config(target=db_target)
    first = fresh_server.url(BJREVIEW_PATH)
    second = fresh_server.url("/pages/bssnews-district/page.html")
    data = f"{first}\n".encode() + b"http://127.0.0.1/caf\xe9.html\n" + f"{second}\n".encode()
    result = CliRunner().invoke(cli, ["--config", str(config), "ingest", "-"], input=data)
    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("failed")]
    assert len(failed) == 1
    assert "stdin line 2 is not UTF-8" in failed[0]
    assert "0xe9" in failed[0]
    assert sorted(line.split()[0] for line in result.stdout.splitlines()) == ["failed", "new", "new"]
    assert len(rows(db_target)) == 2
    assert "3 URLs: 1 failed, 2 new" in result.stderr
    assert "stdin line 2" not in result.stderr  # one line per failure: stdout's `failed` line


def test_ingest_failure_is_one_line(fresh_server, make_config, db_target):
    """A failure is printed once (stdout's `failed` line), not again as an ERROR log line."""
    config = make_config(target=db_target)
    url = fresh_server.url("/status/404")
    result = run(config, "ingest", url)
    assert result.exit_code == 1
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["failed"]
    assert url not in result.stderr
    assert result.stderr.splitlines() == [f"1 URL: 1 failed; database {db_target}"]  # no password in it
    verbose = run(config, "-v", "ingest", url)
    assert url in verbose.stderr  # the per-URL log line is there at -v


# --- crawl by URL, without configured sources (issue 9) ---

SITE_ARTICLES = {f"/site/articles/a{n:02d}.html" for n in range(1, 43)}


def _crawl_settings(tmp_path: Path) -> Path:
    """A config with no source to crawl by URL: its other sections (fast politeness) still apply."""
    config = tmp_path / "config.yaml"
    config.write_text(
        f"storage:\n  path: {tmp_path / 'articles.db'}\n"
        "fetch:\n  retries: 0\n  timeout: 5\n  deadline: 10\n"
        "crawl:\n  per_host_delay: 0\n  max_crawl_delay: 0.05\n  workers: 1\n  concurrency: 4\n"
        # a configured source that must not be crawled when URLs are given (port 1: nothing listens)
        "sources:\n  - name: configured\n    start_urls: ['http://127.0.0.1:1/']\n",
        encoding="utf-8",
    )
    return config


def test_crawl_by_url_stores_the_site(server, tmp_path):
    config = _crawl_settings(tmp_path)
    args = [server.url("/site/"), "--allow-private", "--article-pattern", r"/a\d+\.html(?:\?|$)"]
    args += ["--max-depth", "2", "--sitemap", server.url("/site/sitemap_index.xml")]
    args += ["--feed", server.url("/site/feed.xml")]
    result = CliRunner().invoke(cli, ["--config", str(config), "crawl", *args])
    assert result.exit_code == 0, result.output
    conn = sqlite3.connect(tmp_path / "articles.db")
    try:
        urls = [u for (u,) in conn.execute("SELECT url FROM articles")]
        sites = {s for (s,) in conn.execute("SELECT DISTINCT source FROM frontier")}
        [(run_sources,)] = conn.execute("SELECT sources FROM runs").fetchall()
    finally:
        conn.close()
    assert {url.removeprefix(server.base_url) for url in urls} == SITE_ARTICLES
    assert len(urls) == len(SITE_ARTICLES)
    assert sites == {"127.0.0.1"}
    assert "configured" not in run_sources


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ftp://example.com/"], "URL 'ftp://example.com/' is not an http(s) URL"),
        (["http://example.com/a b"], "is not an http(s) URL"),
        (["http://example.com/", "--allow", "(x"], "--allow '(x' is not a valid regular expression"),
        (["http://example.com/", "--article-pattern", "[x"], "--article-pattern '[x' is not a valid"),
        (["--sitemap", "sitemap.xml"], "--sitemap 'sitemap.xml' is not an http(s) URL"),
        (["--article-pattern", "x"], "--article-pattern: only for a crawl by URL"),
        (["http://example.com/", "--source", "bjreview"], "--source picks configured sources"),
    ],
)
def test_crawl_by_url_arguments_are_checked_before_any_network(tmp_path, args, message):
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "crawl", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "x.db").exists()


def test_every_option_of_every_command_is_explained():
    import click

    for name, command in cli.commands.items():
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, (name, param.name)
    crawl_help = CliRunner().invoke(cli, ["crawl", "--help"]).stdout
    for option in ("[URL]...", "--sitemap URL", "--feed URL", "--allow REGEX", "--article-pattern REGEX"):
        assert option in crawl_help
    assert "--max-depth" in crawl_help
    assert "scraper crawl https://" in crawl_help  # an example of a crawl by URL
