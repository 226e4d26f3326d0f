"""State changes of the platform. Each service checks the actor's rights *before* its
transaction (so a denial's audit row survives), then writes the change and its audit row
in one ``transaction.atomic`` block.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict, NotFound

from . import audit, custom_fields, mail, permissions
from .models import (
    Action,
    ApiToken,
    AuditAction,
    CustomField,
    FieldAccess,
    FieldType,
    Invitation,
    RecordShare,
    Role,
    RoleFieldRule,
    SavedView,
    Team,
    TeamKind,
    User,
    Visibility,
    Workspace,
)
from .roles import DEFAULT_ROLES

# --- input text ---------------------------------------------------------------------------------


def _text(value: Any, *, field: str, max_length: int) -> str:
    """Stripped text that fits its column; NUL characters (which PostgreSQL refuses) and
    over-long values are a field error, never a database error."""
    text = "" if value is None else str(value)
    if "\x00" in text:
        raise ApplicationError(
            _("This text contains characters that are not allowed."),
            fields={field: [_("Characters that are not allowed.")]},
        )
    text = text.strip()
    if len(text) > max_length:
        raise ApplicationError(
            _("At most %(n)s characters.") % {"n": max_length},
            fields={field: [_("At most %(n)s characters.") % {"n": max_length}]},
        )
    return text


# --- workspaces ----------------------------------------------------------------------------


def workspace_create(
    *,
    name: str,
    admin_email: str,
    admin_name: str,
    admin_password: str | None,
    language: str = "zh-hans",
    time_zone: str = "Asia/Shanghai",
) -> tuple[Workspace, User]:
    """Create a workspace with the built-in roles and its first administrator."""
    name = _text(name, field="name", max_length=200)
    if not name:
        raise ApplicationError(_("Enter the company name."), fields={"name": [_("Required.")]})
    _check_email(admin_email, field="email")
    if User.objects.filter(email__iexact=admin_email).exists():
        raise Conflict(
            _("An account with this e-mail already exists."),
            fields={"email": [_("Already registered.")]},
        )
    if admin_password is not None:
        _check_password(admin_password, email=admin_email)
    with transaction.atomic():
        base = slugify(name)[:40] or "workspace"
        slug = base
        while Workspace.objects.filter(slug=slug).exists():
            slug = f"{base}-{secrets.token_hex(3)}"
        workspace = Workspace.objects.create(
            name=name, slug=slug, language=language, time_zone=time_zone
        )
        # Built-in role names are data the administrator may rename: written in the
        # workspace's language.
        with translation.override(language):
            roles = {
                spec.code: Role.objects.create(
                    workspace=workspace,
                    name=str(spec.name),
                    code=spec.code,
                    description=str(spec.description),
                    is_admin=spec.is_admin,
                    is_system=True,
                    rights=spec.rights(),
                )
                for spec in DEFAULT_ROLES
            }
        admin = User(
            workspace=workspace,
            email=admin_email.strip().lower(),
            full_name=_text(admin_name, field="full_name", max_length=150) or admin_email,
            role=roles["administrator"],
            language=language,
        )
        if admin_password:
            admin.set_password(admin_password)
        else:
            admin.set_unusable_password()
        admin.save()
        audit.log(
            actor=admin,
            workspace=workspace,
            action=AuditAction.CREATE,
            object_key="platform.workspace",
            object_id=workspace.pk,
            object_repr=workspace.name,
            changes={"name": [None, workspace.name]},
        )
        audit.log_create(actor=admin, instance=admin)
    return workspace, admin


def _check_email(email: str, *, field: str) -> None:
    try:
        validate_email((email or "").strip())
    except ValidationError:
        raise ApplicationError(
            _("Enter a valid e-mail address."), fields={field: [_("Enter a valid e-mail address.")]}
        ) from None


def _check_password(password: str, *, email: str = "") -> None:
    try:
        validate_password(password, User(email=email))
    except ValidationError as exc:
        raise ApplicationError(
            _("Choose a stronger password."),
            code="weak_password",
            fields={"password": list(exc.messages)},
        ) from None


# --- teams ---------------------------------------------------------------------------------


def _team_in(workspace, team_id) -> Team | None:
    if team_id in (None, ""):
        return None
    try:
        return Team.objects.in_workspace(workspace).get(pk=team_id)
    except (Team.DoesNotExist, ValueError, TypeError):
        raise ApplicationError(
            _("Choose a team of this workspace."), fields={"team": [_("Unknown team.")]}
        ) from None


def _refresh_paths(team: Team) -> None:
    """Recompute ``path`` for ``team`` and everything below it."""
    team.path = (team.parent.path if team.parent_id else "/") + f"{team.pk}/"
    Team.objects.in_workspace(team.workspace_id).filter(pk=team.pk).update(path=team.path)
    for child in Team.objects.in_workspace(team.workspace_id).filter(parent=team):
        _refresh_paths(child)


def team_create(
    *,
    actor: User,
    workspace: Workspace,
    name: str,
    kind: str = TeamKind.TEAM,
    parent_id: int | None = None,
    manager_id: int | None = None,
    custom: dict | None = None,
) -> Team:
    """Create a department or team, optionally below another."""
    permissions.require_admin(actor)
    name = _text(name, field="name", max_length=120)
    if not name:
        raise ApplicationError(_("Enter a name."), fields={"name": [_("This field is required.")]})
    if kind not in TeamKind.values:
        raise ApplicationError(_("Choose a kind."), fields={"kind": [_("Unknown kind.")]})
    with transaction.atomic():
        parent = _team_in(workspace, parent_id)
        manager = _user_in(workspace, manager_id, field="manager") if manager_id else None
        values = custom_fields.validate(
            workspace=workspace, object_key="platform.team", values=custom, model=Team
        )
        if Team.objects.in_workspace(workspace).filter(name__iexact=name).exists():
            raise Conflict(
                _("A team with this name already exists."), fields={"name": [_("Already taken.")]}
            )
        team = Team.objects.create(
            workspace=workspace, name=name, kind=kind, parent=parent, manager=manager, custom=values
        )
        _refresh_paths(team)
        audit.log_create(actor=actor, instance=team)
    return team


def team_update(*, actor: User, workspace: Workspace, team_id: int, **changes: Any) -> Team:
    """Change a team's name, kind, parent, manager or custom fields."""
    permissions.require_admin(actor)
    field_keys = {k.removesuffix("_id") for k in changes if k != "custom"}
    field_keys |= {f"custom.{k}" for k in (changes.get("custom") or {})}
    permissions.check_writable(actor, "platform.team", field_keys)
    with transaction.atomic():
        team = _get(Team, workspace, team_id, lock=True)
        before = audit.snapshot(team)
        if "name" in changes:
            name = _text(changes["name"], field="name", max_length=120)
            if not name:
                raise ApplicationError(
                    _("Enter a name."), fields={"name": [_("This field is required.")]}
                )
            if (
                Team.objects.in_workspace(workspace)
                .filter(name__iexact=name)
                .exclude(pk=team.pk)
                .exists()
            ):
                raise Conflict(
                    _("A team with this name already exists."),
                    fields={"name": [_("Already taken.")]},
                )
            team.name = name
        if "kind" in changes:
            if changes["kind"] not in TeamKind.values:
                raise ApplicationError(_("Choose a kind."), fields={"kind": [_("Unknown kind.")]})
            team.kind = changes["kind"]
        if "manager_id" in changes:
            team.manager = (
                _user_in(workspace, changes["manager_id"], field="manager")
                if changes["manager_id"]
                else None
            )
        moved = False
        if "parent_id" in changes:
            parent = _team_in(workspace, changes["parent_id"])
            if parent is not None and (parent.pk == team.pk or parent.path.startswith(team.path)):
                raise ApplicationError(
                    _("A team cannot be placed below itself."),
                    fields={"parent": [_("Not allowed.")]},
                )
            moved = (parent.pk if parent else None) != team.parent_id
            team.parent = parent
        if "custom" in changes:
            team.custom = custom_fields.validate(
                workspace=workspace,
                object_key="platform.team",
                values=changes["custom"],
                current=team.custom,
                instance_pk=team.pk,
                model=Team,
                partial=True,
            )
        team.save()
        if moved:
            _refresh_paths(team)
        audit.log_update(actor=actor, instance=team, before=before)
    return team


