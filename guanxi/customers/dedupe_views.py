"""The duplicate review pages: open pairs by score, dismiss and merge, and the as-you-type
warning the create forms ask for. Services do the work."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _t
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.common.views import error_message, page
from guanxi.platform import permissions

from . import selectors
from .dedupe import matching
from .dedupe.check import likely_matches
from .models import CandidateStatus, DuplicateCandidate
from .services import merge

KINDS = {"contacts": matching.CONTACT, "accounts": matching.ACCOUNT}


@page
def duplicates(request):
    kind = request.GET.get("object") if request.GET.get("object") in KINDS else "contacts"
    key = KINDS[kind]
    permissions.require(request.user, key, "read")
    ws = {"workspace": request.workspace, "actor": request.user}
    records = (
        selectors.contact_list(**ws) if key == matching.CONTACT else selectors.account_list(**ws)
    )
    rows = list(
        DuplicateCandidate.objects.in_workspace(request.workspace)
        .filter(object_key=key, status=CandidateStatus.OPEN)
        .order_by("-score", "id")[:100]
    )
    ids = {r.left_id for r in rows} | {r.right_id for r in rows}
    by_id = {r.pk: r for r in records.filter(pk__in=ids)}
    pairs = [
        {
            "candidate": r,
            "left": by_id[r.left_id],
            "right": by_id[r.right_id],
            "reasons": [matching.REASONS.get(x, x) for x in r.reasons],
        }
        for r in rows
        if r.left_id in by_id and r.right_id in by_id
    ]
    return render(request, "customers/duplicates.html", {"pairs": pairs, "kind": kind})


@page
@require_POST
def duplicate_resolve(request, pk: int):
    action = request.POST.get("action")
    try:
        if action == "dismiss":
            merge.candidate_dismiss(
                actor=request.user, workspace=request.workspace, candidate_id=pk
            )
            messages.success(request, _t("Marked as not a duplicate."))
        else:
            c = DuplicateCandidate.objects.in_workspace(request.workspace).filter(pk=pk).first()
            if c is None:
                raise NotFound()
            service = (
                merge.contact_merge if c.object_key == matching.CONTACT else merge.account_merge
            )
            # The older record survives; its values are kept.
            service(
                actor=request.user,
                workspace=request.workspace,
                survivor_id=c.left_id,
                merged_id=c.right_id,
                choices={},
            )
            messages.success(request, _t("Merged."))
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    return redirect("customers:duplicates")


@page
def duplicate_check(request):
    key = request.GET.get("object_key") or matching.CONTACT
    if key not in KINDS.values():
        key = matching.CONTACT
    values = {
        k: request.GET.get(k, "")[:200]
        for k in ("name", "first_name", "last_name", "mobile", "phone", "email", "company")
    }
    found = []
    if permissions.can(request.user, key, "read"):
        found = likely_matches(
            workspace=request.workspace, actor=request.user, object_key=key, values=values
        )
    return render(
        request, "customers/duplicate_warning.html", {"matches": found, "object_key": key}
    )
