"""The service's channel configuration: the SMS provider (console or a webhook gateway),
the mailboxes whose every new message opens a case, the type of cases that come in by
e-mail and SMS, and a test text.

Everything here needs the service configuration right (reading it to see, updating it to
change); the provider's secret is shown to those who may change it, and never written to
the audit log.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from guanxi.activities.models import Mailbox
from guanxi.common.errors import ApplicationError, FieldErrors
from guanxi.integrations import sms
from guanxi.integrations.models import ProviderAccount, ProviderKind, SmsMessage
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, AuditAction, User, Workspace

from ..models import CaseType, CaseTypeKind, ChannelSettings
from ..objects import CONFIGURATION

SEND_URL_MAX = 500
SENDER_MAX = 30
THREAD_DAYS_MAX = 365
PROVIDER_AUDIT_KEY = "integrations.provider_account"


# --- reading ---------------------------------------------------------------------------------


def channel_settings(workspace) -> ChannelSettings:
    """The workspace's channel settings (defaults, unsaved, when nobody changed them yet:
    no case mailboxes, inquiries, 14 days)."""
    row = (
        ChannelSettings.objects.in_workspace(workspace).select_related("inbound_case_type").first()
    )
    if row is not None:
        return row
    return ChannelSettings(workspace_id=getattr(workspace, "pk", workspace))


def inbound_case_type(workspace: Workspace, row: ChannelSettings | None = None) -> CaseType | None:
    """The type of cases opened from e-mail and SMS: the chosen one while it is active,
    else the workspace's first active inquiry type, else its first active type."""
    from .case_types import service_setup

    row = row if row is not None else channel_settings(workspace)
    chosen = row.inbound_case_type if row.inbound_case_type_id else None
    if chosen is not None and chosen.active:
        return chosen
    service_setup(workspace)
    types = CaseType.objects.in_workspace(workspace).filter(active=True).order_by("position", "id")
    return types.filter(kind=CaseTypeKind.INQUIRY).first() or types.first()


def case_mailbox_ids(workspace) -> set[int]:
    return {
        int(pk) for pk in channel_settings(workspace).case_mailbox_ids or [] if str(pk).isdigit()
    }


def sms_provider(*, actor: User, workspace: Workspace) -> ProviderAccount | None:
    """The workspace's active SMS provider account (None: texts go to the console)."""
    permissions.require(actor, CONFIGURATION, Action.READ)
    return sms.sms_account(workspace)


# --- changing --------------------------------------------------------------------------------


def _mailboxes(errors: FieldErrors, workspace, values) -> list[int]:
    if values in (None, ""):
        return []
    if isinstance(values, str | int):
        values = [values]
    ids: list[int] = []
    for value in values:
        try:
            ids.append(int(str(getattr(value, "pk", value)).strip()))
        except (TypeError, ValueError):
            errors.add("case_mailbox_ids", _("Choose mailboxes of this workspace."))
            return []
    ids = sorted(set(ids))
    found = set(
        Mailbox.objects.in_workspace(workspace).filter(pk__in=ids).values_list("pk", flat=True)
    )
    if found != set(ids):
        errors.add("case_mailbox_ids", _("Choose mailboxes of this workspace."))
    return ids


