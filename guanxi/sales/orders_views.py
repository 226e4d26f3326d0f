"""The orders part's pages: the orders list, an order (lines, invoices, payments; record a
payment in place with htmx), the new-order form with the credit warning, the receivables
ageing (by customer and by rep, drill into a customer, CSV export), the order import, and
the 360° section. Every page calls the same services and selectors as the API."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.activities import localtime
from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.common.views import actor_scope, error_message, page
from guanxi.customers import sections
from guanxi.customers.models import Account, Contact
from guanxi.platform import permissions
from guanxi.platform.list_views import render_list
from guanxi.platform.models import Action

from . import orders_lists  # noqa: F401  (registers the list)
from .models import InvoiceStatus, OrderStatus, Product
from .objects import INVOICE, ORDER
from .orders_forms import LINE_ROWS, InvoiceForm, OrderForm, PaymentForm
from .selectors import orders as selectors
from .selectors import receivables
from .services import invoices as invoice_services
from .services import order_import
from .services import orders as services
from .services.money import base_currency

# --- the list --------------------------------------------------------------------------------


@page
def order_list(request):
    return render_list(
        request,
        "sales.orders",
        template="sales/orders/list.html",
        extra={
            "create_url": reverse("sales:order_create")
            if permissions.can(request.user, ORDER, Action.CREATE)
            else "",
            "import_url": reverse("sales:order_import")
            if permissions.can(request.user, ORDER, Action.BULK)
            else "",
        },
    )


# --- one order -------------------------------------------------------------------------------


def _detail_context(request, order_id, **extra) -> dict:
    order = selectors.order_detail(**actor_scope(request), order_id=order_id)
    user = request.user
    invoices = list(order.invoices.all())
    for invoice in invoices:
        invoice.unpaid = invoice.amount - invoice.paid_amount
        invoice.is_open = invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.PARTLY_PAID)
    can_update = permissions.can(user, ORDER, Action.UPDATE)
    next_statuses = [
        (value, OrderStatus(value).label)
        for value in (OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.COMPLETED)
        if value in services.NEXT_STATUS[OrderStatus(order.status)]
    ]
    can_cancel = (
        OrderStatus.CANCELLED in services.NEXT_STATUS[OrderStatus(order.status)]
        and order.invoiced_total == 0
        and order.paid_total == 0
    )
    left = order.total - order.invoiced_total
    return {
        "order": order,
        "lines": list(order.lines.all()),
        "invoices": invoices,
        "can_update": can_update,
        "next_statuses": next_statuses if can_update else [],
        "can_cancel": can_cancel and can_update,
        "can_invoice": permissions.can(user, INVOICE, Action.CREATE)
        and order.status in services.ACTIVE_STATUSES
        and left > 0,
        "can_pay": permissions.can(user, INVOICE, Action.UPDATE),
        "left_to_invoice": left,
        "invoice_form": extra.pop("invoice_form", None) or InvoiceForm(initial={"amount": left}),
        "payment_form": extra.pop("payment_form", None)
        or PaymentForm(initial={"received_on": localtime.local_today(user)}),
        "customer_url": _customer_url(order),
        **extra,
    }


def _customer_url(order) -> str:
    if order.account_id:
        return reverse("customers:account_detail", args=[order.account_id])
    if order.contact_id:
        return reverse("customers:contact_detail", args=[order.contact_id])
    return ""


@page
def order_detail(request, order_id: int):
    return render(request, "sales/orders/detail.html", _detail_context(request, order_id))


@page
@require_POST
def order_status(request, order_id: int):
    try:
        services.order_set_status(
            **actor_scope(request), order_id=order_id, status=request.POST.get("status", "")
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    return redirect("sales:order_detail", order_id)


@page
@require_POST
def invoice_create(request, order_id: int):
    form = InvoiceForm(request.POST)
    if form.is_valid():
        try:
            invoice_services.invoice_create(
                **actor_scope(request), order_id=order_id, **form.cleaned_data
            )
            return redirect("sales:order_detail", order_id)
        except ApplicationError as exc:
            form.add_service_error(error_message(exc), exc.fields)
    context = _detail_context(request, order_id, invoice_form=form)
    return render(request, "sales/orders/detail.html", context, status=400)


@page
@require_POST
def invoice_void(request, invoice_id: int):
    invoice = selectors.invoice_get(**actor_scope(request), invoice_id=invoice_id)
    try:
        invoice_services.invoice_void(**actor_scope(request), invoice_id=invoice_id)
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
    return redirect("sales:order_detail", invoice.order_id)


@page
@require_POST
def payment_create(request, invoice_id: int):
    """Record a payment; with htmx the invoices panel is swapped in place."""
    invoice = selectors.invoice_get(**actor_scope(request), invoice_id=invoice_id)
    form = PaymentForm(request.POST)
    error_invoice = None
    if form.is_valid():
        try:
            invoice_services.payment_record(
                **actor_scope(request), invoice_id=invoice_id, **form.cleaned_data
            )
            form = None
        except ApplicationError as exc:
            form.add_service_error(error_message(exc), exc.fields)
    if form is not None:
        error_invoice = invoice.pk
    context = _detail_context(
        request,
        invoice.order_id,
        error_invoice=error_invoice,
        **({"payment_form": form} if form else {}),
    )
    status = 400 if form is not None else 200
    if request.htmx:
        return render(request, "sales/orders/invoices_panel.html", context, status=status)
    if form is None:
        return redirect("sales:order_detail", invoice.order_id)
    return render(request, "sales/orders/detail.html", context, status=status)


# --- new order -------------------------------------------------------------------------------


def _find_customer(workspace, code: str):
    code = code.strip()
    if not code:
        return None, None
    account = Account.objects.in_workspace(workspace).filter(code=code).only("id").first()
    if account is not None:
        return account.pk, None
    contact = Contact.objects.in_workspace(workspace).filter(code=code).only("id").first()
    return (None, contact.pk) if contact is not None else (None, None)


@page
def order_create(request):
    permissions.require(request.user, ORDER, Action.CREATE)
    workspace = request.workspace
    initial = {
        "order_date": localtime.local_today(request.user),
        "currency": base_currency(workspace),
    }
    preset = None
    for key, model in (("account", Account), ("contact", Contact)):
        pk = request.GET.get(key)
        if pk and pk.isdigit():
            preset = model.objects.in_workspace(workspace).filter(pk=pk).first()
            if preset is not None:
                initial["customer"] = preset.code
                initial["currency"] = preset.currency or initial["currency"]
                break
    form = OrderForm(request.POST or None, initial=initial)
    credit = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        account_id, contact_id = _find_customer(workspace, data["customer"])
        products = dict(
            Product.objects.in_workspace(workspace)
            .filter(code__in=[line["product"] for line in data["lines"] if line["product"]])
            .values_list("code", "id")
        )
        lines = [
            services.OrderLineInput(
                product=products.get(line["product"], -1) if line["product"] else None,
                quantity=line["quantity"],
                unit_price=line["unit_price"],
                tax_rate=line["tax_rate"],
                description=line["description"],
            )
            for line in data["lines"]
        ]
        try:
            if account_id is None and contact_id is None:
                raise ApplicationError(
                    _("No account or contact has this customer code."),
                    fields={"customer": [_("No account or contact has this customer code.")]},
                )
            order = services.order_create(
                **actor_scope(request),
                account=account_id,
                contact=contact_id,
                currency=data["currency"],
                order_date=data["order_date"],
                lines=lines,
                payment_terms_days=data["payment_terms_days"],
                notes=data["notes"],
                status=OrderStatus.DRAFT if data["draft"] else OrderStatus.CONFIRMED,
            )
        except ApplicationError as exc:
            form.add_service_error(error_message(exc), exc.fields)
        else:
            if order.credit_warning:
                messages.warning(request, order.credit_warning)
            return redirect("sales:order_detail", order.pk)
    if preset is not None:
        credit = receivables.credit_status(
            workspace=workspace,
            account=preset if isinstance(preset, Account) else None,
            contact=preset if isinstance(preset, Contact) else None,
        )
    return render(
        request,
        "sales/orders/form.html",
        {"form": form, "credit": credit, "line_rows": form.line_rows(), "rows": LINE_ROWS},
        status=400 if request.method == "POST" else 200,
    )


@page
def credit_banner(request):
    """htmx: the credit banner for the customer code typed in the new-order form."""
    permissions.require(request.user, ORDER, Action.CREATE)
    account_id, contact_id = _find_customer(request.workspace, request.GET.get("customer", ""))
    credit = None
    if account_id or contact_id:
        credit = receivables.credit_status(
            workspace=request.workspace, account=account_id, contact=contact_id
        )
    return render(request, "sales/orders/credit_banner.html", {"credit": credit})


# --- receivables -----------------------------------------------------------------------------


@page
def receivables_page(request):
    permissions.require(request.user, INVOICE, Action.READ)
    by = request.GET.get("by", "customer")
    if by not in ("customer", "rep"):
        by = "customer"
    today = localtime.local_today(request.user)
    report = receivables.ageing(**actor_scope(request), by=by, as_of=today)
    if request.GET.get("format") == "csv":
        return _ageing_csv(report)
    for row in report.rows:
        if row.kind == "account":
            row.url = reverse("sales:receivables_customer", args=["accounts", row.key])
        elif row.kind == "contact":
            row.url = reverse("sales:receivables_customer", args=["contacts", row.key])
    return render(
        request,
        "sales/orders/receivables.html",
        {"report": report, "by": by, "buckets": receivables.BUCKETS},
    )


def _ageing_csv(report) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="receivables-{report.by}-{report.as_of.isoformat()}.csv"'
    )
    response.write("\ufeff")
    writer = csv.writer(response)
    first = _("Customer") if report.by == "customer" else _("Rep")
    writer.writerow(
        [first, _("Code"), *[b[1] for b in receivables.BUCKETS], _("Total"), _("Overdue")]
    )
    for row in [*report.rows, report.totals]:
        label = row.label if row.kind != "total" else _("Total")
        label = "'" + label if label[:1] in ("=", "+", "-", "@") else label
        writer.writerow(
            [
                label,
                row.code,
                *[row.buckets[b[0]] for b in receivables.BUCKETS],
                row.total,
                row.overdue,
            ]
        )
    return response


@page
def receivables_customer(request, kind: str, customer_id: int):
    permissions.require(request.user, INVOICE, Action.READ)
    if kind not in ("accounts", "contacts"):
        raise NotFound()
    model = Account if kind == "accounts" else Contact
    customer = model.objects.in_workspace(request.workspace).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound()
    today = localtime.local_today(request.user)
    key = {"account_id": customer.pk} if kind == "accounts" else {"contact_id": customer.pk}
    invoices = receivables.customer_open_invoices(**actor_scope(request), as_of=today, **key)
    credit = receivables.credit_status(
        workspace=request.workspace,
        account=customer if kind == "accounts" else None,
        contact=customer if kind == "contacts" else None,
    )
    return render(
        request,
        "sales/orders/receivables_customer.html",
        {
            "customer": customer,
            "invoices": invoices,
            "credit": credit,
            "currency": base_currency(request.workspace),
            "total": sum((i.unpaid_base for i in invoices), 0),
        },
    )


# --- import ----------------------------------------------------------------------------------


@page
def order_import_page(request):
    permissions.require(request.user, ORDER, Action.BULK)
    error = None
    returns = order_import.REFUSE
    if request.method == "POST":
        upload = request.FILES.get("file")
        returns = request.POST.get("returns") or order_import.REFUSE
        try:
            if upload is None:
                raise ApplicationError(
                    _("Choose a CSV file."), fields={"file": [_("Choose a CSV file.")]}
                )
            run = order_import.order_import_create(
                **actor_scope(request),
                file_name=upload.name,
                source=upload,
                create_products=request.POST.get("create_products") == "1",
                settled=request.POST.get("settled") == "1",
                returns=returns,
                create_customers=request.POST.get("create_customers") == "1",
            )
            order_import.order_import_start(**actor_scope(request), import_id=run.pk)
            return redirect("sales:order_import_detail", run.pk)
        except PermissionDenied:
            raise  # an option the role does not allow: the 403 page says which
        except ApplicationError as exc:
            error = error_message(exc)
    runs = order_import.order_import_list(**actor_scope(request))
    return render(
        request,
        "sales/orders/import.html",
        {
            "runs": runs,
            "error": error,
            "headers": order_import.HEADERS,
            "returns_choices": [
                (value, label, order_import.RETURNS_HELP[value])
                for value, label in order_import.RETURNS.items()
            ],
            "returns": returns if returns in order_import.RETURNS else order_import.REFUSE,
            "can_create_customers": permissions.can(
                request.user, order_import.ACCOUNT, Action.CREATE
            ),
        },
        status=400 if error else 200,
    )


@page
def order_import_detail(request, import_id: int):
    run = order_import.order_import_get(**actor_scope(request), import_id=import_id)
    returns = run.options.get("returns") or order_import.REFUSE
    return render(
        request,
        "sales/orders/import_detail.html",
        {"run": run, "returns_label": order_import.RETURNS.get(returns, returns)},
    )


@page
def order_import_report(request, import_id: int):
    from pathlib import Path

    run = order_import.order_import_get(**actor_scope(request), import_id=import_id)
    path = Path(run.error_path) if run.error_path else None
    if path is None or not path.is_file():
        raise NotFound()
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=f"order-import-{run.pk}-errors.csv",
        content_type="text/csv",
    )


# --- the 360° section ------------------------------------------------------------------------


def customer_section_context(request, object_key: str, record) -> dict | None:
    """Last orders, what the customer owes and their credit: three queries (orders, open
    invoices' sum, uninvoiced orders' sum)."""
    scope = actor_scope(request)
    if object_key == sections.ACCOUNT:
        recent = selectors.customer_orders(**scope, account_id=record.pk)
        credit = receivables.credit_status(workspace=request.workspace, account=record)
        new_url = reverse("sales:order_create") + f"?account={record.pk}"
        drill = reverse("sales:receivables_customer", args=["accounts", record.pk])
    else:
        recent = selectors.customer_orders(**scope, contact_id=record.pk)
        credit = receivables.credit_status(workspace=request.workspace, contact=record)
        new_url = reverse("sales:order_create") + f"?contact={record.pk}"
        drill = reverse("sales:receivables_customer", args=["contacts", record.pk])
    return {
        "orders": recent,
        "credit": credit,
        "currency": base_currency(request.workspace),
        "new_order_url": new_url if permissions.can(request.user, ORDER, Action.CREATE) else "",
        "receivables_url": drill if permissions.can(request.user, INVOICE, Action.READ) else "",
        "list_url": reverse("sales:order_list"),
    }
