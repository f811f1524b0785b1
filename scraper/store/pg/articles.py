"""save_article() on PostgreSQL: the outcomes of SQLite's (store/articles.py), with many workers at once.

Input: Articles (or rows store.prepare_article() made in an extraction process). Output: rows in
`articles`, `article_urls` and `article_versions`, and a SaveResult. Settings: dedupe.near must be
"off" here for now (the near-duplicate index is not on PostgreSQL yet).

The decision is SQLite's: same text at another URL is DUPLICATE, same URL and text UNCHANGED, same URL
and new text UPDATED (the old text kept as a version), else INSERTED; a URL is re-pointed only by a
claim at least as strong as the one it holds (store.URL_KINDS). On SQLite one writer at a time makes
"look, then write" safe. Here two workers may store the same URL or the same text at once, so the
insert is INSERT ... ON CONFLICT DO NOTHING (it waits for the other's transaction, then yields), and a
worker that lost such a race decides again from what the winner committed, as if it had come second.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg import errors as pg_errors_module

from ...dedupe import NEAR_MIN_CONTAINMENT
from ...errors import StorageError
from ...models import Article, SaveResult, WarcRef, WriteOutcome
from ..articles import URL_KINDS, VERSION_COLUMNS, PreparedArticle, prepare_article
from .db import Connection, transaction
from .search import SEARCH_VECTOR_SQL, search_params

# Decisions made before giving up when other workers keep winning the race for the same URL or
# text: each lost race means another transaction committed that row, so a second look finds it.
_RACE_TRIES = 3


def save_article(
    conn: Connection,
    article: Article,
    *,
    url: str,
    site: str,
    fetched_at: dt.datetime,
    near: str = "off",
    near_threshold: float = NEAR_MIN_CONTAINMENT,
    warc: WarcRef | None = None,
    extractor: str | None = None,
) -> SaveResult:
    """Store one article and say what happened to it, in one transaction (as store.save_article).

    Raises:
        StorageError: PostgreSQL failed, or near is not "off".
    """
    prepared = prepare_article(
        article, url=url, site=site, fetched_at=fetched_at, near=near, near_threshold=near_threshold,
        warc=warc, extractor=extractor,
    )  # fmt: skip
    with transaction(conn, f"cannot save {prepared.row['url']}"):
        return write_article(conn, prepared)


def write_article(conn: Connection, prepared: PreparedArticle) -> SaveResult:
    """save_article() of a prepared row, inside the caller's transaction.

    Raises:
        StorageError: near-duplicates were asked for, or other workers won the race _RACE_TRIES times.
    """
    if prepared.near != "off":
        raise StorageError(
            f"cannot save {prepared.row['url']}: near-duplicate detection (dedupe.near: {prepared.near})"
            " is not available on PostgreSQL yet; set dedupe.near: off"
        )
    row = dict(prepared.row)
    for _ in range(_RACE_TRIES):
        result = _save_once(conn, row, prepared.fetched_key)
        if result is not None:
            return result
    raise StorageError(
        f"cannot save {row['url']}: other workers stored this URL or text {_RACE_TRIES} times while"
        " this one was deciding; run again"
    )


def _save_once(conn: Connection, row: dict[str, Any], fetched_key: str) -> SaveResult | None:
    """Pick the outcome and write it; None when another worker's commit changed the answer meanwhile."""
    canonical, now, digest = row["url"], row["fetched_at"], row["content_hash"]
    keys = (canonical, fetched_key)
    existing = _find_article(conn, canonical)
    if existing is not None:
        article_id, old_hash = existing
        if old_hash == digest:
            touch_article(conn, article_id, now)
            _link_urls(conn, article_id, keys, now)
            return SaveResult(WriteOutcome.UNCHANGED, article_id, canonical)
        other = find_by_hash(conn, digest)
        if other is None:
            if not _update_article(conn, article_id, row):
                return None  # the same text was stored elsewhere meanwhile
            _link_urls(conn, article_id, keys, now)
            return SaveResult(WriteOutcome.UPDATED, article_id, canonical)
        _link_duplicate(conn, other, keys, now)
        return SaveResult(WriteOutcome.DUPLICATE, other, canonical)
    other = find_by_hash(conn, digest)
    if other is not None:
        _link_duplicate(conn, other, keys, now)
        return SaveResult(WriteOutcome.DUPLICATE, other, canonical)
    new_id = _insert_article(conn, row)
    if new_id is None:
        return None  # this URL or this text was stored meanwhile
    _link_urls(conn, new_id, keys, now)
    return SaveResult(WriteOutcome.INSERTED, new_id, canonical)


