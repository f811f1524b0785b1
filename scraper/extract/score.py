"""Content step 3a, scoring: score containers by the prose they hold and choose the main block.

Input: the flattened body (flatten.Para) and the body. Output: per-element Stats, and
the chosen blocks. Settings: boilerplate.py, "step 3" heading. Readability's scheme:
each prose paragraph gives its score to a few ancestors, CJK characters weighted and
CJK punctuation counted; the best container climbs to a parent that holds more and
takes its good siblings; photo galleries and sidebars give way to the page's own text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from . import boilerplate as bp
from .boilerplate import HEADING_TAGS, NAME_TOKEN_SPLIT_RE
from .dom import NAME_CACHE_SIZE, class_id, is_ancestor
from .extent import complementary_region, is_complementary, is_review_section
from .flatten import Para
from .lines import is_boilerplate_text, is_prose


@dataclass(slots=True)
class Stats:
    """Text totals of one element's subtree, from its paragraphs."""

    chars: int = 0
    link_chars: int = 0
    score: float = 0.0
    scored: bool = False
    punctuation: int = 0
    children: list[etree._Element] = field(default_factory=list)

    @property
    def link_density(self) -> float:
        """Share of the subtree's (weighted) text that is link text."""
        return self.link_chars / self.chars if self.chars else 0.0


def collect_stats(paras: list[Para], body: etree._Element) -> dict[etree._Element, Stats]:
    """Sum text and link characters up the tree, and give each prose paragraph's score to its containers."""
    stats: dict[etree._Element, Stats] = {}
    tree = _Tree(body)
    text_divs: dict[etree._Element, bool] = {}
    for para in paras:
        own = tree.add(para.container, stats)
        own.chars += para.weight
        own.link_chars += para.link_chars * para.weight // max(1, len(para.text))
        if not is_prose(para, bp.MIN_PARAGRAPH_CHARS, bp.MAX_LINK_DENSITY, at_limit=True):
            continue
        if para.container.tag in HEADING_TAGS:
            continue
        if is_boilerplate_text(para.text):
            continue
        punctuation = len(bp.PUNCTUATION_RE.findall(para.text))
        score = 1.0 + punctuation + min(para.weight / bp.LENGTH_BONUS_CHARS, bp.LENGTH_BONUS_MAX)
        first = para.container
        if first.tag in bp.INLINE_PARAGRAPH_TAGS or (first.tag == "div" and _is_text_div(first, text_divs)):
            first = first.getparent()
        level = 0
        while first is not None and level < len(bp.ANCESTOR_DIVIDERS):
            st = stats.get(first)
            if st is None:
                st = stats[first] = Stats()
            if not st.scored:
                st.scored = True
                st.score += _initial_score(first)
            st.score += score / bp.ANCESTOR_DIVIDERS[level]
            st.punctuation += punctuation
            if first is body:
                break
            first = first.getparent()
            level += 1
    tree.sum_up(stats)
    return stats


class _Tree:
    """The containers' ancestors up to the body, each with its parent and depth, found once each.

    collect_stats() adds a paragraph's text to its container only, then sums the totals up the
    tree once (deepest first), instead of walking every paragraph's ancestors to the body.
    """

    def __init__(self, body: etree._Element) -> None:
        self.body = body
        self.parent: dict[etree._Element, etree._Element | None] = {}
        self.depth: dict[etree._Element, int] = {}

    def add(self, node: etree._Element, stats: dict[etree._Element, Stats]) -> Stats:
        """The Stats of a container, its new ancestors given Stats too (bottom-up, as they are met)."""
        first = node
        chain = []
        current: etree._Element | None = node
        while current is not None and current not in self.parent:
            chain.append(current)
            if current not in stats:
                stats[current] = Stats()
            self.parent[current] = up = None if current is self.body else current.getparent()
            current = up
        depth = 0 if current is None else self.depth[current] + 1
        for el in reversed(chain):
            self.depth[el] = depth
            depth += 1
        return stats[first]

    def sum_up(self, stats: dict[etree._Element, Stats]) -> None:
        """Add every element's text and link totals to its parent's, deepest elements first."""
        for el in sorted(self.parent, key=self.depth.__getitem__, reverse=True):
            up = self.parent[el]
            if up is not None:
                st, total = stats[up], stats[el]
                st.chars += total.chars
                st.link_chars += total.link_chars


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
        if value:
            weight += _name_weight(value)
    return weight


@functools.lru_cache(maxsize=NAME_CACHE_SIZE)
def _name_weight(value: str) -> float:
    """readability's class weight of one class or id value (remembered: the two regexes are long)."""
    weight = 0.0
    if bp.NEGATIVE_RE.search(value):
        weight -= bp.CLASS_WEIGHT
    if bp.POSITIVE_RE.search(value):
        weight += bp.CLASS_WEIGHT
    return weight


def _initial_score(el: etree._Element) -> float:
    return bp.TAG_BASE_SCORE.get(el.tag, 0.0) + _class_weight(el)


def final_score(st: Stats) -> float:
    """The score discounted by the share of link text (readability)."""
    return st.score * (1.0 - st.link_density)


def choose_main(
    body: etree._Element, stats: dict[etree._Element, Stats]
) -> tuple[list[etree._Element], etree._Element | None, etree._Element | None]:
    """The best-scoring container, moved up where its parent holds more, plus its good siblings.

    Returns the chosen blocks, a photo gallery passed over for them (to be removed),
    and the best card when the block was taken as the group of a component's copies.
    """
    candidates = [(el, final_score(st)) for el, st in stats.items() if st.scored]
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
    # an <aside> or a sidebar is complementary content, and a shop's customer reviews are
    # the readers' text: each gives way to the page's own text
    for test in (is_complementary, is_review_section):
        top, top_score, candidates = _outside_region(top, top_score, candidates, test)
    shared = _shared_ancestor(top, top_score, candidates[1 : 1 + bp.SHARED_ANCESTOR_CANDIDATES], body)
    grouped = None
    if shared is None:
        shared = _repeated_ancestor(top, top_score, candidates[1 : bp.GALLERY_MAX_CANDIDATES], body)
        grouped = top if shared is not None else None
    if shared is not None:
        top = shared
    top = _climb(top, stats, body)
    return _with_siblings(top, stats, body), gallery, grouped


