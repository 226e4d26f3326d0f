"""A user's second sign-in factor (TOTP, django-otp)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from guanxi.common.errors import ApplicationError

from .. import audit
from ..models import AuditAction, User, Workspace

WRONG_CODE = _("This code is not correct or has expired.")
THROTTLED = _("Too many wrong codes in a row. Wait a few seconds and try again.")


def _log(actor: User, workspace: Workspace, change: list, ip_address: str | None) -> None:
    audit.log(
        actor=actor,
        workspace=workspace,
        action=AuditAction.SECURITY,
        object_key="platform.user",
        object_id=actor.pk,
        object_repr=str(actor),
        changes={"two_factor": change},
        ip_address=ip_address,
    )


def two_factor_device(*, actor: User) -> TOTPDevice | None:
    """The actor's confirmed device, if two-step sign-in is on."""
    return TOTPDevice.objects.filter(user=actor, confirmed=True).order_by("pk").first()


def two_factor_start(*, actor: User) -> TOTPDevice:
    """The unconfirmed device whose secret the setup page shows (made once, then reused)."""
    device = TOTPDevice.objects.filter(user=actor, confirmed=False).order_by("-pk").first()
    return device or TOTPDevice.objects.create(user=actor, name="guanxi", confirmed=False)


def check_code(device: TOTPDevice, code: str) -> None:
    """Raise a field error unless ``code`` is the device's current one (wrong codes in a
    row slow down further tries; a code works once)."""
    allowed, _details = device.verify_is_allowed()
    if not allowed:
        raise ApplicationError(THROTTLED, code="otp_throttled", fields={"code": [THROTTLED]})
    if not device.verify_token(code):
        raise ApplicationError(WRONG_CODE, code="otp_wrong", fields={"code": [WRONG_CODE]})


def two_factor_confirm(
    *, actor: User, workspace: Workspace, code: str, ip_address: str | None = None
) -> TOTPDevice:
    """Turn two-step sign-in on once the user typed a code from their app."""
    device = two_factor_start(actor=actor)
    check_code(device, code)
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=actor, confirmed=False).delete()
        _log(actor, workspace, ["off", "on"], ip_address)
    return device


def two_factor_disable(
    *, actor: User, workspace: Workspace, password: str, ip_address: str | None = None
) -> None:
    """Turn two-step sign-in off; the current password is required."""
    if not actor.check_password(password or ""):
        message = _("Your current password is not correct.")
        raise ApplicationError(message, code="wrong_password", fields={"password": [message]})
    with transaction.atomic():
        TOTPDevice.objects.filter(user=actor).delete()
        _log(actor, workspace, ["on", "off"], ip_address)
