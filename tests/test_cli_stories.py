"""Near-duplicate stories end to end: ingest through the CLI from the loopback server (issue 11).

fixtures/syndication holds one Xinhua story as three outlets print it (Xinhua; China Daily with an
editor's note, a day later; Beijing Review with a new headline, a paragraph cut and a typo fixed,
two days later) and two market briefs written on one template.

Each test runs on both backends (db_target: a SQLite file, a PostgreSQL database), through `ingest`,
`duplicates`, `show`, `export` and `dedupe`; the store's side is also compared save by save in
tests/test_pg_near.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from scraper.cli import cli
from scraper.config import is_postgres_url
from tests.backends import query_rows

SYNDICATION = Path(__file__).parent / "fixtures" / "syndication"
AGENCY = "/syndication/xinhua.html"
CARRIERS = ("/syndication/chinadaily.html", "/syndication/bjreview.html")


def make_config(tmp_path: Path, near: str | None = None, *, db: str) -> Path:
    """A config storing into db (a SQLite path or a postgresql:// URL, whose archive goes to tmp_path)."""
    path = tmp_path / "config.yaml"
    dedupe = f"dedupe:\n  near: {near}\n" if near else ""
    archive = f"  archive_dir: '{tmp_path / 'warc'}'\n" if is_postgres_url(db) else ""
    path.write_text(
        f"storage:\n  path: '{db}'\n{archive}"
        "fetch:\n  backoff: 0.01\n  max_backoff: 0.05\n  allow_private_addresses: true\n"
        "extract:\n  min_chars: 40\n" + dedupe,
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def query(config: Path, sql: str) -> list[tuple]:
    """Rows as tuples from the config's database, on either backend."""
    target = yaml.safe_load(config.read_text(encoding="utf-8"))["storage"]["path"]
    return [tuple(row.values()) for row in query_rows(target, sql)]


def ingest_story(server, config: Path) -> list[str]:
    """The carriers first, the agency last: the first publisher is not the first stored."""
    outcomes = []
    for path in (*CARRIERS, AGENCY):
        result = run(config, "ingest", server.url(path))
        assert result.exit_code == 0, result.output
        outcomes.append(result.stdout.split()[0])
    return outcomes


def test_agency_story_on_three_sites_is_one_row_with_three_urls(fresh_server, tmp_path, db_target):
    config = make_config(tmp_path, db=db_target)
    assert ingest_story(fresh_server, config) == ["new", "near", "near"]
    assert query(config, "SELECT count(*) FROM articles") == [(1,)]
    urls = query(config, "SELECT url, kind, similarity FROM article_urls ORDER BY first_seen")
    assert [u[0] for u in urls] == [fresh_server.url(p) for p in (*CARRIERS, AGENCY)]
    assert [u[1] for u in urls] == ["canonical", "near", "near"]
    assert all(u[2] >= 0.7 for u in urls[1:])
    stories = json.loads(run(config, "duplicates", "--format", "json").stdout)
    [story] = stories
    assert story["members"] == 3
    assert story["first_url"] == fresh_server.url(AGENCY)  # published first, stored last
    assert story["first_published"].startswith("2024-05-01")
    shown = json.loads(run(config, "show", "1", "--format", "json").stdout)
    assert next(m["url"] for m in shown["story"]) == fresh_server.url(AGENCY)
    assert len(shown["story"]) == 3
    [exported] = [json.loads(line) for line in run(config, "export").stdout.splitlines()]
    assert len(exported["urls"]) == 3
    assert exported["sites"] == ["127.0.0.1"]


def test_near_outcome_is_counted_in_the_crawl_report_columns(fresh_server, tmp_path, db_target):
    config = make_config(tmp_path, db=db_target)
    ingest_story(fresh_server, config)
    outcomes = query(config, "SELECT outcome FROM fetch_log ORDER BY id")
    assert outcomes == [("new",), ("near",), ("near",)]


def test_corrected_version_at_the_same_url_is_a_version(fresh_server, tmp_path, db_target):
    config = make_config(tmp_path, db=db_target)
    page = (SYNDICATION / "xinhua.html").read_bytes()
    fresh_server.overlay["/news/story.html"] = (200, "text/html; charset=utf-8", page)
    url = fresh_server.url("/news/story.html")
    assert run(config, "ingest", url).stdout.startswith("new ")
    corrected = page.replace(b"20.1 million", b"20.3 million").replace(
        b"</article>", b"<p>This story has been corrected to give the final passenger count.</p></article>"
    )
    fresh_server.overlay["/news/story.html"] = (200, "text/html; charset=utf-8", corrected)
    assert run(config, "ingest", url).stdout.startswith("updated ")
    assert query(config, "SELECT count(*) FROM articles") == [(1,)]
    assert query(config, "SELECT count(*) FROM article_versions") == [(1,)]
    assert query(config, "SELECT kind FROM article_urls") == [("canonical",)]
    assert query(config, "SELECT anchor_count > 0 FROM articles") == [(1,)]


def test_two_briefs_on_one_template_are_two_rows(fresh_server, tmp_path, db_target):
    config = make_config(tmp_path, db=db_target)
    for day in ("monday", "tuesday"):
        result = run(config, "ingest", fresh_server.url(f"/syndication/brief-{day}.html"))
        assert result.stdout.startswith("new "), result.output
    assert query(config, "SELECT count(*) FROM articles") == [(2,)]
    listed = run(config, "duplicates", "--format", "json")
    assert listed.exit_code == 0
    assert json.loads(listed.stdout) == []


def test_group_mode_keeps_every_row_in_one_story(fresh_server, tmp_path, db_target):
    config = make_config(tmp_path, near="group", db=db_target)
    assert ingest_story(fresh_server, config) == ["new", "new", "new"]
    stories = query(config, "SELECT story_id FROM articles ORDER BY id")
    assert len(stories) == 3
    assert len(set(stories)) == 1
    assert stories[0][0] is not None
    [story] = json.loads(run(config, "duplicates", "--format", "json").stdout)
    assert story["rows"] == 3
    assert story["first_url"] == fresh_server.url(AGENCY)


def test_off_mode_stores_every_text(fresh_server, tmp_path, db_target):
    config = make_config(tmp_path, near="off", db=db_target)
    assert ingest_story(fresh_server, config) == ["new", "new", "new"]
    assert query(config, "SELECT count(*) FROM near_anchors_all") == [(0,)]


def test_rebuild_folds_an_old_database_into_stories(fresh_server, tmp_path, db_target):
    config = make_config(tmp_path, near="off", db=db_target)
    ingest_story(fresh_server, config)
    config = make_config(tmp_path, db=db_target)  # the default, link
    result = run(config, "dedupe", "--rebuild")
    assert result.exit_code == 0, result.output
    assert "2 folded" in result.stderr
    assert query(config, "SELECT count(*) FROM articles") == [(1,)]
    kinds = sorted(k for (k,) in query(config, "SELECT kind FROM article_urls"))
    assert kinds == ["canonical", "near", "near"]
    [story] = json.loads(run(config, "duplicates", "--format", "json").stdout)
    assert story["first_url"] == fresh_server.url(AGENCY)


def test_bad_dedupe_config_is_one_line(tmp_path):
    config = make_config(tmp_path, near="merge", db=str(tmp_path / "articles.db"))
    result = run(config, "duplicates")
    assert result.exit_code == 2
    assert "dedupe.near must be one of link, group, off, got 'merge'" in result.output
    config.write_text(config.read_text(encoding="utf-8").replace("near: merge", "near_threshold: 1.5"))
    result = run(config, "duplicates")
    assert result.exit_code == 2
    assert "dedupe.near_threshold must be a number between 0.01 and 1, got 1.5" in result.output


TRAM_PAGE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Tram line to reach the hospital district</title>
<meta property="article:published_time" content="2024-06-03T09:00:00+08:00"></head><body><main><article>
<h1>Tram line to reach the hospital district</h1>
<p>The city council approved a plan on Tuesday to extend the number 4 tram line by six kilometres to the
new hospital district, with construction due to start next spring and the first trams running in 2027.</p>
<p>Councillors said the extension would cut journey times from the northern suburbs by a quarter, and the
transport authority expects 18,000 passengers a day once the line opens to the public.</p>
<p>Residents along the route will be consulted on the position of the three new stops over the summer,
and the council will publish the results of the consultation before the final vote in October.</p>
<p>Opposition members asked for a cost review after the budget for the depot rose by a fifth in a year;
the mayor said the review would be ready before the contracts are signed.</p>
</article></main></body></html>"""


def test_a_row_whose_text_turns_to_another_story_hands_its_near_urls_to_that_story(
    fresh_server, tmp_path, db_target
):
    """A correction keeps the near URLs; another story at the row's URL does not take them along.

    China Daily is stored first (the row), Beijing Review and Xinhua are linked to it. When China
    Daily's URL serves another article, the agency story keeps a row: its last stored text under
    the first publisher's URL (Xinhua's), with Beijing Review linked to it.
    """
    config = make_config(tmp_path, db=db_target)
    assert ingest_story(fresh_server, config) == ["new", "near", "near"]
    carrier = CARRIERS[0]
    page = (SYNDICATION / "chinadaily.html").read_bytes()
    corrected = page.replace(b"20.1 million", b"20.3 million")
    fresh_server.overlay[carrier] = (200, "text/html; charset=utf-8", corrected)
    assert run(config, "ingest", fresh_server.url(carrier)).stdout.startswith("updated ")
    assert query(config, "SELECT count(*) FROM article_urls WHERE article_id = 1 AND kind = 'near'") == [(2,)]

    fresh_server.overlay[carrier] = (200, "text/html; charset=utf-8", TRAM_PAGE)
    assert run(config, "ingest", fresh_server.url(carrier)).stdout.startswith("updated ")
    rows = query(config, "SELECT id, url, text LIKE '%20.3 million%' FROM articles ORDER BY id")
    assert rows == [(1, fresh_server.url(carrier), 0), (2, fresh_server.url(AGENCY), 1)]
    urls = dict(query(config, "SELECT url, article_id || ' ' || kind FROM article_urls"))
    assert urls == {
        fresh_server.url(carrier): "1 canonical",
        fresh_server.url(AGENCY): "2 canonical",
        fresh_server.url(CARRIERS[1]): "2 near",
    }
    [story] = json.loads(run(config, "duplicates", "--format", "json").stdout)
    assert (story["members"], story["first_url"]) == (2, fresh_server.url(AGENCY))
    assert story["first_published"].startswith("2024-05-01")
    # the restored row is indexed: another copy of the agency story is linked to it
    copy = "/syndication/copy.html"
    fresh_server.overlay[copy] = (200, "text/html; charset=utf-8", (SYNDICATION / "xinhua.html").read_bytes())
    assert run(config, "ingest", fresh_server.url(copy)).stdout.startswith("near ")
    assert query(config, "SELECT article_id FROM article_urls WHERE url LIKE '%copy.html'") == [(2,)]
