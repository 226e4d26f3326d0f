"""The full scan: every record of one kind in a workspace, blocked, scored, and written as
``DuplicateCandidate`` rows.

Records are streamed with ``.values_list(...).iterator(chunk_size=...)``; what stays in
memory is one compact feature tuple per record and the blocking keys as numpy arrays.
Candidates already reviewed (merged, dismissed) keep their status; open ones are replaced
by this scan's result.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Account, CandidateStatus, Contact, DuplicateCandidate
from . import blocking, matching

CHUNK = 5000
WRITE_BATCH = 2000


def _model(object_key: str):
    return Contact if object_key == matching.CONTACT else Account


def _noop(done: int, total: int | None = None, message: str = "") -> None:
    pass


def find_pairs(
    workspace,
    object_key: str,
    *,
    threshold: float = matching.DEFAULT_THRESHOLD,
    progress: Callable = _noop,
) -> tuple[list[int], list[str], list[tuple[int, int, float, list[str]]], dict]:
    """(ids, codes, pairs as (i, j, score, reasons) over positions in ids, stats)."""
    model = _model(object_key)
    names = matching.fields(object_key)
    qs = model.objects.in_workspace(workspace).order_by()
    total = qs.count()
    ids: list[int] = []
    codes: list[str] = []
    feats: list[tuple[str, ...]] = []
    blocks = blocking.Blocks()
    started = time.perf_counter()
    rows = qs.values_list("id", "code", *names).iterator(chunk_size=CHUNK)
    for n, row in enumerate(rows):
        f = matching.features(object_key, dict(zip(names, row[2:], strict=True)))
        ids.append(row[0])
        codes.append(row[1])
        feats.append(f)
        blocks.add(n, matching.blocking_keys(object_key, f))
        if n % CHUNK == 0:
            progress(n, total * 2, _("Reading records: %(n)s") % {"n": n})
    read_s = time.perf_counter() - started
    pairs = blocks.pairs()
    block_s = time.perf_counter() - started - read_s
    out = []
    step = max(1, len(pairs) // 100)
    for k, (i, j) in enumerate(pairs.tolist()):
        s, reasons = matching.score(object_key, feats[i], feats[j])
        if s >= threshold:
            out.append((i, j, s, reasons))
        if k % step == 0:
            done = total + int(total * k / max(1, len(pairs)))
            progress(done, total * 2, _("Comparing pairs: %(n)s") % {"n": k})
    stats = {
        "records": len(ids),
        "candidate_pairs": len(pairs),
        "matches": len(out),
        "skipped_blocks": blocks.skipped_blocks,
        "read_seconds": round(read_s, 2),
        "block_seconds": round(block_s, 2),
        "score_seconds": round(time.perf_counter() - started - read_s - block_s, 2),
    }
    return ids, codes, out, stats


def scan_workspace(
    workspace,
    object_key: str,
    progress: Callable = _noop,
    *,
    threshold: float = matching.DEFAULT_THRESHOLD,
) -> dict:
    """Scan one kind of record and write its candidates; returns the figures and the pairs
    (as codes) for an export."""
    ids, codes, found, stats = find_pairs(
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
    stats["pairs"] = [(codes[i], codes[j], s) for i, j, s, _r in found]
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
