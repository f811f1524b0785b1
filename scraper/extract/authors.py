"""Author step of metadata extraction: who wrote the article, as one string.

Input: the parsed page (read only), its <meta> values, its JSON-LD objects, the site name, URL and
language. Output: the names, joined as the page's own byline joins them when it prints them all,
else with ", "; None when the page names nobody. Sources, most trusted first: JSON-LD
author/creator (Person names, arrays, @id references into @graph), author <meta> tags,
itemprop/rel=author markup, byline-classed elements, visible "By X" / "作者：X" lines, and the
reporter sign-off closing a Chinese paragraph. A candidate that is the outlet itself (the site
name, the domain, an Organization) is kept only as a fallback when no person is named anywhere.
Elements inside comment threads, reviews and related-article teasers are never read.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import lxml.html

from .boilerplate import HIDDEN_TAGS
from .dom import NAME_CACHE_SIZE, NamedElements
from .titles import squash, text_key, visible_text

# JSON-LD types that name an organisation, not a person: an author of this type is the outlet.
ORG_TYPES = frozenset(
    (
        "organization",
        "newsmediaorganization",
        "corporation",
        "educationalorganization",
        "governmentorganization",
        "localbusiness",
        "website",
        "webpage",
        "brand",
    )
)
# <meta> keys that name the article's author, most specific first. citation_author and dc.creator
# are repeated once per author (Google Scholar and Dublin Core), so every tag of them is read;
# citation_author leads because a scholarly page's "author" meta often names the site's developer.
AUTHOR_META = (
    "citation_author",
    "citation_authors",  # the older Highwire form: every name in one tag, "A; B"
    "author",
    "article:author",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
    "dcterms.creator",
    "byl",
    "cxenseparse:author",
)
MULTI_VALUED_META = frozenset(("citation_author", "dc.creator"))
# <meta> keys naming the publisher: a page whose author tag repeats one names no person.
PUBLISHER_META = ("citation_publisher", "dc.publisher", "dcterms.publisher", "publisher")
# class/id tokens of elements that hold a byline (not "authorized-dealer", "authoring-tools").
BYLINE_CLASS_RE = re.compile(
    r"byline|author(?!i[sz]|ing)|autor|auteur|writer|posted-by|reporter|contributor|zuozhe", re.I
)
# A byline-classed token that names a part of an author box rather than the name: the biography,
# avatar, job title, date or article count ("author-bio", "author-image", "author-title").
AUTHOR_BOX_RE = re.compile(
    r"bio(?:$|[-_])|description|avatar|image|photo|img|social|icon|title|job|role|position|label",
    re.I,
)
# class/id tokens of containers whose names are not the article's author: comment threads and
# forms, product reviews, testimonials, link previews, related-article teasers, sidebars. Comment
# words count anywhere in a token ("wp-block-comment-author-name"); the others only at a token's
# start ("sidebar-content", "related-posts"), since page wrappers carry layout names such as
# "has-sidebar" or "elementor-widget".
NOT_ARTICLE_RE = re.compile(
    r"comment|respond|repl(?:y|ies)|testimonial|[-_]related$|"
    r"^(?:reviews?|related|recommend\w*|teasers?|bookmark|login|navbar|flyout)(?:[-_]|$)",
    re.I,
)
# Prefixes that introduce a name in a byline, to strip ("By Jane Doe", "作者：张三", "记者 李四", "文/王五").
BYLINE_PREFIX_RE = re.compile(
    r"^\s*(?:(?:(?:written|posted|reported|authored|created|edited|text|words)\s+)?by|von|par|por|di|door|av|"
    r"(?:verfasst|erstellt|geschrieben|veröffentlicht|publiziert)\s+von|escrito\s+por|escribe|écrit\s+par|"
    r"autor(?:in|en)?|authors?|auteurs?|written|posted|作者|[\u4e00-\u9fff]{0,6}?记者|文|撰文|编辑|责任编辑|"
    r"责编|来源)(?![^\W\d_])\s*[:：/|]?\s*",
    re.IGNORECASE,
)
# A byline word inside a longer line ("Posted on 21 May by Jane Doe", "Veröffentlicht am ... von X"):
# the name follows it.
INNER_BY_RE = re.compile(r"(?:^|\s)(?:by|von|par|por|door)(?:\s*[:：]\s*|\s+)(?=[^\W\d_])", re.IGNORECASE)
# Credits that are not authorship: a byline is cut where one starts ("By A. Reviewed by B"), and a
# site credit ("Website Design by X", "Powered by Y") names nobody.
OTHER_CREDIT_RE = re.compile(
    r"(?:^|[\s.,;|])(?:(?:last\s+)?updated|(?:medically\s+)?reviewed|edited|fact[-\s]?checked|photos?|photographs?|"
    r"illustrations?|images?|video|aktualisiert|geprüft|(?:web)?site|design(?:ed)?|theme|powered|developed|hosted)"
    r"\s+(?:by|von|par|por)\b",
    re.IGNORECASE,
)
# Dates and times inside byline text, replaced by a separator before the name is cut out.
_MONTHS = (
    r"January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Januar|Februar|März|Mai|Juni|Juli|Oktober|Dezember|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
BYLINE_DATE_RE = re.compile(
    rf"(?:{_MONTHS})\.?\s+\d{{1,2}}\b|\b\d{{1,2}}\.?\s+(?:{_MONTHS})\b|\b\d{{1,4}}[-/.]\d{{1,2}}(?:[-/.]\d{{2,4}})?\b"
    r"|\b\d{1,2}:\d{2}\b|\b\d{4}\s*年|\b(?:19|20)\d{2}\b|\b\d+\s+(?:min|minute|minutes|hours?|days?)\b"
)
# Where the name ends: separators, the words that introduce a date, "says" of comment headers.
BYLINE_END_RE = re.compile(
    r"\s*(?:[|｜·•»«\n]|\s[-–—]\s|[–—]|\(|（|\s@|https?://)\s*"
    r"|\s+(?:[Uu]pdated|[Pp]ublished|[Pp]osted|on|am|says|sagt|said|schreibt|[Ff]ollow|[Ss]hare|[Ll]ast)\b"
    r"|(?<=[a-z])(?=(?:Published|Updated|Posted|Share|Follow|Last|Read)\b)"
    r"|\s*,?\s*\b(?:Datum|Date|Fecha|Data)\b|\s*(?:发布|来源|时间|日期|[:：])"
)
# Words of byline labels and widgets: a candidate made only of them names nobody ("Written By",
# "The Author", "Sign In", "Name *", "Alle Beiträge").
LABEL_WORDS = frozenset(
    [
        "by",
        "von",
        "par",
        "por",
        "di",
        "door",
        "the",
        "a",
        "an",
        "of",
        "author",
        "authors",
        "autor",
        "autoren",
        "auteur",
        "written",
        "posted",
        "published",
        "on",
        "am",
        "publiziert",
        "veröffentlicht",
        "erstellt",
        "topic",
        "view",
        "more",
        "posts",
        "all",
        "alle",
        "beiträge",
        "artikel",
        "follow",
        "sign",
        "in",
        "up",
        "name",
        "your",
        "required",
        "erforderlich",
        "about",
        "me",
        "us",
        "write",
        "review",
        "reviews",
        "share",
        "comment",
        "comments",
        "reset",
        "insights",
        "from",
        "text",
        "und",
        "interview",
        "and",
        "photo",
        "photos",
        "foto",
        "fotos",
        "edited",
        "profile",
        "see",
        "read",
        "bio",
        "category",
        "categories",
        "collection",
        "tags",
        "updated",
        "modified",
        "join",
        "log",
    ]
)
# Account names a CMS fills in when nobody set an author: not a name, never returned.
PLACEHOLDER_RE = re.compile(
    r"^(?:(?:wp|wordpress|site|noc|super|sys)?[\s_-]?admin(?:istrator)?|webmaster|root|user|guest|"
    r"unknown|undefined|null|none|n/?a|page\.[\w.]+)$",
    re.IGNORECASE,
)
# Role words of a Chinese credit line: a line that is only one labels a name and is never one.
# "出版社" (publisher) follows a "作者" option in Sina's book search form (cwced-zh-dev e3f3b532,
# book.sina.com.cn). The other labels (作者, 记者, 编辑, 责任编辑, 来源) are byline prefixes above,
# removed before this test, so they never come out alone.
ZH_ROLE_WORDS = frozenset(("出版社",))
# Byline text that is not a name: markup, code, e-mail fields, legal notices, widget labels.
AUTHOR_JUNK_RE = re.compile(
    r"[@{}<>=©$]|function\s*\(|email|版权|声明|授权|欢迎|该作者|文章|name,|comment|share|cookie",
    re.IGNORECASE,
)
# How bylines join several names: commas, "and" in the languages of the benchmarks, "&", "、".
NAME_JOIN_RE = re.compile(r"\s*(?:[,;、，&]|\s(?:and|und|et|y|e|en|och|og|i)\s)\s*", re.IGNORECASE)
# Visible byline lines: "By Jane Doe", "von Andreas Kürten", "Von David Hutzler, dpa" (the agency
# after the comma is dropped). Two words at least: "By Weight" and "By Role" are menu headings. Not Dutch
# "door" here: outside a byline element it is the English word ("Door Locks").
VISIBLE_BY_RE = re.compile(
    r"^\s*(?i:by|von|par|por)\s+(?P<name>[A-ZÀ-ÖØ-Þ][\w'.-]+(?:\s+(?:[A-ZÀ-ÖØ-Þ][\w'.-]+|and|und|&|de|da|"
    r"van|von|der|den|la|le))+(?:\s*,\s*[A-ZÀ-ÖØ-Þ][\w'.-]+(?:\s+[A-ZÀ-ÖØ-Þ][\w'.-]+)*)*)"
    r"(?:\s*,\s*[a-z][\w/]{1,10})?\s*[,.]?\s*$"
)
# A byline word standing alone in its text node: the name is in the element that follows it.
LONE_BY_RE = re.compile(r"^\s*(?:by|von|par|por)\s*$", re.IGNORECASE)
# A Chinese label closing its text node ("出版社：团结出版社 作者："): the name is the next text node.
ZH_LABEL_END_RE = re.compile(r"(?:作者|记者|撰稿|撰文|执笔人?)\s*[:：]?\s*$")
# A Chinese personal name standing alone in its text node: after a label, or on the line under the
# headline, where blogs and magazines print the writer without any label ("犬儒病(上)" / "胡平").
ZH_BARE_NAME_RE = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
# Chinese labels: the writer's ("作者：张三", "本报记者 李四", "文/王五", "执笔人：A B C"), then an
# editor's ("责任编辑：赵六"), which only counts when no writer is named. A name followed by 摄 is a
# photographer's credit ("新华社记者 才扬 摄").
_ZH_NAME = r"[\u4e00-\u9fff·]{2,4}(?![\u4e00-\u9fff])"
_ZH_NAMES = rf"(?P<zh>{_ZH_NAME}(?:[\s、,，]+(?![\u4e00-\u9fff]*报道){_ZH_NAME}){{0,4}})(?!\s*摄)"
ZH_WRITER_RE = re.compile(rf"(?:作者|记者|撰稿|执笔人?|文)\s*(?:[:：/]\s*|\s+){_ZH_NAMES}")
ZH_EDITOR_RE = re.compile(rf"(?:责任编辑|责编|编辑)\s*(?:[:：/]\s*|\s+){_ZH_NAMES}")
# The reporter's sign-off that Chinese news paragraphs end with: "（记者 胡晓蓉）", "（姚峰 上海报道）".
AUTHOR_SIGNOFF_RE = re.compile(
    rf"[（(]\s*(?:[\u4e00-\u9fff]{{0,4}}?记者\s*)?(?P<zh>{_ZH_NAME}(?:\s+(?![\u4e00-\u9fff]*报道){_ZH_NAME}){{0,3}})"
    r"\s*(?:[\u4e00-\u9fff]{2,6}报道)?\s*[）)]\s*$"
)
CJK_RE = re.compile(r"[\u4e00-\u9fff]")
# What every label test of a visible line needs: a leading byline word (LONE_BY_RE, VISIBLE_BY_RE)
# or a character of a Chinese label (ZH_WRITER_RE, ZH_LABEL_END_RE, ZH_EDITOR_RE). A line
# without one skips those five searches (speed only).
LINE_HINT_RE = re.compile(r"^\s*(?i:by|von|par|por)|[作记撰执文编责]")
_MAX_BYLINES = 40


@dataclass(frozen=True, slots=True)
class _Candidate:
    """Names from one source. strong: structured data or an explicit "By"; org: an Organization."""

    names: list[str]
    strong: bool
    org: bool = False


class _Page:
    """What the author step reads from one page, each part read at most once."""

    def __init__(
        self,
        tree: lxml.html.HtmlElement,
        meta: dict[str, str],
        site_name: str | None,
        url: str | None,
        title: str | None = None,
        named: NamedElements | None = None,
    ) -> None:
        self.tree = tree
        self.named = named or NamedElements(tree)
        self.meta = meta
        self.title = title
        publishers = [meta.get(k, "") for k in PUBLISHER_META]
        self.outlet_keys = _outlet_keys(site_name, url) | {text_key(p) for p in publishers if p}
        # the software's credit in an author tag ("Discuz! Team and Comsenz UI Team")
        generator = (meta.get("generator") or "").split()
        self.generator_key = text_key(generator[0]) if generator else ""
        self._bylines: list[tuple[str, bool]] | None = None

    def bylines(self) -> list[tuple[str, bool]]:
        """(name, had a "By") of byline-classed elements outside comments and teasers, in page order."""
        if self._bylines is None:
            self._bylines = []
            for el, names in self.named.matching(BYLINE_CLASS_RE):
                if el.tag in HIDDEN_TAGS or not _is_byline_names(names) or _in_excluded(el):
                    continue
                name, strong = _clean(visible_text(el)[:300])
                if name:
                    self._bylines.append((name, strong))
                    if len(self._bylines) >= _MAX_BYLINES:
                        break
        return self._bylines

    def is_outlet(self, name: str) -> bool:
        """True when the name is the site itself (its name or domain) rather than a person."""
        parts = [text_key(p) for p in re.split(r"[,/|]", name)]
        return any(p and p in self.outlet_keys for p in parts) or text_key(name) in self.outlet_keys


def find_author(
    tree: lxml.html.HtmlElement,
    article: dict[str, Any],
    page: dict[str, Any],
    objects: list[dict[str, Any]],
    meta: dict[str, str],
    site_name: str | None,
    url: str | None,
    language: str | None,
    title: str | None = None,
    named: NamedElements | None = None,
) -> str | None:
    """The article's author names as one string, or None when the page names nobody.

    The first person named wins. An outlet (the site itself, an Organization) is only kept when
    no later source names a person in structured data or after an explicit "By": a bare
    byline-classed element is too weak to overrule the site's own metadata (nor, on Chinese
    pages, a later "作者：" or "记者" label).
    """
    ctx = _Page(tree, meta, site_name, url, title, named)
    outlet: list[str] | None = None
    weak: list[str] | None = None
    for cand in _candidates(ctx, article, page, objects, language):
        names = [n for n in cand.names if not PLACEHOLDER_RE.match(n)]
        if not names:
            continue
        if cand.org or all(ctx.is_outlet(n) for n in names):
            outlet = outlet or names
        elif cand.strong or (outlet is None and language != "zh" and not CJK_RE.search(names[0])):
            return _render(names, ctx)
        else:
            # Chinese pages print the writer after an explicit label ("记者 彭冲") more often than
            # in a byline-classed element, whose text is then often the outlet's card.
            weak = weak or names
    return ", ".join(outlet or weak or []) or None


def clean_author(text: str) -> str | None:
    """A byline reduced to its names: no "By", role label, date, handle or trailing widget text."""
    return _clean(text)[0]


def _clean(text: str) -> tuple[str | None, bool]:
    """The name in a byline, and whether a byline word ("By", "Von", "作者") introduced it."""
    text = squash(html.unescape(text))
    text, prefixed = BYLINE_PREFIX_RE.subn("", text, count=1)
    if other := OTHER_CREDIT_RE.search(text):
        text = text[: other.start()].rstrip(" .,;")
    text = BYLINE_DATE_RE.sub(" | ", text)
    inner = INNER_BY_RE.search(text)
    if inner and (len(text) > 40 or _all_labels(text[: inner.start()])):
        text, prefixed = text[inner.end() :], 1
    for part in BYLINE_END_RE.split(text):
        part = _cjk_name(part.strip(" ,;:-–—*()[]"))
        if part and not _all_labels(part):
            text = part
            break
    else:
        return None, False
    if not 2 <= len(text) <= 80 or sum(c.isdigit() for c in text) > 4 or text.count(" ") > 8:
        return None, False
    if AUTHOR_JUNK_RE.search(text) or PLACEHOLDER_RE.match(text) or not re.search(r"[^\W\d_]{2}", text):
        return None, False
    if text in ZH_ROLE_WORDS:
        return None, False
    return text, bool(prefixed)


# ---- candidates, most trusted first --------------------------------------------------------------


def _candidates(
    ctx: _Page,
    article: dict[str, Any],
    page: dict[str, Any],
    objects: list[dict[str, Any]],
    language: str | None,
) -> Iterator[_Candidate]:
    """Candidates from each source in turn; the caller stops at the first person."""
    index = {str(o["@id"]): o for o in objects if isinstance(o.get("@id"), str)}
    for owner, key in ((article, "author"), (article, "creator"), (page, "author")):
        if owner.get(key):
            people = list(_ld_people(owner[key], index))
            yield _Candidate([n for n, _ in people], True, bool(people) and all(org for _, org in people))
    for key in AUTHOR_META:
        names = [
            n
            for v in _meta_values(ctx, key)
            for part in (v.split(";") if key == "citation_authors" else [v])
            if (n := _meta_name(part, key)) and not (ctx.generator_key and ctx.generator_key in text_key(n))
        ]
        if names:
            yield _Candidate(names, True)
    for el in ctx.tree.xpath('//body//*[@itemprop="author"] | //body//*[@rel="author"]'):
        if _in_excluded(el):
            continue
        inner = el.xpath('.//*[@itemprop="name"]/@content | .//*[@itemprop="name"]//text()')
        if name := clean_author(" ".join(inner) if inner else visible_text(el)[:300]):
            yield _Candidate([name], True)
    for name, strong in ctx.bylines():
        yield _Candidate([name], strong)
    yield from _visible_lines(ctx, language)


def _ld_people(value: Any, index: dict[str, dict[str, Any]]) -> Iterator[tuple[str, bool]]:
    """(name, is_organisation) for each author in a JSON-LD value: strings, objects, @id references."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            item = {"@id": item} if re.match(r"(?:https?:)?//|#", item) else {"name": item}
        if not isinstance(item, dict):
            continue
        target = item
        if not item.get("name") and isinstance(item.get("@id"), str):
            target = index.get(item["@id"], item)
        raw = target.get("name")
        kinds = target.get("@type", ())
        kinds = {str(k).lower() for k in ([kinds] if isinstance(kinds, str) else kinds)}
        for one in raw if isinstance(raw, list) else [raw]:
            if isinstance(one, str) and (name := _ld_name(one)):
                yield name, bool(kinds & ORG_TYPES)


