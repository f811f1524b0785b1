"""Bytes -> text for HTML, in the WHATWG order: BOM, HTTP header, <meta>, then detection.

Input: raw body bytes and the Content-Type charset, if any. Output: the text
and the name of the encoding used. Legacy Chinese labels (gb2312, gbk, x-gbk)
are read as gb18030, their superset, as browsers do; otherwise a page labelled
gb2312 that uses one GBK character turns into mojibake.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import re

from charset_normalizer import CharsetMatch, from_bytes
from charset_normalizer.cd import coherence_ratio
from charset_normalizer.md import mess_ratio

logger = logging.getLogger(__name__)

# Labels browsers map to a wider encoding (WHATWG Encoding Standard, "legacy" aliases).
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "chinese": "gb18030",
    "csgb2312": "gb18030",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "big5": "big5hkscs",
    "tis-620": "cp874",
    "iso-8859-9": "cp1254",
}
# The prescan looks at the first 1024 bytes in the spec; real pages put long
# scripts first, so a wider window finds more declarations at no real cost.
_PRESCAN_BYTES = 16384
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.IGNORECASE)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.\-]+)""", re.IGNORECASE)
# How much more "chaos" (charset-normalizer's mess score, 0..1) cp1252 may show than the best
# candidate and still be chosen; French text measured 0.022 (cp1257) against 0.065 (cp1252).
_CP1252_MARGIN = 0.1
# Detection reads the page's text only (tags, scripts, styles and comments removed), at most this
# many bytes of it: 8 KB holds a few thousand CJK characters, and scoring costs about 0.5 µs a character.
_SAMPLE_BYTES = 8192
_MARKUP_RE = re.compile(rb"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>", re.I | re.S)
_SPACE_RE = re.compile(rb"\s+")
# Multi-byte encodings judged even when a few bytes do not decode (see detect_encoding): the legacy
# CJK families (UTF-8 with a few bad bytes is recognised before, see _mostly_utf8). A wrong one leaves
# far more bad bytes: the zol.com.cn page (2,800 CJK characters) has 2 as gb18030, 42 as Big5, 105 as
# cp949, 184 as cp932.
_LENIENT_MULTIBYTE = ("gb18030", "big5hkscs", "cp932", "euc_jp", "cp949")
# ... as long as they leave at most one bad character per this many non-ASCII bytes (2 in 5,600 on
# zol.com.cn as gb18030; the wrong families above leave 1 in 130 or more).
_MAX_BAD_SHARE = 200
# Chaos scores closer than this are a tie, broken by coherence (fit to a language's letter frequencies):
# Korean EUC-KR bytes also decode as GBK, into rare Chinese characters no less "orderly" than Hangul.
_CHAOS_TIE = 0.05
# A declared charset that leaves at most one replacement character per this many
# characters is still a candidate (a few broken bytes), not a lie.
_MAX_REPLACED_SHARE = 200
# How much more orderly (lower chaos) detection's decoding of the text must be to overrule such a
# label: a right label over one cut character scores 0.02-0.05 above the clean page, a wrong one
# 0.16 (Korean read as GBK) to 2 (Big5 read as GBK) above the right reading (tests/test_encoding.py).
_OVERRULE_MARGIN = 0.1
# UTF-8 with a few bad bytes (a character cut in half) is still UTF-8 when there are at least this
# many good multi-byte characters per bad one; legacy Latin text has none (each "é" is a bad byte).
_UTF8_GOOD_PER_BAD = 20
# What undeclared bytes that nothing recognises are read as: the WHATWG default for most locales.
_FALLBACK = "cp1252"
# UTF-32 first: its little-endian BOM starts with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE_FAMILIES = ("utf-16", "utf-32")


