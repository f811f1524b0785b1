"""Main content: pick the article block in a parsed page and flatten it to clean paragraphs.

Input: the lxml tree (mutated: boilerplate is removed), the site's Rules and
the page metadata (title, published). Output: Content(text, html, page_kind).
Heuristics (tags, class/id tokens, text patterns, thresholds) live in
boilerplate.py. Steps: drop per-site and generic boilerplate, flatten the
body into paragraphs, score containers by the prose they hold (readability's
scheme, with CJK characters weighted and CJK punctuation counted), take the
best one plus its good siblings (or the whole cleaned page when that block
holds little of the page's prose: listings, service pages), add the standfirst
between the headline and the block, clean link lists inside it, strip the
headline and byline from its start, and render text and HTML.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from lxml import etree

from ..config import Rules
from . import boilerplate as bp
from .boilerplate import HEADING_TAGS, NAME_TOKEN_SPLIT_RE
from .dom import class_id, is_ancestor, is_inside, outermost
from .flatten import Para, flatten
from .kind import page_kind, read_hints
from .lines import is_boilerplate_text, is_dateline, is_prose
from .rules import drop_selected, remove_keeping_tail, select_all
from .text import is_headline, normalise, title_forms, weighted_len

logger = logging.getLogger(__name__)

_BOILERPLATE_SUBSTRING_RE = re.compile("|".join(map(re.escape, bp.BOILERPLATE_SUBSTRINGS)))
_WORD_RE = re.compile(r"\w")
# Containers whose own text is a paragraph: the score goes to their parent.
_INLINE_PARAGRAPH_TAGS = frozenset(
    {"p", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "blockquote"}
)
# Readability's base scores for a candidate container by tag.
_TAG_BASE_SCORE = {
    "div": 5.0,
    "article": 5.0,
    "section": 3.0,
    "main": 5.0,
    "td": 3.0,
    "pre": 3.0,
    "blockquote": 3.0,
    "ol": -3.0,
    "ul": -3.0,
    "dl": -3.0,
    "li": -3.0,
    "form": -3.0,
    "address": -3.0,
    "th": -5.0,
    "h1": -5.0,
    "h2": -5.0,
    "h3": -5.0,
}
# Ancestor score dividers: parent, grandparent, then readability's level * 3.
_ANCESTOR_DIVIDERS = (1.0, 2.0, 6.0, 9.0, 12.0)
# Blocks inside the main content that may be removed as link lists.
_CLEANABLE_TAGS = frozenset({"div", "section", "ul", "ol", "dl", "table", "header", "figure", "span"})
_CARD_HEADING_TAGS = ("h2", "h3", "h4", "h5", "h6")


class PageMeta(Protocol):
    """What content extraction reads from the metadata step."""

    @property
    def title(self) -> str | None: ...

    @property
    def published(self) -> dt.date | dt.datetime | None: ...


@dataclass(frozen=True, slots=True)
class Content:
    """The main content of a page: text, cleaned HTML and the kind of page."""

    text: str
    html: str
    page_kind: str = "article"


@dataclass(slots=True)
class _Stats:
    """Text totals of one element's subtree, from its paragraphs."""

    chars: int = 0
    link_chars: int = 0
    score: float = 0.0
    scored: bool = False
    punctuation: int = 0
    children: list[etree._Element] = field(default_factory=list)

    @property
    def link_density(self) -> float:
        return self.link_chars / self.chars if self.chars else 0.0


def extract_content(tree: etree._Element, rules: Rules | None, meta: PageMeta | None) -> Content:
    """Find the main content of a parsed page (the tree is modified)."""
    rules = rules or Rules()
    body = _body_of(tree)
    if body is None:
        return Content("", "", "article")
    hints = read_hints(tree)
    if rules.drop:
        drop_selected(tree, rules.drop)
    chosen = select_all(tree, rules.body) if rules.body else []
    _drop_tags(tree)
    _drop_credits(body)
    dated = meta is not None and meta.published is not None
    if chosen:
        logger.debug("rules.body matched %d elements", len(chosen))
        paras = [p for el in chosen for p in flatten(el)]
        kind = page_kind(hints, paras, paras, dated, 0, 0)
    else:
        _drop_boilerplate_blocks(body)
        all_paras = flatten(body)
        stats = _collect_stats(all_paras, body)
        chosen, gallery, grouped = _choose_main(body, stats)
        if gallery is not None:
            all_paras = [p for p in all_paras if not is_inside(p.container, [gallery])]
            remove_keeping_tail(gallery)
        main_paras = [p for p in all_paras if is_inside(p.container, chosen)]
        # a group of cards: the kind is judged on one card, as if the best one alone were chosen
        card_paras = (
            main_paras if grouped is None else [p for p in main_paras if is_inside(p.container, [grouped])]
        )
        datelines = sum(
            1
            for p in card_paras
            if len(p.text) <= bp.FURNITURE_LINE_MAX_CHARS
            and is_dateline(p.text)
            and not bp.REVISION_LINE_RE.match(p.text)
        )
        times = sum(1 for _ in body.iter("time"))
        kind = page_kind(hints, all_paras, card_paras, dated, times, datelines)
        best = chosen
        lead: list[Para] = []
        # a group of cards is judged as a listing is: it must hold most of the page
        shape = kind if grouped is None else "listing"
        if _is_partial_block(main_paras, _outside_complementary(all_paras, chosen, kind), shape):
            _drop_complementary(body, best)
            chosen = [body]
        else:
            lead = _lead_paragraphs(all_paras, chosen, meta)
        if kind != "listing":
            _drop_link_lists(chosen, stats, best)
        if kind == "article":
            _drop_teaser_cards(chosen, best)
        paras = lead + [p for el in chosen for p in flatten(el)]
    paras = _strip_lead(_filter_paragraphs(paras), meta)
    return Content(_render_text(paras), _render_html(paras), kind)


