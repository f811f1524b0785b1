"""Content step 4, pruning: clean inside the main block, then drop furniture lines.

Input: the chosen blocks (changed in place) and their scores, then their paragraphs.
Output: the paragraphs of the text. Settings: boilerplate.py, "step 4" heading.
Link lists and teaser-card grids go from the tree; copyright, sharing, dateline,
credit and teaser lines, related-article boxes, captions of the lead image, and the
headline and byline opening the text go from the paragraphs.
"""

from __future__ import annotations

import datetime as dt
import logging

from lxml import etree

from . import boilerplate as bp
from .boilerplate import HEADING_TAGS
from .dom import class_id, is_inside
from .flatten import Para
from .lines import is_boilerplate_text, is_dateline, is_prose
from .rules import remove_keeping_tail
from .score import Stats
from .text import is_headline, normalise, title_forms

logger = logging.getLogger(__name__)


def drop_link_lists(
    chosen: list[etree._Element], stats: dict[etree._Element, Stats], best: list[etree._Element]
) -> bool:
    """Remove link-dense lists and boxes (related links, tag clouds) inside the main block; True if any.

    Blocks holding the best-scoring block stay: when the whole page is taken, a
    link-heavy wrapper around everything is not a link list.
    """
    keep = {a for el in best for a in el.iterancestors()} | set(best)
    doomed = []
    for root in chosen:
        for el in root.iter(*bp.CLEANABLE_TAGS):
            if el is root or el in keep:
                continue
            st = stats.get(el)
            if st is None or st.chars == 0 or st.punctuation >= bp.LINK_BLOCK_PROSE_PUNCTUATION:
                continue
            ld = st.link_density
            if ld > bp.MAX_LINK_DENSITY or (
                st.chars < bp.LINK_BLOCK_SHORT_CHARS and ld > bp.MAX_LINK_DENSITY_SHORT
            ):
                doomed.append(el)
    for el in doomed:
        if el.getparent() is not None:
            remove_keeping_tail(el)
    return bool(doomed)


