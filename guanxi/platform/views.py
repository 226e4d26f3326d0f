"""The platform's pages: start page, search, language, profile, users. Views only collect
input and render; services and selectors do the work."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError
from guanxi.common.views import error_message, page

from . import custom_fields, jobs, permissions, selectors, services
from . import home as home_panels
from .exports import export_path
from .forms import InviteForm, ProfileForm, UserForm
from .list_views import render_list
from .models import JobState


@page
def home(request):
    """The start page: the panels apps register (a rep's day first), then recent jobs."""
    panels = home_panels.panels_for(request)
    return render(
        request,
        "platform/home.html",
        {
            "panels": panels,
            "stylesheets": list(dict.fromkeys(s for p in panels for s in p["panel"].stylesheets)),
            "jobs": selectors.job_list(workspace=request.workspace, actor=request.user)[:5],
        },
    )


@page
def search(request):
    results = selectors.global_search(
        workspace=request.workspace, actor=request.user, term=request.GET.get("q", "")
    )
    template = "platform/search_results.html" if request.htmx else "platform/search.html"
    return render(request, template, {"results": results, "q": request.GET.get("q", "")})


@require_POST
def set_language(request):
    """Switch the interface language; signed-in users keep it as their preference."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    if request.user.is_authenticated:
        services.user_update(
            actor=request.user,
            workspace=request.workspace,
            user_id=request.user.pk,
            language=language,
        )
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=getattr(settings, "LANGUAGE_COOKIE_SECURE", False),
        httponly=False,
    )
    return response


@page
def profile(request):
    user = request.user
    form = ProfileForm(
        request.POST or None,
        workspace=request.workspace,
        actor=user,
        initial={
            "full_name": user.full_name,
            "phone": user.phone,
            "language": user.language,
            "time_zone": user.time_zone,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(
                actor=user,
                workspace=request.workspace,
                user_id=user.pk,
                **form.changed_values(["full_name", "phone", "language", "time_zone"]),
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, gettext("Your profile was saved."))
            response = redirect("platform:profile")
            response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
            return response
    return render(request, "platform/profile.html", {"form": form})


# --- users ---------------------------------------------------------------------------------------


@page
def user_list(request):
    return render_list(request, "platform.users", template="platform/user_list.html")


@page
def user_detail(request, pk: int):
    user = selectors.user_get(workspace=request.workspace, actor=request.user, user_id=pk)
    return render(
        request,
        "platform/user_detail.html",
        {
            "subject": user,
            "fields": _visible_fields(
                request.user,
                "platform.user",
                [
                    ("email", gettext("E-mail"), user.email),
                    ("phone", gettext("Phone"), user.phone),
                    ("team", gettext("Team"), user.team),
                    ("role", gettext("Role"), user.role),
                    (
                        "is_active",
                        gettext("Active"),
                        gettext("Yes") if user.is_active else gettext("No"),
                    ),
                    (
                        "language",
                        gettext("Language"),
                        dict(settings.LANGUAGES).get(user.language, ""),
                    ),
                    ("time_zone", gettext("Time zone"), user.time_zone),
                ],
            ),
            "custom": _custom_display(request, "platform.user", user.custom),
            "history": selectors.record_history(
                workspace=request.workspace,
                actor=request.user,
                object_key="platform.user",
                object_id=pk,
            ),
        },
    )


def _visible_fields(actor, object_key, rows):

    hidden = permissions.hidden_fields(actor, object_key)
    return [(label, value) for name, label, value in rows if name not in hidden]


def _custom_display(request, object_key, values):
    return custom_fields.display_rows(
        workspace=request.workspace, actor=request.user, object_key=object_key, values=values
    )


@page
def user_create(request):

    permissions.require_admin(request.user)
    form = UserForm(request.POST or None, workspace=request.workspace, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_create(
                actor=request.user,
                workspace=request.workspace,
                email=data["email"],
                full_name=data["full_name"],
                role_id=data["role"],
                team_id=data.get("team") or None,
                phone=data.get("phone", ""),
                language=data.get("language", ""),
                time_zone=data.get("time_zone", ""),
                custom=form.custom_values(),
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(
                request, gettext("User %(name)s was added.") % {"name": user.full_name}
            )
            return redirect("platform:user_detail", pk=user.pk)
    return render(
        request,
        "platform/form.html",
        {
            "form": form,
            "title": gettext("New user"),
            "cancel_url": "platform:user_list",
        },
    )


@page
def user_edit(request, pk: int):

    permissions.require_admin(request.user)
    user = selectors.user_get(workspace=request.workspace, actor=request.user, user_id=pk)
    form = UserForm(
        request.POST or None,
        workspace=request.workspace,
        actor=request.user,
        custom=user.custom,
        editing=True,
        initial={
            "email": user.email,
            "full_name": user.full_name,
            "phone": user.phone,
            "team": user.team_id or "",
            "role": user.role_id,
            "language": user.language,
            "time_zone": user.time_zone,
            "is_active": user.is_active,
        },
    )
    if request.method == "POST" and form.is_valid():
        changes = form.changed_values(["full_name", "phone", "language", "time_zone", "is_active"])
        if "team" in form.fields and not form.fields["team"].disabled:
            changes["team_id"] = form.cleaned_data.get("team") or None
        if "role" in form.fields and not form.fields["role"].disabled:
            changes["role_id"] = form.cleaned_data["role"]
        if form.custom_keys:
            changes["custom"] = form.custom_values()
        try:
            services.user_update(
                actor=request.user, workspace=request.workspace, user_id=pk, **changes
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("platform:user_detail", pk=pk)
    return render(
        request,
        "platform/form.html",
        {
            "form": form,
            "title": gettext("Edit %(name)s") % {"name": user.full_name},
            "cancel_url": "platform:user_list",
        },
    )


@page
@require_POST
def user_sign_out_everywhere(request, pk: int):
    try:
        services.user_sign_out_everywhere(
            actor=request.user, workspace=request.workspace, user_id=pk
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, gettext("All sessions of this user were ended."))
    return redirect("platform:user_detail", pk=pk)


@page
def user_invite(request):
    """Invite people by e-mail; they choose their name and password when they accept."""

    permissions.require_admin(request.user)
    form = InviteForm(request.POST or None, workspace=request.workspace, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.invitation_create(
                actor=request.user,
                workspace=request.workspace,
                email=data["email"],
                full_name=data.get("full_name", ""),
                role_id=data["role"],
                team_id=data.get("team") or None,
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(
                request, gettext("Invitation sent to %(email)s.") % {"email": data["email"]}
            )
            return redirect("platform:user_invite")
    return render(
        request,
        "platform/user_invite.html",
        {
            "form": form,
            "invitations": selectors.pending_invitations(
                workspace=request.workspace, actor=request.user
            ),
        },
    )


@page
@require_POST
def invitation_revoke(request, pk: int):
    try:
        services.invitation_revoke(
            actor=request.user, workspace=request.workspace, invitation_id=pk
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, gettext("The invitation was withdrawn."))
    return redirect("platform:user_invite")


# --- exports ---------------------------------------------------------------------------------------


@page
def export_download(request, job_id: int):

    job = jobs.job_get(actor=request.user, workspace=request.workspace, job_id=job_id)
    if (
        job.owner_id != request.user.pk
        or job.kind != "platform.list_export"
        or job.state != JobState.SUCCEEDED
    ):
        raise Http404()
    path = export_path(job)
    if not path.exists():
        raise Http404()
    return FileResponse(
        open(path, "rb"), as_attachment=True, filename=f"export-{job.pk}{path.suffix}"
    )
