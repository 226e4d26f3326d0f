"""Administration pages — teams, roles with their rights matrix and field rules, custom
fields, the audit log — and everyone's API tokens page. Views only collect input and
render; services write, selectors read."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.common.views import error_message, page

from . import admin_lists, permissions, registry, selectors, services
from .admin_forms import (
    ApiTokenForm,
    CustomFieldForm,
    FieldRulesForm,
    RoleForm,
    format_choices,
    format_default,
)
from .forms import TeamForm
from .list_views import render_list
from .models import TeamKind
from .views import _custom_display

MEMBERS_SHOWN = 100
TOKENS_SHOWN = 200


def _delete_page(
    request, *, name: str, question: str, delete, back_url: str, list_url: str, done: str
):
    """GET asks (a page, for browsers without JavaScript); POST deletes through the
    service and goes to the list, or back with the service's reason."""
    if request.method != "POST":
        return render(
            request,
            "platform/admin/confirm_delete.html",
            {
                "title": gettext("Delete %(name)s") % {"name": name},
                "question": question,
                "action_url": request.path,
                "cancel_url": back_url,
            },
        )
    try:
        delete()
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        return redirect(back_url)
    messages.success(request, done)
    return redirect(list_url)


# --- teams -----------------------------------------------------------------------------------------


@page
def team_list(request):
    permissions.require_admin(request.user)
    return render_list(request, admin_lists.TEAMS.key, template="platform/admin/team_list.html")


@page
def team_detail(request, pk: int):
    permissions.require_admin(request.user)
    workspace, actor = request.workspace, request.user
    team = selectors.team_get(workspace=workspace, actor=actor, team_id=pk)
    members = list(
        selectors.user_list(workspace=workspace, actor=actor)
        .filter(team=team)
        .order_by("full_name", "pk")[: MEMBERS_SHOWN + 1]
    )
    return render(
        request,
        "platform/admin/team_detail.html",
        {
            "team": team,
            "hidden": permissions.hidden_fields(actor, "platform.team"),
            "custom": _custom_display(request, "platform.team", team.custom),
            "members": members[:MEMBERS_SHOWN],
            "more_members": len(members) > MEMBERS_SHOWN,
            "children": selectors.team_list(workspace=workspace, actor=actor)
            .filter(parent=team)
            .order_by("name"),
            "history": selectors.record_history(
                workspace=workspace, actor=actor, object_key="platform.team", object_id=team.pk
            ),
        },
    )


