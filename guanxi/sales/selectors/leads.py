"""Reads of the leads part: leads as the actor may see them, web forms, scoring and
assignment rules, rep profiles, engagement counts and the timeline entries about a lead."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from guanxi.activities.models import EntryContact, TimelineEntry
from guanxi.common.errors import NotFound
from guanxi.platform import permissions
from guanxi.platform.models import Action, User

from ..models import (
    AssignmentRule,
    AssignmentRuleRep,
    Lead,
    LeadForm,
    LeadScoreModel,
    LeadScoringRule,
    LeadStatus,
    RepProfile,
)
from ..objects import CONFIGURATION, LEAD, LEAD_FORM

LEAD_KEY = LEAD
OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.QUALIFIED)


def _ws(workspace) -> int:
    return getattr(workspace, "pk", workspace)


# --- leads -----------------------------------------------------------------------------------


def lead_list(*, workspace, actor: User) -> QuerySet:
    """The leads the actor may see: by their visibility, plus the pool (unassigned leads),
    which everyone who may read leads sees, so that someone can take them."""
    base = Lead.objects.in_workspace(workspace)
    if not permissions.can(actor, LEAD, Action.READ):
        return base.none()
    visible = permissions.visible(base, actor=actor, object_key=LEAD)
    if permissions.visibility_for(actor, LEAD) == "all":
        return visible.select_related("owner")
    return base.filter(Q(owner__isnull=True) | Q(pk__in=visible.values("pk"))).select_related(
        "owner"
    )


def lead_get(*, workspace, actor: User, lead_id) -> Lead:
    try:
        lead_id = int(lead_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    lead = (
        lead_list(workspace=workspace, actor=actor)
        .select_related("owner__team", "form", "account", "contact", "deal")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise NotFound()
    return lead


def search(qs: QuerySet, term: str) -> QuerySet:
    """Search the lower-cased name, company, phone digits and e-mail."""
    term = (term or "").strip().lower()
    if not term:
        return qs
    digits = "".join(ch for ch in term if ch.isdigit())
    q = Q(search_text__contains=term)
    if digits and len(digits) >= 4 and digits != term:
        q |= Q(search_text__contains=digits)
    return qs.filter(q)


def overdue_q(now=None) -> Q:
    """Leads whose first response is late: assigned, unanswered, due in the past."""
    now = now or timezone.now()
    return Q(
        first_response_at__isnull=True,
        first_response_due_at__lt=now,
        status__in=OPEN_STATUSES,
    )


def is_overdue(lead: Lead, now=None) -> bool:
    now = now or timezone.now()
    return (
        lead.first_response_at is None
        and lead.first_response_due_at is not None
        and lead.first_response_due_at < now
        and lead.status in OPEN_STATUSES
    )


def lead_entries(*, workspace, lead: Lead, limit: int = 50) -> list[TimelineEntry]:
    """The timeline entries about this lead, newest first (their authors loaded)."""
    return list(
        TimelineEntry.objects.in_workspace(workspace)
        .filter(related_object_key=LEAD, related_object_id=lead.pk)
        .select_related("author")
        .order_by("-occurred_at", "-id")[:limit]
    )


def engagement_counts(*, workspace, leads: list[Lead]) -> dict[int, dict[str, int]]:
    """Per lead: ``activities`` (entries that are not system events), ``replies`` (inbound
    e-mails) and ``visits`` — about the lead, and once converted, about its contact.
    Two grouped queries for any number of leads."""
    counts: dict[int, dict[str, int]] = defaultdict(
        lambda: {"activities": 0, "replies": 0, "visits": 0}
    )
    ids = [lead.pk for lead in leads if lead.pk]
    if not ids:
        return counts
    entries = TimelineEntry.objects.in_workspace(workspace).exclude(kind="system")
    rows = (
        entries.filter(related_object_key=LEAD, related_object_id__in=ids)
        .values("related_object_id")
        .annotate(
            activities=Count("id"),
            replies=Count("id", filter=Q(kind="email", direction="in")),
            visits=Count("id", filter=Q(kind="visit")),
        )
    )
    for row in rows:
        counts[row["related_object_id"]] = {
            "activities": row["activities"],
            "replies": row["replies"],
            "visits": row["visits"],
        }
    by_contact = {lead.contact_id: lead.pk for lead in leads if lead.contact_id}
    if by_contact:
        # The contact's entries that are not already about the lead (moved ones are).
        rows = (
            EntryContact.objects.in_workspace(workspace)
            .filter(contact_id__in=list(by_contact))
            .exclude(entry__kind="system")
            .exclude(entry__related_object_key=LEAD)
            .values("contact_id")
            .annotate(
                activities=Count("entry_id"),
                replies=Count("entry_id", filter=Q(entry__kind="email", entry__direction="in")),
                visits=Count("entry_id", filter=Q(entry__kind="visit")),
            )
        )
        for row in rows:
            c = counts[by_contact[row["contact_id"]]]
            for key in ("activities", "replies", "visits"):
                c[key] += row[key]
    return counts


def open_lead_counts(*, workspace, user_ids) -> dict[int, int]:
    rows = (
        Lead.objects.in_workspace(workspace)
        .filter(owner_id__in=list(user_ids), status__in=OPEN_STATUSES)
        .values("owner_id")
        .annotate(n=Count("id"))
    )
    counts = {uid: 0 for uid in user_ids}
    counts.update({row["owner_id"]: row["n"] for row in rows})
    return counts


# --- web forms -------------------------------------------------------------------------------


def lead_form_list(*, workspace, actor: User) -> QuerySet:
    if not permissions.can(actor, LEAD_FORM, Action.READ):
        return LeadForm.objects.none()
    return LeadForm.objects.in_workspace(workspace).order_by("name", "id")


def lead_form_get(*, workspace, actor: User, form_id) -> LeadForm:
    try:
        form_id = int(form_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    form = lead_form_list(workspace=workspace, actor=actor).filter(pk=form_id).first()
    if form is None:
        raise NotFound()
    return form


def public_form(public_key: str) -> LeadForm | None:
    """The active form behind a public embed key (any workspace: the key is the secret)."""
    if not public_key or len(public_key) > 32:
        return None
    return (
        LeadForm.objects.across_workspaces()
        .filter(public_key=public_key, active=True)
        .select_related("workspace")
        .first()
    )


# --- configuration ---------------------------------------------------------------------------


def _config(actor: User):
    if not permissions.can(actor, CONFIGURATION, Action.READ):
        raise NotFound()


def scoring_rules(*, workspace, actor: User | None = None) -> QuerySet:
    if actor is not None:
        _config(actor)
    return LeadScoringRule.objects.in_workspace(workspace).order_by("kind", "attribute", "id")


def assignment_rules(*, workspace, actor: User | None = None) -> list[AssignmentRule]:
    """The rules in order, each with ``rep_list`` (users, by name)."""
    if actor is not None:
        _config(actor)
    rules = list(AssignmentRule.objects.in_workspace(workspace).order_by("order", "id"))
    links = (
        AssignmentRuleRep.objects.in_workspace(workspace)
        .filter(rule_id__in=[r.pk for r in rules])
        .select_related("user")
        .order_by("user_id")
    )
    by_rule: dict[int, list[User]] = defaultdict(list)
    for link in links:
        by_rule[link.rule_id].append(link.user)
    for rule in rules:
        rule.rep_list = by_rule.get(rule.pk, [])
    return rules


def rep_profiles(*, workspace, actor: User | None = None) -> list[tuple[User, RepProfile | None]]:
    """Every active user of the workspace with their profile (or none yet)."""
    if actor is not None:
        _config(actor)
    users = list(
        User.objects.filter(workspace_id=_ws(workspace), is_active=True).order_by("full_name", "id")
    )
    profiles = {p.user_id: p for p in RepProfile.objects.in_workspace(workspace)}
    return [(u, profiles.get(u.pk)) for u in users]


def active_model(*, workspace) -> LeadScoreModel | None:
    return (
        LeadScoreModel.objects.in_workspace(workspace)
        .filter(active=True)
        .order_by("-trained_at", "-id")
        .first()
    )
