"""Main content: pick the article block in a parsed page and flatten it to clean paragraphs.

Input: the lxml tree (mutated: boilerplate is removed), the site's Rules and
the page metadata (title, published). Output: Content(text, html, page_kind).
This module only orders the steps; each lives in its own module, and their
heuristics (tags, class/id tokens, text patterns, thresholds) in boilerplate.py:
1. clean.py: drop per-site and generic boilerplate;
2. flatten.py: flatten the body into paragraphs;
3. score.py: score containers by the prose they hold (readability's scheme, with
   CJK characters weighted and CJK punctuation counted) and take the best one plus
   its good siblings; extent.py: or the whole cleaned page when that block holds
   little of the page's prose (listings, service pages), else add the standfirst
   between the headline and the block;
4. prune.py: clean link lists and teaser cards inside it, drop furniture lines,
   strip the headline and byline from its start; model/: the learned paragraph
   scorer may overrule the line filters where it is confident (off unless enabled);
5. render.py: render text and HTML. Page kind (kind.py) is judged after step 3.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Protocol

from lxml import etree

from ..config import Rules
from . import boilerplate as bp
from .clean import drop_boilerplate_blocks, drop_credits, drop_tags
from .dom import is_inside
from .extent import drop_complementary, is_partial_block, lead_paragraphs, outside_complementary
from .flatten import Para, flatten, paragraphs_inside
from .kind import PageHints, page_kind, read_hints
from .lines import is_dateline
from .model import refine_paragraphs
from .prune import drop_link_lists, drop_teaser_cards, filter_paragraphs, strip_lead
from .render import render_html, render_text
from .rules import drop_selected, remove_keeping_tail, select_all
from .score import choose_main, collect_stats

__all__ = ["Content", "PageMeta", "extract_content"]

logger = logging.getLogger(__name__)


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
    article_markup: bool = False  # og:type or JSON-LD calls the page an article (PageHints)


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
    drop_tags(tree)
    drop_credits(body)
    title = meta.title if meta else None
    published = meta.published if meta else None
    if chosen:
        logger.debug("rules.body matched %d elements", len(chosen))
        paras = [p for el in chosen for p in flatten(el)]
        kind = page_kind(hints, paras, paras, published is not None, 0, 0)
    else:
        paras, kind = _main_paragraphs(body, hints, title, published is not None)
    paras = strip_lead(refine_paragraphs(paras, filter_paragraphs(paras), kind), title, published)
    return Content(render_text(paras), render_html(paras), kind, hints.article_markup)


def _main_paragraphs(
    body: etree._Element, hints: PageHints, title: str | None, dated: bool
) -> tuple[list[Para], str]:
    """Steps 1 to 4 without per-site rules: the main block's paragraphs and the page kind."""
    drop_boilerplate_blocks(body)
    all_paras = flatten(body)
    stats = collect_stats(all_paras, body)
    chosen, gallery, grouped = choose_main(body, stats)
    if gallery is not None:
        all_paras = [p for p in all_paras if not is_inside(p.container, [gallery])]
        remove_keeping_tail(gallery)
    main_paras = [p for p in all_paras if is_inside(p.container, chosen)]
    # a group of cards: the kind is judged on one card, as if the best one alone were chosen
    card_paras = (
        main_paras if grouped is None else [p for p in main_paras if is_inside(p.container, [grouped])]
    )
    times = sum(1 for _ in body.iter("time"))
    kind = page_kind(hints, all_paras, card_paras, dated, times, _count_datelines(card_paras))
    best = chosen
    lead: list[Para] = []
    changed = gallery is not None  # the tree under the chosen blocks, since all_paras was read
    # a group of cards is judged as a listing is: it must hold most of the page
    shape = kind if grouped is None else "listing"
    if is_partial_block(main_paras, outside_complementary(all_paras, chosen, kind), shape):
        drop_complementary(body, best)
        chosen, changed = [body], True
    else:
        lead = lead_paragraphs(all_paras, chosen, title)
    if kind != "listing":
        changed = drop_link_lists(chosen, stats, best) or changed
    paras = _block_paragraphs(chosen, None if changed else all_paras)
    if kind == "article" and drop_teaser_cards(chosen, best, paras):
        paras = _block_paragraphs(chosen, None)
    return lead + paras, kind


def _block_paragraphs(chosen: list[etree._Element], read: list[Para] | None) -> list[Para]:
    """The chosen blocks' paragraphs, block by block: taken from `read` (the body's, its tree unchanged
    since) where that gives what flattening the block gives, else flattened again (a walk a page saved).
    """
    # nested or repeated blocks: flattening each gives their shared paragraphs twice, as copies
    nested = len(set(chosen)) < len(chosen) or any(
        is_inside(a, chosen) for el in chosen for a in el.iterancestors()
    )
    if read is not None and not nested:
        blocks = [paragraphs_inside(read, el) for el in chosen]
        if all(b is not None for b in blocks):
            return [p for b in blocks if b is not None for p in b]
    return [p for el in chosen for p in flatten(el)]


def _count_datelines(paras: list[Para]) -> int:
    """Date-only lines that stamp a post (not "Updated …" lines): a thread's sign for page_kind()."""
    return sum(
        1
        for p in paras
        if len(p.text) <= bp.FURNITURE_LINE_MAX_CHARS
        and is_dateline(p.text)
        and not bp.REVISION_LINE_RE.match(p.text)
    )


def _body_of(tree: etree._Element) -> etree._Element | None:
    if not isinstance(tree.tag, str):
        return None
    if tree.tag == "body":
        return tree
    body = tree.find("body")
    return body if body is not None else tree
