"""Metadata step of extraction: title, date, author, source line, section, language, canonical URL.

Input: the parsed page (read only: this step never changes the tree), its URL and the site's Rules.
Output: a Metadata record. Sources, most trusted first: per-site Rules selectors, JSON-LD,
<meta> tags, microdata and <time> elements, the URL, then visible lines such as
"Source: Xinhua" or "发布时间：2021-06-29". The patterns are data, in the UPPER_CASE tables below
and in dates.py.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html

from ..config import Rules
from . import authors, dates
from .boilerplate import HIDDEN_TAGS, METADATA_LD_TYPES
from .dom import NamedElements
from .language import SAMPLE_BYTES, declared_language, detect_language
from .rules import select_text
from .titles import find_title, squash, text_key

logger = logging.getLogger(__name__)

# Page-level JSON-LD types: a fallback for dates and names when no Article object exists.
PAGE_TYPES = frozenset(("webpage", "itempage", "collectionpage", "aboutpage", "profilepage"))
SITE_NAME_META = ("og:site_name", "application-name", "apple-mobile-web-app-title", "twitter:site")
SECTION_META = ("article:section", "parsely-section", "section", "category", "dc.subject")
DESCRIPTION_META = ("og:description", "description", "twitter:description", "dc.description")
LANGUAGE_META = ("content-language", "dc.language", "language", "og:locale")
# The source line a page prints ("Source: Xinhua", "来源：新华社", "Quelle: dpa").
SOURCE_RE = re.compile(
    r"(?:^|[\s·|｜(（\[])(?:source|来源|來源|稿源|出处|quelle|fuente|fonte)\s*[:：]\s*(?P<value>.*)",
    re.IGNORECASE,
)
# Where a source value ends: the next label on the same line, or a field separator.
SOURCE_END_RE = re.compile(
    r"\s{2,}|\s*[|｜·•]\s*|\s*[)）\]]|\s+(?:作者|编辑|责任编辑|责编|记者|时间|发布|日期|浏览|点击|字号|author|by|editor)\b"
    r"|(?:作者|编辑|责任编辑|责编|记者|发布时间|时间|日期)[:：]",
    re.IGNORECASE,
)
# Words glued after a source name by share/report widgets ("新京报 举报", "Xinhua Share").
SOURCE_TRAILER_RE = re.compile(r"\s*(?:举报|分享|打印|纠错|share|print)$", re.IGNORECASE)
# A "source" that is markup or a URL is an attribute dump or a code sample, not an outlet.
SOURCE_JUNK_RE = re.compile(r"[=<>\[\]{}@]|https?://|\.(?:js|css|png|jpe?g)\b", re.IGNORECASE)
# class/id tokens of breadcrumb trails.
BREADCRUMB_CLASS_RE = re.compile(
    r"breadcrumb|crumbs|bread|location|position|daohang|dqwz|curpos", re.IGNORECASE
)
# What pages wrap JSON-LD in for old parsers: HTML comments and (XHTML) CDATA sections, at either end.
# The case folding the XPath translate() calls these replace did: only these letters, as before.
_CANONICAL_CASE = str.maketrans("CANOIL", "canoil")
_LD_JSON_CASE = str.maketrans("LDJSON", "ldjson")
JSON_LD_WRAPPER_RE = re.compile(r"^\s*(?://\s*)?(?:<!--|<!\[CDATA\[)|(?://\s*)?(?:-->|\]\]>)\s*$")


@dataclass(frozen=True, slots=True)
class Metadata:
    """What a page says about its article, apart from the body text."""

    title: str | None
    published: dt.date | dt.datetime | None
    author: str | None
    source: str | None
    section: str | None
    language: str | None
    site_name: str | None
    canonical_url: str | None
    description: str | None


@dataclass(frozen=True, slots=True)
class _Signals:
    """What is read once from the head and JSON-LD and then shared by every field."""

    meta: dict[str, str]
    article: dict[str, Any]
    page: dict[str, Any]
    objects: list[dict[str, Any]]
    url: str | None
    language: str | None
    named: NamedElements


def extract_metadata(tree: lxml.html.HtmlElement, url: str | None, rules: Rules) -> Metadata:
    """Title, date, author and the rest of a page's metadata; never mutates the tree."""
    meta = _meta_tags(tree)
    objects = list(_json_ld_objects(tree))
    article = next((o for o in objects if _types(o) & METADATA_LD_TYPES), {})
    page = next((o for o in objects if _types(o) & PAGE_TYPES), {})
    language = _language(tree, meta, article or page)
    signals = _Signals(meta, article, page, objects, url, language, NamedElements(tree))
    site_name = _site_name(signals, objects)
    if rules.title and (chosen := select_text(tree, rules.title)):
        title: str | None = squash(chosen)
    else:
        title = find_title(tree, url, meta, _ld_text(article.get("headline")), site_name)
    return Metadata(
        title=title,
        published=dates.find_published(tree, url, meta, article or page, language, rules.date, signals.named),
        author=_author(tree, signals, site_name, title, rules),
        source=_source(tree, rules),
        section=_section(tree, signals, title),
        language=language,
        site_name=site_name,
        canonical_url=_canonical_url(tree, meta, url),
        description=_first(meta, DESCRIPTION_META) or _ld_text(article.get("description")),
    )


