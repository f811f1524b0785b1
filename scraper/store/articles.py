"""Articles and their versions: save_article() picks the outcome and writes it in one transaction.

Input: Articles from extract, with the URL that was fetched (and where its page is archived).
Output: rows in `articles` (FTS5 over title and text; the WARC pointer and extractor version of the
fetch that gave the text), `article_urls`, `article_versions` (an old text with its own pointer) and
`near_anchors`, and a SaveResult per article. Settings: dedupe.near and dedupe.near_threshold,
passed to prepare_article(). The duplicate decision lives here: same text at another URL is
DUPLICATE, same URL and text UNCHANGED, same URL and new text UPDATED (the old text kept as a
version, never a near duplicate), the same story as a stored article at another URL NEAR (link mode:
no row of its own) or INSERTED into that article's story (group mode), else INSERTED. See
store/near.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from ..dedupe import (
    NEAR_MIN_ANCHORS,
    NEAR_MIN_CONTAINMENT,
    content_hash,
    is_near_duplicate,
    near_anchors,
    simhash,
    url_key,
    word_count,
)
from ..models import Article, SaveResult, WarcRef, WriteOutcome
from ..urls import fits
from . import near as near_index
from . import near_flow, near_match
from .db import iso, transaction

# article_urls.kind, weakest claim first: a URL is re-pointed to another article
# only by a claim at least as strong as the one it holds, so a 'canonical' row
# (the URL in articles.url) never moves. 'near': the same story in another text.
URL_KINDS = ("near", "exact-duplicate", "alias", "canonical")

_ARTICLE_COLUMNS = (
    "url, title, text, published, author, source, section, site, language,"
    " content_hash, simhash, word_count, fetched_at, anchor_count,"
    " warc_file, warc_offset, warc_length, extractor"
)
# What article_versions keeps of a replaced row: its text and where that text came from (schema 8).
VERSION_COLUMNS = "title, text, content_hash, fetched_at, warc_file, warc_offset, warc_length, extractor"


@dataclass(frozen=True, slots=True)
class PreparedArticle:
    """An article as the row save_article() writes, keys and hashes computed (CPU work, no SQL).

    The crawl prepares rows in its extraction worker processes and writes them in the main one.
    """

    row: dict[str, Any]
    fetched_key: str
    # dedupe.near_anchors() of the text; None when dedupe.near is off (nothing indexed)
    anchors: tuple[int, ...] | None = None
    near: str = "off"
    near_threshold: float = NEAR_MIN_CONTAINMENT


def prepare_article(
    article: Article,
    *,
    url: str,
    site: str,
    fetched_at: dt.datetime,
    near: str = "link",
    near_threshold: float = NEAR_MIN_CONTAINMENT,
    warc: WarcRef | None = None,
    extractor: str | None = None,
) -> PreparedArticle:
    """The row, URL key and anchors save_article() would compute; same arguments as save_article().

    A canonical URL longer than urls.MAX_URL_LENGTH is not kept: the fetched URL keys the row.
    """
    anchors = None if near == "off" else tuple(near_anchors(article.text))
    declared = url_key(article.url) if article.url else None
    canonical = declared if declared and fits(declared) else url_key(url)
    row = _article_row(article, canonical, site, iso(fetched_at))
    row.update(
        warc_file=warc.file if warc else None,
        warc_offset=warc.offset if warc else None,
        warc_length=warc.length if warc else None,
        extractor=extractor,
        anchor_count=None if anchors is None else len(anchors),
    )
    return PreparedArticle(row, url_key(url), anchors, near, near_threshold)


def write_article(db: sqlite_utils.Database, prepared: PreparedArticle) -> SaveResult:
    """save_article() of a prepared row, inside the caller's transaction (transaction() or a WriteBatch)."""
    return _save(db, dict(prepared.row), prepared)


def touch_article(db: sqlite_utils.Database, article_id: int, at: dt.datetime) -> None:
    """Move an article's last_seen (a 304 answer: unchanged), inside the caller's transaction."""
    db.execute("UPDATE articles SET last_seen = max(last_seen, ?) WHERE id = ?", [iso(at), article_id])


