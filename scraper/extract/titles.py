"""Titles: the article's headline from its headings, <title>, og:title and JSON-LD.

Input: the parsed page (read only), its URL, its <meta> tags, the JSON-LD headline and the site
name. Output: the headline as the page prints it, without the site or section name that
<title> and og:title add. The rule: a heading that the declared titles agree with; else a
declared title with the site name cut off; else the first segment of <title>.
"""

from __future__ import annotations

import html
import itertools
import logging
import re
import unicodedata
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from .boilerplate import (
    HIDDEN_TAGS,
    TITLE_EMPHASIS_MAX_CHARS,
    TITLE_EMPHASIS_TEXT_CHARS,
    TITLE_LABEL_RE,
    TITLE_START_PAGE_WORDS,
    TITLE_UI_WORDS,
)
from .dom import name_matcher

logger = logging.getLogger(__name__)

# A heading's text, whether it is the site's logo, its (kicker, rest) split, whether it is h1-like.
HeadingParts = tuple[str, bool, tuple[str, str] | None, bool]

TITLE_META = (
    *("og:title", "twitter:title", "dc.title", "dc:title", "dcterms.title", "dcterms:title"),
    *("parsely-title", "sailthru.title"),
)
# Separators between an article title and the site or section name in <title> and og:title:
# "Title - Site", "Title | Site", "Site » Title", "标题_新华网", "标题——人民网", "Title :: Site".
TITLE_SEPARATOR_RE = re.compile(
    r"\s+[|\-–—:»·•/~]{1,2}\s+|\s*(?:_|——|｜|\|)\s*|\s+::\s+|\s*[-–]{2}\s*"
    # "标题-新华网": Chinese sites glue the name on with a bare hyphen.
    r"|(?<=[\u3000-\u9fff\uff00-\uffef])[-－](?=[\u4e00-\u9fff])"
)
# class/id tokens of the site's logo or name block, whose heading is not the article's.
LOGO_CLASS_RE = re.compile(r"logo|brand|site-?title|site-?name|blog-?title|masthead|vcard", re.IGNORECASE)
# class/id tokens of a kicker element opening a heading ("Wurmkiste" above "Wurmkiste selber bauen").
KICKER_CLASS_RE = re.compile(
    r"kicker|roofline|overline|eyebrow|topline|dachzeile|spitzmarke|supertitle|pre-?title|over-?title",
    re.IGNORECASE,
)
# Paths of a homepage: a heading linking there is the site name.
HOME_PATHS = frozenset(("", "/", "/index.html", "/index.htm", "/index.php", "/index.shtml", "/default.aspx"))
# Share of an <h1>'s words that must appear in <title>/og:title for the h1 to count as the headline;
# below it the h1 is a logo, a section name or a teaser (measured on trafilatura and wcxb-dev).
TITLE_H1_AGREEMENT = 0.6
# Below TITLE_H1_AGREEMENT, a lone <h1> sharing at least this share of its words with the
# declared titles is still the headline: the page retitled the story for search engines
# (measured: +13 pages on trafilatura, +7 on wcxb-dev, -1 on readability-testpages).
TITLE_H1_MIN_AGREEMENT = 0.2
# From this many <h1> on a page, a one-word h1 is a section label ("Coupons", "Planning", "Discord"):
# one word that <title> also has is no agreement. Measured: +3 pages on wcxb-dev, none lost on
# trafilatura or readability-testpages (their one-word h1s stand on pages with fewer h1s).
TITLE_SECTION_H1S = 3
# Elements that break a heading's line: their text is set apart by a space.
BREAKING_TAGS = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "section", "header", "table", "tr", "td", "h1", "h2", "h3", "h4"}
)
# Controls inside a heading ("Copy item path", a bookmark tooltip): the page shows them as buttons
# beside the headline, not as its words.
# Ruby annotations (<rt>, <rp>) are the reading printed above the words, not more words:
# "子<rt>こ</rt>ども" reads "子ども" (NHK News Web Easy).
HEADING_WIDGET_TAGS = frozenset({"button", "select", "textarea", "rt", "rp"})
# Inside a main heading, after its first words, these hold the post's meta line ("Posted on July 1,
# 2024 by ...", "02.02.2022 • Presse"), not more of the headline.
HEADING_META_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6", "time", "small"})
MAIN_HEADING_TAGS = frozenset({"h1"})
# A field separator in a declared title: unlike a dash it never joins a headline to its subtitle
# (measured: splitting on any separator loses 4 pages over the three sets, on a pipe none).
PIPE_RE = re.compile(r"\s+[|｜]\s+")
# A kicker's separator inside a title: "Klimaschutz: Bohren, bis es heiß wird".
KICKER_SEPARATOR_RE = re.compile(r"\s*[:：]\s+|\s+[|\-–—]\s+")
# What a page prints between a kicker and the headline, often in a visually hidden span.
KICKER_PUNCTUATION = "-–—:：|·•"
# class tokens of text kept for screen readers only ("<span class="visually-hidden">: </span>").
HIDDEN_CLASS_RE = re.compile(
    r"visually-?hidden|sr-only|screen-reader|\binvisible\b|\bhidden\b", re.IGNORECASE
)
# Permalink markers that documentation generators append to headings ("Quickstart ¶").
HEADING_LINK_RE = re.compile(r"\s*[¶#🔗§]\s*$")
# HTML entities left escaped in a title (double-escaped CMS output: "SQL &#x26; AI").
ENTITY_RE = re.compile(r"&(?:#\d{1,6}|#x[0-9a-f]{1,6}|[a-z]{2,8});", re.IGNORECASE)
# Soft hyphens and zero-width characters: invisible in the page, noise in a title or name.
INVISIBLE_CHARS = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def clean_title(title: str, site_names: tuple[str, ...] = (), host: str = "") -> str:
    """A title without the site or section name that pages add before or after it."""
    title = squash(title)
    parts = TITLE_SEPARATOR_RE.split(title)
    if len(parts) == 1:
        return title
    keys = {text_key(name) for name in site_names if name} | {
        text_key(host.removeprefix("www.").split(".")[0])
    }
    keys.discard("")
    while len(parts) > 1 and _is_site_name(parts[-1], keys, host):
        parts.pop()
    while len(parts) > 1 and _is_site_name(parts[0], keys, host, leading=True):
        parts.pop(0)
    return _join_parts(title, parts)


