"""The platform's own business objects, registered for roles, custom fields and search."""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import registry
from .models import AuditEntry, CustomField, Job, Role, Team, User


def _search_users(*, workspace, actor, term, limit):
    from .selectors import user_list

    rows = user_list(workspace=workspace, actor=actor).filter(
        Q(full_name__icontains=term) | Q(email__icontains=term) | Q(phone__icontains=term)
    )[:limit]
    return [
        (f"{u.full_name} <{u.email}>", reverse("platform:user_detail", args=[u.pk])) for u in rows
    ]


def _search_teams(*, workspace, actor, term, limit):
    from .selectors import team_list

    rows = team_list(workspace=workspace, actor=actor).filter(name__icontains=term)[:limit]
    return [(t.name, reverse("platform:team_detail", args=[t.pk])) for t in rows]


registry.register(
    registry.BusinessObject(
        key="platform.user",
        model=User,
        label=_("user"),
        label_plural=_("users"),
        fields=(
            registry.FieldSpec("email", _("e-mail"), restrictable=False),
            registry.FieldSpec("full_name", _("full name"), restrictable=False),
            registry.FieldSpec("phone", _("phone")),
            registry.FieldSpec("team", _("team")),
            registry.FieldSpec("role", _("role")),
            registry.FieldSpec("is_active", _("active")),
            registry.FieldSpec("language", _("language"), restrictable=False),
            registry.FieldSpec("time_zone", _("time zone"), restrictable=False),
        ),
        supports_custom_fields=True,
        search=_search_users,
        detail_url=lambda pk: reverse("platform:user_detail", args=[pk]),
    )
)
registry.register(
    registry.BusinessObject(
        key="platform.team",
        model=Team,
        label=_("team"),
        label_plural=_("teams"),
        fields=(
            registry.FieldSpec("name", _("name"), restrictable=False),
            registry.FieldSpec("kind", _("kind")),
            registry.FieldSpec("parent", _("parent team")),
            registry.FieldSpec("manager", _("manager")),
        ),
        supports_custom_fields=True,
        search=_search_teams,
        detail_url=lambda pk: reverse("platform:team_detail", args=[pk]),
    )
)
registry.register(
    registry.BusinessObject(
        key="platform.role",
        model=Role,
        label=_("role"),
        label_plural=_("roles"),
        grantable=False,
        fields=(
            registry.FieldSpec("name", _("name"), restrictable=False),
            registry.FieldSpec("code", _("code"), restrictable=False),
            registry.FieldSpec("description", _("description"), restrictable=False),
            registry.FieldSpec("is_admin", _("administrator"), restrictable=False),
            registry.FieldSpec("rights", _("rights"), restrictable=False),
        ),
        detail_url=lambda pk: reverse("platform:role_detail", args=[pk]),
    )
)
registry.register(
    registry.BusinessObject(
        key="platform.customfield",
        model=CustomField,
        label=_("custom field"),
        label_plural=_("custom fields"),
        grantable=False,
        fields=tuple(
            registry.FieldSpec(name, label, restrictable=False)
            for name, label in (
                ("object_key", _("object")),
                ("key", _("key")),
                ("label", _("label")),
                ("field_type", _("type")),
                ("required", _("required")),
                ("unique", _("unique")),
                ("default", _("default")),
                ("help_text", _("help text")),
                ("choices", _("choices")),
                ("position", _("position")),
                ("is_active", _("active")),
            )
        ),
    )
)
registry.register(
    registry.BusinessObject(
        key="platform.audit",
        model=AuditEntry,
        label=_("audit entry"),
        label_plural=_("audit log"),
    )
)
registry.register(
    registry.BusinessObject(
        key="platform.job",
        model=Job,
        label=_("background job"),
        label_plural=_("background jobs"),
        owner_field="owner",
    )
)
