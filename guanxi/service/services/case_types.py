"""Case types and categories: the five built-in types every workspace starts with
(``service_setup``), and their upkeep by holders of the service configuration right.

A type is never deleted once cases use it (the foreign key protects it); it is made
inactive instead, so new cases cannot pick it while old ones keep their history.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict, FieldErrors, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import CaseCategory, CaseType, CaseTypeKind, Queue
from ..objects import CONFIGURATION

BUILT_IN = (
    CaseTypeKind.COMPLAINT,
    CaseTypeKind.FAULT,
    CaseTypeKind.REPAIR,
    CaseTypeKind.REQUEST,
    CaseTypeKind.INQUIRY,
)
NAME_MAX = 80


# --- the workspace's start -------------------------------------------------------------------


def service_setup(workspace: Workspace) -> None:
    """Make the built-in case types (complaint, fault, repair, request, inquiry), named in
    the workspace's language, once per workspace. Idempotent and safe to call at once from
    two requests (the workspace row is locked while it looks)."""
    if CaseType.objects.in_workspace(workspace).exists():
        return
    with transaction.atomic():
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        if CaseType.objects.in_workspace(workspace).exists():
            return
        with translation.override(workspace.language or "zh-hans"):
            CaseType.objects.bulk_create(
                CaseType(
                    workspace=workspace,
                    name=str(kind.label),
                    kind=kind.value,
                    position=position * 10,
                )
                for position, kind in enumerate(BUILT_IN, start=1)
            )


# --- validation ------------------------------------------------------------------------------


def _int(value) -> int:
    try:
        return int(getattr(value, "pk", value))
    except (TypeError, ValueError):
        return 0


def _name(errors: FieldErrors, value, *, required: bool = True) -> str:
    text = str(value if value is not None else "").strip()
    if "\x00" in text:
        errors.add("name", _("Text may not contain NUL characters."))
    elif len(text) > NAME_MAX:
        errors.add("name", _("At most %(n)s characters.") % {"n": NAME_MAX})
    elif required and not text:
        errors.add("name", _("Enter a name."))
    return text


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "on", "yes")
    return bool(value)


# --- case types ------------------------------------------------------------------------------

TYPE_FIELDS = frozenset({"name", "kind", "position", "active"})


def _clean_type(values: dict, *, partial: bool) -> dict:
    errors = FieldErrors()
    out: dict = {}
    for key in values:
        if key not in TYPE_FIELDS:
            errors.add(key, _("This field cannot be set."))
    if "name" in values or not partial:
        out["name"] = _name(errors, values.get("name"))
    if "kind" in values or not partial:
        kind = str(values.get("kind") or "")
        if kind not in CaseTypeKind.values:
            errors.add("kind", _("Choose what kind of case this is."))
        out["kind"] = kind
    if "position" in values:
        raw = values["position"]
        try:
            position = 0 if raw in (None, "") else int(str(raw).strip())
        except (TypeError, ValueError):
            position = -1
        if not 0 <= position <= 32767:
            errors.add("position", _("Enter a whole number from 0 to 32767."))
        out["position"] = position
    if "active" in values:
        out["active"] = _bool(values["active"])
    errors.raise_if_any()
    return out


def _type_name_taken(name) -> Conflict:
    return Conflict(
        _("A case type named %(name)s already exists.") % {"name": name},
        fields={"name": [_("This name is already taken.")]},
    )


def case_type_create(*, actor: User, workspace: Workspace, **values) -> CaseType:
    """A new case type (a name, and the kind of case it is: complaint, fault, repair,
    request or inquiry, which decides whether the customer is flagged)."""
    permissions.require(actor, CONFIGURATION, Action.CREATE)
    clean = _clean_type(values, partial=False)
    try:
        with transaction.atomic():
            row = CaseType.objects.create(workspace=workspace, **clean)
            audit.log_create(actor=actor, instance=row)
    except IntegrityError:
        raise _type_name_taken(clean["name"]) from None
    return row


def case_type_update(*, actor: User, workspace: Workspace, type_id, **changes) -> CaseType:
    """Rename, re-order, switch off or on a case type. Its kind is fixed once cases use it
    (old cases keep the kind they were opened with)."""
    from ..models import Case

    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    clean = _clean_type(changes, partial=True)
    try:
        with transaction.atomic():
            row = (
                CaseType.objects.in_workspace(workspace)
                .select_for_update()
                .filter(pk=_int(type_id))
                .first()
            )
            if row is None:
                raise NotFound()
            if (
                "kind" in clean
                and clean["kind"] != row.kind
                and Case.objects.in_workspace(workspace).filter(case_type=row).exists()
            ):
                raise ApplicationError(
                    _("Cases of this type exist, so its kind cannot change; make a new type."),
                    fields={"kind": [_("Cases use this type.")]},
                    status=409,
                    code="in_use",
                )
            before = audit.snapshot(row)
            for key, value in clean.items():
                setattr(row, key, value)
            row.save()
            audit.log_update(actor=actor, instance=row, before=before)
    except IntegrityError:
        raise _type_name_taken(clean.get("name")) from None
    return row


def case_type_list(*, actor: User, workspace: Workspace, active_only: bool = False):
    """The workspace's case types (the built-in ones made on first look)."""
    if not (
        permissions.can(actor, CONFIGURATION, Action.READ)
        or permissions.can(actor, "service.case", Action.READ)
    ):
        permissions.require(actor, CONFIGURATION, Action.READ)
    service_setup(workspace)
    qs = CaseType.objects.in_workspace(workspace).order_by("position", "id")
    return qs.filter(active=True) if active_only else qs