@page
def team_create(request):
    permissions.require_admin(request.user)
    form = TeamForm(
        request.POST or None,
        workspace=request.workspace,
        actor=request.user,
        initial={"kind": TeamKind.TEAM, "parent": request.GET.get("parent", "")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team = services.team_create(
                actor=request.user,
                workspace=request.workspace,
                name=data["name"],
                kind=data.get("kind") or TeamKind.TEAM,
                parent_id=data.get("parent") or None,
                manager_id=data.get("manager") or None,
                custom=form.custom_values(),
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, gettext("Team %(name)s was added.") % {"name": team.name})
            return redirect("platform:team_detail", pk=team.pk)
    return render(
        request,
        "platform/form.html",
        {
            "form": form,
            "title": gettext("New team"),
            "cancel_url": "platform:team_list",
        },
    )


@page
def team_edit(request, pk: int):
    permissions.require_admin(request.user)
    team = selectors.team_get(workspace=request.workspace, actor=request.user, team_id=pk)
    form = TeamForm(
        request.POST or None,
        workspace=request.workspace,
        actor=request.user,
        custom=team.custom,
        initial={
            "name": team.name,
            "kind": team.kind,
            "parent": team.parent_id or "",
            "manager": team.manager_id or "",
        },
    )
    if request.method == "POST" and form.is_valid():
        changes = form.changed_values(["name", "kind"])
        for name in ("parent", "manager"):
            if name in form.fields and not form.fields[name].disabled:
                changes[f"{name}_id"] = form.cleaned_data.get(name) or None
        if form.custom_keys:
            changes["custom"] = form.custom_values()
        try:
            services.team_update(
                actor=request.user, workspace=request.workspace, team_id=pk, **changes
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("platform:team_detail", pk=pk)
    return render(
        request,
        "platform/form.html",
        {
            "form": form,
            "title": gettext("Edit %(name)s") % {"name": team.name},
            "cancel_url": "platform:team_list",
        },
    )


@page
def team_delete(request, pk: int):
    permissions.require_admin(request.user)
    team = selectors.team_get(workspace=request.workspace, actor=request.user, team_id=pk)
    return _delete_page(
        request,
        name=team.name,
        question=gettext("Delete the team %(name)s? This cannot be undone.") % {"name": team.name},
        delete=lambda: services.team_delete(
            actor=request.user, workspace=request.workspace, team_id=pk
        ),
        back_url=reverse("platform:team_detail", args=[pk]),
        list_url=reverse("platform:team_list"),
        done=gettext("Team %(name)s was deleted.") % {"name": team.name},
    )


# --- roles -----------------------------------------------------------------------------------------


@page
def role_list(request):
    permissions.require_admin(request.user)
    roles = selectors.role_list(workspace=request.workspace, actor=request.user).annotate(
        user_count=Count("users")
    )
    return render(request, "platform/admin/role_list.html", {"roles": roles})


@page
def role_create(request):
    permissions.require_admin(request.user)
    form = RoleForm(request.POST or None, workspace=request.workspace, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            role = services.role_create(
                actor=request.user,
                workspace=request.workspace,
                name=data["name"],
                description=data.get("description", ""),
                is_admin=data.get("is_admin", False),
                rights=form.rights(),
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, gettext("Role %(name)s was added.") % {"name": role.name})
            return redirect("platform:role_detail", pk=role.pk)
    return render(
        request, "platform/admin/role_form.html", {"form": form, "title": gettext("New role")}
    )


@page
def role_detail(request, pk: int):
    """The role's settings, its rights matrix and its field rules; two forms on one page."""
    permissions.require_admin(request.user)
    workspace, actor = request.workspace, request.user
    role = selectors.role_get(workspace=workspace, actor=actor, role_id=pk)
    section = request.POST.get("section") if request.method == "POST" else None
    form = RoleForm(
        request.POST if section == "rights" else None,
        workspace=workspace,
        actor=actor,
        rights=role.rights,
        initial={"name": role.name, "description": role.description, "is_admin": role.is_admin},
    )
    rules_form = FieldRulesForm(
        request.POST if section == "fields" else None,
        rules=selectors.role_field_rules(workspace=workspace, actor=actor, role_id=pk),
        custom_fields=list(
            selectors.custom_field_list(workspace=workspace, actor=actor, active_only=True)
        ),
    )
    if section == "rights" and form.is_valid():
        data = form.cleaned_data
        try:
            services.role_update(
                actor=actor,
                workspace=workspace,
                role_id=pk,
                name=data["name"],
                description=data.get("description", ""),
                is_admin=data.get("is_admin", False),
                rights=form.rights(),
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, gettext("The role's rights were saved."))
            return redirect("platform:role_detail", pk=pk)
    elif section == "fields" and rules_form.is_valid():
        try:
            # All the changed rules or none, as with bulk actions.
            with transaction.atomic():
                for object_key, field, access in rules_form.changed_rules():
                    services.role_set_field_rule(
                        actor=actor,
                        workspace=workspace,
                        role_id=pk,
                        object_key=object_key,
                        field=field,
                        access=access,
                    )
        except ApplicationError as exc:
            rules_form.add_error(None, error_message(exc))
        else:
            messages.success(request, gettext("The field rules were saved."))
            return redirect("platform:role_detail", pk=pk)
    return render(
        request,
        "platform/admin/role_detail.html",
        {
            "role": role,
            "form": form,
            "rules_form": rules_form,
            "user_count": selectors.user_list(workspace=workspace, actor=actor)
            .filter(role=role)
            .count(),
            "history": selectors.record_history(
                workspace=workspace, actor=actor, object_key="platform.role", object_id=role.pk
            ),
        },
    )


@page
def role_delete(request, pk: int):
    permissions.require_admin(request.user)
    role = selectors.role_get(workspace=request.workspace, actor=request.user, role_id=pk)
    return _delete_page(
        request,
        name=role.name,
        question=gettext("Delete the role %(name)s? This cannot be undone.") % {"name": role.name},
        delete=lambda: services.role_delete(
            actor=request.user, workspace=request.workspace, role_id=pk
        ),
        back_url=reverse("platform:role_detail", args=[pk]),
        list_url=reverse("platform:role_list"),
        done=gettext("Role %(name)s was deleted.") % {"name": role.name},
    )


# --- custom fields ---------------------------------------------------------------------------------


@page
def custom_field_list(request):
    permissions.require_admin(request.user)
    definitions = list(selectors.custom_field_list(workspace=request.workspace, actor=request.user))
    groups = [
        {"object": obj, "fields": [d for d in definitions if d.object_key == obj.key]}
        for obj in registry.all_objects()
        if obj.supports_custom_fields
    ]
    return render(request, "platform/admin/custom_field_list.html", {"groups": groups})


@page
def custom_field_create(request):
    permissions.require_admin(request.user)
    form = CustomFieldForm(
        request.POST or None,
        workspace=request.workspace,
        actor=request.user,
        initial={"object_key": request.GET.get("object", ""), "field_type": "text"},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            definition = services.custom_field_create(
                actor=request.user,
                workspace=request.workspace,
                object_key=data["object_key"],
                label=data["label"],
                field_type=data["field_type"],
                key=data.get("key", ""),
                required=data.get("required", False),
                unique=data.get("unique", False),
                default=data.get("default") or None,
                help_text=data.get("help_text", ""),
                choices=form.parsed_choices(),
                position=data.get("position"),
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(
                request, gettext("Field %(label)s was added.") % {"label": definition.label}
            )
            return redirect("platform:custom_field_list")
    return render(
        request,
        "platform/admin/custom_field_form.html",
        {
            "form": form,
            "title": gettext("New custom field"),
        },
    )


@page
def custom_field_edit(request, pk: int):
    permissions.require_admin(request.user)
    definition = selectors.custom_field_get(
        workspace=request.workspace, actor=request.user, field_id=pk
    )
    form = CustomFieldForm(
        request.POST or None,
        workspace=request.workspace,
        actor=request.user,
        editing=True,
        initial={
            "object_key": definition.object_key,
            "label": definition.label,
            "key": definition.key,
            "field_type": definition.field_type,
            "required": definition.required,
            "unique": definition.unique,
            "default": format_default(definition.default),
            "help_text": definition.help_text,
            "choices": format_choices(definition.choices),
            "position": definition.position,
            "is_active": definition.is_active,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {
            "label": data["label"],
            "required": data.get("required", False),
            "unique": data.get("unique", False),
            "default": data.get("default") or None,
            "help_text": data.get("help_text", ""),
            "choices": form.parsed_choices(),
            "is_active": data.get("is_active", False),
        }
        if data.get("position") is not None:
            changes["position"] = data["position"]
        try:
            services.custom_field_update(
                actor=request.user, workspace=request.workspace, field_id=pk, **changes
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("platform:custom_field_list")
    return render(
        request,
        "platform/admin/custom_field_form.html",
        {
            "form": form,
            "definition": definition,
            "title": gettext("Edit field %(label)s") % {"label": definition.label},
        },
    )


@page
def custom_field_delete(request, pk: int):
    permissions.require_admin(request.user)
    definition = selectors.custom_field_get(
        workspace=request.workspace, actor=request.user, field_id=pk
    )
    return _delete_page(
        request,
        name=definition.label,
        question=gettext(
            "Delete the field %(name)s? Its stored values are no longer shown; creating a "
            "field with the same key brings them back."
        )
        % {"name": definition.label},
        delete=lambda: services.custom_field_delete(
            actor=request.user, workspace=request.workspace, field_id=pk
        ),
        back_url=reverse("platform:custom_field_edit", args=[pk]),
        list_url=reverse("platform:custom_field_list"),
        done=gettext("Field %(label)s was deleted.") % {"label": definition.label},
    )


@page
@require_POST
def custom_field_move(request, pk: int):
    """Move a field one place up or down among its object's fields."""
    workspace, actor = request.workspace, request.user
    definition = selectors.custom_field_get(workspace=workspace, actor=actor, field_id=pk)
    try:
        services.custom_field_move(
            actor=actor,
            workspace=workspace,
            field_id=pk,
            direction=request.POST.get("direction", ""),
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    return redirect(reverse("platform:custom_field_list") + f"#fields-{definition.object_key}")


@page
@require_POST
def custom_field_toggle(request, pk: int):
    """Activate or deactivate a field."""
    permissions.require_admin(request.user)
    active = request.POST.get("active") == "1"
    try:
        definition = services.custom_field_update(
            actor=request.user, workspace=request.workspace, field_id=pk, is_active=active
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        return redirect("platform:custom_field_list")
    if active:
        messages.success(
            request, gettext("Field %(label)s is active.") % {"label": definition.label}
        )
    else:
        messages.success(
            request, gettext("Field %(label)s is inactive.") % {"label": definition.label}
        )
    return redirect("platform:custom_field_list")


# --- audit log -------------------------------------------------------------------------------------


@page
def audit_list(request):
    return render_list(request, admin_lists.AUDIT.key)


@page
def audit_detail(request, pk: int):
    entry = (
        selectors.audit_list(workspace=request.workspace, actor=request.user).filter(pk=pk).first()
    )
    if entry is None:
        raise NotFound()
    return render(
        request,
        "platform/admin/audit_detail.html",
        {
            "entry": entry,
            "object_label": admin_lists.object_label(entry.object_key) if entry.object_key else "",
            "changes": admin_lists.change_rows(entry),
        },
    )


# --- API tokens (everyone, for their own) ------------------------------------------------------------


@page
def token_list(request):
    """Everyone's own tokens; administrators may list everyone's (``?owner=all`` or a user id)."""
    workspace, actor = request.workspace, request.user
    is_admin = actor.is_active and actor.role.is_admin
    owner = request.GET.get("owner", "") if is_admin else ""
    form = ApiTokenForm(request.POST or None, workspace=workspace, actor=actor)
    created = secret = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created, secret = services.api_token_create(
                actor=actor,
                workspace=workspace,
                name=data["name"],
                scopes=data.get("scopes") or ["read"],
                expires_in_days=data.get("expires_in_days"),
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            form = ApiTokenForm(workspace=workspace, actor=actor)
    tokens = selectors.api_token_list(workspace=workspace, actor=actor, all_users=bool(owner))
    if owner.isdigit():
        tokens = tokens.filter(user_id=int(owner))
    tokens = list(tokens[: TOKENS_SHOWN + 1])
    response = render(
        request,
        "platform/tokens.html",
        {
            "form": form,
            "created": created,
            "secret": secret,
            "tokens": tokens[:TOKENS_SHOWN],
            "more_tokens": len(tokens) > TOKENS_SHOWN,
            "is_admin": is_admin,
            "owner": owner,
            "now": timezone.now(),
            "owners": selectors.user_list(workspace=workspace, actor=actor)
            .order_by("full_name")
            .values_list("pk", "full_name")
            if is_admin
            else [],
        },
    )
    if secret:
        response["Cache-Control"] = "no-store"  # the secret is shown once; no copy stays in a cache
    return response


@page
@require_POST
def token_revoke(request, pk: int):
    try:
        token = services.api_token_revoke(
            actor=request.user, workspace=request.workspace, token_id=pk
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, gettext("Token %(name)s was revoked.") % {"name": token.name})
    target = reverse("platform:token_list")
    owner = request.POST.get("owner", "")
    if owner == "all" or owner.isdigit():
        target += f"?owner={owner}"
    return redirect(target)
