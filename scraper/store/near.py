"""Near-duplicate stories: the anchor index, the lookup, and what a match does.

Input: a prepared row's anchors (dedupe.near_anchors(), computed where the row is prepared) and
the mode. Output: rows in `near_anchors` (and the two tables in front of it, see NEAR_TABLES),
`articles.story_id` and `article_urls` kind 'near'.
Settings: dedupe.near (link, group, off) and dedupe.near_threshold, passed in by the caller.

The lookup counts, per stored article, the anchors it shares with the new text, skipping an
anchor held by more than NEAR_POSTINGS_CAP articles (a template line or a stock phrase: it names
no story); the best NEAR_CANDIDATES are then verified with dedupe.is_near_duplicate against their
full anchor lists. `near_anchors` is probed only for the anchors its filter may hold
(store/near_filter.py). Runs inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import sqlite_utils

from ..dedupe import NEAR_MIN_ANCHORS, pack_anchors, unpack_anchors
from . import near_filter, near_flow, near_match
from .db import transaction as transaction  # re-exported: part of near_flow.NearOps
from .near_match import NEAR_CANDIDATES, NEAR_POSTINGS_CAP

# The anchor index is three tables (schema 10) holding each (anchor, article_id) row in exactly one,
# and near_anchor_sets, each indexed article's anchors in one row (to verify, and to delete).
# New anchors go into FRESH, small enough to stay in the page cache; settle() moves them, in anchor
# order, to RECENT, and RECENT's rows, one anchor range at a time, to MAIN. MAIN (~22 rows an
# article: 374 MB at 1M articles) is so written in sorted runs, each page once a run, instead of at
# ~22 random places per article, which dirtied ~22 pages an article and made check + insert fall
# to ~1,000/s at 1M articles (benchmarks/neardup_scale.py). A lookup reads all three.
MAIN, RECENT, FRESH = near_filter.MAIN, "near_anchors_recent", "near_anchors_fresh"
NEAR_TABLES = (MAIN, RECENT, FRESH)
# FRESH's rows move to RECENT once there are this many (~4,500 articles, ~2 MB): a batch of 500
# articles dirties at most FRESH's few hundred pages.
NEAR_FRESH_ROWS = 100_000
# Past this many rows in RECENT (~90,000 articles, ~35 MB, in the writer's 128 MB page cache), each
# move from FRESH is followed by a move of one anchor range of RECENT to MAIN. The bigger RECENT,
# the more rows a move brings to each page of MAIN it rewrites.
NEAR_RECENT_ROWS = 2_000_000
# A move from RECENT to MAIN takes the rows of one anchor range, 1/NEAR_MERGE_SLICES of the 64-bit
# space (anchors are hashes: evenly spread), so it rewrites about that share of MAIN's pages and
# holds the write lock that much less long than moving all of RECENT at once.
NEAR_MERGE_SLICES = 16
# settle() counts FRESH's rows when a written article's id is a multiple of this: a count of
# 100,000 rows is ~0.1 ms, too much for every article and nothing once every 64.
NEAR_SETTLE_EVERY = 64
_ANCHOR_SPACE = 1 << 64

# Shared anchors per stored article, over the new text's anchors whose posting lists are short.
# `usable` is read four times: MATERIALIZED computes it once.
_LOOKUP_SQL = f"""
WITH wanted(anchor) AS (SELECT value FROM json_each(:anchors)),
usable(anchor) AS MATERIALIZED (
    SELECT anchor FROM wanted
    WHERE {
    " + ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM {t} n WHERE n.anchor = wanted.anchor LIMIT :cap + 1))"
        for t in NEAR_TABLES
    )
} <= :cap
),
hits(article_id) AS (
    {
    " UNION ALL ".join(
        f"SELECT n.article_id FROM usable JOIN {t} n ON n.anchor = usable.anchor" for t in NEAR_TABLES
    )
}
)
SELECT h.article_id, count(*) AS shared, a.anchor_count, (SELECT count(*) FROM usable) AS usable
FROM hits h JOIN articles a ON a.id = h.article_id
WHERE h.article_id != :exclude
GROUP BY h.article_id
ORDER BY shared DESC, h.article_id
LIMIT :limit
"""


# The new text's postings in the three tables, at most NEAR_POSTINGS_CAP + 1 of them. Fewer means
# no anchor is over the cap: the shares are counted from these rows, with one probe per anchor and
# table instead of _LOOKUP_SQL's two (its cap counts were half of a lookup, and half the time of
# check + insert at 100k articles). More: _LOOKUP_SQL sorts it out. MAIN is probed only for the
# anchors its filter may hold (:main, store/near_filter.py).
_POSTINGS_SQL = (
    " UNION ALL ".join(
        f"SELECT n.article_id FROM json_each(:{'main' if t == MAIN else 'anchors'}) w"
        f" JOIN {t} n ON n.anchor = w.value"
        for t in NEAR_TABLES
    )
    + " LIMIT :cap + 1"
)


def find_near(
    db: sqlite_utils.Database, anchors: Sequence[int], threshold: float, *, exclude: int = -1
) -> tuple[int, float] | None:
    """The stored article whose text best matches `anchors` (id, similarity), if one reaches threshold.

    exclude: an article id never returned (the row being updated).
    """
    if len(anchors) < NEAR_MIN_ANCHORS:
        return None
    params = {
        "anchors": json.dumps(list(anchors)),
        "main": json.dumps(near_filter.keep(db, anchors)),
        "cap": NEAR_POSTINGS_CAP,
        "exclude": exclude,
        "limit": NEAR_CANDIDATES,
    }
    postings = db.execute(_POSTINGS_SQL, params).fetchall()
    if len(postings) > NEAR_POSTINGS_CAP:
        candidates = db.execute(_LOOKUP_SQL, params).fetchall()
    else:
        least = near_match.least_shared(threshold)
        candidates = _rank(db, [row[0] for row in postings if row[0] != exclude], len(anchors), least)
    return near_match.best_match(anchors, candidates, threshold, lambda i: stored_anchors(db, i))


def _rank(
    db: sqlite_utils.Database, postings: list[int], usable: int, least: float = 0.0
) -> list[near_match.Candidate]:
    """What _LOOKUP_SQL returns when every anchor is usable (near_match.rank)."""

    def counts(chunk: list[int]) -> dict[int, int | None]:
        marks = ", ".join("?" for _ in chunk)
        return dict(
            db.execute(f"SELECT id, anchor_count FROM articles WHERE id IN ({marks})", chunk).fetchall()
        )

    return near_match.rank(postings, usable, least, counts)


def stored_anchors(db: sqlite_utils.Database, article_id: int) -> list[int]:
    """An article's anchors as the index holds them ([] when it holds none)."""
    found = db.execute("SELECT anchors FROM near_anchor_sets WHERE article_id = ?", [article_id]).fetchone()
    return [] if found is None else unpack_anchors(found[0])