def drop_teaser_cards(chosen: list[etree._Element], best: list[etree._Element], paras: list[Para]) -> bool:
    """Remove a grid of teaser cards that follows the article's text inside the main block; True if any.

    `paras` are the chosen blocks' paragraphs, block by block.

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
        return False
    total = sum(p.weight for p in paras)
    doomed: list[etree._Element] = []
    weight = 0
    for cards in groups.values():
        if len(cards) < bp.CARD_GROUP_MIN_CARDS and next(cards[0].iter("img", "picture"), None) is None:
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
        return False  # the cards are the page's text: a listicle, a landing page
    for el in doomed:
        if el.getparent() is not None:
            logger.debug("teaser card <%s class=%r>", el.tag, el.get("class"))
            remove_keeping_tail(el)
    return bool(doomed)


def _card_groups(
    chosen: list[etree._Element], keep: set[etree._Element]
) -> dict[etree._Element, list[etree._Element]]:
    """Teaser cards by parent: the largest block around each linked heading that holds no other one."""
    groups: dict[etree._Element, list[etree._Element]] = {}
    for root in chosen:
        headings = [h for h in root.iter(*bp.CARD_HEADING_TAGS) if _is_linked_heading(h)]
        linked = set(headings)
        cards = []
        for heading in headings:
            card = None
            node = heading.getparent()
            while node is not None and node is not root and node not in keep:
                if sum(1 for h in node.iter(*bp.CARD_HEADING_TAGS) if h in linked) > 1:
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


def filter_paragraphs(paras: list[Para]) -> list[Para]:
    """Drop copyright, sharing, dateline, credit and teaser lines, link-only lines, and "related" boxes."""
    kept = []
    skipping = False
    # Dates on many lines are data (a listing's items, a thread's posts), not datelines.
    datelines = sum(1 for p in paras if len(p.text) <= bp.FURNITURE_LINE_MAX_CHARS and is_dateline(p.text))
    check_dates = datelines <= bp.DATELINE_MAX_LINES
    for para in paras:
        if skipping:
            if _is_teaser_tail(para) and not bp.LEGAL_HEADING_RE.match(para.text):
                continue  # a legal notice's heading stays for _drop_legal_tail(), which takes its text too
            skipping = False
        if is_boilerplate_text(para.text) or _is_furniture_line(para, check_dates):
            continue
        if bp.RELATED_HEADING_RE.match(para.text) or bp.RELATED_LEAD_RE.match(para.text):
            skipping = True
            continue
        separators = len(bp.LINK_LIST_SEPARATOR_RE.findall(para.text))
        if separators >= bp.LINK_LIST_MIN_SEPARATORS and para.link_density > bp.MAX_LINK_DENSITY:
            continue
        kept.append(para)
    kept = _drop_legal_tail(_drop_trailing_links(_drop_lead_captions(kept)))
    if any(p.container.tag not in HEADING_TAGS for p in kept):
        while kept[-1].container.tag in HEADING_TAGS:
            kept.pop()  # a heading with nothing under it ends the page: "Related posts", "Comments"
    return kept


def _drop_legal_tail(paras: list[Para]) -> list[Para]:
    """Drop the legal notices that close the text (one after another): each heading and what follows."""
    end = len(paras)
    while True:
        total = sum(p.weight for p in paras[:end])
        tail = 0
        for i in range(end - 1, 0, -1):
            tail += paras[i].weight
            if tail > bp.LEGAL_TAIL_MAX_SHARE * total:
                return paras[:end]
            if len(paras[i].text) <= bp.FURNITURE_LINE_MAX_CHARS and bp.LEGAL_HEADING_RE.match(paras[i].text):
                end = i
                break
        else:
            return paras[:end]


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
    # each element's verdict is worked out once: containers share most of their ancestors
    captions: dict[etree._Element, bool] = {}

    def is_caption(para: Para) -> bool:
        if para.container.tag in HEADING_TAGS:
            return False  # a standfirst styled with a "caption-s5" utility class
        return _in_caption(para.container, captions)

    prose = (i for i, p in enumerate(paras) if p.weight >= bp.PROSE_PARAGRAPH_CHARS and not is_caption(p))
    first_prose = next(prose, len(paras))
    return [
        p for i, p in enumerate(paras) if not is_caption(p) or (i >= first_prose and not _is_lead_figure(p))
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


def _in_caption(el: etree._Element, known: dict[etree._Element, bool]) -> bool:
    """Whether el is, or sits in, a short caption (figcaption or caption-named) below any article root.

    The nearest ancestor that is a root (body, article, main, figure) or a caption decides;
    `known` keeps each element's verdict for the next container's walk.
    """
    walked: list[etree._Element] = []
    verdict = False
    node: etree._Element | None = el
    while node is not None:
        if node in known:
            verdict = known[node]
            break
        walked.append(node)
        if node.tag in ("body", "article", "main", "figure"):
            break
        if node.tag == "figcaption" or bp.CAPTION_NAME_RE.search(class_id(node)):
            verdict = len(node.text_content()) <= bp.CAPTION_MAX_CHARS
            break
        node = node.getparent()
    for node in walked:
        known[node] = verdict
    return verdict


def _is_furniture_line(para: Para, check_dates: bool) -> bool:
    """A short line that is a dateline, an image credit or a teaser link, in any of our languages."""
    text = para.text
    if len(text) > bp.FURNITURE_LINE_MAX_CHARS:
        return False
    if bp.TEASER_PREFIX_RE.match(text) or bp.CJK_BYLINE_RE.match(text):
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


def strip_lead(paras: list[Para], title: str | None, published: dt.date | dt.datetime | None) -> list[Para]:
    """Drop the headline and the byline/dateline lines that open the block."""
    titles = title_forms(title) if title else ()
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
    if has_date and (has_byline or len(text) < bp.LEAD_DATELINE_MAX_CHARS):
        return True
    return (
        has_byline
        and len(text) < bp.LEAD_BYLINE_SHORT_CHARS
        and para.container.tag != "p"
        and not text.endswith((".", "。"))
    )


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
