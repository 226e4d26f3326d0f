"""Reads of the customer pool. Pool customers (no owner) are open to everyone who may read
the object, whatever their record visibility: that is what a pool is for."""

from __future__ import annotations

from django.db.models import QuerySet

from guanxi.platform import permissions
from guanxi.platform.models import Action, User, Workspace

from .models import Account, Contact, PoolEvent
from .services.pool import ACCOUNT, CONTACT, held_count, pool_settings_get


def pool_customers(
    *, workspace: Workspace, actor: User, object_key: str, term: str = ""
) -> QuerySet:
    """Unowned accounts, or unowned individual contacts (no account), matching ``term``."""
    columns = ["code", "name", "city", "industry", "last_activity_at", "owner_id"]
    if object_key == ACCOUNT:
        qs = Account.objects.in_workspace(workspace).filter(owner__isnull=True)
    else:
        qs = Contact.objects.in_workspace(workspace).filter(
            owner__isnull=True, account__isnull=True
        )
        columns.append("company")
    qs = qs.only(*columns)
    if not permissions.can(actor, object_key, Action.READ):
        return qs.none()
    term = (term or "").strip()[:100]
    if term:
        from . import search

        qs = search.filter_queryset(qs, term)
    return qs


def my_capacity(*, workspace: Workspace, actor: User) -> dict:
    """``{"held": N, "cap": M}`` for the "my customers: N of M" hint (cap 0 = none)."""
    return {
        "held": held_count(workspace=workspace, owner=actor),
        "cap": pool_settings_get(workspace=workspace).max_per_rep,
    }


def pool_record(*, workspace: Workspace, actor: User, object_key: str, record_id):
    """One account or contact the actor may see: by record visibility, or in the pool."""
    from guanxi.common.errors import NotFound

    model = Account if object_key == ACCOUNT else Contact
    permissions.require(actor, object_key, Action.READ)
    try:
        record = model.objects.in_workspace(workspace).select_related("owner").get(pk=record_id)
    except (model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None
    if record.owner_id is not None:
        qs = model.objects.in_workspace(workspace).filter(pk=record.pk)
        if not permissions.visible(qs, actor=actor, object_key=object_key).exists():
            raise NotFound()
    return record


def pool_events(*, workspace: Workspace, object_key: str, record) -> QuerySet:
    link = {"account": record} if object_key == ACCOUNT else {"contact": record}
    return (
        PoolEvent.objects.in_workspace(workspace)
        .filter(**link)
        .select_related("from_owner", "to_owner", "actor")
        .order_by("-id")
    )


__all__ = ["ACCOUNT", "CONTACT", "my_capacity", "pool_customers", "pool_events", "pool_record"]
