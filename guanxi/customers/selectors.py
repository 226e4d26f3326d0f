"""Reads of customers. Every selector takes the workspace and the actor, applies rights and
record visibility, and returns querysets with their joins done."""

from __future__ import annotations

from django.db.models import QuerySet

from guanxi.common.errors import NotFound
from guanxi.platform import permissions
from guanxi.platform.models import User, Workspace

from .models import Account, Contact

ACCOUNT = "customers.account"
CONTACT = "customers.contact"


def account_list(*, workspace: Workspace, actor: User) -> QuerySet[Account]:
    qs = Account.objects.in_workspace(workspace).select_related("owner", "parent")
    return permissions.visible(qs, actor=actor, object_key=ACCOUNT)


def account_get(*, workspace: Workspace, actor: User, account_id) -> Account:
    return _one(account_list(workspace=workspace, actor=actor), account_id)


def contact_list(*, workspace: Workspace, actor: User) -> QuerySet[Contact]:
    qs = Contact.objects.in_workspace(workspace).select_related("owner", "account")
    return permissions.visible(qs, actor=actor, object_key=CONTACT)


def contact_get(*, workspace: Workspace, actor: User, contact_id) -> Contact:
    return _one(contact_list(workspace=workspace, actor=actor), contact_id)


def _one(qs: QuerySet, pk):
    try:
        return qs.get(pk=pk)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
