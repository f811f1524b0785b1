"""Candidate URLs from fetched bytes: sitemaps and feeds here, a page's links in crawl/links.py.

Input: sitemap and feed bytes (and, through links.py, HTML text and robots.txt text), each with
the URL it came from. Output: absolute http(s) URLs without fragments, in document order,
deduplicated. Settings: size caps per call (max_urls, max_bytes, max_items). Pure parsing, no
fetching. The names of links.py and scope.matches_scope are re-exported here, discovery's one door.

Sitemaps and feeds are hostile input: the XML parser never resolves entities, loads a DTD or touches the
network, gzip is inflated by a bounded decoder, and malformed input gives a best-effort (often empty)
result plus a warning rather than an exception.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import re
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, TypeVar

import lxml.html
from lxml import etree

from .links import (
    Link,
    collapse_space,
    extract_links,
    find_feeds,
    find_pagination,
    resolve_link,
    sitemaps_from_robots,
    unique_urls,
)
from .scope import matches_scope

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

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

_GZIP_MAGIC = b"\x1f\x8b"
_ENTRY_TAGS = frozenset({"url", "sitemap", "item", "entry"})
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class SitemapUrl:
    """One <url> of a urlset, or one line of a text sitemap."""

    loc: str
    lastmod: dt.datetime | None = None
    news_publication_date: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Sitemap:
    """A parsed sitemap: page URLs, child sitemaps (index files), and whether a cap cut it short."""

    urls: list[SitemapUrl]
    sitemaps: list[str]
    truncated: bool


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One item of an RSS, RDF, Atom or JSON feed."""

    url: str
    title: str | None
    published: dt.datetime | None


# ---- dates -------------------------------------------------------------------------------------

# W3C datetime / RFC 3339 / ISO 8601 extended form, as sitemaps and Atom and JSON feeds use it.
_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$",
    re.IGNORECASE,
)


def _parse_date(text: str | None) -> dt.datetime | None:
    """An aware UTC datetime from ISO 8601 / RFC 3339 or RFC 822 text; None when unreadable.

    Values without a zone are taken as UTC, and a bare date as its midnight UTC.
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        match = _ISO_RE.match(text)
        when = _iso_datetime(match) if match else email.utils.parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)


def _iso_datetime(match: re.Match[str]) -> dt.datetime:
    """The datetime of an _ISO_RE match; raises ValueError for impossible fields."""
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = None
    if zone and zone.upper() == "Z":
        tz = dt.timezone.utc
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return dt.datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro, tz
    )


# ---- XML ---------------------------------------------------------------------------------------


def _xml_parser() -> etree.XMLParser:
    """A parser for hostile XML: no entity expansion, no DTD, no network, no huge trees, recovers."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True
    )


def _parse_xml(data: bytes, base_url: str) -> etree._Element | None:
    """The root element, or None (with a warning) when nothing usable parses.

    When libxml2 stops at a resource limit (entity amplification, nesting depth), the entry it was
    reading is cut short at an arbitrary point, so that entry is removed.
    """
    parser = _xml_parser()
    try:
        root = etree.fromstring(data, parser, base_url=base_url)
    except etree.XMLSyntaxError as exc:
        logger.warning("Unparseable XML from %s: %s", base_url, exc)
        return None
    if root is None:
        logger.warning("No XML document in %s", base_url)
        return None
    limits = [error for error in parser.error_log if error.type_name == "ERR_RESOURCE_LIMIT"]
    if limits:
        logger.warning("XML from %s stopped early: %s", base_url, limits[0].message)
        _drop_open_entry(root)
    return root


def _drop_open_entry(root: etree._Element) -> None:
    """Remove the entry (url, sitemap, item, entry) that holds the last element parsed, if any."""
    last = deque(root.iter(), maxlen=1)
    el: Any = last[0] if last else None
    while el is not None and _local(el) not in _ENTRY_TAGS:
        el = el.getparent()
    if el is not None and el.getparent() is not None:
        el.getparent().remove(el)


def _local(el: etree._Element) -> str:
    """The tag without namespace, lower-case; "" for comments, entities and processing instructions."""
    tag = el.tag
    return tag.rpartition("}")[2].lower() if isinstance(tag, str) else ""


def _children(el: etree._Element, *names: str) -> Iterator[etree._Element]:
    """Child elements whose local name is one of names, whatever their namespace."""
    return (child for child in el if _local(child) in names)


def _child_text(el: etree._Element, *names: str) -> str | None:
    """The stripped text of the first non-empty child named names[0], else names[1], and so on."""
    for name in names:
        for child in _children(el, name):
            text = _xml_text(child)
            if text:
                return text
    return None