def _body_of(tree: etree._Element) -> etree._Element | None:
    if not isinstance(tree.tag, str):
        return None
    if tree.tag == "body":
        return tree
    body = tree.find("body")
    return body if body is not None else tree


# --- step 1: boilerplate removal ---------------------------------------------------------------


def _drop_tags(tree: etree._Element) -> None:
    """Remove never-content tags, then landmarks (nav, footer, banner header, small forms)."""
    _drop_never_content(tree)
    landmarks = list(tree.iter(*bp.LANDMARK_TAGS))
    if not landmarks:
        return
    total = max(1, len(tree.text_content()))
    for el in landmarks:
        if el.getparent() is None or any(a.getparent() is None and a is not tree for a in el.iterancestors()):
            continue
        size = len(el.text_content())
        if size > bp.LANDMARK_MAX_SHARE * total:
            continue
        if el.tag == "form" and size >= bp.FORM_MAX_CHARS:
            continue
        if el.tag == "header" and (
            any(a.tag in bp.HEADER_KEEP_INSIDE for a in el.iterancestors()) or _holds_prose(el)
        ):
            continue
        remove_keeping_tail(el)


# Any credit token, as a substring (a superset of the token test in _drop_credits).
_CREDIT_HINT_RE = re.compile("|".join(sorted(bp.CREDIT_TOKENS | bp.FIGURE_CREDIT_TOKENS)))


def _drop_credits(body: etree._Element) -> None:
    """Remove image credits marked up as their own element (class/id tokens or microdata)."""
    doomed = []
    for el in body.iter(etree.Element):
        itemprop = el.get("itemprop")
        names = class_id(el).lower()
        if not itemprop and not (names and _CREDIT_HINT_RE.search(names)):
            continue  # a substring search settles most elements before the token split
        tokens = set(NAME_TOKEN_SPLIT_RE.split(names))
        if not (
            tokens & bp.CREDIT_TOKENS
            or (itemprop and itemprop in bp.CREDIT_ITEMPROPS)
            or (tokens & bp.FIGURE_CREDIT_TOKENS and _in_figure(el))
        ):
            continue
        text = " ".join(el.text_content().split())
        if text and len(text) <= bp.CREDIT_MAX_CHARS and not bp.SENTENCE_END_RE.search(text):
            doomed.append(el)
    for el in doomed:
        if el.getparent() is not None:
            remove_keeping_tail(el)


def _in_figure(el: etree._Element) -> bool:
    for a in el.iterancestors():
        if a.tag in ("figure", "figcaption"):
            return True
        if a.tag in ("body", "article", "main"):
            return False
        if bp.CAPTION_NAME_RE.search(class_id(a)):
            return True
    return False


def _drop_never_content(tree: etree._Element) -> None:
    """Strip script, style and widgets; a widget that swallowed the page (unclosed <button>) stays."""
    etree.strip_elements(tree, *bp.DROP_TAGS, with_tail=False)
    for el in list(tree.iter(*bp.WIDGET_TAGS)):
        if el.getparent() is None:
            continue
        if next(el.iter(*bp.SWALLOWED_TAGS), None) is not None and _holds_prose(el):
            continue
        remove_keeping_tail(el)


def _holds_prose(el: etree._Element) -> bool:
    """True when a paragraph inside reads as prose (a lede, an article), not as a link or label."""
    for p in el.iter("p"):
        text = " ".join(p.text_content().split())
        if weighted_len(text) < bp.PROSE_PARAGRAPH_CHARS or not bp.PUNCTUATION_RE.search(text):
            continue
        links = sum(len(a.text_content()) for a in p.iter("a"))
        if links < bp.PROSE_MAX_LINK_DENSITY * len(text):
            return True
    return False


def _is_boilerplate_name(el: etree._Element) -> bool:
    if _is_boilerplate_names(el.get("class")):
        return True
    return _is_boilerplate_names(el.get("id")) and not _is_heading_anchor(el)


def _is_boilerplate_names(names: str | None) -> bool:
    if not names:
        return False
    names = names.lower()
    if any(t in bp.BOILERPLATE_TOKENS for t in NAME_TOKEN_SPLIT_RE.split(names)):
        return True
    return _BOILERPLATE_SUBSTRING_RE.search(names) is not None


def _is_heading_anchor(el: etree._Element) -> bool:
    """The id is its heading's text made a slug ("sharing-with-a-single-developer"): it names the topic.

    Documentation generators and Markdown renderers give each section the slug
    of its heading (readability mercurial); the words are prose, not a widget's name.
    """
    heading = next(el.iter(*HEADING_TAGS), None)
    if heading is None:
        return False
    words = set(re.findall(r"\w+", heading.text_content().casefold()))
    tokens = [t for t in NAME_TOKEN_SPLIT_RE.split(el.get("id", "").casefold()) if t and not t.isdigit()]
    return len(tokens) >= 2 and all(t in words for t in tokens)


def _is_in_running_text(el: etree._Element) -> bool:
    """An inline element with words on both sides in its block: part of a sentence, not a widget.

    A glossary pop-up link named "popup" (readability clean-links) is a word of the text.
    """
    if el.tag not in bp.INLINE_TAGS or not _WORD_RE.search(el.tail or ""):
        return False
    previous = el.getprevious()
    before = previous.tail if previous is not None else el.getparent().text
    return bool(_WORD_RE.search(before or ""))


def _is_chart_label(el: etree._Element) -> bool:
    """A short text placed at percent coordinates over a graphic: a chart's or a map's label."""
    style = el.get("style")
    if not style or not bp.POSITIONED_LABEL_RE.search(style):
        return False
    return len(" ".join(el.text_content().split())) <= bp.CHART_LABEL_MAX_CHARS