def team_delete(*, actor: User, workspace: Workspace, team_id: int) -> None:
    permissions.require_admin(actor)
    with transaction.atomic():
        team = _get(Team, workspace, team_id, lock=True)
        if Team.objects.in_workspace(workspace).filter(parent=team).exists():
            raise Conflict(
                _("Move or delete the teams below this one first."), code="team_has_children"
            )
        if User.objects.filter(workspace=workspace, team=team).exists():
            raise Conflict(
                _("Move this team's members to another team first."), code="team_has_members"
            )
        audit.log_delete(actor=actor, instance=team)
        team.delete()


# --- roles -----------------------------------------------------------------------------------


def _clean_rights(rights: dict | None) -> dict:
    from . import registry

    cleaned: dict[str, dict] = {}
    errors: dict[str, list] = {}
    if not isinstance(rights, dict | None):
        raise ApplicationError(
            _("Some rights are not valid."), fields={"rights": [_("Not valid.")]}
        )
    for key, grant in (rights or {}).items():
        if not isinstance(grant, dict) or not isinstance(grant.get("actions", []), list):
            errors[f"rights.{key}"] = [_("Not valid.")]
            continue
        if registry.find(key) is None:
            errors[f"rights.{key}"] = [_("Unknown object.")]
            continue
        actions = list(grant.get("actions", []))
        bad = [a for a in actions if not isinstance(a, str) or a not in Action.values]
        visibility = grant.get("visibility", Visibility.OWN)
        if bad:
            errors[f"rights.{key}"] = [_("Unknown action.")]
            continue
        if visibility not in Visibility.values:
            errors[f"rights.{key}"] = [_("Unknown visibility.")]
            continue
        if actions and Action.READ not in actions:
            actions.append(Action.READ)  # every other right implies reading
        cleaned[key] = {"actions": sorted(set(actions)), "visibility": visibility}
    if errors:
        raise ApplicationError(_("Some rights are not valid."), fields=errors)
    return cleaned


