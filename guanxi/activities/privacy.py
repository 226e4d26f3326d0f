"""What the activities hold about a person, for the customers' personal-data export and
erasure (``guanxi.customers.services.privacy.register_personal_data``).

Erasure keeps the business facts — that a call or a visit happened, when, by whom, what was
promised — and removes the person's words and addresses: the e-mails they sent or received
lose their addresses, subject, text and attachments, and timeline entries about them alone
lose their subject and text.
"""

from __future__ import annotations

from django.db.models import Count
from django.utils.translation import gettext as _

from guanxi.customers.services import privacy

from .models import Commitment, EmailAttachment, EmailMessage, EntryContact, Task, TimelineEntry

MAX_ROWS = 5000


def _at(value):
    return value.isoformat() if value else None


def personal_data(workspace_id: int, contact) -> dict:
    entry_ids = (
        EntryContact.objects.in_workspace(workspace_id).filter(contact=contact).values("entry_id")
    )
    entries = (
        TimelineEntry.objects.in_workspace(workspace_id)
        .filter(pk__in=entry_ids)
        .select_related("author")
        .order_by("-occurred_at", "-id")[:MAX_ROWS]
    )
    emails = (
        EmailMessage.objects.in_workspace(workspace_id)
        .filter(contact=contact)
        .order_by("-created_at")[:MAX_ROWS]
    )
    return {
        "timeline": [
            {
                "kind": e.kind,
                "subtype": e.subtype,
                "at": _at(e.occurred_at),
                "subject": e.subject,
                "details": e.body,
                "by": e.author.full_name if e.author else None,
            }
            for e in entries
        ],
        "emails": [
            {
                "direction": m.direction,
                "from": m.from_address,
                "to": m.to,
                "cc": m.cc,
                "subject": m.subject,
                "text": m.body_text,
                "at": _at(m.sent_at or m.received_at or m.created_at),
            }
            for m in emails
        ],
        "commitments": [
            {"promised": c.text, "due": _at(c.due_date), "status": c.status}
            for c in Commitment.objects.in_workspace(workspace_id).filter(contact=contact)[
                :MAX_ROWS
            ]
        ],
        "tasks": [
            {"title": t.title, "due": _at(t.due_at), "status": t.status}
            for t in Task.objects.in_workspace(workspace_id).filter(contact=contact)[:MAX_ROWS]
        ],
    }


def erase(workspace_id: int, contact) -> dict:
    placeholder = _("[erased]")
    emails = EmailMessage.objects.in_workspace(workspace_id).filter(contact=contact)
    attachments = EmailAttachment.objects.in_workspace(workspace_id).filter(
        message__in=emails.values("pk")
    )
    for attachment in attachments:
        attachment.file.delete(save=False)
    removed_attachments = attachments.delete()[0]
    erased_emails = emails.update(
        from_address="",
        from_name="",
        to=[],
        cc=[],
        subject=placeholder,
        body_text="",
        body_html="",
    )
    links = EntryContact.objects.in_workspace(workspace_id)
    own_entries = (
        links.filter(entry__in=links.filter(contact=contact).values("entry_id"))
        .values("entry_id")
        .annotate(people=Count("contact_id"))
        .filter(people=1)
        .values("entry_id")
    )
    erased_entries = (
        TimelineEntry.objects.in_workspace(workspace_id)
        .filter(pk__in=own_entries)
        .update(subject=placeholder, body="")
    )
    return {
        "emails": erased_emails,
        "attachments": removed_attachments,
        "timeline_entries": erased_entries,
    }


privacy.register_personal_data("activities", provider=personal_data, eraser=erase)
