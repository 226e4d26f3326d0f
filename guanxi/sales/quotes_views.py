"""The quote pages: the list (mine / my team, by status), a new quote, the quote editor
(lines edited in place with htmx, the customer's price history beside each line, the
approval banner, the buttons the quote's state allows), the PDF, the managers' approvals
inbox, and the quotes panel of a customer's 360° page. The services and selectors do the
work; these views translate between HTTP and them."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.common.pagination import paginate
from guanxi.common.views import actor_scope, error_message, page
from guanxi.customers import selectors as customer_selectors
from guanxi.platform import permissions
from guanxi.platform.models import Action

from .models import ApprovalStatus, Order, Product, QuoteStatus
from .objects import ORDER, QUOTE, QUOTE_APPROVAL
from .quotes_forms import QuoteHeaderForm
from .selectors import quotes as selectors
from .services import quote_approvals, quotes
from .services.quote_pdf import quote_pdf_bytes, quote_pdf_filename

PAGE_SIZE = 50
PICKER_LIMIT = 200


def _url_or_none(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# --- the list -----------------------------------------------------------------------------------


@page
def quote_list(request):
    """Quotes the user may see: mine, my team's or all of them, by status; newest first,
    one keyset page at a time."""
    permissions.require(request.user, QUOTE, Action.READ)
    scope = request.GET.get("scope", "mine")
    if scope not in ("mine", "team", "all"):
        scope = "mine"
    status = request.GET.get("status", "")
    if status not in ("", "open", *QuoteStatus.values):
        status = ""
    qs = selectors.quote_list(
        **actor_scope(request), scope="" if scope == "all" else scope, status=status
    )
    try:
        result = paginate(
            qs, key="created_at", descending=True, cursor=request.GET.get("cursor"), limit=PAGE_SIZE
        )
    except ApplicationError:
        result = paginate(qs, key="created_at", descending=True, limit=PAGE_SIZE)
    query = request.GET.copy()
    next_query = ""
    if result.next_cursor:
        query["cursor"] = result.next_cursor
        next_query = query.urlencode()
    context = {
        "quotes": result.items,
        "next_query": next_query,
        "scope": scope,
        "status": status,
        "statuses": [("open", gettext("Open")), *QuoteStatus.choices],
        "can_create": permissions.can(request.user, QUOTE, Action.CREATE),
        "can_decide": selectors.may_decide(request.user),
    }
    template = "sales/quotes/list_rows.html" if request.htmx else "sales/quotes/list.html"
    return render(request, template, context)


# --- a new quote --------------------------------------------------------------------------------


@page
def quote_new(request):
    """A new draft quote for a customer (``?account=``, ``?contact=`` or ``?deal=`` preset
    it); the lines are added in the editor."""
    permissions.require(request.user, QUOTE, Action.CREATE)
    scope = actor_scope(request)
    preset_account = request.GET.get("account") or request.POST.get("account") or ""
    preset_contact = request.GET.get("contact") or request.POST.get("contact") or ""
    deal_id = request.GET.get("deal") or request.POST.get("deal") or ""
    accounts = list(customer_selectors.account_list(**scope).order_by("name")[:PICKER_LIMIT])
    contacts_qs = customer_selectors.contact_list(**scope)
    if preset_account.isdigit():
        contacts_qs = contacts_qs.filter(account_id=int(preset_account))
        if not any(str(a.pk) == preset_account for a in accounts):
            accounts.insert(
                0, customer_selectors.account_get(**scope, account_id=int(preset_account))
            )
    contacts = list(contacts_qs.order_by("name")[:PICKER_LIMIT])
    if preset_contact.isdigit() and not any(str(c.pk) == preset_contact for c in contacts):
        contacts.insert(0, customer_selectors.contact_get(**scope, contact_id=int(preset_contact)))
    initial = {
        "account": preset_account,
        "contact": preset_contact,
        "language": (request.workspace.language or "zh-hans").lower(),
    }
    form = QuoteHeaderForm(
        request.POST or None,
        workspace=request.workspace,
        actor=request.user,
        accounts=accounts,
        contacts=contacts,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        values = form.values()
        if deal_id.isdigit():
            values["deal_id"] = int(deal_id)
            if not values.get("account_id") and not values.get("contact_id"):
                values.pop("account_id", None)
        try:
            quote = quotes.quote_create(**scope, **values)
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            return redirect("sales:quote_detail", quote.pk)
    return render(request, "sales/quotes/new.html", {"form": form, "deal_id": deal_id})


# --- the editor ---------------------------------------------------------------------------------


def _product_choices(request, quote) -> list[Product]:
    """Products offered by the plain "add a line" select when the catalogue's picker is
    not installed."""
    return list(
        Product.objects.in_workspace(request.workspace)
        .filter(active=True)
        .only("id", "code", "name")
        .order_by("name", "id")[:PICKER_LIMIT]
    )


def _editor_context(request, quote, *, error=None, ok: str = "") -> dict:
    lines = selectors.quote_lines(quote)
    product_ids = list(dict.fromkeys(line.product_id for line in lines))
    history = selectors.price_history(
        **actor_scope(request),
        account_id=quote.account_id,
        contact_id=quote.contact_id,
        product_ids=product_ids,
        exclude_number=quote.number,
    )
    rows = [{"line": line, "history": history.get(line.product_id)} for line in lines]
    reasons = [quotes.reason_text(r) for r in quote.approval_reasons or []]
    warnings = [quotes.reason_text(w) for w in quotes.quote_warnings(quote, lines)]
    pending = quote_approvals.pending_approval_id(workspace=request.workspace, quote=quote)
    can_update = permissions.can(request.user, QUOTE, Action.UPDATE)
    editable = can_update and quote.status in quotes.EDITABLE
    picker = _url_or_none("sales:product_picker")
    order_id = None
    if quote.status == QuoteStatus.ACCEPTED:
        order_id = (
            Order.objects.in_workspace(request.workspace)
            .filter(quote=quote)
            .values_list("pk", flat=True)
            .first()
        )
    return {
        "quote": quote,
        "rows": rows,
        "reasons": reasons,
        "warnings": warnings,
        "pending_id": pending,
        "editable": editable,
        "can_update": can_update,
        "can_decide": pending is not None
        and selectors.may_decide(request.user)
        and (request.user.role.is_admin or quote.owner_id != request.user.pk),
        "can_accept": can_update and permissions.can(request.user, ORDER, Action.CREATE),
        "sendable": can_update
        and (
            quote.status == QuoteStatus.APPROVED
            or (quote.status == QuoteStatus.DRAFT and not quote.approval_reasons)
        )
        and bool(lines),
        "needs_approval": can_update
        and quote.status in (QuoteStatus.DRAFT, QuoteStatus.REJECTED)
        and bool(quote.approval_reasons),
        "deletable": permissions.can(request.user, QUOTE, Action.DELETE)
        and quote.status == QuoteStatus.DRAFT
        and quote.version_number == 1,
        "versionable": can_update
        and quote.status not in (QuoteStatus.ACCEPTED, QuoteStatus.SUPERSEDED),
        "picker_url": picker,
        "products": _product_choices(request, quote) if editable and picker is None else [],
        "versions": selectors.quote_versions(quote),
        "customer_url": _customer_url(quote),
        "order_url": _url_or_none("sales:order_detail", order_id) if order_id else None,
        "header_form": _header_form(request, quote) if editable else None,
        "error": error,
        "ok": ok,
    }


def _customer_url(quote) -> str | None:
    if quote.account_id:
        return _url_or_none("customers:account_detail", quote.account_id)
    if quote.contact_id:
        return _url_or_none("customers:contact_detail", quote.contact_id)
    return None


@page
def quote_detail(request, pk: int):
    """The quote editor."""
    quote = selectors.quote_get(**actor_scope(request), quote_id=pk)
    context = _editor_context(request, quote)
    return render(request, "sales/quotes/detail.html", context)


def _header_form(request, quote, data=None) -> QuoteHeaderForm:
    contacts = []
    if quote.account_id:
        contacts = list(
            customer_selectors.contact_list(**actor_scope(request))
            .filter(account_id=quote.account_id)
            .order_by("name")[:PICKER_LIMIT]
        )
    return QuoteHeaderForm(
        data,
        workspace=request.workspace,
        actor=request.user,
        contacts=contacts,
        editing=True,
        initial={
            "contact": quote.contact_id or "",
            "currency": quote.currency,
            "language": quote.language,
            "valid_until": quote.valid_until,
            "discount_percent": quote.discount_percent,
            "terms": quote.terms,
            "notes": quote.notes,
        },
        auto_id="quote-header-%s",
    )


def _body(request, pk: int, *, error=None, ok: str = ""):
    """The editor's body after a change (htmx), or the page again (no script)."""
    if not request.htmx:
        if error is not None:
            messages.error(request, error_message(error))
        elif ok:
            messages.success(request, ok)
        return redirect("sales:quote_detail", pk)
    quote = selectors.quote_get(**actor_scope(request), quote_id=pk)
    context = _editor_context(request, quote, error=error, ok=ok)
    return render(request, "sales/quotes/editor_body.html", context)


