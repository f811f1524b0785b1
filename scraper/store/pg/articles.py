"""save_article() on PostgreSQL: the outcomes of SQLite's (store/articles.py), with many workers at once.

Input: Articles (or rows store.prepare_article() made in an extraction process). Output: rows in
`articles`, `article_urls`, `article_versions` and the near-duplicate index (store/pg/near.py), and a
SaveResult. Settings: dedupe.near and dedupe.near_threshold, passed to prepare_article().

The decision is SQLite's: same text at another URL is DUPLICATE, same URL and text UNCHANGED, same URL
and new text UPDATED (the old text kept as a version, its story re-checked), the same story as a
stored article NEAR (link) or INSERTED into its story (group), else INSERTED; a URL is re-pointed only by a
claim at least as strong as the one it holds (store.URL_KINDS). On SQLite one writer at a time makes
"look, then write" safe. Here two workers may store the same URL or the same text at once, so the
insert is INSERT ... ON CONFLICT DO NOTHING (it waits for the other's transaction, then yields), and a
worker that lost such a race decides again from what the winner committed, as if it had come second.
Near-duplicates: a worker holds its text's anchor locks (store/pg/near.py lock_anchors) from before it
looks until it commits, so two copies of one story saved at once make one story.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg import errors as pg_errors_module

from ...dedupe import NEAR_MIN_ANCHORS, NEAR_MIN_CONTAINMENT, is_near_duplicate, unpack_anchors
from ...errors import StorageConflict
from ...models import Article, SaveResult, WarcRef, WriteOutcome
from .. import near_flow, near_match
from ..articles import (
    RESTORE_CANONICAL_SQL,
    RESTORE_SEEN_SQL,
    RESTORE_URL_SQL,
    RESTORE_VERSION_SQL,
    URL_KINDS,
    VERSION_COLUMNS,
    PreparedArticle,
    prepare_article,
    restored_row,
)
from . import near as near_index
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
    near: str = "link",
    near_threshold: float = NEAR_MIN_CONTAINMENT,
    warc: WarcRef | None = None,
    extractor: str | None = None,
) -> SaveResult:
    """Store one article and say what happened to it, in one transaction (as store.save_article).

    Raises:
        StorageError: PostgreSQL failed.
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
        StorageConflict: other workers won the race _RACE_TRIES times.
    """
    if prepared.near != "off":  # before any row lock: see store/pg/near.py
        near_index.lock_anchors(conn, [*(prepared.anchors or ()), *_replaced_anchors(conn, prepared)])
    row = dict(prepared.row)
    for _ in range(_RACE_TRIES):
        result = _save_once(conn, row, prepared)
        if result is not None:
            return result
    raise StorageConflict(
        f"cannot save {row['url']}: other workers stored this URL or text {_RACE_TRIES} times while"
        " this one was deciding; run again"
    )


# The anchors of the stored article at a URL (its own, or an alias) whose text is not this digest.
_REPLACED_ANCHORS_SQL = """
SELECT s.anchors FROM articles a JOIN near_anchor_sets s ON s.article_id = a.id
WHERE a.content_hash <> %(digest)s AND a.id = (
    SELECT id FROM articles WHERE url = %(url)s
    UNION ALL SELECT article_id FROM article_urls WHERE url = %(url)s AND kind = 'alias'
    LIMIT 1
)
"""


def _replaced_anchors(conn: Connection, prepared: PreparedArticle) -> list[int]:
    """The anchors of the text this save replaces, if it replaces one: locked with the new text's.

    A changed row's re-check locks its old text's buckets (_recheck_near_urls). Taken there, after
    the row lock, it deadlocked with a worker that held those buckets and was joining this row to
    its story; taken here, with the others, every worker locks buckets before rows.
    """
    found = conn.execute(
        _REPLACED_ANCHORS_SQL, {"url": prepared.row["url"], "digest": prepared.row["content_hash"]}
    ).fetchone()
    return [] if found is None else unpack_anchors(bytes(found[0]))


def _save_once(conn: Connection, row: dict[str, Any], prepared: PreparedArticle) -> SaveResult | None:
    """Pick the outcome and write it; None when another worker's commit changed the answer meanwhile."""
    canonical, now, digest = row["url"], row["fetched_at"], row["content_hash"]
    keys = (canonical, prepared.fetched_key)
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
            recheck_story(conn, article_id, prepared)
            _link_urls(conn, article_id, keys, now)
            return SaveResult(WriteOutcome.UPDATED, article_id, canonical)
        _link_duplicate(conn, other, keys, now)
        return SaveResult(WriteOutcome.DUPLICATE, other, canonical)
    other = find_by_hash(conn, digest)
    if other is not None:
        _link_duplicate(conn, other, keys, now)
        return SaveResult(WriteOutcome.DUPLICATE, other, canonical)
    match = _find_near(conn, prepared)
    if match is not None and near_match.links(
        prepared.near, match, near_index.adds_text(conn, prepared.anchors, match[0])
    ):
        _link_near(conn, match, row, keys)
        return SaveResult(WriteOutcome.NEAR, match[0], canonical)
    new_id = _insert_article(conn, row)
    if new_id is None:
        return None  # this URL or this text was stored meanwhile
    if prepared.anchors is not None:
        near_index.write_anchors(conn, new_id, prepared.anchors, fresh=True)
    if match is not None:
        near_index.join_story(conn, new_id, match[0])
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


