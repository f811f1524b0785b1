"""Near-duplicate stories on PostgreSQL: the anchor index, the lookup, what a match does, the rebuild.

Input: a prepared row's anchors (dedupe.near_anchors()) and the mode. Output: rows in
`near_anchors` and `near_anchor_sets` (schema step `_near`), `articles.story_id` and `article_urls`
kind 'near'. Settings: dedupe.near (link, group, off) and dedupe.near_threshold, passed in.

The same answers as store/near.py on SQLite: the lookup counts, per stored article, the anchors it
shares with the new text over the anchors held by at most NEAR_POSTINGS_CAP articles, and
store/near_match.py ranks them and verifies the best NEAR_CANDIDATES. One table, probed by its
primary key, stands for SQLite's three and their Bloom filter (benchmarks/neardup_scale.py
--postgres measures it).

Workers at once: SQLite has one writer; here two workers storing copies of one story at once would
each look, find nothing, and insert two stories. So a worker takes lock_anchors() before it looks:
a transaction-scoped advisory lock per anchor bucket (the anchor's top 32 bits), in bucket order.
Two texts of one story share an anchor (their similarity is at least the threshold), so the
second waits for the first's commit and then finds its row. Texts sharing no anchor never wait
for each other; a row lock (SELECT ... FOR UPDATE) could not serve, since the row to lock is the
one that does not exist yet.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from typing import Any

from ...dedupe import NEAR_MIN_ANCHORS, pack_anchors, unpack_anchors
from .. import near_flow, near_match
from .db import Connection
from .db import transaction as transaction  # re-exported: part of near_flow.NearOps

# The first key of the near-duplicate advisory locks (pg_advisory_xact_lock(int, int)); the second
# is the anchor bucket. Any constant that no other two-key advisory lock of this program uses.
NEAR_LOCK_SPACE = 0x4E454152  # "NEAR"
# Anchors are 64-bit hashes: their top 32 bits name the bucket (an int4, the lock's second key).
_BUCKET_SHIFT = 32

# Each of the new text's anchors with at most NEAR_POSTINGS_CAP + 1 of its postings: one probe of the
# primary key per anchor; shares are counted and ranked in near_match.rank().
_POSTINGS_SQL = """
SELECT w.anchor, p.article_id FROM unnest(%(anchors)s::bigint[]) AS w(anchor)
CROSS JOIN LATERAL (
    SELECT n.article_id FROM near_anchors n WHERE n.anchor = w.anchor LIMIT %(cap)s + 1
) p
"""


def lock_anchors(conn: Connection, anchors: Sequence[int] | None) -> None:
    """Wait for, then hold until commit, the advisory lock of each anchor's bucket (in order: no deadlock)."""
    buckets = sorted({anchor >> _BUCKET_SHIFT for anchor in anchors or ()})
    if buckets:
        conn.execute(
            "SELECT count(pg_advisory_xact_lock(%s, b))"
            " FROM (SELECT b FROM unnest(%s::int[]) AS t(b) ORDER BY b) s",
            [NEAR_LOCK_SPACE, buckets],
        )


def find_near(
    conn: Connection, anchors: Sequence[int], threshold: float, *, exclude: int = -1
) -> tuple[int, float] | None:
    """The stored article whose text best matches `anchors` (id, similarity), if one reaches threshold.

    exclude: an article id never returned (the row being updated).
    """
    if len(anchors) < NEAR_MIN_ANCHORS:
        return None
    cap = near_match.NEAR_POSTINGS_CAP
    # planned each time (prepare=False): psycopg's prepared statement kept a plan made for a young
    # table (tens of ms a lookup) until autovacuum's ANALYZE; planning it costs about 0.1 ms
    postings = conn.execute(_POSTINGS_SQL, {"anchors": list(anchors), "cap": cap}, prepare=False).fetchall()
    held = collections.Counter(anchor for anchor, _ in postings)
    common = {anchor for anchor, count in held.items() if count > cap}
    usable = len(anchors) - len(common)
    # as SQLite's find_near(): the `least` cut only when every anchor counts (see near_match.rank)
    least = near_match.least_shared(threshold) if not common else 0.0
    shared = [i for anchor, i in postings if anchor not in common and i != exclude]

    sets: dict[int, bytes] = {}

    def counts(chunk: list[int]) -> dict[int, int | None]:
        # the candidates' anchors come along: best_match() reads them without a round trip each
        rows = conn.execute(_CANDIDATES_SQL, [chunk]).fetchall()
        sets.update((int(i), bytes(packed)) for i, _, packed in rows if packed is not None)
        return {int(i): count for i, count, _ in rows}

    def stored(article_id: int) -> list[int]:
        packed = sets.get(article_id)
        return stored_anchors(conn, article_id) if packed is None else unpack_anchors(packed)

    candidates = near_match.rank(shared, usable, least, counts)
    return near_match.best_match(anchors, candidates, threshold, stored)


_CANDIDATES_SQL = (
    "SELECT a.id, a.anchor_count, s.anchors FROM articles a"
    " LEFT JOIN near_anchor_sets s ON s.article_id = a.id WHERE a.id = ANY(%s)"
)


def stored_anchors(conn: Connection, article_id: int) -> list[int]:
    """An article's anchors as the index holds them ([] when it holds none)."""
    found = conn.execute(
        "SELECT anchors FROM near_anchor_sets WHERE article_id = %s", [article_id]
    ).fetchone()
    return [] if found is None else unpack_anchors(bytes(found[0]))