def _is_hidden(el: etree._Element) -> bool:
    if el.get("hidden") is not None:
        return True
    style = el.get("style")
    return bool(style and bp.HIDDEN_STYLE_RE.search(style))


def _drop_boilerplate_blocks(body: etree._Element) -> None:
    """Remove blocks named like boilerplate or hidden, unless they hold the page's main text.

    A block is kept when it holds more than half the page's text, or most of its prose
    (a "with-sidebar-layout" wrapper around the article). Comment blocks are kept only
    when the page has no other prose (a forum thread).
    """
    matched = [
        el
        for el in body.iter(etree.Element)
        if el is not body
        and (
            _is_hidden(el)
            or _is_chart_label(el)
            or (_is_boilerplate_name(el) and not _is_in_running_text(el))
        )
    ]
    if not matched:
        return
    total = max(1, len(body.text_content()))
    prose = _prose_weights(body)
    prose_total = max(1, prose.get(body, 0))
    hidden = [el for el in matched if _is_hidden(el)]
    hidden_prose = sum(prose.get(el, 0) for el in outermost(hidden))
    # hidden text is not read when the page shows prose of its own; a page whose
    # article a script reveals has all its prose hidden, and keeps its largest block
    shows_prose = prose_total - hidden_prose > bp.VISIBLE_PROSE_SHARE * prose_total
    doomed: list[etree._Element] = []
    removed: set[etree._Element] = set()
    for el in matched:
        if el.tag in ("html", "body") or any(a in removed for a in el.iterancestors()):
            continue
        share = len(el.text_content()) / total
        if not (shows_prose and _is_hidden(el)) and _keeps_boilerplate_block(
            el, share, prose.get(el, 0) / prose_total
        ):
            continue
        removed.add(el)
        doomed.append(el)
    consent = [el for el in doomed if bp.CONSENT_NAME_RE.search(class_id(el))]
    prose_total = max(1, prose_total - sum(prose.get(el, 0) for el in consent))
    gone = sum(prose.get(el, 0) for el in doomed) - sum(prose.get(el, 0) for el in consent)
    other = prose_total - gone
    if (
        prose_total > bp.FORUM_MIN_PROSE
        and other < bp.FORUM_MAX_OTHER_PROSE_SHARE * prose_total
        and other < bp.FORUM_MAX_OTHER_PROSE
    ):
        # Everything that reads as prose is named "comment": a forum thread, not an article's comments.
        doomed = [el for el in doomed if prose.get(el, 0) == 0 or el in consent]
    for el in doomed:
        logger.debug("boilerplate block <%s class=%r id=%r>", el.tag, el.get("class"), el.get("id"))
        remove_keeping_tail(el)


def _keeps_boilerplate_block(el: etree._Element, share: float, prose_share: float) -> bool:
    if _is_chart_label(el):
        return False
    names = class_id(el)
    if bp.CONSENT_NAME_RE.search(names) and next(el.iter("h1", "article", "main"), None) is None:
        return False
    if share > bp.BOILERPLATE_KEEP_ANY_SHARE:
        return True
    if (
        prose_share > bp.BOILERPLATE_KEEP_PROSE_SHARE
        and not _is_hidden(el)
        and bp.NEVER_CONTENT_NAME_RE.search(names) is None
    ):
        return True
    return share > bp.BOILERPLATE_KEEP_CONTENT_SHARE and (
        el.tag in ("article", "main") or bp.POSITIVE_RE.search(names) is not None
    )


def _prose_weights(body: etree._Element) -> dict[etree._Element, int]:
    """CJK-weighted characters of prose paragraphs under each element (long, few links)."""
    weights: dict[etree._Element, int] = {}
    for para in flatten(body):
        if not is_prose(para, at_limit=True):
            continue
        node: etree._Element | None = para.container
        while node is not None:
            weights[node] = weights.get(node, 0) + para.weight
            if node is body:
                break
            node = node.getparent()
    return weights


# --- step 2: flattening ------------------------------------------------------------------------


# --- step 3: scoring and choosing the main block ------------------------------------------------


def _collect_stats(paras: list[Para], body: etree._Element) -> dict[etree._Element, _Stats]:
    """Sum text and link characters up the tree, and give each prose paragraph's score to its containers."""
    stats: dict[etree._Element, _Stats] = {}
    text_divs: dict[etree._Element, bool] = {}
    for para in paras:
        node: etree._Element | None = para.container
        while node is not None:
            st = stats.get(node)
            if st is None:
                st = stats[node] = _Stats()
            st.chars += para.weight
            st.link_chars += para.link_chars * para.weight // max(1, len(para.text))
            if node is body:
                break
            node = node.getparent()
        if not is_prose(para, bp.MIN_PARAGRAPH_CHARS, bp.MAX_LINK_DENSITY, at_limit=True):
            continue
        if para.container.tag in HEADING_TAGS:
            continue
        if is_boilerplate_text(para.text):
            continue
        punctuation = len(bp.PUNCTUATION_RE.findall(para.text))
        score = 1.0 + punctuation + min(para.weight / 100.0, 3.0)
        first = para.container
        if first.tag in _INLINE_PARAGRAPH_TAGS or (first.tag == "div" and _is_text_div(first, text_divs)):
            first = first.getparent()
        level = 0
        while first is not None and level < len(_ANCESTOR_DIVIDERS):
            st = stats.get(first)
            if st is None:
                st = stats[first] = _Stats()
            if not st.scored:
                st.scored = True
                st.score += _initial_score(first)
            st.score += score / _ANCESTOR_DIVIDERS[level]
            st.punctuation += punctuation
            if first is body:
                break
            first = first.getparent()
            level += 1
    return stats


