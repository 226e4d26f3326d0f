"""Agents: the working facts of service agents and technicians (languages, most open cases,
phone extension, technician flag, home, regions, visits a day), their skills (a case
category, product or case type at a level 1–5), and their availability.

Profiles and skills are configuration (the service's configuration right). Agents set
their own availability (anyone who works cases); a supervisor with the configuration right
may set anyone's. Becoming available hands out the cases waiting in the agent's queues.
"""

from __future__ import annotations

import re

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, FieldErrors, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import AgentProfile, AgentSkill, AgentStatus, CaseCategory, CaseType, SkillKind
from ..objects import CASE, CONFIGURATION, DISPATCH
from . import routing
from .queues import clean_languages

EXTENSION_RE = re.compile(r"^[A-Za-z0-9_.@+-]{1,40}$")
MAX_REGIONS = 50


def may_set_own_status(user: User) -> bool:
    """Who takes cases or visits may say whether they are available."""
    return permissions.can(user, CASE, Action.UPDATE) or permissions.can(
        user, DISPATCH, Action.UPDATE
    )


def _int(errors: FieldErrors, value, *, field: str, low: int, high: int) -> int | None:
    try:
        number = int(value)
        if not low <= number <= high:
            raise ValueError
    except (TypeError, ValueError):
        errors.add(
            field,
            _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high},
        )
        return None
    return number


def _regions(errors: FieldErrors, value) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = value.replace("，", ",").replace("\n", ",").split(",")
    if not isinstance(value, list | tuple):
        errors.add("regions", _("Give a list of regions."))
        return []
    items = [str(v).strip() for v in value if str(v).strip()]
    if len(items) > MAX_REGIONS or any(len(v) > 60 for v in items):
        errors.add("regions", _("At most 50 regions of 60 characters each."))
        return []
    return list(dict.fromkeys(items))


def _user(workspace, user_id) -> User:
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    user = User.objects.filter(workspace_id=workspace.pk, pk=user_id).first()
    if user is None:
        raise NotFound()
    return user


def _clean_profile(workspace, values: dict, current: AgentProfile | None) -> dict:
    from guanxi.activities.services.routes import check_coordinates

    errors = FieldErrors()
    out: dict = {}
    if "languages" in values:
        out["languages"] = clean_languages(errors, values.get("languages"))
    if "regions" in values:
        out["regions"] = _regions(errors, values.get("regions"))
    if "max_open_cases" in values:
        out["max_open_cases"] = _int(
            errors, values.get("max_open_cases"), field="max_open_cases", low=0, high=10_000
        )
    if "max_visits_per_day" in values:
        out["max_visits_per_day"] = _int(
            errors, values.get("max_visits_per_day"), field="max_visits_per_day", low=0, high=100
        )
    if "is_technician" in values:
        value = values.get("is_technician")
        out["is_technician"] = bool(value) and value not in ("false", "0", "off")
    if "phone_extension" in values:
        extension = str(values.get("phone_extension") or "").strip()
        if extension and not EXTENSION_RE.match(extension):
            errors.add("phone_extension", _("Letters, digits and . _ @ + - only (at most 40)."))
        elif extension:
            taken = AgentProfile.objects.in_workspace(workspace).filter(phone_extension=extension)
            if current is not None:
                taken = taken.exclude(pk=current.pk)
            if taken.exists():
                errors.add("phone_extension", _("Another agent has this extension."))
        out["phone_extension"] = extension
    if "home_latitude" in values or "home_longitude" in values:
        try:
            point = check_coordinates(
                values.get("home_latitude"), values.get("home_longitude"), prefix="home_"
            )
        except ApplicationError as exc:
            for name, messages in exc.fields.items():
                for message in messages:
                    errors.add(name, message)
            point = None
        out["home_latitude"] = round(point[0], 6) if point else None
        out["home_longitude"] = round(point[1], 6) if point else None
    errors.raise_if_any()
    return out


