"""The analysis' background jobs: the customer-value recompute (kind
``analytics.value_recompute``); the work is in ``services.value``."""

from guanxi.platform import jobs

from .services import value


@jobs.register(value.JOB_KIND)
def run_value_recompute(job, progress) -> dict:
    return value.value_recompute_run(job=job, progress=progress)