def role_create(
    *,
    actor: User,
    workspace: Workspace,
    name: str,
    description: str = "",
    is_admin: bool = False,
    rights: dict | None = None,
) -> Role:
    """Create a role with per-object rights and visibility."""
    permissions.require_admin(actor)
    name = _text(name, field="name", max_length=80)
    if not name:
        raise ApplicationError(_("Enter a name."), fields={"name": [_("This field is required.")]})
    with transaction.atomic():
        if Role.objects.in_workspace(workspace).filter(name__iexact=name).exists():
            raise Conflict(
                _("A role with this name already exists."), fields={"name": [_("Already taken.")]}
            )
        code = slugify(name)[:30] or "role"
        while Role.objects.in_workspace(workspace).filter(code=code).exists():
            code = f"{slugify(name)[:24] or 'role'}-{secrets.token_hex(2)}"
        role = Role.objects.create(
            workspace=workspace,
            name=name,
            code=code,
            description=_text(description, field="description", max_length=300),
            is_admin=bool(is_admin),
            rights=_clean_rights(rights),
        )
        audit.log_create(actor=actor, instance=role)
    return role


def role_update(*, actor: User, workspace: Workspace, role_id: int, **changes: Any) -> Role:
    permissions.require_admin(actor)
    with transaction.atomic():
        role = _get(Role, workspace, role_id, lock=True)
        before = audit.snapshot(role)
        if "name" in changes:
            name = _text(changes["name"], field="name", max_length=80)
            if not name:
                raise ApplicationError(
                    _("Enter a name."), fields={"name": [_("This field is required.")]}
                )
            if (
                Role.objects.in_workspace(workspace)
                .filter(name__iexact=name)
                .exclude(pk=role.pk)
                .exists()
            ):
                raise Conflict(
                    _("A role with this name already exists."),
                    fields={"name": [_("Already taken.")]},
                )
            role.name = name
        if "description" in changes:
            role.description = _text(changes["description"], field="description", max_length=300)
        if "is_admin" in changes:
            if role.is_admin and not changes["is_admin"]:
                _ensure_other_admin(workspace, excluding_role=role)
            role.is_admin = bool(changes["is_admin"])
        if "rights" in changes:
            role.rights = _clean_rights(changes["rights"])
        role.save()
        audit.log_update(actor=actor, instance=role, before=before)
    return role


def role_delete(*, actor: User, workspace: Workspace, role_id: int) -> None:
    permissions.require_admin(actor)
    with transaction.atomic():
        role = _get(Role, workspace, role_id, lock=True)
        if User.objects.filter(workspace=workspace, role=role).exists():
            raise Conflict(_("Give this role's users another role first."), code="role_in_use")
        audit.log_delete(actor=actor, instance=role)
        role.delete()


def role_set_field_rule(
    *,
    actor: User,
    workspace: Workspace,
    role_id: int,
    object_key: str,
    field: str,
    access: str | None,
) -> None:
    """Hide a field from a role, make it read-only, or (``access=None``) lift the rule."""
    from . import registry

    permissions.require_admin(actor)
    obj = registry.find(object_key)
    if obj is None:
        raise ApplicationError(_("Unknown object."), fields={"object_key": [_("Unknown object.")]})
    restrictable = {f.name for f in obj.fields if f.restrictable}
    if obj.supports_custom_fields:
        restrictable |= {
            f"custom.{d.key}" for d in custom_fields.definitions(workspace, object_key)
        }
    if field not in restrictable:
        raise ApplicationError(
            _("This field cannot be restricted."), fields={"field": [_("Unknown field.")]}
        )
    if access is not None and access not in FieldAccess.values:
        raise ApplicationError(
            _("Choose hidden or read-only."), fields={"access": [_("Unknown access.")]}
        )
    with transaction.atomic():
        role = _get(Role, workspace, role_id, lock=True)
        existing = (
            RoleFieldRule.objects.in_workspace(workspace)
            .filter(role=role, object_key=object_key, field=field)
            .first()
        )
        before = existing.access if existing else None
        if access is None:
            if existing:
                existing.delete()
        elif existing:
            existing.access = access
            existing.save(update_fields=["access", "updated_at"])
        else:
            RoleFieldRule.objects.create(
                workspace=workspace, role=role, object_key=object_key, field=field, access=access
            )
        if before != access:
            audit.log(
                actor=actor,
                workspace=workspace,
                action=AuditAction.UPDATE,
                object_key="platform.role",
                object_id=role.pk,
                object_repr=role.name,
                changes={f"field_rule.{object_key}.{field}": [before, access]},
            )


