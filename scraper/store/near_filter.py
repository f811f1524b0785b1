"""Which anchors may be in `near_anchors`: a Bloom filter per anchor range, kept beside the table.

Input: the anchors store.near.settle() moves into `near_anchors`, and the anchors a lookup is about
to probe there. Output: `near_anchor_filter` rows (schema 11), one per range, and a copy of their
bits in memory per Database. No settings.

Most of a new text's anchors are in no stored article, yet each probe of `near_anchors` read one
leaf page of a table bigger than the page cache (374 MB at 1M articles): benchmarks/neardup_scale.py.
The filter says "not there" for most of them from memory. It never says so of an anchor that is
there: bits are only ever set (an article's rows deleted from the table leave their bits, which
costs a probe, never a match), so a lookup finds what probing every anchor finds. A range without
a row (nothing was moved into it since the filter was cleared) is probed in full.
Another connection's move changes a range's `token`; a lookup re-reads the ranges whose token
changed when SQLite's data_version says another connection committed.
"""

from __future__ import annotations

import secrets
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

TABLE = "near_anchor_filter"
MAIN = "near_anchors"  # store.near.MAIN: the table this filter is for
# The anchor space is cut in 2**FILTER_PART_BITS ranges by its top bits, the ranges settle() moves
# one at a time (store.near.NEAR_MERGE_SLICES = 16): a move rewrites one range's row.
FILTER_PART_BITS = 4
# Two bits per anchor, at bits 3-32 and 33-59 of it (anchors are well-mixed hashes whose low 3 bits
# are 0, dedupe.NEAR_SAMPLE_BITS; the top 4 name the range): read straight off the integer, keep()
# takes ~0.45 us an anchor (three positions computed from it took 1.2 us; load 2.5-4). With
# FILTER_BITS_PER_ANCHOR bits an anchor a range's filter lets 3.3 % of absent anchors through when
# full (10 bits), 0.9 % just after a build (20 bits).
FILTER_BITS_PER_ANCHOR = 10
# A range's filter is built with twice the bits its anchors need, and rebuilt from the table (a
# scan of its range) when it holds more anchors than that: ~0.45 s at 1M articles (the migration of
# a 1M database builds all 16 in 7.2 s), once per doubling.
FILTER_HEADROOM = 2
# 8 KB at least; 2 MB at most per range (32 MB in all; at 1M articles ~1.1M distinct anchors a
# range, 15 bits each: 1.5 % of random anchors through). Past that the filter fills and lets more
# absent anchors through to a probe; it never hides one.
FILTER_MIN_BITS = 1 << 16
FILTER_MAX_BITS = 1 << 24
_PARTS = 1 << FILTER_PART_BITS
_PART_SHIFT = 64 - FILTER_PART_BITS


@dataclass
class _Held:
    """One Database's copy of the filter: data_version when read, and per range its bits and token."""

    version: int = -1
    bits: dict[int, bytearray] = field(default_factory=dict)
    tokens: dict[int, int] = field(default_factory=dict)
    # per range (bits, the mask of a bit's position), or (None, 0): what keep() reads
    ranges: list[tuple[bytearray | None, int]] = field(default_factory=list)

    def index(self) -> None:
        """Refresh `ranges` after `bits` changed."""
        self.ranges = [(b, len(b) * 8 - 1) if b else (None, 0) for b in map(self.bits.get, range(_PARTS))]


_HELD: weakref.WeakKeyDictionary[sqlite_utils.Database, _Held] = weakref.WeakKeyDictionary()


def range_of(anchor: int) -> int:
    """The range an anchor is in (keep() and add() compute it inline)."""
    return (anchor >> _PART_SHIFT) & (_PARTS - 1)


def keep(db: sqlite_utils.Database, anchors: Sequence[int]) -> list[int]:
    """The anchors that may be in `near_anchors` (all of those in a range without a filter)."""
    ranges = _held(db).ranges
    kept = []
    for anchor in anchors:
        bits, mask = ranges[(anchor >> _PART_SHIFT) & (_PARTS - 1)]
        if bits is not None:
            first = (anchor >> 3) & mask
            if not bits[first >> 3] & (1 << (first & 7)):
                continue
            second = (anchor >> 33) & mask
            if not bits[second >> 3] & (1 << (second & 7)):
                continue
        kept.append(anchor)
    return kept


