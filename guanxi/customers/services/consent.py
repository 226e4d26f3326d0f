"""Consent (PIPL/GDPR): per contact, channel and purpose, granted or withdrawn — when, how,
by whom and under which notice version. ``Consent`` holds the current answer, every change
appends a ``ConsentEvent``; ``may_contact`` is the one question marketing asks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, AuditAction, User, Workspace

from .. import events, selectors
from ..models import (
    Channel,
    Consent,
    ConsentEvent,
    ConsentMethod,
    ConsentPurpose,
    ConsentStatus,
    Contact,
)

CONTACT = "customers.contact"
# Consent is asked for on these channels (preferences may name others, e.g. a visit).
CONSENT_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE, Channel.MAIL, Channel.WECHAT)
# Without a recorded answer, only service messages (part of the contract) may be sent;
# marketing, surveys, profiling and sharing need a grant.
ALLOWED_WITHOUT_CONSENT = frozenset({ConsentPurpose.SERVICE})


def _choice(value, choices, *, field: str) -> str:
    allowed = [c.value for c in choices]
    if value not in allowed:
        message = _("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)}
        raise ApplicationError(message, fields={field: [message]})
    return value


def _text(value, *, field: str, max_length: int) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text:
        raise ApplicationError(
            _("This text contains characters that are not allowed."),
            fields={field: [_("Characters that are not allowed.")]},
        )
    text = text.strip()
    if len(text) > max_length:
        message = _("At most %(n)s characters.") % {"n": max_length}
        raise ApplicationError(message, fields={field: [message]})
    return text


def _when(value) -> dt.datetime:
    now = timezone.now()
    if value in (None, ""):
        return now
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, dt.datetime):
        message = _("Enter a date and time in ISO 8601 format.")
        raise ApplicationError(message, fields={"effective_at": [message]})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + dt.timedelta(minutes=5):
        message = _("Consent cannot be recorded for a time in the future.")
        raise ApplicationError(message, fields={"effective_at": [message]})
    return value


def consent_record(
    *,
    actor: User | None,
    workspace: Workspace,
    contact_id,
    channel: str,
    purpose: str,
    status: str,
    method: str,
    notice_version: str = "",
    note: str = "",
    effective_at: dt.datetime | str | None = None,
    check_rights: bool = True,
) -> Consent:
    """Record a grant or withdrawal: the current ``Consent`` is updated (or created), a
    ``ConsentEvent`` appended and an audit row written. Needs the update right on the
    contact (a system caller — an SMS "T" reply — passes ``actor=None`` and
    ``check_rights=False``). An answer older than the current one is kept in the history
    but does not replace the current answer."""
    if check_rights:
        permissions.require(actor, CONTACT, Action.UPDATE)
        permissions.check_writable(actor, CONTACT, {"consent"})
    channel = _choice(channel, CONSENT_CHANNELS, field="channel")
    purpose = _choice(purpose, ConsentPurpose, field="purpose")
    status = _choice(status, ConsentStatus, field="status")
    method = _choice(method, ConsentMethod, field="method")
    notice_version = _text(notice_version, field="notice_version", max_length=40)
    note = _text(note, field="note", max_length=300)
    effective_at = _when(effective_at)
    with transaction.atomic():
        if check_rights:
            contact = selectors.contact_get(workspace=workspace, actor=actor, contact_id=contact_id)
        else:
            try:
                contact = Contact.objects.in_workspace(workspace).get(pk=int(contact_id))
            except (Contact.DoesNotExist, ValueError, TypeError, OverflowError):
                raise NotFound() from None
        if contact.erased_at is not None and status == ConsentStatus.GRANTED:
            raise Conflict(
                _("This person's data was erased; consent cannot be granted again."),
                code="contact_erased",
            )
        recorded_by_id = actor.pk if actor is not None else None
        ConsentEvent.objects.create(
            workspace=contact.workspace,
            contact=contact,
            channel=channel,
            purpose=purpose,
            status=status,
            method=method,
            notice_version=notice_version,
            note=note,
            recorded_by_id=recorded_by_id,
            effective_at=effective_at,
        )
        current = (
            Consent.objects.in_workspace(workspace)
            .select_for_update()
            .filter(contact=contact, channel=channel, purpose=purpose)
            .first()
        )
        before = None
        if current is None:
            current = Consent(workspace=contact.workspace, contact=contact)
        else:
            before = {"status": current.status, "method": current.method}
        if current.pk is None or effective_at >= current.effective_at:
            current.channel = channel
            current.purpose = purpose
            current.status = status
            current.method = method
            current.notice_version = notice_version
            current.recorded_by_id = recorded_by_id
            current.effective_at = effective_at
            try:
                with transaction.atomic():
                    current.save()
            except IntegrityError:
                raise Conflict(
                    _("Someone else recorded this consent at the same moment; try again."),
                    code="concurrent_change",
                ) from None
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.UPDATE,
            object_key=CONTACT,
            object_id=contact.pk,
            object_repr=str(contact),
            changes={
                f"consent.{channel}.{purpose}": [
                    before and before["status"],
                    status,
                ],
                "consent.method": [None, method],
                "consent.notice_version": [None, notice_version],
                "consent.effective_at": [None, effective_at.isoformat()],
            },
        )
        _emit_consent_change(
            workspace, actor, contact, [{"channel": channel, "purpose": purpose, "status": status}]
        )
    return current


def _emit_consent_change(workspace, actor, contact: Contact, changes: list[dict]) -> None:
    """The consent change on the person's timeline (activities), in this transaction."""
    events.emit(
        events.CustomerEvent(
            workspace_id=getattr(workspace, "pk", workspace),
            kind=events.CONSENT_CHANGE,
            actor_id=getattr(actor, "pk", None),
            contact_ids=(contact.pk,),
            data={"changes": changes},
        )
    )


