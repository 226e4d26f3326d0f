"""What the SMS and telephony adapters share: finding a provider class by name (built-in,
then a setting of dotted paths) and a workspace's active provider account of one kind."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from .models import ProviderAccount


def provider_class(builtin: dict[str, type], setting: str, name: str) -> type | None:
    """The class of provider ``name``: ``builtin`` first, then ``settings.<setting>``."""
    if name in builtin:
        return builtin[name]
    dotted = dict(getattr(settings, setting, {}) or {}).get(name)
    return import_string(dotted) if dotted else None


def provider_names(builtin: dict[str, type], setting: str) -> list[str]:
    return [*builtin, *dict(getattr(settings, setting, {}) or {})]


def active_account(workspace, kind: str) -> ProviderAccount | None:
    """The workspace's active provider account of ``kind``, or None."""
    return (
        ProviderAccount.objects.in_workspace(workspace)
        .filter(kind=kind, active=True)
        .order_by("id")
        .first()
    )
