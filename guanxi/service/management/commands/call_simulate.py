"""``guanxi call_simulate --workspace NAME --caller NUMBER --extension EXT``: an incoming call
through the console provider, as if the call centre had sent it — the agent with that
extension sees the pop in their open browser. For development: no provider needed (a real
provider configured in the workspace refuses it)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from guanxi.common.errors import ApplicationError
from guanxi.platform.models import User, Workspace


class Command(BaseCommand):
    help = "Simulate an incoming call for an agent's extension (console provider)."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="The workspace's name or id.")
        parser.add_argument("--caller", required=True, help="The caller's number.")
        parser.add_argument("--extension", required=True, help="The agent's phone extension.")

    def handle(self, *args, workspace, caller, extension, **options):
        from guanxi.service.models import AgentProfile
        from guanxi.service.services import telephony

        ws = Workspace.objects.filter(name=workspace).first()
        if ws is None and workspace.isdigit():
            ws = Workspace.objects.filter(pk=int(workspace)).first()
        if ws is None:
            raise CommandError(f"No workspace {workspace!r}.")
        profile = (
            AgentProfile.objects.in_workspace(ws)
            .filter(phone_extension=extension)
            .select_related("user")
            .first()
        )
        if profile is None:
            raise CommandError(f"No agent has the extension {extension!r} in {ws.name}.")
        admin = (
            User.objects.filter(workspace=ws, role__is_admin=True, is_active=True)
            .order_by("id")
            .first()
        )
        if admin is None:
            raise CommandError(f"{ws.name} has no active administrator.")
        try:
            received = telephony.call_simulate(
                actor=admin, workspace=ws, caller=caller, agent_id=profile.user_id
            )
        except ApplicationError as exc:
            raise CommandError(str(exc.message)) from None
        if received.popped:
            self.stdout.write(f"The call rings on {profile.user.full_name}'s screen.")
        else:
            self.stdout.write("The call is stored; nothing popped.")
