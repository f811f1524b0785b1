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
from collections.abc import Sequence

import sqlite_utils

from ..dedupe import NEAR_MIN_ANCHORS, near_similarity

# An anchor shared by more articles than this is boilerplate (a template line, a stock phrase):
# it is not counted in the lookup, which keeps a lookup's cost bounded however big the corpus.
NEAR_POSTINGS_CAP = 500
# Candidates (most shared anchors first) verified against their full anchor list.
NEAR_CANDIDATES = 5

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


def write_anchors(db: sqlite_utils.Database, article_id: int, anchors: Sequence[int] | None) -> None:
    """Replace an article's anchors in the index and its anchor_count (None: not indexed)."""
    db.execute("DELETE FROM near_anchors WHERE article_id = ?", [article_id])
    if anchors is None:
        db.execute("UPDATE articles SET anchor_count = NULL WHERE id = ?", [article_id])
        return
    db.conn.executemany(
        "INSERT OR IGNORE INTO near_anchors (anchor, article_id) VALUES (?, ?)",
        [(anchor, article_id) for anchor in anchors],
    )
    db.execute("UPDATE articles SET anchor_count = ? WHERE id = ?", [len(anchors), article_id])


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