def save_article(
    db: sqlite_utils.Database,
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
    """Store one article and say what happened to it, in one transaction.

    Args:
        url: the URL that was fetched (final URL after redirects). The article's
            canonical URL is `article.url or url`, both keyed with url_key().
        site: the source name from config, else the host.
        fetched_at: when the page was fetched; must be timezone-aware.
        near: dedupe.near, what a near-duplicate does: "link", "group" or "off".
        near_threshold: dedupe.near_threshold.
        warc: where the page's response is archived; kept with the row's text (None: not archived).
        extractor: extract.version.extractor_version() of the code that produced the text.

    Returns:
        A SaveResult: INSERTED, UPDATED, UNCHANGED (only last_seen touched),
        DUPLICATE (same text already stored under another URL; article_id is that article), or
        NEAR (link mode: the same story is stored; article_id is that article).

    Raises:
        StorageError: SQLite failed (locked past the busy timeout, disk full, corrupt file).
    """
    prepared = prepare_article(
        article, url=url, site=site, fetched_at=fetched_at, near=near, near_threshold=near_threshold,
        warc=warc, extractor=extractor,
    )  # fmt: skip
    with transaction(db, f"cannot save {prepared.row['url']}"):
        return _save(db, dict(prepared.row), prepared)


def _save(db: sqlite_utils.Database, row: dict[str, Any], prepared: PreparedArticle) -> SaveResult:
    """Pick the outcome and write it; runs inside the caller's transaction."""
    canonical, now, fetched_key = row["url"], row["fetched_at"], prepared.fetched_key
    existing = _find_article(db, canonical)
    if existing is not None:
        article_id, old_hash = existing
        if old_hash == row["content_hash"]:
            db.execute("UPDATE articles SET last_seen = max(last_seen, ?) WHERE id = ?", [now, article_id])
            _link_urls(db, article_id, (canonical, fetched_key), now)
            return SaveResult(WriteOutcome.UNCHANGED, article_id, canonical)
        other = find_by_hash(db, row["content_hash"])
        if other is None:
            _update_article(db, article_id, row)
            recheck_story(db, article_id, prepared)
            _link_urls(db, article_id, (canonical, fetched_key), now)
            return SaveResult(WriteOutcome.UPDATED, article_id, canonical)
        # The new text is another article's text: keep this row as it was.
        _link_duplicate(db, other, (canonical, fetched_key), now)
        return SaveResult(WriteOutcome.DUPLICATE, other, canonical)
    other = find_by_hash(db, row["content_hash"])
    if other is not None:
        _link_duplicate(db, other, (canonical, fetched_key), now)
        return SaveResult(WriteOutcome.DUPLICATE, other, canonical)
    match = _find_near(db, prepared)
    if match is not None and near_match.links(
        prepared.near, match, near_index.adds_text(db, prepared.anchors, match[0])
    ):
        _link_near(db, match, row, (canonical, fetched_key))
        return SaveResult(WriteOutcome.NEAR, match[0], canonical)
    article_id = _insert_article(db, row)
    if prepared.anchors is not None:
        near_index.write_anchors(db, article_id, prepared.anchors, fresh=True)
    if match is not None:
        near_index.join_story(db, article_id, match[0])
    _link_urls(db, article_id, (canonical, fetched_key), now)
    return SaveResult(WriteOutcome.INSERTED, article_id, canonical)


def _find_near(
    db: sqlite_utils.Database, prepared: PreparedArticle, exclude: int = -1
) -> tuple[int, float] | None:
    """The stored story this text is a near-duplicate of (id, similarity); None when off or none."""
    if prepared.near == "off" or not prepared.anchors:
        return None
    return near_index.find_near(db, prepared.anchors, prepared.near_threshold, exclude=exclude)


def recheck_story(db: sqlite_utils.Database, article_id: int, prepared: PreparedArticle) -> None:
    """A new version of a stored article: anchors, near URLs and story re-checked (near_flow)."""
    near_flow.recheck_story(
        near_index, db, article_id, prepared.anchors, prepared.near, prepared.near_threshold,
        lambda old: _recheck_near_urls(db, article_id, old, prepared),
    )  # fmt: skip


def _recheck_near_urls(
    db: sqlite_utils.Database, article_id: int, old: list[int], prepared: PreparedArticle
) -> None:
    """Re-point a changed row's near URLs when its new text no longer tells the story they were linked to.

    They stay when the new text is the same story as the old one (a correction, one paragraph
    more). Otherwise they go to the stored row that tells the old text's story best (a full
    article kept beside its teaser) or, with none, to a row restored for it (_restore_story).
    """
    near = [url for (url,) in db.execute(_NEAR_URLS, [article_id])]
    new = list(prepared.anchors or ())
    # without the old anchors (dropped by `dedupe --rebuild` with near off) there is nothing to compare
    if not near or len(old) < NEAR_MIN_ANCHORS or is_near_duplicate(old, new, prepared.near_threshold):
        return
    match = near_index.find_near(db, old, prepared.near_threshold, exclude=article_id)
    target = _restore_story(db, article_id, old, near[0]) if match is None else match[0]
    marks = ", ".join("?" for _ in near)
    for table, column in (("article_urls", "url"), ("frontier", "url")):
        db.execute(
            f"UPDATE {table} SET article_id = ? WHERE article_id = ? AND {column} IN ({marks})",
            [target, article_id, *near],
        )
    if match is not None:  # the similarity was to the old text; now it is that text's to this row
        db.execute(
            f"UPDATE article_urls SET similarity = ? WHERE url IN ({marks}) AND kind = 'near'",
            [round(match[1], 4), *near],
        )


# A row's near URLs, the first publisher first (earliest publication date, else first seen), as
# `scraper duplicates` orders a story.
_NEAR_URLS = (
    "SELECT url FROM article_urls WHERE article_id = ? AND kind = 'near'"
    " ORDER BY published IS NULL, published, first_seen, url"
)


def _restore_story(db: sqlite_utils.Database, article_id: int, anchors: list[int], url: str) -> int:
    """A row for a story whose only row now tells another: its last stored text under its first near URL.

    That text is the row's previous version (just kept in article_versions), with the near URL's
    site, date and first and last sightings; the URL becomes the new row's canonical URL. Returns
    the new row's id.
    """
    version = db.execute(RESTORE_VERSION_SQL.replace("%s", "?"), [article_id]).fetchone()
    seen = db.execute(RESTORE_URL_SQL.replace("%s", "?"), [url]).fetchone()
    restored = _insert_article(db, restored_row(version, seen, url, anchors))
    db.execute(RESTORE_SEEN_SQL.replace("%s", "?"), [seen[2], seen[3], restored])
    near_index.write_anchors(db, restored, anchors, fresh=True)
    db.execute(RESTORE_CANONICAL_SQL.replace("%s", "?"), [restored, url])
    return restored


# What a restored row is made of (both backends; SQLite swaps %s for ?): the row's last version, and the
# sightings of the near URL it is restored under.
RESTORE_VERSION_SQL = (
    "SELECT title, text, fetched_at, warc_file, warc_offset, warc_length, extractor"
    " FROM article_versions WHERE article_id = %s ORDER BY id DESC LIMIT 1"
)
RESTORE_URL_SQL = "SELECT site, published, first_seen, last_seen FROM article_urls WHERE url = %s"
# The restored row keeps the near URL's first and last sightings, and the URL becomes its canonical one.
RESTORE_SEEN_SQL = "UPDATE articles SET first_seen = %s, last_seen = %s WHERE id = %s"
RESTORE_CANONICAL_SQL = (
    "UPDATE article_urls SET article_id = %s, kind = 'canonical', similarity = NULL, site = NULL,"
    " published = NULL WHERE url = %s"
)


def restored_row(version: Sequence[Any], seen: Sequence[Any], url: str, anchors: list[int]) -> dict[str, Any]:
    """The row _restore_story inserts: the version's text and pointer, the near URL's site and date."""
    # versions keep no language, author or section: the row's are its new text's, so they stay NULL
    row = _article_row(Article(version[0], version[1] or ""), url, seen[0], version[2])
    row.update(published=seen[1], anchor_count=len(anchors))
    row.update(zip(("warc_file", "warc_offset", "warc_length", "extractor"), version[3:], strict=True))
    return row


def _link_near(
    db: sqlite_utils.Database, match: tuple[int, float], row: dict[str, Any], keys: tuple[str, str]
) -> None:
    """Link a near-duplicate's URLs to the stored story, with the similarity, its site and date."""
    extra = {"similarity": round(match[1], 4), "site": row["site"], "published": row["published"]}
    for key in dict.fromkeys(keys):
        _link_url(db, key, match[0], "near", row["fetched_at"], extra)


def _article_row(article: Article, canonical: str, site: str, now: str) -> dict[str, Any]:
    return {
        "url": canonical,
        "title": article.title,
        "text": article.text,
        "published": article.published.isoformat() if article.published is not None else None,
        "author": article.author,
        "source": article.source,
        "section": article.section,
        "site": site,
        "language": article.language,
        "content_hash": content_hash(article.text),
        "simhash": _signed64(simhash(article.text)),
        "word_count": word_count(article.text),
        "fetched_at": now,
    }


def _find_article(db: sqlite_utils.Database, canonical: str) -> tuple[int, str] | None:
    """The (id, content_hash) of the article whose canonical URL, or alias, is `canonical`."""
    found = db.execute("SELECT id, content_hash FROM articles WHERE url = ?", [canonical]).fetchone()
    if found is None:
        found = db.execute(
            "SELECT a.id, a.content_hash FROM article_urls u JOIN articles a ON a.id = u.article_id"
            " WHERE u.url = ? AND u.kind = 'alias'",
            [canonical],
        ).fetchone()
    return None if found is None else (found[0], found[1])


def find_by_hash(db: sqlite_utils.Database, digest: str) -> int | None:
    """The id of the article whose text has this content hash, or None."""
    found = db.execute("SELECT id FROM articles WHERE content_hash = ?", [digest]).fetchone()
    return None if found is None else int(found[0])


def _insert_article(db: sqlite_utils.Database, row: dict[str, Any]) -> int:
    placeholders = ", ".join(f":{name.strip()}" for name in _ARTICLE_COLUMNS.split(","))
    cursor = db.execute(
        f"INSERT INTO articles ({_ARTICLE_COLUMNS}, first_seen, last_seen)"
        f" VALUES ({placeholders}, :fetched_at, :fetched_at)",
        row,
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _update_article(db: sqlite_utils.Database, article_id: int, row: dict[str, Any]) -> None:
    """Keep the old text, its WARC pointer and extractor in article_versions, then overwrite the row."""
    rewrite_row(db, article_id, row, replaced_at=row["fetched_at"], seen=row["fetched_at"])


def rewrite_row(
    db: sqlite_utils.Database,
    article_id: int,
    row: dict[str, Any],
    *,
    replaced_at: str,
    seen: str | None = None,
) -> None:
    """Move the row's text, pointer and extractor to article_versions, then set `row`'s columns (not url).

    Runs inside the caller's transaction; a new fetch (save_article, with `seen`: last_seen moves
    to it) and a new extraction of the same response (`scraper reextract`) both replace a row so.
    """
    db.execute(
        f"INSERT INTO article_versions (article_id, {VERSION_COLUMNS}, replaced_at)"
        f" SELECT id, {VERSION_COLUMNS}, ? FROM articles WHERE id = ?",
        [replaced_at, article_id],
    )
    assignments = ", ".join(f"{name} = :{name}" for name in row if name != "url")
    if seen is not None:
        assignments += ", last_seen = max(last_seen, :seen)"
    db.execute(f"UPDATE articles SET {assignments} WHERE id = :id", {**row, "id": article_id, "seen": seen})


def _link_urls(db: sqlite_utils.Database, article_id: int, keys: tuple[str, str], now: str) -> None:
    """Record the canonical key and the fetched key of an article that was found or inserted."""
    owner = db.execute("SELECT url FROM articles WHERE id = ?", [article_id]).fetchone()[0]
    for key in dict.fromkeys(keys):
        _link_url(db, key, article_id, "canonical" if key == owner else "alias", now)


def _link_duplicate(db: sqlite_utils.Database, article_id: int, keys: tuple[str, str], now: str) -> None:
    for key in dict.fromkeys(keys):
        _link_url(db, key, article_id, "exact-duplicate", now)


def _link_url(
    db: sqlite_utils.Database,
    key: str,
    article_id: int,
    kind: str,
    now: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Upsert one article_urls row; a weaker claim only touches last_seen (see URL_KINDS).

    extra: similarity, site and published of a 'near' URL (NULL for the other kinds).
    """
    extra = extra or {"similarity": None, "site": None, "published": None}
    held = db.execute("SELECT kind FROM article_urls WHERE url = ?", [key]).fetchone()
    if held is None:
        db.execute(
            _INSERT_URL,
            {"url": key, "id": article_id, "kind": kind, "now": now, **extra},
        )
    elif URL_KINDS.index(kind) >= URL_KINDS.index(held[0]):
        db.execute(
            "UPDATE article_urls SET article_id = :id, kind = :kind, last_seen = max(last_seen, :now),"
            " similarity = :similarity, site = :site, published = :published WHERE url = :url",
            {"url": key, "id": article_id, "kind": kind, "now": now, **extra},
        )
    else:
        db.execute("UPDATE article_urls SET last_seen = max(last_seen, ?) WHERE url = ?", [now, key])


_INSERT_URL = (
    "INSERT INTO article_urls (url, article_id, kind, first_seen, last_seen, similarity, site, published)"
    " VALUES (:url, :id, :kind, :now, :now, :similarity, :site, :published)"
)


def _signed64(value: int) -> int:
    """An unsigned 64-bit value as the signed integer SQLite can hold."""
    return value - (1 << 64) if value >= 1 << 63 else value
