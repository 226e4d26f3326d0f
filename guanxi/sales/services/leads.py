"""Leads: capture (by hand, from a call, a web form, an import, an inbound e-mail, the
API), change, assign by hand, qualify or drop, and log the first response.

Every lead is validated as a whole (every bad field reported at once, nothing written):
a name, and a phone or an e-mail; phones are stored in E.164 (``customers.normalize``),
e-mails lower-cased; ``search_text`` holds what the list's search box looks in. After a
new lead is written its score is computed and the assignment rules choose its owner
(``lead_scoring``, ``lead_assignment``). Rights are checked before the transaction, so
a denial's audit row survives.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.activities.services.notifications import notify
from guanxi.activities.services.timeline import record_entry
from guanxi.common.errors import ApplicationError, FieldErrors, NotFound, PermissionDenied
from guanxi.customers import normalize
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Visibility, Workspace

from ..models import Lead, LeadForm, LeadSource, LeadStatus
from ..objects import LEAD
from ..selectors import leads as selectors
from .setup import sales_settings

_UNSET: Any = object()

TEXT_FIELDS = {
    "name": 200,
    "company": 200,
    "title": 120,
    "industry": 60,
    "region": 60,
    "province": 60,
    "city": 60,
    "interest": 200,
    "message": 10_000,
    "campaign": 120,
    "unqualified_reason": 200,
}
EDITABLE = frozenset({*TEXT_FIELDS, "phone", "email", "employees", "source", "custom"})
MAX_EMPLOYEES = 10_000_000
# The kinds of activity a rep logs on a lead's page.
LOG_KINDS = ("call", "note", "email", "meeting", "visit")
_CHANNELS = {"call": "phone", "email": "email", "meeting": "in_person", "visit": "in_person"}


# --- validation ------------------------------------------------------------------------------


def clean_values(values: dict, *, partial: bool = False, errors: FieldErrors | None = None):
    """The lead's fields cleaned: text trimmed and bounded, phone in E.164, e-mail
    lower-cased and checked, employees a whole number. Unknown fields are refused."""
    own = errors is None
    errors = errors or FieldErrors()
    out: dict[str, Any] = {}
    for name in values:
        if name not in EDITABLE:
            errors.add(name, _("This field cannot be set."))
    for name, limit in TEXT_FIELDS.items():
        if name not in values:
            continue
        text = str(values[name] if values[name] is not None else "").strip()
        if "\x00" in text:
            errors.add(name, _("Text may not contain NUL characters."))
        elif len(text) > limit:
            errors.add(name, _("At most %(n)s characters.") % {"n": limit})
        out[name] = text
    if "phone" in values:
        try:
            out["phone"] = normalize.phone(values["phone"] or "")
        except normalize.InvalidPhone:
            errors.add("phone", _("Enter a valid phone number."))
    if "email" in values:
        text = normalize.email(values["email"] or "")
        if text:
            try:
                validate_email(text)
            except ValidationError:
                errors.add("email", _("Enter a valid e-mail address."))
        out["email"] = text
    if "employees" in values:
        raw = values["employees"]
        if raw in (None, ""):
            out["employees"] = None
        else:
            try:
                number = int(str(raw).strip())
                if number < 0 or number > MAX_EMPLOYEES:
                    raise ValueError
                out["employees"] = number
            except (TypeError, ValueError):
                errors.add("employees", _("Enter a whole number of people (0 or more)."))
    if "source" in values:
        source = str(values["source"] or "")
        if source not in LeadSource.values:
            errors.add("source", _("Choose one of the sources."))
        out["source"] = source
    if "custom" in values:
        custom = values["custom"]
        if custom is None:
            custom = {}
        if not isinstance(custom, dict):
            errors.add("custom", _("Custom fields are a set of names and values."))
        out["custom"] = custom if isinstance(custom, dict) else {}
    if not partial:
        if not out.get("name"):
            errors.add("name", _("Enter the lead's name."))
        if (
            not out.get("phone")
            and not out.get("email")
            and not errors.fields.get("phone")
            and (not errors.fields.get("email"))
        ):
            errors.add("phone", _("Enter a phone number or an e-mail address."))
    if own:
        errors.raise_if_any()
    return out


def _search_text(lead: Lead) -> str:
    digits = normalize.phone_national_digits(lead.phone) if lead.phone else ""
    parts = [lead.name, lead.company, lead.email, lead.phone, digits]
    return " ".join(p for p in parts if p).lower()


# --- who may own a lead ----------------------------------------------------------------------


def may_assign_others(actor: User) -> bool:
    """Managers (update on leads beyond their own) and administrators give leads to others."""
    return actor.is_active and (
        actor.role.is_admin
        or (
            permissions.can(actor, LEAD, Action.UPDATE)
            and permissions.visibility_for(actor, LEAD) != Visibility.OWN
        )
    )


def _owner(workspace, actor: User | None, owner_id) -> User | None:
    if owner_id in (None, ""):
        return None
    try:
        owner_id = int(owner_id)
    except (TypeError, ValueError):
        raise ApplicationError(
            _("Choose an owner."), fields={"owner_id": [_("Choose an owner.")]}
        ) from None
    if actor is not None and owner_id != actor.pk and not may_assign_others(actor):
        raise PermissionDenied(_("Only a manager may give a lead to someone else."))
    owner = User.objects.filter(workspace_id=workspace.pk, pk=owner_id, is_active=True).first()
    if owner is None:
        raise ApplicationError(
            _("No such active user."), fields={"owner_id": [_("No such active user.")]}
        )
    return owner


def set_owner(lead: Lead, owner: User | None, *, workspace, now=None, reason="") -> None:
    """Give ``lead`` to ``owner`` (or the pool): the first-response timer starts again, and
    the new owner is told. The caller saves the lead."""
    now = now or timezone.now()
    lead.owner = owner
    lead.response_overdue_notified_at = None
    if owner is None:
        lead.assigned_at = lead.first_response_due_at = None
        return
    lead.assigned_at = now
    if lead.first_response_at is None and lead.status != LeadStatus.CONVERTED:
        minutes = sales_settings(workspace).first_response_minutes
        lead.first_response_due_at = now + dt.timedelta(minutes=minutes)
    url = reverse("sales:lead_detail", args=[lead.pk]) if lead.pk else ""
    notify(
        workspace=workspace,
        user=owner,
        title=_("New lead for you: %(name)s"),
        body=_("Answer by %(due)s.") if lead.first_response_due_at else "",
        params={
            "name": lead.name,
            "due": timezone.localtime(lead.first_response_due_at).strftime("%Y-%m-%d %H:%M")
            if lead.first_response_due_at
            else "",
        },
        url=url,
    )


# --- create ----------------------------------------------------------------------------------


def create_lead(
    *,
    workspace: Workspace,
    actor: User | None,
    values: dict,
    source: str = LeadSource.MANUAL,
    form: LeadForm | None = None,
    owner_id: Any = _UNSET,
    assign: bool = True,
    scoring: tuple | None = None,
) -> Lead:
    """The shared write of every capture path (rights already checked by the caller, inside
    its transaction): validate, insert, score, assign, audit. ``scoring`` = (rules, model)
    loaded once by a caller that makes many leads (the import)."""
    from . import lead_assignment, lead_scoring

    values = dict(values)
    values.setdefault("source", source)
    clean = clean_values(values)
    owner = None
    if owner_id is not _UNSET:
        owner = _owner(workspace, actor, owner_id)
    lead = Lead(workspace=workspace, form=form, **clean)
    lead.search_text = _search_text(lead)
    lead.save()
    rules, model = scoring if scoring is not None else (None, lead_scoring._LOAD)
    # Scored in memory (a new lead has no activities); the save below writes the scores.
    lead_scoring.rescore(
        workspace=workspace, leads=[lead], rules=rules, model=model, save=False, new=True
    )
    if owner_id is _UNSET and assign:
        owner = lead_assignment.assign(workspace=workspace, lead=lead)
        if (
            owner is None
            and actor is not None
            and lead.source
            in (
                LeadSource.MANUAL,
                LeadSource.CALL,
            )
        ):
            # Nobody's rule took it; whoever typed it in (talking to them) keeps it.
            owner = actor
    if owner is not None:
        set_owner(lead, owner, workspace=workspace)
    lead.save()
    audit.log_create(actor=actor, instance=lead)
    return lead


def lead_create(
    *,
    actor: User,
    workspace: Workspace,
    owner_id: Any = _UNSET,
    **values: Any,
) -> Lead:
    """Enter a lead by hand (page, API) or from a call (``source="call"``). Without an
    ``owner_id`` the assignment rules choose one (else the person entering it keeps it);
    ``owner_id=None`` leaves it in the pool; another person needs a manager's right."""
    permissions.require(actor, LEAD, Action.CREATE)
    source = values.pop("source", LeadSource.MANUAL) or LeadSource.MANUAL
    with transaction.atomic():
        return create_lead(
            workspace=workspace, actor=actor, values=values, source=source, owner_id=owner_id
        )


