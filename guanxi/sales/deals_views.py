"""Deal pages: the kanban (columns, "load more", the drop), the deal list, one deal (details,
stage history, products, competitors, the sections other parts add, the customer's timeline
entries about the deal), the new-deal form with its customer picker, and the "Open deals"
section of a customer's 360° page. Views collect input and render; the deal services and
selectors do the work."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.activities import timeline_display
from guanxi.activities.models import TimelineEntry
from guanxi.common.errors import ApplicationError, NotFound
from guanxi.common.views import actor_scope, error_message, page
from guanxi.customers import selectors as customer_selectors
from guanxi.platform import permissions
from guanxi.platform.list_views import render_list
from guanxi.platform.models import Action

from . import deal_sections
from .deals_forms import DealEditForm, DealForm, LoseForm
from .models import (
    Competitor,
    DealCompetitor,
    DealLine,
    DealStageChange,
    DealStatus,
    LostReason,
    Pipeline,
    Stage,
)
from .objects import DEAL
from .selectors import deals as selectors
from .services import deals as services
from .services.money import base_currency
from .services.setup import default_pipeline

PICKER_LIMIT = 20
SECTION_LIMIT = 10
TIMELINE_LIMIT = 30


def _back(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _filters(request) -> dict:
    params = request.GET
    return {
        "owner": params.get("owner", "").strip()[:20],
        "close_month": params.get("close_month", "").strip()[:7],
        "stale_only": params.get("stale") == "1",
    }


def _pipeline(request) -> Pipeline:
    workspace = request.workspace
    pipelines = Pipeline.objects.in_workspace(workspace).filter(active=True)
    chosen = request.GET.get("pipeline", "")
    if chosen:
        found = pipelines.filter(pk=chosen if chosen.isdigit() else 0).first()
        if found is None:
            raise NotFound()
        return found
    return default_pipeline(workspace)


# --- the kanban -----------------------------------------------------------------------------


@page
def board(request):
    permissions.require(request.user, DEAL, Action.READ)
    pipeline = _pipeline(request)
    filters = _filters(request)
    data = selectors.board(**actor_scope(request), pipeline=pipeline, **filters)
    context = {
        "board": data,
        "filters": filters,
        "pipelines": list(
            Pipeline.objects.in_workspace(request.workspace)
            .filter(active=True)
            .order_by("order", "id")
        ),
        "owners": services.assignable_users(**actor_scope(request))
        if services.may_assign_others(request.user)
        else [],
        "base_currency": base_currency(request.workspace),
        "can_update": permissions.can(request.user, DEAL, Action.UPDATE),
        "can_create": permissions.can(request.user, DEAL, Action.CREATE),
        "lost_reasons": list(
            LostReason.objects.in_workspace(request.workspace)
            .filter(active=True)
            .order_by("order", "id")
        ),
        "query": request.GET.urlencode(),
        **card_context(request, [c.stage for c in data.columns] + data.closing),
    }
    for column in data.columns:
        decorate_cards(column.cards)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "board":
        return render(request, "sales/deals/board_body.html", context)
    return render(request, "sales/deals/board.html", context)


@page
def board_column(request, stage_id: int):
    """The next cards of one column (the "load more" button, htmx)."""
    permissions.require(request.user, DEAL, Action.READ)
    stage = Stage.objects.in_workspace(request.workspace).filter(pk=stage_id).first()
    if stage is None:
        raise NotFound()
    column = selectors.column_page(
        **actor_scope(request), stage=stage, after=request.GET.get("after", ""), **_filters(request)
    )
    return render(
        request,
        "sales/deals/column_more.html",
        {
            "column": decorate_cards(column.cards) or column,
            **card_context(request, _stages_of(stage.pipeline_id, request.workspace)),
            "can_update": permissions.can(request.user, DEAL, Action.UPDATE),
            "query": _without(request.GET, "after"),
        },
    )


def card_context(request, stages) -> dict:
    """What every card of a board shows alike, made once: the "move to…" options, the
    labels and the page to come back to (a card only fills in its own values)."""
    options = format_html_join(
        "",
        '<option value="{}" data-kind="{}">{}</option>',
        ((s.pk, s.kind, s.name) for s in stages),
    )
    return {
        "move_options": format_html('<option value="">{}</option>{}', gettext("Move to…"), options),
        "move_label": gettext("Move to…"),
        "move_button": gettext("Move"),
        "stale_label": gettext("Stale"),
        "next_url": reverse("sales:deal_board") + "?" + _without(request.GET, "after"),
    }


def decorate_cards(cards) -> None:
    """Set what a card shows on each deal (URLs from one reverse each, not one per card:
    a board has 150 cards and template lookups were most of its time)."""
    detail = reverse("sales:deal_detail", args=[0]).replace("/0/", "/{}/")
    move = reverse("sales:deal_move", args=[0]).replace("/0/", "/{}/")
    for deal in cards:
        deal.url = detail.format(deal.pk)
        deal.move_url = move.format(deal.pk)
        deal.amount_text = f"{deal.amount:,.2f}"
        deal.close_text = deal.expected_close_date.isoformat() if deal.expected_close_date else ""
        if deal.account_id:
            deal.customer_name = deal.account.name
        else:
            deal.customer_name = deal.contact.name if deal.contact_id else ""
        deal.owner_name = (deal.owner.full_name or deal.owner.email) if deal.owner_id else "—"


def _without(params, name: str) -> str:
    copy = params.copy()
    copy.pop(name, None)
    return copy.urlencode()


def _stages_of(pipeline_id: int, workspace) -> list[Stage]:
    return list(
        Stage.objects.in_workspace(workspace).filter(pipeline_id=pipeline_id).order_by("order")
    )


@page
@require_POST
def deal_move(request, deal_id: int):
    """The drop (fetch from the board, JSON answer) or the card's "move to…" form (a plain
    post, redirected back with a message). A lost stage needs ``reason``."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    post = request.POST
    try:
        deal = services.deal_move(
            **actor_scope(request),
            deal=deal_id,
            stage=post.get("stage"),
            before_id=post.get("before_id") or None,
            after_id=post.get("after_id") or None,
            version=post.get("version") or None,
            reason=post.get("reason") or None,
            note=post.get("note", ""),
        )
    except ApplicationError as exc:
        if exc.status == 404 and not wants_json:
            raise
        if wants_json:
            return JsonResponse(exc.as_dict(), status=exc.status)
        messages.error(request, str(exc.message))
        return redirect(_back(request, reverse("sales:deal_detail", args=[deal_id])))
    if wants_json:
        return JsonResponse(
            {"id": deal.pk, "version": deal.version, "stage": deal.stage_id, "status": deal.status}
        )
    messages.success(
        request,
        gettext("“%(deal)s” is now in %(stage)s.") % {"deal": deal.name, "stage": deal.stage.name},
    )
    return redirect(_back(request, reverse("sales:deal_board")))


