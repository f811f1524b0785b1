"""Dedupe keys for articles: url_key, content_hash, word counts and near-duplicate fingerprints.

Input: an article's URL or text. Output: strings and integers that store/ keeps
in the database. Pure functions, no database access and no settings.

CJK text has no spaces between words, so word_count() and simhash() count each
Han or kana character as one token; Hangul is spaced like English and is not.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
import struct
import unicodedata

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
    return _normalize(text)


# content_hash() and simhash() of one article normalise the same text: keep the last results.
@functools.lru_cache(maxsize=4)
def _normalize(text: str) -> str:
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    if not folded.isascii():
        # Look up the category of each distinct character, not of every character: a
        # per-character loop cost more than the hashing itself on 10 KB articles.
        invisible = {ord(ch): None for ch in set(folded) if unicodedata.category(ch) == "Cf"}
        if invisible:
            folded = folded.translate(invisible)
    return " ".join(folded.split())


# simhash() and near_anchors() of one article read the same tokens: keep the last results.
@functools.lru_cache(maxsize=4)
def _normalized_tokens(text: str) -> tuple[str, ...]:
    return tuple(TOKEN_RE.findall(normalize_text(text)))


def content_hash(text: str) -> str:
    """The sha256 hex digest of normalize_text(text)."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()


def url_key(url: str) -> str:
    """The key an article's URL is stored under: its canonical form."""
    return canonicalize_url(url)


def word_count(text: str) -> int:
    """Words in text: each CJK character counts as one, and so does each other run of \\w."""
    return len(TOKEN_RE.findall(text))


def simhash(text: str) -> int:
    """A 64-bit SimHash (unsigned) over 4-token shingles of the normalised text.

    Near-duplicate texts give fingerprints a few bits apart (see simhash_distance);
    text without any token gives 0.
    """
    tokens = _normalized_tokens(text)
    if not tokens:
        return 0
    size = min(SIMHASH_SHINGLE, len(tokens))
    shingles = map(" ".join, zip(*(tokens[i:] for i in range(size)), strict=False))
    # Every shingle's 8-byte blake2b digest, end to end; map() keeps the loop in C.
    digests = b"".join(map(_DIGEST, map(_HASHER, map(str.encode, shingles))))
    total = len(digests) // 8
    fingerprint = 0
    low_bits = int.from_bytes(b"\x01" * total, "big")  # bit 0 of each byte of a column
    for position in range(8):  # byte 7 of a digest holds bits 0-7 (big-endian)
        # This byte of every shingle's digest, as one integer: a popcount per bit counts the
        # shingles that have it set, instead of a Python loop over the shingles.
        column = int.from_bytes(digests[7 - position :: 8], "big")
        for bit in range(8):
            ones = (column & (low_bits << bit)).bit_count()
            if 2 * ones > total:  # the bit's score: +1 per shingle where set, -1 where not
                fingerprint |= 1 << (position * 8 + bit)
    return fingerprint


_HASHER = functools.partial(hashlib.blake2b, digest_size=8)
_DIGEST = operator.methodcaller("digest")


def simhash_distance(a: int, b: int) -> int:
    """How many of the 64 bits differ between two simhash fingerprints (signed or unsigned)."""
    return ((a ^ b) & _MASK64).bit_count()


# ---- near duplicates: sampled shingles ("anchors") ------------------------------------------
# A text's anchors are the hashes of its NEAR_SHINGLE-token shingles whose low NEAR_SAMPLE_BITS
# bits are zero: about 1 shingle in 16, chosen by content, so two texts sharing a passage share
# that passage's anchors wherever it sits (a teaser inside the full article, a moved paragraph).
# Shared anchors over the smaller text's anchors estimate how much of it the other text holds.
NEAR_SHINGLE = 5
NEAR_SAMPLE_BITS = 3
# Long texts keep their first anchors only: a 5 MB text must not write 100,000 index rows.
NEAR_MAX_ANCHORS = 256
_FMIX_1 = 0xFF51AFD7ED558CCD  # murmur3's finaliser constants
_FMIX_2 = 0xC4CEB9FE1A85EC53
_SHINGLE_PRIME = 0x100000001B3


@functools.lru_cache(maxsize=1 << 16)
def _token_hash(token: str) -> int:
    return int.from_bytes(_HASHER(token.encode()).digest(), "little")


def near_anchors(text: str) -> list[int]:
    """The text's anchors, sorted, as signed 64-bit integers (SQLite's INTEGER); [] without tokens."""
    import numpy as np  # here: numpy costs 0.1 s at import; search and stats never need it

    tokens = _normalized_tokens(text)
    if not tokens:
        return []
    prime, shift = np.uint64(_SHINGLE_PRIME), np.uint64(33)
    fmix_1, fmix_2 = np.uint64(_FMIX_1), np.uint64(_FMIX_2)
    hashes = np.fromiter(map(_token_hash, tokens), dtype=np.uint64, count=len(tokens))
    width = min(NEAR_SHINGLE, len(tokens))
    count = len(tokens) - width + 1
    with np.errstate(over="ignore"):
        shingles = hashes[:count].copy()
        for offset in range(1, width):
            shingles = shingles * prime + hashes[offset : offset + count]
        # murmur3's finaliser: the low bits the sample reads depend on every bit of the shingle
        shingles ^= shingles >> shift
        shingles *= fmix_1
        shingles ^= shingles >> shift
        shingles *= fmix_2
        shingles ^= shingles >> shift
    sampled = shingles[(shingles & np.uint64((1 << NEAR_SAMPLE_BITS) - 1)) == 0]
    if len(sampled) == 0:
        sampled = shingles[shingles.argmin() : shingles.argmin() + 1]  # a short text keeps its smallest
    # the first NEAR_MAX_ANCHORS distinct anchors in reading order: a teaser is an article's lead
    firsts = np.sort(np.unique(sampled, return_index=True)[1])[:NEAR_MAX_ANCHORS]
    sampled = sampled[firsts]
    return sorted(sampled.view(np.int64).tolist())


def pack_anchors(anchors: list[int] | tuple[int, ...]) -> bytes:
    """Anchors as the BLOB the store keeps per article: 8 bytes each, little-endian, signed."""
    return struct.pack(f"<{len(anchors)}q", *anchors)


def unpack_anchors(blob: bytes) -> list[int]:
    """The anchors pack_anchors() packed."""
    return list(struct.unpack(f"<{len(blob) // 8}q", blob))


# Two texts are the same story when the smaller one's anchors are at least this share shared
# and it has at least NEAR_MIN_ANCHORS of them (benchmarks/neardup_bench.py: recall >= 0.96 on
# every edit kind, false positives <= 0.5 % on same-template, same-topic and brief pairs, English
# and Chinese). Fewer anchors than that is a brief too short to tell a story from a template.
NEAR_MIN_CONTAINMENT = 0.7
NEAR_MIN_ANCHORS = 3


def near_similarity(a: list[int], b: list[int]) -> float:
    """Shared anchors over the smaller text's anchors: 1.0 when one text holds the other."""
    if not a or not b:
        return 0.0
    return len(set(a).intersection(b)) / min(len(a), len(b))


def is_near_duplicate(a: list[int], b: list[int], threshold: float = NEAR_MIN_CONTAINMENT) -> bool:
    """Whether two texts' anchors (near_anchors) say they tell the same story."""
    return min(len(a), len(b)) >= NEAR_MIN_ANCHORS and near_similarity(a, b) >= threshold
