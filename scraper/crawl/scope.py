"""A source's scope: which URLs it may follow, which are articles, and the links a page adds.

Input: a Source (allow, deny, article_pattern, max_depth, start_urls) and the URLs a fetched page,
sitemap or feed names. Output: Scope tests, and new frontier Targets one level deeper. Settings:
sources.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..config import Source
from ..models import Target
from ..urls import canonicalize_url, fits


def matches_scope(url: str, allow: Sequence[re.Pattern[str]], deny: Sequence[re.Pattern[str]]) -> bool:
    """True when no deny pattern matches the URL and (allow is empty or an allow pattern matches)."""
    if any(pattern.search(url) for pattern in deny):
        return False
    return not allow or any(pattern.search(url) for pattern in allow)


class Scope:
    """A source's compiled allow/deny/article patterns; allow defaults to its start URLs' hosts."""

    def __init__(self, source: Source) -> None:
        self.source = source
        allow = source.allow or tuple(
            "^https?://" + re.escape(_netloc(url)) + "(?:[/?]|$)" for url in source.start_urls
        )
        self.allow = [re.compile(p) for p in allow]
        self.deny = [re.compile(p) for p in source.deny]
        self.article = re.compile(source.article_pattern) if source.article_pattern else None

    def allows(self, url: str) -> bool:
        """Whether the source may follow url (allow and deny patterns)."""
        return matches_scope(url, self.allow, self.deny)

    def is_article_url(self, url: str) -> bool:
        """Whether url matches the source's article_pattern (never, without one)."""
        return self.article is not None and self.article.search(url) is not None

    def page_links(
        self,
        target: Target,
        *,
        feeds: Iterable[str],
        pagination: Iterable[str],
        links: Iterable[str],
        listing: bool,
    ) -> list[Target]:
        """A page's in-scope links as new Targets, one level deeper; a listing's pagination keeps its depth.

        A link longer than urls.MAX_URL_LENGTH (once canonical) is dropped: it cannot be stored.

        An article's "next post" link looks like pagination, but following it at the same depth
        would walk a whole blog archive: on articles it is an ordinary link.
        """
        deeper = target.depth + 1
        found: dict[str, Target] = {}
        for url in feeds:
            if self.allows(url):
                key = canonicalize_url(url)
                found.setdefault(key, Target(key, target.source, "feed", 0))
        for url in pagination if listing else ():
            if self.allows(url):
                key = canonicalize_url(url)
                found.setdefault(key, Target(key, target.source, "page", target.depth))
        if deeper <= self.source.max_depth:
            for url in links:
                if self.allows(url):
                    key = canonicalize_url(url)
                    found.setdefault(key, Target(key, target.source, "page", deeper))
        return [t for t in found.values() if t.url != target.url and fits(t.url)]

    def listed_pages(self, target: Target, urls: Iterable[str]) -> list[Target]:
        """The in-scope page URLs a sitemap or feed lists, as Targets at depth 1."""
        keys = (canonicalize_url(u) for u in urls if self.allows(u))
        return [Target(key, target.source, "page", 1) for key in keys if fits(key)]


def _netloc(url: str) -> str:
    return canonicalize_url(url).split("/")[2]