def find_title(
    tree: lxml.html.HtmlElement,
    url: str | None,
    meta: dict[str, str],
    headline: str | None,
    site_name: str | None,
) -> str | None:
    """The headline: a heading agreeing with the declared titles, else a declared title sans site name."""
    title, source = _title(tree, url, meta, headline, site_name)
    key = text_key(title or "")
    if not key or key in UI_WORD_KEYS or key in START_PAGE_KEYS:
        line = _emphasised_line(tree)
        if line or key not in START_PAGE_KEYS:
            title, source = line, "emphasised line"
    from .model.title import load_title_model  # title_features imports this module

    if (model := load_title_model()) is not None:
        from .title_features import page_rows

        cands, rows = page_rows(tree, url, meta, headline, site_name, title)
        if cands:
            title, source = cands[model.best(rows)].text, "model"
    logger.debug("title from %s: %r", source, title)
    return finish_title(title)


def finish_title(title: str | None) -> str | None:
    """A chosen title as it is stored: entities decoded, permalink marks and extra spaces dropped."""
    if title is None:
        return None
    if ENTITY_RE.search(title):
        title = html.unescape(title)
    return squash(HEADING_LINK_RE.sub("", title)) or None


def _title(
    tree: lxml.html.HtmlElement,
    url: str | None,
    meta: dict[str, str],
    headline: str | None,
    site_name: str | None,
) -> tuple[str | None, str]:
    host = urlsplit(url or "").hostname or ""
    names = tuple(n for n in (site_name, meta.get("og:site_name")) if n)
    raw = squash(tree.findtext(".//title") or "")
    declared = [
        t
        for t in (headline, *(meta.get(key) for key in TITLE_META))
        if t and text_key(t) != text_key(site_name or "")
    ]
    segments = [p for p in TITLE_SEPARATOR_RE.split(raw) if text_key(p)] if raw else []
    parts = _heading_parts(tree, url)
    found = [(text, logo) for text, logo, _, _ in parts]
    h1_elements = list(tree.iterfind(".//h1"))
    h1_texts = {_headline_text(h)[0] for h in h1_elements}
    name_keys = {text_key(n) for n in names} | {text_key(text) for text, logo in found if logo}
    headings = [
        text
        for text, logo in found
        if not logo and text_key(text) not in name_keys and not _is_site_name(text, set(), host)
    ]
    agreed = {text_key(t) for t in (*declared, raw) for t in (t, clean_title(t, names, host))}
    agreed |= _segment_runs(segments)
    if rest := _headline_after_kicker(parts, raw, segments, declared, names, host):
        return rest, "kicker element"
    matches = [h for h in headings if text_key(h) in agreed]
    if matches:
        # The article's own heading that opens <title> before a sidebar's or a section's that
        # <title> also names: "Flexbox - Learn web development | MDN" has both as headings.
        # A heading that a declared title (og:title, JSON-LD) names outright comes first.
        first = text_key(segments[0]) if segments else ""
        main = {text for text, logo, _, is_main in parts if is_main and text_key(text) == first}
        named = {text_key(t) for t in declared} | {text_key(clean_title(t, names, host)) for t in declared}
        return max(matches, key=lambda h: (text_key(h) in named, h in main, len(h))), "heading=title"
    if kicked := _without_kicker(headings, [clean_title(t, names, host) for t in (*declared, raw)]):
        return kicked, "kicker"
    h1s = [text for text, logo in found if text in headings and text in h1_texts]
    best, best_score = None, 0.0
    for h1 in h1s:
        if len(h1_elements) >= TITLE_SECTION_H1S and len(_words(h1)) == 1:
            continue
        score = max((_overlap(h1, t) for t in (*declared, raw) if t), default=0.0)
        if score > best_score:
            best, best_score = h1, score
    if best is not None and best_score >= TITLE_H1_AGREEMENT:
        return best, "h1~title"
    if best is not None and len(h1_texts) == 1 and best_score >= TITLE_H1_MIN_AGREEMENT:
        return best, "lone h1"
    if declared:
        # "Headline | Tagline | Site": with the site name gone, a pipe still ends the headline.
        return PIPE_RE.split(clean_title(declared[0], names, host), maxsplit=1)[0], "declared"
    if raw:
        title = _title_from_segments(raw, segments, names, host)
        # "Reddit - The heart of the internet": the site's name and slogan, on every page of it.
        tagline = text_key(title) != text_key(raw)
        if tagline and len(h1s) == 1 == len(h1_texts) and not _overlap(h1s[0], title):
            return h1s[0], "lone h1, <title> a tagline"
        return title, "<title>"
    return (h1s[0] if h1s else None), "first h1"