def _ld_name(value: str) -> str | None:
    """A JSON-LD name as given, minus entities, a "By " prefix and edge punctuation: it is data, not
    a byline to cut up ("Sergio Martínez-Beltrán | The Texas Newsroom" is what the site says)."""
    text = BYLINE_PREFIX_RE.sub("", squash(html.unescape(value)), count=1).strip(" ,;|-–—")
    if not 2 <= len(text) <= 100 or re.match(r"(?:https?:)?//", text) or PLACEHOLDER_RE.match(text):
        return None
    return text


def _meta_values(ctx: _Page, key: str) -> list[str]:
    if key in MULTI_VALUED_META:
        values = ctx.tree.xpath(f'//meta[translate(@name, "CITAONDR", "citaondr")="{key}"]/@content')
        return [squash(v) for v in values if v.strip()]
    value = ctx.meta.get(key, "")
    return [value] if value else []


def _meta_name(value: str, key: str) -> str | None:
    if re.match(r"(?:https?:)?//|www\.|\d+$", value):
        return None  # a profile URL (article:author) or a numeric account id
    if key == "citation_author" and value.count(",") == 1:
        last, first = (p.strip() for p in value.split(","))
        value = f"{first} {last}"  # Google Scholar's "Last, First"
    return clean_author(value)