def touch_article(conn: Connection, article_id: int, at: dt.datetime | str) -> None:
    """Move an article's last_seen forward (never back), inside the caller's transaction."""
    conn.execute(
        "UPDATE articles SET last_seen = greatest(last_seen, %s::timestamptz) WHERE id = %s", [at, article_id]
    )


def find_by_hash(conn: Connection, digest: str) -> int | None:
    """The id of the article whose text has this content hash, or None."""
    found = conn.execute("SELECT id FROM articles WHERE content_hash = %s", [digest]).fetchone()
    return None if found is None else int(found[0])


def _find_article(conn: Connection, canonical: str) -> tuple[int, str] | None:
    """The (id, content_hash) of the article whose canonical URL, or alias, is `canonical`, locked.

    The row lock makes a second worker storing the same article wait, then decide on the first's
    commit (its new text is then UNCHANGED, as it would be on SQLite), instead of on a stale read.
    """
    found = conn.execute(
        "SELECT id, content_hash FROM articles WHERE url = %s FOR UPDATE", [canonical]
    ).fetchone()
    if found is None:
        found = conn.execute(
            "SELECT a.id, a.content_hash FROM article_urls u JOIN articles a ON a.id = u.article_id"
            " WHERE u.url = %s AND u.kind = 'alias' FOR UPDATE OF a",
            [canonical],
        ).fetchone()
    return None if found is None else (int(found[0]), str(found[1]))


def _insert_article(conn: Connection, row: dict[str, Any]) -> int | None:
    """Insert the row (first_seen = last_seen = fetched_at); None when its URL or text is already stored."""
    names = list(row)
    found = conn.execute(
        f"INSERT INTO articles ({', '.join(names)}, first_seen, last_seen, search)"
        f" VALUES ({', '.join(f'%({name})s' for name in names)}, %(fetched_at)s, %(fetched_at)s,"
        f" {SEARCH_VECTOR_SQL}) ON CONFLICT DO NOTHING RETURNING id",
        {**row, **search_params(row["title"], row["text"])},
    ).fetchone()
    return None if found is None else int(found[0])


def _update_article(conn: Connection, article_id: int, row: dict[str, Any]) -> bool:
    """Keep the old text in article_versions, then overwrite the row; False when its new text is taken."""
    try:
        with conn.transaction():  # a savepoint: a lost race undoes this step only
            conn.execute(
                f"INSERT INTO article_versions (article_id, {VERSION_COLUMNS}, replaced_at)"
                f" SELECT id, {VERSION_COLUMNS}, %s FROM articles WHERE id = %s",
                [row["fetched_at"], article_id],
            )
            assignments = ", ".join(f"{name} = %({name})s" for name in row if name != "url")
            conn.execute(
                f"UPDATE articles SET {assignments}, search = {SEARCH_VECTOR_SQL},"
                " last_seen = greatest(last_seen, %(fetched_at)s::timestamptz) WHERE id = %(id)s",
                {**row, "id": article_id, **search_params(row["title"], row["text"])},
            )
    except pg_errors_module.UniqueViolation:
        return False
    return True


def _link_urls(conn: Connection, article_id: int, keys: tuple[str, str], now: str) -> None:
    """Record the canonical key and the fetched key of an article that was found or inserted."""
    found = conn.execute("SELECT url FROM articles WHERE id = %s", [article_id]).fetchone()
    owner = None if found is None else found[0]
    for key in dict.fromkeys(keys):
        _link_url(conn, key, article_id, "canonical" if key == owner else "alias", now)


def _link_duplicate(conn: Connection, article_id: int, keys: tuple[str, str], now: str) -> None:
    for key in dict.fromkeys(keys):
        _link_url(conn, key, article_id, "exact-duplicate", now)


def _link_url(conn: Connection, key: str, article_id: int, kind: str, now: str) -> None:
    """Upsert one article_urls row; a weaker claim than the one held only moves last_seen (URL_KINDS)."""
    params = {"url": key, "id": article_id, "kind": kind, "now": now, "kinds": list(URL_KINDS)}
    claimed = conn.execute(
        "INSERT INTO article_urls AS u (url, article_id, kind, first_seen, last_seen)"
        " VALUES (%(url)s, %(id)s, %(kind)s, %(now)s, %(now)s)"
        " ON CONFLICT (url) DO UPDATE SET article_id = excluded.article_id, kind = excluded.kind,"
        " last_seen = greatest(u.last_seen, excluded.last_seen), similarity = NULL, site = NULL,"
        " published = NULL WHERE array_position(%(kinds)s::text[], excluded.kind)"
        " >= array_position(%(kinds)s::text[], u.kind)"
        " RETURNING 1",
        params,
    ).fetchone()
    if claimed is None:
        conn.execute(
            "UPDATE article_urls SET last_seen = greatest(last_seen, %(now)s::timestamptz)"
            " WHERE url = %(url)s",
            params,
        )
