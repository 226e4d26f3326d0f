"""E-mail pages: compose and send, a message (with its attachments), the triage inbox,
templates, mailboxes (administrators) and the 360° page's e-mail panel. Every write goes
through the services; the views only read forms and show results."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError
from guanxi.common.pagination import paginate
from guanxi.common.views import actor_scope, error_message, page
from guanxi.customers import search
from guanxi.customers import selectors as customer_selectors
from guanxi.customers.models import AccountContact, Contact
from guanxi.platform import permissions

from .email_forms import ComposeForm, FileForm, MailboxForm, TemplateForm
from .models import EmailDirection, EmailStatus
from .objects import EMAIL
from .selectors import email as email_selectors
from .services import email_in, email_mailboxes, email_out, email_templates

ACCOUNT = "customers.account"
CONTACT = "customers.contact"
PANEL_KINDS = {"account": ACCOUNT, "contact": CONTACT}
PANEL_ROWS = 10


def _customer_url(email) -> str:
    if email.contact_id:
        return reverse("customers:contact_detail", args=[email.contact_id])
    if email.account_id:
        return reverse("customers:account_detail", args=[email.account_id])
    return reverse("activities:email_detail", args=[email.pk])


# --- compose -------------------------------------------------------------------------------


def _account_contacts(request, account) -> list[Contact]:
    """The people at an account the actor may see (primary account or a membership)."""
    at_account = AccountContact.objects.in_workspace(request.workspace).filter(account=account)
    visible = customer_selectors.contact_list(**actor_scope(request))
    return list(
        visible.filter(Q(account=account) | Q(pk__in=at_account.values("contact_id"))).order_by(
            "name", "id"
        )[:200]
    )


@page
def compose(request):
    """Write an e-mail to a contact (``?contact=``), someone at an account (``?account=``)
    or in reply to a message (``?reply_to=``)."""
    permissions.require(request.user, EMAIL, "create")
    params = request.POST if request.method == "POST" else request.GET
    parent = contact = account = None
    if params.get("reply_to") or params.get("in_reply_to"):
        parent = email_selectors.email_get(
            **actor_scope(request), email_id=params.get("reply_to") or params.get("in_reply_to")
        )
        contact, account = parent.contact, parent.account
    if params.get("account"):
        account = customer_selectors.account_get(
            **actor_scope(request), account_id=params["account"]
        )
    if params.get("contact"):
        contact = customer_selectors.contact_get(
            **actor_scope(request), contact_id=params["contact"]
        )
        account = account or contact.account
    if account is None and contact is None and parent is None:
        raise Http404()
    contacts = _account_contacts(request, account) if account is not None else []
    if contact is not None and all(c.pk != contact.pk for c in contacts):
        contacts.insert(0, contact)
    templates = list(email_selectors.template_list(**actor_scope(request), active_only=True))
    initial = {"contact": contact.pk if contact else None}
    if parent is not None:
        initial.update(
            subject=parent.subject
            if parent.subject.lower().startswith("re:")
            else f"Re: {parent.subject}",
            in_reply_to=parent.pk,
            to=parent.from_address if parent.direction == EmailDirection.INBOUND else "",
        )
    form = ComposeForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        contacts=contacts,
        templates=templates,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sent = email_out.email_send(
                **actor_scope(request),
                contact_id=data["contact"],
                account_id=account.pk if account is not None else None,
                to=data["to"],
                cc=data["cc"],
                subject=data["subject"],
                body=data["body"],
                template_id=data["template"],
                purpose=data["purpose"],
                in_reply_to_id=data["in_reply_to"],
            )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(
                request, gettext("The e-mail is queued; the worker sends it in a moment.")
            )
            return redirect(_customer_url(sent))
    return render(
        request,
        "activities/email_compose.html",
        {
            "form": form,
            "contact": contact,
            "account": account,
            "parent": parent,
            "contacts": contacts,
            "account_id": account.pk if account else "",
        },
    )


@page
def compose_template(request):
    """htmx: the subject and message of the chosen template, to edit before sending
    (placeholders stay until it is sent)."""
    template = None
    if request.GET.get("template"):
        template = email_selectors.template_get(
            **actor_scope(request), template_id=request.GET["template"]
        )
    form = ComposeForm(
        initial={
            "subject": template.subject if template else "",
            "body": template.body if template else "",
            "purpose": template.purpose if template else "service",
        }
    )
    return render(request, "activities/email_compose_fields.html", {"form": form})


# --- one message -----------------------------------------------------------------------------


@page
def email_detail(request, pk: int):
    email = email_selectors.email_get(**actor_scope(request), email_id=pk)
    attachments = list(email.attachments.order_by("id"))
    waiting = email.status == EmailStatus.TRIAGE
    may_triage = waiting and email_in.may_triage(request.user, email)
    return render(
        request,
        "activities/email_detail.html",
        {
            "email": email,
            "attachments": attachments,
            "may_triage": may_triage,
            "file_form": FileForm(),
            "actions": email_in.triage_actions(request.user) if may_triage else [],
            "can_reply": permissions.can(request.user, EMAIL, "create")
            and (email.contact_id or email.account_id),
        },
    )


@page
def attachment_download(request, pk: int, attachment_id: int):
    """An attachment, only for those who may read its message (never a public URL)."""
    _email, attachment = email_selectors.attachment_get(
        **actor_scope(request), email_id=pk, attachment_id=attachment_id
    )
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404() from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@page
@require_POST
def email_file(request, pk: int):
    form = FileForm(request.POST)
    if form.is_valid():
        try:
            email = email_in.email_file(
                **actor_scope(request),
                email_id=pk,
                contact_id=form.cleaned_data["contact"],
                account_id=form.cleaned_data["account"],
                add_address=form.cleaned_data["add_address"],
            )
        except ApplicationError as exc:
            messages.error(request, error_message(exc))
        else:
            messages.success(request, gettext("Filed to the customer's timeline."))
            return redirect(_customer_url(email))
    return redirect("activities:email_detail", pk)


@page
@require_POST
def email_dismiss(request, pk: int):
    try:
        email_in.email_dismiss(**actor_scope(request), email_id=pk)
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        return redirect("activities:email_detail", pk)
    messages.success(request, gettext("Dismissed."))
    return redirect("activities:email_triage")


@page
@require_POST
def email_action(request, pk: int, key: str):
    try:
        email_in.email_triage_action(**actor_scope(request), email_id=pk, key=key)
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        return redirect("activities:email_detail", pk)
    messages.success(request, gettext("Done."))
    return redirect("activities:email_triage")


@page
def file_search(request, pk: int):
    """htmx: contacts and accounts matching ``q``, to choose where a message goes."""
    email_selectors.email_get(**actor_scope(request), email_id=pk)
    term = (request.GET.get("q") or "").strip()[:100]
    contacts = accounts = []
    if term:
        contacts = search.search_contacts(**actor_scope(request), term=term, limit=10)
        accounts = search.search_accounts(**actor_scope(request), term=term, limit=5)
    return render(
        request,
        "activities/email_file_results.html",
        {"contacts": contacts, "accounts": accounts, "term": term},
    )


# --- triage inbox ----------------------------------------------------------------------------


@page
def triage(request):
    permissions.require(request.user, EMAIL, "read")
    qs = email_selectors.triage_list(**actor_scope(request))
    result = paginate(
        qs, key="created_at", descending=True, cursor=request.GET.get("cursor"), limit=50
    )
    context = {"page": result, "rows": result.items}
    if request.htmx and request.GET.get("cursor"):
        return render(request, "activities/email_triage_rows.html", context)
    return render(request, "activities/email_triage.html", context)


# --- the 360° panel --------------------------------------------------------------------------


@page
def customer_panel(request, kind: str, pk: int):
    object_key = PANEL_KINDS.get(kind)
    if object_key is None:
        raise Http404()
    if object_key == CONTACT:
        record = customer_selectors.contact_get(**actor_scope(request), contact_id=pk)
        rows = email_selectors.for_customer(**actor_scope(request), contact=record)
    else:
        record = customer_selectors.account_get(**actor_scope(request), account_id=pk)
        rows = email_selectors.for_customer(**actor_scope(request), account=record)
    return render(
        request,
        "activities/email_panel.html",
        {
            "record": record,
            "kind": kind,
            "rows": list(rows[:PANEL_ROWS]),
            "can_send": permissions.can(request.user, EMAIL, "create"),
        },
    )


# --- templates ---------------------------------------------------------------------------------


@page
def template_list(request):
    permissions.require(request.user, EMAIL, "read")
    return render(
        request,
        "activities/email_template_list.html",
        {
            "templates": email_selectors.template_list(**actor_scope(request)),
            "can_edit": permissions.can(request.user, EMAIL, "update"),
        },
    )


@page
def template_edit(request, pk: int | None = None):
    permissions.require(request.user, EMAIL, "update")
    template = email_selectors.template_get(**actor_scope(request), template_id=pk) if pk else None
    initial = (
        {
            f: getattr(template, f)
            for f in ("name", "language", "purpose", "subject", "body", "is_active")
        }
        if template
        else None
    )
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if template is None:
                email_templates.template_create(**actor_scope(request), **form.cleaned_data)
            else:
                email_templates.template_update(
                    **actor_scope(request), template_id=template.pk, **form.cleaned_data
                )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, gettext("Template saved."))
            return redirect("activities:email_templates")
    return render(
        request, "activities/email_template_form.html", {"form": form, "template": template}
    )


@page
@require_POST
def template_delete(request, pk: int):
    email_templates.template_delete(**actor_scope(request), template_id=pk)
    messages.success(request, gettext("Template deleted."))
    return redirect("activities:email_templates")


# --- mailboxes (administrators) ---------------------------------------------------------------


@page
def mailbox_list(request):
    return render(
        request,
        "activities/email_mailbox_list.html",
        {"mailboxes": list(email_selectors.mailbox_list(**actor_scope(request)))},
    )


@page
def mailbox_edit(request, pk: int | None = None):
    permissions.require_admin(request.user)
    mailbox = email_selectors.mailbox_get(**actor_scope(request), mailbox_id=pk) if pk else None
    initial = None
    if mailbox is not None:
        initial = {
            f: getattr(mailbox, f)
            for f in (
                "name",
                "address",
                "host",
                "port",
                "use_ssl",
                "username",
                "folder",
                "is_active",
            )
        }
        initial["triage_owner"] = mailbox.triage_owner_id
    form = MailboxForm(request.POST or None, initial=initial, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            if mailbox is None:
                email_mailboxes.mailbox_create(**actor_scope(request), **form.values())
            else:
                email_mailboxes.mailbox_update(
                    **actor_scope(request), mailbox_id=mailbox.pk, **form.values()
                )
        except ApplicationError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, gettext("Mailbox saved."))
            return redirect("activities:email_mailboxes")
    return render(request, "activities/email_mailbox_form.html", {"form": form, "mailbox": mailbox})


@page
@require_POST
def mailbox_delete(request, pk: int):
    email_mailboxes.mailbox_delete(**actor_scope(request), mailbox_id=pk)
    messages.success(request, gettext("Mailbox deleted."))
    return redirect("activities:email_mailboxes")


@page
@require_POST
def mailbox_test(request, pk: int):
    """The "test connection" button: htmx swaps in the answer."""
    try:
        result = email_mailboxes.mailbox_test(**actor_scope(request), mailbox_id=pk)
    except email_mailboxes.ImapFailed as exc:
        result = {"ok": False, "error": str(exc.message)}
    if request.htmx:
        return render(request, "activities/email_mailbox_test.html", {"result": result})
    if result.get("ok"):
        messages.success(
            request, gettext("Connected: %(n)s messages in the folder.") % {"n": result["messages"]}
        )
    else:
        messages.error(request, result.get("error") or gettext("The connection failed."))
    return redirect("activities:email_mailboxes")


@page
@require_POST
def mailbox_fetch(request, pk: int):
    email_mailboxes.mailbox_fetch_now(**actor_scope(request), mailbox_id=pk)
    messages.success(request, gettext("Fetching now; new messages appear in a moment."))
    return redirect("activities:email_mailboxes")
