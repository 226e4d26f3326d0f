"""What the leads part adds to the shared UI (navigation, 360° sections, home panels) and
the hooks it registers with the lower apps (merge movers, personal data).

- side navigation: Leads, Web forms, Lead scoring, Lead assignment;
- the e-mail triage action "Turn into a lead";
- merge movers: a merged account's or contact's leads point at the survivor;
- personal data: a person's leads are in their export and erased with them;
- the part's background jobs (import, nightly retraining, first-response watch).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from guanxi.activities.services import email_in
from guanxi.customers.services import merge, privacy
from guanxi.platform import permissions
from guanxi.platform.navigation import NavItem, register

from . import leads_jobs  # noqa: F401  (registers the job handler and periodic tasks)
from .models import Lead, LeadSource
from .objects import CONFIGURATION, LEAD, LEAD_FORM
from .ui import SALES


def _can(key: str, action: str = "read"):
    return lambda user: permissions.can(user, key, action)


for order, label, url_name, allowed in (
    (300, _("Leads"), "sales:lead_list", _can(LEAD)),
    (301, _("Web forms"), "sales:lead_form_list", _can(LEAD_FORM)),
    (302, _("Lead scoring"), "sales:lead_scoring", _can(CONFIGURATION)),
    (303, _("Lead assignment"), "sales:lead_assignment", _can(CONFIGURATION)),
):
    register(NavItem(section=SALES, label=label, url_name=url_name, order=order, allowed=allowed))


# --- "Turn into a lead" from the e-mail triage --------------------------------------------------


def lead_from_email(*, actor, workspace, email) -> tuple[str, int]:
    """A lead from a triaged message: the sender's name and address, the subject and text
    as its message; the entry of the message, if any, is linked to the lead."""
    from guanxi.activities.models import TimelineEntry

    from .services.leads import create_lead

    address = (email.from_address or "").strip()
    name = (email.from_name or "").strip() or address.split("@")[0] or str(_("Unknown sender"))
    message = "\n\n".join(p for p in (email.subject, (email.body_text or "")[:9000]) if p)
    lead = create_lead(
        workspace=workspace,
        actor=actor,
        values={"name": name[:200], "email": address, "message": message},
        source=LeadSource.EMAIL,
    )
    if email.entry_id:
        TimelineEntry.objects.in_workspace(workspace).filter(pk=email.entry_id).update(
            related_object_key=LEAD, related_object_id=lead.pk
        )
    return LEAD, lead.pk


email_in.register_triage_action(
    "sales.lead", _("Turn into a lead"), lead_from_email, allowed=_can(LEAD, "create")
)


# --- customers' merges and personal data ---------------------------------------------------------


def _move_contact_leads(*, workspace, survivor, merged) -> int:
    return Lead.objects.in_workspace(workspace).filter(contact=merged).update(contact=survivor)


def _move_account_leads(*, workspace, survivor, merged) -> int:
    return Lead.objects.in_workspace(workspace).filter(account=merged).update(account=survivor)


merge.register_mover(merge.CONTACT, _move_contact_leads, name="sales.leads.contact")
merge.register_mover(merge.ACCOUNT, _move_account_leads, name="sales.leads.account")

PERSONAL_FIELDS = ("name", "company", "title", "phone", "email", "message", "city")


def _person_leads(workspace_id: int, contact):
    from django.db.models import Q

    q = Q(contact=contact)
    for value in {contact.email} - {""}:
        q |= Q(email=value)
    for value in {contact.mobile, contact.phone} - {""}:
        q |= Q(phone=value)
    return Lead.objects.in_workspace(workspace_id).filter(q)


def leads_personal_data(workspace_id: int, contact) -> dict:
    rows = _person_leads(workspace_id, contact).values(
        "id", *PERSONAL_FIELDS, "source", "campaign", "status", "created_at"
    )
    return {
        "leads": [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
            for row in rows
        ]
    }


def erase_leads(workspace_id: int, contact) -> dict:
    erased = _person_leads(workspace_id, contact).update(
        name=str(_("(erased)")),
        company="",
        title="",
        phone="",
        email="",
        message="",
        city="",
        search_text="",
        custom={},
    )
    return {"leads": erased}


privacy.register_personal_data("sales.leads", provider=leads_personal_data, eraser=erase_leads)
