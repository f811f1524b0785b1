"""The one paragraph model: a subtree flattened into paragraphs, one per block element, <br> or cell.

Input: an lxml subtree. Output: Para records (text, inline HTML, link characters,
CJK-weighted length, whether in a quote, and the container they came from).
Settings: boilerplate.BLOCK_TAGS and the "shared" heading (emphasis kept in HTML).
Every step measures text through these records, so a paragraph means the same everywhere.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass, field

from lxml import etree

from .boilerplate import BLOCK_TAGS, EMPHASIS_TAGS, EMPTY_INLINE_RE
from .text import weighted_len


class Tag(str):
    """A piece of inline markup in Para.pieces, written out as it is (text pieces are escaped)."""

    __slots__ = ()


@dataclass(slots=True)
class Para:
    """One paragraph of flattened text and where it came from.

    Its HTML is kept as pieces and joined on first use: most paragraphs are only measured,
    and building every paragraph's markup was 40 % of flattening a page.
    """

    container: etree._Element
    text: str
    link_chars: int
    quote: bool = False
    weight: int = 0
    pieces: list[str] = field(default_factory=list)
    keep_breaks: bool = False  # a <pre> paragraph keeps its line breaks and indentation
    _html: str | None = None

    @property
    def html(self) -> str:
        """The paragraph's inline HTML: text escaped, emphasis and links kept, empty emphasis gone."""
        if self._html is None:
            escape = html_lib.escape
            markup = "".join(p if isinstance(p, Tag) else escape(p, quote=False) for p in self.pieces)
            if not self.keep_breaks:
                markup = " ".join(markup.split())
            self._html = EMPTY_INLINE_RE.sub("", markup)
        return self._html

    @property
    def link_density(self) -> float:
        """Share of the text that is link text."""
        return self.link_chars / len(self.text) if self.text else 0.0


# The markup pieces a paragraph is built from, made once: a Tag per emphasis tag and the link's end.
_OPEN = {name: Tag(f"<{name}>") for name in EMPHASIS_TAGS.values()}
_CLOSE = {name: Tag(f"</{name}>") for name in EMPHASIS_TAGS.values()}
_CLOSE_LINK = Tag("</a>")


def flatten(root: etree._Element) -> list[Para]:
    """The paragraphs of a subtree, in document order: one per block element, <br> or table cell.

    One walk over start and end events with the state in local variables (a method call per event
    and per text piece cost more than the walk; this runs three to four times a page).
    """
    paras: list[Para] = []
    stack = [root]  # the enclosing block elements; the innermost is a paragraph's container
    texts: list[str] = []  # text since the last paragraph break
    pieces: list[str] = []  # the same text as markup pieces (Tag or text)
    link_chars = 0
    link_depth = 0
    link_open = False
    href: str | None = None
    quote_depth = 0
    emphasis: list[str] = []

    def flush() -> None:
        # Only added text opens links and counts link text: with no text since the last flush there
        # is nothing to close or count (three flushes in four on real pages).
        nonlocal texts, pieces, link_chars, link_open
        if texts:
            if link_open:
                pieces.append(_CLOSE_LINK)
                link_open = False
            raw = "".join(texts)
            if not raw.isspace():
                text = " ".join(raw.split())
                if emphasis:
                    pieces.extend(_CLOSE[name] for name in reversed(emphasis))
                container = stack[-1]
                paras.append(
                    Para(
                        container,
                        text,
                        min(link_chars, len(text)),
                        quote_depth > 0,
                        weighted_len(text),
                        pieces,
                        container.tag == "pre",
                    )
                )
            texts = []
            link_chars = 0
        pieces = [_OPEN[name] for name in emphasis] if emphasis else []

    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag
        if not isinstance(tag, str):
            tag = ""  # a comment, processing instruction or entity
        if event == "start":
            if tag in BLOCK_TAGS or tag == "br":
                if texts or pieces:  # else flush() has nothing to do (open emphasis leaves a piece)
                    flush()
                if tag != "br" and el is not root:
                    stack.append(el)
                if tag == "blockquote":
                    quote_depth += 1
            elif tag == "a":
                link_depth += 1
                if link_depth == 1:
                    href = el.get("href")
            elif tag in EMPHASIS_TAGS:
                if link_open:
                    pieces.append(_CLOSE_LINK)
                    link_open = False
                emphasis.append(EMPHASIS_TAGS[tag])
                pieces.append(_OPEN[emphasis[-1]])
            piece = el.text if tag else None
        else:
            if tag in BLOCK_TAGS and el is not root:
                if texts or pieces:
                    flush()
                if stack[-1] is el:
                    stack.pop()
                if tag == "blockquote":
                    quote_depth -= 1
            elif tag == "a":
                link_depth -= 1
                if link_depth == 0:
                    if link_open:
                        pieces.append(_CLOSE_LINK)
                        link_open = False
                    href = None
            elif tag in EMPHASIS_TAGS and emphasis:
                if link_open:
                    pieces.append(_CLOSE_LINK)
                    link_open = False
                pieces.append(_CLOSE[emphasis.pop()])
            piece = el.tail if el is not root else None
        if piece:
            if link_depth > 0:
                link_chars += len(piece.strip())
                if href and not link_open:
                    pieces.append(Tag(f'<a href="{html_lib.escape(href, quote=True)}">'))
                    link_open = True
            texts.append(piece)
            pieces.append(piece)
    flush()
    return paras


def paragraphs_inside(paras: list[Para], root: etree._Element) -> list[Para] | None:
    """flatten(root), read from `paras`: the flattening of a subtree holding root, unchanged since.

    None when that walk reached root with state flatten(root) starts without: root is not a
    block (its text runs on from the text before it), or it sits in a link, emphasis or quote.
    """
    if root.tag not in BLOCK_TAGS:
        return None
    for ancestor in root.iterancestors():
        if ancestor.tag == "a" or ancestor.tag == "blockquote" or ancestor.tag in EMPHASIS_TAGS:
            return None
    inside = set(root.iter())
    return [p for p in paras if p.container in inside]
