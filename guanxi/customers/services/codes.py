"""Generated customer codes: A000001 for accounts, C000001 for contacts, per workspace."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from ..models import CodeSequence

ACCOUNT_PREFIX = "A"
CONTACT_PREFIX = "C"
WIDTH = 6


def codes_reserve(*, workspace, prefix: str, count: int = 1) -> list[str]:
    """Reserve ``count`` consecutive codes; numbers once handed out are never reused, even
    if the transaction that asked for them rolls back a record later."""
    if count < 1:
        return []
    with transaction.atomic():
        seq = CodeSequence.objects.in_workspace(workspace).filter(prefix=prefix)
        if not seq.exists():
            try:
                with transaction.atomic():
                    CodeSequence.objects.create(workspace_id=_id(workspace), prefix=prefix)
            except IntegrityError:
                pass  # another transaction created it first
        seq.update(next_value=F("next_value") + count)
        end = seq.values_list("next_value", flat=True).get()
    start = end - count
    return [f"{prefix}{n:0{WIDTH}d}" for n in range(start, end)]


def _id(workspace) -> int:
    return getattr(workspace, "pk", workspace)
