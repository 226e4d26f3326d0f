"""Finding candidate pairs without comparing all pairs.

Each record gives several blocking keys (``matching.blocking_keys``). Records that share a
key form a block; within a block, records are compared with their ``WINDOW`` next
neighbours (all pairs for small blocks, a sorted neighbourhood for larger ones), and blocks
larger than ``MAX_BLOCK`` (a key everybody shares) are skipped. Keys are 64-bit hashes in
numpy arrays, so a million records with a handful of keys each cost tens of megabytes, and
each pair is compared once however many keys it shares.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Iterable, Iterator

import numpy as np

from . import matching

WINDOW = 24
MAX_BLOCK = 5000
# Keys made of an address alone ("aw", "ac"): an address that many records share (an office
# tower, a campus, a synthetic pool of addresses) says nothing about who is who, and such
# blocks made most of the compared pairs at 1M contacts. Above this size they are skipped;
# the records still meet on their name, phone, e-mail, ID and birthday keys.
WEAK_PREFIXES = ("aw", "ac")
MAX_WEAK_BLOCK = 100
# Keys made of a name alone ("n", "c"): a name many records share cannot pass on the name
# (its weight falls with its frequency), so such a pair needs a phone, e-mail, ID,
# birthday or street, which have keys of their own; large name blocks only add pairs.
NAME_PREFIXES = ("n", "c")
MAX_NAME_BLOCK = 20


def _hash(key: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(key.encode(), digest_size=8).digest(), "little", signed=True
    )


class Blocks:
    """Collects the keys of records numbered 0, 1, 2, … and yields their candidate pairs."""

    def __init__(self) -> None:
        self.keys = array("q")
        self.records = array("l")
        self.skipped_blocks = 0

    def add(self, index: int, keys: Iterable[str]) -> None:
        for key in dict.fromkeys(keys):
            h = _hash(key)
            # The two lowest bits mark weak keys (hash collisions across kinds stay
            # negligible): 1 an address alone, 2 a name alone.
            flag = 1 if key.startswith(WEAK_PREFIXES) else 2 if key[0] in NAME_PREFIXES else 0
            h = (h & ~3) | flag
            self.keys.append(h)
            self.records.append(index)

    def release(self) -> None:
        self.keys, self.records = array("q"), array("l")

    def pairs(self, window: int = WINDOW, max_block: int = MAX_BLOCK) -> np.ndarray:
        """Unique candidate pairs as an (n, 2) array of record numbers, left < right."""
        codes = self.pair_codes(window, max_block)
        return np.stack((codes >> 32, codes & 0xFFFFFFFF), axis=1)

    def pair_codes(self, window: int = WINDOW, max_block: int = MAX_BLOCK) -> np.ndarray:
        """Unique candidate pairs as sorted int64 codes ``left << 32 | right``, left < right
        (8 bytes a pair; sorted, so the pairs of one record come together)."""
        if not self.keys:
            return np.empty(0, dtype=np.int64)
        keys = np.frombuffer(self.keys, dtype=np.int64)
        recs = np.frombuffer(
            self.records, dtype=np.int64 if self.records.itemsize == 8 else np.int32
        )
        recs = recs.astype(np.int32 if recs.max() < 2**31 else np.int64)
        order = np.lexsort((recs, keys))
        keys, recs = keys[order], recs[order]
        del order
        self.release()  # the sorted copies are all that is needed now
        # Block sizes; drop singletons and oversized blocks.
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        sizes = np.diff(np.r_[starts, len(keys)])
        flags = keys[starts] & 3
        limit = np.where(
            flags == 1,
            min(MAX_WEAK_BLOCK, max_block),
            np.where(flags == 2, min(MAX_NAME_BLOCK, max_block), max_block),
        )
        self.skipped_blocks = int((sizes > limit).sum())
        keep = np.repeat((sizes > 1) & (sizes <= limit), sizes)
        del starts, sizes, flags, limit
        keys, recs = keys[keep], recs[keep]
        del keep
        # Pairs at distance d within a block, d = 1…window; merged into one sorted unique
        # array whenever the pending ones outgrow it, so duplicates (pairs that share several
        # keys) never pile up.
        acc = np.empty(0, dtype=np.int64)
        pending: list[np.ndarray] = []
        pending_size = 0
        for d in range(1, window + 1):
            if d >= len(keys):
                break
            same = keys[d:] == keys[:-d]
            if not same.any():
                break
            a = recs[:-d][same].astype(np.int64)
            b = recs[d:][same].astype(np.int64)
            del same
            code = np.minimum(a, b) * (1 << 32) + np.maximum(a, b)
            code = code[a != b]
            del a, b
            pending.append(np.unique(code))
            pending_size += len(pending[-1])
            del code
            if pending_size > max(len(acc), 2_000_000):
                acc = np.unique(np.concatenate([acc, *pending]))
                pending, pending_size = [], 0
        del keys, recs
        if pending:
            acc = np.unique(np.concatenate([acc, *pending]))
        return acc


class Frequencies:
    """How many records share each record's name key and street (contacts only): hashes
    collected per record number, counted with numpy at the end (16 bytes a record)."""

    def __init__(self) -> None:
        self.names = array("q")
        self.streets = array("q")
        self.name_counts = np.empty(0, dtype=np.uint32)
        self.street_counts = np.empty(0, dtype=np.uint32)

    def add(self, f: tuple[str, ...]) -> None:
        key = matching.name_key(f)
        self.names.append(_hash(key) if key else 0)
        street = f[matching.STREET]
        self.streets.append(_hash(street) if street else 0)

    @staticmethod
    def _counts(hashes: array) -> np.ndarray:
        values = np.frombuffer(hashes, dtype=np.int64) if hashes else np.empty(0, np.int64)
        if not len(values):
            return np.empty(0, dtype=np.uint32)
        _u, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
        out = counts[inverse].astype(np.uint32)
        out[values == 0] = 0
        return out

    def count(self) -> Frequencies:
        self.name_counts = self._counts(self.names)
        self.street_counts = self._counts(self.streets)
        self.names = self.streets = array("q")
        return self

    def of(self, i: int, j: int) -> tuple[int, int]:
        return (
            int(max(self.name_counts[i], self.name_counts[j])),
            int(max(self.street_counts[i], self.street_counts[j])),
        )


def candidate_pairs(
    object_key: str, feats: list[tuple[str, ...]], blocks: Blocks | None = None
) -> np.ndarray:
    if blocks is None:
        blocks = Blocks()
        for i, f in enumerate(feats):
            blocks.add(i, matching.blocking_keys(object_key, f))
    return blocks.pairs()


def frequencies(object_key: str, feats: list[tuple[str, ...]]) -> Frequencies | None:
    if object_key != matching.CONTACT:
        return None
    freqs = Frequencies()
    for f in feats:
        freqs.add(f)
    return freqs.count()


def scored_pairs(
    object_key: str,
    feats: list,
    pairs: np.ndarray,
    threshold: float,
    freqs: Frequencies | None = None,
) -> Iterator[tuple[int, int, float, list[str]]]:
    """(i, j, score, reasons) of the candidate pairs at or above ``threshold``; with
    ``freqs`` (``frequencies(...)``) common names and busy streets weigh less."""
    for i, j in pairs.tolist():
        freq = freqs.of(i, j) if freqs is not None else None
        s, reasons = matching.score(object_key, feats[i], feats[j], freq)
        if s >= threshold:
            yield i, j, s, reasons