def _ensure_other_admin(workspace, *, excluding_user=None, excluding_role=None) -> None:
    admins = User.objects.filter(workspace=workspace, is_active=True, role__is_admin=True)
    if excluding_user is not None:
        admins = admins.exclude(pk=excluding_user.pk)
    if excluding_role is not None:
        admins = admins.exclude(role=excluding_role)
    if not admins.exists():
        raise Conflict(
            _("The workspace must keep at least one active administrator."), code="last_admin"
        )


# --- users -----------------------------------------------------------------------------------


def _user_in(workspace, user_id, *, field: str = "user") -> User:
    try:
        return User.objects.filter(workspace=workspace).get(pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError):
        raise ApplicationError(
            _("Choose a user of this workspace."), fields={field: [_("Unknown user.")]}
        ) from None


def _role_in(workspace, role_id) -> Role:
    try:
        return Role.objects.in_workspace(workspace).get(pk=role_id)
    except (Role.DoesNotExist, ValueError, TypeError):
        raise ApplicationError(
            _("Choose a role of this workspace."), fields={"role": [_("Unknown role.")]}
        ) from None


def user_create(
    *,
    actor: User,
    workspace: Workspace,
    email: str,
    full_name: str,
    role_id: int,
    team_id: int | None = None,
    phone: str = "",
    password: str | None = None,
    language: str = "",
    time_zone: str = "",
    custom: dict | None = None,
) -> User:
    """Add a user to the workspace. Without a password they set one through a reset link."""
    permissions.require_admin(actor)
    email = (email or "").strip().lower()
    _check_email(email, field="email")
    full_name = _text(full_name, field="full_name", max_length=150)
    if not full_name:
        raise ApplicationError(
            _("Enter the full name."), fields={"full_name": [_("This field is required.")]}
        )
    if password:
        _check_password(password, email=email)
    _check_language(language)
    _check_time_zone(time_zone)
    with transaction.atomic():
        role = _role_in(workspace, role_id)
        team = _team_in(workspace, team_id)
        values = custom_fields.validate(
            workspace=workspace, object_key="platform.user", values=custom, model=User
        )
        if User.objects.filter(email__iexact=email).exists():
            raise Conflict(
                _("A user with this e-mail already exists."),
                fields={"email": [_("Already taken.")]},
            )
        user = User(
            workspace=workspace,
            email=email,
            full_name=full_name,
            role=role,
            team=team,
            phone=_text(phone, field="phone", max_length=32),
            language=language,
            time_zone=time_zone,
            custom=values,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise Conflict(
                _("A user with this e-mail already exists."),
                fields={"email": [_("Already taken.")]},
            ) from None
        audit.log_create(actor=actor, instance=user)
        if not password:
            _queue_welcome(user, workspace=workspace, inviter=actor)
    return user


def _queue_welcome(user: User, *, workspace: Workspace, inviter: User) -> None:
    """Mail a new user the link where they choose their password."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    mail.queue_template_email(
        to=[user.email],
        subject_template="platform/email/welcome_subject.txt",
        body_template="platform/email/welcome_body.txt",
        context={
            "user": user,
            "workspace": workspace,
            "inviter": inviter,
            "url": mail.absolute_url(path),
        },
        language=user.language or workspace.language,
    )


USER_EDITABLE = {
    "full_name",
    "phone",
    "team_id",
    "role_id",
    "is_active",
    "language",
    "time_zone",
    "custom",
}


def user_update(*, actor: User, workspace: Workspace, user_id: int, **changes: Any) -> User:
    """Change a user. Administrators change anyone; users change their own preferences."""
    own_preferences = {"full_name", "phone", "language", "time_zone"}
    if not (actor.pk == int(user_id) and set(changes) <= own_preferences):
        permissions.require_admin(actor)
    unknown = set(changes) - USER_EDITABLE
    if unknown:
        raise ApplicationError(
            _("These fields cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))}
        )
    field_keys = {k.removesuffix("_id") for k in changes if k != "custom"}
    field_keys |= {f"custom.{k}" for k in (changes.get("custom") or {})}
    permissions.check_writable(actor, "platform.user", field_keys)
    with transaction.atomic():
        user = _get(User, workspace, user_id, lock=True)
        before = audit.snapshot(user)
        if "full_name" in changes:
            name = _text(changes["full_name"], field="full_name", max_length=150)
            if not name:
                raise ApplicationError(
                    _("Enter the full name."), fields={"full_name": [_("This field is required.")]}
                )
            user.full_name = name
        if "phone" in changes:
            user.phone = _text(changes["phone"], field="phone", max_length=32)
        if "language" in changes:
            _check_language(changes["language"])
            user.language = changes["language"] or ""
        if "time_zone" in changes:
            _check_time_zone(changes["time_zone"])
            user.time_zone = changes["time_zone"] or ""
        if "team_id" in changes:
            user.team = _team_in(workspace, changes["team_id"])
        if "role_id" in changes:
            role = _role_in(workspace, changes["role_id"])
            if user.role.is_admin and not role.is_admin:
                _ensure_other_admin(workspace, excluding_user=user)
            user.role = role
        if "is_active" in changes:
            if user.is_active and not changes["is_active"]:
                if user.role.is_admin:
                    _ensure_other_admin(workspace, excluding_user=user)
                user.session_salt = secrets.token_hex(8)  # signs them out everywhere
            user.is_active = bool(changes["is_active"])
        if "custom" in changes:
            user.custom = custom_fields.validate(
                workspace=workspace,
                object_key="platform.user",
                values=changes["custom"],
                current=user.custom,
                instance_pk=user.pk,
                model=User,
                partial=True,
            )
        user.save()
        audit.log_update(actor=actor, instance=user, before=before)
    return user


def _check_language(code: str | None) -> None:
    from django.conf import settings

    if code and code not in dict(settings.LANGUAGES):
        raise ApplicationError(
            _("Unknown language."), fields={"language": [_("Unknown language.")]}
        )


def _check_time_zone(name: str | None) -> None:
    if not name:
        return
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ApplicationError(
            _("Unknown time zone."), fields={"time_zone": [_("Unknown time zone.")]}
        ) from None


def user_sign_out_everywhere(*, actor: User, workspace: Workspace, user_id: int) -> User:
    """End every session of a user (their own, or anyone's for an administrator)."""
    if actor.pk != int(user_id):
        permissions.require_admin(actor)
    with transaction.atomic():
        user = _get(User, workspace, user_id, lock=True)
        user.session_salt = secrets.token_hex(8)
        user.save(update_fields=["session_salt", "updated_at"])
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.SECURITY,
            object_key="platform.user",
            object_id=user.pk,
            object_repr=str(user),
            changes={"sessions": ["active", "signed out everywhere"]},
        )
    return user


def user_change_password(
    *, actor: User, workspace: Workspace, old_password: str, new_password: str
) -> User:
    if not actor.check_password(old_password or ""):
        raise ApplicationError(
            _("Your current password is not correct."), fields={"old_password": [_("Not correct.")]}
        )
    _check_password(new_password, email=actor.email)
    with transaction.atomic():
        actor.set_password(new_password)
        actor.save(update_fields=["password", "updated_at"])
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.SECURITY,
            object_key="platform.user",
            object_id=actor.pk,
            object_repr=str(actor),
            changes={"password": ["***", "changed"]},
        )
    return actor


