"""Pages for background jobs: the progress partial htmx polls, and a job's own page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.template.loader import select_template
from django.views.decorators.http import require_GET

from guanxi.common.errors import NotFound

from . import jobs

PROGRESS_TEMPLATE = "components/progress.html"
# A full page for a job, when a layout provides one; otherwise the bar alone.
DETAIL_TEMPLATES = ["platform/job_detail.html", PROGRESS_TEMPLATE]


def _job_or_404(request, job_id: int):
    try:
        return jobs.job_get(actor=request.user, workspace=request.workspace, job_id=job_id)
    except NotFound as exc:
        raise Http404(str(exc.message)) from exc


@login_required
@require_GET
def job_progress(request, job_id: int):
    """The progress bar of one job; it stops polling itself once the job has finished."""
    job = _job_or_404(request, job_id)
    response = render(request, PROGRESS_TEMPLATE, {"job": job})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def job_detail(request, job_id: int):
    job = _job_or_404(request, job_id)
    if request.htmx:
        template = PROGRESS_TEMPLATE
    else:
        template = select_template(DETAIL_TEMPLATES).template.name
    return render(request, template, {"job": job})