def add(db: sqlite_utils.Database, anchors: Iterable[int]) -> None:
    """Record anchors just written to `near_anchors`, inside the caller's transaction.

    A range without a filter gets one built from the table; one holding more anchors than its
    bits are sized for is rebuilt bigger (up to FILTER_MAX_BITS).
    """
    held = _held(db)
    keys = np.fromiter(anchors, dtype=np.int64)
    parts = (keys >> _PART_SHIFT) & (_PARTS - 1)
    for part in np.unique(parts).tolist():
        bits = held.bits.get(part)
        if bits is None:
            build(db, part)
            continue
        mine = keys[parts == part]
        _set(bits, mine)
        count = db.execute(f"SELECT anchors FROM {TABLE} WHERE part = ?", [part]).fetchone()
        total = (count[0] if count else 0) + len(mine)
        if total * FILTER_BITS_PER_ANCHOR > len(bits) * 8 and len(bits) * 8 < FILTER_MAX_BITS:
            build(db, part)
        else:
            _write(db, held, part, bits, total)


def _set(bits: bytearray, anchors: np.ndarray) -> None:
    """Set the two bits of each anchor (int64) in bits, as keep() reads them."""
    size = len(bits) * 8
    # one byte a bit while setting (a flag array: no ufunc.at, 5x faster), packed to bits after
    flags = np.zeros(size, dtype=bool)
    flags[(anchors >> 3) & (size - 1)] = True
    flags[(anchors >> 33) & (size - 1)] = True
    view = np.frombuffer(bits, dtype=np.uint8)
    view |= np.packbits(flags, bitorder="little")


def _span(part: int) -> tuple[int, int]:
    """The anchors of a range (part: their top FILTER_PART_BITS bits), lowest and highest."""
    low = (part - _PARTS if part >= _PARTS // 2 else part) << _PART_SHIFT
    return low, low + (1 << _PART_SHIFT) - 1


def build(db: sqlite_utils.Database, part: int) -> None:
    """(Re)build one range's filter from the anchors `near_anchors` holds in it."""
    rows = db.execute(f"SELECT DISTINCT anchor FROM {MAIN} WHERE anchor BETWEEN ? AND ?", _span(part))
    keys = np.fromiter((row[0] for row in rows), dtype=np.int64)
    size = FILTER_MIN_BITS
    while size < len(keys) * FILTER_BITS_PER_ANCHOR * FILTER_HEADROOM and size < FILTER_MAX_BITS:
        size *= 2
    bits = bytearray(size // 8)
    _set(bits, keys)
    _write(db, _held(db), part, bits, len(keys))


def build_all(db: sqlite_utils.Database) -> None:
    """Build the filter of every range that holds anchors in `near_anchors` (a migration)."""
    for part in range(_PARTS):
        if db.execute(f"SELECT 1 FROM {MAIN} WHERE anchor BETWEEN ? AND ? LIMIT 1", _span(part)).fetchone():
            build(db, part)


def clear(db: sqlite_utils.Database) -> None:
    """Drop every range's filter (the table is being emptied), inside the caller's transaction."""
    db.execute(f"DELETE FROM {TABLE}")
    held = _held(db)
    held.bits.clear()
    held.tokens.clear()
    held.index()


def _write(db: sqlite_utils.Database, held: _Held, part: int, bits: bytearray, count: int) -> None:
    # A new random token per write: another connection holding this range re-reads it.
    token = secrets.randbits(62)
    db.execute(
        f"INSERT OR REPLACE INTO {TABLE} (part, bits, anchors, token) VALUES (?, ?, ?, ?)",
        [part, bytes(bits), count, token],
    )
    held.bits[part], held.tokens[part] = bits, token
    held.index()


def _held(db: sqlite_utils.Database) -> _Held:
    """db's copy of the filter, with the ranges another connection rewrote read again."""
    version = int(db.conn.execute("PRAGMA data_version").fetchone()[0])
    held = _HELD.get(db)
    if held is None:
        held = _HELD[db] = _Held()
    if held.version == version:
        return held
    tokens = dict(db.execute(f"SELECT part, token FROM {TABLE}").fetchall())
    for part in set(held.bits) - set(tokens):
        del held.bits[part], held.tokens[part]
    for part, token in tokens.items():
        if held.tokens.get(part) != token:
            (blob,) = db.execute(f"SELECT bits FROM {TABLE} WHERE part = ?", [part]).fetchone()
            held.bits[part], held.tokens[part] = bytearray(blob), token
    held.version = version
    held.index()
    return held
