"""The channels part's forms: the SMS provider, a test text, the inbound settings, and the
SMS list's filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.activities.models import Mailbox
from guanxi.integrations import sms
from guanxi.integrations.models import SmsDirection, SmsState

from .models import CaseType
from .services import channels


class ProviderForm(forms.Form):
    provider = forms.ChoiceField(label=_("SMS provider"))
    send_url = forms.CharField(
        label=_("Gateway address"),
        required=False,
        max_length=channels.SEND_URL_MAX,
        help_text=_("Where texts are POSTed as JSON {to, text, id}, signed with the secret."),
    )
    sender = forms.CharField(
        label=_("Sender name or number"), required=False, max_length=channels.SENDER_MAX
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(sms.PROVIDER_CHOICES)
        self.fields["provider"].choices = [
            (name, labels.get(name, name)) for name in sms.provider_names()
        ]


class TestSmsForm(forms.Form):
    phone = forms.CharField(label=_("Mobile number"), max_length=40)
    body = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=sms.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Empty: a short standard test text."),
    )


class InboundForm(forms.Form):
    case_mailbox_ids = forms.TypedMultipleChoiceField(
        label=_("Mailboxes that open a case for every new message"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "For a support address: each new message becomes a case. Replies to a case "
            "join their case from any mailbox."
        ),
    )
    inbound_case_type = forms.TypedChoiceField(
        label=_("Type of cases from e-mail and SMS"),
        required=False,
        coerce=int,
        empty_value=None,
    )
    sms_thread_days = forms.IntegerField(
        label=_("Days a text joins the customer's open case"),
        min_value=1,
        max_value=channels.THREAD_DAYS_MAX,
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_mailbox_ids"].choices = [
            (m.pk, f"{m.name} <{m.address}>")
            for m in Mailbox.objects.in_workspace(workspace).order_by("name", "id")
        ]
        self.fields["inbound_case_type"].choices = [("", _("Inquiry (the default)"))] + [
            (t.pk, t.name)
            for t in CaseType.objects.in_workspace(workspace)
            .filter(active=True)
            .order_by("position", "id")
        ]


class SmsFilterForm(forms.Form):
    direction = forms.ChoiceField(
        required=False,
        choices=[(SmsDirection.OUTBOUND, _("Outbox")), (SmsDirection.INBOUND, _("Inbox"))],
    )
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", pgettext_lazy("sms states", "All")), *SmsState.choices],
    )
    phone = forms.CharField(label=_("Number"), required=False, max_length=40)
