"""The service's sections of the customer 360° page (cases, satisfaction), loaded with htmx
after the page has rendered so that the page's own query count does not grow with each part
that adds a section."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from guanxi.common.errors import NotFound
from guanxi.common.views import actor_scope, page
from guanxi.customers import sections
from guanxi.customers import selectors as customer_selectors

from . import cases_views, surveys_views

# part -> (its loader, the section's template); a loader returns the template's ``data``, or
# None (nothing to show, or no right to read it).
_PANELS = {
    "cases": (cases_views.customer_section, "service/cases/section_customer.html"),
    "satisfaction": (surveys_views.customer_section, "service/surveys/section_customer.html"),
}
_KINDS = {"account": sections.ACCOUNT, "contact": sections.CONTACT}


def panel_url(part: str):
    """The ``Section.lazy_url`` of one part's panel."""

    def url(object_key: str, record) -> str:
        kind = "account" if object_key == sections.ACCOUNT else "contact"
        return reverse("service:customer_panel", args=[kind, record.pk, part])

    return url


@page
def customer_panel(request, kind: str, customer_id: int, part: str):
    """One service section of an account's or contact's 360° page; the customer must be one
    the actor may see (another workspace's is a 404)."""
    if part not in _PANELS or kind not in _KINDS:
        raise NotFound()
    scope = actor_scope(request)
    if kind == "account":
        record = customer_selectors.account_get(**scope, account_id=customer_id)
    else:
        record = customer_selectors.contact_get(**scope, contact_id=customer_id)
    loader, template = _PANELS[part]
    data = loader(request, _KINDS[kind], record)
    if data is None:
        return HttpResponse(format_html('<p class="muted">{}</p>', gettext("Nothing yet.")))
    return render(request, template, {"data": data})
