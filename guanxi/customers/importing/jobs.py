"""The background job ``customers.import``: runs (or resumes) one ``ImportRun``."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import NotFound
from guanxi.platform import jobs

from ..models import ImportRun
from . import runner


@jobs.register("customers.import")
def run_import(job, progress) -> dict:
    run = (
        ImportRun.objects.in_workspace(job.workspace_id)
        .select_related("created_by__role", "workspace")
        .filter(pk=job.params.get("run_id"))
        .first()
    )
    if run is None:
        raise NotFound()
    run = runner.import_run_execute(run=run, progress=progress)
    return {
        "run_id": run.pk,
        "created": run.created,
        "updated": run.updated,
        "skipped": run.skipped,
        "failed": run.failed,
        "url": reverse("customers:import_detail", args=[run.pk]),
        "label": str(_("See the result")),
    }
