"""What the activities app plugs into the customers app: a customer merge moves the merged
record's timeline, tasks, commitments, visits and e-mail to the survivor; the customer
file's events (stage, owner, consent, merge) become system entries on the timeline."""

from __future__ import annotations

from guanxi.customers import events
from guanxi.customers.services import merge

from .models import (
    CheckIn,
    Commitment,
    EmailMessage,
    EntryContact,
    EntryKind,
    Task,
    TimelineEntry,
    VisitPlan,
)
from .services.timeline import record_entry

ACCOUNT = "customers.account"
CONTACT = "customers.contact"


def _move(model, fk: str):
    def move(*, workspace, survivor, merged) -> int:
        return model.objects.in_workspace(workspace).filter(**{fk: merged}).update(**{fk: survivor})

    return move


def _move_entry_contacts(*, workspace, survivor, merged) -> int:
    links = EntryContact.objects.in_workspace(workspace)
    both = links.filter(contact=survivor).values("entry_id")
    links.filter(contact=merged, entry_id__in=both).delete()
    return links.filter(contact=merged).update(contact=survivor)


def _move_visit_plan(*, workspace, survivor, merged) -> int:
    plans = VisitPlan.objects.in_workspace(workspace)
    if plans.filter(account=survivor).exists():
        plans.filter(account=merged).delete()
        return 0
    return plans.filter(account=merged).update(account=survivor)


for _key, _fk in ((ACCOUNT, "account"), (CONTACT, "contact")):
    for _model in (Task, Commitment, CheckIn, EmailMessage):
        merge.register_mover(_key, _move(_model, _fk), name=f"activities.{_model.__name__}")
merge.register_mover(ACCOUNT, _move(TimelineEntry, "account"), name="activities.TimelineEntry")
merge.register_mover(CONTACT, _move_entry_contacts, name="activities.EntryContact")
merge.register_mover(ACCOUNT, _move_visit_plan, name="activities.VisitPlan")


def _on_customer_event(event: events.CustomerEvent) -> None:
    record_entry(
        workspace=event.workspace_id,
        author=event.actor_id,
        kind=EntryKind.SYSTEM,
        subtype=event.kind,
        channel="system",
        occurred_at=event.occurred_at,
        account=event.account_id,
        contacts=event.contact_ids,
        data=event.data,
    )


events.subscribe(_on_customer_event)