def _is_text_div(el: etree._Element, seen: dict[etree._Element, bool]) -> bool:
    """A <div> holding only text and inline tags is a paragraph, as readability reads it.

    Its score goes to its parent, like a <p>'s: an <article> of text <div>s is the
    block, not its first <div> (readability base-url, embedded-videos; wcxb-dev
    all 0.8123 -> 0.8133, trafilatura snippets unchanged).
    """
    known = seen.get(el)
    if known is None:  # one check per <div>, however many lines its <br>s make
        known = seen[el] = all(not isinstance(c.tag, str) or c.tag not in bp.BLOCK_TAGS for c in el)
    return known


def _class_weight(el: etree._Element) -> float:
    weight = 0.0
    for value in (el.get("class"), el.get("id")):
        if not value:
            continue
        if bp.NEGATIVE_RE.search(value):
            weight -= bp.CLASS_WEIGHT
        if bp.POSITIVE_RE.search(value):
            weight += bp.CLASS_WEIGHT
    return weight


def _initial_score(el: etree._Element) -> float:
    return _TAG_BASE_SCORE.get(el.tag, 0.0) + _class_weight(el)


def _final_score(st: _Stats) -> float:
    return st.score * (1.0 - st.link_density)


def _choose_main(
    body: etree._Element, stats: dict[etree._Element, _Stats]
) -> tuple[list[etree._Element], etree._Element | None, etree._Element | None]:
    """The best-scoring container, moved up where its parent holds more, plus its good siblings.

    Returns the chosen blocks, a photo gallery passed over for them (to be removed),
    and the best card when the block was taken as the group of a component's copies.
    """
    candidates = [(el, _final_score(st)) for el, st in stats.items() if st.scored]
    if not candidates:
        return [body], None, None
    candidates.sort(key=lambda c: c[1], reverse=True)
    top, top_score = candidates[0]
    # a photo gallery's captions: a list of items inside a block named like a gallery
    gallery = _gallery_of(top, body) if top.tag in ("ul", "ol") else None
    if gallery is not None:
        other = _best_outside(candidates, gallery)
        if other is None:
            gallery = None
        else:
            top, top_score = other
    regions: dict[etree._Element, etree._Element | None] = {}
    if _complementary_region(top, regions) is not None:
        # an <aside> or a sidebar is complementary content: it gives way to the page's own text
        main = [
            c for c in candidates[: bp.GALLERY_MAX_CANDIDATES] if _complementary_region(c[0], regions) is None
        ]
        if main and main[0][1] >= bp.COMPLEMENTARY_MIN_SCORE_SHARE * top_score:
            top, top_score = main[0]
            candidates = main
    shared = _shared_ancestor(top, top_score, candidates[1:5], body)
    grouped = None
    if shared is None:
        shared = _repeated_ancestor(top, top_score, candidates[1 : bp.GALLERY_MAX_CANDIDATES], body)
        grouped = top if shared is not None else None
    if shared is not None:
        top = shared
    top = _climb(top, stats, body)
    return _with_siblings(top, stats, body), gallery, grouped


def _best_outside(
    candidates: list[tuple[etree._Element, float]], gallery: etree._Element
) -> tuple[etree._Element, float] | None:
    """The best candidate outside a photo gallery, when it scores well beside the gallery's best.

    Fifty photo captions outscore the four paragraphs the gallery illustrates
    (readability bug-1255978); a gallery page with no other text keeps them.
    Only a list of captions gives way: a product page's "gallery-left" layout
    block or a carousel of testimonials holds the text (wcxb product pages).
    """
    top_score = candidates[0][1]
    for el, score in candidates[1 : bp.GALLERY_MAX_CANDIDATES]:
        if score < bp.GALLERY_MIN_SCORE_SHARE * top_score:
            break
        if el is not gallery and not is_ancestor(gallery, el):
            return el, score
    return None


def _gallery_of(el: etree._Element, body: etree._Element) -> etree._Element | None:
    """The outermost block named like a photo gallery around the element, below the body."""
    found = None
    for node in (el, *el.iterancestors()):
        if node is body:
            break
        if bp.GALLERY_NAME_RE.search(f"{node.get('class', '')} {node.get('id', '')}"):
            found = node
    return found


def _shared_ancestor(
    top: etree._Element,
    top_score: float,
    others: list[tuple[etree._Element, float]],
    body: etree._Element,
) -> etree._Element | None:
    """Readability: when 3+ near-top candidates sit under one ancestor, the text is split; take it."""
    close = [el for el, score in others if score >= 0.75 * top_score]
    if len(close) < 2:
        return None
    node = top.getparent()
    while node is not None and node is not body:
        if sum(1 for el in close if is_ancestor(node, el)) >= 2:
            return node
        node = node.getparent()
    return None


def _repeated_ancestor(
    top: etree._Element,
    top_score: float,
    others: list[tuple[etree._Element, float]],
    body: etree._Element,
) -> etree._Element | None:
    """The block holding every copy of the top's component (same tag and class) that scores near it.

    A landing page's cards each hold a short description: one card is not the
    page's text, all of them are (wcxb dev_0316, a course index of text <div>s).
    """
    name = top.get("class")
    if not name:
        return None
    copies = [
        el
        for el, score in others
        if el.tag == top.tag and el.get("class") == name and score >= bp.REPEATED_MIN_SCORE_SHARE * top_score
    ]
    if len(copies) < 2:
        return None
    node = top.getparent()
    while node is not None and node is not body:
        if all(is_ancestor(node, el) for el in copies):
            return node
        node = node.getparent()
    return None


