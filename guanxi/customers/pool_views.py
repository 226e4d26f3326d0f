"""The customer pool's pages: the pool itself (claim buttons), claim and release from a
record's page, and the pool rules for administrators. Services do the work."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError
from guanxi.common.pagination import paginate
from guanxi.common.views import error_message, page
from guanxi.platform import permissions
from guanxi.platform.forms import ServiceForm

from . import pool_selectors
from .services import pool

KINDS = {"accounts": pool.ACCOUNT, "people": pool.CONTACT}
DETAIL_URLS = {pool.ACCOUNT: "customers:account_detail", pool.CONTACT: "customers:contact_detail"}


def _detail_url(object_key: str, pk) -> str:
    try:
        return reverse(DETAIL_URLS[object_key], args=[pk])
    except (NoReverseMatch, KeyError):
        return reverse("customers:pool")


@page
def pool_list(request):
    """Unowned accounts and individual customers, searchable, with claim buttons."""
    kind = request.GET.get("kind") if request.GET.get("kind") in KINDS else "accounts"
    object_key = KINDS[kind]
    permissions.require(request.user, object_key, "read")
    q = request.GET.get("q", "")[:100]
    qs = pool_selectors.pool_customers(
        workspace=request.workspace, actor=request.user, object_key=object_key, term=q
    )
    try:
        rows = paginate(qs, key="name", cursor=request.GET.get("cursor") or None, limit=50)
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        rows = paginate(qs, key="name", limit=50)
    context = {
        "kind": kind,
        "object_key": object_key,
        "q": q,
        "page": rows,
        "capacity": pool_selectors.my_capacity(workspace=request.workspace, actor=request.user),
        "can_claim": permissions.can(request.user, object_key, "update"),
        "is_admin": request.user.role.is_admin,
    }
    template = "customers/pool_rows.html" if request.htmx else "customers/pool.html"
    return render(request, template, context)


def _move(request, service, success: str):
    object_key = request.POST.get("object_key", "")
    record_id = request.POST.get("record_id", "")
    kwargs = {}
    if service is pool.customer_release:
        kwargs["reason"] = request.POST.get("reason", "")
    try:
        record = service(
            actor=request.user,
            workspace=request.workspace,
            object_key=object_key,
            record_id=record_id,
            **kwargs,
        )
    except ApplicationError as exc:
        message = error_message(exc)
        if request.htmx:
            return render(
                request,
                "customers/pool_result.html",
                # htmx swaps only 2xx answers; the refusal is the content.
                {"ok": False, "message": message},
            )
        messages.error(request, message)
        back = request.POST.get("back")
        if back == "pool":
            return redirect("customers:pool")
        try:
            return redirect(_detail_url(object_key, int(record_id)))
        except (TypeError, ValueError):
            return redirect("customers:pool")
    text = success % {"name": record.name}
    if request.htmx:
        return render(
            request,
            "customers/pool_result.html",
            {"ok": True, "message": text, "url": _detail_url(object_key, record.pk)},
        )
    messages.success(request, text)
    if service is pool.customer_release and request.POST.get("back") == "pool":
        return redirect("customers:pool")
    return redirect(_detail_url(object_key, record.pk))


@page
@require_POST
def claim(request):
    return _move(request, pool.customer_claim, gettext("%(name)s is now yours."))


@page
@require_POST
def release(request):
    return _move(request, pool.customer_release, gettext("%(name)s went back to the pool."))


class PoolSettingsForm(ServiceForm):
    max_per_rep = forms.IntegerField(
        label=_("Customers per rep"),
        min_value=0,
        max_value=pool.MAX_CAP,
        help_text=_("Accounts and individual customers a rep may hold; 0 for no cap."),
    )
    return_after_days = forms.IntegerField(
        label=_("Return to the pool after this many days without activity"),
        min_value=0,
        max_value=pool.MAX_DAYS,
        help_text=_("0 keeps customers with their owner however long they wait."),
    )
    reclaim_after_days = forms.IntegerField(
        label=_("Days before a rep may reclaim a customer they gave back"),
        min_value=0,
        max_value=pool.MAX_DAYS,
    )
    return_on_departure = forms.BooleanField(
        label=_("Return a rep's customers to the pool when the rep is deactivated"),
        required=False,
    )


@page
def pool_settings(request):
    permissions.require_admin(request.user)
    current = pool.pool_settings_get(workspace=request.workspace)
    form = PoolSettingsForm(
        request.POST or None,
        workspace=request.workspace,
        actor=request.user,
        initial={name: getattr(current, name) for name in pool.POOL_SETTING_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        try:
            pool.pool_settings_update(
                actor=request.user,
                workspace=request.workspace,
                **{name: form.cleaned_data[name] for name in pool.POOL_SETTING_FIELDS},
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect("customers:pool_settings")
    return render(request, "customers/pool_settings.html", {"form": form})


PANEL_KINDS = {"account": pool.ACCOUNT, "contact": pool.CONTACT}


@page
def record_pool_panel(request, kind: str, pk: int):
    """The 360° page's lazy panel: the record's moves in and out of the pool."""
    object_key = PANEL_KINDS.get(kind)
    if object_key is None:
        raise Http404()
    record = pool_selectors.pool_record(
        workspace=request.workspace, actor=request.user, object_key=object_key, record_id=pk
    )
    events = list(
        pool_selectors.pool_events(
            workspace=request.workspace, object_key=object_key, record=record
        )[:20]
    )
    return render(
        request,
        "customers/pool_panel.html",
        {"record": record, "object_key": object_key, "events": events},
    )