# --- invitations (hosted sign-up and self-hosted alike) -----------------------------------------


def invitation_create(
    *,
    actor: User,
    workspace: Workspace,
    email: str,
    role_id: int,
    team_id: int | None = None,
    full_name: str = "",
) -> tuple[Invitation, str]:
    """Invite someone by e-mail; returns the invitation and the one-time token for the link."""
    permissions.require_admin(actor)
    email = (email or "").strip().lower()
    _check_email(email, field="email")
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(
            _("A user with this e-mail already exists."), fields={"email": [_("Already taken.")]}
        )
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            workspace=workspace,
            email=email,
            full_name=_text(full_name, field="full_name", max_length=150),
            role=_role_in(workspace, role_id),
            team=_team_in(workspace, team_id),
            token_hash=hash_secret(token),
            invited_by=actor,
            expires_at=timezone.now() + timedelta(days=7),
        )
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.CREATE,
            object_key="platform.invitation",
            object_id=invitation.pk,
            object_repr=email,
            changes={"email": [None, email], "role": [None, invitation.role.name]},
        )
        mail.queue_template_email(
            to=[email],
            subject_template="platform/email/invitation_subject.txt",
            body_template="platform/email/invitation_body.txt",
            context={
                "workspace": workspace,
                "inviter": actor,
                "invitation": invitation,
                "url": mail.absolute_url(reverse("invitation_accept", args=[token])),
            },
            language=workspace.language,
        )
    return invitation, token


