"""Sign-in and account security: e-mail + password with django-axes lockout, TOTP second
step (django-otp), sign-out (here and everywhere), password change and reset, hosted
sign-up and invitation acceptance.

Every sign-in, failed sign-in, sign-out and security change writes an audit row. Failed
sign-ins record the e-mail that was tried, never the password.
"""

from __future__ import annotations

import base64
import ipaddress
import math
import time

import django_otp
import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_credentials
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth import views as django_auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from guanxi.common.errors import ApplicationError

from . import audit, services
from .auth_forms import (
    CurrentPasswordForm,
    InvitationAcceptForm,
    LocalizedPasswordResetForm,
    LoginForm,
    OneTimeCodeForm,
    PasswordChangeForm,
    SignupForm,
    apply_application_error,
)
from .models import AuditAction, Invitation, User
from .services.security import check_code

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
# A password-verified user waiting for the TOTP step: {"user_id", "backend", "next", "at", "failures"}.
PENDING_SESSION_KEY = "guanxi_pending_sign_in"
PENDING_MAX_AGE = 5 * 60
PENDING_MAX_FAILURES = 5


# --- helpers ---------------------------------------------------------------------------------


def client_ip(request: HttpRequest) -> str | None:
    """The address axes keys its lockouts on, so the audit log and the lockout agree."""
    candidate = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR")
    try:
        return str(ipaddress.ip_address(candidate)) if candidate else None
    except ValueError:
        return None


def _safe_next(request: HttpRequest, url: str | None) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def _redirect_after_sign_in(next_url: str) -> HttpResponse:
    return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


def _confirmed_device(user: User | None) -> TOTPDevice | None:
    return None if user is None else services.two_factor_device(actor=user)


def _complete_sign_in(
    request: HttpRequest, user: User, *, backend: str, device: TOTPDevice | None = None
) -> None:
    """Log the user in (rotating the session key), start the timeout clocks, audit it."""
    login(request, user, backend=backend)
    if device is not None:
        django_otp.login(request, device)
    now = int(time.time())
    request.session["signed_in_at"] = request.session["seen_at"] = now
    audit.log(
        actor=user,
        workspace=user.workspace_id,
        action=AuditAction.SIGN_IN,
        object_key="platform.user",
        object_id=user.pk,
        object_repr=str(user),
        changes={"two_factor": [None, device is not None]},
        ip_address=client_ip(request),
    )


def _audit_failed_sign_in(request: HttpRequest, email: str, *, reason: str) -> None:
    user = User.objects.filter(email__iexact=email).only("pk", "workspace_id").first()
    audit.log(
        actor=None,
        workspace=user.workspace_id if user else None,
        action=AuditAction.SIGN_IN_FAILED,
        object_key="platform.user",
        object_id=user.pk if user else "",
        object_repr=email,
        changes={"reason": [None, reason]},
        ip_address=client_ip(request),
    )


def _audit_security(request: HttpRequest, user: User, changes: dict) -> None:
    audit.log(
        actor=user,
        workspace=user.workspace_id,
        action=AuditAction.SECURITY,
        object_key="platform.user",
        object_id=user.pk,
        object_repr=str(user),
        changes=changes,
        ip_address=client_ip(request),
    )


