"""Reads of e-mail: messages, triage, templates, mailboxes.

Who sees a message: whoever may read e-mail and sees its customer (everyone who sees a
customer sees its whole timeline), its sender, and — for messages not filed to anyone —
the triage owner it is assigned to and those who may file any message (the update right
on e-mail: managers, administrators).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from guanxi.common.errors import NotFound
from guanxi.customers import selectors as customer_selectors
from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Visibility, Workspace

from ..models import EmailAttachment, EmailMessage, EmailStatus, EmailTemplate, Mailbox
from ..objects import EMAIL

ACCOUNT = "customers.account"
CONTACT = "customers.contact"


def can_triage_all(actor: User) -> bool:
    """May file or dismiss any unfiled message (not only those assigned to them)."""
    return permissions.can(actor, EMAIL, Action.UPDATE)


def _sees_all(actor: User, object_key: str) -> bool:
    return (
        permissions.can(actor, object_key, Action.READ)
        and permissions.visibility_for(actor, object_key) == Visibility.ALL
    )


def email_list(*, workspace: Workspace, actor: User) -> QuerySet[EmailMessage]:
    """Every message the actor may read (see the module's rule)."""
    qs = permissions.visible(
        EmailMessage.objects.in_workspace(workspace), actor=actor, object_key=EMAIL
    )
    customers = Q()
    if _sees_all(actor, CONTACT) and _sees_all(actor, ACCOUNT):
        customers = Q(contact__isnull=False) | Q(account__isnull=False)
    else:
        contacts = customer_selectors.contact_list(workspace=workspace, actor=actor)
        accounts = customer_selectors.account_list(workspace=workspace, actor=actor)
        customers = Q(contact__in=contacts.values("pk")) | Q(account__in=accounts.values("pk"))
    unfiled = Q(contact__isnull=True, account__isnull=True)
    if not can_triage_all(actor):
        unfiled &= Q(assigned_to=actor)
    return qs.filter(customers | unfiled | Q(sender=actor))


def email_get(*, workspace: Workspace, actor: User, email_id) -> EmailMessage:
    try:
        return (
            email_list(workspace=workspace, actor=actor)
            .select_related("contact", "account", "sender", "assigned_to", "filed_by", "mailbox")
            .get(pk=int(email_id))
        )
    except (EmailMessage.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None


def triage_list(*, workspace: Workspace, actor: User) -> QuerySet[EmailMessage]:
    """Messages waiting to be filed that the actor may file, with their attachments."""
    qs = email_list(workspace=workspace, actor=actor).filter(status=EmailStatus.TRIAGE)
    if not can_triage_all(actor):
        qs = qs.filter(assigned_to=actor)
    return qs.select_related("assigned_to", "mailbox").prefetch_related("attachments")


def for_customer(
    *, workspace: Workspace, actor: User, contact=None, account=None
) -> QuerySet[EmailMessage]:
    """One customer's messages, newest first (the caller has checked the customer is
    visible)."""
    qs = permissions.visible(
        EmailMessage.objects.in_workspace(workspace), actor=actor, object_key=EMAIL
    )
    if contact is not None:
        qs = qs.filter(contact=contact)
    if account is not None:
        qs = qs.filter(account=account)
    return qs.select_related("sender", "contact").order_by("-created_at", "-id")


def attachment_get(*, workspace: Workspace, actor: User, email_id, attachment_id):
    message = email_get(workspace=workspace, actor=actor, email_id=email_id)
    try:
        return message, EmailAttachment.objects.in_workspace(workspace).get(
            message=message, pk=int(attachment_id)
        )
    except (EmailAttachment.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None


def template_list(*, workspace: Workspace, actor: User, active_only: bool = False):
    if not permissions.can(actor, EMAIL, Action.READ):
        return EmailTemplate.objects.in_workspace(workspace).none()
    qs = EmailTemplate.objects.in_workspace(workspace).order_by("name", "id")
    return qs.filter(is_active=True) if active_only else qs


def template_get(*, workspace: Workspace, actor: User, template_id) -> EmailTemplate:
    try:
        return template_list(workspace=workspace, actor=actor).get(pk=int(template_id))
    except (EmailTemplate.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None


def mailbox_list(*, workspace: Workspace, actor: User) -> QuerySet[Mailbox]:
    """Mailboxes are administration: administrators only."""
    permissions.require_admin(actor)
    return (
        Mailbox.objects.in_workspace(workspace)
        .select_related("triage_owner")
        .order_by("name", "id")
    )


def mailbox_get(*, workspace: Workspace, actor: User, mailbox_id) -> Mailbox:
    try:
        return mailbox_list(workspace=workspace, actor=actor).get(pk=int(mailbox_id))
    except (Mailbox.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None


def reply_mailbox(workspace) -> Mailbox | None:
    """The workspace's mailbox that replies come back to: its first active one."""
    return Mailbox.objects.in_workspace(workspace).filter(is_active=True).order_by("id").first()
