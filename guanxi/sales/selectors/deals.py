"""Reading deals: the lists (with filters), one deal, and the stale rule. Every read applies
record visibility; the kanban's reads are in ``deals_board``."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from guanxi.common.errors import NotFound
from guanxi.platform import permissions
from guanxi.platform.models import User, Workspace

from ..models import Deal, DealStatus
from ..objects import DEAL


def deal_list(*, workspace: Workspace, actor: User) -> QuerySet[Deal]:
    """The deals the actor may read (owners, stages, customers joined)."""
    qs = Deal.objects.in_workspace(workspace).select_related(
        "owner", "stage", "pipeline", "account", "contact"
    )
    return permissions.visible(qs, actor=actor, object_key=DEAL)


def deal_get(*, workspace: Workspace, actor: User, deal_id) -> Deal:
    try:
        return deal_list(workspace=workspace, actor=actor).get(pk=int(deal_id))
    except (Deal.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def stale_cutoff(workspace: Workspace, now: dt.datetime | None = None) -> dt.datetime:
    from ..services.setup import sales_settings

    days = sales_settings(workspace).stale_deal_days
    return (now or timezone.now()) - dt.timedelta(days=days)


def stale_q(cutoff: dt.datetime) -> Q:
    """An open deal is stale when nothing moved since ``cutoff``: its stage, its own
    ``last_activity_at`` (moved by ``deal_touch``), and its customer's last activity (the
    timeline moves the account's and contact's ``last_activity_at`` on every activity; the
    activities app has no hook telling the deal, so the customer's activity counts)."""
    quiet_deal = Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=cutoff)
    quiet_account = (
        Q(account__isnull=True)
        | Q(account__last_activity_at__isnull=True)
        | Q(account__last_activity_at__lt=cutoff)
    )
    quiet_contact = (
        Q(contact__isnull=True)
        | Q(contact__last_activity_at__isnull=True)
        | Q(contact__last_activity_at__lt=cutoff)
    )
    return (
        Q(status=DealStatus.OPEN, stage_changed_at__lt=cutoff)
        & quiet_deal
        & quiet_account
        & quiet_contact
    )


def is_stale(deal: Deal, cutoff: dt.datetime) -> bool:
    """The same rule for one loaded deal (its account and contact joined)."""
    if deal.status != DealStatus.OPEN or deal.stage_changed_at >= cutoff:
        return False
    times = [deal.last_activity_at]
    if deal.account_id:
        times.append(deal.account.last_activity_at)
    if deal.contact_id:
        times.append(deal.contact.last_activity_at)
    return all(t is None or t < cutoff for t in times)
