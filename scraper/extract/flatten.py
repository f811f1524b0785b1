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


class _Flattener:
    """Turns a subtree into paragraphs, one per block element, <br> or table cell."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root
        self.paras: list[Para] = []
        self.stack: list[etree._Element] = [root]
        self.text: list[str] = []
        self.html: list[str] = []
        self.link_chars = 0
        self.href: str | None = None
        self.link_depth = 0
        self.link_open = False
        self.quote_depth = 0
        self.emphasis: list[str] = []

    def run(self) -> list[Para]:
        """Walk the subtree once and return its paragraphs."""
        for event, el in etree.iterwalk(self.root, events=("start", "end")):
            tag = el.tag if isinstance(el.tag, str) else ""
            if event == "start":
                self._start(el, tag)
            else:
                self._end(el, tag)
        self._flush()
        return self.paras

    def _start(self, el: etree._Element, tag: str) -> None:
        if tag in BLOCK_TAGS or tag == "br":
            self._flush()
            if tag != "br" and el is not self.root:
                self.stack.append(el)
            if tag == "blockquote":
                self.quote_depth += 1
        elif tag == "a":
            self.link_depth += 1
            if self.link_depth == 1:
                self.href = el.get("href")
        elif tag in EMPHASIS_TAGS:
            self._close_link()
            self.emphasis.append(EMPHASIS_TAGS[tag])
            self.html.append(Tag(f"<{EMPHASIS_TAGS[tag]}>"))
        if el.text and tag:
            self._add(el.text)

    def _end(self, el: etree._Element, tag: str) -> None:
        if tag in BLOCK_TAGS and el is not self.root:
            self._flush()
            if self.stack[-1] is el:
                self.stack.pop()
            if tag == "blockquote":
                self.quote_depth -= 1
        elif tag == "a":
            self.link_depth -= 1
            if self.link_depth == 0:
                self._close_link()
                self.href = None
        elif tag in EMPHASIS_TAGS and self.emphasis:
            self._close_link()
            self.html.append(Tag(f"</{self.emphasis.pop()}>"))
        if el.tail and el is not self.root:
            self._add(el.tail)

    def _close_link(self) -> None:
        if self.link_open:
            self.html.append(Tag("</a>"))
            self.link_open = False

    def _add(self, text: str) -> None:
        if self.link_depth > 0:
            self.link_chars += len(text.strip())
            if self.href and not self.link_open:
                self.html.append(Tag(f'<a href="{html_lib.escape(self.href, quote=True)}">'))
                self.link_open = True
        self.text.append(text)
        self.html.append(text)

    def _flush(self) -> None:
        self._close_link()
        raw = "".join(self.text)
        if raw.strip():
            text = " ".join(raw.split())
            self.html.extend(Tag(f"</{t}>") for t in reversed(self.emphasis))
            self.paras.append(
                Para(
                    container=self.stack[-1],
                    text=text,
                    link_chars=min(self.link_chars, len(text)),
                    quote=self.quote_depth > 0,
                    weight=weighted_len(text),
                    pieces=self.html,
                    keep_breaks=self.stack[-1].tag == "pre",
                )
            )
        self.text = []
        self.html = [Tag(f"<{t}>") for t in self.emphasis]
        self.link_chars = 0


def flatten(root: etree._Element) -> list[Para]:
    """The paragraphs of a subtree, in document order."""
    return _Flattener(root).run()
