"""Parsing: HTML text -> one lxml tree.

Input: the decoded page. Output: the root <html> element, or None when the
input holds no element at all. Broken markup is repaired by libxml2's HTML
parser; comments and processing instructions are dropped at parse time.
"""

from __future__ import annotations

import logging
import re

from lxml import etree
from lxml import html as lxml_html

logger = logging.getLogger(__name__)

# lxml refuses a str that starts with an XML declaration naming an encoding
# (the text is already decoded, so the declaration is meaningless here).
_XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
# Characters XML forbids (NUL and other C0 controls): lxml rejects strings holding them.
_CONTROL_CHARS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# huge_tree lifts libxml2's depth and text-size limits, so pages with
# thousands of nested elements or multi-megabyte text nodes still parse.
_PARSER = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True, default_doctype=False)


def parse_html(html: str) -> lxml_html.HtmlElement | None:
    """Parse a decoded page into an lxml tree; None when it holds no element."""
    if not html or not html.strip():
        return None
    text = _XML_DECLARATION_RE.sub("", html.lstrip("\ufeff"), count=1)
    text = _CONTROL_CHARS_RE.sub("", text)
    if not text.strip():
        return None
    try:
        root = lxml_html.document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError) as exc:
        logger.debug("no HTML elements in the input: %s", exc)
        return None
    if root is None or not isinstance(root.tag, str):
        return None
    return root