def _visible_lines(ctx: _Page, language: str | None) -> Iterator[_Candidate]:
    """Names printed in the page text: "By X" lines, a lone "By" before a link, Chinese labels."""
    editor: str | None = None
    # The headline as extracted, and as the <title> element gives it (the two can disagree).
    title_key = text_key(ctx.title or "") + "\n" + text_key(ctx.tree.findtext(".//title") or "")
    nodes = ctx.tree.xpath("//body//text()[normalize-space()]")
    for i, node in enumerate(nodes):
        parent = node.getparent()
        if parent is None or parent.tag in HIDDEN_TAGS or len(node) > 120:
            continue
        text = str(node)
        if not LINE_HINT_RE.search(text):
            # No label test below can match: only the headline one is left, and it needs a
            # Chinese name in the next node (speed: text_key() on every node was the cost).
            if (
                i + 1 < len(nodes)
                and CJK_RE.search(nodes[i + 1])
                and _is_headline(text, title_key)
                and (name := _bare_name(nodes[i + 1]))
            ):
                yield _Candidate([name], False)
            continue
        if LONE_BY_RE.match(text):
            if name := _name_after(parent if node.is_text else parent.getparent()):
                yield _Candidate([name], True)
            continue
        if match := VISIBLE_BY_RE.match(text):
            if (name := clean_author(match.group("name"))) and not _in_excluded(parent):
                yield _Candidate([name], True)
            continue
        if match := ZH_WRITER_RE.search(text):
            yield _Candidate([_cjk_name(squash(match.group("zh")))], True)
        elif (ZH_LABEL_END_RE.search(text) or _is_headline(text, title_key)) and i + 1 < len(nodes):
            if name := _bare_name(nodes[i + 1]):
                yield _Candidate([name], not _is_headline(text, title_key))
        elif editor is None and (match := ZH_EDITOR_RE.search(text)):
            editor = _cjk_name(squash(match.group("zh")))
    if language == "zh":
        for text in ctx.tree.xpath("//body//p//text()[contains(., '）') or contains(., ')')]"):
            if "记者" in text[-40:] or "报道" in text[-40:]:
                match = AUTHOR_SIGNOFF_RE.search(text[-40:])
                if match:
                    yield _Candidate([squash(match.group("zh"))], True)
    if editor:
        yield _Candidate([editor], True)


