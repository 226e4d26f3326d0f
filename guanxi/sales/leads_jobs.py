"""The leads part's background work: the import job, the nightly retraining of the
predictive score, re-scoring after a rule changes, and the first-response watch (every
five minutes: owners and their managers are told once of a late first response)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from guanxi.platform import jobs

from .services import lead_import, lead_model, lead_scoring
from .services import leads as lead_services


@jobs.register(lead_import.JOB_KIND)
def import_leads(job, progress) -> dict:
    return lead_import.run_import(job, progress)


@db_task()
def rescore_workspace_task(workspace_id: int) -> int:
    from guanxi.platform.models import Workspace

    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    return lead_scoring.rescore_workspace(workspace=workspace)


def rescore_workspace_soon(workspace_id: int) -> None:
    rescore_workspace_task(workspace_id)


@db_periodic_task(crontab(minute="20", hour="2"))
def retrain_lead_models() -> dict:
    return lead_model.train_all()


@db_periodic_task(crontab(minute="*/5"))
def notify_overdue_first_responses() -> int:
    return lead_services.leads_notify_overdue()
