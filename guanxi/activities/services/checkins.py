"""Field check-in (外勤签到): a rep checks in at a customer's site, and checks out.

``checkin_create`` records the time and the browser's position (optional: a check-in
without a position is allowed and shown as "no position", since a phone indoors or a
refused permission must not stop the visit being logged), the distance to the customer's
coordinates — the contact's when the visit is with a contact who has them, else the
account's — flagged as far beyond ``VisitSettings.far_checkin_meters``, and an optional
photo (a real image up to 10 MB, re-encoded without its EXIF data, so no camera serial
or home location leaks). ``checkin_set_customer_location`` gives a customer without
coordinates the check-in's position, through the customers' own update service.
``checkin_checkout`` writes the visit to the timeline (``record_entry``: kind ``visit``,
subtype the visit means, the place, distance and duration in ``data``) and completes
the visit task.

A rep has at most one open check-in (a database constraint backs the check).
"""

from __future__ import annotations

import io
import uuid
import warnings

from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.customers import selectors as customer_selectors
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, AuditAction, User, Workspace

from ..models import (
    Channel,
    CheckIn,
    EntryKind,
    Task,
    TaskKind,
    TaskStatus,
    VisitMeans,
)
from ..objects import CHECKIN, TASK
from .routes import check_coordinates, haversine_m
from .timeline import record_entry
from .visits import visit_settings_get

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTO_PIXELS = 50_000_000
MAX_ACCURACY_M = 100_000
MAX_NOTES = 10_000


class VisitOutcome(models.TextChoices):
    POSITIVE = "positive", _("Went well")
    FOLLOW_UP = "follow_up", _("Follow-up needed")
    NO_DECISION = "no_decision", _("No decision yet")
    NEGATIVE = "negative", _("Did not go well")
    NOT_MET = "not_met", _("Customer not met")


# --- validation ---------------------------------------------------------------------------------


