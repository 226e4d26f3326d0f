"""The deals list (``sales.deals``): the platform's list component (sort, filter, keyset
pages, saved views, export) over the deals the actor may see."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.platform.lists import Column, Filter, ListSpec, register
from guanxi.platform.models import User, Workspace

from .models import DealStatus, Pipeline, Stage
from .objects import DEAL
from .selectors import deals as selectors


def _deals(workspace, actor):
    return selectors.deal_list(workspace=workspace, actor=actor)


def _customer(deal) -> str:
    if deal.account_id:
        return deal.account.name
    return deal.contact.name if deal.contact_id else ""


def _int_filter(field):
    def apply(qs, value):
        return qs.filter(**{field: int(value)}) if str(value).isdigit() else qs

    return apply


def _status(qs, value):
    return qs.filter(status=value) if value in DealStatus.values else qs


def _stale(qs, value):
    """Open deals quiet for the workspace's stale period (one small query reads which
    workspace the list is in: a filter gets only the queryset)."""
    if value not in ("1", "true", "on"):
        return qs
    workspace_id = qs.order_by().values_list("workspace_id", flat=True).first()
    if workspace_id is None:
        return qs
    workspace = Workspace.objects.get(pk=workspace_id)
    return qs.filter(selectors.stale_q(selectors.stale_cutoff(workspace)))


def _close_from(qs, value):
    try:
        return qs.filter(expected_close_date__gte=dt.date.fromisoformat(value))
    except ValueError:
        return qs


def _close_to(qs, value):
    try:
        return qs.filter(expected_close_date__lte=dt.date.fromisoformat(value))
    except ValueError:
        return qs


def _search(qs, term):
    term = term.strip()
    if not term:
        return qs
    return qs.filter(Q(name__icontains=term) | Q(account__name__icontains=term))


def _pipelines(workspace, actor):
    return [(str(p.pk), p.name) for p in Pipeline.objects.in_workspace(workspace).order_by("order")]


def _stages(workspace, actor):
    return [
        (str(s.pk), f"{s.pipeline.name} · {s.name}")
        for s in Stage.objects.in_workspace(workspace)
        .select_related("pipeline")
        .order_by("pipeline__order", "pipeline_id", "order")
    ]


def _owners(workspace, actor):
    return [
        (str(u.pk), u.full_name or u.email)
        for u in User.objects.filter(workspace=workspace, is_active=True).order_by("full_name")
    ]


DEALS = register(
    ListSpec(
        key="sales.deals",
        object_key=DEAL,
        title=_("Deals"),
        queryset=_deals,
        search=_search,
        columns=[
            Column("name", _("Name"), sort="name", link=True),
            Column("customer", _("Customer"), value=_customer),
            Column("pipeline", _("Pipeline"), value=lambda d: d.pipeline.name, default=False),
            Column("stage", _("Stage"), value=lambda d: d.stage.name),
            Column("status", _("Status"), value=lambda d: d.get_status_display()),
            Column("amount", _("Amount"), sort="amount", numeric=True),
            Column("currency", _("Currency"), default=False),
            Column("amount_base", _("Amount (base)"), sort="amount_base", numeric=True),
            Column("probability", _("Probability (%)"), numeric=True, default=False),
            Column("expected_close_date", _("Expected close"), sort="expected_close_date"),
            Column("owner", _("Owner"), value=lambda d: d.owner.full_name if d.owner_id else ""),
            Column(
                "stage_changed_at",
                _("In this stage since"),
                value=lambda d: timezone.localtime(d.stage_changed_at).date(),
                sort="stage_changed_at",
                default=False,
            ),
        ],
        filters=[
            Filter("pipeline", _("Pipeline"), choices=_pipelines, apply=_int_filter("pipeline_id")),
            Filter("stage", _("Stage"), choices=_stages, apply=_int_filter("stage_id")),
            Filter("owner", _("Owner"), choices=_owners, apply=_int_filter("owner_id")),
            Filter(
                "status", _("Status"), choices=lambda w, a: list(DealStatus.choices), apply=_status
            ),
            Filter("close_from", _("Closing from"), kind="date_from", apply=_close_from),
            Filter("close_to", _("Closing until"), kind="date_to", apply=_close_to),
            Filter("stale", _("Stale only"), kind="bool", apply=_stale),
            Filter("account", _("Account"), kind="text", apply=_int_filter("account_id")),
            Filter("contact", _("Contact"), kind="text", apply=_int_filter("contact_id")),
        ],
        default_sort="expected_close_date",
        detail_url=lambda row: reverse("sales:deal_detail", args=[row.pk]),
    )
)