# --- change ----------------------------------------------------------------------------------


def _locked(workspace, actor: User, lead_id) -> Lead:
    lead = selectors.lead_get(workspace=workspace, actor=actor, lead_id=lead_id)
    return Lead.objects.in_workspace(workspace).select_for_update().get(pk=lead.pk)


def lead_update(*, actor: User, workspace: Workspace, lead_id: int, **changes: Any) -> Lead:
    """Change a lead's fields (only those given); the score follows."""
    from . import lead_scoring

    permissions.require(actor, LEAD, Action.UPDATE)
    if "status" in changes or "owner_id" in changes:
        raise ApplicationError(
            _("Change the status or owner with their own actions."), code="not_editable"
        )
    clean = clean_values(changes, partial=True)
    with transaction.atomic():
        lead = _locked(workspace, actor, lead_id)
        if lead.status == LeadStatus.CONVERTED:
            raise ApplicationError(
                _("A converted lead cannot be changed; change its contact instead."),
                code="converted",
                status=409,
            )
        merged = {
            "name": lead.name,
            "phone": lead.phone,
            "email": lead.email,
            **{k: v for k, v in clean.items() if k in ("name", "phone", "email")},
        }
        errors = FieldErrors()
        if not merged["name"]:
            errors.add("name", _("Enter the lead's name."))
        if not merged["phone"] and not merged["email"]:
            errors.add("phone", _("Enter a phone number or an e-mail address."))
        errors.raise_if_any()
        before = audit.snapshot(lead)
        for name, value in clean.items():
            setattr(lead, name, value)
        lead.search_text = _search_text(lead)
        lead.save()
        lead_scoring.rescore(workspace=workspace, leads=[lead])
        audit.log_update(actor=actor, instance=lead, before=before)
    return lead