def _author(
    tree: lxml.html.HtmlElement, s: _Signals, site_name: str | None, title: str | None, rules: Rules
) -> str | None:
    if rules.author and (chosen := select_text(tree, rules.author)):
        return authors.clean_author(chosen)
    return authors.find_author(
        tree, s.article, s.page, s.objects, s.meta, site_name, s.url, s.language, title, s.named
    )


def _source(tree: lxml.html.HtmlElement, rules: Rules) -> str | None:
    if rules.source and (chosen := select_text(tree, rules.source)):
        match = SOURCE_RE.search(chosen)
        return _source_value(match.group("value")) if match else squash(chosen)
    for node in tree.xpath("//body//text()[contains(., ':') or contains(., '：')]"):
        parent = node.getparent()
        if parent is None or parent.tag in HIDDEN_TAGS or len(node) > 300:
            continue
        match = SOURCE_RE.search(node)
        if match is None:
            continue
        value = _source_value(match.group("value"))
        if not value:
            # "来源：<a>新华社</a>": the value is the next element's text.
            after = squash(parent.text_content())
            tail = SOURCE_RE.search(after) if len(after) < 300 else None
            value = _source_value(tail.group("value")) if tail else None
        if value:
            return value
    return None


def _source_value(value: str) -> str | None:
    value = SOURCE_END_RE.split(squash(value), maxsplit=1)[0].strip(" ,;:：")
    value = SOURCE_TRAILER_RE.sub("", value)
    if not 0 < len(value) <= 60 or SOURCE_JUNK_RE.search(value) or not any(c.isalpha() for c in value):
        return None
    return value


def _section(tree: lxml.html.HtmlElement, s: _Signals, title: str | None) -> str | None:
    declared = _first(s.meta, SECTION_META) or _ld_text(s.article.get("articleSection"))
    if declared:
        return declared
    for el, _ in s.named.matching(BREADCRUMB_CLASS_RE):
        if el.tag in HIDDEN_TAGS:
            continue
        items = [squash(a.text_content()) for a in el.iterfind(".//a")]
        items = [i for i in items if i and len(i) < 40]
        if title and items and text_key(items[-1]) == text_key(title):
            items.pop()
        if len(items) >= 2:
            return items[-1]
    return None


def _site_name(s: _Signals, objects: list[dict[str, Any]]) -> str | None:
    for key in SITE_NAME_META:
        value = s.meta.get(key)
        if value and not value.startswith("@"):
            return value
    publisher = s.article.get("publisher")
    names = _ld_names(publisher)
    if names:
        return names[0]
    for obj in objects:
        if _types(obj) & {"organization", "newsmediaorganization", "website"} and (
            name := _ld_text(obj.get("name"))
        ):
            return name
    return None