# --- categories ------------------------------------------------------------------------------

CATEGORY_FIELDS = frozenset({"name", "parent", "queue", "active"})


def _clean_category(workspace, values: dict, *, partial: bool, row=None) -> dict:
    errors = FieldErrors()
    out: dict = {}
    for key in values:
        if key not in CATEGORY_FIELDS:
            errors.add(key, _("This field cannot be set."))
    if "name" in values or not partial:
        out["name"] = _name(errors, values.get("name"))
    if "parent" in values:
        parent = None
        if values["parent"] not in (None, ""):
            parent = (
                CaseCategory.objects.in_workspace(workspace)
                .filter(pk=_int(values["parent"]))
                .first()
            )
            if parent is None:
                errors.add("parent", _("Choose a category of this workspace."))
            elif parent.parent_id is not None:
                errors.add("parent", _("Categories have two levels; choose a top-level one."))
            elif row is not None and parent.pk == row.pk:
                errors.add("parent", _("A category cannot be its own parent."))
            elif (
                row is not None
                and CaseCategory.objects.in_workspace(workspace).filter(parent=row).exists()
            ):
                errors.add("parent", _("This category has sub-categories, so it stays on top."))
        out["parent"] = parent
    if "queue" in values:
        queue = None
        if values["queue"] not in (None, ""):
            queue = Queue.objects.in_workspace(workspace).filter(pk=_int(values["queue"])).first()
            if queue is None:
                errors.add("queue", _("Choose a queue of this workspace."))
        out["queue"] = queue
    if "active" in values:
        out["active"] = _bool(values["active"])
    errors.raise_if_any()
    return out


def _category_name_taken(name) -> Conflict:
    return Conflict(
        _("A category named %(name)s already exists here.") % {"name": name},
        fields={"name": [_("This name is already taken.")]},
    )


def case_category_create(*, actor: User, workspace: Workspace, **values) -> CaseCategory:
    """A new category (under a top-level one, or on top); it may route its cases to a
    queue."""
    permissions.require(actor, CONFIGURATION, Action.CREATE)
    clean = _clean_category(workspace, values, partial=False)
    try:
        with transaction.atomic():
            if (
                CaseCategory.objects.in_workspace(workspace)
                .filter(parent=clean.get("parent"), name=clean["name"])
                .exists()
            ):
                # NULL parents are never equal in the unique constraint; check by hand.
                raise _category_name_taken(clean["name"])
            row = CaseCategory.objects.create(workspace=workspace, **clean)
            audit.log_create(actor=actor, instance=row)
    except IntegrityError:
        raise _category_name_taken(clean["name"]) from None
    return row


def case_category_update(
    *, actor: User, workspace: Workspace, category_id, **changes
) -> CaseCategory:
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    try:
        with transaction.atomic():
            row = (
                CaseCategory.objects.in_workspace(workspace)
                .select_for_update()
                .filter(pk=_int(category_id))
                .first()
            )
            if row is None:
                raise NotFound()
            clean = _clean_category(workspace, changes, partial=True, row=row)
            name = clean.get("name", row.name)
            parent = clean.get("parent", row.parent) if "parent" in clean else row.parent
            if (
                CaseCategory.objects.in_workspace(workspace)
                .filter(parent=parent, name=name)
                .exclude(pk=row.pk)
                .exists()
            ):
                raise _category_name_taken(name)
            before = audit.snapshot(row)
            for key, value in clean.items():
                setattr(row, key, value)
            row.save()
            audit.log_update(actor=actor, instance=row, before=before)
    except IntegrityError:
        raise _category_name_taken(changes.get("name")) from None
    return row


def case_category_list(*, actor: User, workspace: Workspace, active_only: bool = False):
    """Categories, top-level ones each followed by their children (ordered by the caller's
    template: ``parent`` is selected)."""
    if not (
        permissions.can(actor, CONFIGURATION, Action.READ)
        or permissions.can(actor, "service.case", Action.READ)
    ):
        permissions.require(actor, CONFIGURATION, Action.READ)
    qs = CaseCategory.objects.in_workspace(workspace).select_related("parent", "queue")
    return qs.filter(active=True) if active_only else qs


def categories_as_tree(categories) -> list[tuple[CaseCategory, int]]:
    """(category, depth) in tree order: each top-level category, then its children."""
    rows = list(categories)
    children: dict[int, list] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row)
    known = {row.pk for row in rows}
    out = []
    for row in sorted(rows, key=lambda r: (r.name, r.pk)):
        if row.parent_id is None or row.parent_id not in known:
            out.append((row, 0 if row.parent_id is None else 1))
            for child in sorted(children.get(row.pk, []), key=lambda r: (r.name, r.pk)):
                out.append((child, 1))
    return out
