"""The customer pool (公海): unowned customers that reps claim, release and are assigned;
the cap on how many customers a rep holds; the rules that return neglected customers and
departed reps' customers to the pool.

A "customer" here is an account or an individual contact (a contact without an account);
contacts at an account follow their account and are not counted against the cap.

Every move locks the record (``select_for_update``) before it reads the owner, so two reps
claiming one customer at once cannot both win: the second sees the first as the owner.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, AuditAction, AuditEntry, User, Workspace

from .. import events
from ..models import Account, Contact, PoolEvent, PoolSettings

ACCOUNT = "customers.account"
CONTACT = "customers.contact"
MODELS = {ACCOUNT: Account, CONTACT: Contact}
# Ids per call of customer_assign: a bulk action's page, not a whole table.
MAX_ASSIGN = 1000
SWEEP_BATCH = 500


def _ws_id(workspace) -> int:
    return getattr(workspace, "pk", workspace)


def _model_for(object_key: str):
    try:
        return MODELS[object_key]
    except (KeyError, TypeError):
        raise ApplicationError(
            _("Choose an account or a contact."),
            code="invalid_object",
            fields={"object_key": [_("Choose an account or a contact.")]},
        ) from None


# --- settings -------------------------------------------------------------------------------


def pool_settings_get(*, workspace) -> PoolSettings:
    """The workspace's pool rules; defaults (no cap, no return) when never saved."""
    settings = PoolSettings.objects.in_workspace(workspace).first()
    return settings or PoolSettings(workspace_id=_ws_id(workspace))


POOL_SETTING_FIELDS = (
    "max_per_rep",
    "return_after_days",
    "return_on_departure",
    "reclaim_after_days",
)
MAX_DAYS = 36500
MAX_CAP = 10_000_000


def _whole(value, *, field: str, maximum: int) -> int:
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip()) if value not in (None, "") else None
    except (TypeError, ValueError):
        number = None
    if number is None or number < 0 or number > maximum:
        message = _("Enter a whole number from 0 to %(max)s.") % {"max": maximum}
        raise ApplicationError(message, fields={field: [message]})
    return number