def lead_assign(*, actor: User, workspace: Workspace, lead_id: int, owner_id) -> Lead:
    """Give a lead to someone (a manager), take it (anyone who may update leads, from the
    pool), or put it back in the pool (``owner_id=None``)."""
    permissions.require(actor, LEAD, Action.UPDATE)
    with transaction.atomic():
        lead = _locked(workspace, actor, lead_id)
        owner = _owner(workspace, actor, owner_id)
        if lead.owner_id and lead.owner_id != actor.pk and not may_assign_others(actor):
            raise PermissionDenied(_("Only a manager may take a lead from someone else."))
        if owner is None and not may_assign_others(actor) and lead.owner_id != actor.pk:
            raise PermissionDenied(_("Only a manager may give a lead to someone else."))
        before = audit.snapshot(lead)
        if owner is not None and owner.pk == lead.owner_id:
            return lead
        set_owner(lead, owner, workspace=workspace)
        lead.save()
        audit.log_update(actor=actor, instance=lead, before=before)
    return lead


def lead_auto_assign(*, actor: User, workspace: Workspace, lead_id: int) -> Lead:
    """Run the assignment rules again on a lead (a manager, e.g. for one in the pool)."""
    from . import lead_assignment

    permissions.require(actor, LEAD, Action.UPDATE)
    if not may_assign_others(actor):
        raise PermissionDenied(_("Only a manager may give a lead to someone else."))
    with transaction.atomic():
        lead = _locked(workspace, actor, lead_id)
        before = audit.snapshot(lead)
        owner = lead_assignment.assign(workspace=workspace, lead=lead)
        if owner is not None and owner.pk != lead.owner_id:
            set_owner(lead, owner, workspace=workspace)
            lead.save()
            audit.log_update(actor=actor, instance=lead, before=before)
    return lead


