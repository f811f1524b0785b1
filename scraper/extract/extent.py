"""Content step 3b, extent: what around the chosen block belongs to the text.

Input: the flattened body, the chosen blocks and the page title. Output: whether the
whole page is the text (a listing, a service page: the block holds too little of the
page's prose, sidebars and discussions not counted), and the standfirst between the
headline and the block. Settings: boilerplate.py, "step 3" heading.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from lxml import etree

from . import boilerplate as bp
from .boilerplate import NAME_TOKEN_SPLIT_RE
from .dom import NAME_CACHE_SIZE, class_id, is_ancestor, is_inside, name_matcher, outermost
from .flatten import Para
from .lines import is_boilerplate_text, is_prose
from .rules import remove_keeping_tail
from .text import is_headline, normalise, title_forms


def is_partial_block(main_paras: list[Para], all_paras: list[Para], kind: str) -> bool:
    """The chosen block holds too little of the page's prose: the page is its main content.

    A listing's or a service page's text is every teaser and section, not the one
    prose block that scores best; after boilerplate removal the body is closer.
    """
    share = _prose_chars(main_paras) / max(1, _prose_chars(all_paras))
    if kind == "article":
        return share < bp.PARTIAL_BLOCK_SHARE_ARTICLE
    return share < bp.PARTIAL_BLOCK_SHARE_OTHER


def outside_complementary(paras: list[Para], chosen: list[etree._Element], kind: str) -> list[Para]:
    """The paragraphs not in a sidebar or an <aside> (unless the chosen block is in it too).

    A blog's text widgets and feed summaries are prose, but not the page's: a short
    post beside them is still the main content, not a small part of a listing.
    On an article, neither is its discussion: a long comment thread is not a sign
    that the article is one block among many.
    """
    test = _is_complementary_or_discussion if kind == "article" else is_complementary
    regions: dict[etree._Element, etree._Element | None] = {}
    own = {complementary_region(el, regions, test) for el in chosen} - {None}
    return [p for p in paras if complementary_region(p.container, regions, test) in own | {None}]


def drop_complementary(body: etree._Element, best: list[etree._Element]) -> None:
    """Remove sidebars, <aside>s and review sections not holding the best block (the whole page is taken)."""
    keep = {a for el in best for a in (el, *el.iterancestors())}
    doomed = [el for el in body.iter(etree.Element) if el not in keep and _is_complementary_or_reviews(el)]
    for el in outermost(doomed):
        if not any(is_ancestor(el, b) for b in best):
            remove_keeping_tail(el)


def complementary_region(
    el: etree._Element,
    seen: dict[etree._Element, etree._Element | None],
    test: Callable[[etree._Element], bool] | None = None,
) -> etree._Element | None:
    """The outermost <aside>, role=complementary or sidebar-named block around the element, if any."""
    test = test or is_complementary
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


def is_complementary(el: etree._Element) -> bool:
    """An <aside>, role=complementary, or a block named as a sidebar (not a layout "with-sidebar")."""
    if el.tag == "aside" or el.get("role") == "complementary":
        return True
    names = class_id(el)
    return bool(names) and _is_sidebar_names(names)


@functools.lru_cache(maxsize=NAME_CACHE_SIZE)
def _is_sidebar_names(names: str) -> bool:
    """A class/id token names a sidebar, not a layout with one (remembered: every element is asked)."""
    tokens = names.split()
    return any(bp.SIDEBAR_NAME_RE.search(t) and not bp.SIDEBAR_LAYOUT_NAME_RE.search(t) for t in tokens)


_is_review_names = name_matcher(bp.REVIEW_SECTION_NAME_RE)
_is_discussion_names = name_matcher(bp.DISCUSSION_NAME_RE)


def is_review_section(el: etree._Element) -> bool:
    """A block of customer reviews (class/id), as product pages and shops put below the product."""
    names = class_id(el)
    return bool(names) and _is_review_names(names)


def _is_complementary_or_reviews(el: etree._Element) -> bool:
    return is_complementary(el) or is_review_section(el)


def _is_complementary_or_discussion(el: etree._Element) -> bool:
    if is_complementary(el):
        return True
    names = class_id(el)
    return bool(names) and _is_discussion_names(names)


def _prose_chars(paras: list[Para]) -> int:
    return sum(p.weight for p in paras if is_prose(p, bp.PARTIAL_PROSE_CHARS))


def lead_paragraphs(all_paras: list[Para], chosen: list[etree._Element], title: str | None) -> list[Para]:
    """The standfirst and opening paragraphs between the headline and the chosen block.

    Sites put the lede in its own container ("p.lead", "div.intro", "h2.article-deck")
    beside or above the body block, which the scoring does not reach. Prose lines
    after the page's headline and before the block are taken, when the gap is short.
    """
    start = next((i for i, p in enumerate(all_paras) if is_inside(p.container, chosen)), None)
    if start is None:
        return []
    titles = title_forms(title) if title else ()
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