# --- the list -------------------------------------------------------------------------------


@page
def deal_list(request):
    return render_list(
        request,
        "sales.deals",
        template="sales/deals/list.html",
        extra={
            "create_url": reverse("sales:deal_create")
            if permissions.can(request.user, DEAL, Action.CREATE)
            else "",
        },
    )


# --- one deal -------------------------------------------------------------------------------


def _detail_context(request, deal_id) -> dict:
    scope = actor_scope(request)
    deal = selectors.deal_get(**scope, deal_id=deal_id)
    workspace = request.workspace
    history = list(
        DealStageChange.objects.in_workspace(workspace)
        .filter(deal=deal)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("-changed_at", "-id")
    )
    lines = list(
        DealLine.objects.in_workspace(workspace)
        .filter(deal=deal)
        .select_related("product")
        .order_by("id")
    )
    competitors = list(
        DealCompetitor.objects.in_workspace(workspace)
        .filter(deal=deal)
        .select_related("competitor")
        .order_by("competitor__name")
    )
    entries = list(
        TimelineEntry.objects.in_workspace(workspace)
        .filter(related_object_key=DEAL, related_object_id=deal.pk)
        .select_related("author")
        .order_by("-occurred_at", "-id")[:TIMELINE_LIMIT]
    )
    entries = [e for e in entries if not e.is_private or e.author_id == request.user.pk]
    for entry in entries:
        entry.headline = timeline_display.headline(entry)
    cutoff = selectors.stale_cutoff(workspace)
    can_update = permissions.can(request.user, DEAL, Action.UPDATE)
    return {
        "deal": deal,
        "stale": selectors.is_stale(deal, cutoff),
        "history": history,
        "lines": lines,
        "competitors": competitors,
        "entries": entries,
        "sections": deal_sections.for_deal(request, deal),
        "stages": _stages_of(deal.pipeline_id, workspace),
        "lost_reasons": list(
            LostReason.objects.in_workspace(workspace).filter(active=True).order_by("order")
        ),
        "can_update": can_update,
        "is_open": deal.status == DealStatus.OPEN,
        "base_currency": base_currency(workspace),
    }


@page
def deal_detail(request, deal_id: int):
    permissions.require(request.user, DEAL, Action.READ)
    return render(request, "sales/deals/detail.html", _detail_context(request, deal_id))


@page
@require_POST
def deal_close(request, deal_id: int, outcome: str):
    """The deal page's Won / Lost / Reopen buttons."""
    scope = actor_scope(request)
    version = request.POST.get("version") or None
    try:
        if outcome == "won":
            services.deal_win(**scope, deal=deal_id, version=version)
        elif outcome == "lost":
            form = LoseForm(request.POST, workspace=request.workspace)
            services.deal_lose(
                **scope,
                deal=deal_id,
                reason=form.data.get("reason") or None,
                note=form.data.get("note", ""),
                version=version,
            )
        elif outcome == "reopen":
            services.deal_reopen(**scope, deal=deal_id, version=version)
        else:
            raise NotFound()
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    return redirect(reverse("sales:deal_detail", args=[deal_id]))