def pool_settings_update(*, actor: User, workspace: Workspace, **changes) -> PoolSettings:
    """Change the pool rules (administrators only). Unknown keys are refused."""
    permissions.require_admin(actor)
    unknown = set(changes) - set(POOL_SETTING_FIELDS)
    if unknown:
        raise ApplicationError(
            _("These fields cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))}
        )
    values = {}
    for name, value in changes.items():
        if name == "return_on_departure":
            if not isinstance(value, bool):
                raise ApplicationError(
                    _("Enter true or false."), fields={name: [_("Enter true or false.")]}
                )
            values[name] = value
        else:
            values[name] = _whole(
                value, field=name, maximum=MAX_CAP if name == "max_per_rep" else MAX_DAYS
            )
    with transaction.atomic():
        settings = PoolSettings.objects.in_workspace(workspace).select_for_update().first()
        if settings is None:
            try:
                with transaction.atomic():
                    settings = PoolSettings.objects.create(workspace_id=_ws_id(workspace))
            except IntegrityError:  # created by a concurrent first save
                settings = PoolSettings.objects.in_workspace(workspace).select_for_update().get()
        before = audit.snapshot(settings)
        for name, value in values.items():
            setattr(settings, name, value)
        settings.save()
        audit.log_update(actor=actor, instance=settings, before=before)
    return settings


# --- the cap ------------------------------------------------------------------------------


def held_count(*, workspace, owner) -> int:
    """How many customers ``owner`` holds: accounts plus individual contacts."""
    owner_id = getattr(owner, "pk", owner)
    accounts = Account.objects.in_workspace(workspace).filter(owner_id=owner_id).count()
    people = (
        Contact.objects.in_workspace(workspace)
        .filter(owner_id=owner_id, account__isnull=True)
        .count()
    )
    return accounts + people


def counts_against_cap(object_key: str, record) -> bool:
    return object_key == ACCOUNT or getattr(record, "account_id", None) is None


def ensure_capacity(*, workspace, owner, adding: int = 1) -> None:
    """Refuse (``Conflict``, code ``pool_cap_reached``) when ``owner`` would hold more than
    the workspace's cap after taking ``adding`` more customers. No cap when it is 0.

    Callers that create or assign customers call this inside their transaction: it then
    locks the owner's user row, so concurrent claims for one rep count one after another
    and the cap holds exactly.
    """
    if owner is None or adding <= 0:
        return
    cap = pool_settings_get(workspace=workspace).max_per_rep
    if not cap:
        return
    if transaction.get_connection().in_atomic_block:
        owner_id = getattr(owner, "pk", owner)
        list(User.objects.select_for_update().filter(pk=owner_id).values_list("pk", flat=True))
    held = held_count(workspace=workspace, owner=owner)
    if held + adding > cap:
        name = getattr(owner, "full_name", None) or str(owner)
        raise Conflict(
            _(
                "%(name)s already holds %(held)s customers; the cap is %(cap)s per rep. "
                "Release some to the pool first."
            )
            % {"name": name, "held": held, "cap": cap},
            code="pool_cap_reached",
        )


# --- moves -----------------------------------------------------------------------------------


def _lock(model, workspace, record_id):
    try:
        return model.objects.in_workspace(workspace).select_for_update().get(pk=int(record_id))
    except (model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None


def _visible_or_unowned(actor: User, object_key: str, record) -> bool:
    """A rep sees pool records (no owner) whatever their visibility; owned ones through
    the usual visibility rules."""
    if not permissions.can(actor, object_key, Action.READ):
        return False
    if record.owner_id is None:
        return True
    model = MODELS[object_key]
    qs = model.objects.in_workspace(record.workspace_id).filter(pk=record.pk)
    return permissions.visible(qs, actor=actor, object_key=object_key).exists()


def is_manager(actor: User, object_key: str) -> bool:
    """Administrators, and roles that may update and act in bulk on the object beyond their
    own records (a sales manager, not a rep)."""
    if not actor.is_active:
        return False
    if actor.role.is_admin:
        return True
    rights = permissions.rights_for(actor, object_key)
    return (
        Action.UPDATE in rights["actions"]
        and Action.BULK in rights["actions"]
        and rights["visibility"] != "own"
    )


def _record_event(
    *, workspace, object_key, record, kind, from_owner_id, to_owner_id, actor, reason
):
    PoolEvent.objects.create(
        workspace_id=_ws_id(workspace),
        account=record if object_key == ACCOUNT else None,
        contact=record if object_key == CONTACT else None,
        kind=kind,
        from_owner_id=from_owner_id,
        to_owner_id=to_owner_id,
        actor=actor,
        reason=str(reason or "")[:200],
    )


def _user_ref(user_id) -> dict | None:
    if user_id is None:
        return None
    user = User.objects.filter(pk=user_id).only("full_name", "email").first()
    return {"id": user_id, "name": (user.full_name or user.email) if user else ""}


def _emit_owner_change(
    *, workspace, object_key, record_id, actor_id, from_owner, to_owner, how, reason
) -> None:
    """The owner change on the customer's timeline (activities), in this transaction."""
    events.emit(
        events.CustomerEvent(
            workspace_id=_ws_id(workspace),
            kind=events.OWNER_CHANGE,
            actor_id=actor_id,
            account_id=record_id if object_key == ACCOUNT else None,
            contact_ids=(record_id,) if object_key == CONTACT else (),
            data={
                "from": from_owner,
                "to": to_owner,
                "how": how,
                "reason": str(reason or "")[:200],
            },
        )
    )


def _move(*, actor, workspace, object_key, record, to_owner_id, kind, reason="") -> None:
    """Set the owner (and ``owned_since``), write the pool event and the audit row."""
    before = audit.snapshot(record, ["owner", "owned_since"])
    from_owner_id = record.owner_id
    record.owner_id = to_owner_id
    record.owned_since = timezone.now() if to_owner_id else None
    record.save(update_fields=["owner", "owned_since", "updated_at"])
    _record_event(
        workspace=workspace,
        object_key=object_key,
        record=record,
        kind=kind,
        from_owner_id=from_owner_id,
        to_owner_id=to_owner_id,
        actor=actor,
        reason=reason,
    )
    _emit_owner_change(
        workspace=workspace,
        object_key=object_key,
        record_id=record.pk,
        actor_id=getattr(actor, "pk", None),
        from_owner=_user_ref(from_owner_id),
        to_owner=_user_ref(to_owner_id),
        how=kind,
        reason=reason,
    )
    entry_changes = audit.diff(before, audit.snapshot(record, ["owner", "owned_since"]))
    entry_changes["pool"] = [None, kind]
    if reason:
        entry_changes["reason"] = [None, str(reason)[:200]]
    audit.log(
        actor=actor,
        workspace=workspace,
        action=AuditAction.UPDATE,
        object_key=object_key,
        object_id=record.pk,
        object_repr=str(record),
        changes=entry_changes,
    )


def _owner_label(owner_id) -> str:
    user = User.objects.filter(pk=owner_id).only("full_name", "email").first()
    if user is None:
        return str(_("another user"))
    return user.full_name or user.email


def customer_claim(*, actor: User, workspace: Workspace, object_key: str, record_id):
    """Take an unowned customer from the pool (needs the read and update rights). Refused
    when someone owns it (naming them, whatever the actor's visibility),
    when the actor is at the cap, or when they released it less than
    ``reclaim_after_days`` ago."""
    model = _model_for(object_key)
    permissions.require(actor, object_key, Action.READ)
    permissions.require(actor, object_key, Action.UPDATE)
    with transaction.atomic():
        record = _lock(model, workspace, record_id)
        # No visibility check: a rep trying to take someone's customer (撞单) must hear who
        # owns it, even when their role would not show them that record.
        if record.owner_id == actor.pk:
            raise Conflict(_("You already own this customer."), code="already_owned")
        if record.owner_id is not None:
            raise Conflict(
                _("%(name)s already owns this customer; it cannot be claimed.")
                % {"name": _owner_label(record.owner_id)},
                code="owned_by_other",
            )
        settings = pool_settings_get(workspace=workspace)
        if settings.reclaim_after_days:
            since = timezone.now() - dt.timedelta(days=settings.reclaim_after_days)
            link = {"account": record} if object_key == ACCOUNT else {"contact": record}
            released = (
                PoolEvent.objects.in_workspace(workspace)
                .filter(**link, from_owner=actor, created_at__gte=since)
                .filter(kind__in=[PoolEvent.Kind.RELEASED, PoolEvent.Kind.RETURNED])
                .order_by("-created_at")
                .first()
            )
            if released is not None:
                until = released.created_at + dt.timedelta(days=settings.reclaim_after_days)
                raise Conflict(
                    _(
                        "You gave this customer back to the pool on %(date)s; you may claim "
                        "it again from %(until)s."
                    )
                    % {
                        "date": timezone.localtime(released.created_at).date().isoformat(),
                        "until": timezone.localtime(until).date().isoformat(),
                    },
                    code="reclaim_too_soon",
                )
        if counts_against_cap(object_key, record):
            ensure_capacity(workspace=workspace, owner=actor)
        _move(
            actor=actor,
            workspace=workspace,
            object_key=object_key,
            record=record,
            to_owner_id=actor.pk,
            kind=PoolEvent.Kind.CLAIMED,
        )
    return record


def customer_release(
    *, actor: User, workspace: Workspace, object_key: str, record_id, reason: str = ""
):
    """Give a customer back to the pool: its owner, or a manager who can see it."""
    model = _model_for(object_key)
    permissions.require(actor, object_key, Action.UPDATE)
    reason = _reason(reason)
    manager = is_manager(actor, object_key)
    if not manager:
        # Checked before the transaction too, so the denial's audit row survives it.
        current = _get(model, workspace, record_id)
        _check_release(actor, object_key, current, manager=manager)
    with transaction.atomic():
        record = _lock(model, workspace, record_id)
        _check_release(actor, object_key, record, manager=manager)
        _move(
            actor=actor,
            workspace=workspace,
            object_key=object_key,
            record=record,
            to_owner_id=None,
            kind=PoolEvent.Kind.RELEASED,
            reason=reason,
        )
    return record


def _get(model, workspace, record_id):
    try:
        return model.objects.in_workspace(workspace).get(pk=int(record_id))
    except (model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None


def _check_release(actor, object_key, record, *, manager: bool) -> None:
    if not _visible_or_unowned(actor, object_key, record):
        raise NotFound()
    if record.owner_id is None:
        raise Conflict(_("This customer is already in the pool."), code="already_in_pool")
    if record.owner_id != actor.pk and not manager:
        audit.log_permission_denied(actor=actor, object_key=object_key, action="release")
        raise PermissionDenied(
            _("Only the owner or a manager can release this customer to the pool.")
        )


def _reason(reason) -> str:
    text = "" if reason is None else str(reason)
    if "\x00" in text or len(text.strip()) > 200:
        raise ApplicationError(
            _("At most %(n)s characters.") % {"n": 200},
            fields={"reason": [_("At most %(n)s characters.") % {"n": 200}]},
        )
    return text.strip()


def _owner_in(workspace, owner_id) -> User | None:
    if owner_id in (None, ""):
        return None
    try:
        user = User.objects.filter(workspace=workspace).get(pk=int(owner_id))
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        raise ApplicationError(
            _("Choose a user of this workspace."), fields={"owner": [_("Unknown user.")]}
        ) from None
    if not user.is_active:
        raise ApplicationError(
            _("%(name)s is deactivated and cannot own customers.") % {"name": user.full_name},
            fields={"owner": [_("Deactivated user.")]},
        )
    return user


def customer_assign(
    *,
    actor: User,
    workspace: Workspace,
    object_key: str,
    record_id=None,
    record_ids: Iterable | None = None,
    owner_id=None,
    reason: str = "",
) -> list:
    """Give one customer (``record_id``) or several (``record_ids``) to ``owner_id``, or
    back to the pool when it is None. Needs the update right plus bulk actions, or a
    manager's role. All or nothing: the new owner's cap counts every record moved."""
    model = _model_for(object_key)
    permissions.require(actor, object_key, Action.UPDATE)
    if not (is_manager(actor, object_key) or permissions.can(actor, object_key, Action.BULK)):
        permissions.require(actor, object_key, Action.BULK)
    ids = _ids(record_id, record_ids)
    reason = _reason(reason)
    with transaction.atomic():
        owner = _owner_in(workspace, owner_id)
        records = list(
            model.objects.in_workspace(workspace)
            .select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
        )
        visible_ids = set(
            permissions.visible(
                model.objects.in_workspace(workspace).filter(pk__in=ids),
                actor=actor,
                object_key=object_key,
            ).values_list("pk", flat=True)
        )
        found = {r.pk for r in records if r.pk in visible_ids or r.owner_id is None}
        if found != set(ids):
            raise NotFound()
        to_owner_id = owner.pk if owner else None
        moving = [r for r in records if r.owner_id != to_owner_id]
        if owner is not None:
            ensure_capacity(
                workspace=workspace,
                owner=owner,
                adding=sum(1 for r in moving if counts_against_cap(object_key, r)),
            )
        for record in moving:
            _move(
                actor=actor,
                workspace=workspace,
                object_key=object_key,
                record=record,
                to_owner_id=to_owner_id,
                kind=PoolEvent.Kind.ASSIGNED if owner else PoolEvent.Kind.RELEASED,
                reason=reason,
            )
    return records


def _ids(record_id, record_ids) -> list[int]:
    raw = list(record_ids or [])
    if record_id not in (None, ""):
        raw.append(record_id)
    ids: list[int] = []
    for value in raw:
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if number < 1 or number > 2**63 - 1:
            raise NotFound()
        ids.append(number)
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ApplicationError(
            _("Choose at least one customer."), fields={"record_ids": [_("Choose at least one.")]}
        )
    if len(ids) > MAX_ASSIGN:
        raise ApplicationError(
            _("At most %(n)s customers at once.") % {"n": MAX_ASSIGN},
            fields={"record_ids": [_("At most %(n)s customers at once.") % {"n": MAX_ASSIGN}]},
        )
    return ids


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepResult:
    returned_inactive: int = 0
    returned_departed: int = 0


def _neglected(model, workspace, cutoff):
    # GREATEST ignores NULLs on PostgreSQL but returns NULL on SQLite: feed it none.
    touched = Greatest(
        Coalesce("owned_since", "created_at"),
        Coalesce("last_activity_at", "owned_since", "created_at"),
    )
    qs = model.objects.in_workspace(workspace).filter(owner__isnull=False)
    if model is Contact:
        # Contacts at an account follow their account; only individuals are customers.
        qs = qs.filter(account__isnull=True)
    return qs.alias(touched=touched).filter(touched__lt=cutoff)


def pool_return_sweep(*, workspace, now: dt.datetime | None = None) -> SweepResult:
    """Return customers to the pool under the workspace's rules: those untouched for
    ``return_after_days`` (the later of ``owned_since`` and ``last_activity_at``), and,
    with ``return_on_departure``, those of deactivated users. Works in batches of
    ``SWEEP_BATCH``, each its own transaction, so a long sweep holds no long locks."""
    settings = pool_settings_get(workspace=workspace)
    now = now or timezone.now()
    result = SweepResult()
    for object_key, model in MODELS.items():
        if settings.return_after_days:
            cutoff = now - dt.timedelta(days=settings.return_after_days)
            result.returned_inactive += _sweep(
                workspace,
                object_key,
                model,
                lambda m=model, c=cutoff: _neglected(m, workspace, c),
                reason=str(_("No activity for %(n)s days") % {"n": settings.return_after_days}),
            )
        if settings.return_on_departure:
            result.returned_departed += _sweep(
                workspace,
                object_key,
                model,
                lambda m=model: m.objects.in_workspace(workspace).filter(
                    owner__isnull=False, owner__is_active=False
                ),
                reason=str(_("The owner left")),
            )
    return result


def _sweep(workspace, object_key, model, queryset, *, reason: str) -> int:
    moved = 0
    while True:
        with transaction.atomic():
            ids = list(queryset().values_list("pk", flat=True).order_by("pk")[:SWEEP_BATCH])
            if not ids:
                return moved
            # Re-check under the lock: a claim or an activity may have come in between.
            records = list(
                queryset()
                .select_for_update(of=("self",))
                .filter(pk__in=ids)
                .select_related("owner")
                .only("pk", "code", "name", "owner_id", "owned_since", "owner__full_name")
                .order_by("pk")
            )
            if not records:
                return moved
            _return_many(workspace, object_key, model, records, reason=reason)
            moved += len(records)


def _return_many(workspace, object_key, model, records, *, reason: str) -> None:
    """The sweep's moves in bulk: one UPDATE, one INSERT of pool events, one of audit rows
    per batch — the same rows ``_move`` writes one by one."""
    ws_id = _ws_id(workspace)
    now = timezone.now()
    model.objects.in_workspace(workspace).filter(pk__in=[r.pk for r in records]).update(
        owner=None, owned_since=None, updated_at=now
    )
    link = "account" if object_key == ACCOUNT else "contact"
    PoolEvent.objects.bulk_create(
        [
            PoolEvent(
                workspace_id=ws_id,
                kind=PoolEvent.Kind.RETURNED,
                from_owner_id=r.owner_id,
                reason=reason[:200],
                **{f"{link}_id": r.pk},
            )
            for r in records
        ]
    )
    for r in records:
        _emit_owner_change(
            workspace=ws_id,
            object_key=object_key,
            record_id=r.pk,
            actor_id=None,
            from_owner={"id": r.owner_id, "name": r.owner.full_name},
            to_owner=None,
            how=PoolEvent.Kind.RETURNED,
            reason=reason,
        )
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                workspace_id=ws_id,
                actor=None,
                actor_label="system",
                action=AuditAction.UPDATE,
                object_key=object_key,
                object_id=str(r.pk),
                object_repr=str(r.name)[:200],
                changes={
                    "owner": [{"id": r.owner_id, "label": r.owner.full_name}, None],
                    "owned_since": [r.owned_since.isoformat() if r.owned_since else None, None],
                    "pool": [None, PoolEvent.Kind.RETURNED],
                    "reason": [None, reason[:200]],
                },
            )
            for r in records
        ]
    )


def pool_return_sweep_all(*, now: dt.datetime | None = None) -> dict[int, SweepResult]:
    """The hourly run: every workspace with pool rules that can return something."""
    results = {}
    rules = PoolSettings.objects.across_workspaces().filter(
        Q(return_after_days__gt=0) | Q(return_on_departure=True)
    )
    workspace_ids = list(rules.values_list("workspace_id", flat=True))
    # Workspaces that never saved settings have the defaults: return on departure.
    departed = set(
        Account.objects.across_workspaces()
        .filter(owner__is_active=False)
        .values_list("workspace_id", flat=True)
        .distinct()
    ) | set(
        Contact.objects.across_workspaces()
        .filter(owner__is_active=False)
        .values_list("workspace_id", flat=True)
        .distinct()
    )
    saved = set(PoolSettings.objects.across_workspaces().values_list("workspace_id", flat=True))
    for workspace_id in sorted(set(workspace_ids) | (departed - saved)):
        results[workspace_id] = pool_return_sweep(workspace=workspace_id, now=now)
    return results
