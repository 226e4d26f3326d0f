"""The orders part's background work: the daily overdue-payment reminders (a Huey periodic
task) and the order import's job handler. Imported by ``orders_ui`` (which the app's
``ready`` imports), so the worker registers them."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from guanxi.common.errors import NotFound
from guanxi.platform import jobs

from .models.orders import OrderImport
from .services import invoices, order_import


# Hourly rather than daily: a worker that was down at the daily hour catches up within the
# hour, and the invoice's reminder_task_id keeps it to one task per invoice.
@db_periodic_task(crontab(minute="7"))
def create_overdue_payment_reminders() -> dict:
    return invoices.reminders_run()


@jobs.register(order_import.JOB_KIND)
def run_order_import(job, progress) -> dict:
    """Run (or resume after a crash, from its checkpoint) one order import."""
    run = (
        OrderImport.objects.in_workspace(job.workspace_id)
        .filter(pk=job.params.get("import_id"))
        .first()
    )
    if run is None:
        raise NotFound()
    if run.job_id is None:
        OrderImport.objects.in_workspace(job.workspace_id).filter(pk=run.pk).update(job=job)
        run.job_id = job.pk
    run = order_import.order_import_execute(run=run, progress=progress)
    return {
        "import_id": run.pk,
        "orders": run.orders_created,
        "lines": run.lines_created,
        "products": run.products_created,
        "failed": run.failed,
        "url": reverse("sales:order_import_detail", args=[run.pk]),
        "label": str(_("See the result")),
    }
