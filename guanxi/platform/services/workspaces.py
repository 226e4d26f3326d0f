"""Creating a workspace: the company, its built-in roles and first administrator."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict

from .. import audit
from ..models import (
    AuditAction,
    Role,
    User,
    Workspace,
)
from ..roles import DEFAULT_ROLES
from ._base import (
    _check_email,
    _check_password,
    _text,
)


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