def _climb(top: etree._Element, stats: dict[etree._Element, _Stats], body: etree._Element) -> etree._Element:
    """Move up while a parent scores higher, and past wrappers that hold only this child."""
    st = stats.get(top)
    last = _final_score(st) if st else 0.0
    threshold = last / 3.0
    parent = top.getparent()
    while parent is not None and parent is not body:
        pst = stats.get(parent)
        if pst is None or not pst.scored:
            parent = parent.getparent()
            continue
        score = _final_score(pst)
        if score < threshold:
            break
        if score > last:
            if st is None or not _is_weaker_wrapper(pst, st):
                top = parent
            break
        last = score
        parent = parent.getparent()
    while top is not body:
        parent = top.getparent()
        if parent is None or parent is body or len(parent) != 1:
            break
        top = parent
    return top


def _is_weaker_wrapper(parent: _Stats, best: _Stats) -> bool:
    """A wrapper scoring well below the best block while holding several times its text."""
    return parent.chars > bp.CLIMB_MAX_GROWTH * best.chars and _final_score(
        parent
    ) < bp.CLIMB_MIN_SCORE_SHARE * _final_score(best)


def _with_siblings(
    top: etree._Element, stats: dict[etree._Element, _Stats], body: etree._Element
) -> list[etree._Element]:
    """The winner plus adjacent siblings good enough to be part of the same text."""
    parent = top.getparent()
    if parent is None or top is body:
        return [top]
    tst = stats.get(top)
    top_score = _final_score(tst) if tst else 0.0
    threshold = max(bp.SIBLING_MIN_SCORE, top_score * bp.SIBLING_SCORE_SHARE)
    top_class = top.get("class")
    chosen = []
    for sibling in parent:
        if sibling is top:
            chosen.append(sibling)
            continue
        if not isinstance(sibling.tag, str) or _is_landmark_sibling(sibling):
            continue
        st = stats.get(sibling)
        if st is None:
            continue
        bonus = top_score * 0.2 if top_class and sibling.get("class") == top_class else 0.0
        # another part of the same component, whose text may sit too deep to score at its level
        if sibling.tag == top.tag and _is_same_component(top_class, sibling.get("class")):
            good = _best_score(sibling, stats) + bonus >= threshold
        else:
            good = st.scored and _final_score(st) + bonus >= threshold
        if good or (sibling.tag == "p" and _is_prose_sibling(sibling, st)):
            chosen.append(sibling)
    return chosen


def _is_landmark_sibling(el: etree._Element) -> bool:
    """A sidebar, navigation or footer beside the text: never part of it, whatever it scores."""
    if el.tag in bp.SIBLING_NEVER_TAGS or el.get("role") in bp.SIBLING_NEVER_ROLES or _is_complementary(el):
        return True
    names = class_id(el).lower()
    return bool(set(NAME_TOKEN_SPLIT_RE.split(names)) & bp.SIBLING_NEVER_TOKENS)


def _is_same_component(first: str | None, second: str | None) -> bool:
    """Two class lists that are mostly the same: one layout component with a few modifiers."""
    if not first or not second:
        return False
    a, b = set(first.split()), set(second.split())
    return len(a & b) >= bp.SAME_COMPONENT_CLASS_SHARE * len(a | b)


def _best_score(el: etree._Element, stats: dict[etree._Element, _Stats]) -> float:
    """The best score of the element or a container inside it.

    Scores climb only a few levels above a paragraph, so a wrapper around deeply
    nested text holds none (or a small share) of it (quanta-1's body in three wrappers).
    """
    best = 0.0
    for node in el.iter(etree.Element):
        st = stats.get(node)
        if st is not None and st.scored:
            best = max(best, _final_score(st))
    return best


def _is_prose_sibling(el: etree._Element, st: _Stats) -> bool:
    text = " ".join(el.text_content().split())
    if st.chars > 80 and st.link_density < 0.25:
        return True
    return 0 < st.chars <= 80 and st.link_chars == 0 and bool(re.search(r"[.。！？!?]$", text))


def _is_partial_block(main_paras: list[Para], all_paras: list[Para], kind: str) -> bool:
    """The chosen block holds too little of the page's prose: the page is its main content.

    A listing's or a service page's text is every teaser and section, not the one
    prose block that scores best; after boilerplate removal the body is closer.
    """
    share = _prose_chars(main_paras) / max(1, _prose_chars(all_paras))
    if kind == "article":
        return share < bp.PARTIAL_BLOCK_SHARE_ARTICLE
    return share < bp.PARTIAL_BLOCK_SHARE_OTHER


def _outside_complementary(paras: list[Para], chosen: list[etree._Element], kind: str) -> list[Para]:
    """The paragraphs not in a sidebar or an <aside> (unless the chosen block is in it too).

    A blog's text widgets and feed summaries are prose, but not the page's: a short
    post beside them is still the main content, not a small part of a listing.
    On an article, neither is its discussion: a long comment thread is not a sign
    that the article is one block among many.
    """
    test = _is_complementary_or_discussion if kind == "article" else _is_complementary
    regions: dict[etree._Element, etree._Element | None] = {}
    own = {_complementary_region(el, regions, test) for el in chosen} - {None}
    return [p for p in paras if _complementary_region(p.container, regions, test) in own | {None}]


def _drop_complementary(body: etree._Element, best: list[etree._Element]) -> None:
    """Remove the sidebars and <aside>s that do not hold the best block, before the whole page is taken."""
    keep = {a for el in best for a in (el, *el.iterancestors())}
    doomed = [el for el in body.iter(etree.Element) if el not in keep and _is_complementary(el)]
    for el in outermost(doomed):
        if not any(is_ancestor(el, b) for b in best):
            remove_keeping_tail(el)


