"""Near-duplicate steps that go through several index functions, written once for both backends.

Input: a backend's index module (store/near.py on SQLite, store/pg/near.py on PostgreSQL: each
defines NearOps' functions over its own connection), the connection and the mode. Output: what the
module's functions write. Settings: dedupe.near and dedupe.near_threshold, passed in.
- rebuild(): `scraper dedupe --rebuild`: every article's anchors and stories again, oldest first;
- recheck_story(): a stored row got a new text (a version): its anchors, near URLs and story.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from ..dedupe import near_anchors
from .near_match import REBUILD_BATCH, links

_REBUILDING = "cannot rebuild the near-duplicate index"


class NearOps(Protocol):
    """The functions both index modules define; `db` is the backend's connection."""

    def transaction(self, db: Any, doing: str) -> AbstractContextManager[None]: ...
    def lock_anchors(self, db: Any, anchors: Sequence[int] | None) -> None: ...
    def find_near(
        self, db: Any, anchors: Sequence[int], threshold: float, *, exclude: int = -1
    ) -> tuple[int, float] | None: ...
    def adds_text(self, db: Any, anchors: Sequence[int] | None, match: int) -> bool: ...
    def stored_anchors(self, db: Any, article_id: int) -> list[int]: ...
    def write_anchors(
        self, db: Any, article_id: int, anchors: Sequence[int] | None, *, fresh: bool = False
    ) -> None: ...
    def delete_anchors(self, db: Any, article_id: int | None = None) -> None: ...
    def set_anchor_count(self, db: Any, article_id: int, count: int) -> None: ...
    def reset_stories(self, db: Any) -> None: ...
    def article_ids(self, db: Any) -> list[int]: ...
    def article_texts(self, db: Any, ids: list[int]) -> list[tuple[int, str | None]]: ...
    def join_story(self, db: Any, article_id: int, match: int) -> int: ...
    def leave_story(self, db: Any, article_id: int) -> None: ...
    def story_of(self, db: Any, article_id: int) -> int | None: ...
    def merge_into(self, db: Any, article_id: int, match: tuple[int, float]) -> None: ...


def rebuild(
    ops: NearOps, db: Any, near: str, threshold: float, on_progress: Callable[[int, int], None] | None
) -> dict[str, int]:
    """Recompute every article's anchors and stories, oldest row first (`scraper dedupe --rebuild`).

    A database from before schema 7 has none. link: a row that is a near-duplicate of an older
    row, and does not hold much more text (adds_text), is merged into it (its URLs become kind
    'near' of the older row, its versions and frontier rows move there, the row goes); otherwise,
    and in group mode, it joins the older row's story; off: anchors are dropped.
    Commits every REBUILD_BATCH articles. Returns counts: articles, indexed, linked, grouped.
    on_progress(done, total) is called after each batch.
    """
    with ops.transaction(db, _REBUILDING):
        ops.delete_anchors(db)
        ops.reset_stories(db)
    ids = ops.article_ids(db)
    counts = {"articles": len(ids), "indexed": 0, "linked": 0, "grouped": 0}
    for start in range(0, len(ids), REBUILD_BATCH):
        with ops.transaction(db, _REBUILDING):
            for article_id, text in ops.article_texts(db, ids[start : start + REBUILD_BATCH]):
                _rebuild_one(ops, db, article_id, text or "", near, threshold, counts)
        if on_progress is not None:
            on_progress(min(start + REBUILD_BATCH, len(ids)), len(ids))
    return counts


def _rebuild_one(
    ops: NearOps, db: Any, article_id: int, text: str, near: str, threshold: float, counts: dict[str, int]
) -> None:
    if near == "off":
        return
    anchors = near_anchors(text)
    ops.lock_anchors(db, anchors)
    match = ops.find_near(db, anchors, threshold, exclude=article_id)
    # as on write (store.articles._save): a row with much more text than its story stays a row
    if match is not None and links(near, match, ops.adds_text(db, anchors, match[0])):
        ops.merge_into(db, article_id, match)
        counts["linked"] += 1
        return
    ops.write_anchors(db, article_id, anchors, fresh=True)
    ops.set_anchor_count(db, article_id, len(anchors))
    counts["indexed"] += 1
    if match is not None:
        ops.join_story(db, article_id, match[0])
        counts["grouped"] += 1


def recheck_story(
    ops: NearOps,
    db: Any,
    article_id: int,
    anchors: Sequence[int] | None,
    near: str,
    threshold: float,
    recheck_urls: Callable[[list[int]], None],
) -> None:
    """A new version of a stored article: replace its anchors and re-check its story.

    The row stays (a version is never a near-duplicate); in group mode it joins the story its new
    text matches, or leaves its story when the new text matches none. Its near URLs, linked for
    the old text, follow that text's story: recheck_urls(old anchors).
    """
    old = ops.stored_anchors(db, article_id)
    ops.write_anchors(db, article_id, anchors)
    if near == "off":
        return
    recheck_urls(old)
    if near != "group":
        return
    match = ops.find_near(db, anchors, threshold, exclude=article_id) if anchors else None
    if match is None:
        ops.leave_story(db, article_id)
        return
    mine, theirs = ops.story_of(db, article_id), ops.story_of(db, match[0])
    if mine is None or mine != theirs:
        ops.join_story(db, article_id, match[0])
