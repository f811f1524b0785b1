"""Near-duplicate stories: the anchor index, the lookup, and what a match does.

Input: a prepared row's anchors (dedupe.near_anchors(), computed where the row is prepared) and
the mode. Output: rows in `near_anchors`, `articles.story_id` and `article_urls` kind 'near'.
Settings: dedupe.near (link, group, off) and dedupe.near_threshold, passed in by the caller.

The lookup counts, per stored article, the anchors it shares with the new text, skipping an
anchor held by more than NEAR_POSTINGS_CAP articles (a template line or a stock phrase: it names
no story); the best NEAR_CANDIDATES are then verified with dedupe.is_near_duplicate against their
full anchor lists. Runs inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import sqlite_utils

from ..dedupe import NEAR_MIN_ANCHORS, near_anchors, near_similarity
from .db import transaction

# An anchor shared by more articles than this is boilerplate (a template line, a stock phrase):
# it is not counted in the lookup, which keeps a lookup's cost bounded however big the corpus.
NEAR_POSTINGS_CAP = 500
# Candidates (most shared anchors first) verified against their full anchor list.
NEAR_CANDIDATES = 5

# In link mode a near duplicate with this many times the stored text's anchors or more is not linked
# but stored as its own row in the same story: the full article that comes after its teaser (a
# 3-paragraph teaser of an 8-paragraph article: 2.7 times) must not be lost. A corrected copy with
# one paragraph more (about 1.15 times) or an outlet's editor's note stays a link.
NEAR_LINK_MAX_GROWTH = 1.5

# Shared anchors per stored article, over the new text's anchors whose posting lists are short.
_LOOKUP_SQL = """
WITH wanted(anchor) AS (SELECT value FROM json_each(:anchors)),
usable(anchor) AS (
    SELECT anchor FROM wanted
    WHERE (SELECT count(*) FROM (SELECT 1 FROM near_anchors n WHERE n.anchor = wanted.anchor
                                 LIMIT :cap + 1)) <= :cap
)
SELECT n.article_id, count(*) AS shared, a.anchor_count, (SELECT count(*) FROM usable) AS usable
FROM usable JOIN near_anchors n ON n.anchor = usable.anchor
JOIN articles a ON a.id = n.article_id
WHERE n.article_id != :exclude
GROUP BY n.article_id
ORDER BY shared DESC, n.article_id
LIMIT :limit
"""


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
        "cap": NEAR_POSTINGS_CAP,
        "exclude": exclude,
        "limit": NEAR_CANDIDATES,
    }
    best: tuple[int, float] | None = None
    for article_id, shared, count, usable in db.execute(_LOOKUP_SQL, params).fetchall():
        smaller = min(len(anchors), count or 0)
        # An anchor skipped as common may be shared too: count it as shared before giving up.
        if smaller < NEAR_MIN_ANCHORS or shared + len(anchors) - usable < threshold * smaller:
            continue
        theirs = [
            row[0] for row in db.execute("SELECT anchor FROM near_anchors WHERE article_id = ?", [article_id])
        ]
        similarity = near_similarity(list(anchors), theirs)
        if similarity >= threshold and (best is None or similarity > best[1]):
            best = (article_id, similarity)
    return best


def adds_text(db: sqlite_utils.Database, anchors: Sequence[int] | None, match: int) -> bool:
    """Whether a near duplicate holds much more text than the stored story (NEAR_LINK_MAX_GROWTH)."""
    stored = db.execute("SELECT anchor_count FROM articles WHERE id = ?", [match]).fetchone()[0] or 0
    return len(anchors or ()) >= NEAR_LINK_MAX_GROWTH * max(stored, 1)


def write_anchors(
    db: sqlite_utils.Database, article_id: int, anchors: Sequence[int] | None, *, fresh: bool = False
) -> None:
    """Replace an article's anchors in the index (None: not indexed).

    The caller writes articles.anchor_count (len(anchors), or NULL) with the row: a separate
    UPDATE of `articles` would re-index the row's title and text in FTS (its update trigger).
    fresh: the article has no anchors yet (just inserted): skip the delete.
    """
    if not fresh:
        db.execute("DELETE FROM near_anchors WHERE article_id = ?", [article_id])
    if anchors is not None:
        db.conn.executemany(
            "INSERT OR IGNORE INTO near_anchors (anchor, article_id) VALUES (?, ?)",
            [(anchor, article_id) for anchor in anchors],
        )


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


# Articles re-indexed per transaction by rebuild(): a crawl beside it waits at most one batch.
REBUILD_BATCH = 500


def rebuild(
    db: sqlite_utils.Database,
    near: str,
    threshold: float,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Recompute every article's anchors and stories, oldest row first (`scraper dedupe --rebuild`).

    A database from before schema 7 has none. link: a row that is a near-duplicate of an older
    row, and does not hold much more text (adds_text), is merged into it (its URLs become kind
    'near' of the older row, its versions and frontier rows move there, the row goes); otherwise,
    and in group mode, it joins the older row's story; off: anchors are dropped.
    Commits every REBUILD_BATCH articles. Returns counts: articles, indexed, linked, grouped.
    on_progress(done, total) is called after each batch.

    Raises:
        StorageError: SQLite failed.
    """
    with transaction(db, "cannot rebuild the near-duplicate index"):
        db.execute("DELETE FROM near_anchors")
        db.execute(
            "UPDATE articles SET story_id = NULL, anchor_count = NULL"
            " WHERE story_id IS NOT NULL OR anchor_count IS NOT NULL"
        )
    ids = [row[0] for row in db.execute("SELECT id FROM articles ORDER BY id")]
    counts = {"articles": len(ids), "indexed": 0, "linked": 0, "grouped": 0}
    for start in range(0, len(ids), REBUILD_BATCH):
        chunk = ids[start : start + REBUILD_BATCH]
        marks = ", ".join("?" for _ in chunk)
        rows = db.execute(
            f"SELECT id, text FROM articles WHERE id IN ({marks}) ORDER BY id", chunk
        ).fetchall()
        with transaction(db, "cannot rebuild the near-duplicate index"):
            for article_id, text in rows:
                _rebuild_one(db, article_id, text or "", near, threshold, counts)
        if on_progress is not None:
            on_progress(min(start + REBUILD_BATCH, len(ids)), len(ids))
    return counts


def _rebuild_one(
    db: sqlite_utils.Database, article_id: int, text: str, near: str, threshold: float, counts: dict[str, int]
) -> None:
    if near == "off":
        return
    anchors = near_anchors(text)
    match = find_near(db, anchors, threshold, exclude=article_id)
    # as on write (store.articles._save): a row with much more text than its story stays a row
    if match is not None and near == "link" and not adds_text(db, anchors, match[0]):
        merge_into(db, article_id, match)
        counts["linked"] += 1
        return
    write_anchors(db, article_id, anchors, fresh=True)
    db.execute("UPDATE articles SET anchor_count = ? WHERE id = ?", [len(anchors), article_id])
    counts["indexed"] += 1
    if match is not None:
        join_story(db, article_id, match[0])
        counts["grouped"] += 1


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
    db.execute("DELETE FROM near_anchors WHERE article_id = ?", [article_id])
    db.execute("DELETE FROM articles WHERE id = ?", [article_id])
