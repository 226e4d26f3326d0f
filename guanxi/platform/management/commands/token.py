"""Personal API tokens from the command line.

    guanxi token create USER_EMAIL --name NAME [--scopes read,write] [--expires-days N]
    guanxi token list [USER_EMAIL]
    guanxi token revoke ID

The token's owner is the actor of the audit row: the command acts as the user themself.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.common.errors import ApplicationError
from guanxi.platform import selectors, services
from guanxi.platform.models import ApiToken, User


class Command(BaseCommand):
    help = "Create, list or revoke personal API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        create = actions.add_parser("create", help="Create a token and print its secret once.")
        create.add_argument("email", metavar="USER_EMAIL")
        create.add_argument("--name", required=True, help="What the token is for.")
        create.add_argument(
            "--scopes",
            default="read",
            help=f"Comma-separated, of {', '.join(services.TOKEN_SCOPES)} (default: read).",
        )
        create.add_argument("--expires-days", type=int, default=None, dest="expires_days")

        listing = actions.add_parser("list", help="List tokens (of one user, or all).")
        listing.add_argument("email", metavar="USER_EMAIL", nargs="?")

        revoke = actions.add_parser("revoke", help="Revoke a token by its id.")
        revoke.add_argument("token_id", metavar="ID", type=int)

    def handle(self, *args, **options) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except ApplicationError as exc:
            raise CommandError(self._describe(exc)) from None

    @staticmethod
    def _describe(exc: ApplicationError) -> str:
        details = "; ".join(
            f"{name}: {' '.join(str(m) for m in msgs)}" for name, msgs in exc.fields.items()
        )
        return f"{exc.message} ({details})" if details else str(exc.message)

    @staticmethod
    def _user(email: str) -> User:
        user = (
            User.objects.select_related("workspace", "role")
            .filter(email__iexact=email.strip())
            .first()
        )
        if user is None:
            raise CommandError(f"No user with the e-mail {email}.")
        return user

    def _create(self, options) -> None:
        user = self._user(options["email"])
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
        token, secret = services.api_token_create(
            actor=user,
            workspace=user.workspace,
            name=options["name"],
            scopes=scopes,
            expires_in_days=options["expires_days"],
        )
        self.stderr.write(
            f"Token {token.pk} ({token.name}, scopes {', '.join(token.scopes)}) for {user.email}. "
            "Store the secret now; it is not shown again:"
        )
        self.stdout.write(secret)

    def _list(self, options) -> None:
        if options["email"]:
            user = self._user(options["email"])
            tokens = selectors.api_token_list(workspace=user.workspace, actor=user)
        else:
            # The operator's view across workspaces, as the sweepers have.
            tokens = ApiToken.objects.across_workspaces().select_related("user").order_by("-id")
        for token in tokens:
            if token.revoked_at:
                state = "revoked"
            elif token.expires_at:
                state = f"expires {token.expires_at:%Y-%m-%d}"
            else:
                state = "active"
            last_used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            self.stdout.write(
                f"{token.pk}\tgx_{token.prefix}_…\t{token.name}\t{token.user.email}\t"
                f"{','.join(token.scopes)}\tlast used {last_used}\t{state}"
            )

    def _revoke(self, options) -> None:
        token = (
            ApiToken.objects.across_workspaces()
            .select_related("user", "workspace")
            .filter(pk=options["token_id"])
            .first()
        )
        if token is None:
            raise CommandError(f"No token with the id {options['token_id']}.")
        services.api_token_revoke(actor=token.user, workspace=token.workspace, token_id=token.pk)
        self.stdout.write(f"Revoked token {token.pk} ({token.name}) of {token.user.email}.")
