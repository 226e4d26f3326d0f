"""Sections of the customer 360° page, and the registry other apps add theirs to.

An app that holds something about a customer (activities, deals, cases, campaigns)
registers a ``Section`` from its ``AppConfig.ready``: either a ``loader`` that returns the
section's template context (``None`` hides the section: no empty placeholders) or a
``lazy_url`` that the page loads with htmx after it has rendered (``None`` hides it too).
Loaders must run a fixed number of queries whatever the customer's size; the page's query
count is tested.

    sections.register(Section(
        key="sales.open_deals", title=_("Open deals"), object_keys=(ACCOUNT, CONTACT),
        template="sales/section_deals.html", loader=open_deals_for, order=300))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from guanxi.platform import permissions

ACCOUNT = "customers.account"
CONTACT = "customers.contact"


@dataclass(frozen=True)
class Section:
    key: str
    title: str | Promise
    object_keys: tuple[str, ...]
    order: int = 100
    # (request, object_key, record) -> context for ``template``, or None to hide.
    loader: Callable[[Any, str, Any], dict | None] | None = None
    template: str = ""
    # (object_key, record) -> URL of an htmx panel loaded after the page, or None to hide.
    lazy_url: Callable[[str, Any], str | None] | None = None
    # (user) -> bool: whether the section is shown to this user at all.
    allowed: Callable[[Any], bool] | None = None
    wide: bool = False


_sections: dict[str, Section] = {}


def register(section: Section) -> Section:
    _sections[section.key] = section
    return section


def for_record(request, object_key: str, record) -> list[dict]:
    """The sections to show on one customer's page, in order, each with its context or
    its lazy URL; hidden ones are left out."""
    out = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.key)):
        if object_key not in section.object_keys:
            continue
        if section.allowed is not None and not section.allowed(request.user):
            continue
        if section.lazy_url is not None:
            url = section.lazy_url(object_key, record)
            if url:
                out.append({"section": section, "lazy_url": url})
            continue
        if section.loader is not None:
            context = section.loader(request, object_key, record)
            if context is not None:
                out.append({"section": section, "context": context})
    return out


def _url(name: str, *args) -> str | None:
    """A panel's URL, or None while the part that serves it is not installed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _consent_url(object_key: str, record) -> str | None:
    return _url("customers:contact_consent_panel", record.pk)


def _duplicates_url(object_key: str, record) -> str | None:
    return _url(
        "customers:record_duplicates_panel",
        "account" if object_key == ACCOUNT else "contact",
        record.pk,
    )


register(
    Section(
        key="customers.consent",
        title=_("Consent"),
        object_keys=(CONTACT,),
        order=50,
        lazy_url=_consent_url,
        allowed=lambda user: "consent" not in permissions.hidden_fields(user, CONTACT),
    )
)
register(
    Section(
        key="customers.duplicates",
        title=_("Possible duplicates"),
        object_keys=(ACCOUNT, CONTACT),
        order=60,
        lazy_url=_duplicates_url,
    )
)
