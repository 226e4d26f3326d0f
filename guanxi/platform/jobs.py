"""Background jobs: a durable ``Job`` row per piece of work, run by a Huey worker.

An app registers a handler for a job *kind* in its ``tasks.py``::

    from guanxi.platform import jobs

    @jobs.register("customers.import")
    def import_customers(job, progress):
        rows = load(job.params["file"])
        for i, row in enumerate(rows, 1):
            ...
            progress(i, len(rows), _("Imported %(n)s rows") % {"n": i})
        return {"url": reverse("customers:list"), "label": _("Open the customers")}

and a service starts it with ``job_start(actor=..., workspace=..., kind=..., params=...)``.
The row is created in a transaction and the Huey task is enqueued on commit. The worker
claims the row (queued → running), calls the handler and records the result or a short,
translated error; the traceback goes to the log only. A periodic sweeper re-enqueues rows
left in flight by a worker that died.

Handlers run in the owner's language, so ``gettext`` in a handler speaks to the person who
started the job. They must report progress at least every few minutes: ``progress`` is
the heartbeat the sweeper watches. An ``ApplicationError`` raised by a handler is the
user's problem (bad input) and fails the job at once; anything else is retried.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict, NotFound

from . import permissions
from .models import Job, JobState, User, Workspace

logger = logging.getLogger(__name__)

JOB_OBJECT_KEY = "platform.job"
# A queued or running job whose heartbeat is older than this is taken as lost.
STALE_AFTER = timedelta(minutes=5)
# Progress writes at most this often (seconds); the first and the last always write.
PROGRESS_INTERVAL = 0.25
# Huey retries each enqueue this many times; the sweeper gives up after MAX_ATTEMPTS runs.
RETRIES = 2
RETRY_DELAY = 10
MAX_ATTEMPTS = 3 * (RETRIES + 1)
IDEMPOTENCY_KEY_MAX = 120
MESSAGE_MAX = 300


class Progress(Protocol):
    def __call__(self, done: int, total: int | None = None, message: str = "") -> None: ...


Handler = Callable[[Job, Progress], dict]

_handlers: dict[str, Handler] = {}
_discovered = False


def register(kind: str) -> Callable[[Handler], Handler]:
    """Register ``handler(job, progress) -> dict`` as the code that runs jobs of ``kind``."""

    def decorator(handler: Handler) -> Handler:
        existing = _handlers.get(kind)
        if existing is not None and existing is not handler:
            qualname = f"{existing.__module__}.{existing.__qualname__}"
            new_qualname = f"{handler.__module__}.{handler.__qualname__}"
            if qualname != new_qualname:  # a module re-imported is not a clash
                raise ValueError(f"job kind {kind!r} is already handled by {qualname}")
        _handlers[kind] = handler
        return handler

    return decorator


def unregister(kind: str) -> None:
    """Forget a kind (tests that register throwaway handlers clean up with this)."""
    _handlers.pop(kind, None)


def get_handler(kind: str) -> Handler | None:
    """The handler of ``kind``; imports every app's ``tasks`` module the first time a kind
    is unknown, so web processes find handlers registered there as the worker does."""
    global _discovered
    handler = _handlers.get(kind)
    if handler is None and not _discovered:
        _discovered = True
        autodiscover_modules("tasks")
        handler = _handlers.get(kind)
    return handler


def registered_kinds() -> list[str]:
    get_handler("")  # make sure tasks modules were imported
    return sorted(_handlers)


# --- starting and reading ------------------------------------------------------------------


def _normalise_key(key: str) -> str:
    if len(key) <= IDEMPOTENCY_KEY_MAX:
        return key
    # Long keys stay idempotent: the same long key always hashes to the same short one.
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _enqueue(job_id: int) -> None:
    from . import tasks  # tasks imports this module; the wrapper is looked up at call time

    tasks.run_job(job_id)


def job_start(
    *,
    actor: User | None,
    workspace: Workspace,
    kind: str,
    params: dict,
    idempotency_key: str | None = None,
) -> Job:
    """Create a queued job owned by ``actor`` and enqueue it when the transaction commits.

    The same ``idempotency_key`` in the same workspace returns the job made the first time
    and enqueues nothing. ``actor`` may be ``None`` for jobs the system starts itself.
    """
    if get_handler(kind) is None:
        raise ApplicationError(
            _("Unknown kind of background job: %(kind)s.") % {"kind": kind},
            code="unknown_job_kind",
        )
    if actor is not None and actor.workspace_id != workspace.pk:
        raise NotFound()
    key = _normalise_key(idempotency_key) if idempotency_key else f"job:{uuid.uuid4().hex}"
    with transaction.atomic():
        job = Job.objects.in_workspace(workspace).filter(idempotency_key=key).first()
        if job is None:
            try:
                with transaction.atomic():  # a savepoint, so a lost race leaves no broken tx
                    job = Job.objects.create(
                        workspace=workspace,
                        owner=actor,
                        kind=kind,
                        params=params,
                        idempotency_key=key,
                    )
            except IntegrityError:
                job = Job.objects.in_workspace(workspace).get(idempotency_key=key)
            else:
                transaction.on_commit(partial(_enqueue, job.pk))
                return job
    if job.kind != kind:
        raise Conflict(
            _("This idempotency key was already used for another kind of job."),
            code="idempotency_key_reused",
        )
    return job


def job_get(*, actor: User, workspace: Workspace, job_id: int) -> Job:
    """One job the actor may see; another workspace's or an invisible job is ``NotFound``."""
    if actor.workspace_id != workspace.pk:
        raise NotFound()
    try:
        job_id = int(job_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    qs = permissions.visible(
        Job.objects.in_workspace(workspace), actor=actor, object_key=JOB_OBJECT_KEY
    )
    job = qs.filter(pk=job_id).select_related("owner").first()
    if job is None:
        raise NotFound()
    return job


# --- running -----------------------------------------------------------------------------


class _ProgressRecorder:
    """The ``progress`` callable handed to a handler: updates the row (and its heartbeat)
    at most every ``PROGRESS_INTERVAL`` seconds, and always remembers the latest values."""

    def __init__(self, job: Job, attempt: int):
        self.job = job
        self.attempt = attempt
        self.last_write: float | None = None

    def __call__(self, done: int, total: int | None = None, message: str = "") -> None:
        job = self.job
        job.done = max(0, int(done))
        job.total = None if total is None else max(0, int(total))
        job.message = str(message)[:MESSAGE_MAX]
        now = time.monotonic()
        finished = job.total is not None and job.done >= job.total
        if (
            self.last_write is not None
            and now - self.last_write < PROGRESS_INTERVAL
            and not finished
        ):
            return
        self.last_write = now
        job.heartbeat_at = timezone.now()
        _this_run(job, self.attempt).update(
            done=job.done,
            total=job.total,
            message=job.message,
            heartbeat_at=job.heartbeat_at,
            updated_at=job.heartbeat_at,
        )


def _this_run(job: Job, attempt: int):
    """The row, as long as no later run (re-enqueued by the sweeper) has taken it over."""
    return Job.objects.in_workspace(job.workspace_id).filter(
        pk=job.pk, attempts=attempt, state=JobState.RUNNING
    )


def _user_error(exc: BaseException) -> str:
    if isinstance(exc, ApplicationError):
        return str(exc.message)
    return str(
        _(
            "Something went wrong while running this job. The problem was logged; "
            "please try again later or ask your administrator."
        )
    )


def _language_for(job: Job) -> str:
    owner = job.owner
    if owner is not None and owner.language:
        return owner.language
    return job.workspace.language or settings.LANGUAGE_CODE


def run_job(job_id: int, *, retries_left: int = 0) -> str:
    """Run one attempt of a job; called by the Huey task (tests may call it directly).

    Returns the outcome: ``"succeeded"``, ``"failed"``, or ``"skipped"`` when the job is
    not queued (already done, or another worker holds it). Raises the handler's exception
    when ``retries_left`` is positive, so Huey retries; the row is queued again meanwhile.
    """
    now = timezone.now()
    claimed = (
        Job.objects.across_workspaces()
        .filter(pk=job_id, state=JobState.QUEUED)
        .update(
            state=JobState.RUNNING,
            attempts=F("attempts") + 1,
            started_at=now,
            heartbeat_at=now,
            error="",
            updated_at=now,
        )
    )
    if not claimed:
        state = (
            Job.objects.across_workspaces()
            .filter(pk=job_id)
            .values_list("state", flat=True)
            .first()
        )
        logger.info("job %s not run: its state is %s", job_id, state or "missing")
        return "skipped"

    job = Job.objects.across_workspaces().select_related("owner", "workspace").get(pk=job_id)
    attempt = job.attempts
    handler = get_handler(job.kind)
    with translation.override(_language_for(job)):
        try:
            if handler is None:
                raise RuntimeError(f"no handler registered for job kind {job.kind!r}")
            result = handler(job, _ProgressRecorder(job, attempt))
            if result is None:
                result = {}
            if not isinstance(result, dict):
                raise TypeError(f"job handler for {job.kind!r} returned {type(result).__name__}")
            finished = timezone.now()
            written = _this_run(job, attempt).update(
                state=JobState.SUCCEEDED,
                result=result,
                done=job.done,
                total=job.total,
                message=job.message,
                heartbeat_at=finished,
                finished_at=finished,
                updated_at=finished,
            )
        except Exception as exc:
            logger.exception("job %s (%s) attempt %s failed", job_id, job.kind, attempt)
            error = _user_error(exc)
            finished = timezone.now()
            retry = (
                retries_left > 0 and handler is not None and not isinstance(exc, ApplicationError)
            )
            if retry:
                _this_run(job, attempt).update(
                    state=JobState.QUEUED, error=error, heartbeat_at=finished, updated_at=finished
                )
                raise
            _this_run(job, attempt).update(
                state=JobState.FAILED,
                error=error,
                message=job.message,
                heartbeat_at=finished,
                finished_at=finished,
                updated_at=finished,
            )
            return "failed"
    if not written:
        logger.warning("job %s attempt %s finished after a later run took it over", job_id, attempt)
        return "skipped"
    return "succeeded"


# --- sweeping ------------------------------------------------------------------------------


def sweep_stuck_jobs(*, now: datetime | None = None) -> list[int]:
    """Re-enqueue jobs left queued or running with no heartbeat for ``STALE_AFTER``
    (a worker died, or the enqueue was lost), in every workspace. Jobs that already ran
    ``MAX_ATTEMPTS`` times are failed instead. Returns the ids re-enqueued."""
    now = now or timezone.now()
    stale = (
        Job.objects.across_workspaces()
        .annotate(last_seen=Coalesce("heartbeat_at", "created_at"))
        .filter(
            Q(state=JobState.QUEUED) | Q(state=JobState.RUNNING), last_seen__lt=now - STALE_AFTER
        )
        .select_related("owner", "workspace")
        .order_by("pk")
    )
    requeued: list[int] = []
    for job in stale[:500]:
        still_stale = Job.objects.across_workspaces().filter(
            pk=job.pk, state=job.state, attempts=job.attempts
        )
        if job.attempts >= MAX_ATTEMPTS:
            with translation.override(_language_for(job)):
                error = str(_("The job was interrupted too many times and was stopped."))
            still_stale.update(state=JobState.FAILED, error=error, finished_at=now, updated_at=now)
            logger.error("job %s (%s) failed after %s attempts", job.pk, job.kind, job.attempts)
            continue
        # Fresh heartbeat: the sweeper does not re-enqueue it again while it waits in line.
        if still_stale.update(state=JobState.QUEUED, heartbeat_at=now, updated_at=now):
            logger.warning("re-enqueuing stuck job %s (%s, was %s)", job.pk, job.kind, job.state)
            requeued.append(job.pk)
            transaction.on_commit(partial(_enqueue, job.pk))
    return requeued
