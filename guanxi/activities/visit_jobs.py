"""Job handlers of the visit part: generating visit tasks from the visit plans
(``activities.visit_plans``, started by ``services.visits.visit_plans_generate_start``)."""

from django.urls import reverse
from django.utils.translation import gettext

from guanxi.platform import jobs

from .services import visits


@jobs.register(visits.JOB_KIND)
def generate_visit_tasks(job, progress) -> dict:
    """Run ``visit_plans_generate`` as the job's owner with the job's parameters."""
    params = job.params or {}
    result = visits.visit_plans_generate(
        actor=job.owner,
        workspace=job.workspace,
        period=params.get("period"),
        team_id=params.get("team_id"),
        owner_id=params.get("owner_id"),
        progress=progress,
    )
    return {
        **result,
        "url": reverse("activities:visit_progress") + f"?period={result['period']}",
        "label": gettext("%(n)s visits planned for %(period)s: see plan versus done")
        % {"n": result["tasks_created"], "period": result["period"]},
    }
