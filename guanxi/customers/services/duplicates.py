"""Starting the full duplicate scan. The scan itself is ``dedupe.scan``; merging and
dismissing pairs are in ``services.merge``."""

from __future__ import annotations

from guanxi.platform import jobs, permissions
from guanxi.platform.models import Action, Job, JobState, User, Workspace

from ..dedupe import jobs as scan_jobs


def duplicate_scan_start(
    *, actor: User, workspace: Workspace, object_keys: list[str], threshold: float | None = None
) -> Job:
    """Start a scan of the whole workspace for duplicate ``object_keys`` in the background.

    A workspace-wide scan is a bulk operation: it needs the update and bulk rights on each
    object. While a scan of the same objects is queued or running, that job is returned
    instead of starting a second one.
    """
    keys = list(dict.fromkeys(object_keys))
    for key in keys:
        permissions.require(actor, key, Action.UPDATE)
        permissions.require(actor, key, Action.BULK)
    running = (
        Job.objects.in_workspace(workspace)
        .filter(kind=scan_jobs.KIND, state__in=[JobState.QUEUED, JobState.RUNNING])
        .order_by("-id")
    )
    for job in running:
        if job.params.get("objects") == keys:
            return job
    params = {"objects": keys}
    if threshold is not None:
        params["threshold"] = threshold
    return jobs.job_start(actor=actor, workspace=workspace, kind=scan_jobs.KIND, params=params)