def _language(tree: lxml.html.HtmlElement, meta: dict[str, str], ld: dict[str, Any]) -> str | None:
    """The page's declared language when it is one, else the language of its text."""
    in_language = ld.get("inLanguage")
    if isinstance(in_language, dict):
        in_language = in_language.get("alternateName") or in_language.get("name")
    declared = [
        tree.get("lang"),
        tree.get("{http://www.w3.org/XML/1998/namespace}lang"),
        in_language,
        *(meta.get(key) for key in LANGUAGE_META),
    ]
    # the first of `//title/text()`, without walking the whole page for the rest
    title = next((str(text) for t in tree.iter("title") for text in t.xpath("text()")), None)
    if language := declared_language(declared, title):
        return language
    return detect_language(_text_sample(tree, SAMPLE_BYTES))  # as many characters hold at least as many bytes


def _text_sample(tree: lxml.html.HtmlElement, chars: int) -> str:
    """The page's visible text from the top, whitespace collapsed, about chars long."""
    parts: list[str] = []
    size = 0
    for text in _short_texts(tree, 10_000):
        parts.append(" ".join(text.split()))
        size += len(parts[-1]) + 1
        if size >= chars:
            break
    return " ".join(parts)[:chars]


def _canonical_url(tree: lxml.html.HtmlElement, meta: dict[str, str], url: str | None) -> str | None:
    # <link rel=canonical>, read in a walk of the few <link> elements: an XPath with translate()
    # on every element costs more than the rest of this function (speed only; same links).
    links = [
        link.get("href", "")
        for link in tree.iter("link")
        if link.get("href") is not None
        and " canonical " in f" {link.get('rel', '').translate(_CANONICAL_CASE)} "
        and link.get("rel") is not None
    ]
    for href in [*links, meta.get("og:url", "")]:
        href = href.strip()
        if not href or href.startswith(("javascript:", "#")):
            continue
        absolute = urljoin(url or "", href)
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        page_path = urlsplit(url or "").path
        if parts.path in ("", "/") and page_path not in ("", "/"):
            # A canonical URL pointing at a homepage is a template default, not this article.
            continue
        return str(absolute)
    return None


def _meta_tags(tree: lxml.html.HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for el in tree.iterfind(".//meta"):
        content = el.get("content")
        if content is None or not content.strip():
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            # RDFa lets one property attribute name several terms: property="og:title twitter:title".
            for key in (el.get(attr) or "").lower().split():
                found.setdefault(key, squash(html.unescape(content)))
    return found


def _json_ld_objects(tree: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    for script in tree.iter("script"):
        if "ld+json" not in script.get("type", "").translate(_LD_JSON_CASE):
            continue
        text = JSON_LD_WRAPPER_RE.sub("", script.text or "").strip().rstrip(";")
        try:
            data = json.loads(text, strict=False)
        except ValueError:
            logger.debug("unreadable JSON-LD block skipped")
            continue
        yield from _walk_ld(data, 0)


def _walk_ld(data: Any, depth: int) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from _walk_ld(item, depth + 1)
    elif isinstance(data, dict):
        if "@type" in data:
            yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement", "hasPart"):
            if key in data:
                yield from _walk_ld(data[key], depth + 1)


def _types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type", ())
    return {
        str(k).lower() for k in ([kind] if isinstance(kind, str) else kind if isinstance(kind, list) else ())
    }


def _ld_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    return squash(str(value)) or None if isinstance(value, (str, int)) else None


def _ld_names(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = _ld_text(item)
        if name and not re.match(r"(?:https?:)?//", name) and name not in names:
            names.append(name)
    return names


def _first(meta: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((meta[key] for key in keys if meta.get(key)), None)


def _short_texts(tree: lxml.html.HtmlElement, limit: int) -> Iterator[str]:
    for node in tree.xpath("//body//text()[normalize-space()]"):
        parent = node.getparent()
        if parent is not None and parent.tag not in HIDDEN_TAGS and len(node) <= limit:
            yield str(node)