def _run(request, pk: int, action, ok: str):
    try:
        action()
    except ApplicationError as exc:
        error_message(exc)  # 403/404 keep their own pages
        return _body(request, pk, error=exc)
    return _body(request, pk, ok=ok)


def _lock(request) -> str:
    return request.POST.get("lock_version", "")


@page
@require_POST
def quote_line_add(request, pk: int):
    return _run(
        request,
        pk,
        lambda: quotes.quote_line_add(
            **actor_scope(request),
            quote_id=pk,
            lock_version=_lock(request),
            product_id=request.POST.get("product_id") or request.POST.get("product"),
            quantity=request.POST.get("quantity") or "1",
            discount_percent=request.POST.get("discount_percent") or "0",
        ),
        gettext("Line added."),
    )


@page
@require_POST
def quote_line_update(request, pk: int, line_id: int):
    changes = {
        name: request.POST[name]
        for name in ("quantity", "discount_percent", "description")
        if name in request.POST
    }
    return _run(
        request,
        pk,
        lambda: quotes.quote_line_update(
            **actor_scope(request),
            quote_id=pk,
            line_id=line_id,
            lock_version=_lock(request),
            **changes,
        ),
        gettext("Saved."),
    )


@page
@require_POST
def quote_line_remove(request, pk: int, line_id: int):
    return _run(
        request,
        pk,
        lambda: quotes.quote_line_remove(
            **actor_scope(request), quote_id=pk, line_id=line_id, lock_version=_lock(request)
        ),
        gettext("Line removed."),
    )


