"""The users list: columns, filters and bulk actions, registered for pages and exports."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import selectors, services
from .lists import BulkAction, Column, Filter, ListSpec, register, search_q
from .models import Role


def _team_choices(workspace, actor):
    return [
        (str(t.pk), "— " * d + t.name)
        for t, d in selectors.team_tree(workspace=workspace, actor=actor)
    ]


def _role_choices(workspace, actor):
    return [(str(r.pk), r.name) for r in Role.objects.in_workspace(workspace).order_by("name")]


def _filter_team(qs, value):
    return qs.filter(team_id=int(value)) if value.isdigit() else qs.none()


def _set_active(active: bool):
    def run(*, actor, workspace, row, value):
        services.user_update(actor=actor, workspace=workspace, user_id=row.pk, is_active=active)

    return run


def _move_to_team(*, actor, workspace, row, value):
    services.user_update(actor=actor, workspace=workspace, user_id=row.pk, team_id=value or None)


USERS = register(
    ListSpec(
        key="platform.users",
        object_key="platform.user",
        title=_("Users"),
        queryset=lambda workspace, actor: selectors.user_list(workspace=workspace, actor=actor),
        search=lambda qs, term: qs.filter(search_q(["full_name", "email", "phone"], term)),
        columns=[
            Column("full_name", _("Full name"), sort="full_name", link=True),
            Column("email", _("E-mail"), sort="email"),
            Column("phone", _("Phone"), field="phone"),
            Column("team__name", _("Team"), sort="team__name", field="team"),
            Column("role__name", _("Role"), sort="role__name", field="role"),
            Column("is_active", _("Active"), sort="is_active", field="is_active"),
            Column("language", _("Language"), default=False, field="language"),
            Column("created_at", _("Created"), sort="created_at", default=False),
        ],
        filters=[
            Filter("team", _("Team"), apply=_filter_team, choices=_team_choices, field="team"),
            Filter(
                "role",
                _("Role"),
                choices=_role_choices,
                field="role",
                apply=lambda qs, v: qs.filter(role_id=int(v)) if v.isdigit() else qs.none(),
            ),
            Filter(
                "active",
                _("Active"),
                field="is_active",
                choices=lambda w, a: [("yes", _("Yes")), ("no", _("No"))],
                apply=lambda qs, v: qs.filter(is_active=(v == "yes")),
            ),
        ],
        default_sort="full_name",
        bulk_actions=[
            BulkAction("deactivate", _("Deactivate"), run=_set_active(False)),
            BulkAction("activate", _("Activate"), run=_set_active(True)),
            BulkAction(
                "move_team", _("Move to team"), run=_move_to_team, value_choices=_team_choices
            ),
        ],
        detail_url=lambda user: reverse("platform:user_detail", args=[user.pk]),
    )
)
