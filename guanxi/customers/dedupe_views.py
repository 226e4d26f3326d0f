"""The duplicate review pages: open pairs by score, dismiss and merge, and the as-you-type
warning the create forms ask for. Services do the work."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.common.views import error_message, page
from guanxi.platform import jobs, permissions

from . import selectors
from .dedupe import matching
from .dedupe.check import likely_matches
from .dedupe.compare import chosen_values, pair_compare
from .models import CandidateStatus, DuplicateCandidate
from .services import duplicates as duplicates_service
from .services import merge, records

KINDS = {"contacts": matching.CONTACT, "accounts": matching.ACCOUNT}


@page
def duplicates(request):
    kind = request.GET.get("object") if request.GET.get("object") in KINDS else "contacts"
    key = KINDS[kind]
    permissions.require(request.user, key, "read")
    ws = {"workspace": request.workspace, "actor": request.user}
    if request.method == "POST":  # "Scan for duplicates": the same job as the API starts
        job = duplicates_service.duplicate_scan_start(**ws, object_keys=[key])
        return redirect(f"{reverse('customers:duplicates')}?object={kind}&job={job.pk}")
    job = None
    if request.GET.get("job"):
        try:
            job = jobs.job_get(**ws, job_id=request.GET["job"])
        except ApplicationError:
            job = None
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
    can_scan = permissions.can(request.user, key, "update") and permissions.can(
        request.user, key, "bulk"
    )
    context = {"pairs": pairs, "kind": kind, "job": job, "can_scan": can_scan}
    return render(request, "customers/duplicates.html", context)


@page
@require_POST
def duplicate_resolve(request, pk: int):
    action = request.POST.get("action")
    try:
        if action == "dismiss":
            merge.candidate_dismiss(
                actor=request.user, workspace=request.workspace, candidate_id=pk
            )
            messages.success(request, gettext("Marked as not a duplicate."))
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
            messages.success(request, gettext("Merged."))
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
        for k in (
            "name",
            "first_name",
            "last_name",
            "mobile",
            "phone",
            "email",
            "company",
            "id_number",
            "tax_number",
        )
    }
    found, clash = [], None
    if permissions.can(request.user, key, "read"):
        ws = {"workspace": request.workspace, "actor": request.user}
        found = likely_matches(**ws, object_key=key, values=values)
        # Another rep's customer is not in ``found`` when the actor may not see it; saving
        # would be refused (no 撞单), so say so now.
        clash = records.customer_clash(**ws, object_key=key, values=values)
    context = {"matches": found, "clash": clash, "object_key": key}
    return render(request, "customers/duplicate_warning.html", context)


@page
def duplicate_compare(request, pk: int):
    """Both records side by side, a choice per differing field; POST merges with the choices
    (``survivor`` is the id of the record that stays) or, with ``action=dismiss``, marks the
    pair not a duplicate."""
    survivor_id = request.POST.get("survivor") or request.GET.get("survivor")
    data = pair_compare(
        workspace=request.workspace,
        actor=request.user,
        candidate_id=pk,
        survivor_id=survivor_id,
    )
    if request.method == "POST" and data["is_open"]:
        service = (
            merge.contact_merge if data["object_key"] == matching.CONTACT else merge.account_merge
        )
        try:
            if request.POST.get("action") == "dismiss":
                merge.candidate_dismiss(
                    actor=request.user, workspace=request.workspace, candidate_id=pk
                )
                messages.success(request, gettext("Marked as not a duplicate."))
                return redirect(_list_url(data["object_key"]))
            survivor = service(
                actor=request.user,
                workspace=request.workspace,
                survivor_id=data["survivor"].pk,
                merged_id=data["merged"].pk,
                choices=chosen_values(request.POST, data["rows"]),
            )
        except ApplicationError as exc:
            messages.error(request, error_message(exc))
        else:
            messages.success(request, gettext("Merged."))
            name = (
                "customers:contact_detail"
                if data["object_key"] == matching.CONTACT
                else "customers:account_detail"
            )
            return redirect(name, pk=survivor.pk)
    data["kind"] = "contacts" if data["object_key"] == matching.CONTACT else "accounts"
    return render(request, "customers/duplicate_compare.html", data)


def _list_url(object_key: str) -> str:
    kind = "contacts" if object_key == matching.CONTACT else "accounts"
    return f"{reverse('customers:duplicates')}?object={kind}"


def _row(record, names) -> dict:
    out = {}
    for n in names:
        v = getattr(record, n, "")
        out[n] = v.isoformat() if hasattr(v, "isoformat") else v
    return out


PANEL_KINDS = {"contact": matching.CONTACT, "account": matching.ACCOUNT}


def _open_candidate(workspace, object_key: str, a: int, b: int, score: float, reasons) -> int:
    """The open (or any) candidate row of a pair, created when the check found it first."""
    left, right = sorted((a, b))
    qs = DuplicateCandidate.objects.in_workspace(workspace).filter(
        object_key=object_key, left_id=left, right_id=right
    )
    found = qs.values_list("pk", flat=True).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return DuplicateCandidate.objects.create(
                workspace=workspace,
                object_key=object_key,
                left_id=left,
                right_id=right,
                score=round(score, 4),
                reasons=list(reasons),
            ).pk
    except IntegrityError:  # created meanwhile by a scan or another reader
        return qs.values_list("pk", flat=True).first()


@page
def record_duplicates_panel(request, kind: str, pk: int):
    """The 360° page's lazy panel: open pairs with this record and the as-you-type matcher's
    hits, each linked to the compare page. Empty (hidden) when there are none."""
    object_key = PANEL_KINDS.get(kind)
    if object_key is None:
        raise NotFound()
    ws = {"workspace": request.workspace, "actor": request.user}
    if object_key == matching.CONTACT:
        records = selectors.contact_list(**ws)
        record = selectors.contact_get(**ws, contact_id=pk)
    else:
        records = selectors.account_list(**ws)
        record = selectors.account_get(**ws, account_id=pk)
    names = matching.fields(object_key)
    if request.method == "POST":  # compare with a hit of the matcher: make it a pair first
        permissions.require(request.user, object_key, "update")
        other = records.filter(pk=request.POST.get("other") or 0).exclude(pk=record.pk).first()
        if other is None:
            raise NotFound()
        score, reasons = matching.score_rows(object_key, _row(record, names), _row(other, names))
        candidate_id = _open_candidate(
            request.workspace, object_key, record.pk, other.pk, score, reasons
        )
        url = reverse("customers:duplicate_compare", args=[candidate_id])
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    open_rows = list(
        DuplicateCandidate.objects.in_workspace(request.workspace)
        .filter(object_key=object_key, status=CandidateStatus.OPEN)
        .filter(Q(left_id=record.pk) | Q(right_id=record.pk))
        .order_by("-score", "id")[:20]
    )
    items: dict[int, dict] = {}
    others = {r.right_id if r.left_id == record.pk else r.left_id for r in open_rows}
    by_id = {r.pk: r for r in records.filter(pk__in=others)}
    for r in open_rows:
        other = by_id.get(r.right_id if r.left_id == record.pk else r.left_id)
        if other is not None:
            items[other.pk] = {
                "candidate_id": r.pk,
                "record": other,
                "score": r.score,
                "reasons": r.reasons,
            }
    for other, score, reasons in likely_matches(
        **ws, object_key=object_key, values=_row(record, names), limit=6
    ):
        if other.pk == record.pk or other.pk in items:
            continue
        items[other.pk] = {
            "candidate_id": None,
            "record": other,
            "score": score,
            "reasons": reasons,
        }
    found = sorted(items.values(), key=lambda i: -i["score"])
    for item in found:
        item["reasons"] = [matching.REASONS.get(x, x) for x in item["reasons"]]
    return render(
        request,
        "customers/panel_duplicates.html",
        {
            "items": found,
            "record": record,
            "kind": kind,
            "can_pair": permissions.can(request.user, object_key, "update"),
        },
    )
