"""The administration lists (teams, audit log), registered for pages and exports."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError

from . import registry, selectors
from .lists import Column, Filter, ListSpec, register, search_q
from .models import AuditAction, TeamKind

# --- teams -------------------------------------------------------------------------------------


def _team_queryset(workspace, actor):
    # Members are counted in the same query as the page, never one query per row.
    return selectors.team_list(workspace=workspace, actor=actor).annotate(
        member_count=Count("members")
    )


def _team_choices(workspace, actor):
    return [
        (str(t.pk), "— " * d + t.name)
        for t, d in selectors.team_tree(workspace=workspace, actor=actor)
    ]


TEAMS = register(
    ListSpec(
        key="platform.teams",
        object_key="platform.team",
        title=_("Teams"),
        queryset=_team_queryset,
        search=lambda qs, term: qs.filter(search_q(["name"], term)),
        columns=[
            Column("name", _("Name"), sort="name", link=True),
            Column(
                "kind", _("Kind"), value=lambda t: t.get_kind_display(), sort="kind", field="kind"
            ),
            Column("parent__name", _("Parent team"), sort="parent__name", field="parent"),
            Column("manager__full_name", _("Manager"), sort="manager__full_name", field="manager"),
            Column("member_count", _("Members"), numeric=True),
            Column("created_at", _("Created"), sort="created_at", default=False),
        ],
        filters=[
            Filter(
                "kind",
                _("Kind"),
                field="kind",
                choices=lambda w, a: list(TeamKind.choices),
                apply=lambda qs, v: qs.filter(kind=v) if v in TeamKind.values else qs.none(),
            ),
            Filter(
                "parent",
                _("Parent team"),
                field="parent",
                choices=_team_choices,
                apply=lambda qs, v: qs.filter(parent_id=int(v)) if v.isdigit() else qs.none(),
            ),
        ],
        default_sort="name",
        detail_url=lambda team: reverse("platform:team_detail", args=[team.pk]),
    )
)


# --- audit log ---------------------------------------------------------------------------------

# Audited things that are not registered business objects.
_OTHER_OBJECTS = {
    "platform.workspace": _("workspace"),
    "platform.apitoken": _("API token"),
    "platform.invitation": _("invitation"),
}
SUMMARY_CHANGES = 3
SUMMARY_VALUE_CHARS = 40


def object_label(object_key: str) -> str:
    obj = registry.find(object_key)
    if obj is not None:
        return str(obj.label)
    return str(_OTHER_OBJECTS.get(object_key, object_key))


def field_label(object_key: str, field: str) -> str:
    obj = registry.find(object_key)
    spec = obj.field(field) if obj is not None else None
    return capfirst(str(spec.label)) if spec is not None else field


def value_text(value, limit: int | None = SUMMARY_VALUE_CHARS) -> str:
    """One before/after value of a change, as a person reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        text = str(_("Yes") if value else _("No"))
    elif isinstance(value, dict) and "label" in value:
        text = str(value["label"])
    elif isinstance(value, list):
        text = ", ".join(value_text(v, None) for v in value) or "—"
    else:
        text = str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def change_rows(entry) -> list[dict]:
    """Every change of an entry as ``{"field", "label", "before", "after"}``."""
    rows = []
    for field, pair in (entry.changes or {}).items():
        before, after = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        rows.append(
            {
                "field": field,
                "label": field_label(entry.object_key, field),
                "before": value_text(before, None),
                "after": value_text(after, None),
            }
        )
    return rows


def changes_summary(entry) -> str:
    items = list((entry.changes or {}).items())
    parts = []
    for field, pair in items[:SUMMARY_CHANGES]:
        before, after = pair if isinstance(pair, list | tuple) and len(pair) == 2 else (None, pair)
        parts.append(
            f"{field_label(entry.object_key, field)}: {value_text(before)} → {value_text(after)}"
        )
    if len(items) > SUMMARY_CHANGES:
        parts.append(str(_("(%(n)s more)") % {"n": len(items) - SUMMARY_CHANGES}))
    return "; ".join(parts)


def _object_text(entry) -> str:
    label = object_label(entry.object_key) if entry.object_key else ""
    return f"{label}: {entry.object_repr}" if entry.object_repr else label


def _actor_text(entry) -> str:
    if entry.actor_id and entry.actor is not None:
        return entry.actor.full_name
    return entry.actor_label


def _date_filter(lookup: str, param: str):
    def apply(qs, value):
        try:
            day = parse_date(value)
        except ValueError:
            day = None
        if day is None:
            raise ApplicationError(
                _("Enter a date as YYYY-MM-DD."),
                fields={f"f_{param}": [_("Enter a date as YYYY-MM-DD.")]},
            )
        return qs.filter(**{f"created_at__date__{lookup}": day})

    return apply


def _filter_actor(qs, value):
    """By user id, or by part of a name or e-mail. A text box, not a list of every user:
    the page stays as fast with 10,000 users as with 10."""
    value = value.strip()
    if value.isdigit():
        return qs.filter(actor_id=int(value))
    return qs.filter(actor_label__icontains=value)


def _object_choices(workspace, actor):
    keys = [obj.key for obj in registry.all_objects()] + list(_OTHER_OBJECTS)
    return sorted(((k, object_label(k)) for k in keys), key=lambda c: c[1])


AUDIT = register(
    ListSpec(
        key="platform.audit",
        object_key="platform.audit",
        title=_("Audit log"),
        queryset=lambda workspace, actor: selectors.audit_list(workspace=workspace, actor=actor),
        search=lambda qs, term: qs.filter(search_q(["object_repr", "actor_label"], term)),
        columns=[
            Column("created_at", _("Time"), sort="pk", link=True),
            Column("actor", _("By"), value=_actor_text),
            Column("action", _("Action"), value=lambda e: e.get_action_display()),
            Column("object", _("Record"), value=_object_text),
            Column("changes", _("Changes"), value=changes_summary),
            Column("object_id", _("Record id"), default=False),
            Column("ip_address", _("IP address"), default=False),
        ],
        filters=[
            Filter(
                "action",
                _("Action"),
                choices=lambda w, a: list(AuditAction.choices),
                apply=lambda qs, v: qs.filter(action=v) if v in AuditAction.values else qs.none(),
            ),
            Filter("actor", _("By (name or e-mail)"), kind="text", apply=_filter_actor),
            Filter(
                "object",
                _("Object type"),
                choices=_object_choices,
                apply=lambda qs, v: qs.filter(object_key=v),
            ),
            Filter("date_from", _("From"), kind="date", apply=_date_filter("gte", "date_from")),
            Filter("date_to", _("To"), kind="date", apply=_date_filter("lte", "date_to")),
        ],
        default_sort="pk",
        default_descending=True,
        detail_url=lambda entry: reverse("platform:audit_detail", args=[entry.pk]),
    )
)