def _link_url(
    conn: Connection, key: str, article_id: int, kind: str, now: str, extra: dict[str, Any] | None = None
) -> None:
    """Upsert one article_urls row; a weaker claim than the one held only moves last_seen (URL_KINDS).

    extra: similarity, site and published of a 'near' URL (NULL for the other kinds).
    """
    extra = extra or {"similarity": None, "site": None, "published": None}
    params = {"url": key, "id": article_id, "kind": kind, "now": now, "kinds": list(URL_KINDS), **extra}
    claimed = conn.execute(
        "INSERT INTO article_urls AS u (url, article_id, kind, first_seen, last_seen, similarity, site,"
        " published) VALUES (%(url)s, %(id)s, %(kind)s, %(now)s, %(now)s, %(similarity)s, %(site)s,"
        " %(published)s)"
        " ON CONFLICT (url) DO UPDATE SET article_id = excluded.article_id, kind = excluded.kind,"
        " last_seen = greatest(u.last_seen, excluded.last_seen), similarity = excluded.similarity,"
        " site = excluded.site, published = excluded.published"
        " WHERE array_position(%(kinds)s::text[], excluded.kind)"
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


def _find_near(conn: Connection, prepared: PreparedArticle, exclude: int = -1) -> tuple[int, float] | None:
    """The stored story this text is a near-duplicate of (id, similarity); None when off or none."""
    if prepared.near == "off" or not prepared.anchors:
        return None
    return near_index.find_near(conn, prepared.anchors, prepared.near_threshold, exclude=exclude)


def _link_near(
    conn: Connection, match: tuple[int, float], row: dict[str, Any], keys: tuple[str, str]
) -> None:
    """Link a near-duplicate's URLs to the stored story, with the similarity, its site and date."""
    extra = {"similarity": round(match[1], 4), "site": row["site"], "published": row["published"]}
    for key in dict.fromkeys(keys):
        _link_url(conn, key, match[0], "near", row["fetched_at"], extra)


def recheck_story(conn: Connection, article_id: int, prepared: PreparedArticle) -> None:
    """A new version of a stored article: anchors, near URLs and story re-checked (near_flow)."""
    near_flow.recheck_story(
        near_index, conn, article_id, prepared.anchors, prepared.near, prepared.near_threshold,
        lambda old: _recheck_near_urls(conn, article_id, old, prepared),
    )  # fmt: skip


def _recheck_near_urls(conn: Connection, article_id: int, old: list[int], prepared: PreparedArticle) -> None:
    """Re-point a changed row's near URLs when its new text no longer tells their story (as on SQLite)."""
    if len(old) < NEAR_MIN_ANCHORS or is_near_duplicate(
        old, list(prepared.anchors or ()), prepared.near_threshold
    ):
        return
    near_index.lock_anchors(conn, old)  # a copy of the old story saved meanwhile: wait, then move it too
    near = [url for (url,) in conn.execute(_NEAR_URLS, [article_id]).fetchall()]
    if not near:
        return
    match = near_index.find_near(conn, old, prepared.near_threshold, exclude=article_id)
    target = _restore_story(conn, article_id, old, near[0]) if match is None else match[0]
    for table in ("article_urls", "frontier"):
        conn.execute(
            f"UPDATE {table} SET article_id = %s WHERE article_id = %s AND url = ANY(%s)",
            [target, article_id, near],
        )
    if match is not None:  # the similarity was to the old text; now it is that text's to this row
        conn.execute(
            "UPDATE article_urls SET similarity = %s WHERE url = ANY(%s) AND kind = 'near'",
            [round(match[1], 4), near],
        )


# A row's near URLs, the first publisher first (as store/articles.py's _NEAR_URLS).
_NEAR_URLS = (
    "SELECT url FROM article_urls WHERE article_id = %s AND kind = 'near'"
    " ORDER BY published IS NULL, published, first_seen, url"
)


def _restore_story(conn: Connection, article_id: int, anchors: list[int], url: str) -> int:
    """A row for the story the changed row no longer tells: its last text under its first near URL.

    As store/articles.py's _restore_story; returns the new row's id.
    """
    version = conn.execute(RESTORE_VERSION_SQL, [article_id]).fetchone()
    seen = conn.execute(RESTORE_URL_SQL, [url]).fetchone()
    # the caller just kept the version, and the URL is one of the row's near URLs
    assert version is not None
    assert seen is not None
    row = restored_row(version, seen, url, anchors)
    restored = _insert_article(conn, row)
    if restored is None:
        raise StorageConflict(
            f"cannot restore the story of {url}: its URL or text was stored meanwhile; run again"
        )
    conn.execute(RESTORE_SEEN_SQL, [seen[2], seen[3], restored])
    near_index.write_anchors(conn, restored, anchors, fresh=True)
    conn.execute(RESTORE_CANONICAL_SQL, [restored, url])
    return restored