def channel_settings_update(*, actor: User, workspace: Workspace, values: dict) -> ChannelSettings:
    """Change the channel settings: ``case_mailbox_ids`` (mailboxes whose every new message
    opens a case), ``inbound_case_type`` (an active type id, or empty for inquiries) and
    ``sms_thread_days`` (1–365: how long an open case keeps taking the customer's texts)."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    values = dict(values or {})
    errors = FieldErrors()
    for name in values:
        if name not in ("case_mailbox_ids", "inbound_case_type", "sms_thread_days"):
            errors.add(name, _("This field cannot be set."))
    changes: dict = {}
    if "case_mailbox_ids" in values:
        changes["case_mailbox_ids"] = _mailboxes(errors, workspace, values["case_mailbox_ids"])
    if "inbound_case_type" in values:
        raw = values["inbound_case_type"]
        if raw in (None, ""):
            changes["inbound_case_type"] = None
        else:
            try:
                type_id = int(str(getattr(raw, "pk", raw)))
            except (TypeError, ValueError):
                type_id = 0
            case_type = (
                CaseType.objects.in_workspace(workspace).filter(pk=type_id, active=True).first()
            )
            if case_type is None:
                errors.add("inbound_case_type", _("Choose an active case type of this workspace."))
            changes["inbound_case_type"] = case_type
    if "sms_thread_days" in values:
        try:
            days = int(str(values["sms_thread_days"]).strip())
        except (TypeError, ValueError):
            days = 0
        if not 1 <= days <= THREAD_DAYS_MAX:
            errors.add(
                "sms_thread_days",
                _("Enter a number of days from 1 to %(n)s.") % {"n": THREAD_DAYS_MAX},
            )
        changes["sms_thread_days"] = days
    errors.raise_if_any()
    with transaction.atomic():
        row = ChannelSettings.objects.in_workspace(workspace).select_for_update().first()
        created = row is None
        if created:
            row = ChannelSettings(workspace=workspace)
        before = {} if created else audit.snapshot(row)
        for name, value in changes.items():
            setattr(row, name, value)
        row.save()
        if created:
            audit.log_create(actor=actor, instance=row)
        else:
            audit.log_update(actor=actor, instance=row, before=before)
    return row


def _send_url(errors: FieldErrors, value) -> str:
    url = str(value or "").strip()
    if len(url) > SEND_URL_MAX:
        errors.add("send_url", _("At most %(n)s characters.") % {"n": SEND_URL_MAX})
    elif url and not url.lower().startswith(("http://", "https://")):
        errors.add("send_url", _("Enter an address starting with http:// or https://."))
    return url


def _provider_changes(provider: ProviderAccount) -> dict:
    # The secret is never part of the audit trail.
    return {
        "provider": provider.provider,
        "send_url": (provider.options or {}).get("send_url", ""),
        "sender": (provider.options or {}).get("sender", ""),
    }


def sms_provider_update(
    *,
    actor: User,
    workspace: Workspace,
    provider: str,
    send_url: str = "",
    sender: str = "",
) -> ProviderAccount:
    """Choose how texts are sent: ``console`` (development: to the log) or ``webhook`` (a
    gateway: ``send_url`` required; ``sender`` is the name or number it shows). Makes the
    workspace's SMS provider account on first use; its public key and secret stay."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    errors = FieldErrors()
    provider = str(provider or "").strip()
    if provider not in sms.provider_names():
        errors.add(
            "provider",
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(sms.provider_names())},
        )
    url = _send_url(errors, send_url)
    if provider == sms.WebhookProvider.name and not url and "send_url" not in errors.fields:
        errors.add("send_url", _("Enter the address the gateway takes messages at."))
    sender = str(sender or "").strip()
    if len(sender) > SENDER_MAX or "\x00" in sender:
        errors.add("sender", _("At most %(n)s characters.") % {"n": SENDER_MAX})
    errors.raise_if_any()
    with transaction.atomic():
        account = (
            ProviderAccount.objects.in_workspace(workspace)
            .select_for_update()
            .filter(kind=ProviderKind.SMS, active=True)
            .first()
        )
        created = account is None
        if created:
            account = ProviderAccount(workspace=workspace, kind=ProviderKind.SMS)
        before = {} if created else _provider_changes(account)
        account.provider = provider
        account.options = {
            **(account.options or {}),
            "send_url": url,
            "sender": sender,
        }
        account.save()
        after = _provider_changes(account)
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            object_key=PROVIDER_AUDIT_KEY,
            object_id=account.pk,
            object_repr=str(_("SMS provider")),
            changes=audit.diff(before, after)
            if not created
            else {k: [None, v] for k, v in after.items()},
        )
    return account


def provider_rotate_secret(
    *, actor: User, workspace: Workspace, kind: str, label, missing
) -> ProviderAccount:
    """A new shared secret for the workspace's active provider of ``kind`` (SMS or
    telephony); the old one stops working at once. ``label`` names the provider in the
    audit log, ``missing`` is the message when there is none yet."""
    from guanxi.integrations.models import _secret

    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    with transaction.atomic():
        account = (
            ProviderAccount.objects.in_workspace(workspace)
            .select_for_update()
            .filter(kind=kind, active=True)
            .first()
        )
        if account is None:
            raise ApplicationError(missing, code="no_provider", status=409)
        account.secret = _secret()
        account.save(update_fields=["secret", "updated_at"])
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.UPDATE,
            object_key=PROVIDER_AUDIT_KEY,
            object_id=account.pk,
            object_repr=str(label),
            changes={"secret": ["…", "…"]},
        )
    return account


def sms_provider_rotate_secret(*, actor: User, workspace: Workspace) -> ProviderAccount:
    """A new shared secret for the SMS provider (give the new one to the gateway)."""
    return provider_rotate_secret(
        actor=actor,
        workspace=workspace,
        kind=ProviderKind.SMS,
        label=_("SMS provider"),
        missing=_("Choose the SMS provider first."),
    )


def sms_test_send(*, actor: User, workspace: Workspace, phone: str, body: str = "") -> SmsMessage:
    """Send a test text through the configured provider (each call is a new message)."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    text = str(body or "").strip() or str(
        _("Test message from %(name)s: the SMS provider works.") % {"name": workspace.name}
    )
    with transaction.atomic():
        message = sms.sms_send(
            workspace=workspace,
            phone=phone,
            body=text,
            purpose="test",
            idempotency_key=f"test:{uuid.uuid4().hex}",
        )
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.CREATE,
            object_key="integrations.sms_message",
            object_id=message.pk,
            object_repr=str(_("Test SMS")),
            changes={"phone": [None, message.phone]},
        )
    return message