def _complementary_region(
    el: etree._Element,
    seen: dict[etree._Element, etree._Element | None],
    test: Callable[[etree._Element], bool] | None = None,
) -> etree._Element | None:
    """The outermost <aside>, role=complementary or sidebar-named block around the element, if any."""
    test = test or _is_complementary
    chain: list[etree._Element] = []
    found = None
    node: etree._Element | None = el
    while node is not None:
        if node in seen:
            outer = seen[node]
            found = outer if outer is not None else found
            break
        chain.append(node)
        if test(node):
            found = node
        node = node.getparent()
    region = found
    for n in reversed(chain):  # from the top down: the nodes above the region are in none
        seen[n] = region if region is not None and (n is region or is_ancestor(region, n)) else None
    return found


def _is_complementary(el: etree._Element) -> bool:
    """An <aside>, role=complementary, or a block named as a sidebar (not a layout "with-sidebar")."""
    if el.tag == "aside" or el.get("role") == "complementary":
        return True
    names = class_id(el)
    return bool(names) and any(
        bp.SIDEBAR_NAME_RE.search(t) and not bp.SIDEBAR_LAYOUT_NAME_RE.search(t) for t in names.split()
    )


def _is_complementary_or_discussion(el: etree._Element) -> bool:
    if _is_complementary(el):
        return True
    names = class_id(el)
    return bool(names) and bp.DISCUSSION_NAME_RE.search(names) is not None


def _prose_chars(paras: list[Para]) -> int:
    return sum(p.weight for p in paras if is_prose(p, bp.PARTIAL_PROSE_CHARS))


def _lead_paragraphs(
    all_paras: list[Para], chosen: list[etree._Element], meta: PageMeta | None
) -> list[Para]:
    """The standfirst and opening paragraphs between the headline and the chosen block.

    Sites put the lede in its own container ("p.lead", "div.intro", "h2.article-deck")
    beside or above the body block, which the scoring does not reach. Prose lines
    after the page's headline and before the block are taken, when the gap is short.
    """
    start = next((i for i, p in enumerate(all_paras) if is_inside(p.container, chosen)), None)
    if start is None:
        return []
    titles = title_forms(meta.title) if meta and meta.title else ()
    window = range(start - 1, max(-1, start - 1 - bp.LEAD_MAX_GAP_PARAGRAPHS), -1)
    # the <h1> first: a sticky bar repeating the title sits between it and the text
    headline = next((i for i in window if all_paras[i].container.tag == "h1"), None)
    if headline is None:
        headline = next(
            (i for i in window if any(is_headline(normalise(all_paras[i].text), t) for t in titles)), None
        )
    if headline is None:
        headline = _header_before(all_paras, start, chosen)
    if headline is None:
        return []
    return [p for p in all_paras[headline + 1 : start] if _is_lead_prose(p)]


def _header_before(all_paras: list[Para], start: int, chosen: list[etree._Element]) -> int | None:
    """The index before the article's header that ends just above the block, when it has no headline.

    A header beside the body block is not merged into it (it holds the kicker, the
    byline and share links), but its standfirst is the text's (trafilatura set impulse).
    """
    if start == 0:
        return None
    header = next(
        (
            el
            for el in (all_paras[start - 1].container, *all_paras[start - 1].container.iterancestors())
            if _is_header(el)
        ),
        None,
    )
    if header is None or any(is_ancestor(header, el) for el in chosen):
        return None
    first = next(i for i, p in enumerate(all_paras) if is_inside(p.container, [header]))
    return first - 1 if start - first <= bp.LEAD_MAX_GAP_PARAGRAPHS else None


def _is_header(el: etree._Element) -> bool:
    names = class_id(el).lower()
    return el.tag == "header" or "header" in NAME_TOKEN_SPLIT_RE.split(names)


def _is_lead_prose(para: Para) -> bool:
    if not is_prose(para, bp.LEAD_MIN_CHARS, at_limit=True) or para.container.tag == "h1":
        return False
    if any(a.tag in ("figure", "figcaption") for a in para.container.iterancestors()):
        return False
    if para.container.tag in ("figure", "figcaption") or is_boilerplate_text(para.text):
        return False
    return para.weight >= bp.PROSE_PARAGRAPH_CHARS or bool(bp.SENTENCE_END_RE.search(para.text))


# --- step 4: cleaning inside the main block -----------------------------------------------------


def _drop_link_lists(
    chosen: list[etree._Element], stats: dict[etree._Element, _Stats], best: list[etree._Element]
) -> None:
    """Remove link-dense lists and boxes (related links, tag clouds) inside the main block.

    Blocks holding the best-scoring block stay: when the whole page is taken, a
    link-heavy wrapper around everything is not a link list.
    """
    keep = {a for el in best for a in el.iterancestors()} | set(best)
    doomed = []
    for root in chosen:
        for el in root.iter(*_CLEANABLE_TAGS):
            if el is root or el in keep:
                continue
            st = stats.get(el)
            if st is None or st.chars == 0 or st.punctuation >= 10:
                continue
            ld = st.link_density
            if ld > bp.MAX_LINK_DENSITY or (
                st.chars < bp.LINK_BLOCK_SHORT_CHARS and ld > bp.MAX_LINK_DENSITY_SHORT
            ):
                doomed.append(el)
    for el in doomed:
        if el.getparent() is not None:
            remove_keeping_tail(el)