@page
@require_POST
def quote_header(request, pk: int):
    quote = selectors.quote_get(**actor_scope(request), quote_id=pk)
    form = _header_form(request, quote, request.POST)
    if not form.is_valid():
        return _body(
            request,
            pk,
            error=ApplicationError(
                gettext("Some fields are not valid."),
                fields={k: list(v) for k, v in form.errors.items()},
            ),
        )
    values = form.values()
    return _run(
        request,
        pk,
        lambda: quotes.quote_update(
            **actor_scope(request), quote_id=pk, lock_version=_lock(request), **values
        ),
        gettext("Saved."),
    )


@page
@require_POST
def quote_submit(request, pk: int):
    return _run(
        request,
        pk,
        lambda: quote_approvals.quote_submit(
            **actor_scope(request),
            quote_id=pk,
            lock_version=_lock(request),
            note=request.POST.get("note", ""),
        ),
        gettext("Sent to your manager for approval."),
    )


@page
@require_POST
def quote_send(request, pk: int):
    email = request.POST.get("email", "1") == "1"
    to = [a.strip() for a in request.POST.get("to", "").replace(";", ",").split(",") if a.strip()]
    return _run(
        request,
        pk,
        lambda: quotes.quote_send(
            **actor_scope(request),
            quote_id=pk,
            lock_version=_lock(request),
            email=email,
            to=to or None,
        ),
        gettext("The quote is e-mailed with its PDF.") if email else gettext("Marked as sent."),
    )


@page
@require_POST
def quote_accept(request, pk: int):
    return _run(
        request,
        pk,
        lambda: quotes.quote_accept(
            **actor_scope(request), quote_id=pk, lock_version=_lock(request)
        ),
        gettext("Accepted: the order is made."),
    )


@page
@require_POST
def quote_decline(request, pk: int):
    return _run(
        request,
        pk,
        lambda: quotes.quote_decline(
            **actor_scope(request),
            quote_id=pk,
            lock_version=_lock(request),
            reason=request.POST.get("reason", ""),
        ),
        gettext("Marked as declined."),
    )


@page
@require_POST
def quote_new_version(request, pk: int):
    try:
        new = quotes.quote_new_version(
            **actor_scope(request), quote_id=pk, lock_version=_lock(request)
        )
    except ApplicationError as exc:
        error_message(exc)
        return _body(request, pk, error=exc)
    url = reverse("sales:quote_detail", args=[new.pk])
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    messages.success(request, gettext("Version %(n)s made.") % {"n": new.version_number})
    return redirect(url)


