"""Forms of the e-mail pages. They check shapes only; the services check the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError
from guanxi.common.views import error_message
from guanxi.platform.models import User

from .models import EmailPurpose
from .services.email_templates import LANGUAGES, PLACEHOLDERS


class ServiceErrorsMixin:
    def apply_error(self, exc: ApplicationError) -> None:
        message = error_message(exc)
        placed = False
        for field, msgs in exc.fields.items():
            name = field.removesuffix("_id") if field.removesuffix("_id") in self.fields else field
            if name in self.fields:
                for msg in msgs:
                    self.add_error(name, str(msg))
                placed = True
        if not placed:
            self.add_error(None, message)


class ComposeForm(ServiceErrorsMixin, forms.Form):
    contact = forms.TypedChoiceField(
        label=_("To (contact)"), coerce=int, required=False, empty_value=None
    )
    to = forms.CharField(
        label=_("E-mail addresses"),
        max_length=2000,
        required=False,
        help_text=_("Separated by commas. Empty: the contact's addresses."),
    )
    cc = forms.CharField(label=_("Cc"), max_length=2000, required=False)
    template = forms.TypedChoiceField(
        label=_("Template"), coerce=int, required=False, empty_value=None
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"),
        choices=EmailPurpose.choices,
        initial=EmailPurpose.SERVICE,
        help_text=_(
            "Marketing mail needs the contact's consent; one-to-one service mail does not."
        ),
    )
    subject = forms.CharField(label=_("Subject"), max_length=300, required=False)
    body = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 12}), required=False
    )
    in_reply_to = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, contacts=(), templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].choices = [("", "—")] + [
            (c.pk, f"{c.name} <{c.email}>" if c.email else c.name) for c in contacts
        ]
        self.fields["template"].choices = [("", "—")] + [(t.pk, t.name) for t in templates]


class TemplateForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGES)
    purpose = forms.ChoiceField(label=_("Purpose"), choices=EmailPurpose.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 12}),
        max_length=20000,
        help_text=_("Placeholders: %(names)s")
        % {"names": ", ".join(f"{{{{ {p} }}}}" for p in PLACEHOLDERS)},
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class MailboxForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    address = forms.EmailField(
        label=_("Address"), help_text=_("Replies to the e-mail we send come back here.")
    )
    host = forms.CharField(label=_("IMAP server"), max_length=200)
    port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, initial=993)
    use_ssl = forms.BooleanField(label=_("Use SSL/TLS"), required=False, initial=True)
    username = forms.CharField(label=_("User name"), max_length=200)
    password = forms.CharField(
        label=_("Password"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Never shown again. Leave empty to keep the current one."),
    )
    folder = forms.CharField(label=_("Folder"), max_length=200, initial="INBOX")
    triage_owner = forms.TypedChoiceField(
        label=_("Triage owner"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Who files messages from unknown senders."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        users = User.objects.filter(workspace=workspace, is_active=True).order_by("full_name")
        self.fields["triage_owner"].choices = [("", "—")] + [(u.pk, u.full_name) for u in users]

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        data["triage_owner_id"] = data.pop("triage_owner")
        return data


class FileForm(ServiceErrorsMixin, forms.Form):
    contact = forms.IntegerField(required=False, widget=forms.HiddenInput)
    account = forms.IntegerField(required=False, widget=forms.HiddenInput)
    add_address = forms.BooleanField(
        label=_("Add the sender's address to this contact"), required=False
    )
