"""Content step 1, cleaning: remove never-content tags, landmarks, credits and boilerplate blocks.

Input: the parsed page and its body (both changed in place). Output: none.
Settings: boilerplate.py, "step 1" heading. A block named like boilerplate or hidden
is kept when it holds the page's main text (most of its text or prose); comment
blocks are kept on a forum thread, whose prose they are.
"""

from __future__ import annotations

import functools
import logging
import re

from lxml import etree

from . import boilerplate as bp
from .boilerplate import HEADING_TAGS, NAME_TOKEN_SPLIT_RE
from .dom import NAME_CACHE_SIZE, class_id, name_matcher, outermost
from .flatten import flatten
from .lines import is_prose
from .rules import remove_keeping_tail
from .text import weighted_len

logger = logging.getLogger(__name__)

_has_credit_hint = name_matcher(bp.CREDIT_HINT_RE)


def drop_tags(tree: etree._Element) -> None:
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


def drop_credits(body: etree._Element) -> None:
    """Remove image credits marked up as their own element (class/id tokens or microdata)."""
    doomed = []
    for el in body.iter(etree.Element):
        itemprop = el.get("itemprop")
        names = class_id(el).lower()
        if not itemprop and not (names and _has_credit_hint(names)):
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
    """True when a <p> inside reads as prose (a lede, an article), not as a link or label.

    Not lines.is_prose(): this runs before flattening, on raw <p> elements, and also asks
    for clause punctuation; its link share counts untrimmed link text against the
    whitespace-collapsed text. Kept apart because merging changes which headers stay.
    """
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


@functools.lru_cache(maxsize=NAME_CACHE_SIZE)
def _is_boilerplate_names(names: str | None) -> bool:
    if not names:
        return False
    names = names.lower()
    if any(t in bp.BOILERPLATE_TOKENS for t in NAME_TOKEN_SPLIT_RE.split(names)):
        return True
    return bp.BOILERPLATE_SUBSTRING_RE.search(names) is not None


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
    return len(tokens) >= bp.HEADING_ANCHOR_MIN_TOKENS and all(t in words for t in tokens)


def _is_in_running_text(el: etree._Element) -> bool:
    """An inline element with words on both sides in its block: part of a sentence, not a widget.

    A glossary pop-up link named "popup" (readability clean-links) is a word of the text.
    """
    if el.tag not in bp.INLINE_TAGS or not bp.RUNNING_TEXT_WORD_RE.search(el.tail or ""):
        return False
    previous = el.getprevious()
    before = previous.tail if previous is not None else el.getparent().text
    return bool(bp.RUNNING_TEXT_WORD_RE.search(before or ""))


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


def drop_boilerplate_blocks(body: etree._Element) -> None:
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