def _emphasised_line(tree: lxml.html.HtmlElement) -> str | None:
    """A headingless page's title: the first short bold, large or centred line before the text.

    Old pages (FrontPage, forum scripts) print the headline as <p align=center><strong>...</strong>
    and leave <title> generic (cwced-zh-dev beijingspring.com: <title>显示</title>).
    """
    body = tree.find("body")
    for el in body.iter() if body is not None else ():
        if not isinstance(el.tag, str) or el.tag in HIDDEN_TAGS:
            continue
        if _is_emphasis(el):
            text = heading_text(el)
            if 0 < len(text) <= TITLE_EMPHASIS_MAX_CHARS and text_key(text) not in NOT_TITLE_KEYS:
                return text
        if max(len((el.text or "").strip()), len((el.tail or "").strip())) >= TITLE_EMPHASIS_TEXT_CHARS:
            return None  # the text has begun: a bold line after it is not the title
    return None


def _is_emphasis(el: lxml.html.HtmlElement) -> bool:
    """Bold, enlarged or centred: how a page without headings marks its headline."""
    if el.tag in ("strong", "b", "center", "h2", "h3"):
        return True
    if el.tag == "font" and el.get("size", "").lstrip("+").isdigit():
        return int(el.get("size", "").lstrip("+")) >= 4 or el.get("size", "").startswith("+")
    return el.get("align", "").lower() == "center" and el.tag in ("p", "div")


