"""Converting a lead, in one step and one transaction: an account (when the lead names a
company), a contact and, if wanted, a deal. The customers' duplicate check offers the
likely existing matches first; the user picks "use existing" (an id) or "create new".
The lead's timeline entries move onto the contact (and its account); the lead becomes
"converted" with links to what was made. Nothing is written when any step fails.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.activities.models import EntryContact, TimelineEntry
from guanxi.common.errors import ApplicationError, Conflict, FieldErrors
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.dedupe.check import likely_matches
from guanxi.customers.services import records as customer_records
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import Lead, LeadStatus
from ..objects import LEAD
from ..selectors import leads as selectors

ACCOUNT = "customers.account"
CONTACT = "customers.contact"
_CN_MOBILE_PREFIXES = tuple(f"+861{d}" for d in "3456789")


def _contact_values(lead: Lead) -> dict:
    mobile = lead.phone if lead.phone.startswith(_CN_MOBILE_PREFIXES) else ""
    return {
        "name": lead.name,
        "mobile": mobile,
        "phone": "" if mobile else lead.phone,
        "email": lead.email,
        "company": lead.company,
        "title": lead.title,
        "industry": lead.industry,
        "region": lead.region,
        "province": lead.province,
        "city": lead.city,
    }


def _account_values(lead: Lead) -> dict:
    return {
        "name": lead.company,
        "industry": lead.industry,
        "region": lead.region,
        "province": lead.province,
        "city": lead.city,
    }


def conversion_matches(*, actor: User, workspace: Workspace, lead: Lead) -> dict:
    """The existing accounts and contacts the lead probably is, best first:
    ``{"accounts": [(account, score, reasons)], "contacts": [...]}``."""
    contacts = likely_matches(
        workspace=workspace,
        actor=actor,
        object_key=CONTACT,
        values=_contact_values(lead),
        limit=5,
    )
    accounts = []
    if lead.company:
        accounts = likely_matches(
            workspace=workspace,
            actor=actor,
            object_key=ACCOUNT,
            values=_account_values(lead),
            limit=5,
        )
    return {"accounts": accounts, "contacts": contacts}


def _optional_id(errors: FieldErrors, value, field: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errors.add(field, _("Choose one of the matches, or create a new one."))
        return None


def _amount(errors: FieldErrors, value) -> Decimal:
    if value in (None, ""):
        return Decimal(0)
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.add("amount", _("Enter an amount."))
        return Decimal(0)
    if not amount.is_finite() or amount < 0:
        errors.add("amount", _("The amount cannot be negative."))
        return Decimal(0)
    if amount >= Decimal("1e15"):
        errors.add("amount", _("The amount is too large."))
    return amount


def _customer_source(lead: Lead) -> str:
    text = str(lead.get_source_display())
    if lead.campaign:
        text = f"{text} · {lead.campaign}"
    return text[:60]


def lead_convert(
    *,
    actor: User,
    workspace: Workspace,
    lead_id: int,
    account_id: int | None = None,
    contact_id: int | None = None,
    create_account: bool = True,
    create_deal: bool = True,
    deal_name: str = "",
    amount: Any = None,
    currency: str | None = None,
    expected_close_date: dt.date | None = None,
) -> Lead:
    """Turn the lead into customers and (optionally) a deal. ``account_id``/``contact_id``
    pick existing records ("use existing"); without them new ones are made ("create new";
    an account only when the lead names a company and ``create_account``). A lead
    converted already is a conflict (409)."""
    from .deals import deal_create

    permissions.require(actor, LEAD, Action.UPDATE)
    errors = FieldErrors()
    account_id = _optional_id(errors, account_id, "account_id")
    contact_id = _optional_id(errors, contact_id, "contact_id")
    deal_amount = _amount(errors, amount) if create_deal else Decimal(0)
    deal_name = str(deal_name or "").strip()
    if len(deal_name) > 200:
        errors.add("deal_name", _("At most %(n)s characters.") % {"n": 200})
    errors.raise_if_any()

    with transaction.atomic():
        found = selectors.lead_get(workspace=workspace, actor=actor, lead_id=lead_id)
        lead = Lead.objects.in_workspace(workspace).select_for_update().get(pk=found.pk)
        if lead.status == LeadStatus.CONVERTED:
            raise Conflict(_("This lead was converted already."), code="already_converted")
        before = audit.snapshot(lead)
        owner = lead.owner or actor

        account = None
        if account_id is not None:
            account = customer_selectors.account_get(
                workspace=workspace, actor=actor, account_id=account_id
            )
        elif lead.company and create_account:
            account = customer_records.account_create(
                actor=actor,
                workspace=workspace,
                **_owner_arg(actor, ACCOUNT, owner),
                source=_customer_source(lead),
                **_account_values(lead),
            )

        if contact_id is not None:
            contact = customer_selectors.contact_get(
                workspace=workspace, actor=actor, contact_id=contact_id
            )
        else:
            contact = customer_records.contact_create(
                actor=actor,
                workspace=workspace,
                **_owner_arg(actor, CONTACT, owner),
                account_id=account.pk if account else None,
                source=_customer_source(lead),
                **_contact_values(lead),
            )
        if account is None and contact.account_id:
            account = contact.account

        deal = None
        if create_deal:
            deal = deal_create(
                actor=actor,
                workspace=workspace,
                name=deal_name or lead.company or lead.name,
                account=account,
                contact=contact,
                amount=deal_amount,
                currency=currency or None,
                expected_close_date=expected_close_date,
                owner=owner,
                lead=lead,
                source=lead.source,
                campaign=lead.campaign,
            )

        _move_entries(workspace, lead, account, contact)
        lead.status = LeadStatus.CONVERTED
        lead.converted_at = timezone.now()
        lead.account, lead.contact, lead.deal = account, contact, deal
        if lead.owner_id is None:
            lead.owner = actor
        lead.save()
        audit.log_update(actor=actor, instance=lead, before=before)
    return lead


def _owner_arg(actor: User, object_key: str, owner: User) -> dict:
    """Give the new customer to the lead's owner when the actor may; else the actor."""
    if owner.pk == actor.pk or customer_records.may_assign(actor, object_key):
        return {"owner_id": owner.pk}
    return {}


