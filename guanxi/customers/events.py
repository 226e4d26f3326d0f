"""Events of the customer file that higher apps record, without this app importing them.

The activities app subscribes a writer in its ``AppConfig.ready`` that puts each event on
the customer's timeline. ``emit`` calls the subscribers synchronously, inside the service's
transaction, so the event and the change it reports commit (or roll back) together.

    events.emit(CustomerEvent(workspace_id=ws.pk, kind=STAGE_CHANGE, actor_id=actor.pk,
                              account_id=account.pk, data={"stage": "lifecycle", ...}))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

STAGE_CHANGE = "stage_change"
OWNER_CHANGE = "owner_change"
MERGE = "merge"
CONSENT_CHANGE = "consent_change"


@dataclass(frozen=True)
class CustomerEvent:
    workspace_id: int
    kind: str
    actor_id: int | None = None
    account_id: int | None = None
    contact_ids: tuple[int, ...] = ()
    # Facts to render the entry later, in the reader's language (ids, codes, stage values).
    data: dict = field(default_factory=dict)
    occurred_at: dt.datetime | None = None


_subscribers: list[Callable[[CustomerEvent], None]] = []


def subscribe(fn: Callable[[CustomerEvent], None]) -> None:
    if fn not in _subscribers:
        _subscribers.append(fn)


def emit(event: CustomerEvent) -> None:
    for fn in _subscribers:
        fn(event)