def invitation_revoke(*, actor: User, workspace: Workspace, invitation_id: int) -> None:
    """Withdraw an invitation that was not accepted yet; its link stops working."""
    permissions.require_admin(actor)
    with transaction.atomic():
        invitation = _get(Invitation, workspace, invitation_id, lock=True)
        if invitation.accepted_at is not None:
            raise Conflict(_("This invitation was already accepted."), code="invitation_accepted")
        invitation.expires_at = timezone.now()
        invitation.save(update_fields=["expires_at", "updated_at"])
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.DELETE,
            object_key="platform.invitation",
            object_id=invitation.pk,
            object_repr=invitation.email,
            changes={"email": [invitation.email, None]},
        )


def invitation_accept(*, token: str, full_name: str, password: str) -> User:
    with transaction.atomic():
        invitation = (
            Invitation.objects.across_workspaces()
            .select_for_update()
            .filter(
                token_hash=hash_secret(token or ""),
                accepted_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
            .first()
        )
        if invitation is None:
            raise ApplicationError(
                _("This invitation is not valid any more."), code="invitation_invalid"
            )
        _check_password(password, email=invitation.email)
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise Conflict(_("A user with this e-mail already exists."))
        user = User(
            workspace_id=invitation.workspace_id,
            email=invitation.email,
            full_name=(full_name or invitation.full_name or invitation.email).strip(),
            role=invitation.role,
            team=invitation.team,
        )
        user.set_password(password)
        user.save()
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at", "updated_at"])
        audit.log_create(actor=user, instance=user)
    return user


# --- sharing ---------------------------------------------------------------------------------


def record_share(
    *,
    actor: User,
    workspace: Workspace,
    object_key: str,
    object_id: int,
    user_id: int | None = None,
    team_id: int | None = None,
    can_edit: bool = False,
) -> RecordShare:
    """Share one record with a user or a team. The actor must be able to update it."""
    from . import registry

    obj = registry.find(object_key)
    if obj is None or obj.owner_field is None:
        raise ApplicationError(_("This kind of record cannot be shared."))
    permissions.require(actor, object_key, Action.UPDATE)
    if (user_id is None) == (team_id is None):
        raise ApplicationError(_("Share with either a user or a team."))
    with transaction.atomic():
        visible = permissions.visible(
            obj.model.objects.in_workspace(workspace), actor=actor, object_key=object_key
        )
        record = visible.filter(pk=object_id).first()
        if record is None:
            raise NotFound()
        share, _created = RecordShare.objects.in_workspace(workspace).update_or_create(
            workspace=workspace,
            object_key=object_key,
            object_id=record.pk,
            user=_user_in(workspace, user_id) if user_id else None,
            team=_team_in(workspace, team_id) if team_id else None,
            defaults={"can_edit": can_edit, "created_by": actor},
        )
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.SHARE,
            object_key=object_key,
            object_id=record.pk,
            object_repr=str(record),
            changes={
                "shared_with": [None, str(share.user or share.team)],
                "can_edit": [None, can_edit],
            },
        )
    return share


def record_unshare(*, actor: User, workspace: Workspace, share_id: int) -> None:
    """Withdraw one share. The actor must be able to update the record and see it."""
    from . import registry

    share = _get(RecordShare, workspace, share_id)
    obj = registry.find(share.object_key)
    if obj is None:
        raise NotFound()
    permissions.require(actor, share.object_key, Action.UPDATE)
    with transaction.atomic():
        share = _get(RecordShare, workspace, share_id, lock=True)
        visible = permissions.visible(
            obj.model.objects.filter(workspace=workspace), actor=actor, object_key=obj.key
        )
        record = visible.filter(pk=share.object_id).first()
        if record is None:
            raise NotFound()
        shared_with = str(share.user or share.team)
        share.delete()
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.SHARE,
            object_key=obj.key,
            object_id=record.pk,
            object_repr=str(record),
            changes={"shared_with": [shared_with, None]},
        )


# --- custom fields -------------------------------------------------------------------------------


def _clean_choices(field_type: str, choices: Any) -> list[dict]:
    if field_type not in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        return []
    items = []
    seen = set()
    for choice in choices or []:
        if isinstance(choice, str):
            value, label = choice.strip(), choice.strip()
        else:
            value = str(choice.get("value", "")).strip()
            label = str(choice.get("label") or value).strip()
        if value and value not in seen:
            seen.add(value)
            items.append({"value": value, "label": label})
    if not items:
        raise ApplicationError(
            _("A choice field needs at least one choice."),
            fields={"choices": [_("Add at least one choice.")]},
        )
    return items


