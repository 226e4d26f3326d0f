"""Forms of the sign-in and account-security pages.

The forms only check the shape of the input; rules that belong to the domain (password
strength, duplicate e-mail, invitation validity) are the services' and reach the form
through ``apply_application_error``.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError


def apply_application_error(
    form: forms.Form, exc: ApplicationError, field_map: dict[str, str] | None = None
) -> None:
    """Show a service's error on ``form``: its message on top, its field messages beside
    the fields (``field_map`` renames service field names to form field names)."""
    form.add_error(None, str(exc.message))
    for name, messages in exc.fields.items():
        target = (field_map or {}).get(name, name)
        if target in form.fields:
            for message in messages:
                form.add_error(target, str(message))


def _password_widget(autocomplete: str) -> forms.PasswordInput:
    return forms.PasswordInput(attrs={"autocomplete": autocomplete})


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=_password_widget("current-password"),
    )

    def clean_email(self) -> str:
        # One spelling per address, so "A@x.com" and "a@x.com" share one lockout counter.
        return self.cleaned_data["email"].strip().lower()


class OneTimeCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "pattern": "[0-9 ]*",
            }
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].replace(" ", "")
        if not code.isdigit() or len(code) not in (6, 8):
            raise forms.ValidationError(_("Enter the 6-digit code shown in your app."))
        return code


class CurrentPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("Your current password"),
        strip=False,
        max_length=4096,
        widget=_password_widget("current-password"),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        max_length=4096,
        widget=_password_widget("current-password"),
    )
    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=4096,
        widget=_password_widget("new-password"),
        help_text=_("At least 10 characters; not a common password and not only digits."),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        strip=False,
        max_length=4096,
        widget=_password_widget("new-password"),
    )

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("new_password1"), cleaned.get("new_password2")
        if first and second and first != second:
            self.add_error("new_password2", _("The two passwords do not match."))
        return cleaned


class SignupForm(forms.Form):
    company_name = forms.CharField(
        label=_("Company name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization", "autofocus": True}),
    )
    full_name = forms.CharField(
        label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("E-mail"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=_password_widget("new-password"),
        help_text=_("At least 10 characters; not a common password and not only digits."),
    )

    # service field name -> form field name
    SERVICE_FIELDS = {"name": "company_name", "email": "email", "password": "password"}


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(
        label=_("Your name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        max_length=4096,
        widget=_password_widget("new-password"),
        help_text=_("At least 10 characters; not a common password and not only digits."),
    )


class LocalizedPasswordResetForm(PasswordResetForm):
    """Django's reset form, writing each mail in the language the user chose (or the
    language of the page the request came from)."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        from django.template import loader

        from .mail import queue_email

        user = context.get("user")
        language = (getattr(user, "language", "") or translation.get_language()) or "en"
        with translation.override(language):
            subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
            body = loader.render_to_string(email_template_name, context)
            html = (
                loader.render_to_string(html_email_template_name, context)
                if html_email_template_name
                else None
            )
        # Rendered here, sent by the worker: the request never waits on the mail server.
        queue_email(subject=subject, body=body, to=[to_email], from_email=from_email, html=html)