def _xml_text(el: etree._Element) -> str | None:
    """The element's text, stripped; None when it holds an unexpanded entity (never expanded here)."""
    if len(el) == 0:  # the common case, and the fast one
        return (el.text or "").strip() or None
    if next(el.iter(etree.Entity), None) is not None:
        return None
    return str(el.xpath("string()")).strip() or None


# ---- sitemaps ----------------------------------------------------------------------------------


def parse_sitemap(
    data: bytes, base_url: str, *, max_urls: int = 50_000, max_bytes: int = 50 * 1024 * 1024
) -> Sitemap:
    """A sitemap index, urlset (Google News too), RSS/Atom feed or text sitemap, gzipped or not.

    Args:
        data: the body as fetched; gzip is recognised by its magic bytes, not by the file name.
        base_url: the sitemap's URL, against which relative locations are resolved.
        max_urls: at most this many entries (urls plus child sitemaps) are returned.
        max_bytes: at most this many decoded bytes are parsed.

    Returns:
        The entries found; truncated is True when either cap cut the sitemap short.
    """
    body, truncated = _bounded_inflate(data, max_bytes)
    is_xml = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")
    if truncated:  # drop the partial text after the cut, which could be a shortened URL
        body = body[: body.rfind(b">" if is_xml else b"\n") + 1]
    if is_xml:
        urls, sitemaps, more = _sitemap_xml(body, base_url, max_urls)
    else:
        (urls, more), sitemaps = _sitemap_text(body, base_url, max_urls), []
    return Sitemap(urls=urls, sitemaps=sitemaps, truncated=truncated or more)


def _bounded_inflate(data: bytes, max_bytes: int) -> tuple[bytes, bool]:
    """Gunzip data when it starts with the gzip magic, decoding at most max_bytes; (bytes, truncated)."""
    if not data.startswith(_GZIP_MAGIC):
        return data[:max_bytes], len(data) > max_bytes
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    for start in range(0, len(data), _CHUNK):
        pending = data[start : start + _CHUNK]
        while pending:
            try:
                out += inflater.decompress(pending, max_bytes + 1 - len(out))
            except zlib.error as exc:
                logger.warning("Corrupt gzip data after %d bytes: %s", len(out), exc)
                return bytes(out), False
            if len(out) > max_bytes:
                logger.warning("Sitemap inflates past %d bytes; the rest is ignored", max_bytes)
                del out[max_bytes:]  # in place: no third copy of up to max_bytes
                return bytes(out), True
            pending = inflater.unconsumed_tail
        if inflater.eof:  # a second gzip member or trailing junk is ignored
            break
    return bytes(out), False


def _sitemap_xml(body: bytes, base_url: str, limit: int) -> tuple[list[SitemapUrl], list[str], bool]:
    """(urls, child sitemaps, more) of an XML sitemap, reading at most limit entries; feed items are urls.

    Entries are counted before deduplication, so a file of one URL repeated costs no more than limit.
    """
    root = _parse_xml(body, base_url)
    if root is None:
        return [], [], False
    kind = _local(root)
    if kind == "sitemapindex":
        children, more = _take(_children(root, "sitemap"), limit)
        return [], unique_urls(resolve_link(_child_text(el, "loc"), base_url) for el in children), more
    if kind in ("rss", "rdf", "feed"):
        items, more = _take(_feed_xml(root, base_url), limit)
        return _unique_urls(SitemapUrl(item.url, item.published) for item in items), [], more
    if kind != "urlset":
        logger.warning("%s is not a sitemap (root element <%s>)", base_url, kind)
    entries, more = _take(_children(root, "url"), limit)
    urls = []
    for el in entries:
        loc = resolve_link(_child_text(el, "loc"), base_url)
        if loc is not None:
            news = next(_children(el, "news"), None)
            published = _parse_date(_child_text(news, "publication_date")) if news is not None else None
            urls.append(SitemapUrl(loc, _parse_date(_child_text(el, "lastmod")), published))
    return _unique_urls(urls), [], more


def _sitemap_text(body: bytes, base_url: str, limit: int) -> tuple[list[SitemapUrl], bool]:
    """A text sitemap: one URL per line; only lines that are http(s) URLs or absolute paths count."""
    lines = (line.strip() for line in body.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines())
    locs, more = _take((line for line in lines if _TEXT_SITEMAP_LINE_RE.match(line)), limit)
    return [SitemapUrl(loc) for loc in unique_urls(resolve_link(line, base_url) for line in locs)], more


def _take(items: Iterable[_T], limit: int) -> tuple[list[_T], bool]:
    """The first limit items, and whether any item was left over."""
    iterator = iter(items)
    taken = list(islice(iterator, limit))
    return taken, next(iterator, None) is not None


