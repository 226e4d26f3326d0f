"""What ``guanxi import`` and ``guanxi export`` share: the workspace and the acting user."""

from __future__ import annotations

from django.core.management.base import CommandError

from guanxi.platform.models import User, Workspace


def workspace_and_user(slug: str | None, email: str | None) -> tuple[Workspace, User]:
    """``--workspace`` (default: the only one) and ``--user`` (default: its first active
    administrator)."""
    if slug:
        workspace = Workspace.objects.filter(slug=slug).first()
        if workspace is None:
            raise CommandError(f"There is no workspace “{slug}”.")
    else:
        workspaces = list(Workspace.objects.all()[:2])
        if len(workspaces) != 1:
            raise CommandError(
                "There are several workspaces (or none): name one with --workspace SLUG."
            )
        workspace = workspaces[0]
    users = User.objects.in_workspace(workspace).filter(is_active=True).select_related("role")
    if email:
        user = users.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"There is no active user {email} in {workspace.slug}.")
    else:
        user = users.filter(role__is_admin=True).order_by("pk").first()
        if user is None:
            raise CommandError("The workspace has no active administrator: name one with --user.")
    return workspace, user