def lockout_response(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """django-axes' answer once an e-mail address is locked from one IP address
    (``AXES_LOCKOUT_CALLABLE``). Takes any arguments: axes passes ``(request,
    original_response, credentials)`` or, in older versions, ``(request, credentials)``."""
    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else None
    return render(request, "platform/auth/locked_out.html", {"minutes": minutes}, status=429)


# --- sign in ---------------------------------------------------------------------------------


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method != "POST" and request.user.is_authenticated:
        return _redirect_after_sign_in(next_url)
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        # Through authenticate() so axes sees every attempt and refuses locked ones.
        user = authenticate(request=request, email=email, password=form.cleaned_data["password"])
        if user is None:
            locked = bool(getattr(request, "axes_locked_out", False))
            _audit_failed_sign_in(request, email, reason="locked_out" if locked else "credentials")
            form.add_error(None, _("The e-mail address or the password is not correct."))
        else:
            device = _confirmed_device(user)
            if device is None:
                _complete_sign_in(request, user, backend=user.backend)
                return _redirect_after_sign_in(next_url)
            # Password right; the second step decides. A fresh session key for it.
            request.session.cycle_key()
            request.session[PENDING_SESSION_KEY] = {
                "user_id": user.pk,
                "backend": user.backend,
                "next": next_url,
                "at": int(time.time()),
                "failures": 0,
            }
            return redirect("two_factor_verify")
    return render(
        request,
        "platform/auth/login.html",
        {
            "form": form,
            "next": next_url,
            "expired": request.GET.get("expired") == "1",
        },
    )


def _pending_user(request: HttpRequest) -> tuple[dict | None, User | None]:
    pending = request.session.get(PENDING_SESSION_KEY)
    if (
        not isinstance(pending, dict)
        or int(time.time()) - int(pending.get("at", 0)) > PENDING_MAX_AGE
    ):
        return None, None
    user = User.objects.filter(pk=pending.get("user_id"), is_active=True).first()
    return pending, user


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    pending, user = _pending_user(request)
    device = _confirmed_device(user)
    if pending is None or user is None or device is None:
        request.session.pop(PENDING_SESSION_KEY, None)
        messages.info(request, _("Please sign in again."))
        return redirect("login")
    credentials = get_credentials(user.email)
    if not AxesProxyHandler.is_allowed(request, credentials):
        request.session.pop(PENDING_SESSION_KEY, None)
        return lockout_response(request)
    form = OneTimeCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        # django-otp makes a device wait longer after each wrong code; a code sent while
        # it waits is not checked at all.
        try:
            check_code(device, form.cleaned_data["code"])
        except ApplicationError as exc:
            if exc.code == "otp_wrong":
                # A wrong code counts towards the same e-mail+IP lockout as a wrong password.
                user_login_failed.send(sender=__name__, credentials=credentials, request=request)
                _audit_failed_sign_in(request, user.email, reason="two_factor")
                pending["failures"] = int(pending.get("failures", 0)) + 1
                if pending["failures"] >= PENDING_MAX_FAILURES:
                    request.session.pop(PENDING_SESSION_KEY, None)
                    messages.error(request, _("Too many wrong codes. Please sign in again."))
                    return redirect("login")
                request.session[PENDING_SESSION_KEY] = pending
            form.add_error("code", exc.message)
        else:
            request.session.pop(PENDING_SESSION_KEY, None)
            _complete_sign_in(request, user, backend=pending["backend"], device=device)
            return _redirect_after_sign_in(_safe_next(request, pending.get("next")))
    return render(request, "platform/auth/two_factor_verify.html", {"form": form})


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_authenticated:
        audit.log(
            actor=user,
            workspace=user.workspace_id,
            action=AuditAction.SIGN_OUT,
            object_key="platform.user",
            object_id=user.pk,
            object_repr=str(user),
            ip_address=client_ip(request),
        )
        logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


# --- the signed-in user's account security ------------------------------------------------------


@login_required
@never_cache
def account_security(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "platform/auth/account_security.html",
        {"two_factor_on": _confirmed_device(request.user) is not None},
    )


@require_POST
@login_required
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every other session of this user; this one stays signed in."""
    user = services.user_sign_out_everywhere(
        actor=request.user, workspace=request.user.workspace, user_id=request.user.pk
    )
    update_session_auth_hash(request, user)
    messages.success(request, _("You were signed out on every other device."))
    return redirect("account_security")


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
@never_cache
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_change_password(
                actor=request.user,
                workspace=request.user.workspace,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ApplicationError as exc:
            apply_application_error(form, exc, {"password": "new_password1"})
        else:
            # The password is part of the session hash: other sessions end, this one stays.
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password was changed."))
            return redirect("account_security")
    return render(request, "platform/auth/password_change.html", {"form": form})


def _qr_svg(text: str) -> str:
    image = qrcode.make(
        text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=12, border=2
    )
    svg = image.to_string(encoding="unicode")
    return svg.replace("<svg ", '<svg class="qr" role="img" ', 1)


@sensitive_post_parameters("code")
@login_required
@never_cache
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if _confirmed_device(user) is not None:
        return render(
            request,
            "platform/auth/two_factor_setup.html",
            {"enabled": True, "disable_form": CurrentPasswordForm()},
        )
    device = services.two_factor_start(actor=user)
    form = OneTimeCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.two_factor_confirm(
                actor=user,
                workspace=request.workspace,
                code=form.cleaned_data["code"],
                ip_address=client_ip(request),
            )
        except ApplicationError as exc:
            form.add_error("code", exc.message)
        else:
            django_otp.login(request, device)
            messages.success(request, _("Two-step sign-in is on."))
            return redirect("account_security")
    secret = base64.b32encode(device.bin_key).decode("ascii")
    return render(
        request,
        "platform/auth/two_factor_setup.html",
        {
            "enabled": False,
            "form": form,
            # Generated here from our own data, no user input: safe to inline.
            "qr_svg": mark_safe(_qr_svg(device.config_url)),
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        },
    )


@sensitive_post_parameters("password")
@require_POST
@login_required
def two_factor_disable(request: HttpRequest) -> HttpResponse:
    form = CurrentPasswordForm(request.POST)
    if form.is_valid():
        try:
            services.two_factor_disable(
                actor=request.user,
                workspace=request.workspace,
                password=form.cleaned_data["password"],
                ip_address=client_ip(request),
            )
        except ApplicationError as exc:
            form.add_error("password", exc.message)
        else:
            messages.success(request, _("Two-step sign-in is off."))
            return redirect("account_security")
    return render(
        request,
        "platform/auth/two_factor_setup.html",
        {"enabled": True, "disable_form": form},
        status=400,
    )


# --- password reset by e-mail -------------------------------------------------------------------


class PasswordResetView(django_auth_views.PasswordResetView):
    form_class = LocalizedPasswordResetForm

    def form_valid(self, form):
        self.extra_email_context = {"valid_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)}
        return super().form_valid(form)


class PasswordResetConfirmView(django_auth_views.PasswordResetConfirmView):
    @method_decorator(transaction.atomic)
    def form_valid(self, form):
        response = super().form_valid(form)
        _audit_security(self.request, form.user, {"password": ["***", "reset by e-mail"]})
        return response


password_reset = PasswordResetView.as_view()
password_reset_done = django_auth_views.PasswordResetDoneView.as_view()
password_reset_confirm = PasswordResetConfirmView.as_view()
password_reset_complete = django_auth_views.PasswordResetCompleteView.as_view()


# --- joining: hosted sign-up and invitations ----------------------------------------------------


def _page_language() -> str:
    language = translation.get_language() or ""
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else "zh-hans"


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.GUANXI_HOSTED:
        raise Http404
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _workspace, user = services.workspace_create(
                name=data["company_name"],
                admin_email=data["email"],
                admin_name=data["full_name"],
                admin_password=data["password"],
                language=_page_language(),
            )
        except ApplicationError as exc:
            apply_application_error(form, exc, SignupForm.SERVICE_FIELDS)
        else:
            _complete_sign_in(request, user, backend=MODEL_BACKEND)
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "platform/auth/signup.html", {"form": form})


def _open_invitation(token: str) -> Invitation | None:
    return (
        Invitation.objects.across_workspaces()
        .select_related("workspace")
        .filter(
            token_hash=services.hash_secret(token),
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _open_invitation(token)
    if invitation is None:
        return render(request, "platform/auth/invitation_invalid.html", status=404)
    form = InvitationAcceptForm(
        request.POST if request.method == "POST" else None,
        initial={"full_name": invitation.full_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password"],
            )
        except ApplicationError as exc:
            apply_application_error(form, exc)
        else:
            _complete_sign_in(request, user, backend=MODEL_BACKEND)
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(
        request,
        "platform/auth/invitation_accept.html",
        {
            "form": form,
            "invitation": invitation,
            "action": reverse("invitation_accept", args=[token]),
        },
    )
