"""Quote approvals: a rep asks for one when the quote has approval reasons (a discount above
the threshold, a price below what the customer already holds); a manager approves or
rejects it with a comment. Both sides are notified in the app, the customer's timeline gets
the event, and the approval row keeps the reasons — an approved row is the recorded
"approved exception" to the workspace's prices.

Deciding takes the right ``update`` on ``sales.quote_approval`` and a quote the manager can
see (their team's and the teams below); nobody approves their own request unless they are an
administrator.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.activities.services.notifications import notify
from guanxi.common.errors import ApplicationError, Conflict, FieldErrors, NotFound, PermissionDenied
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import ApprovalStatus, Quote, QuoteApproval, QuoteStatus
from ..objects import QUOTE, QUOTE_APPROVAL
from . import quotes as quote_services

MAX_NOTE = 2000


def _approver_for(user: User) -> User | None:
    """The requester's team manager, or the manager of the nearest team above that has one
    (not the requester); None lets anyone with the right decide."""
    team = user.team
    seen = 0
    while team is not None and seen < 20:
        manager = team.manager
        if manager is not None and manager.pk != user.pk and manager.is_active:
            return manager
        team = team.parent
        seen += 1
    return None


def _url(quote: Quote) -> str:
    return reverse("sales:quote_detail", args=[quote.pk])


def quote_submit(
    *, actor: User, workspace: Workspace, quote_id: int, lock_version: int, note: str = ""
) -> QuoteApproval:
    """Ask for approval of a draft quote that has approval reasons: the quote waits
    (*pending*), an approval row records the reasons, and the approver is notified."""
    permissions.require(actor, QUOTE, Action.UPDATE)
    errors = FieldErrors()
    note = quote_services._text(errors, note, name="note", max_length=MAX_NOTE)
    errors.raise_if_any()
    quote = quote_services._fetch(workspace=workspace, actor=actor, quote_id=quote_id)
    with transaction.atomic():
        quote_services._claim(actor, quote, lock_version)
        fresh = Quote.objects.in_workspace(workspace).get(pk=quote.pk)
        quote.status, quote.approval_reasons = fresh.status, fresh.approval_reasons
        if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.REJECTED):
            raise Conflict(
                _("Only a draft quote can be submitted for approval (this one is %(status)s).")
                % {"status": quote.get_status_display().lower()},
                code="quote_not_draft",
            )
        if not quote.approval_reasons:
            raise ApplicationError(
                _("This quote needs no approval: it can be sent as it is."),
                code="approval_not_needed",
            )
        if not quote.lines.exists():
            raise ApplicationError(_("Add at least one line first."), code="no_lines")
        approver = _approver_for(actor if quote.owner_id is None else quote.owner)
        approval = QuoteApproval.objects.create(
            workspace=workspace,
            quote=quote,
            requested_by=actor,
            approver=approver,
            reasons=quote.approval_reasons,
            request_note=note,
        )
        before = audit.snapshot(quote)
        quote.status = QuoteStatus.PENDING_APPROVAL
        quote.save(update_fields=["status", "updated_at"])
        audit.log_update(actor=actor, instance=quote, before=before)
        audit.log_create(actor=actor, instance=approval)
        quote_services._entry(actor, quote, "quote_submitted", reasons=len(quote.approval_reasons))
        if approver is not None:
            notify(
                workspace=workspace,
                user=approver,
                title=_("%(who)s asks you to approve quote %(number)s"),
                body=_("%(reasons)s reason(s); total %(total)s %(currency)s."),
                params={
                    "who": actor.full_name or actor.email,
                    "number": str(quote),
                    "reasons": len(quote.approval_reasons),
                    "total": quote.total,
                    "currency": quote.currency,
                },
                url=_url(quote),
            )
    return approval


def approval_queryset(*, workspace: Workspace, actor: User):
    """Approvals of the quotes the actor can see."""
    if not permissions.can(actor, QUOTE_APPROVAL, Action.READ):
        return QuoteApproval.objects.in_workspace(workspace).none()
    visible_quotes = quote_services.quote_queryset(workspace=workspace, actor=actor)
    return (
        QuoteApproval.objects.in_workspace(workspace)
        .filter(quote__in=visible_quotes.values("pk"))
        .select_related(
            "quote", "quote__account", "quote__contact", "quote__owner", "requested_by", "approver"
        )
    )


def _decide(
    *,
    actor: User,
    workspace: Workspace,
    approval_id: int,
    approve: bool,
    comment: str,
) -> QuoteApproval:
    permissions.require(actor, QUOTE_APPROVAL, Action.UPDATE)
    errors = FieldErrors()
    comment = quote_services._text(errors, comment, name="comment", max_length=MAX_NOTE)
    if not approve and not comment:
        errors.add("comment", _("Say why the quote is rejected."))
    errors.raise_if_any()
    pk = quote_services._pk(approval_id)
    approval = (
        approval_queryset(workspace=workspace, actor=actor).filter(pk=pk).first() if pk else None
    )
    if approval is None:
        raise NotFound(_("Approval request not found."))
    if approval.requested_by_id == actor.pk and not actor.role.is_admin:
        audit.log_permission_denied(actor=actor, object_key=QUOTE_APPROVAL, action="approve_own")
        raise PermissionDenied(
            _("You cannot decide on your own request; your manager does."),
            code="own_request",
        )
    with transaction.atomic():
        now = timezone.now()
        decided = (
            QuoteApproval.objects.in_workspace(workspace)
            .filter(pk=approval.pk, status=ApprovalStatus.PENDING)
            .update(
                status=ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED,
                comment=comment,
                decided_by=actor,
                decided_at=now,
                updated_at=now,
            )
        )
        if not decided:
            approval.refresh_from_db()
            raise Conflict(
                _("This request was already %(status)s.")
                % {"status": approval.get_status_display().lower()},
                code="approval_decided",
            )
        approval.refresh_from_db()
        quote = (
            Quote.objects.in_workspace(workspace).select_related("owner").get(pk=approval.quote_id)
        )
        before = audit.snapshot(quote)
        moved = (
            Quote.objects.in_workspace(workspace)
            .filter(pk=quote.pk, status=QuoteStatus.PENDING_APPROVAL)
            .update(
                status=QuoteStatus.APPROVED if approve else QuoteStatus.REJECTED,
                lock_version=quote.lock_version + 1,
                updated_at=now,
            )
        )
        if not moved:
            raise Conflict(
                _("The quote changed since approval was asked; it is no longer waiting."),
                code="quote_not_pending",
            )
        quote.refresh_from_db()
        audit.log_update(actor=actor, instance=quote, before=before)
        audit.log(
            actor=actor,
            workspace=workspace,
            action="update",
            object_key=QUOTE_APPROVAL,
            object_id=approval.pk,
            object_repr=str(quote),
            changes={
                "status": [ApprovalStatus.PENDING, approval.status],
                "comment": [None, comment],
            },
        )
        quote_services._entry(
            actor,
            quote,
            "quote_approved" if approve else "quote_rejected",
            comment=comment,
            by=actor.full_name or actor.email,
        )
        title = (
            _("%(who)s approved quote %(number)s")
            if approve
            else _("%(who)s rejected quote %(number)s")
        )
        params = {"who": actor.full_name or actor.email, "number": str(quote)}
        notified = {approval.requested_by_id}
        notify(
            workspace=workspace,
            user=approval.requested_by,
            title=title,
            body=comment.replace("%", "%%"),
            params=params,
            url=_url(quote),
        )
        if quote.owner_id and quote.owner_id not in notified:
            notify(
                workspace=workspace,
                user=quote.owner,
                title=title,
                body=comment.replace("%", "%%"),
                params=params,
                url=_url(quote),
            )
    return approval


def quote_approve(
    *, actor: User, workspace: Workspace, approval_id: int, comment: str = ""
) -> QuoteApproval:
    """Approve a pending request (with an optional comment): the quote may now be sent."""
    return _decide(
        actor=actor, workspace=workspace, approval_id=approval_id, approve=True, comment=comment
    )


def quote_reject(
    *, actor: User, workspace: Workspace, approval_id: int, comment: str
) -> QuoteApproval:
    """Reject a pending request; the comment (required) tells the rep why."""
    return _decide(
        actor=actor, workspace=workspace, approval_id=approval_id, approve=False, comment=comment
    )


def pending_approval_id(*, workspace: Workspace, quote: Quote) -> int | None:
    return (
        QuoteApproval.objects.in_workspace(workspace)
        .filter(quote=quote, status=ApprovalStatus.PENDING)
        .values_list("pk", flat=True)
        .first()
    )