def adds_text(db: sqlite_utils.Database, anchors: Sequence[int] | None, match: int) -> bool:
    """Whether a near duplicate holds much more text than the stored story (near_match.adds_text)."""
    stored = db.execute("SELECT anchor_count FROM articles WHERE id = ?", [match]).fetchone()[0]
    return near_match.adds_text(anchors, stored)


def write_anchors(
    db: sqlite_utils.Database, article_id: int, anchors: Sequence[int] | None, *, fresh: bool = False
) -> None:
    """Replace an article's anchors in the index (None: not indexed).

    The caller writes articles.anchor_count (len(anchors), or NULL) with the row: a separate
    UPDATE of `articles` would re-index the row's title and text in FTS (its update trigger).
    fresh: the article has no anchors yet (just inserted): skip the delete.
    """
    if not fresh:
        delete_anchors(db, article_id)
    if anchors:
        db.execute(
            "INSERT INTO near_anchor_sets (article_id, anchors) VALUES (?, ?)",
            [article_id, pack_anchors(tuple(anchors))],
        )
        db.conn.executemany(
            f"INSERT OR IGNORE INTO {FRESH} (anchor, article_id) VALUES (?, ?)",
            [(anchor, article_id) for anchor in anchors],
        )
    if article_id % NEAR_SETTLE_EVERY == 0:
        settle(db)


def delete_anchors(db: sqlite_utils.Database, article_id: int | None = None) -> None:
    """Drop an article's anchors from the index (None: every article's)."""
    if article_id is None:
        for table in (*NEAR_TABLES, "near_anchor_sets"):
            db.execute(f"DELETE FROM {table}")
        near_filter.clear(db)
        return
    rows = [(anchor, article_id) for anchor in stored_anchors(db, article_id)]
    for table in NEAR_TABLES:
        db.conn.executemany(f"DELETE FROM {table} WHERE anchor = ? AND article_id = ?", rows)
    db.execute("DELETE FROM near_anchor_sets WHERE article_id = ?", [article_id])


