"""Consent and personal-data pages: the consent panel of a contact's 360° page (lazy,
htmx), the per-person export (readable page and JSON download) and erasure."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, PermissionDenied
from guanxi.common.views import error_message, page
from guanxi.platform import permissions

from . import selectors
from .models import ConsentMethod, ConsentPurpose, ConsentStatus
from .services import consent, privacy

CONTACT = "customers.contact"


def _contact_url(pk: int) -> str:
    try:
        return reverse("customers:contact_detail", args=[pk])
    except NoReverseMatch:
        return reverse("customers:contact_personal_data", args=[pk])


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[(c.value, c.label) for c in consent.CONSENT_CHANNELS]
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=ConsentPurpose.choices)
    status = forms.ChoiceField(label=_("Answer"), choices=ConsentStatus.choices)
    method = forms.ChoiceField(label=_("How it was given"), choices=ConsentMethod.choices)
    notice_version = forms.CharField(label=_("Notice version"), max_length=40, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def apply_error(self, exc: ApplicationError) -> None:
        message = error_message(exc)
        placed = False
        for field, msgs in exc.fields.items():
            if field in self.fields:
                for msg in msgs:
                    self.add_error(field, str(msg))
                placed = True
        if not placed:
            self.add_error(None, message)


@page
def contact_consent_panel(request, pk: int):
    """GET: the channel × purpose grid with the history; POST: record a change."""
    contact = selectors.contact_get(workspace=request.workspace, actor=request.user, contact_id=pk)
    if "consent" in permissions.hidden_fields(request.user, CONTACT):
        raise PermissionDenied(_("Your role may not see consent."))
    form = ConsentForm(request.POST or None)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            consent.consent_record(
                actor=request.user,
                workspace=request.workspace,
                contact_id=contact.pk,
                **form.cleaned_data,
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            saved = True
            form = ConsentForm()
    context = {
        "contact": contact,
        "grid": consent.consent_grid(contact),
        "purposes": ConsentPurpose.choices,
        "history": consent.consent_history(workspace=request.workspace, contact=contact, limit=50),
        "form": form,
        "saved": saved,
        "can_record": permissions.can(request.user, CONTACT, "update")
        and "consent" not in permissions.read_only_fields(request.user, CONTACT)
        and contact.erased_at is None,
        "can_export": permissions.can(request.user, CONTACT, "export"),
    }
    if request.htmx:
        return render(request, "customers/panel_consent.html", context)
    return render(request, "customers/consent.html", context)


@page
def contact_personal_data(request, pk: int):
    """Everything held about one person: a readable page, or ``?format=json`` to download."""
    data = privacy.contact_personal_data(
        actor=request.user, workspace=request.workspace, contact_id=pk
    )
    if request.GET.get("format") == "json":
        response = HttpResponse(
            json.dumps(data, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="personal-data-{data["code"]}.json"'
        )
        return response
    return render(
        request,
        "customers/privacy_data.html",
        {
            "data": data,
            "fields": sorted(data["fields"].items()),
            "can_erase": permissions.can(request.user, CONTACT, "delete")
            and data["fields"].get("erased_at") is None,
            "contact_url": _contact_url(pk),
        },
    )


class EraseForm(forms.Form):
    reason = forms.CharField(
        label=_("Why (for example, the person's request and its date)"), max_length=200
    )


@page
def contact_erase(request, pk: int):
    """GET: what erasure does, and a form; POST: erase."""
    permissions.require(request.user, CONTACT, "delete")
    contact = selectors.contact_get(workspace=request.workspace, actor=request.user, contact_id=pk)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            privacy.contact_erase(
                actor=request.user,
                workspace=request.workspace,
                contact_id=pk,
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            form.add_error(None, error_message(exc))
        else:
            messages.success(request, gettext("The person's personal data was erased."))
            return redirect(_contact_url(pk))
    return render(request, "customers/privacy_erase.html", {"contact": contact, "form": form})