def _drop_teaser_cards(chosen: list[etree._Element], best: list[etree._Element]) -> None:
    """Remove a grid of teaser cards that follows the article's text inside the main block.

    Related-article grids and "more from" boxes sit inside the article's container
    on many themes: each card is a heading (h2-h6) that links to another page, with
    an image, a date or a one-line summary. A group of such cards under one parent is
    dropped when no prose follows it in the block, prose comes before it, and it
    holds a minor share of the block's text; listicles (whose cards are the text)
    and documentation landing pages (nothing but cards) stay.
    """
    keep = {a for el in best for a in el.iterancestors()} | set(best)
    groups = _card_groups(chosen, keep)
    if not groups:
        return
    paras = [p for el in chosen for p in flatten(el)]
    total = sum(p.weight for p in paras)
    doomed: list[etree._Element] = []
    weight = 0
    for cards in groups.values():
        if len(cards) < 2 and next(cards[0].iter("img", "picture"), None) is None:
            continue
        if any(len(" ".join(c.text_content().split())) > bp.CARD_MAX_CHARS for c in cards):
            continue
        inside = [i for i, p in enumerate(paras) if is_inside(p.container, cards)]
        in_cards = set(inside)
        prose = [i for i, p in enumerate(paras) if is_prose(p) and i not in in_cards]
        if inside and prose and inside[0] > prose[0] and inside[-1] > prose[-1]:
            doomed.extend(cards)
            weight += sum(paras[i].weight for i in inside)
    if weight > bp.CARD_GROUP_MAX_SHARE * total:
        return  # the cards are the page's text: a listicle, a landing page
    for el in doomed:
        if el.getparent() is not None:
            logger.debug("teaser card <%s class=%r>", el.tag, el.get("class"))
            remove_keeping_tail(el)


def _card_groups(
    chosen: list[etree._Element], keep: set[etree._Element]
) -> dict[etree._Element, list[etree._Element]]:
    """Teaser cards by parent: the largest block around each linked heading that holds no other one."""
    groups: dict[etree._Element, list[etree._Element]] = {}
    for root in chosen:
        headings = [h for h in root.iter(*_CARD_HEADING_TAGS) if _is_linked_heading(h)]
        linked = set(headings)
        cards = []
        for heading in headings:
            card = None
            node = heading.getparent()
            while node is not None and node is not root and node not in keep:
                if sum(1 for h in node.iter(*_CARD_HEADING_TAGS) if h in linked) > 1:
                    break
                if node.tag != "a":
                    card = node
                node = node.getparent()
            if card is not None:
                cards.append(card)
        for card in dict.fromkeys(cards):
            parent = card.getparent()
            if parent is not None:
                groups.setdefault(parent, []).append(card)
    return groups


def _is_linked_heading(heading: etree._Element) -> bool:
    """A heading that is (almost) all one link to another page, not an anchor on this one."""
    link = next(heading.iterancestors("a"), None)
    if link is None:
        text = " ".join(heading.text_content().split())
        links = list(heading.iter("a"))
        linked = sum(len(a.text_content().strip()) for a in links)
        if not text or linked < bp.CARD_HEADING_LINK_SHARE * len(text):
            return False
        link = links[0]
    href = (link.get("href") or "").strip()
    return bool(href) and not href.startswith(("#", "javascript:", "mailto:"))


def _filter_paragraphs(paras: list[Para]) -> list[Para]:
    """Drop copyright, sharing, dateline, credit and teaser lines, link-only lines, and "related" boxes."""
    kept = []
    skipping = False
    # Dates on many lines are data (a listing's items, a thread's posts), not datelines.
    datelines = sum(1 for p in paras if len(p.text) <= bp.FURNITURE_LINE_MAX_CHARS and is_dateline(p.text))
    check_dates = datelines <= bp.DATELINE_MAX_LINES
    for para in paras:
        if skipping:
            if _is_teaser_tail(para):
                continue
            skipping = False
        if is_boilerplate_text(para.text) or _is_furniture_line(para, check_dates):
            continue
        if bp.RELATED_HEADING_RE.match(para.text):
            skipping = True
            continue
        separators = len(bp.LINK_LIST_SEPARATOR_RE.findall(para.text))
        if separators >= 3 and para.link_density > bp.MAX_LINK_DENSITY:
            continue
        kept.append(para)
    kept = _drop_trailing_links(_drop_lead_captions(kept))
    if any(p.container.tag not in HEADING_TAGS for p in kept):
        while kept[-1].container.tag in HEADING_TAGS:
            kept.pop()  # a heading with nothing under it ends the page: "Related posts", "Comments"
    return kept


def _drop_trailing_links(paras: list[Para]) -> list[Para]:
    """Drop the link-only lines after the last prose paragraph: teasers to other pages, not the article."""
    prose = [i for i, p in enumerate(paras) if p.weight >= bp.PROSE_PARAGRAPH_CHARS]
    if not prose:
        return paras
    last = prose[-1]
    return [
        p
        for i, p in enumerate(paras)
        if i <= last or p.link_density < bp.TRAILING_LINK_DENSITY or p.container.tag in bp.LIST_CELL_TAGS
    ]


def _drop_lead_captions(paras: list[Para]) -> list[Para]:
    """Drop the captions that come before the first prose paragraph: the lead image's, not the text's."""
    prose = (i for i, p in enumerate(paras) if p.weight >= bp.PROSE_PARAGRAPH_CHARS and not _is_caption(p))
    first_prose = next(prose, len(paras))
    return [
        p for i, p in enumerate(paras) if not _is_caption(p) or (i >= first_prose and not _is_lead_figure(p))
    ]


def _is_lead_figure(para: Para) -> bool:
    """In a container named as the page's lead image: its caption is not the text's."""
    for el in (para.container, *para.container.iterancestors()):
        if el.tag in ("body", "article", "main"):
            return False
        names = class_id(el)
        if names and bp.LEAD_FIGURE_NAME_RE.search(names):
            return True
    return False