def _move_entries(workspace, lead: Lead, account, contact) -> int:
    """The lead's timeline entries go on the contact's (and account's) timeline; they keep
    their link to the lead, so the lead's page still lists them."""
    entries = TimelineEntry.objects.in_workspace(workspace).filter(
        related_object_key=LEAD, related_object_id=lead.pk
    )
    account_pk = account.pk if account else contact.account_id
    rows = list(entries.values_list("id", "occurred_at"))
    if not rows:
        return 0
    if account_pk:
        entries.filter(account_id__isnull=True).update(account_id=account_pk)
    have = set(
        EntryContact.objects.in_workspace(workspace)
        .filter(contact_id=contact.pk, entry_id__in=[r[0] for r in rows])
        .values_list("entry_id", flat=True)
    )
    EntryContact.objects.bulk_create(
        EntryContact(
            workspace_id=workspace.pk, entry_id=entry_id, contact_id=contact.pk, occurred_at=when
        )
        for entry_id, when in rows
        if entry_id not in have
    )
    return len(rows)


def conversion_check(*, actor: User, workspace: Workspace, lead_id: int) -> dict:
    """What the convert form shows: the lead and its likely matches."""
    permissions.require(actor, LEAD, Action.UPDATE)
    lead = selectors.lead_get(workspace=workspace, actor=actor, lead_id=lead_id)
    if lead.status == LeadStatus.CONVERTED:
        raise ApplicationError(
            _("This lead was converted already."), code="already_converted", status=409
        )
    return {"lead": lead, **conversion_matches(actor=actor, workspace=workspace, lead=lead)}