def _outside_region(
    top: etree._Element,
    top_score: float,
    candidates: list[tuple[etree._Element, float]],
    test: Callable[[etree._Element], bool],
) -> tuple[etree._Element, float, list[tuple[etree._Element, float]]]:
    """The best candidate outside every region the test names, when the top is in one and it scores well."""
    regions: dict[etree._Element, etree._Element | None] = {}
    if complementary_region(top, regions, test) is None:
        return top, top_score, candidates
    main = [
        c
        for c in candidates[: bp.GALLERY_MAX_CANDIDATES]
        if complementary_region(c[0], regions, test) is None
    ]
    if main and main[0][1] >= bp.COMPLEMENTARY_MIN_SCORE_SHARE * top_score:
        return main[0][0], main[0][1], main
    return top, top_score, candidates


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
    close = [el for el, score in others if score >= bp.SHARED_ANCESTOR_MIN_SCORE_SHARE * top_score]
    if len(close) < bp.SHARED_ANCESTOR_MIN_OTHERS:
        return None
    node = top.getparent()
    while node is not None and node is not body:
        if sum(1 for el in close if is_ancestor(node, el)) >= bp.SHARED_ANCESTOR_MIN_OTHERS:
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
    if len(copies) < bp.REPEATED_MIN_COPIES:
        return None
    node = top.getparent()
    while node is not None and node is not body:
        if all(is_ancestor(node, el) for el in copies):
            return node
        node = node.getparent()
    return None


def _climb(top: etree._Element, stats: dict[etree._Element, Stats], body: etree._Element) -> etree._Element:
    """Move up while a parent scores higher, and past wrappers that hold only this child."""
    st = stats.get(top)
    last = final_score(st) if st else 0.0
    threshold = last / bp.CLIMB_STOP_DIVISOR
    parent = top.getparent()
    while parent is not None and parent is not body:
        pst = stats.get(parent)
        if pst is None or not pst.scored:
            parent = parent.getparent()
            continue
        score = final_score(pst)
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


def _is_weaker_wrapper(parent: Stats, best: Stats) -> bool:
    """A wrapper scoring well below the best block while holding several times its text."""
    return parent.chars > bp.CLIMB_MAX_GROWTH * best.chars and final_score(
        parent
    ) < bp.CLIMB_MIN_SCORE_SHARE * final_score(best)


def _with_siblings(
    top: etree._Element, stats: dict[etree._Element, Stats], body: etree._Element
) -> list[etree._Element]:
    """The winner plus adjacent siblings good enough to be part of the same text."""
    parent = top.getparent()
    if parent is None or top is body:
        return [top]
    tst = stats.get(top)
    top_score = final_score(tst) if tst else 0.0
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
        same_class = top_class and sibling.get("class") == top_class
        bonus = top_score * bp.SIBLING_CLASS_BONUS_SHARE if same_class else 0.0
        # another part of the same component, whose text may sit too deep to score at its level
        if sibling.tag == top.tag and _is_same_component(top_class, sibling.get("class")):
            good = _best_score(sibling, stats) + bonus >= threshold
        else:
            good = st.scored and final_score(st) + bonus >= threshold
        if good or (sibling.tag == "p" and _is_prose_sibling(sibling, st)):
            chosen.append(sibling)
    return chosen


def _is_landmark_sibling(el: etree._Element) -> bool:
    """A sidebar, navigation or footer beside the text: never part of it, whatever it scores."""
    if el.tag in bp.SIBLING_NEVER_TAGS or el.get("role") in bp.SIBLING_NEVER_ROLES or is_complementary(el):
        return True
    names = class_id(el).lower()
    return bool(set(NAME_TOKEN_SPLIT_RE.split(names)) & bp.SIBLING_NEVER_TOKENS)


def _is_same_component(first: str | None, second: str | None) -> bool:
    """Two class lists that are mostly the same: one layout component with a few modifiers."""
    if not first or not second:
        return False
    a, b = set(first.split()), set(second.split())
    return len(a & b) >= bp.SAME_COMPONENT_CLASS_SHARE * len(a | b)


def _best_score(el: etree._Element, stats: dict[etree._Element, Stats]) -> float:
    """The best score of the element or a container inside it.

    Scores climb only a few levels above a paragraph, so a wrapper around deeply
    nested text holds none (or a small share) of it (quanta-1's body in three wrappers).
    """
    best = 0.0
    for node in el.iter(etree.Element):
        st = stats.get(node)
        if st is not None and st.scored:
            best = max(best, final_score(st))
    return best


def _is_prose_sibling(el: etree._Element, st: Stats) -> bool:
    """Readability's test for a <p> sibling: long with few links, or short, link-free and a sentence.

    Not lines.is_prose(): it reads a subtree's Stats (more than, not at least, its
    threshold) and lets a short sentence in; its thresholds are readability's.
    """
    text = " ".join(el.text_content().split())
    if st.chars > bp.SIBLING_PROSE_CHARS and st.link_density < bp.SIBLING_PROSE_MAX_LINK_DENSITY:
        return True
    return (
        0 < st.chars <= bp.SIBLING_PROSE_CHARS
        and st.link_chars == 0
        and bool(bp.SIBLING_SENTENCE_END_RE.search(text))
    )
