"""Reassignment pages: whose work the actor may reassign, a person's holdings with the
choice of where their work goes, and the job's progress and result. Services do the work."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError, PermissionDenied
from guanxi.common.pagination import paginate
from guanxi.common.views import error_message, page
from guanxi.platform.models import User

from .reassign_forms import ReassignForm
from .selectors import reassign as selectors
from .services import reassign as service

PAGE_SIZE = 50
RECENT_JOBS = 10


def _require_reassigner(user) -> None:
    if not selectors.is_reassigner(user):
        raise PermissionDenied(
            gettext("Only administrators and managers can reassign someone's work.")
        )


@page
def reassign_home(request):
    """The people whose work the actor may reassign, with what each holds; inactive people
    who still hold work first, so a departure left half-done stands out."""
    _require_reassigner(request.user)
    q = request.GET.get("q", "").strip()[:100]
    qs = selectors.reassignable_users(workspace=request.workspace, actor=request.user)
    if q:
        qs = qs.filter(Q(full_name__icontains=q) | Q(email__icontains=q))
    try:
        rows = paginate(
            qs, key="full_name", cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        rows = paginate(qs, key="full_name", limit=PAGE_SIZE)
    holdings = selectors.holdings_by_user(
        workspace=request.workspace, user_ids=[u.pk for u in rows.items]
    )
    context = {
        "q": q,
        "page": rows,
        "rows": [(u, holdings[u.pk]) for u in rows.items],
    }
    if request.htmx:
        return render(request, "activities/reassign_rows.html", context)
    context["jobs"] = list(
        selectors.reassign_jobs(workspace=request.workspace, actor=request.user)[:RECENT_JOBS]
    )
    return render(request, "activities/reassign_home.html", context)


@page
def reassign_user(request, user_id: int):
    """A person's holdings and where their work goes; posting starts the job."""
    holdings = service.reassign_preview(
        actor=request.user, workspace=request.workspace, from_user_id=user_id
    )
    # The preview checked the person is in the workspace and the actor's scope.
    subject = User.objects.select_related("team").get(workspace=request.workspace, pk=user_id)
    form = ReassignForm(
        request.POST or None,
        workspace=request.workspace,
        actor=request.user,
        from_user=subject,
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = service.reassign_start(
                actor=request.user,
                workspace=request.workspace,
                from_user_id=subject.pk,
                **form.service_kwargs(),
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            url = reverse("activities:reassign_job", args=[job.pk])
            if request.htmx:
                response = HttpResponse(status=204)
                response["HX-Redirect"] = url
                return response
            return redirect(url)
    context = {"subject": subject, "holdings": holdings, "form": form}
    template = "activities/reassign_form.html" if request.htmx else "activities/reassign_user.html"
    return render(request, template, context)


@page
def reassign_job(request, job_id: int):
    """The job's progress bar and, once it has finished, who received what. htmx polls the
    result part until then."""
    job = selectors.reassign_job_get(workspace=request.workspace, actor=request.user, job_id=job_id)
    subject = User.objects.filter(
        workspace=request.workspace, pk=job.params.get("from_user_id")
    ).first()
    context = {"job": job, "subject": subject, "result": job.result or {}}
    if request.htmx:
        response = render(request, "activities/reassign_result.html", context)
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "activities/reassign_job.html", context)


@page
@require_POST
def reassign_retry(request, job_id: int):
    """Run a failed reassignment again (it moves only what is left)."""
    try:
        job = service.reassign_retry(actor=request.user, workspace=request.workspace, job_id=job_id)
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        return redirect("activities:reassign_job", job_id=job_id)
    return redirect("activities:reassign_job", job_id=job.pk)
