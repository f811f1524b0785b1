"""Read-only views of near-duplicate stories: the members of one story, and the list of stories.

Input: a database path (or an open read-only connection) and filters. Output: plain dicts; the CLI
formats. Settings: none.

A story is one stored article with the URLs linked to it as near duplicates (article_urls kind
'near', dedupe.near: link), plus, in dedupe.near: group, every row sharing its story_id. Its key is
coalesce(story_id, id). Its first publisher is the member with the earliest publication date,
else (no member has one) the earliest first_seen.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

# Every member of the stories of more than one member: rows in a group, and the near URLs
# linked to a row. similarity is NULL for a row (it is the story, or a grouped article).
_MEMBERS_SQL = """
SELECT coalesce(a.story_id, a.id) AS story, a.id AS article_id, 'article' AS kind, a.url, a.site,
       a.published, a.first_seen, NULL AS similarity, a.title
FROM articles a
WHERE {rows}
UNION ALL
SELECT coalesce(a.story_id, a.id), a.id, 'near', u.url, u.site, u.published, u.first_seen,
       u.similarity, a.title
FROM article_urls u JOIN articles a ON a.id = u.article_id
WHERE u.kind = 'near' AND {near}
ORDER BY 1, 2
"""


def has_stories(conn: sqlite3.Connection) -> bool:
    """Whether the database has the story columns (schema 7): a read-only reader cannot migrate."""
    return any(row[1] == "story_id" for row in conn.execute("PRAGMA table_info(articles)"))


def story_members(conn: sqlite3.Connection, article_id: int) -> list[dict[str, Any]]:
    """The members of the story article_id belongs to (itself included), first publisher first."""
    if not has_stories(conn):
        return []
    found = conn.execute("SELECT coalesce(story_id, id) FROM articles WHERE id = ?", [article_id]).fetchone()
    if found is None:
        return []
    story = int(found[0])
    rows = "coalesce(a.story_id, a.id) = :story"
    conn.row_factory = sqlite3.Row
    members = [dict(r) for r in conn.execute(_MEMBERS_SQL.format(rows=rows, near=rows), {"story": story})]
    return sorted(members, key=_publication_order)


def list_stories(
    conn: sqlite3.Connection, *, sites: tuple[str, ...] = (), since: str | None = None, min_size: int = 2
) -> list[dict[str, Any]]:
    """Stories of at least min_size members, biggest first.

    sites: only stories with a member on one of these sites. since: only stories with a member
    first seen on or after this day (YYYY-MM-DD).
    """
    if not has_stories(conn):
        return []
    conn.row_factory = sqlite3.Row
    rows = (dict(row) for row in conn.execute(STORY_MEMBERS_SQL))
    return summarise_stories(rows, sites=sites, since=since, min_size=min_size)


def summarise_stories(
    rows: Iterable[dict[str, Any]], *, sites: tuple[str, ...], since: str | None, min_size: int
) -> list[dict[str, Any]]:
    """list_stories() of the rows STORY_MEMBERS_SQL gave (on either backend; times as ISO text)."""
    members: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        members.setdefault(row["story"], []).append(row)
    stories = [_summary(story, group) for story, group in members.items() if len(group) >= min_size]
    if sites:
        stories = [s for s in stories if set(sites) & set(s["sites"])]
    if since:
        stories = [s for s in stories if (s["last_seen"] or "") >= since]
    return sorted(stories, key=lambda s: (-s["members"], s["story"]))


# The rows that are in a story of two or more (a group, or a row with near URLs), found by id
# (the story_id index, article_urls' small rows): a scan of articles would read every text.
_IN_A_STORY = (
    "a.id IN (SELECT article_id FROM article_urls WHERE kind = 'near'"
    " UNION SELECT id FROM articles WHERE story_id IS NOT NULL)"
)
# The sites of a row's story, as a JSON array: the row's, its near URLs', its group's (export).
STORY_SITES_SQL = (
    "(SELECT json_group_array(s) FROM (SELECT a.site AS s"
    " UNION SELECT u.site FROM article_urls u WHERE u.article_id = a.id AND u.kind = 'near'"
    " UNION SELECT b.site FROM articles b WHERE a.story_id IS NOT NULL AND b.story_id = a.story_id)"
    " WHERE s IS NOT NULL)"
)
# Every member of every story of two or more (rows in a group, near URLs), SQL both engines read.
STORY_MEMBERS_SQL = _MEMBERS_SQL.format(rows=_IN_A_STORY, near="TRUE")
# STORY_SITES_SQL as a JSON value, without its three-way UNION for the rows that are their own story
# and have no near URLs (most rows): the UNION's temporary B-tree per row was a sixth of `export`.
STORY_SITES_JSON_SQL = (
    "CASE WHEN a.story_id IS NULL AND a.site IS NOT NULL AND NOT EXISTS (SELECT 1 FROM article_urls u"
    " WHERE u.article_id = a.id AND u.kind = 'near') THEN json_array(a.site)"
    f" ELSE json({STORY_SITES_SQL}) END"
)


def _summary(story: int, members: list[dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(members, key=_publication_order)
    first = ordered[0]
    similarities = [m["similarity"] for m in members if m["similarity"] is not None]
    return {
        "story": story,
        "title": next((m["title"] for m in members if m["article_id"] == story), first["title"]),
        "members": len(members),
        "rows": len({m["article_id"] for m in members}),
        "first_site": first["site"],
        "first_url": first["url"],
        "first_published": first["published"],
        "min_similarity": min(similarities) if similarities else None,
        "sites": sorted({m["site"] for m in members if m["site"]}),
        "last_seen": max(m["first_seen"] or "" for m in members),
    }


def _publication_order(member: dict[str, Any]) -> tuple[int, str, str]:
    """Earliest publication date first; members without one after them, by first_seen."""
    published = member["published"]
    return (0, published, member["first_seen"] or "") if published else (1, member["first_seen"] or "", "")
