"""``guanxi setup``: the first run of a self-hosted installation, without demo data.

Creates the company's workspace and its first administrator, interactively or from flags::

    guanxi setup
    guanxi setup --company "上海某某有限公司" --email boss@example.com --name 王伟 --password …
"""

from __future__ import annotations

import getpass
import zoneinfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from guanxi.common.errors import ApplicationError
from guanxi.platform import services
from guanxi.platform.models import User, Workspace

# Workspaces made by `guanxi seed` (demo and bench) do not count as "the company".
SEEDED_DOMAIN_SUFFIX = ".guanxi.local"


class Command(BaseCommand):
    help = "Create your company's workspace and its first administrator (no demo data)."

    def add_arguments(self, parser):
        parser.add_argument("--company", help="The company's name, e.g. 上海某某贸易有限公司.")
        parser.add_argument("--email", help="The administrator's e-mail; they sign in with it.")
        parser.add_argument("--name", help="The administrator's full name.")
        parser.add_argument(
            "--password",
            help="The administrator's password (at least 10 characters). Asked for when "
            "missing; prefer the prompt, command lines end up in shell history.",
        )
        parser.add_argument(
            "--language",
            default="zh-hans",
            choices=[code for code, _name in settings.LANGUAGES],
            help="The workspace's language (default: zh-hans).",
        )
        parser.add_argument(
            "--time-zone",
            default=settings.TIME_ZONE,
            help=f"The workspace's time zone (default: {settings.TIME_ZONE}).",
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Never prompt: every value must come from the flags.",
        )
        parser.add_argument(
            "--another",
            action="store_true",
            help="Create a workspace even though one exists already.",
        )

    def handle(self, *args, **options):
        existing = self._company_workspaces()
        if existing and not options["another"]:
            names = ", ".join(w.name for w in existing[:3])
            raise CommandError(
                f"This installation has a workspace already ({names}). Sign in to it, or run "
                "`guanxi setup --another` to create a second one."
            )
        try:
            zoneinfo.ZoneInfo(options["time_zone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"Unknown time zone: {options['time_zone']}") from None

        interactive = options["interactive"]
        company = self._value(options, "company", "Company name", interactive)
        email = self._value(options, "email", "Administrator e-mail", interactive)
        name = self._value(options, "name", "Administrator full name", interactive)
        password = options["password"] or (self._ask_password() if interactive else None)
        if not password:
            raise CommandError("--password is required with --noinput.")

        try:
            workspace, admin = services.workspace_create(
                name=company,
                admin_email=email,
                admin_name=name,
                admin_password=password,
                language=options["language"],
                time_zone=options["time_zone"],
            )
        except ApplicationError as exc:
            details = "; ".join(
                f"{field}: {' '.join(str(m) for m in messages)}"
                for field, messages in exc.fields.items()
            )
            raise CommandError(f"{exc.message}{f' ({details})' if details else ''}") from None

        self.stdout.write(self.style.SUCCESS(f"Created the workspace “{workspace.name}”."))
        self.stdout.write(
            f"  Sign in at http://127.0.0.1:8000 (or your server's address) as {admin.email}."
        )

    def _company_workspaces(self) -> list[Workspace]:
        seeded = User.objects.filter(email__iendswith=SEEDED_DOMAIN_SUFFIX).values("workspace_id")
        return list(Workspace.objects.exclude(pk__in=seeded).order_by("id")[:10])

    def _value(self, options, key: str, prompt: str, interactive: bool) -> str:
        value = (options.get(key) or "").strip()
        while not value:
            if not interactive:
                raise CommandError(f"--{key} is required with --noinput.")
            try:
                value = input(f"{prompt}: ").strip()
            except EOFError:
                raise CommandError(f"--{key} is required.") from None
        return value

    def _ask_password(self) -> str:
        while True:
            try:
                first = getpass.getpass("Administrator password (at least 10 characters): ")
                second = getpass.getpass("Password again: ")
            except EOFError:
                raise CommandError("--password is required.") from None
            if first and first == second:
                return first
            self.stderr.write("The passwords differ or are empty; try again.")
