"""The calls part's forms: the telephony provider, a simulated incoming call, the call
log's filters and the new-caller form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.integrations import telephony

from .models import AgentProfile
from .services import telephony as services


class TelephonyProviderForm(forms.Form):
    provider = forms.ChoiceField(label=_("Telephony provider"))
    url = forms.CharField(
        label=_("Call centre address"),
        required=False,
        max_length=services.URL_MAX,
        help_text=_(
            "Where click-to-call requests are POSTed as JSON {agent, number, id}, signed "
            "with the secret."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(telephony.PROVIDER_CHOICES)
        self.fields["provider"].choices = [
            (name, labels.get(name, name)) for name in telephony.provider_names()
        ]


class SimulateForm(forms.Form):
    caller = forms.CharField(label=_("Caller's number"), max_length=40)
    agent = forms.TypedChoiceField(label=_("Agent"), coerce=int)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [
            (p.user_id, f"{p.user.full_name} ({p.phone_extension})")
            for p in AgentProfile.objects.in_workspace(workspace)
            .exclude(phone_extension="")
            .select_related("user")
            .order_by("phone_extension", "id")[:200]
        ]


class CallFilterForm(forms.Form):
    agent = forms.TypedChoiceField(label=_("Agent"), required=False, coerce=int, empty_value=None)
    direction = forms.ChoiceField(
        label=_("Direction"),
        required=False,
        choices=[
            ("", pgettext_lazy("call directions", "All")),
            ("in", _("Incoming")),
            ("out", _("Outgoing")),
        ],
    )
    outcome = forms.CharField(label=_("Outcome"), required=False, max_length=40)
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, agents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [("", pgettext_lazy("agents", "All"))] + [
            (u.pk, u.full_name) for u in agents
        ]


class NewCallerForm(forms.Form):
    phone = forms.CharField(label=_("Number"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=100)
    company = forms.CharField(
        label=_("Company"),
        required=False,
        max_length=200,
        help_text=_("Empty for a private customer."),
    )
    open_case = forms.BooleanField(label=_("Open a case for this call next"), required=False)
    call = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