_STATUS_MOVES = {
    LeadStatus.NEW: {LeadStatus.WORKING, LeadStatus.QUALIFIED, LeadStatus.UNQUALIFIED},
    LeadStatus.WORKING: {LeadStatus.NEW, LeadStatus.QUALIFIED, LeadStatus.UNQUALIFIED},
    LeadStatus.QUALIFIED: {LeadStatus.WORKING, LeadStatus.UNQUALIFIED},
    LeadStatus.UNQUALIFIED: {LeadStatus.WORKING, LeadStatus.QUALIFIED},
    LeadStatus.CONVERTED: set(),
}


def lead_set_status(
    *, actor: User, workspace: Workspace, lead_id: int, status: str, reason: str = ""
) -> Lead:
    """Working, qualified, or "not a buyer" (with a reason). Converting is its own action."""
    permissions.require(actor, LEAD, Action.UPDATE)
    if status not in LeadStatus.values or status == LeadStatus.CONVERTED:
        raise ApplicationError(
            _("Choose working, qualified or not a buyer; converting is its own action."),
            fields={"status": [_("Not a status you can set.")]},
        )
    reason = str(reason or "").strip()
    if status == LeadStatus.UNQUALIFIED and not reason:
        raise ApplicationError(
            _("Say why this lead is not a buyer."),
            fields={"reason": [_("Say why this lead is not a buyer.")]},
        )
    if len(reason) > 200:
        raise ApplicationError(
            _("At most %(n)s characters.") % {"n": 200}, fields={"reason": [_("Too long.")]}
        )
    with transaction.atomic():
        lead = _locked(workspace, actor, lead_id)
        if status == lead.status:
            return lead
        if status not in _STATUS_MOVES[LeadStatus(lead.status)]:
            raise ApplicationError(
                _("A %(status)s lead cannot change its status.")
                % {"status": lead.get_status_display()},
                code="converted",
                status=409,
            )
        before = audit.snapshot(lead)
        lead.status = status
        lead.unqualified_reason = reason if status == LeadStatus.UNQUALIFIED else ""
        lead.save()
        audit.log_update(actor=actor, instance=lead, before=before)
    return lead


def lead_delete(*, actor: User, workspace: Workspace, lead_id: int) -> None:
    permissions.require(actor, LEAD, Action.DELETE)
    with transaction.atomic():
        lead = _locked(workspace, actor, lead_id)
        audit.log_delete(actor=actor, instance=lead)
        lead.delete()


# --- the first response ----------------------------------------------------------------------