# ---- helpers -------------------------------------------------------------------------------------


def _bare_name(node: Any) -> str | None:
    """A text node that is a Chinese name alone, outside links (a link is the navigation's: "首页")."""
    following = squash(str(node))
    if (
        ZH_BARE_NAME_RE.match(following)
        and clean_author(following)  # not "版权所有"
        and not node.getparent().xpath("ancestor-or-self::a")
    ):
        return following
    return None


def _is_headline(text: str, title_key: str) -> bool:
    key = text_key(text)
    return len(key) >= 4 and key in title_key


def _name_after(holder: lxml.html.HtmlElement | None) -> str | None:
    """The name after a lone "By" that starts its element's text (itself, or its parent's)."""
    for _ in range(2):
        if holder is None or holder.tag == "body" or _in_excluded(holder):
            return None
        text = squash(visible_text(holder))
        if len(text) > 200:
            return None
        if not LONE_BY_RE.match(text.split(" ", 1)[0]):
            # "Shop by Weight", "last modified by MDN contributors": a phrase, not a byline.
            return None
        if name := clean_author(text):
            return name
        holder = holder.getparent()
    return None


def _render(names: list[str], ctx: _Page) -> str:
    """Names joined as the page's own byline prints them all, else with ", "."""
    wanted = [n.casefold() for n in names]
    for byline, _ in ctx.bylines():
        line = byline.casefold()
        if not all(n in line for n in wanted):
            continue
        parts = [p for p in NAME_JOIN_RE.split(byline) if p]
        if len(names) <= len(parts) <= 8 and all(_name_like(p) for p in parts):
            return byline
    return ", ".join(names)


