"""The reassignment job (kind ``activities.reassign``): the work is in
``services.reassign.reassign_run``; this registers it with the platform's jobs."""

from guanxi.platform import jobs

from .services import reassign


@jobs.register(reassign.JOB_KIND)
def run_reassignment(job, progress) -> dict:
    return reassign.reassign_run(job=job, progress=progress)
