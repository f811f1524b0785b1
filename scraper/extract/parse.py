"""Parsing: HTML text -> one lxml tree.

Input: the decoded page. Output: the root <html> element, or None when the
input holds no element at all. Broken markup is repaired by libxml2's HTML
parser; comments and processing instructions are dropped at parse time.
"""

from __future__ import annotations

import logging
import re
import threading

from lxml import etree
from lxml import html as lxml_html

from ..encoding import repair_double_utf8

logger = logging.getLogger(__name__)

# lxml refuses a str that starts with an XML declaration naming an encoding
# (the text is already decoded, so the declaration is meaningless here).
_XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
# Characters XML forbids (NUL and other C0 controls): lxml rejects strings holding them.
_CONTROL_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The same C0 controls as bytes. In UTF-8 a byte below 0x80 is always that ASCII character, so a
# page's encoded text loses no byte to translate() exactly when it holds none of them: half the
# time of the regex's scan (0.29 against 0.52 ms a 200 KB page), and pages almost never hold one.
_CONTROL_BYTES = bytes(c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D))

# Past this nesting depth libxml2 stops parsing (a FATAL ERR_RESOURCE_LIMIT, even with huge_tree) and
# everything after that point is lost; old pages with thousands of unclosed <font> or <div> tags get
# there. Such a page is parsed again with its nesting tags flattened, in two steps: inline formatting
# first (the article's blocks survive), then the block containers too (the text survives).
_FLATTEN_STEPS = (
    re.compile(r"</?(?:font|span|b|i|u|s|em|strong|small|big|center|sup|sub|strike|tt|nobr)\b[^>]*>", re.I),
    re.compile(
        r"</?(?:div|section|article|main|aside|header|footer|blockquote|ul|ol|li|dl|dt|dd"
        r"|table|thead|tbody|tfoot|tr|td|th|form|fieldset|label)\b[^>]*>",
        re.I,
    ),
)
_local = threading.local()  # one parser per thread: its error_log tells whether the parse was cut short
# lxml.html's own parser picks each element's class in Python (a call per element proxy: cProfile
# charged it 0.45 s of 6 s, but timed without the profiler the gain is within noise); this lookup
# runs in C. Every element is an HtmlElement: the form-field subclasses are not used here.
_CLASS_LOOKUP = etree.ElementDefaultClassLookup(
    element=lxml_html.HtmlElement,
    comment=lxml_html.HtmlComment,
    pi=lxml_html.HtmlProcessingInstruction,
    entity=lxml_html.HtmlEntity,
)


def _parser() -> lxml_html.HTMLParser:
    parser: lxml_html.HTMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        # huge_tree lifts libxml2's text-size limits, so multi-megabyte text nodes still parse.
        parser = lxml_html.HTMLParser(
            remove_comments=True, remove_pis=True, huge_tree=True, default_doctype=False
        )
        parser.set_element_class_lookup(_CLASS_LOOKUP)
        _local.parser = parser
    return parser


def _cut_short(parser: lxml_html.HTMLParser) -> bool:
    return any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)


def without_control_chars(text: str) -> str:
    """The text without the characters of _CONTROL_CHARS_RE (the text itself when it has none)."""
    data = text.encode("utf-8", "surrogatepass")
    if len(data.translate(None, _CONTROL_BYTES)) < len(data) or "\ufffe" in text or "\uffff" in text:
        return _CONTROL_CHARS_RE.sub("", text)
    return text


def parse_html(html: str) -> lxml_html.HtmlElement | None:
    """Parse a decoded page into an lxml tree; None when it holds no element."""
    if not html or not html.strip():
        return None
    text = _XML_DECLARATION_RE.sub("", html.lstrip("\ufeff"), count=1)
    text = repair_double_utf8(without_control_chars(text))
    if not text.strip():
        return None
    parser = _parser()
    try:
        root = lxml_html.document_fromstring(text, parser=parser)
        for flatten in _FLATTEN_STEPS:
            if not _cut_short(parser):
                break
            logger.debug("markup nested past libxml2's depth limit; parsing it again flattened")
            text = flatten.sub(" ", text)
            root = lxml_html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        logger.debug("no HTML elements in the input: %s", exc)
        return None
    if root is None or not isinstance(root.tag, str):
        return None
    return root