def adds_text(conn: Connection, anchors: Sequence[int] | None, match: int) -> bool:
    """Whether a near duplicate holds much more text than the stored story (near_match.adds_text)."""
    found = conn.execute("SELECT anchor_count FROM articles WHERE id = %s", [match]).fetchone()
    return near_match.adds_text(anchors, None if found is None else found[0])


def write_anchors(
    conn: Connection, article_id: int, anchors: Sequence[int] | None, *, fresh: bool = False
) -> None:
    """Replace an article's anchors in the index (None: not indexed); the caller sets anchor_count.

    fresh: the article has no anchors yet (just inserted): skip the delete.
    """
    if not fresh:
        delete_anchors(conn, article_id)
    if anchors:
        conn.execute(
            _WRITE_SQL, {"id": article_id, "set": pack_anchors(tuple(anchors)), "anchors": list(anchors)}
        )


# An article's anchor set and its index rows, in one statement (one round trip).
_WRITE_SQL = (
    "WITH s AS (INSERT INTO near_anchor_sets (article_id, anchors) VALUES (%(id)s, %(set)s))"
    " INSERT INTO near_anchors (anchor, article_id) SELECT unnest(%(anchors)s::bigint[]), %(id)s"
    " ON CONFLICT DO NOTHING"
)


def delete_anchors(conn: Connection, article_id: int | None = None) -> None:
    """Drop an article's anchors from the index (None: every article's)."""
    if article_id is None:
        conn.execute("DELETE FROM near_anchors")
        conn.execute("DELETE FROM near_anchor_sets")
        return
    conn.execute(
        "DELETE FROM near_anchors WHERE anchor = ANY(%s::bigint[]) AND article_id = %s",
        [stored_anchors(conn, article_id), article_id],
    )
    conn.execute("DELETE FROM near_anchor_sets WHERE article_id = %s", [article_id])


def join_story(conn: Connection, article_id: int, match: int) -> int:
    """Put article_id in match's story (store.near.join_story: the story's id is its first row's)."""
    found: Any = conn.execute("SELECT coalesce(story_id, id) FROM articles WHERE id = %s", [match]).fetchone()
    story = found[0]
    conn.execute("UPDATE articles SET story_id = %s WHERE id = %s AND story_id IS NULL", [story, match])
    conn.execute("UPDATE articles SET story_id = %s WHERE id = %s", [story, article_id])
    return int(story)


def leave_story(conn: Connection, article_id: int) -> None:
    """Take an article out of its story (its new text no longer matches the story)."""
    conn.execute("UPDATE articles SET story_id = NULL WHERE id = %s AND story_id IS NOT NULL", [article_id])


def story_of(conn: Connection, article_id: int) -> int | None:
    """An article's story_id (None: a story of one)."""
    found = conn.execute("SELECT story_id FROM articles WHERE id = %s", [article_id]).fetchone()
    return None if found is None or found[0] is None else int(found[0])


def rebuild(
    conn: Connection,
    near: str,
    threshold: float,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """near_flow.rebuild() on PostgreSQL; a crawl may write beside it (each article under lock_anchors()).

    Raises:
        StorageError: PostgreSQL failed.
    """
    from . import near as ops  # this module: the NearOps near_flow works through

    return near_flow.rebuild(ops, conn, near, threshold, on_progress)


def set_anchor_count(conn: Connection, article_id: int, count: int) -> None:
    """Record how many anchors an article has (articles.anchor_count)."""
    conn.execute("UPDATE articles SET anchor_count = %s WHERE id = %s", [count, article_id])


def reset_stories(conn: Connection) -> None:
    """Every row a story of one, with no anchors counted (the start of a rebuild)."""
    conn.execute(
        "UPDATE articles SET story_id = NULL, anchor_count = NULL"
        " WHERE story_id IS NOT NULL OR anchor_count IS NOT NULL"
    )


def article_ids(conn: Connection) -> list[int]:
    """Every article's id, oldest first."""
    return [int(row[0]) for row in conn.execute("SELECT id FROM articles ORDER BY id").fetchall()]


def article_texts(conn: Connection, ids: list[int]) -> list[tuple[int, str | None]]:
    """(id, text) of the given articles, by id."""
    rows = conn.execute("SELECT id, text FROM articles WHERE id = ANY(%s) ORDER BY id", [ids]).fetchall()
    return [(int(row[0]), row[1]) for row in rows]


def merge_into(conn: Connection, article_id: int, match: tuple[int, float]) -> None:
    """Fold a stored near-duplicate row into the story it matches (dedupe.near: link, on rebuild)."""
    target, similarity = match
    found: Any = conn.execute("SELECT site, published FROM articles WHERE id = %s", [article_id]).fetchone()
    conn.execute(
        "UPDATE article_urls SET article_id = %s, kind = 'near', similarity = %s, site = %s, published = %s"
        " WHERE article_id = %s",
        [target, round(similarity, 4), found[0], found[1], article_id],
    )
    conn.execute("UPDATE article_versions SET article_id = %s WHERE article_id = %s", [target, article_id])
    conn.execute("UPDATE frontier SET article_id = %s WHERE article_id = %s", [target, article_id])
    delete_anchors(conn, article_id)
    conn.execute("DELETE FROM articles WHERE id = %s", [article_id])
