"""Cases: open one (an agent on the phone, the portal, an e-mail, an SMS, a telephony event,
the API), hold its conversation, move it through its status flow, change and assign it.

Every service validates its whole input first (every bad field reported at once, nothing
written), checks rights before its transaction (so the audit row of a denial survives),
and writes in one transaction the case, its ``CaseEvent`` history, the audit row, the
customer's timeline entry and the open-complaint flag. ``actor=None`` is the system (the
portal, inbound mail and SMS, telephony, the SLA sweep): no rights are checked for it.

Status flow::

    new → open → waiting ⇄ open → resolved → closed
                                  resolved → open      (reopened: counts ``reopened``)
    new / open / waiting → cancelled                   (closed and cancelled are final)

Edits carry the ``lock_version`` the user saw: if the case changed since, the edit is
refused with 409 and nothing is written. Every write to the case row bumps it.

The other parts are called at fixed points (their modules are contracts):
``sla_clock`` (start, pause, resume, first response, re-apply, stop on resolution, reopen),
``routing.case_route`` (a new case without an assignee), ``customer_messages`` (the
acknowledgement, each answer), ``survey_hooks.survey_start`` (on resolution).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.activities.models import EntryKind
from guanxi.activities.services.notifications import notify
from guanxi.activities.services.timeline import record_entry
from guanxi.common.errors import ApplicationError, Conflict, FieldErrors, NotFound
from guanxi.customers import normalize
from guanxi.customers.models import Account, AccountContact, Contact
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace
from guanxi.sales.models import Order, Product

from ..models import (
    OPEN_STATUSES,
    Case,
    CaseCategory,
    CaseChannel,
    CaseEvent,
    CaseEventKind,
    CaseMessage,
    CasePriority,
    CaseStatus,
    CaseType,
    CaseTypeKind,
    MessageKind,
    Queue,
)
from ..objects import CASE
from ..selectors import cases as selectors
from . import customer_messages, routing, sla_clock, survey_hooks
from .case_numbers import case_number_next
from .case_types import service_setup

__all__ = [
    "NEXT_STATUS",
    "case_assign",
    "case_change_status",
    "case_create",
    "case_customer_message",
    "case_event",
    "case_reply",
    "case_update",
    "refresh_complaint_flags",
    "service_setup",
]

# Timeline subtypes of the cases part (sentences: ``cases_ui``).
EVENT_CASE_OPENED = "case_opened"
EVENT_CASE_RESOLVED = "case_resolved"

SUBJECT_MAX = 200
DESCRIPTION_MAX = 20_000
MESSAGE_MAX = 20_000
RESOLUTION_MAX = 10_000
LANGUAGE_MAX = 10

# Which status may follow which (closing and cancelling are final).
NEXT_STATUS: dict[str, set[str]] = {
    CaseStatus.NEW: {CaseStatus.OPEN, CaseStatus.CANCELLED},
    CaseStatus.OPEN: {CaseStatus.WAITING, CaseStatus.RESOLVED, CaseStatus.CANCELLED},
    CaseStatus.WAITING: {CaseStatus.OPEN, CaseStatus.CANCELLED},
    CaseStatus.RESOLVED: {CaseStatus.CLOSED, CaseStatus.OPEN},
    CaseStatus.CLOSED: set(),
    CaseStatus.CANCELLED: set(),
}
FINAL_STATUSES = (CaseStatus.CLOSED, CaseStatus.CANCELLED)

# What ``case_create``'s ``values`` may hold, and what ``case_update`` may change.
CREATE_VALUES = frozenset(
    {
        "case_type",
        "subject",
        "description",
        "priority",
        "category",
        "product",
        "order",
        "assignee",
        "queue",
    }
)
EDITABLE = frozenset(
    {
        "case_type",
        "subject",
        "description",
        "priority",
        "category",
        "product",
        "order",
        "account",
        "contact",
        "language",
        "reply_email",
        "reply_phone",
    }
)


# --- validation ------------------------------------------------------------------------------


def _pk(value) -> int:
    try:
        return int(getattr(value, "pk", value))
    except (TypeError, ValueError):
        return 0


def _empty(value) -> bool:
    return value is None or value == ""


def _text(errors: FieldErrors, name: str, value, limit: int) -> str:
    text = str(value if value is not None else "").strip()
    if "\x00" in text:
        errors.add(name, _("Text may not contain NUL characters."))
    elif len(text) > limit:
        errors.add(name, _("At most %(n)s characters.") % {"n": limit})
    return text


def _row(errors: FieldErrors, workspace, model, value, field: str, message, **extra):
    """The row of ``model`` in this workspace that ``value`` (an id or a row) names."""
    if _empty(value):
        return None
    row = model.objects.in_workspace(workspace).filter(pk=_pk(value), **extra).first()
    if row is None:
        errors.add(field, message)
    return row


def _priority(errors: FieldErrors, value) -> int:
    if _empty(value):
        return CasePriority.NORMAL
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = 0
    if number not in CasePriority.values:
        errors.add("priority", _("Choose a priority from 1 (urgent) to 4 (low)."))
    return number


def _user(errors: FieldErrors, workspace, value, field: str = "assignee") -> User | None:
    if _empty(value):
        return None
    user = User.objects.filter(workspace_id=workspace.pk, pk=_pk(value), is_active=True).first()
    if user is None:
        errors.add(field, _("Choose an active user of this workspace."))
    return user


def _contact_belongs(workspace, contact: Contact, account: Account) -> bool:
    if contact.account_id == account.pk:
        return True
    return (
        AccountContact.objects.in_workspace(workspace)
        .filter(account=account, contact=contact)
        .exists()
    )


def _clean(
    workspace: Workspace,
    values: dict,
    *,
    allowed: frozenset,
    partial: bool,
    case: Case | None = None,
) -> dict[str, Any]:
    """The case's fields cleaned: text trimmed and bounded, related rows looked up in this
    workspace, the priority checked; raises ``ApplicationError`` with every bad field."""
    errors = FieldErrors()
    out: dict[str, Any] = {}
    for name in values:
        if name not in allowed:
            errors.add(name, _("This field cannot be set."))
    if "case_type" in values or not partial:
        if _empty(values.get("case_type")):
            errors.add("case_type", _("Choose the type of case."))
        else:
            case_type = _row(
                errors,
                workspace,
                CaseType,
                values["case_type"],
                "case_type",
                _("Choose an active case type of this workspace."),
            )
            if (
                case_type is not None
                and not case_type.active
                and (case is None or case.case_type_id != case_type.pk)
            ):
                errors.add("case_type", _("Choose an active case type of this workspace."))
            out["case_type"] = case_type
    if "subject" in values or not partial:
        out["subject"] = _text(errors, "subject", values.get("subject"), SUBJECT_MAX)
        if not out["subject"] and "subject" not in errors.fields:
            errors.add("subject", _("Say in a few words what the case is about."))
    if "description" in values:
        out["description"] = _text(errors, "description", values["description"], DESCRIPTION_MAX)
    if "priority" in values or not partial:
        out["priority"] = _priority(errors, values.get("priority"))
    if "category" in values:
        out["category"] = _row(
            errors,
            workspace,
            CaseCategory,
            values["category"],
            "category",
            _("Choose a category of this workspace."),
        )
    if "product" in values:
        out["product"] = _row(
            errors,
            workspace,
            Product,
            values["product"],
            "product",
            _("Choose a product of this workspace."),
        )
    if "order" in values:
        out["order"] = _row(
            errors,
            workspace,
            Order,
            values["order"],
            "order",
            _("Choose an order of this workspace."),
        )
    if "assignee" in values:
        out["assignee"] = _user(errors, workspace, values["assignee"])
    if "queue" in values:
        out["queue"] = _row(
            errors,
            workspace,
            Queue,
            values["queue"],
            "queue",
            _("Choose an active queue of this workspace."),
            active=True,
        )
    if "account" in values:
        out["account"] = _row(
            errors,
            workspace,
            Account,
            values["account"],
            "account",
            _("Choose an account of this workspace."),
        )
    if "contact" in values:
        out["contact"] = _row(
            errors,
            workspace,
            Contact,
            values["contact"],
            "contact",
            _("Choose a contact of this workspace."),
        )
    if "language" in values:
        out["language"] = _text(errors, "language", values["language"], LANGUAGE_MAX)
    if "reply_email" in values:
        email = normalize.email(str(values["reply_email"] or ""))
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors.add("reply_email", _("Enter a valid e-mail address."))
        out["reply_email"] = email
    if "reply_phone" in values:
        try:
            out["reply_phone"] = normalize.phone(str(values["reply_phone"] or ""))
        except normalize.InvalidPhone:
            errors.add("reply_phone", _("Enter a valid phone number."))

    # The customer: the contact must be one of the account's people; an order must be theirs.
    account = out.get("account", case.account if case else None)
    contact = out.get("contact", case.contact if case else None)
    if "account" not in errors.fields and "contact" not in errors.fields:
        if (
            account is not None
            and contact is not None
            and ("account" in values or "contact" in values)
            and not _contact_belongs(workspace, contact, account)
        ):
            errors.add("contact", _("This contact is not one of the account's people."))
        order = out.get("order")
        if order is not None and (account is not None or contact is not None):
            ours = (account is not None and order.account_id == account.pk) or (
                contact is not None and order.contact_id == contact.pk
            )
            if not ours:
                errors.add("order", _("This order is not the customer's."))
    errors.raise_if_any()
    return out


def _search_text(case: Case) -> str:
    parts = [case.number, case.subject, case.reply_email, case.reply_phone]
    if case.reply_phone:
        parts.append(normalize.phone_national_digits(case.reply_phone))
    if case.account_id:
        parts.append(case.account.name)
    if case.contact_id:
        parts.append(case.contact.name)
    return normalize.fold(" ".join(p for p in parts if p))


# --- small writes shared by the services -----------------------------------------------------


def case_event(
    case: Case,
    kind: str,
    *,
    actor: User | None = None,
    from_value: Any = "",
    to_value: Any = "",
    note: Any = "",
) -> CaseEvent:
    """Write one line of a case's history (inside the caller's transaction): a status,
    assignment or priority change, an SLA warning or breach, an escalation, a dispatch, a
    survey answer. ``actor=None`` is the system."""
    if kind not in CaseEventKind.values:
        raise ValueError(f"unknown case event kind {kind!r}")
    return CaseEvent.objects.create(
        workspace_id=case.workspace_id,
        case=case,
        kind=kind,
        from_value=str(from_value or "")[:60],
        to_value=str(to_value or "")[:60],
        note=str(note or "")[:300],
        actor=actor,
    )


def case_url(case: Case) -> str:
    return reverse("service:case_detail", args=[case.pk])


def _notify(case: Case, user: User | None, *, actor: User | None, title, body="") -> None:
    """Tell ``user`` about the case (not when they did it themselves)."""
    if user is None or not user.is_active or (actor is not None and user.pk == actor.pk):
        return
    notify(
        workspace=case.workspace_id,
        user=user,
        title=title,
        body=body,
        params={"number": case.number, "subject": case.subject},
        url=case_url(case),
    )


def refresh_complaint_flags(workspace, *, account_ids=(), contact_ids=()) -> None:
    """Set ``open_complaint`` on each given account and contact while it has an open case
    of kind complaint, clear it otherwise (only rows whose flag changes are written)."""
    workspace_id = getattr(workspace, "pk", workspace)
    complaints = Case.objects.in_workspace(workspace_id).filter(
        kind=CaseTypeKind.COMPLAINT, status__in=OPEN_STATUSES
    )
    for model, field, ids in ((Account, "account", account_ids), (Contact, "contact", contact_ids)):
        for pk in {i for i in ids if i}:
            flag = complaints.filter(**{f"{field}_id": pk}).exists()
            model.objects.in_workspace(workspace_id).filter(pk=pk).exclude(
                open_complaint=flag
            ).update(open_complaint=flag)


def _flags_for(case: Case, *extra: Case | dict) -> None:
    account_ids = [case.account_id]
    contact_ids = [case.contact_id]
    for other in extra:
        if isinstance(other, dict):
            account_ids.append(other.get("account_id"))
            contact_ids.append(other.get("contact_id"))
    refresh_complaint_flags(case.workspace_id, account_ids=account_ids, contact_ids=contact_ids)


def _timeline(case: Case, subtype: str, *, actor: User | None, data: dict | None = None) -> None:
    if case.account_id is None and case.contact_id is None:
        return  # an unknown sender: no customer to put it on
    record_entry(
        workspace=case.workspace_id,
        author=actor,
        kind=EntryKind.SYSTEM,
        subtype=subtype,
        channel="system",
        account=case.account_id,
        contacts=[case.contact_id] if case.contact_id else [],
        subject=case.subject,
        data={
            "number": case.number,
            "subject": case.subject,
            "kind": case.kind,
            **(data or {}),
        },
        related_object_key=CASE,
        related_object_id=case.pk,
    )


def _save(case: Case) -> None:
    """Every write to the case row moves its lock version on (edits opened before it are
    then refused)."""
    case.lock_version += 1
    case.save()


def _check_lock(case: Case, lock_version) -> None:
    if lock_version is None:
        return
    try:
        seen = int(lock_version)
    except (TypeError, ValueError):
        seen = -1
    if seen != case.lock_version:
        raise Conflict(
            _(
                "Someone else changed case %(number)s since you opened it. Reload it to see "
                "their change, then try again."
            )
            % {"number": case.number},
            code="stale",
            fields={"lock_version": [_("The case has changed since you opened it.")]},
        )


def _locked(workspace: Workspace, actor: User | None, case_id) -> Case:
    """The case, locked for the rest of the transaction, if the actor may see it."""
    pk = _pk(case_id)
    if pk <= 0:
        raise NotFound()
    if actor is not None and not (
        selectors.cases_visible(workspace=workspace, actor=actor).filter(pk=pk).exists()
    ):
        raise NotFound()
    case = (
        Case.objects.in_workspace(workspace)
        .select_for_update(of=("self",))
        .select_related("account", "contact", "assignee", "queue")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise NotFound()
    return case


def _status_label(status: str) -> str:
    return str(CaseStatus(status).label)


def _who(user: User | None) -> str:
    return user.full_name if user is not None else ""


def _require(actor: User | None, action: str) -> None:
    if actor is not None:
        permissions.require(actor, CASE, action)


# --- create ----------------------------------------------------------------------------------


def case_create(
    *,
    actor: User | None,
    workspace: Workspace,
    values: dict,
    channel: str,
    account=None,
    contact=None,
    reply_email: str = "",
    reply_phone: str = "",
    language: str = "",
    assign: bool = True,
    acknowledge: bool = True,
) -> Case:
    """Open a case for a customer (an account and/or a contact, or nobody known yet: then
    ``reply_email``/``reply_phone`` say where to answer).

    ``values``: ``case_type`` (required), ``subject`` (required), ``description``,
    ``priority`` (1–4, 3 by default), ``category``, ``product``, ``order``, ``assignee``,
    ``queue`` — ids or rows of this workspace. Writes the case with its number, the
    "created" event, the description as the customer's first message, the customer's
    timeline entry and open-complaint flag; starts the SLA clock, routes it when no
    assignee is given (``assign``) and acknowledges it to the customer (``acknowledge``).
    """
    _require(actor, Action.CREATE)
    values = dict(values or {})
    service_setup(workspace)
    raw = {**values}
    if not _empty(account):
        raw["account"] = account
    if not _empty(contact):
        raw["contact"] = contact
    if reply_email:
        raw["reply_email"] = reply_email
    if reply_phone:
        raw["reply_phone"] = reply_phone
    if language:
        raw["language"] = language
    allowed = CREATE_VALUES | {"account", "contact", "reply_email", "reply_phone", "language"}
    clean = _clean(workspace, raw, allowed=allowed, partial=False)
    if channel not in CaseChannel.values:
        raise ApplicationError(
            _("Choose the channel the case came in by."),
            fields={"channel": [_("Choose a channel.")]},
        )
    contact_row = clean.get("contact")
    if clean.get("account") is None and contact_row is not None and contact_row.account_id:
        # A person at a company: the case is the company's too (its 360° page shows it).
        clean["account"] = contact_row.account
    order = clean.get("order")
    if order is not None and clean.get("account") is None and clean.get("contact") is None:
        clean["account"] = order.account
        clean["contact"] = order.contact
    case_type: CaseType = clean.pop("case_type")
    assignee = clean.pop("assignee", None)
    queue = clean.pop("queue", None)
    now = timezone.now()

    with transaction.atomic():
        case = Case(
            workspace=workspace,
            number=case_number_next(workspace=workspace),
            case_type=case_type,
            kind=case_type.kind,
            channel=channel,
            status=CaseStatus.NEW,
            assignee=assignee,
            queue=queue,
            created_by=actor,
            last_message_at=now if clean.get("description") else None,
            **clean,
        )
        case.search_text = _search_text(case)
        case.save()
        sla_clock.sla_start(case, now=now)
        routed = False
        if assign and case.assignee_id is None:
            routing.case_route(case, actor=actor)
            routed = case.assignee_id is not None or case.queue_id is not None
        case.save()
        case_event(case, CaseEventKind.CREATED, actor=actor, to_value=case.status, note=channel)
        if case.assignee_id or case.queue_id:
            case_event(
                case,
                CaseEventKind.ASSIGNED,
                actor=actor,
                to_value=_who(case.assignee) or (case.queue.name if case.queue else ""),
                note=str(_("Assigned automatically")) if routed else "",
            )
            _notify(
                case,
                case.assignee,
                actor=actor,
                title=_("New case for you: %(number)s %(subject)s"),
            )
        if case.description:
            CaseMessage.objects.create(
                workspace=workspace,
                case=case,
                kind=MessageKind.INBOUND,
                channel=channel,
                body=case.description,
                contact=case.contact,
            )
        audit.log_create(actor=actor, instance=case)
        _timeline(case, EVENT_CASE_OPENED, actor=actor, data={"channel": channel})
        if case.kind == CaseTypeKind.COMPLAINT:
            _flags_for(case)
        if acknowledge:
            customer_messages.case_acknowledge(case)
    return case


# --- the conversation ------------------------------------------------------------------------


def _body(value) -> str:
    errors = FieldErrors()
    body = _text(errors, "body", value, MESSAGE_MAX)
    if not body and "body" not in errors.fields:
        errors.add("body", _("Write the message."))
    errors.raise_if_any()
    return body


def case_customer_message(
    *,
    workspace: Workspace,
    case: Case,
    body: str,
    channel: str,
    contact=None,
    email_id: int | None = None,
    sms_id: int | None = None,
) -> CaseMessage:
    """The customer wrote about their case (portal, e-mail, SMS). A case waiting on them
    opens again (its SLA clock restarts); a resolved one reopens (``reopened`` counts it;
    its clock runs again with the time that was left).
    On a closed or cancelled case the message is kept, the status stays, and the assignee
    is told. The caller has matched the case (thread key, portal session)."""
    body = _body(body)
    if channel not in CaseChannel.values:
        raise ApplicationError(
            _("Choose the channel the message came in by."),
            fields={"channel": [_("Choose a channel.")]},
        )
    errors = FieldErrors()
    contact_row = _row(
        errors, workspace, Contact, contact, "contact", _("Choose a contact of this workspace.")
    )
    errors.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        row = _locked(workspace, None, case)
        message = CaseMessage.objects.create(
            workspace=workspace,
            case=row,
            kind=MessageKind.INBOUND,
            channel=channel,
            body=body,
            contact=contact_row or row.contact,
            email_id=email_id,
            sms_id=sms_id,
        )
        before = audit.snapshot(row)
        row.last_message_at = now
        old_status = row.status
        if row.status == CaseStatus.WAITING:
            row.status = CaseStatus.OPEN
            sla_clock.sla_resume(row, now=now)
        elif row.status == CaseStatus.RESOLVED:
            row.status = CaseStatus.OPEN
            row.reopened += 1
            row.resolved_at = None
            sla_clock.sla_reopen(row, now=now)
        _save(row)
        if row.status != old_status:
            case_event(
                row,
                CaseEventKind.STATUS,
                from_value=old_status,
                to_value=row.status,
                note=str(_("The customer wrote")),
            )
            audit.log_update(actor=None, instance=row, before=before)
            if row.kind == CaseTypeKind.COMPLAINT:
                _flags_for(row)
        _notify(
            row,
            row.assignee,
            actor=None,
            title=_("The customer wrote on case %(number)s"),
            body=_("%(subject)s"),
        )
    case.status, case.lock_version = row.status, row.lock_version
    return message


def case_reply(
    *,
    actor: User,
    workspace: Workspace,
    case_id,
    body: str,
    internal: bool = False,
    lock_version=None,
) -> CaseMessage:
    """An agent answers the customer (sent by the case's channel through
    ``customer_messages.case_deliver``) or writes an internal note (never shown to the
    customer). The first answer is the case's first response (its SLA target is met) and
    opens a new case."""
    _require(actor, Action.UPDATE)
    body = _body(body)
    now = timezone.now()
    with transaction.atomic():
        case = _locked(workspace, actor, case_id)
        _check_lock(case, lock_version)
        if not internal and case.status in FINAL_STATUSES:
            raise Conflict(
                _("Case %(number)s is %(status)s; open a new case to write to the customer.")
                % {"number": case.number, "status": _status_label(case.status).lower()},
                code="case_final",
            )
        message = CaseMessage.objects.create(
            workspace=workspace,
            case=case,
            kind=MessageKind.NOTE if internal else MessageKind.OUTBOUND,
            channel=case.channel,
            body=body,
            author=actor,
        )
        if internal:
            return message
        before = audit.snapshot(case)
        case.last_message_at = now
        if case.first_response_at is None:
            case.first_response_at = now
            sla_clock.sla_first_response(case, now=now)
        old_status = case.status
        if case.status == CaseStatus.NEW:
            case.status = CaseStatus.OPEN
        _save(case)
        if case.status != old_status:
            case_event(
                case,
                CaseEventKind.STATUS,
                actor=actor,
                from_value=old_status,
                to_value=case.status,
                note=str(_("Answered the customer")),
            )
        audit.log_update(actor=actor, instance=case, before=before)
        customer_messages.case_deliver(case, message)
    return message


# --- status ----------------------------------------------------------------------------------


def case_change_status(
    *,
    actor: User | None,
    workspace: Workspace,
    case_id,
    status: str,
    resolution: str = "",
    lock_version=None,
) -> Case:
    """Move a case along its flow (see the module). Waiting on the customer stops the SLA
    clock and going back restarts it; resolving needs the resolution, stops the clock, puts
    it on the customer's timeline and sends the satisfaction survey; reopening counts and
    runs the clock again with the time that was left. The customer's open-complaint flag
    follows."""
    _require(actor, Action.UPDATE)
    if status not in CaseStatus.values:
        raise ApplicationError(
            _("“%(value)s” is not one of the choices.") % {"value": status},
            fields={"status": [_("Choose a status.")]},
        )
    errors = FieldErrors()
    resolution = _text(errors, "resolution", resolution, RESOLUTION_MAX)
    if status == CaseStatus.RESOLVED and not resolution and "resolution" not in errors.fields:
        errors.add("resolution", _("Say how the case was resolved."))
    errors.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        case = _locked(workspace, actor, case_id)
        _check_lock(case, lock_version)
        old = case.status
        if status == old:
            return case
        if status not in NEXT_STATUS[old]:
            if old in FINAL_STATUSES:
                message = _("Case %(number)s is %(current)s; it cannot change any more.")
            else:
                message = _("A case that is %(current)s cannot become %(next)s.")
            raise Conflict(
                message
                % {
                    "number": case.number,
                    "current": _status_label(old).lower(),
                    "next": _status_label(status).lower(),
                },
                code="bad_transition",
            )
        before = audit.snapshot(case)
        case.status = status
        note = ""
        if status == CaseStatus.WAITING:
            sla_clock.sla_pause(case, now=now)
        elif old == CaseStatus.WAITING and status == CaseStatus.OPEN:
            sla_clock.sla_resume(case, now=now)
        if status == CaseStatus.RESOLVED:
            case.resolved_at = now
            case.resolution = resolution
            note = resolution
            sla_clock.sla_stop(case, now=now)
        elif status == CaseStatus.OPEN and old == CaseStatus.RESOLVED:
            case.reopened += 1
            case.resolved_at = None
            note = str(_("Reopened"))
            sla_clock.sla_reopen(case, now=now)
        elif status in FINAL_STATUSES:
            case.closed_at = now
        _save(case)
        case_event(
            case, CaseEventKind.STATUS, actor=actor, from_value=old, to_value=status, note=note
        )
        audit.log_update(actor=actor, instance=case, before=before)
        if status == CaseStatus.RESOLVED:
            _timeline(case, EVENT_CASE_RESOLVED, actor=actor, data={"resolution": resolution[:300]})
            survey_hooks.survey_start(case, now=now)
        if case.kind == CaseTypeKind.COMPLAINT and (
            (old in OPEN_STATUSES) != (status in OPEN_STATUSES)
        ):
            _flags_for(case)
    return case


# --- change and assign -----------------------------------------------------------------------


def case_update(
    *,
    actor: User | None,
    workspace: Workspace,
    case_id,
    changes: dict,
    lock_version,
) -> Case:
    """Change a case's fields (only those given): type, category, subject, description,
    priority, product, order, customer (account, contact), language, reply address. The
    status and the assignment have their own services. ``lock_version`` is the version the
    user saw (``None`` only for the system). A new priority or customer re-applies the SLA
    policy; the open-complaint flags follow the type and the customer."""
    _require(actor, Action.UPDATE)
    changes = dict(changes or {})
    if "status" in changes or "assignee" in changes or "queue" in changes:
        raise ApplicationError(
            _("Change the status or the assignment with their own actions."),
            code="not_editable",
        )
    if actor is not None:
        permissions.check_changes_writable(actor, CASE, changes)
    with transaction.atomic():
        case = _locked(workspace, actor, case_id)
        _check_lock(case, lock_version)
        if case.status in FINAL_STATUSES:
            raise Conflict(
                _("Case %(number)s is %(status)s; it cannot be changed.")
                % {"number": case.number, "status": _status_label(case.status).lower()},
                code="case_final",
            )
        clean = _clean(workspace, changes, allowed=EDITABLE, partial=True, case=case)
        before = audit.snapshot(case)
        old = {
            "priority": case.priority,
            "account_id": case.account_id,
            "contact_id": case.contact_id,
            "kind": case.kind,
        }
        for name, value in clean.items():
            setattr(case, name, value)
        if "case_type" in clean:
            case.kind = clean["case_type"].kind
        if audit.diff(before, audit.snapshot(case)) == {} and case.kind == old["kind"]:
            return case
        now = timezone.now()
        customer_changed = (case.account_id, case.contact_id) != (
            old["account_id"],
            old["contact_id"],
        )
        if case.priority != old["priority"] or customer_changed:
            sla_clock.sla_reapply(case, now=now)
        case.search_text = _search_text(case)
        _save(case)
        if case.priority != old["priority"]:
            case_event(
                case,
                CaseEventKind.PRIORITY,
                actor=actor,
                from_value=old["priority"],
                to_value=case.priority,
            )
        audit.log_update(actor=actor, instance=case, before=before)
        if CaseTypeKind.COMPLAINT in (old["kind"], case.kind) and (
            customer_changed or old["kind"] != case.kind
        ):
            _flags_for(case, old)
    return case


def case_assign(
    *,
    actor: User | None,
    workspace: Workspace,
    case_id,
    assignee_id=None,
    queue_id=None,
    lock_version=None,
) -> Case:
    """Give a case to an agent and/or a queue by hand (the override of automatic routing;
    ``None`` clears either). A queue without an agent leaves the case for the queue's
    agents to take. The new assignee is told."""
    _require(actor, Action.UPDATE)
    errors = FieldErrors()
    assignee = _user(errors, workspace, assignee_id)
    queue = _row(
        errors,
        workspace,
        Queue,
        queue_id,
        "queue",
        _("Choose an active queue of this workspace."),
        active=True,
    )
    errors.raise_if_any()
    with transaction.atomic():
        case = _locked(workspace, actor, case_id)
        _check_lock(case, lock_version)
        if case.status in FINAL_STATUSES:
            raise Conflict(
                _("Case %(number)s is %(status)s; it cannot be changed.")
                % {"number": case.number, "status": _status_label(case.status).lower()},
                code="case_final",
            )
        if (case.assignee_id, case.queue_id) == (
            assignee.pk if assignee else None,
            queue.pk if queue else None,
        ):
            return case
        before = audit.snapshot(case)
        old_label = _who(case.assignee) or (case.queue.name if case.queue else "")
        old_assignee_id = case.assignee_id
        case.assignee = assignee
        case.queue = queue
        _save(case)
        new_label = _who(assignee) or (queue.name if queue else "")
        case_event(
            case, CaseEventKind.ASSIGNED, actor=actor, from_value=old_label, to_value=new_label
        )
        audit.log_update(actor=actor, instance=case, before=before)
        if assignee is not None and assignee.pk != old_assignee_id:
            _notify(
                case,
                assignee,
                actor=actor,
                title=_("Case %(number)s is now yours: %(subject)s"),
            )
    return case


def case_get_for_update(*, actor: User, workspace: Workspace, case_id) -> Case:
    """A case the actor may change (for forms); not found otherwise."""
    if not permissions.can(actor, CASE, Action.UPDATE):
        raise NotFound()
    return selectors.case_get(workspace=workspace, actor=actor, case_id=case_id)