@page
def deal_edit(request, deal_id: int):
    """Change a deal's fields and competitors (the version read is sent back: a change made
    meanwhile by someone else is refused, not overwritten)."""
    permissions.require(request.user, DEAL, Action.UPDATE)
    scope = actor_scope(request)
    deal = selectors.deal_get(**scope, deal_id=deal_id)
    competitors = list(Competitor.objects.in_workspace(request.workspace).order_by("name"))
    chosen = list(
        DealCompetitor.objects.in_workspace(request.workspace)
        .filter(deal=deal)
        .values_list("competitor_id", flat=True)
    )
    form = DealEditForm(request.POST or None, deal=deal, competitors=competitors)
    if request.method != "POST":
        form.initial["competitors"] = chosen
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                updated = services.deal_update(
                    **scope, deal=deal.pk, version=form.cleaned_data["version"], **form.changes()
                )
                if sorted(form.cleaned_data["competitors"]) != sorted(chosen):
                    services.deal_set_competitors(
                        **scope,
                        deal=updated.pk,
                        competitors=form.cleaned_data["competitors"],
                        version=updated.version,
                    )
        except ApplicationError as exc:
            if exc.status in (403, 404):
                raise
            form.add_service_error(exc)
        else:
            messages.success(request, gettext("Saved."))
            return redirect(reverse("sales:deal_detail", args=[deal.pk]))
    owners = services.assignable_users(**scope) if services.may_assign_others(request.user) else []
    return render(request, "sales/deals/edit.html", {"form": form, "deal": deal, "owners": owners})


@page
@require_POST
def deal_reassign(request, deal_id: int):
    try:
        services.deal_reassign(
            **actor_scope(request),
            deal=deal_id,
            owner=request.POST.get("owner") or None,
            version=request.POST.get("version") or None,
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, gettext("The deal has a new owner."))
    return redirect(reverse("sales:deal_detail", args=[deal_id]))


# --- the new-deal form ---------------------------------------------------------------------


@page
def deal_create(request):
    permissions.require(request.user, DEAL, Action.CREATE)
    scope = actor_scope(request)
    form = DealForm(
        request.POST or None,
        workspace=request.workspace,
        actor=request.user,
        initial={
            "account": request.GET.get("account", ""),
            "contact": request.GET.get("contact", ""),
            "pipeline": request.GET.get("pipeline", ""),
            "currency": base_currency(request.workspace),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            deal = services.deal_create(**scope, **form.service_values())
        except ApplicationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, gettext("Deal “%(name)s” opened.") % {"name": deal.name})
            return redirect(reverse("sales:deal_detail", args=[deal.pk]))
    return render(request, "sales/deals/form.html", {"form": form})


@page
def customer_picker(request):
    """Accounts (or contacts) whose name or code starts with ``q``, as ``<option>``s."""
    permissions.require(request.user, DEAL, Action.READ)
    scope = actor_scope(request)
    term = request.GET.get("q", "").strip()[:100]
    kind = request.GET.get("kind", "account")
    if kind == "contact":
        qs = customer_selectors.contact_list(**scope)
    else:
        qs = customer_selectors.account_list(**scope)
    if term:
        qs = qs.filter(Q(name__icontains=term) | Q(code__istartswith=term))
    rows = list(
        qs.select_related(None).order_by("name", "id").only("id", "name", "code")[:PICKER_LIMIT]
    )
    return render(request, "sales/deals/picker_options.html", {"rows": rows, "term": term})


# --- the 360° section ------------------------------------------------------------------------


def customer_section(request, object_key: str, record) -> dict | None:
    """The customer's open deals: the first few by close date, their count and sum (two
    queries whatever the number of deals)."""
    if not permissions.can(request.user, DEAL, Action.READ):
        return None
    scope = actor_scope(request)
    field = "account" if object_key == "customers.account" else "contact"
    qs = selectors.deal_list(**scope).filter(status=DealStatus.OPEN, **{field: record})
    totals = qs.order_by().aggregate(n=Count("id"), total=Sum("amount_base"))
    deals = list(
        qs.select_related("stage", "owner").order_by("expected_close_date", "id")[:SECTION_LIMIT]
    )
    return {
        "deals": deals,
        "count": totals["n"] or 0,
        "total": totals["total"] or 0,
        "base_currency": base_currency(request.workspace),
        "new_url": reverse("sales:deal_create") + f"?{field}={record.pk}"
        if permissions.can(request.user, DEAL, Action.CREATE)
        else "",
        "list_url": reverse("sales:deal_list") + f"?f_{field}={record.pk}",
    }
