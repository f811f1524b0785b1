"""Discovery's old address, kept for callers: the code is scraper/crawl/discover.py (and links.py)."""

from .crawl.discover import (
    FeedItem,
    Link,
    Sitemap,
    SitemapUrl,
    extract_links,
    find_feeds,
    find_pagination,
    matches_scope,
    parse_feed,
    parse_sitemap,
    sitemaps_from_robots,
)

__all__ = [
    "FeedItem",
    "Link",
    "Sitemap",
    "SitemapUrl",
    "extract_links",
    "find_feeds",
    "find_pagination",
    "matches_scope",
    "parse_feed",
    "parse_sitemap",
    "sitemaps_from_robots",
]