@page
@require_POST
def quote_delete(request, pk: int):
    try:
        quotes.quote_delete(**actor_scope(request), quote_id=pk, lock_version=_lock(request))
    except ApplicationError as exc:
        error_message(exc)
        return _body(request, pk, error=exc)
    url = reverse("sales:quote_list")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    messages.success(request, gettext("The quote is deleted."))
    return redirect(url)


@page
def quote_pdf(request, pk: int):
    quote = selectors.quote_get(**actor_scope(request), quote_id=pk)
    response = HttpResponse(quote_pdf_bytes(quote), content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{quote_pdf_filename(quote)}"'
    return response


@page
@require_POST
def quote_decide(request, pk: int):
    """Approve or reject from the quote's page (the manager sees the same reasons)."""
    approve = request.POST.get("decision") == "approve"
    approval_id = request.POST.get("approval_id", "")

    def decide():
        if approve:
            quote_approvals.quote_approve(
                **actor_scope(request),
                approval_id=approval_id,
                comment=request.POST.get("comment", ""),
            )
        else:
            quote_approvals.quote_reject(
                **actor_scope(request),
                approval_id=approval_id,
                comment=request.POST.get("comment", ""),
            )

    return _run(request, pk, decide, gettext("Approved.") if approve else gettext("Rejected."))


# --- the approvals inbox ------------------------------------------------------------------------


@page
def approval_inbox(request):
    """Managers: the approval requests on their teams' quotes, with the reasons; approve
    or reject each with a comment, in place."""
    permissions.require(request.user, QUOTE_APPROVAL, Action.READ)
    status = request.GET.get("status", ApprovalStatus.PENDING)
    if status not in ("", *ApprovalStatus.values):
        status = ApprovalStatus.PENDING
    qs = selectors.approvals_inbox(**actor_scope(request), status=status).select_related(
        "decided_by"
    )
    items = list(qs[:PAGE_SIZE])
    return render(
        request,
        "sales/quotes/approvals.html",
        {
            "items": [_approval_item(a) for a in items],
            "status": status,
            "statuses": ApprovalStatus.choices,
            "can_decide": selectors.may_decide(request.user),
            "more": len(items) == PAGE_SIZE,
        },
    )


def _approval_item(approval) -> dict:
    return {
        "approval": approval,
        "reasons": [quotes.reason_text(r) for r in approval.reasons or []],
    }


@page
@require_POST
def approval_decide(request, approval_id: int):
    approve = request.POST.get("decision") == "approve"
    comment = request.POST.get("comment", "")
    error = None
    try:
        if approve:
            quote_approvals.quote_approve(
                **actor_scope(request), approval_id=approval_id, comment=comment
            )
        else:
            quote_approvals.quote_reject(
                **actor_scope(request), approval_id=approval_id, comment=comment
            )
    except ApplicationError as exc:
        error = error_message(exc)
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, gettext("Approved.") if approve else gettext("Rejected."))
        return redirect("sales:quote_approvals")
    approval = (
        quote_approvals.approval_queryset(**actor_scope(request))
        .select_related("decided_by")
        .filter(pk=approval_id)
        .first()
    )
    if approval is None:
        raise NotFound()
    return render(
        request,
        "sales/quotes/approval_item.html",
        {
            "item": _approval_item(approval),
            "error": error,
            "can_decide": selectors.may_decide(request.user),
        },
    )


# --- the customer's 360° panel ------------------------------------------------------------------


def customer_section(request, object_key: str, record) -> dict | None:
    """The "Quotes" section of an account's or a person's 360° page (one query)."""
    if not permissions.can(request.user, QUOTE, Action.READ):
        return None
    is_account = object_key == "customers.account"
    items = selectors.customer_quotes(
        **actor_scope(request),
        account_id=record.pk if is_account else None,
        contact_id=None if is_account else record.pk,
    )
    return {
        "quotes": items,
        "new_url": reverse("sales:quote_new")
        + (f"?account={record.pk}" if is_account else f"?contact={record.pk}"),
        "can_create": permissions.can(request.user, QUOTE, Action.CREATE),
        "today": timezone.localdate(),
    }


def deal_section(request, deal) -> dict | None:
    """The quotes of one deal (the deal page's section): one query."""
    if not permissions.can(request.user, QUOTE, Action.READ):
        return None
    return {
        "quotes": selectors.deal_quotes(**actor_scope(request), deal_id=deal.pk),
        "new_url": reverse("sales:quote_new") + f"?deal={deal.pk}",
        "can_create": permissions.can(request.user, QUOTE, Action.CREATE),
    }