def _headline_after_kicker(
    parts: list[HeadingParts],
    raw: str,
    segments: list[str],
    declared: list[str],
    names: tuple[str, ...],
    host: str,
) -> str | None:
    """The rest of a heading whose kicker element <title> sets apart: "Kicker: Rest | Site" -> "Rest".

    The page marks the kicker twice, by markup in the heading and by a separator in <title> or
    og:title, so the two sources agree that it is not part of the headline.
    """
    segment_keys = {text_key(s) for s in segments}
    cleaned = [clean_title(t, names, host) for t in (*declared, raw)]
    titles = {text_key(t) for t in cleaned} | segment_keys
    pairs = {
        (text_key(head), text_key(tail))
        for t in (*cleaned, *segments)
        if len(halves := KICKER_SEPARATOR_RE.split(t, maxsplit=1)) == 2
        for head, tail in (halves,)
    }
    for _, logo, split, main in parts[:10]:
        if split and not logo:
            kicker, rest = split
            if text_key(kicker) in segment_keys and text_key(rest) in titles:
                return rest
            if main and (text_key(kicker), text_key(rest)) in pairs:
                return rest
    return None


def _without_kicker(headings: list[str], titles: list[str]) -> str | None:
    """A declared title that a heading prints after a kicker ("Ernährung sichern Schulze: ...")."""
    for heading in headings[:10]:
        outer = text_key(heading)
        for title in titles:
            inner = text_key(title)
            if inner and inner != outer and outer.endswith(inner) and len(inner) * 2 > len(outer):
                return title
    return None


def _title_from_segments(raw: str, segments: list[str], names: tuple[str, ...], host: str) -> str:
    """<title> minus the site name; unknown names go by position ("Headline - Site")."""
    cleaned = clean_title(raw, names, host)
    rest = [p for p in TITLE_SEPARATOR_RE.split(cleaned) if text_key(p)]
    if len(rest) <= 1:
        return cleaned
    if len(rest) == 2:
        return rest[0]
    return max(rest, key=len)


# Title-classed elements are these tags whose class holds "title" or "headline" (case-sensitive, as
# XPath's contains(@class, ...) read them), besides every h1, h2 and itemprop=headline element.
TITLE_CLASS_TAGS = frozenset({"h3", "div", "span", "p"})
# Headings read per page: the title's candidates are near the top, a page may have hundreds of titles.
HEADINGS_MAX = 60


