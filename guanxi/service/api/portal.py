"""The portal's staff endpoints: ``/service/portal/deflection`` (how many portal searches
ended without a case, by day, with content gaps and helpful articles) and
``/service/portal/settings``. The portal itself is pages (``/portal/<slug>/``): customers
get no API tokens."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema

from guanxi.common.api import Id, PatchSchema
from guanxi.common.api import responses as documented
from guanxi.common.api import text as bounded_text
from guanxi.common.views import actor_scope
from guanxi.platform import permissions
from guanxi.platform.models import Action

from ..objects import CONFIGURATION
from ..selectors import portal as selectors
from ..services import portal as services

router = Router(tags=["service"])
TAGS = ["Service portal"]


# --- schemas ---------------------------------------------------------------------------------


class DeflectionFilters(Schema):
    date_from: dt.date | None = Field(
        None, alias="from", description="First day (the workspace's time zone); 30 days ago."
    )
    date_to: dt.date | None = Field(None, alias="to", description="Last day, included; today.")


class DeflectionDayOut(Schema):
    day: dt.date
    searches: int
    deflected: int
    rate: float | None = Field(..., description="deflected / searches; null without searches.")


class ContentGapOut(Schema):
    query: str = Field(..., description="Lower case.")
    searches: int


class HelpfulArticleOut(Schema):
    id: int
    title: str
    yes: int = Field(..., description='Searches whose visitor answered "it helped".')
    no: int


class DeflectionOut(Schema):
    date_from: dt.date = Field(..., alias="from")
    date_to: dt.date = Field(..., alias="to")
    searches: int = Field(..., description="Portal searches (and case-form suggestions).")
    deflected: int = Field(
        ..., description="Searches whose visitor filed no case within 24 hours after them."
    )
    rate: float | None
    pending: int = Field(
        ..., description="Deflected searches younger than 24 hours (may still end in a case)."
    )
    cases: int = Field(..., description="Cases filed with searches of the period linked.")
    no_result_searches: int
    days: list[DeflectionDayOut]
    content_gaps: list[ContentGapOut] = Field(..., description="Top queries that found nothing.")
    helpful_articles: list[HelpfulArticleOut]

    model_config = {"populate_by_name": True}


class PortalSettingsOut(Schema):
    enabled: bool
    welcome: str
    case_type_ids: list[int] = Field(
        ..., description="Case types customers may file; empty: every active type."
    )
    portal_url: str


class PortalSettingsPatch(PatchSchema):
    enabled: bool | None = None
    welcome: bounded_text(5000) | None = None
    case_type_ids: list[Id] | None = Field(None, max_length=100)


def _settings_out(workspace) -> dict:
    from django.urls import reverse

    row = services.portal_settings(workspace)
    return {
        "enabled": row.enabled,
        "welcome": row.welcome,
        "case_type_ids": list(row.case_type_ids or []),
        "portal_url": reverse("portal:home", args=[workspace.slug]),
    }


# --- endpoints -------------------------------------------------------------------------------


@router.get(
    "/service/portal/deflection",
    response=documented(DeflectionOut),
    tags=TAGS,
    operation_id="service_portal_deflection",
    by_alias=True,
    summary="Portal searches and how many ended without a case, by day",
    description=(
        "A search is deflected when the same visitor (the same browser, or the same "
        "signed-in contact) filed no case within 24 hours after it. Days are the "
        "workspace's; at most 366 of them."
    ),
)
def portal_deflection(request, filters: Query[DeflectionFilters]):
    report = selectors.deflection_report(
        **actor_scope(request), date_from=filters.date_from, date_to=filters.date_to
    )
    return {
        "from": report.date_from,
        "to": report.date_to,
        "searches": report.searches,
        "deflected": report.deflected,
        "rate": report.rate,
        "pending": report.pending,
        "cases": report.cases,
        "no_result_searches": report.no_result_searches,
        "days": [
            {"day": d.day, "searches": d.searches, "deflected": d.deflected, "rate": d.rate}
            for d in report.days
        ],
        "content_gaps": report.content_gaps,
        "helpful_articles": report.helpful_articles,
    }


@router.get(
    "/service/portal/settings",
    response=documented(PortalSettingsOut),
    tags=TAGS,
    operation_id="service_portal_settings_get",
    summary="The portal's settings",
)
def portal_settings_get(request):
    permissions.require(request.user, CONFIGURATION, Action.READ)
    return _settings_out(request.workspace)


@router.patch(
    "/service/portal/settings",
    response=documented(PortalSettingsOut),
    tags=TAGS,
    operation_id="service_portal_settings_update",
    summary="Open or close the portal, its welcome text, the case types customers may file",
)
def portal_settings_update(request, payload: PortalSettingsPatch):
    services.portal_settings_update(**actor_scope(request), **payload.changes())
    return _settings_out(request.workspace)