def lead_log_activity(
    *,
    actor: User,
    workspace: Workspace,
    lead_id: int,
    kind: str,
    body: str = "",
    subject: str = "",
    direction: str = "out",
    occurred_at: dt.datetime | None = None,
):
    """Log a call, note, e-mail, meeting or visit about a lead: a timeline entry with
    ``related_object_key="sales.lead"`` (on the contact too once converted). The owner's
    first one stops the first-response timer; a new lead becomes "working"."""
    from . import lead_scoring

    permissions.require(actor, LEAD, Action.UPDATE)
    errors = FieldErrors()
    if kind not in LOG_KINDS:
        errors.add("kind", _("Choose call, note, e-mail, meeting or visit."))
    body = str(body or "").strip()
    subject = str(subject or "").strip()
    if not body and not subject:
        errors.add("body", _("Write what happened."))
    if len(body) > 10_000:
        errors.add("body", _("At most %(n)s characters.") % {"n": 10_000})
    if len(subject) > 200:
        errors.add("subject", _("At most %(n)s characters.") % {"n": 200})
    if direction not in ("in", "out"):
        errors.add("direction", _("Choose inbound or outbound."))
    now = timezone.now()
    if occurred_at is not None and occurred_at > now + dt.timedelta(minutes=5):
        errors.add("occurred_at", _("An activity cannot be in the future."))
    errors.raise_if_any()
    with transaction.atomic():
        lead = _locked(workspace, actor, lead_id)
        entry = record_entry(
            workspace=workspace,
            author=actor,
            kind=kind,
            occurred_at=occurred_at or now,
            account=lead.account_id,
            contacts=[lead.contact_id] if lead.contact_id else [],
            channel=_CHANNELS.get(kind, ""),
            direction=direction if kind in ("call", "email") else "",
            subject=subject or body[:80],
            body=body,
            related_object_key=LEAD,
            related_object_id=lead.pk,
        )
        changed = []
        if lead.first_response_at is None and lead.owner_id == actor.pk:
            lead.first_response_at = occurred_at or now
            changed.append("first_response_at")
        if lead.status == LeadStatus.NEW:
            lead.status = LeadStatus.WORKING
            changed.append("status")
        if changed:
            lead.save(update_fields=[*changed, "updated_at"])
        lead_scoring.rescore(workspace=workspace, leads=[lead])
    return entry


def lead_get_for_update(*, actor: User, workspace: Workspace, lead_id) -> Lead:
    """A lead the actor may change (for forms); not found otherwise."""
    if not permissions.can(actor, LEAD, Action.UPDATE):
        raise NotFound()
    return selectors.lead_get(workspace=workspace, actor=actor, lead_id=lead_id)


def leads_notify_overdue(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Tell the owner, and their team's manager, of each lead whose first response is late —
    once per assignment (``response_overdue_notified_at``). Rows are claimed with a
    conditional update, so two workers never notify twice."""
    now = now or timezone.now()
    due = list(
        Lead.objects.across_workspaces()
        .filter(
            selectors.overdue_q(now),
            owner__isnull=False,
            response_overdue_notified_at__isnull=True,
        )
        .select_related("owner__team__manager")
        .order_by("first_response_due_at")[:limit]
    )
    sent = 0
    for lead in due:
        with transaction.atomic():
            claimed = (
                Lead.objects.in_workspace(lead.workspace_id)
                .filter(pk=lead.pk, response_overdue_notified_at__isnull=True)
                .update(response_overdue_notified_at=now)
            )
            if not claimed:
                continue
            url = reverse("sales:lead_detail", args=[lead.pk])
            params = {"name": lead.name, "owner": lead.owner.full_name}
            notify(
                workspace=lead.workspace_id,
                user=lead.owner,
                title=_("First response overdue: %(name)s"),
                body=_("This new lead is still waiting for your first call or message."),
                params=params,
                url=url,
            )
            team = lead.owner.team
            manager = team.manager if team is not None else None
            if manager is not None and manager.pk != lead.owner_id and manager.is_active:
                notify(
                    workspace=lead.workspace_id,
                    user=manager,
                    title=_("%(owner)s has not answered a new lead: %(name)s"),
                    params=params,
                    url=url,
                )
            sent += 1
    return sent
