"""The background job of the full scan: ``customers.dedupe_scan``."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from guanxi.platform import jobs

from . import matching
from .scan import scan_workspace

KIND = "customers.dedupe_scan"


@jobs.register(KIND)
def dedupe_scan(job, progress) -> dict:
    keys = job.params.get("objects") or [matching.CONTACT, matching.ACCOUNT]
    threshold = float(job.params.get("threshold") or matching.DEFAULT_THRESHOLD)
    found = 0
    for key in keys:
        stats = scan_workspace(job.workspace, key, progress, threshold=threshold)
        found += stats["matches"]
    return {
        "url": reverse("customers:duplicates"),
        "label": _("Review %(n)s possible duplicates") % {"n": found},
        "candidates": found,
    }