@dataclass
class ConsentCell:
    channel: str
    purpose: str
    consent: Consent | None

    @property
    def status(self) -> str:
        return self.consent.status if self.consent else ""

    @property
    def allowed(self) -> bool:
        if self.consent is None:
            return self.purpose in ALLOWED_WITHOUT_CONSENT
        return self.consent.status == ConsentStatus.GRANTED


def consent_state(contact: Contact) -> dict[tuple[str, str], Consent]:
    """The current answers of one person: ``{(channel, purpose): Consent}`` (one query)."""
    rows = (
        Consent.objects.in_workspace(contact.workspace_id)
        .filter(contact=contact)
        .select_related("recorded_by")
    )
    return {(c.channel, c.purpose): c for c in rows}


def consent_grid(contact: Contact) -> list[list[ConsentCell]]:
    """Rows per channel, cells per purpose, for pages."""
    state = consent_state(contact)
    return [
        [ConsentCell(ch.value, p.value, state.get((ch.value, p.value))) for p in ConsentPurpose]
        for ch in CONSENT_CHANNELS
    ]


def consent_history(*, workspace, contact: Contact, limit: int | None = None):
    qs = (
        ConsentEvent.objects.in_workspace(workspace)
        .filter(contact=contact)
        .select_related("recorded_by")
        .order_by("-id")
    )
    return qs[:limit] if limit else qs


def may_contact(*, workspace, contact_id, channel: str, purpose: str) -> bool:
    """May this person be contacted on ``channel`` for ``purpose``? A recorded answer
    decides; without one, only service messages may be sent. Erased people: never."""
    try:
        contact_pk = int(contact_id)
    except (TypeError, ValueError):
        return False
    contact = (
        Contact.objects.in_workspace(workspace).filter(pk=contact_pk).values("erased_at").first()
    )
    if contact is None or contact["erased_at"] is not None:
        return False
    status = (
        Consent.objects.in_workspace(workspace)
        .filter(contact_id=contact_pk, channel=channel, purpose=purpose)
        .values_list("status", flat=True)
        .first()
    )
    if status is None:
        return purpose in ALLOWED_WITHOUT_CONSENT
    return status == ConsentStatus.GRANTED


def consent_withdraw_all(*, actor: User | None, workspace, contact: Contact, note: str = ""):
    """Withdraw every current grant of one person (erasure calls this in its transaction)."""
    now = timezone.now()
    withdrawn = []
    for consent in Consent.objects.in_workspace(workspace).filter(contact=contact):
        if consent.status == ConsentStatus.WITHDRAWN:
            continue
        withdrawn.append(
            {"channel": consent.channel, "purpose": consent.purpose, "status": "withdrawn"}
        )
        ConsentEvent.objects.create(
            workspace_id=consent.workspace_id,
            contact=contact,
            channel=consent.channel,
            purpose=consent.purpose,
            status=ConsentStatus.WITHDRAWN,
            method=consent.method,
            notice_version=consent.notice_version,
            note=note[:300],
            recorded_by=actor,
            effective_at=now,
        )
        consent.status = ConsentStatus.WITHDRAWN
        consent.recorded_by = actor
        consent.effective_at = now
        consent.save()
    if withdrawn:
        _emit_consent_change(workspace, actor, contact, withdrawn)
