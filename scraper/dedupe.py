"""Dedupe keys for articles: url_key, content_hash, word counts and near-duplicate fingerprints.

Input: an article's URL or text. Output: strings and integers that store.py keeps
in the database. Pure functions, no database access and no settings.

CJK text has no spaces between words, so word_count() and simhash() count each
Han or kana character as one token; Hangul is spaced like English and is not.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter

from .urls import canonicalize_url

# Scripts written without spaces between words: each character is one token.
# CJK radicals and symbols, kana, bopomofo, CJK unified ideographs (with extension A),
# compatibility ideographs, half-width katakana and the supplementary ideograph planes.
CJK_RANGES = (
    "\u2e80-\u2fdf\u3005-\u3007\u3021-\u3029\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
# One CJK character, or a run of word characters that holds no CJK character.
TOKEN_RE = re.compile(f"[{CJK_RANGES}]|[^\\W{CJK_RANGES}]+")
SIMHASH_SHINGLE = 4
_MASK64 = (1 << 64) - 1


def normalize_text(text: str) -> str:
    """Text in the form content_hash() hashes: NFKC, casefolded, whitespace collapsed, stripped.

    Invisible format characters (zero-width spaces, soft hyphens, BOMs) are dropped
    too: pages insert them at random and they change nothing a reader sees.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split())


def content_hash(text: str) -> str:
    """The sha256 hex digest of normalize_text(text)."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def url_key(url: str) -> str:
    """The key an article's URL is stored under: its canonical form."""
    return canonicalize_url(url)


def word_count(text: str) -> int:
    """Words in text: each CJK character counts as one, and so does each other run of \\w."""
    return sum(1 for _ in TOKEN_RE.finditer(text))


def simhash(text: str) -> int:
    """A 64-bit SimHash (unsigned) over 4-token shingles of the normalised text.

    Near-duplicate texts give fingerprints a few bits apart (see simhash_distance);
    text without any token gives 0.
    """
    tokens = TOKEN_RE.findall(normalize_text(text))
    if not tokens:
        return 0
    size = min(SIMHASH_SHINGLE, len(tokens))
    shingles = Counter(" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1))
    # Per byte of the 64-bit shingle hash, the total weight of each byte value: 8 additions per
    # shingle instead of 64 (the crawl profile showed the 64-pass loop costing most of an extract).
    tables = [[0] * 256 for _ in range(8)]
    total = 0
    for shingle, count in shingles.items():
        digest = hashlib.blake2b(shingle.encode("utf-8"), digest_size=8).digest()
        total += count
        for position, byte in enumerate(reversed(digest)):  # position 0 holds bits 0-7
            tables[position][byte] += count
    fingerprint = 0
    for position, table in enumerate(tables):
        for bit in range(8):
            ones = sum(weight for value, weight in enumerate(table) if value >> bit & 1)
            if 2 * ones > total:  # the bit's score: +count where set, -count where not
                fingerprint |= 1 << (position * 8 + bit)
    return fingerprint


def simhash_distance(a: int, b: int) -> int:
    """How many of the 64 bits differ between two simhash fingerprints (signed or unsigned)."""
    return ((a ^ b) & _MASK64).bit_count()