@functools.lru_cache(maxsize=NAME_CACHE_SIZE)
def _is_byline_names(names: str) -> bool:
    if not BYLINE_CLASS_RE.search(names):  # one search settles most elements
        return False
    return any(BYLINE_CLASS_RE.search(t) and not AUTHOR_BOX_RE.search(t) for t in names.split())


def _name_like(text: str) -> bool:
    words = text.split()
    return 1 <= len(words) <= 6 and not _all_labels(text)


def _all_labels(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", text.casefold())
    return all(w in LABEL_WORDS for w in words)


def _cjk_name(text: str) -> str:
    """'赵 培' -> '赵培': Chinese pages pad two-character names with a space to align them."""
    parts = text.split()
    if len(parts) > 1 and all(len(p) == 1 and "\u4e00" <= p <= "\u9fff" for p in parts):
        return "".join(parts)
    return text


def _in_excluded(el: lxml.html.HtmlElement) -> bool:
    """True inside a comment thread, review, teaser, link preview or menu (the element included)."""
    node: lxml.html.HtmlElement | None = el
    while node is not None and node.tag != "body":
        if node.tag == "nav" or node.get("role") in ("menu", "navigation", "menubar"):
            return True
        if _is_not_article_names(f"{node.get('class', '')} {node.get('id', '')}"):
            return True
        node = node.getparent()
    return False


@functools.lru_cache(maxsize=NAME_CACHE_SIZE)
def _is_not_article_names(names: str) -> bool:
    return any(NOT_ARTICLE_RE.search(t) for t in names.split())


def _outlet_keys(site_name: str | None, url: str | None) -> frozenset[str]:
    keys = set()
    if site_name:
        keys.add(text_key(site_name))
    host = (urlsplit(url or "").hostname or "").removeprefix("www.")
    if host:
        # "finanztreff.de", "Motorsport-Total.com", "stol": the domain posing as the author.
        keys.add(text_key(host))
        labels = host.split(".")
        keys.add(text_key(labels[0]))
        if len(labels) >= 2:
            keys.add(text_key(".".join(labels[-2:])))
            if len(labels[-2]) > 3:
                keys.add(text_key(labels[-2]))
    keys.discard("")
    return frozenset(keys)
