"""The leads list (the platform's list component): status, source, owner, score and
"first response overdue" filters, search over name, company, phone and e-mail, and the
first-response timer (overdue in red)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from guanxi.platform.lists import Column, Filter, ListSpec, register
from guanxi.platform.models import User

from .models import LeadSource, LeadStatus
from .objects import LEAD
from .selectors import leads as selectors


def _duration(seconds: float) -> str:
    seconds = int(abs(seconds))
    if seconds >= 86400:
        return gettext("%(d)sd %(h)sh") % {"d": seconds // 86400, "h": seconds % 86400 // 3600}
    if seconds >= 3600:
        return gettext("%(h)sh %(m)smin") % {"h": seconds // 3600, "m": seconds % 3600 // 60}
    return gettext("%(m)smin") % {"m": max(1, seconds // 60)}


def timer(lead, now=None):
    """The first-response timer as a cell: time left, or how late (in red)."""
    now = now or timezone.now()
    if lead.first_response_at is not None:
        return format_html('<span class="lead-timer done">{}</span>', gettext("Answered"))
    if lead.first_response_due_at is None or lead.status not in selectors.OPEN_STATUSES:
        return ""
    left = (lead.first_response_due_at - now).total_seconds()
    if left < 0:
        return format_html(
            '<span class="lead-timer overdue" role="status">{}</span>',
            gettext("%(time)s overdue") % {"time": _duration(left)},
        )
    return format_html(
        '<span class="lead-timer">{}</span>', gettext("%(time)s left") % {"time": _duration(left)}
    )


def _queryset(workspace, actor):
    return selectors.lead_list(workspace=workspace, actor=actor)


def _owner_choices(workspace, actor):
    """The actor first ("Mine": their own id), then the pool, then everyone else."""
    users = User.objects.filter(workspace=workspace, is_active=True).order_by("full_name")
    return [
        (str(actor.pk), gettext("Mine")),
        ("none", gettext("Unassigned")),
        *[(str(u.pk), u.full_name) for u in users if u.pk != actor.pk],
    ]


def _apply_owner(qs, value):
    if value == "none":
        return qs.filter(owner__isnull=True)
    try:
        return qs.filter(owner_id=int(value))
    except ValueError:
        return qs.none()


def _apply_status(qs, value):
    if value == "open":
        return qs.filter(status__in=selectors.OPEN_STATUSES)
    if value in LeadStatus.values:
        return qs.filter(status=value)
    return qs.none()


def _apply_source(qs, value):
    return qs.filter(source=value) if value in LeadSource.values else qs.none()


def _apply_overdue(qs, value):
    if value == "yes":
        return qs.filter(selectors.overdue_q())
    if value == "no":
        return qs.exclude(selectors.overdue_q())
    return qs


def _apply_score(qs, value):
    try:
        return qs.filter(score__gte=int(value))
    except ValueError:
        return qs.none()


def _apply_campaign(qs, value):
    return qs.filter(campaign__icontains=value)


LEADS = register(
    ListSpec(
        key="sales.leads",
        object_key=LEAD,
        title=_("Leads"),
        queryset=_queryset,
        search=selectors.search,
        columns=[
            Column("name", _("Name"), sort="name", link=True),
            Column("company", _("Company"), sort="company"),
            Column("status", _("Status"), value=lambda r: r.get_status_display(), sort="status"),
            Column("source", _("Source"), value=lambda r: r.get_source_display(), sort="source"),
            Column("campaign", _("Campaign"), default=False),
            Column("score", pgettext_lazy("lead", "Score"), sort="score", numeric=True),
            Column(
                "predicted_score",
                _("Predicted (%)"),
                sort="predicted_score",
                numeric=True,
                default=False,
            ),
            Column("owner__full_name", _("Owner"), field="owner"),
            Column("timer", _("First response"), value=timer),
            Column("phone", _("Phone"), default=False),
            Column("email", _("E-mail"), default=False),
            Column("industry", _("Industry"), default=False),
            Column("province", _("Province"), default=False),
            Column("created_at", _("Created"), sort="created_at"),
        ],
        filters=[
            Filter(
                "status",
                _("Status"),
                choices=lambda w, a: [("open", gettext("Open")), *LeadStatus.choices],
                apply=_apply_status,
            ),
            Filter(
                "source",
                _("Source"),
                choices=lambda w, a: list(LeadSource.choices),
                apply=_apply_source,
            ),
            Filter("owner", _("Owner"), choices=_owner_choices, apply=_apply_owner, field="owner"),
            Filter(
                "overdue",
                _("First response"),
                choices=lambda w, a: [("yes", gettext("Overdue")), ("no", gettext("Not overdue"))],
                apply=_apply_overdue,
            ),
            Filter(
                "score",
                _("Score at least"),
                choices=lambda w, a: [(str(n), f"≥ {n}") for n in (10, 20, 30, 50, 80)],
                apply=_apply_score,
            ),
            Filter("campaign", _("Campaign"), kind="text", apply=_apply_campaign),
        ],
        default_sort="created_at",
        default_descending=True,
        detail_url=lambda row: reverse("sales:lead_detail", args=[row.pk]),
    )
)
