"""Which stored story a text is a near-duplicate of: the part of the lookup no database is in.

Input: the new text's anchors (dedupe.near_anchors()), a backend's candidate rows (most shared
anchors first) and a way to read a candidate's stored anchors. Output: the best match (id,
similarity) or None, and whether a match holds much more text than the story. Settings:
dedupe.near_threshold, passed in. store/near.py (SQLite) and store/pg/near.py (PostgreSQL) find
the candidates each in its own SQL and decide with these functions, so both pick the same story.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Sequence

from ..dedupe import NEAR_MIN_ANCHORS, near_similarity

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

# Articles re-indexed per transaction by a rebuild (`scraper dedupe --rebuild`): a crawl beside it
# waits at most one batch.
REBUILD_BATCH = 500

# A candidate: (article id, anchors shared with the new text, its anchor_count, the new text's
# anchors that were counted: those whose postings are under NEAR_POSTINGS_CAP).
Candidate = tuple[int, int, int | None, int]


def least_shared(threshold: float) -> float:
    """Shares below this fail best_match() whatever the stored count: a backend need not read them."""
    return threshold * NEAR_MIN_ANCHORS


def rank(
    postings: Iterable[int], usable: int, least: float, counts: Callable[[list[int]], dict[int, int | None]]
) -> list[Candidate]:
    """The NEAR_CANDIDATES ids sharing the most anchors (postings: one id per shared anchor), as Candidates.

    counts(ids) reads the stored anchor_count of ids, for the best-ranked ones only (a text shares
    an anchor or two with dozens of articles: reading every one's was a sixth of a lookup); an id
    without a row (counts() leaves it out) is passed over. Ids sharing fewer than `least` anchors
    are left out: they rank last, so the rows returned differ only by rows best_match() would pass
    over (at 1M articles, benchmarks/neardup_scale.py's corpus: 230 against 273 us of CPU a lookup
    on SQLite, the same answers to 2,000 lookups).
    """
    shared = collections.Counter(postings)
    ranked = sorted((i for i in shared if shared[i] >= least), key=lambda i: (-shared[i], i))
    found: list[Candidate] = []
    for start in range(0, len(ranked), NEAR_CANDIDATES):
        chunk = ranked[start : start + NEAR_CANDIDATES]
        stored = counts(chunk)
        found += [(i, shared[i], stored[i], usable) for i in chunk if i in stored]
        if len(found) >= NEAR_CANDIDATES:
            break
    return found[:NEAR_CANDIDATES]


def best_match(
    anchors: Sequence[int],
    candidates: Sequence[Candidate],
    threshold: float,
    stored: Callable[[int], list[int]],
) -> tuple[int, float] | None:
    """The candidate whose stored anchors (stored(id)) best contain or are contained in `anchors`.

    A candidate is verified only when its shares could reach threshold: an anchor skipped as common
    may be shared too, so it counts as shared before a candidate is given up.
    """
    best: tuple[int, float] | None = None
    for article_id, shared, count, usable in candidates:
        smaller = min(len(anchors), count or 0)
        if smaller < NEAR_MIN_ANCHORS or shared + len(anchors) - usable < threshold * smaller:
            continue
        similarity = near_similarity(list(anchors), stored(article_id))
        if similarity >= threshold and (best is None or similarity > best[1]):
            best = (article_id, similarity)
    return best


def adds_text(anchors: Sequence[int] | None, stored_count: int | None) -> bool:
    """Whether a near duplicate holds much more text than the stored story (NEAR_LINK_MAX_GROWTH)."""
    return len(anchors or ()) >= NEAR_LINK_MAX_GROWTH * max(stored_count or 0, 1)


def links(near: str, match: tuple[int, float] | None, grows: bool) -> bool:
    """Whether a new text that matched `match` becomes a 'near' URL of it (else a row of its own)."""
    return match is not None and near == "link" and not grows