def _unique_urls(urls: Iterable[SitemapUrl]) -> list[SitemapUrl]:
    """The entries with a loc not seen before, in order."""
    unique: dict[str, SitemapUrl] = {}
    for url in urls:
        unique.setdefault(url.loc, url)
    return list(unique.values())


# A text sitemap line: an http(s) URL (the spec) or a path from the root (seen in the wild); no
# spaces or controls, so an HTML error page or binary junk yields nothing.
_TEXT_SITEMAP_LINE_RE = re.compile(r"^(?:https?://|/(?!/))[^\s\x00-\x1f<>\"]+$", re.IGNORECASE)


# ---- feeds -------------------------------------------------------------------------------------


def parse_feed(data: bytes, base_url: str, *, max_items: int = 10_000) -> list[FeedItem]:
    """The items of an RSS 2.0, RSS 1.0 (RDF), Atom or JSON Feed document, in feed order.

    Items without an http(s) URL are skipped, and a URL seen twice keeps its first item.
    Unparseable input gives [] and a warning.
    """
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        items = iter(_feed_json(data, base_url))
    else:
        root = _parse_xml(data, base_url)
        items = iter(_feed_xml(root, base_url)) if root is not None else iter([])
    unique: dict[str, FeedItem] = {}
    for item in items:
        unique.setdefault(item.url, item)
        if len(unique) >= max_items:
            break
    return list(unique.values())


def _feed_xml(root: etree._Element, base_url: str) -> Iterator[FeedItem]:
    """FeedItems of <item> (RSS 2.0, RSS 1.0) and <entry> (Atom) elements, anywhere in the document."""
    for el in root.iter():
        kind = _local(el)
        if kind == "item":
            href = _child_text(el, "link") or _rss_guid(el)
            published = _child_text(el, "pubdate", "date", "published", "updated")
        elif kind == "entry":
            href = _atom_link(el)
            published = _child_text(el, "published", "issued", "updated", "modified")
        else:
            continue
        url = resolve_link(href, el.base or base_url)  # el.base honours xml:base
        if url is not None:
            yield FeedItem(url, _feed_title(el), _parse_date(published))


def _rss_guid(item: etree._Element) -> str | None:
    """An RSS <guid> that is an absolute permalink (isPermaLink absent or "true"); ids like "123" are not."""
    for guid in _children(item, "guid"):
        text = _xml_text(guid)
        if (guid.get("isPermaLink") or "true").strip().lower() == "true" and _is_absolute(text):
            return text
    return None


def _is_absolute(value: str | None) -> bool:
    """True for a string that starts like an absolute http(s) URL."""
    return value is not None and value.strip().lower().startswith(("http://", "https://"))


def _atom_link(entry: etree._Element) -> str | None:
    """The href of an Atom entry's alternate link, preferring an HTML one."""
    candidates = [
        link for link in _children(entry, "link") if (link.get("rel") or "alternate").strip() == "alternate"
    ]
    candidates.sort(key=lambda link: (link.get("type") or "text/html") != "text/html")
    return next((link.get("href") for link in candidates if link.get("href")), None)


def _feed_title(el: etree._Element) -> str | None:
    """The item's title as plain text; escaped markup in an Atom type="html" title is reduced to text."""
    element = next(_children(el, "title"), None)
    title = _xml_text(element) if element is not None else None
    if title and element is not None and element.get("type") == "html":
        title = lxml.html.fragment_fromstring(title, create_parent="div").text_content()
    return collapse_space(title) or None if title else None


def _feed_json(data: bytes, base_url: str) -> list[FeedItem]:
    """FeedItems of a JSON Feed (version 1 or 1.1)."""
    try:
        doc = json.loads(data.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as exc:
        logger.warning("Unparseable JSON feed from %s: %s", base_url, exc)
        return []
    raw_items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(raw_items, list):
        logger.warning("%s is not a JSON Feed (no items list)", base_url)
        return []
    items = []
    for raw in raw_items:
        if not isinstance(raw, dict):
            continue
        ident = _str_or_none(raw.get("id"))
        url = resolve_link(_str_or_none(raw.get("url")) or (ident if _is_absolute(ident) else None), base_url)
        if url is not None:
            title = _str_or_none(raw.get("title"))
            published = _str_or_none(raw.get("date_published")) or _str_or_none(raw.get("date_modified"))
            items.append(
                FeedItem(url, collapse_space(title) or None if title else None, _parse_date(published))
            )
    return items


def _str_or_none(value: object) -> str | None:
    """value when it is a str, else None (JSON Feed fields may hold anything)."""
    return value if isinstance(value, str) else None