def _accuracy(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        number = -1
    if isinstance(value, bool) or not 0 <= number <= MAX_ACCURACY_M:
        message = _("Enter the accuracy in metres, from 0 to %(max)s.") % {"max": MAX_ACCURACY_M}
        raise ApplicationError(message, code="invalid_accuracy", fields={"accuracy_m": [message]})
    return round(number)


def _means(value, default: str) -> str:
    value = str(value or "").strip() or default
    if value not in VisitMeans.values:
        message = _("Choose one of the five visit means.")
        raise ApplicationError(message, code="invalid_means", fields={"means": [message]})
    return value


def _outcome(value) -> str:
    value = str(value or "").strip()
    if value and value not in VisitOutcome.values:
        message = _("Choose one of the outcomes.")
        raise ApplicationError(message, code="invalid_outcome", fields={"outcome": [message]})
    return value


def _notes(value) -> str:
    text = str(value or "").strip()
    if "\x00" in text:
        message = _("Text may not contain NUL characters.")
        raise ApplicationError(message, fields={"notes": [message]})
    if len(text) > MAX_NOTES:
        message = _("At most %(n)s characters.") % {"n": MAX_NOTES}
        raise ApplicationError(message, fields={"notes": [message]})
    return text


def clean_photo(upload) -> ContentFile:
    """A real image of at most 10 MB, re-encoded without its metadata (EXIF), the
    camera's rotation applied. Anything else is refused with a message."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    def refuse(message):
        return ApplicationError(message, code="invalid_photo", fields={"photo": [message]})

    size = getattr(upload, "size", None)
    if not size:
        raise refuse(_("The photo is empty."))
    if size > MAX_PHOTO_BYTES:
        raise refuse(_("The photo is larger than 10 MB."))
    upload.seek(0)
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise refuse(_("The photo is larger than 10 MB."))
    not_image = _("The photo is not an image (JPEG, PNG, WebP, GIF or HEIF is expected).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PHOTO_PIXELS:
                raise refuse(_("The photo has too many pixels."))
            image.load()
            source_format = (image.format or "").upper()
            image = ImageOps.exif_transpose(image)
    except ApplicationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise refuse(not_image) from None
    except (OSError, SyntaxError, ValueError):
        raise refuse(not_image) from None
    out = io.BytesIO()
    if source_format == "PNG":
        image.save(out, format="PNG", optimize=True)
        extension = "png"
    else:
        image.convert("RGB").save(out, format="JPEG", quality=88, optimize=True)
        extension = "jpg"
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.{extension}")


# --- audit -----------------------------------------------------------------------------------


def _snapshot(checkin: CheckIn) -> dict:
    """The audit log's view of a check-in; the photo by its stored name (the audit log
    serialises plain values only)."""
    fields = [f.name for f in CheckIn._meta.concrete_fields if f.name != "photo"]
    data = audit.snapshot(checkin, fields=fields)
    data["photo"] = checkin.photo.name or ""
    return data


def _log(actor: User, checkin: CheckIn, before: dict | None) -> None:
    after = _snapshot(checkin)
    if before is None:
        changes = {k: [None, v] for k, v in after.items() if v not in (None, "", [], {})}
        action = AuditAction.CREATE
    else:
        changes = audit.diff(before, after)
        action = AuditAction.UPDATE
    audit.log(
        actor=actor,
        workspace=checkin.workspace_id,
        action=action,
        object_key=CHECKIN,
        object_id=checkin.pk,
        object_repr=str(checkin.account or checkin.contact or checkin.pk),
        changes=changes,
    )


# --- check in -----------------------------------------------------------------------------------


def _visit_task(workspace, actor: User, task_id) -> Task:
    qs = permissions.visible(
        Task.objects.in_workspace(workspace).filter(kind=TaskKind.VISIT),
        actor=actor,
        object_key=TASK,
    ).select_related("account", "contact", "visit_plan")
    try:
        task = qs.get(pk=int(task_id))
    except (Task.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    if task.assignee_id != actor.pk:
        raise PermissionDenied(
            _("Only the rep this visit is assigned to can check in to it."),
            code="not_your_visit",
        )
    if task.status != TaskStatus.OPEN:
        raise Conflict(_("This visit is already closed."), code="visit_closed")
    if task.account_id is None and task.contact_id is None:
        raise ApplicationError(_("This visit has no customer to check in at."), code="no_customer")
    return task


def _target_point(account, contact) -> tuple[float, float] | None:
    """The contact's coordinates when they have them, else the account's."""
    for record in (contact, account):
        if record is not None and record.latitude is not None and record.longitude is not None:
            return float(record.latitude), float(record.longitude)
    return None


def _already_open(workspace, actor: User, task: Task | None) -> None:
    current = (
        CheckIn.objects.in_workspace(workspace)
        .filter(user=actor, checked_out_at__isnull=True)
        .select_related("account", "contact")
        .first()
    )
    if current is None:
        return
    if task is not None and current.task_id == task.pk:
        raise Conflict(
            _("You are already checked in to this visit. Check out when you leave."),
            code="already_checked_in",
        )
    where = current.account or current.contact
    raise Conflict(
        _("You are still checked in at %(name)s. Check out there first.")
        % {"name": where.name if where else "—"},
        code="already_checked_in",
    )


def checkin_create(
    *,
    actor: User,
    workspace: Workspace,
    task_id=None,
    account_id=None,
    contact_id=None,
    latitude=None,
    longitude=None,
    accuracy_m=None,
    means: str | None = None,
    photo=None,
) -> CheckIn:
    """Check in at a visit task (assigned to the actor) or directly at an account or
    contact the actor may see. The position is optional (no position is recorded as such);
    the distance to the customer is computed when both have coordinates."""
    permissions.require(actor, CHECKIN, Action.CREATE)
    position = check_coordinates(latitude, longitude)
    accuracy = _accuracy(accuracy_m) if position is not None else None
    task = account = contact = None
    if task_id not in (None, ""):
        task = _visit_task(workspace, actor, task_id)
        account, contact = task.account, task.contact
    elif account_id not in (None, "") or contact_id not in (None, ""):
        if account_id not in (None, ""):
            account = customer_selectors.account_get(
                workspace=workspace, actor=actor, account_id=account_id
            )
        if contact_id not in (None, ""):
            contact = customer_selectors.contact_get(
                workspace=workspace, actor=actor, contact_id=contact_id
            )
    else:
        raise ApplicationError(
            _("Choose the visit, or the customer you are visiting."), code="no_customer"
        )
    plan_means = task.visit_plan.means if task is not None and task.visit_plan else ""
    means = _means(means, plan_means or VisitMeans.COMPANY_VISIT)
    stored_photo = clean_photo(photo) if photo else None
    settings = visit_settings_get(workspace=workspace)
    target = _target_point(account, contact)
    distance = haversine_m(*position, *target) if position and target else None
    _already_open(workspace, actor, task)
    checkin = CheckIn(
        workspace_id=getattr(workspace, "pk", workspace),
        user=actor,
        task=task,
        account=account,
        contact=contact,
        means=means,
        checked_in_at=timezone.now(),
        latitude=round(position[0], 6) if position else None,
        longitude=round(position[1], 6) if position else None,
        accuracy_m=accuracy,
        distance_m=distance,
        is_far=distance is not None and distance > settings.far_checkin_meters,
    )
    try:
        with transaction.atomic():
            if stored_photo is not None:
                checkin.photo.save(stored_photo.name, stored_photo, save=False)
            checkin.save()
            _log(actor, checkin, None)
    except IntegrityError:
        if checkin.photo:
            checkin.photo.delete(save=False)
        # Another request checked this rep in meanwhile: the same answer as the check above.
        _already_open(workspace, actor, task)
        raise
    return checkin


def _own_checkin(workspace, actor: User, checkin_id, *, lock: bool) -> CheckIn:
    from ..selectors.visits import checkin_list

    qs = checkin_list(workspace=workspace, actor=actor)
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        checkin = qs.get(pk=int(checkin_id))
    except (CheckIn.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    if checkin.user_id != actor.pk:
        raise PermissionDenied(
            _("Only the rep who checked in can change this check-in."), code="not_your_checkin"
        )
    return checkin


def checkin_set_customer_location(*, actor: User, workspace: Workspace, checkin_id) -> CheckIn:
    """Give the check-in's customer (the account, else the contact) this check-in's
    position as its coordinates — offered when the customer has none. Refused when the
    customer already has coordinates or the check-in has no position."""
    from guanxi.customers.services import records

    permissions.require(actor, CHECKIN, Action.CREATE)
    with transaction.atomic():
        checkin = _own_checkin(workspace, actor, checkin_id, lock=True)
        if checkin.latitude is None or checkin.longitude is None:
            raise ApplicationError(
                _("This check-in has no position to give the customer."), code="no_position"
            )
        customer = checkin.account or checkin.contact
        if customer is None:
            raise ApplicationError(_("This check-in has no customer."), code="no_customer")
        if customer.latitude is not None and customer.longitude is not None:
            raise Conflict(
                _("%(name)s already has coordinates; change them on the customer's page.")
                % {"name": customer.name},
                code="has_coordinates",
            )
        update = records.account_update if checkin.account else records.contact_update
        key = "account_id" if checkin.account else "contact_id"
        update(
            actor=actor,
            workspace=workspace,
            **{key: customer.pk},
            latitude=checkin.latitude,
            longitude=checkin.longitude,
        )
        before = _snapshot(checkin)
        checkin.distance_m = 0
        checkin.is_far = False
        checkin.save(update_fields=["distance_m", "is_far", "updated_at"])
        _log(actor, checkin, before)
    return checkin


# --- check out ----------------------------------------------------------------------------------


def checkin_checkout(
    *,
    actor: User,
    workspace: Workspace,
    checkin_id=None,
    task_id=None,
    notes: str = "",
    means: str | None = None,
    outcome: str = "",
) -> CheckIn:
    """Check out of the actor's check-in (by its id, or the open one of a visit task):
    the visit goes on the timeline (kind ``visit``, subtype the means, with the check-in's
    place, distance and duration) and the visit task is done."""
    permissions.require(actor, CHECKIN, Action.CREATE)
    notes = _notes(notes)
    outcome = _outcome(outcome)
    if checkin_id in (None, "") and task_id in (None, ""):
        raise ApplicationError(_("Choose the check-in to check out of."), code="no_checkin")
    with transaction.atomic():
        if checkin_id in (None, ""):
            checkin_id = (
                CheckIn.objects.in_workspace(workspace)
                .filter(user=actor, task_id=_int_or_none(task_id), checked_out_at__isnull=True)
                .values_list("pk", flat=True)
                .first()
            )
            if checkin_id is None:
                raise ApplicationError(
                    _("You have not checked in to this visit, so you cannot check out."),
                    code="not_checked_in",
                )
        checkin = _own_checkin(workspace, actor, checkin_id, lock=True)
        if checkin.checked_out_at is not None:
            raise Conflict(_("You have already checked out of this visit."), code="checked_out")
        means = _means(means, checkin.means)
        now = timezone.now()
        duration = max(0, int((now - checkin.checked_in_at).total_seconds()))
        customer = checkin.account or checkin.contact
        entry = record_entry(
            workspace=workspace,
            author=actor,
            kind=EntryKind.VISIT,
            subtype=means,
            channel=Channel.IN_PERSON,
            occurred_at=checkin.checked_in_at,
            duration_seconds=duration,
            outcome=outcome,
            subject=gettext("%(means)s: %(name)s")
            % {"means": VisitMeans(means).label, "name": customer.name if customer else ""},
            body=notes,
            account=checkin.account,
            contacts=[checkin.contact] if checkin.contact else (),
            data={
                "checkin_id": checkin.pk,
                "task_id": checkin.task_id,
                "latitude": _float(checkin.latitude),
                "longitude": _float(checkin.longitude),
                "accuracy_m": checkin.accuracy_m,
                "distance_m": checkin.distance_m,
                "is_far": checkin.is_far,
                "no_position": checkin.latitude is None,
                "checked_in_at": checkin.checked_in_at.isoformat(),
                "checked_out_at": now.isoformat(),
                "has_photo": bool(checkin.photo),
            },
        )
        before = _snapshot(checkin)
        checkin.checked_out_at = now
        checkin.notes = notes
        checkin.means = means
        checkin.entry = entry
        checkin.save(update_fields=["checked_out_at", "notes", "means", "entry", "updated_at"])
        _log(actor, checkin, before)
        if checkin.task_id is not None:
            task = (
                Task.objects.in_workspace(workspace)
                .select_for_update()
                .filter(pk=checkin.task_id, status=TaskStatus.OPEN)
                .first()
            )
            if task is not None:
                task_before = audit.snapshot(task)
                task.status = TaskStatus.DONE
                task.completed_at = now
                task.save(update_fields=["status", "completed_at", "updated_at"])
                audit.log_update(actor=actor, instance=task, before=task_before)
    return checkin


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound() from None


def _float(value) -> float | None:
    return None if value is None else float(value)
