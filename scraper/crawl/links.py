"""Links of an HTML page: the links to follow, the next-page links, the feeds it announces.

Input: HTML text (or an lxml tree already parsed) with the URL it came from; robots.txt text.
Output: absolute http(s) URLs without fragments, in document order, deduplicated. Settings: none.
Pure parsing, no fetching; sitemaps and feeds are crawl/discover.py's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree

# <link rel=alternate> types that announce a feed. Plain application/json also names WordPress's REST
# API (309 of 318 such links in shared/data/wcxb-dev point at /wp-json/), so it needs FEED_HINT_RE too.
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
FEED_HINT_RE = re.compile(r"feed", re.IGNORECASE)
# Whole link texts that mean "next page" (after trimming arrows): English, German, French, Spanish,
# Italian, Portuguese, Dutch, Russian, Chinese, Japanese; "›" and "»" alone are the usual pager arrows.
NEXT_TEXT_RE = re.compile(
    r"^(?:next(?: page)?|older(?: posts| entries)?|nächste(?: seite)?|weiter|suivant(?:e)?|page suivante"
    r"|siguiente|página siguiente|successiva|avanti|próxima|volgende|следующая"
    r"|下一页|下一頁|下页|次へ|次のページ"
    r"|[›»>→]+)$",
    re.IGNORECASE,
)
_ARROWS = " \t\n›»>→«‹<←"
# Class tokens of a "next page" link or its list item: next, next-page, nav-next, pagination__next.
NEXT_CLASS_RE = re.compile(r"^(?:[\w-]*[-_])?next(?:[-_][\w-]*)?$", re.IGNORECASE)
# A class token of a pager container, searched in the whole class attribute (one search per element
# instead of one match per token: this test runs on up to five ancestors of every link); every link
# inside it is a listing page (WordPress page-numbers, wp-pagenavi, Bootstrap pagination, Drupal pager).
PAGER_CLASS_RE = re.compile(
    r"(?:^|\s)(?:pagination|pager|paging|page-numbers|pagenav|wp-pagenavi|nav-links)(?!\S)", re.I
)
_PAGER_DEPTH = 4  # ancestors searched for a pager container
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:")
_URL_JUNK = str.maketrans("", "", "\t\n\r")  # WHATWG URL parsing drops these anywhere in a URL


@dataclass(frozen=True, slots=True)
class Link:
    """One <a href> on a page: absolute URL without fragment, its text and rel attribute."""

    url: str
    text: str
    rel: str | None

    @property
    def nofollow(self) -> bool:
        """True when rel contains the nofollow token."""
        return self.rel is not None and "nofollow" in self.rel.split()


# ---- HTML --------------------------------------------------------------------------------------


def extract_links(html: str | lxml.html.HtmlElement, base_url: str) -> list[Link]:
    """Every followable <a href> of a page, in order, first occurrence wins (its text filled if empty)."""
    tree = _html_tree(html)
    if tree is None:
        return []
    base = _document_base(tree, base_url)
    found: dict[str, Link] = {}
    resolved: dict[str | None, str | None] = {}  # a page repeats its links (menus, teasers, footers)
    for anchor in tree.iter("a"):
        href = anchor.get("href")
        url = resolved[href] if href in resolved else resolved.setdefault(href, resolve_link(href, base))
        if url is None:
            continue
        first = found.get(url)
        if first is not None and first.text:
            continue  # a later copy of a link that has its text changes nothing
        text = collapse_space(anchor.text_content())
        if first is None:
            found[url] = Link(url, text, collapse_space(anchor.get("rel") or "").lower() or None)
        elif text:
            found[url] = Link(url, text, first.rel)
    return list(found.values())


def find_feeds(html: str | lxml.html.HtmlElement, base_url: str) -> list[str]:
    """Feed URLs announced by <link rel="alternate"> with an RSS, Atom or JSON Feed type."""
    tree = _html_tree(html)
    if tree is None:
        return []
    base = _document_base(tree, base_url)
    urls = []
    for link in tree.iter("link"):
        if "alternate" not in (link.get("rel") or "").lower().split():
            continue
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        hinted = kind == "application/json" and FEED_HINT_RE.search(
            f"{link.get('title') or ''} {link.get('href') or ''}"
        )
        if kind in FEED_TYPES or hinted:
            urls.append(resolve_link(link.get("href"), base))
    return unique_urls(urls)


def find_pagination(html: str | lxml.html.HtmlElement, base_url: str) -> list[str]:
    """Next-page and pager URLs: rel=next first, then "Next"-like links, then other pager links."""
    tree = _html_tree(html)
    if tree is None:
        return []
    base = _document_base(tree, base_url)
    rel_next: list[str | None] = []
    next_links: list[str | None] = []
    pager_links: list[str | None] = []
    for el in tree.iter("link", "a"):
        href = el.get("href")
        if href is None:
            continue
        # classify first, resolve only what is kept: resolving every link was 3/4 of this function
        if "next" in (el.get("rel") or "").lower().split():
            rel_next.append(resolve_link(href, base))
        elif el.tag == "a" and _looks_like_next(el):
            next_links.append(resolve_link(href, base))
        elif el.tag == "a" and _in_pager(el):
            pager_links.append(resolve_link(href, base))
    here = urldefrag(base_url)[0]
    return [url for url in unique_urls(rel_next + next_links + pager_links) if url != here]


def _looks_like_next(anchor: lxml.html.HtmlElement) -> bool:
    """Link text, aria-label, title or class (its own or its list item's) says "next page"."""
    for label in (anchor.text_content(), anchor.get("aria-label"), anchor.get("title")):
        words = collapse_space(label or "")
        if words and NEXT_TEXT_RE.match(words.strip(_ARROWS) or words):
            return True
    parent = anchor.getparent()
    owners = [anchor] if parent is None or parent.tag != "li" else [anchor, parent]
    return any(NEXT_CLASS_RE.match(token) for el in owners for token in (el.get("class") or "").split())


def _in_pager(anchor: lxml.html.HtmlElement) -> bool:
    """The link itself or one of its near ancestors carries a pager class."""
    el: Any = anchor
    for _ in range(_PAGER_DEPTH + 1):
        if el is None or not isinstance(el.tag, str):
            return False
        classes = el.get("class")
        if classes and PAGER_CLASS_RE.search(classes):
            return True
        el = el.getparent()
    return False


def _html_tree(html: str | lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    """The parsed page, or None when there is nothing to parse."""
    if not isinstance(html, str):
        return html
    try:
        return lxml.html.document_fromstring(html)
    except etree.ParserError:  # nothing but whitespace or comments
        return None
    except ValueError:  # a str that starts with an XML encoding declaration: lxml wants bytes then
        pass
    try:
        return lxml.html.document_fromstring(html.encode("utf-8"), parser=_UTF8_HTML_PARSER)
    except etree.ParserError:
        return None


_UTF8_HTML_PARSER = lxml.html.HTMLParser(encoding="utf-8")


def _document_base(tree: lxml.html.HtmlElement, base_url: str) -> str:
    """The first <base href>, resolved against the page URL, when it is http(s); else the page URL."""
    for base in tree.getroottree().iter("base"):
        href = base.get("href")
        if href is not None:
            return resolve_link(href, base_url) or base_url
    return base_url


# ---- shared helpers ----------------------------------------------------------------------------


def resolve_link(href: str | None, base: str) -> str | None:
    """An absolute http(s) URL without fragment, or None for empty, fragment-only or other schemes."""
    if href is None:
        return None
    href = href.strip(" \t\n\r\f\v").translate(_URL_JUNK)
    if not href or href.startswith("#") or href.lower().startswith(_SKIP_SCHEMES):
        return None
    try:
        url = urldefrag(urljoin(base, href))[0]
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[::1" (invalid IPv6 literal)
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def collapse_space(text: str) -> str:
    """Runs of whitespace as one space, trimmed."""
    return " ".join(text.split())


def unique_urls(urls: Iterable[str | None]) -> list[str]:
    """The non-None URLs, first occurrence kept, order preserved."""
    return list(dict.fromkeys(url for url in urls if url is not None))


def sitemaps_from_robots(robots_txt: str, base_url: str) -> list[str]:
    """The Sitemap: lines of a robots.txt, resolved against its URL, http(s) only."""
    urls = []
    for line in robots_txt.splitlines():
        field, sep, value = line.partition(":")
        if sep and field.strip().lower() in ("sitemap", "site-map"):
            urls.append(resolve_link(value.split("#")[0].strip(), base_url))
    return unique_urls(urls)