def normalize_label(label: str | None) -> str | None:
    """A Python codec name for an encoding label, or None when Python does not know it."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = SUPERSETS.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    # A page cannot really be UTF-16 once it was decoded as ASCII-compatible bytes to find the meta tag.
    if codec.startswith("utf-16") or codec.startswith("utf-32"):
        return "utf-8"
    return SUPERSETS.get(codec, codec)


def sniff_meta_charset(raw: bytes) -> str | None:
    """The charset a page declares in <meta> or an XML declaration, if Python knows it."""
    head = raw[:_PRESCAN_BYTES]
    match = _XML_DECL_RE.search(head) or _META_CHARSET_RE.search(head)
    return normalize_label(match.group(1).decode("ascii", "replace")) if match else None


def wide_encoding(raw: bytes, header_charset: str | None) -> str | None:
    """The UTF-16 or UTF-32 codec a body's BOM or Content-Type charset declares, with its byte order.

    Only a BOM or the HTTP header can declare these (a <meta> that says UTF-16 was read as ASCII,
    so it is wrong). The markup of UTF-16/32 HTML is ASCII, each character with a 0x00 byte, so a
    header that says UTF-16 over a body without one is wrong too. A label without a byte order
    ("utf-16") and no BOM: HTML starts with an ASCII character, so big-endian text starts with a
    0x00 byte and little-endian text does not.
    """
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name if name.startswith(_WIDE_FAMILIES) else None
    if not header_charset or b"\x00" not in raw[:_PRESCAN_BYTES]:
        return None
    try:
        codec = codecs.lookup(header_charset.strip().strip("\"'").lower()).name
    except LookupError:
        return None
    for family in _WIDE_FAMILIES:
        if codec in (f"{family}-le", f"{family}-be"):
            return codec
        if codec == family:
            return f"{family}-be" if raw[:1] == b"\x00" else f"{family}-le"
    return None


def _byte_chars(first: int, last: int) -> dict[str, int]:
    """Each character a byte in first..last becomes when UTF-8 bytes are read as Latin-1 or cp1252."""
    chars = {chr(b): b for b in range(first, last + 1)}  # Latin-1: the byte's own code point
    for b in range(first, last + 1):
        with contextlib.suppress(UnicodeDecodeError):
            chars.setdefault(bytes([b]).decode("cp1252"), b)  # cp1252: "€" for 0x80, "’" for 0x92...
    return chars


# Double-encoded UTF-8 ("â€™" for "’", "Ã©" for "é"): a CMS read UTF-8 bytes as Latin-1 or cp1252
# and wrote the characters back as UTF-8. A run is a lead byte's character followed by the
# continuation bytes' characters; it is repaired only when those bytes are one valid UTF-8 character.
_LEAD_CHARS = _byte_chars(0xC2, 0xF4)
_CONTINUATION_CHARS = _byte_chars(0x80, 0xBF)
_MOJIBAKE_BYTES = _LEAD_CHARS | _CONTINUATION_CHARS
_MOJIBAKE_RE = re.compile(
    "[{}][{}]{{1,3}}".format(re.escape("".join(_LEAD_CHARS)), re.escape("".join(_CONTINUATION_CHARS)))
)
# The runs of the common cases: "Ã" and "Â" (Latin-1 letters, no-break space) and "â€"/"â\x80"
# (quotes and dashes). Legitimate text rarely holds them (Portuguese "ã" is lower case). Four
# substring scans of the decoded page cost 0.2-0.4 ms a 250 KB page; one regex search 3 ms, and
# the same scans of the raw bytes 1 ms (every accented letter's UTF-8 starts with 0xC3).
MOJIBAKE_MARKS = ("\u00c3", "\u00c2", "\u00e2\u20ac", "\u00e2\x80")
# A page is repaired only when it shows at least this many such runs: one "Ã©" may be a quotation
# of mojibake, a page of them is the page's own text.
MOJIBAKE_MIN_RUNS = 3


def repair_double_utf8(text: str) -> str:
    """Text with double-encoded UTF-8 runs turned back into the characters they stand for."""
    if not any(mark in text for mark in MOJIBAKE_MARKS):
        return text  # every run of the common cases holds one of these
    runs = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal runs
        run = match.group()
        lead = _LEAD_CHARS[run[0]]
        size = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4  # the character's UTF-8 length
        if len(run) < size:
            return run
        try:
            char = bytes(_MOJIBAKE_BYTES[c] for c in run[:size]).decode("utf-8")
        except UnicodeDecodeError:
            return run
        runs += 1
        return char + run[size:]

    repaired = _MOJIBAKE_RE.sub(fix, text)
    return repaired if runs >= MOJIBAKE_MIN_RUNS else text


def decode_html(raw: bytes, header_charset: str | None = None) -> tuple[str, str]:
    """Decode an HTML body; returns (text, encoding used).

    Bytes that are (all but a stray byte) valid UTF-8 are UTF-8, whatever the page declares: a
    legacy label over them is a stale template (3 wcxb-dev pages say iso-8859-1 and came out as
    "Ã©" mojibake), while legacy text almost never forms valid multi-byte sequences. Otherwise a
    declared encoding that decodes cleanly wins; one that leaves a few bad bytes is weighed
    against detection.
    """
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return raw[len(bom) :].decode(name, errors="replace"), name
    wide = wide_encoding(raw, header_charset)
    if wide is not None:
        try:
            return raw.decode(wide), wide
        except UnicodeDecodeError:
            pass  # the header is wrong; the bytes decide below
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        utf8 = raw.decode("utf-8", errors="replace")
    if _mostly_utf8(utf8):
        return utf8, "utf-8"
    declared = [x for x in dict.fromkeys((normalize_label(header_charset), sniff_meta_charset(raw))) if x]
    for label in declared:
        try:
            return raw.decode(label), label
        except UnicodeDecodeError:
            continue
    name = _weigh(raw, declared)
    return raw.decode(name, errors="replace"), name


def _weigh(raw: bytes, declared: list[str]) -> str:
    """The encoding of bytes that neither UTF-8 nor a declared label decodes cleanly.

    A declared label that leaves a stray bad byte or two is usually right (old CMSes cut
    multi-byte characters when they truncate teasers), but pages also lie about their charset:
    detection overrules the label only when its decoding of the text is clearly more orderly.
    """
    near = [label for label in declared if _few_replaced(raw.decode(label, errors="replace"))]
    detected = detect_encoding(raw)
    if not near:
        return detected or _FALLBACK
    sample = _text_sample(raw)
    if detected is None or detected == near[0] or sample is None:
        return near[0]
    if _judge(sample, detected)[0] + _OVERRULE_MARGIN < _judge(sample, near[0])[0]:
        logger.info("declared charset %s leaves bad bytes; decoded as %s", near[0], detected)
        return detected
    return near[0]


def _mostly_utf8(text: str) -> bool:
    """Bytes with a few bad ones, decoded as UTF-8, are UTF-8: a stray few among many good sequences."""
    bad = text.count("\ufffd")
    return _few_replaced(text) and _non_ascii(text) - bad >= bad * _UTF8_GOOD_PER_BAD


# The bytes that are not ASCII, which bytes.translate() deletes to count them.
_HIGH_BYTES = bytes(range(0x80, 0x100))


def _non_ascii(text: str | bytes) -> int:
    """How many characters (or bytes) of text are not ASCII (code point or byte value >= 0x80).

    Counted by what dropping them leaves, in C, not by a generator over every character (about
    30 times slower; on a mostly-UTF-8 page it was most of decode_html's time).
    """
    if isinstance(text, bytes):
        return len(text) - len(text.translate(None, _HIGH_BYTES))
    return len(text) - len(text.encode("ascii", "ignore"))


def _few_replaced(text: str) -> bool:
    """At most a stray replacement character or two for the text's length."""
    return text.count("\ufffd") <= max(1, len(text) // _MAX_REPLACED_SHARE)


def detect_encoding(raw: bytes) -> str | None:
    """The likeliest encoding of an undeclared page that is not clean UTF-8, judged on its text.

    Two fixes over charset-normalizer on the whole body: it reads the visible text only (in
    markup-heavy pages a few KB of Chinese text among 50 KB of ASCII read as Cyrillic with a
    "chaos" of 0.09, under its 0.2 limit), and multi-byte encodings stay candidates when they
    leave a few bad bytes (charset-normalizer drops any with one, and CMSes cut characters in
    half when they truncate teasers: the zol.com.cn GBK page came out as ptcp154).
    """
    sample = _text_sample(raw)
    if sample is None:
        return None
    matches = list(from_bytes(sample))
    strict = _strict_choice(matches)
    seen = {normalize_label(e) for m in matches for e in [m.encoding, *m.could_be_from_charset]}
    lenient = [name for name in _few_bad_bytes(sample) if name not in seen]
    if not lenient:
        return strict
    scored = [(*_judge(sample, name), name) for name in [strict, *lenient] if name]
    best = min(chaos for chaos, _, _ in scored)
    near = [(coherence, name) for chaos, coherence, name in scored if chaos <= best + _CHAOS_TIE]
    return max(near, key=lambda pair: pair[0])[1]  # the first of equals: charset-normalizer's pick


def _strict_choice(matches: list[CharsetMatch]) -> str | None:
    """charset-normalizer's best match, preferring windows-1252 on a near tie.

    Undeclared Western pages are windows-1252 (the WHATWG default), but charset-normalizer
    ranks cp1257 or cp1250 first for plain French text ("très" came out as "trčs"); when
    cp1252 is a candidate within _CP1252_MARGIN of the best chaos score, it wins.
    """
    if not matches:
        return None
    best = min(matches, key=lambda m: m.chaos)
    for match in matches:
        # could_be_from_charset: encodings that decode these bytes to the very same text
        names = {normalize_label(e) for e in [match.encoding, *match.could_be_from_charset]}
        if "cp1252" in names and match.chaos <= best.chaos + _CP1252_MARGIN:
            return "cp1252"
    return normalize_label(matches[0].encoding)


def _text_sample(raw: bytes) -> bytes | None:
    """The page's text without markup, scripts and styles, bounded; None when it has no non-ASCII byte.

    Safe on legacy bytes: no trail byte of GBK, Big5, Shift_JIS or EUC-KR is "<" or ">", so the
    tag pattern never cuts a character in two.
    """
    text = _SPACE_RE.sub(b" ", _MARKUP_RE.sub(b" ", raw))
    if max(text, default=0) < 0x80:
        text = raw  # the non-ASCII bytes are all in attributes or scripts: judge those
    if max(text, default=0) < 0x80:
        return None
    sample = text[:_SAMPLE_BYTES]
    cut = max(sample.rfind(b" "), 0) if len(text) > _SAMPLE_BYTES else len(sample)
    return sample[:cut] or sample


def _few_bad_bytes(sample: bytes) -> list[str]:
    """The multi-byte encodings that decode the sample with at most a few bad characters."""
    allowed = max(1, _non_ascii(sample) // _MAX_BAD_SHARE)
    return [
        name
        for name in _LENIENT_MULTIBYTE
        if sample.decode(name, errors="replace").count("\ufffd") <= allowed
    ]


def _judge(sample: bytes, name: str) -> tuple[float, float]:
    """(chaos, coherence) of the sample decoded as name: mess ratio, and fit to a known language."""
    text = sample.decode(name, errors="replace")
    bad = text.count("\ufffd") / max(1, _non_ascii(text))
    coherence = coherence_ratio(text)
    return mess_ratio(text, 1.0) + bad, (coherence[0][1] if coherence else 0.0)