def settle(db: sqlite_utils.Database) -> None:
    """Move FRESH's rows to RECENT when it is full, then one anchor range of RECENT to MAIN when that is.

    Runs inside the caller's transaction: a kill leaves every row where it was before the move.
    """
    if _rows(db, FRESH) < NEAR_FRESH_ROWS:
        return
    _move(db, FRESH, RECENT)
    if _rows(db, RECENT) <= NEAR_RECENT_ROWS:
        return
    # The range holding an anchor of RECENT's oldest article: every article's rows reach MAIN in turn.
    (anchor,) = db.execute(
        f"SELECT anchor FROM {RECENT} WHERE article_id = (SELECT min(article_id) FROM {RECENT}) LIMIT 1"
    ).fetchone()
    width = _ANCHOR_SPACE // NEAR_MERGE_SLICES
    low = -(_ANCHOR_SPACE // 2) + (anchor + _ANCHOR_SPACE // 2) // width * width
    _move(db, RECENT, MAIN, (low, low + width - 1))


def _rows(db: sqlite_utils.Database, table: str) -> int:
    return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _move(db: sqlite_utils.Database, source: str, target: str, span: tuple[int, int] | None = None) -> None:
    """Move source's rows (those with an anchor in span, inclusive) to target, in anchor order."""
    where, params = ("WHERE anchor BETWEEN ? AND ?", list(span)) if span else ("", [])
    db.execute(
        f"INSERT OR IGNORE INTO {target} (anchor, article_id)"
        f" SELECT anchor, article_id FROM {source} {where} ORDER BY anchor, article_id",
        params,
    )
    if target == MAIN:
        moved = db.execute(f"SELECT DISTINCT anchor FROM {source} {where}", params)
        near_filter.add(db, (row[0] for row in moved))
    db.execute(f"DELETE FROM {source} {where}", params)


def join_story(db: sqlite_utils.Database, article_id: int, match: int) -> int:
    """Put article_id in match's story (dedupe.near: group); returns the story id.

    A story's id is the id of the row that started it; that row gets it too, so every row of a
    story of two or more has story_id set, and NULL means a story of one.
    """
    story = db.execute("SELECT coalesce(story_id, id) FROM articles WHERE id = ?", [match]).fetchone()[0]
    db.execute("UPDATE articles SET story_id = ? WHERE id = ? AND story_id IS NULL", [story, match])
    db.execute("UPDATE articles SET story_id = ? WHERE id = ?", [story, article_id])
    return int(story)


def leave_story(db: sqlite_utils.Database, article_id: int) -> None:
    """Take an article out of its story (its new text no longer matches the story)."""
    db.execute("UPDATE articles SET story_id = NULL WHERE id = ? AND story_id IS NOT NULL", [article_id])


def rebuild(
    db: sqlite_utils.Database,
    near: str,
    threshold: float,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """near_flow.rebuild() on SQLite (`scraper dedupe --rebuild`).

    Raises:
        StorageError: SQLite failed.
    """
    from . import near as ops  # this module: the NearOps near_flow works through

    return near_flow.rebuild(ops, db, near, threshold, on_progress)


def lock_anchors(db: sqlite_utils.Database, anchors: Sequence[int] | None) -> None:
    """Nothing to lock: SQLite has one writer at a time (store/pg/near.py locks)."""


def set_anchor_count(db: sqlite_utils.Database, article_id: int, count: int) -> None:
    """Record how many anchors an article has (articles.anchor_count)."""
    db.execute("UPDATE articles SET anchor_count = ? WHERE id = ?", [count, article_id])


def reset_stories(db: sqlite_utils.Database) -> None:
    """Every row a story of one, with no anchors counted (the start of a rebuild)."""
    db.execute(
        "UPDATE articles SET story_id = NULL, anchor_count = NULL"
        " WHERE story_id IS NOT NULL OR anchor_count IS NOT NULL"
    )


def article_ids(db: sqlite_utils.Database) -> list[int]:
    """Every article's id, oldest first."""
    return [row[0] for row in db.execute("SELECT id FROM articles ORDER BY id")]


def article_texts(db: sqlite_utils.Database, ids: list[int]) -> list[tuple[int, str | None]]:
    """(id, text) of the given articles, by id."""
    marks = ", ".join("?" for _ in ids)
    return db.execute(f"SELECT id, text FROM articles WHERE id IN ({marks}) ORDER BY id", ids).fetchall()


def story_of(db: sqlite_utils.Database, article_id: int) -> int | None:
    """An article's story_id (None: a story of one)."""
    found = db.execute("SELECT story_id FROM articles WHERE id = ?", [article_id]).fetchone()
    return None if found is None or found[0] is None else int(found[0])


def merge_into(db: sqlite_utils.Database, article_id: int, match: tuple[int, float]) -> None:
    """Fold a stored near-duplicate row into the story it matches (dedupe.near: link, on rebuild)."""
    target, similarity = match
    site, published = db.execute("SELECT site, published FROM articles WHERE id = ?", [article_id]).fetchone()
    db.execute(
        "UPDATE article_urls SET article_id = ?, kind = 'near', similarity = ?, site = ?, published = ?"
        " WHERE article_id = ?",
        [target, round(similarity, 4), site, published, article_id],
    )
    db.execute("UPDATE article_versions SET article_id = ? WHERE article_id = ?", [target, article_id])
    db.execute("UPDATE frontier SET article_id = ? WHERE article_id = ?", [target, article_id])
    delete_anchors(db, article_id)
    db.execute("DELETE FROM articles WHERE id = ?", [article_id])