def custom_field_create(
    *,
    actor: User,
    workspace: Workspace,
    object_key: str,
    label: str,
    field_type: str,
    key: str = "",
    required: bool = False,
    unique: bool = False,
    default: Any = None,
    help_text: str = "",
    choices: Any = None,
    position: int | None = None,
) -> CustomField:
    """Define a custom field on an object."""
    from . import registry

    permissions.require_admin(actor)
    obj = registry.find(object_key)
    if obj is None or not obj.supports_custom_fields:
        raise ApplicationError(
            _("This object has no custom fields."), fields={"object_key": [_("Unknown object.")]}
        )
    label = _text(label, field="label", max_length=120)
    if not label:
        raise ApplicationError(
            _("Enter a label."), fields={"label": [_("This field is required.")]}
        )
    if field_type not in FieldType.values:
        raise ApplicationError(
            _("Choose a field type."), fields={"field_type": [_("Unknown type.")]}
        )
    key = slugify(key or "").replace("-", "_") or _key_from_label(label)
    if key in {f.name for f in obj.model._meta.get_fields()}:
        raise ApplicationError(
            _("This key is used by a built-in field."), fields={"key": [_("Reserved.")]}
        )
    with transaction.atomic():
        if (
            CustomField.objects.in_workspace(workspace)
            .filter(object_key=object_key, key=key)
            .exists()
        ):
            raise Conflict(
                _("A field with this key already exists."), fields={"key": [_("Already taken.")]}
            )
        definition = CustomField(
            workspace=workspace,
            object_key=object_key,
            key=key,
            label=label,
            field_type=field_type,
            required=bool(required),
            unique=bool(unique),
            help_text=_text(help_text, field="help_text", max_length=300),
            choices=_clean_choices(field_type, choices),
        )
        if default not in (None, ""):
            try:
                definition.default = custom_fields.clean_value(
                    definition, default, workspace=workspace
                )
            except ValueError as exc:
                raise ApplicationError(str(exc), fields={"default": [str(exc)]}) from None
        if position is None:
            last = (
                CustomField.objects.in_workspace(workspace)
                .filter(object_key=object_key)
                .order_by("-position")
                .first()
            )
            position = (last.position + 1) if last else 0
        definition.position = max(0, int(position))
        definition.save()
        audit.log_create(actor=actor, instance=definition)
    return definition


def _key_from_label(label: str) -> str:
    from pypinyin import lazy_pinyin

    return (
        slugify("_".join(lazy_pinyin(label))).replace("-", "_")[:50]
        or f"field_{secrets.token_hex(3)}"
    )


