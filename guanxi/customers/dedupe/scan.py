"""The full scan: every record of one kind in a workspace, blocked, scored, and written as
``DuplicateCandidate`` rows.

Records are streamed with ``.values_list(...).iterator(chunk_size=...)``; what stays in
memory is each record's features packed in one buffer (~100 bytes), the blocking keys and
name/street hashes as arrays, and the candidate pairs as one int64 each.
Candidates already reviewed (merged, dismissed) keep their status; open ones are replaced
by this scan's result.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Account, CandidateStatus, Contact, DuplicateCandidate
from . import blocking, matching

CHUNK = 5000
WRITE_BATCH = 2000
PAIR_CHUNK = 200_000
SEP = matching.SEP


def _model(object_key: str):
    return Contact if object_key == matching.CONTACT else Account


def _noop(done: int, total: int | None = None, message: str = "") -> None:
    pass


class FeatureStore:
    """Every record's code and feature tuple, packed as UTF-8 in one growing buffer with an
    offsets array: about 100 bytes a record instead of a tuple of a dozen Python strings
    (~1 KB), so a million records fit in ~100 MB."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.offsets = array("q", [0])

    def add(self, code: str, f: tuple[str, ...]) -> None:
        self.blob += SEP.join((code, *f)).encode()
        self.offsets.append(len(self.blob))

    def get(self, i: int) -> tuple[str, tuple[str, ...]]:
        parts = self.blob[self.offsets[i] : self.offsets[i + 1]].decode().split(SEP)
        return parts[0], tuple(parts[1:])

    def __len__(self) -> int:
        return len(self.offsets) - 1


def find_pairs(
    workspace,
    object_key: str,
    *,
    threshold: float = matching.DEFAULT_THRESHOLD,
    progress: Callable = _noop,
) -> tuple[array, FeatureStore, list[tuple[int, int, float, list[str]]], dict]:
    """(ids, features store, pairs as (i, j, score, reasons) over record numbers, stats).

    One pass over the records keeps only compact data: ids (8 bytes), packed features
    (~100 bytes), blocking-key hashes (16 bytes a key) and name/street hashes for the value
    frequencies; the candidate pairs are then scored in order of their first record."""
    model = _model(object_key)
    names = matching.fields(object_key)
    qs = model.objects.in_workspace(workspace).order_by()
    total = qs.count()
    ids = array("q")
    store = FeatureStore()
    blocks = blocking.Blocks()
    freqs = blocking.Frequencies() if object_key == matching.CONTACT else None
    started = time.perf_counter()
    rows = qs.values_list("id", "code", *names).iterator(chunk_size=CHUNK)
    for n, row in enumerate(rows):
        f = matching.features(object_key, dict(zip(names, row[2:], strict=True)))
        ids.append(row[0])
        store.add(row[1], f)
        blocks.add(n, matching.blocking_keys(object_key, f))
        if freqs is not None:
            freqs.add(f)
        if n % CHUNK == 0:
            progress(n, total * 2, _("Reading records: %(n)s") % {"n": n})
    read_s = time.perf_counter() - started
    if freqs is not None:
        freqs.count()
    codes = blocks.pair_codes()
    blocks.release()
    block_s = time.perf_counter() - started - read_s
    out = []
    step = max(1, len(codes) // 100)
    last_i, fi = -1, ()
    for start in range(0, len(codes), PAIR_CHUNK):
        chunk = codes[start : start + PAIR_CHUNK]
        lefts, rights = (chunk >> 32).tolist(), (chunk & 0xFFFFFFFF).tolist()
        for k, (i, j) in enumerate(zip(lefts, rights, strict=True), start):
            if i != last_i:  # pairs come sorted by their first record
                last_i, fi = i, store.get(i)[1]
            fj = store.get(j)[1]
            freq = freqs.of(i, j) if freqs is not None else None
            s, reasons = matching.score(object_key, fi, fj, freq)
            if s >= threshold:
                out.append((i, j, s, reasons))
            if k % step == 0:
                done = total + int(total * k / max(1, len(codes)))
                progress(done, total * 2, _("Comparing pairs: %(n)s") % {"n": k})
    stats = {
        "records": len(ids),
        "candidate_pairs": len(codes),
        "matches": len(out),
        "skipped_blocks": blocks.skipped_blocks,
        "read_seconds": round(read_s, 2),
        "block_seconds": round(block_s, 2),
        "score_seconds": round(time.perf_counter() - started - read_s - block_s, 2),
    }
    return ids, store, out, stats


def scan_workspace(
    workspace,
    object_key: str,
    progress: Callable = _noop,
    *,
    threshold: float = matching.DEFAULT_THRESHOLD,
) -> dict:
    """Scan one kind of record and write its candidates; returns the figures and the pairs
    (as codes) for an export."""
    ids, store, found, stats = find_pairs(
        workspace, object_key, threshold=threshold, progress=progress
    )
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        existing = DuplicateCandidate.objects.in_workspace(workspace).filter(object_key=object_key)
        reviewed = set(
            existing.exclude(status=CandidateStatus.OPEN).values_list("left_id", "right_id")
        )
        existing.filter(status=CandidateStatus.OPEN).delete()
        batch = []
        for i, j, s, reasons in found:
            left, right = sorted((ids[i], ids[j]))
            if (left, right) in reviewed:
                continue
            batch.append(
                DuplicateCandidate(
                    workspace=workspace,
                    object_key=object_key,
                    left_id=left,
                    right_id=right,
                    score=round(s, 4),
                    reasons=reasons,
                    created_at=now,
                    updated_at=now,
                )
            )
            if len(batch) >= WRITE_BATCH:
                DuplicateCandidate.objects.bulk_create(batch)
                batch = []
        if batch:
            DuplicateCandidate.objects.bulk_create(batch)
    stats["write_seconds"] = round(time.perf_counter() - started, 2)
    # Each pair as (older record's code, newer's), whatever order the rows were read in.
    stats["pairs"] = [
        (store.get(i)[0], store.get(j)[0], s)
        if ids[i] < ids[j]
        else (store.get(j)[0], store.get(i)[0], s)
        for i, j, s, _r in found
    ]
    progress(stats["records"] * 2, stats["records"] * 2, _("Done"))
    return stats


def write_export(path: str, pairs: list[tuple[str, str, float]]) -> None:
    """One pair a line, ``code_a,code_b,score`` with a header line, score with 4 decimals."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["code_a", "code_b", "score"])
        for a, b, s in sorted(pairs, key=lambda p: (-p[2], p[0], p[1])):
            writer.writerow([a, b, f"{s:.4f}"])