def agent_profile_save(*, actor: User, workspace: Workspace, user_id, **values) -> AgentProfile:
    """Make or change a user's agent profile (only the fields given): ``languages``,
    ``max_open_cases``, ``phone_extension``, ``is_technician``, ``home_latitude`` and
    ``home_longitude``, ``regions``, ``max_visits_per_day``."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    user = _user(workspace, user_id)
    with transaction.atomic():
        profile = (
            AgentProfile.objects.in_workspace(workspace)
            .select_for_update()
            .filter(user=user)
            .first()
        )
        clean = _clean_profile(workspace, values, profile)
        if profile is None:
            profile = AgentProfile.objects.create(workspace=workspace, user=user, **clean)
            audit.log_create(actor=actor, instance=profile)
            return profile
        before = audit.snapshot(profile)
        for name, value in clean.items():
            setattr(profile, name, value)
        profile.save()
        audit.log_update(actor=actor, instance=profile, before=before)
    return profile


def _skill_object(workspace, kind: str, object_id) -> int:
    errors = FieldErrors()
    if kind not in SkillKind.values:
        errors.add("kind", _("Choose a case category, a product or a case type."))
        errors.raise_if_any()
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        object_id = 0
    if kind == SkillKind.CATEGORY:
        model = CaseCategory
    elif kind == SkillKind.CASE_TYPE:
        model = CaseType
    else:
        model = apps.get_model("sales", "Product")
    if object_id <= 0 or not model.objects.filter(workspace=workspace, pk=object_id).exists():
        errors.add("object_id", _("Choose one of this workspace's."))
    errors.raise_if_any()
    return object_id


def agent_skill_set(
    *, actor: User, workspace: Workspace, user_id, kind: str, object_id, level=3
) -> AgentSkill:
    """Give an agent a skill (or change its level): ``kind`` is category, product or
    case_type, ``object_id`` the record, ``level`` 1–5. The agent's profile is made if
    they have none."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    user = _user(workspace, user_id)
    errors = FieldErrors()
    level = _int(errors, level, field="level", low=1, high=5)
    errors.raise_if_any()
    object_id = _skill_object(workspace, kind, object_id)
    with transaction.atomic():
        profile, created = AgentProfile.objects.in_workspace(workspace).get_or_create(
            workspace=workspace, user=user
        )
        if created:
            audit.log_create(actor=actor, instance=profile)
        skill = (
            AgentSkill.objects.in_workspace(workspace)
            .select_for_update()
            .filter(agent=profile, kind=kind, object_id=object_id)
            .first()
        )
        if skill is None:
            skill = AgentSkill.objects.create(
                workspace=workspace, agent=profile, kind=kind, object_id=object_id, level=level
            )
            audit.log_create(actor=actor, instance=skill)
        elif skill.level != level:
            before = audit.snapshot(skill)
            skill.level = level
            skill.save()
            audit.log_update(actor=actor, instance=skill, before=before)
    return skill


def agent_skill_delete(*, actor: User, workspace: Workspace, user_id, skill_id) -> None:
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    user = _user(workspace, user_id)
    try:
        skill_id = int(skill_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    with transaction.atomic():
        skill = (
            AgentSkill.objects.in_workspace(workspace)
            .select_for_update()
            .filter(pk=skill_id, agent__user=user)
            .first()
        )
        if skill is None:
            raise NotFound()
        audit.log_delete(actor=actor, instance=skill)
        skill.delete()


def agent_set_status(
    *, actor: User, workspace: Workspace, status: str, user_id=None
) -> tuple[AgentProfile, list]:
    """Set an agent's availability: the actor's own (anyone who works cases or visits), or
    another user's (``user_id``; a supervisor's configuration right). Becoming available
    hands out the cases waiting in the agent's queues (returned with the profile)."""
    if user_id in (None, "") or str(user_id) == str(actor.pk):
        user = actor
        if not may_set_own_status(actor):
            permissions.require(actor, CASE, Action.UPDATE)
    else:
        permissions.require(actor, CONFIGURATION, Action.UPDATE)
        user = _user(workspace, user_id)
    if status not in AgentStatus.values:
        raise ApplicationError(
            _("Choose available, busy, away or offline."),
            fields={"status": [_("Choose available, busy, away or offline.")]},
        )
    with transaction.atomic():
        profile = (
            AgentProfile.objects.in_workspace(workspace)
            .select_for_update()
            .filter(user=user)
            .first()
        )
        if profile is None:
            profile = AgentProfile(workspace=workspace, user=user)
            before = None
        else:
            before = audit.snapshot(profile)
        changed = profile.status != status or profile.pk is None
        profile.status = status
        if changed:
            profile.status_changed_at = timezone.now()
        profile.save()
        if before is None:
            audit.log_create(actor=actor, instance=profile)
        else:
            audit.log_update(actor=actor, instance=profile, before=before)
        handed = []
        if status == AgentStatus.AVAILABLE:
            handed = routing.cases_hand_out(workspace=workspace, user=user)
    return profile, handed