def _is_caption(para: Para) -> bool:
    if para.container.tag in HEADING_TAGS:
        return False  # a standfirst styled with a "caption-s5" utility class
    for el in (para.container, *para.container.iterancestors()):
        if el.tag in ("body", "article", "main", "figure"):
            return False
        if el.tag == "figcaption" or bp.CAPTION_NAME_RE.search(class_id(el)):
            return len(el.text_content()) <= bp.CAPTION_MAX_CHARS
    return False


def _is_furniture_line(para: Para, check_dates: bool) -> bool:
    """A short line that is a dateline, an image credit or a teaser link, in any of our languages."""
    text = para.text
    if len(text) > bp.FURNITURE_LINE_MAX_CHARS:
        return False
    if bp.TEASER_PREFIX_RE.match(text):
        return True
    if para.container.tag in bp.LIST_CELL_TAGS:
        # reference lists and tables print dates and sources as data ("Retrieved 6 May 2014")
        return False
    in_figure = any(a.tag in ("figure", "figcaption") for a in para.container.iterancestors())
    if not in_figure and para.container.tag not in ("figure", "figcaption") and bp.CREDIT_RE.search(text):
        return True
    return check_dates and is_dateline(text)


def _is_teaser_tail(para: Para) -> bool:
    """Under a "Related articles" heading: teaser titles and links, until prose starts again."""
    if para.link_density > bp.MAX_LINK_DENSITY:
        return True
    return para.weight < bp.TEASER_MAX_CHARS and not bp.SENTENCE_END_RE.search(para.text)


def _strip_lead(paras: list[Para], meta: PageMeta | None) -> list[Para]:
    """Drop the headline and the byline/dateline lines that open the block."""
    titles = title_forms(meta.title) if meta and meta.title else ()
    published = meta.published if meta else None
    date_texts = _date_spellings(published)
    out = list(paras)
    index = 0
    scanned = 0
    while index < len(out) and scanned < bp.LEAD_SCAN_PARAGRAPHS:
        para = out[index]
        scanned += 1
        if _is_lead_furniture(para, titles, date_texts):
            del out[index]
            continue
        if para.weight > bp.BYLINE_MAX_CHARS:
            break
        index += 1
    return out


def _is_lead_furniture(para: Para, titles: tuple[str, ...], date_texts: tuple[str, ...]) -> bool:
    text = para.text
    norm = normalise(text)
    if any(is_headline(norm, title) for title in titles):
        return True
    if len(text) > bp.BYLINE_MAX_CHARS:
        return False
    has_date = bool(bp.DATE_RE.search(text)) or any(d in text for d in date_texts)
    has_byline = bool(bp.BYLINE_RE.search(text))
    if has_date and (has_byline or len(text) < 60):
        return True
    return has_byline and len(text) < 80 and para.container.tag != "p" and not text.endswith((".", "。"))


def _date_spellings(published: dt.date | dt.datetime | None) -> tuple[str, ...]:
    if published is None:
        return ()
    day = published.date() if isinstance(published, dt.datetime) else published
    return (
        day.isoformat(),
        f"{day.year}/{day.month:02d}/{day.day:02d}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}.{day.month:02d}.{day.day:02d}",
    )


# --- step 5: page kind and rendering ------------------------------------------------------------


def _rows(paras: list[Para]) -> list[Para]:
    """Join the cells of one table row into one paragraph when each cell holds one line."""
    out: list[Para] = []
    i = 0
    while i < len(paras):
        para = paras[i]
        row = para.container.getparent() if para.container.tag in ("td", "th") else None
        if row is None:
            out.append(para)
            i += 1
            continue
        j = i
        while (
            j < len(paras)
            and paras[j].container.tag in ("td", "th")
            and paras[j].container.getparent() is row
        ):
            j += 1
        cells = [p.container for p in paras[i:j]]
        if len(cells) > 1 and len(set(map(id, cells))) == len(cells):
            out.append(
                Para(
                    container=row,
                    text=" ".join(p.text for p in paras[i:j]),
                    html="<tr>" + "".join(f"<td>{p.html}</td>" for p in paras[i:j]) + "</tr>",
                    link_chars=sum(p.link_chars for p in paras[i:j]),
                    quote=para.quote,
                    weight=sum(p.weight for p in paras[i:j]),
                )
            )
        else:
            out.extend(paras[i:j])
        i = j
    return out


def _render_text(paras: list[Para]) -> str:
    return "\n\n".join(p.text for p in _rows(paras))


def _html_tag(para: Para) -> str:
    tag = str(para.container.tag)
    if tag in ("h1", "h2"):
        return "h2"
    if tag == "h3":
        return "h3"
    if tag in ("h4", "h5", "h6"):
        return "h4"
    if tag in ("li", "pre", "tr"):
        return tag
    return "p"


def _render_html(paras: list[Para]) -> str:
    """Cleaned HTML: p, h2-h4, ul/ol/li, blockquote, pre, table rows and links."""
    parts: list[str] = []
    open_group: tuple[str, etree._Element | None] | None = None
    for para in _rows(paras):
        tag = _html_tag(para)
        group: tuple[str, etree._Element | None] | None = None
        if tag == "li":
            parent = para.container.getparent()
            group = ("ol" if parent is not None and parent.tag == "ol" else "ul", parent)
        elif tag == "tr":
            group = ("table", para.container.getparent())
        elif para.quote:
            group = ("blockquote", None)
        if open_group is not None and (group is None or group != open_group):
            parts.append(f"</{open_group[0]}>")
            open_group = None
        if group is not None and open_group is None:
            parts.append(f"<{group[0]}>")
            open_group = group
        parts.append(para.html if tag == "tr" else f"<{tag}>{para.html}</{tag}>")
    if open_group is not None:
        parts.append(f"</{open_group[0]}>")
    return "\n".join(parts)
