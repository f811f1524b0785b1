"""The both-backend test helpers (tests/backends.py) give the same rows on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from scraper.models import Article
from tests.backends import query_rows, save_article

NOW = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def test_saved_row_reads_back_the_same_on_either_backend(db_target, backend):
    text = "Negotiators met in Geneva to discuss 100% of tariffs."
    article = Article(title="Trade talks", text=text, url=None)
    result = save_article(db_target, article, url="https://a.example/1", site="alpha", fetched_at=NOW)
    assert result.outcome.value == "new"
    sql = "SELECT url, title, text, first_seen FROM articles WHERE site = ?"
    [row] = query_rows(db_target, sql, ["alpha"])
    assert row["url"] == "https://a.example/1"
    assert row["text"].endswith("100% of tariffs.")
    assert row["first_seen"].startswith("2024-01-02T03:04:05")
    assert db_target.startswith("postgresql://") == (backend == "postgres")
