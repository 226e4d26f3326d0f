"""``/jobs``: background jobs and their progress."""

from __future__ import annotations

from ninja import Query

from guanxi.common.api import Id, PageParams, page_of, page_response, responses
from guanxi.common.errors import NotFound

from .. import selectors
from ..models import Job
from ..schemas import JobOut
from .common import _ref_user, _ws, router


def job_data(job: Job) -> dict:
    """A job as ``JobOut``; other apps' endpoints that start a job answer with it."""
    return {
        "id": job.pk,
        "kind": job.kind,
        "state": job.state,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "message": job.message,
        "result": job.result,
        "error": job.error,
        "owner": _ref_user(job.owner),
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


@router.get(
    "/jobs",
    response=responses(page_of(JobOut)),
    tags=["Jobs"],
    operation_id="jobs_list",
    summary="Background jobs you may see, newest first",
)
def jobs_list(request, page: Query[PageParams]):
    qs = selectors.job_list(**_ws(request))
    return page_response(qs, page, job_data, key="pk", descending=True)


@router.get(
    "/jobs/{job_id}",
    response=responses(JobOut),
    tags=["Jobs"],
    operation_id="jobs_get",
    summary="A job's progress: state, done, total, percent, message, result, error",
)
def jobs_get(request, job_id: Id):
    job = selectors.job_list(**_ws(request)).filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return job_data(job)