def custom_field_update(
    *, actor: User, workspace: Workspace, field_id: int, **changes: Any
) -> CustomField:
    """Change a field's label, help, rules, choices, default, order or activity.

    The key and type stay: values already stored depend on them.
    """
    permissions.require_admin(actor)
    allowed = {
        "label",
        "required",
        "unique",
        "default",
        "help_text",
        "choices",
        "position",
        "is_active",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ApplicationError(
            _("These fields cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        definition = _get(CustomField, workspace, field_id, lock=True)
        before = audit.snapshot(definition)
        if "label" in changes:
            label = _text(changes["label"], field="label", max_length=120)
            if not label:
                raise ApplicationError(
                    _("Enter a label."), fields={"label": [_("This field is required.")]}
                )
            definition.label = label
        for flag in ("required", "unique", "is_active"):
            if flag in changes:
                setattr(definition, flag, bool(changes[flag]))
        if "help_text" in changes:
            definition.help_text = _text(changes["help_text"], field="help_text", max_length=300)
        if "choices" in changes:
            definition.choices = _clean_choices(definition.field_type, changes["choices"])
        if "position" in changes:
            definition.position = max(0, int(changes["position"]))
        if "default" in changes:
            try:
                definition.default = custom_fields.clean_value(
                    definition, changes["default"], workspace=workspace
                )
            except ValueError as exc:
                raise ApplicationError(str(exc), fields={"default": [str(exc)]}) from None
        definition.save()
        audit.log_update(actor=actor, instance=definition, before=before)
    return definition


def custom_field_move(*, actor: User, workspace: Workspace, field_id: int, direction: str) -> None:
    """Move a field one place up or down among its object's fields (positions renumbered
    0, 1, 2… so equal or sparse positions move too)."""
    permissions.require_admin(actor)
    if direction not in ("up", "down"):
        raise ApplicationError(_("Choose up or down."))
    with transaction.atomic():
        definition = _get(CustomField, workspace, field_id, lock=True)
        siblings = list(
            CustomField.objects.in_workspace(workspace)
            .filter(object_key=definition.object_key)
            .select_for_update()
            .order_by("position", "id")
        )
        index = [d.pk for d in siblings].index(definition.pk)
        target = index - 1 if direction == "up" else index + 1
        if not 0 <= target < len(siblings):
            return
        siblings[index], siblings[target] = siblings[target], siblings[index]
        for position, sibling in enumerate(siblings):
            if sibling.position != position:
                before = audit.snapshot(sibling)
                sibling.position = position
                sibling.save(update_fields=["position", "updated_at"])
                audit.log_update(actor=actor, instance=sibling, before=before)


def custom_field_delete(*, actor: User, workspace: Workspace, field_id: int) -> None:
    """Delete a definition. Stored values stay in the rows (and in the audit log) but are
    no longer shown; re-creating the key brings them back."""
    permissions.require_admin(actor)
    with transaction.atomic():
        definition = _get(CustomField, workspace, field_id, lock=True)
        audit.log_delete(actor=actor, instance=definition)
        RoleFieldRule.objects.in_workspace(workspace).filter(
            object_key=definition.object_key, field=f"custom.{definition.key}"
        ).delete()
        definition.delete()


# --- saved views -----------------------------------------------------------------------------------


def saved_view_save(
    *, actor: User, workspace: Workspace, list_key: str, name: str, params: dict
) -> SavedView:
    name = _text(name, field="name", max_length=80)
    if not name:
        raise ApplicationError(
            _("Enter a name for the view."), fields={"name": [_("This field is required.")]}
        )
    with transaction.atomic():
        view, _created = SavedView.objects.in_workspace(workspace).update_or_create(
            workspace=workspace,
            user=actor,
            list_key=list_key,
            name=name[:80],
            defaults={"params": params},
        )
    return view


def saved_view_delete(*, actor: User, workspace: Workspace, view_id: int) -> None:
    with transaction.atomic():
        deleted, _rows = (
            SavedView.objects.in_workspace(workspace).filter(pk=view_id, user=actor).delete()
        )
        if not deleted:
            raise NotFound()


# --- API tokens --------------------------------------------------------------------------------------

TOKEN_SCOPES = ("read", "write", "admin")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(
    *,
    actor: User,
    workspace: Workspace,
    name: str,
    scopes: list[str],
    expires_in_days: int | None = None,
    user_id: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a personal token; the secret is returned once and only its hash is kept."""
    owner = actor
    if user_id is not None and int(user_id) != actor.pk:
        permissions.require_admin(actor)
        owner = _user_in(workspace, user_id)
    name = _text(name, field="name", max_length=80)
    if not name:
        raise ApplicationError(
            _("Enter a name for the token."), fields={"name": [_("This field is required.")]}
        )
    scopes = sorted(set(scopes or ["read"]))
    bad = [s for s in scopes if s not in TOKEN_SCOPES]
    if bad:
        raise ApplicationError(
            _("Unknown scope: %(s)s.") % {"s": ", ".join(bad)},
            fields={"scopes": [_("Unknown scope.")]},
        )
    if "admin" in scopes and not owner.role.is_admin:
        raise ApplicationError(
            _("Only administrators can hold the admin scope."),
            fields={"scopes": [_("Not allowed.")]},
        )
    if expires_in_days is not None and not (1 <= int(expires_in_days) <= 3650):
        raise ApplicationError(
            _("Expiry must be between 1 and 3650 days."),
            fields={"expires_in_days": [_("Out of range.")]},
        )
    prefix = secrets.token_hex(4)
    secret = f"gx_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            workspace=workspace,
            user=owner,
            name=name[:80],
            prefix=prefix,
            key_hash=hash_secret(secret),
            scopes=scopes,
            expires_at=timezone.now() + timedelta(days=int(expires_in_days))
            if expires_in_days
            else None,
        )
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.SECURITY,
            object_key="platform.apitoken",
            object_id=token.pk,
            object_repr=token.name,
            changes={"token": [None, f"created for {owner.email}"], "scopes": [None, scopes]},
        )
    return token, secret


def api_token_revoke(*, actor: User, workspace: Workspace, token_id: int) -> ApiToken:
    with transaction.atomic():
        token = _get(ApiToken, workspace, token_id, lock=True)
        if token.user_id != actor.pk:
            permissions.require_admin(actor)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at", "updated_at"])
            audit.log(
                actor=actor,
                workspace=workspace,
                action=AuditAction.SECURITY,
                object_key="platform.apitoken",
                object_id=token.pk,
                object_repr=token.name,
                changes={"token": ["active", "revoked"]},
            )
    return token


# --- helpers ---------------------------------------------------------------------------------------------


def _get(model, workspace, pk, *, lock: bool = False):
    """One row of ``model`` in ``workspace``; anything else is "not found", never "forbidden"."""
    qs = model.objects.filter(workspace=workspace)
    if lock:
        qs = qs.select_for_update()
    try:
        return qs.get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