def _heading_elements(tree: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The first HEADINGS_MAX h1, h2, itemprop=headline and title-classed elements, in document order.

    One walk in Python: the XPath union of these paths walked the tree once per path (0.9 ms a
    200 KB page against 0.5). Like `//`, it reads the whole document: libxml2 puts markup after a
    second <html> into a second root element (gne-zh other_1, wcxb-dev dev_0310).
    """
    roots = [*reversed(list(tree.itersiblings(preceding=True))), tree, *tree.itersiblings()]
    found: list[lxml.html.HtmlElement] = []
    for el in itertools.chain.from_iterable(root.iter(etree.Element) for root in roots):
        tag = el.tag
        if tag in TITLE_CLASS_TAGS:
            names = el.get("class") or ""
            if "title" not in names and "headline" not in names and el.get("itemprop") != "headline":
                continue
        elif tag != "h1" and tag != "h2" and el.get("itemprop") != "headline":
            continue
        found.append(el)
        if len(found) == HEADINGS_MAX:
            break
    return found


def _heading_parts(tree: lxml.html.HtmlElement, url: str | None) -> list[HeadingParts]:
    """(text, is_logo, (kicker, rest) or None, is_main) of h1/h2 and title-classed elements, in order.

    Main headings are h1 and itemprop=headline: the article's own, not a teaser's.
    """
    found = _heading_elements(tree)
    headings = []
    for el in found:
        text, split = _headline_text(el)
        if 0 < len(text) <= 300:
            main = el.tag == "h1" or el.get("itemprop") == "headline"
            headings.append((text, _is_logo(el, url), split and split[:2], main))
    return headings


def _headline_text(el: lxml.html.HtmlElement) -> tuple[str, tuple[str, str, bool] | None]:
    """A heading's text without a label or a kicker its markup names, and its kicker split."""
    split = _kicker_split(el)
    if split is not None and split[2]:
        return split[1], split
    return TITLE_LABEL_RE.sub("", heading_text(el)), split


def _kicker_split(el: lxml.html.HtmlElement) -> tuple[str, str, bool] | None:
    """(kicker, rest, named) of a heading that opens with its own element: <h1><span>Kicker</span> Rest</h1>.

    `named`: the kicker's class or id calls it one (roofline, eyebrow, overline, ...).
    """
    while len(el) == 1 and not (el.text or "").strip() and not (el[0].tail or "").strip():
        el = el[0]  # <h1><span itemprop="headline"><small>Kicker</small><br>Rest</span></h1>
    if len(el) == 0 or (el.text or "").strip() or not isinstance(el[0].tag, str):
        return None
    kicker = heading_text(el[0])
    pieces: list[str] = [el[0].tail or ""]
    for child in el[1:]:
        if not _is_hidden(child):
            _heading_pieces(child, pieces)
        pieces.append(child.tail or "")
    rest = squash("".join(pieces))
    if not kicker or not rest or kicker[-1] in KICKER_PUNCTUATION or rest[0] in KICKER_PUNCTUATION:
        return None  # a visible "Kicker: Rest" is one headline, as readers see it
    return kicker, rest, _is_kicker_name(f"{el[0].get('class', '')} {el[0].get('id', '')}")


def _is_hidden(el: lxml.html.HtmlElement) -> bool:
    """An element that screen readers get but the page does not show (a separator for them)."""
    if not isinstance(el.tag, str):
        return True
    return el.get("aria-hidden") == "true" or bool(HIDDEN_CLASS_RE.search(el.get("class", "")))


# Asked of every heading and two of its ancestors: class/id answers remembered, paths compiled once.
_is_logo_names = name_matcher(LOGO_CLASS_RE)
_is_kicker_name = name_matcher(KICKER_CLASS_RE)
_LINK_HREFS = etree.XPath(".//a/@href")
_VISIBLE_TEXTS = etree.XPath(".//text()[not(ancestor::script) and not(ancestor::style)]")


def _is_logo(el: lxml.html.HtmlElement, url: str | None) -> bool:
    """A heading that is the site's logo or name: it links to the homepage or says "logo" in its class."""
    for node in (el, *itertools.islice(el.iterancestors(), 2)):
        if _is_logo_names(f"{node.get('class', '')} {node.get('id', '')}"):
            return True
    for href in _LINK_HREFS(el)[:2]:
        target = urlsplit(urljoin(url or "", href.strip()))
        if (
            target.path in HOME_PATHS
            and not target.query
            and (target.netloc or url or href.strip() in ("/", "./"))
        ):
            return True
    return False


def _segment_runs(segments: list[str]) -> set[str]:
    """Keys of every run of consecutive <title> parts, so "A - B | Site" offers "A - B" and "A"."""
    return {
        text_key("".join(segments[i:j]))
        for i in range(len(segments))
        for j in range(i + 1, len(segments) + 1)
    }


def _overlap(h1: str, title: str) -> float:
    """Share of the h1's words that the declared title also has (CJK characters count as words)."""
    words = _words(h1)
    return len(words & _words(title)) / len(words) if words else 0.0


def _words(text: str) -> set[str]:
    return set(
        re.findall(
            r"[\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7af]|[^\W_]+",
            unicodedata.normalize("NFKC", text).casefold(),
        )
    )


def visible_text(el: lxml.html.HtmlElement) -> str:
    """The text of an element outside scripts and styles, its pieces joined by spaces."""
    return " ".join(t for t in _VISIBLE_TEXTS(el))


def heading_text(el: lxml.html.HtmlElement) -> str:
    """A heading's text as a browser shows it: inline markup adds no space, <br> and blocks do.

    "Planning C<span>ycle</span>" reads "Planning Cycle", not "Planning C ycle".
    Text marked aria-hidden="true" is left out when the rest has words: animated headings print
    their words in such spans and give the whole line once more for screen readers, icon fonts
    spell their icon's name ("gift_card") in one (wcxb-dev dev_2834, dev_0625).
    """
    pieces: list[str] = []
    _heading_pieces(el, pieces, skip_aria_hidden=True)
    text = squash("".join(pieces))
    if text:
        return text
    pieces.clear()
    _heading_pieces(el, pieces)
    return squash("".join(pieces))


def _heading_pieces(el: lxml.html.HtmlElement, pieces: list[str], skip_aria_hidden: bool = False) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in HIDDEN_TAGS or tag in HEADING_WIDGET_TAGS or el.get("hidden") is not None:
        return
    if skip_aria_hidden and el.get("aria-hidden") == "true":
        return
    gap = " " if tag in BREAKING_TAGS else ""
    pieces.append(gap + (el.text or ""))
    for child in el:
        if not (tag in MAIN_HEADING_TAGS and child.tag in HEADING_META_TAGS and any(map(str.strip, pieces))):
            _heading_pieces(child, pieces, skip_aria_hidden)
        pieces.append(child.tail or "")
    pieces.append(gap)


def _is_site_name(part: str, keys: set[str], host: str, leading: bool = False) -> bool:
    """A title part that is the site's name, a piece of it or (trailing only) a longer form of it.

    A leading part that merely holds the name is the page's own: "Stripe Payments | ...",
    "New to Astronomy – ..." (measured: +2 on wcxb-dev, none lost on the other sets).
    """
    key = text_key(part)
    if not key:
        return True
    if key in keys or any(k and ((k in key and not leading) or key in k) for k in keys if len(k) >= 3):
        return True
    return bool(host) and len(key) >= 3 and key in text_key(host)


def _join_parts(title: str, parts: list[str]) -> str:
    start = title.find(parts[0])
    end = title.rfind(parts[-1]) + len(parts[-1])
    return title[start:end].strip() if start >= 0 and end > start else " ".join(parts)


def squash(text: str) -> str:
    """Text with invisible characters dropped and whitespace collapsed."""
    return " ".join(text.translate(INVISIBLE_CHARS).split())


def text_key(text: str) -> str:
    """Text reduced to lower-case letters and digits, for comparing titles and names."""
    return "".join(filter(str.isalnum, unicodedata.normalize("NFKC", text).casefold()))


UI_WORD_KEYS = frozenset(text_key(w) for w in TITLE_UI_WORDS)
START_PAGE_KEYS = frozenset(text_key(w) for w in TITLE_START_PAGE_WORDS)
NOT_TITLE_KEYS = UI_WORD_KEYS | START_PAGE_KEYS
