"""The pages of accounts and contacts: lists, forms, the 360° page and its small actions.
Views only collect input and render; the record services and the selectors do the work."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError
from guanxi.common.views import error_message, page
from guanxi.platform import custom_fields, permissions
from guanxi.platform import selectors as platform_selectors
from guanxi.platform.list_views import render_list
from guanxi.platform.models import Action, AuditEntry

from . import sections, selectors
from .forms import AccountForm, AddressForm, ContactForm, PointForm, duplicate_check_url
from .models import (
    Account,
    AccountContact,
    AccountTag,
    Address,
    BankAccount,
    ContactLevel,
    ContactPoint,
    ContactRole,
    ContactTag,
    LifecycleStage,
    LoyaltyStage,
    Merge,
    StageChange,
    TagKind,
)
from .services import records

ACCOUNT = "customers.account"
CONTACT = "customers.contact"
KINDS = {"accounts": ACCOUNT, "contacts": CONTACT}


def _ws(request) -> dict:
    return {"actor": request.user, "workspace": request.workspace}


def _url_or_none(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# --- lists -------------------------------------------------------------------------------------


@page
def account_list(request):
    return render_list(
        request,
        "customers.accounts",
        template="customers/record_list.html",
        extra={"create_url": reverse("customers:account_create"), "object_key": ACCOUNT},
    )


@page
def contact_list(request):
    return render_list(
        request,
        "customers.contacts",
        template="customers/record_list.html",
        extra={"create_url": reverse("customers:contact_create"), "object_key": CONTACT},
    )


# --- forms -------------------------------------------------------------------------------------


def _account_by_code(request, code: str) -> Account | None:
    if not code:
        return None
    return selectors.account_list(**_ws(request)).filter(Q(code=code.strip())).first()


def _resolve_code(request, form, values: dict, field: str, target: str) -> bool:
    """Turn an account's customer code typed in ``field`` into ``target`` (its id)."""
    if field not in values:
        return True
    code = values.pop(field)
    if not code:
        values[target] = None
        return True
    account = _account_by_code(request, code)
    if account is None:
        form.add_error(field, gettext("No account you can see has this customer code."))
        return False
    values[target] = account.pk
    return True


def _record_form_page(request, *, form, title, cancel_url, object_key):
    return render(
        request,
        "customers/record_form.html",
        {
            "form": form,
            "title": title,
            "cancel_url": cancel_url,
            "object_key": object_key,
            "duplicate_check_url": duplicate_check_url() if form.creating else None,
        },
    )


@page
def account_create(request):
    permissions.require(request.user, ACCOUNT, Action.CREATE)
    form = AccountForm(
        request.POST or None,
        **_ws(request),
        initial={"account_type": "customer", "lifecycle_stage": "potential"},
    )
    if request.method == "POST" and form.is_valid():
        values = form.service_values()
        if _resolve_code(request, form, values, "parent", "parent_id"):
            try:
                account = records.account_create(**_ws(request), **values)
            except ApplicationError as exc:
                form.apply_error(exc)
            else:
                messages.success(
                    request, gettext("Account %(name)s was added.") % {"name": account.name}
                )
                return redirect("customers:account_detail", pk=account.pk)
    return _record_form_page(
        request,
        form=form,
        title=gettext("New account"),
        cancel_url=reverse("customers:account_list"),
        object_key=ACCOUNT,
    )


def _initial(record, names) -> dict:
    initial = {}
    for name in names:
        value = getattr(record, name, None)
        initial[name] = "" if value is None else value
    return initial


@page
def account_edit(request, pk: int):
    permissions.require(request.user, ACCOUNT, Action.UPDATE)
    account = selectors.account_get(**_ws(request), account_id=pk)
    initial = _initial(account, AccountForm.base_fields)
    initial["parent"] = account.parent.code if account.parent_id else ""
    initial["tags"] = ", ".join(_tag_names(ACCOUNT, account, TagKind.TAG))
    form = AccountForm(
        request.POST or None, **_ws(request), custom=account.custom, creating=False, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        values = form.service_values()
        if _resolve_code(request, form, values, "parent", "parent_id"):
            try:
                records.account_update(**_ws(request), account_id=pk, **values)
            except ApplicationError as exc:
                form.apply_error(exc)
            else:
                messages.success(request, gettext("Saved."))
                return redirect("customers:account_detail", pk=pk)
    return _record_form_page(
        request,
        form=form,
        title=gettext("Edit %(name)s") % {"name": account.name},
        cancel_url=reverse("customers:account_detail", args=[pk]),
        object_key=ACCOUNT,
    )


@page
def contact_create(request):
    permissions.require(request.user, CONTACT, Action.CREATE)
    initial = {"lifecycle_stage": "potential"}
    account_pk = request.GET.get("account", "")
    if account_pk.isdigit():
        account = selectors.account_list(**_ws(request)).filter(pk=int(account_pk)).first()
        if account is not None:
            initial["account"] = account.code
    form = ContactForm(request.POST or None, **_ws(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        values = form.service_values()
        if _resolve_code(request, form, values, "account", "account_id"):
            try:
                contact = records.contact_create(**_ws(request), **values)
            except ApplicationError as exc:
                form.apply_error(exc)
            else:
                messages.success(
                    request, gettext("Contact %(name)s was added.") % {"name": contact.name}
                )
                return redirect("customers:contact_detail", pk=contact.pk)
    return _record_form_page(
        request,
        form=form,
        title=gettext("New contact"),
        cancel_url=reverse("customers:contact_list"),
        object_key=CONTACT,
    )


@page
def contact_edit(request, pk: int):
    permissions.require(request.user, CONTACT, Action.UPDATE)
    contact = selectors.contact_get(**_ws(request), contact_id=pk)
    initial = _initial(contact, ContactForm.base_fields)
    initial["account"] = contact.account.code if contact.account_id else ""
    initial["tags"] = ", ".join(_tag_names(CONTACT, contact, TagKind.TAG))
    initial["interests"] = ", ".join(_tag_names(CONTACT, contact, TagKind.INTEREST))
    initial["birthday"] = contact.birthday.isoformat() if contact.birthday else ""
    form = ContactForm(
        request.POST or None, **_ws(request), custom=contact.custom, creating=False, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        values = form.service_values()
        if _resolve_code(request, form, values, "account", "account_id"):
            try:
                records.contact_update(**_ws(request), contact_id=pk, **values)
            except ApplicationError as exc:
                form.apply_error(exc)
            else:
                messages.success(request, gettext("Saved."))
                return redirect("customers:contact_detail", pk=pk)
    return _record_form_page(
        request,
        form=form,
        title=gettext("Edit %(name)s") % {"name": contact.name},
        cancel_url=reverse("customers:contact_detail", args=[pk]),
        object_key=CONTACT,
    )


@page
@require_POST
def account_delete(request, pk: int):
    try:
        records.account_delete(**_ws(request), account_id=pk)
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        return redirect("customers:account_detail", pk=pk)
    messages.success(request, gettext("The account was deleted."))
    return redirect("customers:account_list")


@page
@require_POST
def contact_delete(request, pk: int):
    try:
        records.contact_delete(**_ws(request), contact_id=pk)
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        return redirect("customers:contact_detail", pk=pk)
    messages.success(request, gettext("The contact was deleted."))
    return redirect("customers:contact_list")


# --- the 360° page -------------------------------------------------------------------------------


def _tag_names(object_key: str, record, kind: str) -> list[str]:
    model = AccountTag if object_key == ACCOUNT else ContactTag
    fk = "account" if object_key == ACCOUNT else "contact"
    rows = model.objects.in_workspace(record.workspace_id).filter(**{fk: record}, tag__kind=kind)
    return sorted(rows.values_list("tag__name", flat=True))


def _visible_fields(hidden: set[str], rows) -> list[tuple]:
    return [(label, value) for name, label, value in rows if name not in hidden]


def _history(request, object_key: str, pk: int) -> list[AuditEntry]:
    """The record's audit entries, with those of the records merged into it."""
    merged_ids = Merge.objects.in_workspace(request.workspace).filter(
        object_key=object_key, survivor_id=pk
    )
    return platform_selectors.record_history(
        **_ws(request),
        object_key=object_key,
        object_id=pk,
        earlier_ids=merged_ids.values_list("merged_id", flat=True),
    )


def _stage_history(object_key: str, record) -> list[StageChange]:
    fk = "account" if object_key == ACCOUNT else "contact"
    return list(
        StageChange.objects.in_workspace(record.workspace_id)
        .filter(**{fk: record})
        .select_related("actor")
        .order_by("-id")[:50]
    )


def _stage_label(kind: str, value: str) -> str:
    choices = LifecycleStage if kind == "lifecycle" else LoyaltyStage
    return str(dict(choices.choices).get(value, value or "—"))


def _common_context(request, object_key: str, record, hidden: set[str]) -> dict:
    actor = request.user
    fk = "account" if object_key == ACCOUNT else "contact"
    ws_id = record.workspace_id
    taggings = list(
        (AccountTag if object_key == ACCOUNT else ContactTag)
        .objects.in_workspace(ws_id)
        .filter(**{fk: record})
        .select_related("tag")
        .order_by("tag__name")
    )
    stages = _stage_history(object_key, record)
    for move in stages:
        move.from_label = _stage_label(move.kind, move.from_stage)
        move.to_label = _stage_label(move.kind, move.to_stage)
    can_update = permissions.can(actor, object_key, Action.UPDATE)
    manager = records.may_assign(actor, object_key)
    claim_url = _url_or_none("customers:claim")
    release_url = _url_or_none("customers:release")
    return {
        "object_key": object_key,
        "record": record,
        "hidden": hidden,
        "tags": [t.tag.name for t in taggings if t.tag.kind == TagKind.TAG],
        "interests": [t.tag.name for t in taggings if t.tag.kind == TagKind.INTEREST],
        "addresses": list(
            Address.objects.in_workspace(ws_id).filter(**{fk: record}).order_by("kind", "id")
        ),
        "points": list(
            ContactPoint.objects.in_workspace(ws_id).filter(**{fk: record}).order_by("kind", "id")
        ),
        "stages": stages,
        "lifecycle_choices": LifecycleStage.choices,
        "loyalty_choices": LoyaltyStage.choices,
        "custom": custom_fields.display_rows(
            **_ws(request), object_key=object_key, values=record.custom
        ),
        "history": _history(request, object_key, record.pk),
        "sections": sections.for_record(request, object_key, record),
        "can_update": can_update,
        "can_delete": permissions.can(actor, object_key, Action.DELETE),
        "claim_url": claim_url if record.owner_id is None else None,
        "release_url": (
            release_url
            if record.owner_id is not None and (record.owner_id == actor.pk or manager)
            else None
        ),
        "kind_path": "accounts" if object_key == ACCOUNT else "contacts",
        "address_form": AddressForm(auto_id="addr_%s"),
        "point_form": PointForm(auto_id="point_%s"),
    }


def _shared_rows(record) -> list[tuple]:
    return [
        (
            "owner",
            gettext("Owner"),
            record.owner.full_name if record.owner_id else gettext("Pool (no owner)"),
        ),
        ("lifecycle_stage", gettext("Lifecycle stage"), record.get_lifecycle_stage_display()),
        ("loyalty_stage", gettext("Loyalty stage"), record.get_loyalty_stage_display()),
        ("phone", gettext("Phone"), record.phone),
        ("email", gettext("E-mail"), record.email),
        ("industry", gettext("Industry"), record.industry),
        ("region", gettext("Region"), record.region),
        ("source", gettext("Source"), record.source),
        (
            "street",
            gettext("Address"),
            " ".join(
                p
                for p in (
                    record.country if record.country != "CN" else "",
                    record.province,
                    record.city,
                    record.district,
                    record.street,
                )
                if p
            ),
        ),
        ("postal_code", gettext("Postal code"), record.postal_code),
        ("commission_code", gettext("Commission code"), record.commission_code),
        ("notes", gettext("Notes"), record.notes),
    ]


# What the account page shows of each of its people (not their whole row).
MEMBERSHIP_COLUMNS = (
    "role",
    "level",
    "is_primary",
    "contact__id",
    "contact__name",
    "contact__title",
    "contact__mobile",
)


@page
def account_detail(request, pk: int):
    account = selectors.account_get(**_ws(request), account_id=pk)
    hidden = permissions.hidden_fields(request.user, ACCOUNT)
    context = _common_context(request, ACCOUNT, account, hidden)
    visible_contacts = selectors.contact_list(**_ws(request)).values("pk")
    context.update(
        {
            "fields": _visible_fields(
                hidden,
                [
                    ("short_name", gettext("Short name"), account.short_name),
                    ("account_type", gettext("Customer type"), account.get_account_type_display()),
                    *_shared_rows(account),
                    ("website", gettext("Website"), account.website),
                    ("currency", gettext("Currency"), account.currency),
                    ("payment_terms", gettext("Payment terms"), account.payment_terms),
                    ("tax_number", gettext("Tax number"), account.tax_number),
                    ("invoice_title", gettext("Invoice title"), account.invoice_title),
                    ("credit_limit", gettext("Credit limit"), account.credit_limit),
                    ("credit_rating", gettext("Credit rating"), account.credit_rating),
                    ("credit_record", gettext("Credit record"), account.credit_record),
                    ("employees", gettext("Employees"), account.employees),
                    ("annual_revenue", gettext("Annual revenue"), account.annual_revenue),
                ],
            ),
            "memberships": list(
                AccountContact.objects.in_workspace(request.workspace)
                .filter(account=account, contact__in=visible_contacts)
                .select_related("contact")
                .only(*MEMBERSHIP_COLUMNS)
                .order_by("-is_primary", "level", "contact__name")[:100]
            ),
            "branches": list(
                selectors.account_list(**_ws(request))
                .filter(parent=account)
                .order_by("name", "id")[:50]
            ),
            "bank_accounts": (
                list(
                    BankAccount.objects.in_workspace(request.workspace)
                    .filter(account=account)
                    .order_by("-is_primary", "id")
                )
                if "bank_accounts" not in hidden
                else None
            ),
        }
    )
    return render(request, "customers/account_detail.html", context)


@page
def contact_detail(request, pk: int):
    contact = selectors.contact_get(**_ws(request), contact_id=pk)
    hidden = permissions.hidden_fields(request.user, CONTACT)
    context = _common_context(request, CONTACT, contact, hidden)
    visible_accounts = selectors.account_list(**_ws(request)).values("pk")
    context.update(
        {
            "fields": _visible_fields(
                hidden,
                [
                    ("title", gettext("Job title"), contact.title),
                    ("department", gettext("Department"), contact.department),
                    ("company", gettext("Company"), contact.company),
                    ("mobile", gettext("Mobile"), contact.mobile),
                    *_shared_rows(contact),
                    ("gender", gettext("Gender"), contact.get_gender_display()),
                    ("birthday", gettext("Birthday"), contact.birthday),
                    ("id_number", gettext("ID number"), contact.id_number),
                    ("family", gettext("Family"), contact.family),
                    ("income_band", gettext("Income band"), contact.get_income_band_display()),
                    ("education", gettext("Education"), contact.get_education_display()),
                    ("hobbies", gettext("Hobbies"), contact.hobbies),
                    ("habits", gettext("Habits"), contact.habits),
                    ("personality", gettext("Personality notes"), contact.personality),
                    (
                        "preferred_channel",
                        gettext("Preferred channel"),
                        contact.get_preferred_channel_display(),
                    ),
                    ("preferred_time", gettext("Preferred contact time"), contact.preferred_time),
                    ("currency", gettext("Currency"), contact.currency),
                    ("payment_terms", gettext("Payment terms"), contact.payment_terms),
                ],
            ),
            "memberships": list(
                AccountContact.objects.in_workspace(request.workspace)
                .filter(contact=contact, account__in=visible_accounts)
                .select_related("account")
                .order_by("-is_primary", "account__name")[:50]
            ),
            "role_choices": ContactRole.choices,
            "level_choices": ContactLevel.choices,
        }
    )
    return render(request, "customers/contact_detail.html", context)


# --- small actions on the 360° page --------------------------------------------------------------


def _record_url(kind: str, pk) -> str:
    name = "customers:account_detail" if kind == "accounts" else "customers:contact_detail"
    return reverse(name, args=[pk])


def _back(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else fallback


def _act(request, back: str, action, done: str):
    try:
        action()
    except ApplicationError as exc:
        message = error_message(exc)
        details = "; ".join(" ".join(str(m) for m in msgs) for msgs in exc.fields.values())
        messages.error(request, f"{message} {details}".strip())
    else:
        messages.success(request, done)
    return redirect(back)


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise Http404()
    return KINDS[kind]


def _seen(request, object_key: str, pk) -> None:
    """A record the actor cannot see is "not found" before its input is looked at."""
    if object_key == ACCOUNT:
        selectors.account_get(**_ws(request), account_id=pk)
    else:
        selectors.contact_get(**_ws(request), contact_id=pk)


@page
@require_POST
def record_stage(request, kind: str, pk: int):
    object_key = _kind(kind)
    _seen(request, object_key, pk)
    return _act(
        request,
        _record_url(kind, pk),
        lambda: records.stage_change(
            **_ws(request),
            object_key=object_key,
            record_id=pk,
            kind=request.POST.get("stage_kind", "lifecycle"),
            to_stage=request.POST.get("to_stage", ""),
            reason=request.POST.get("reason", ""),
        ),
        gettext("The stage was changed."),
    )


@page
@require_POST
def record_tags(request, kind: str, pk: int):
    object_key = _kind(kind)
    _seen(request, object_key, pk)
    tag_kind = request.POST.get("tag_kind", TagKind.TAG)
    names = [n.strip() for n in request.POST.get("names", "").replace("，", ",").split(",")]
    return _act(
        request,
        _record_url(kind, pk),
        lambda: records.tags_set(
            **_ws(request),
            object_key=object_key,
            record_id=pk,
            names=[n for n in names if n],
            kind=tag_kind,
        ),
        gettext("Saved."),
    )


@page
@require_POST
def record_address_add(request, kind: str, pk: int):
    object_key = _kind(kind)
    _seen(request, object_key, pk)
    values = {k: request.POST.get(k, "") for k in AddressForm.base_fields}
    return _act(
        request,
        _record_url(kind, pk),
        lambda: records.address_add(**_ws(request), object_key=object_key, record_id=pk, **values),
        gettext("The address was added."),
    )


@page
@require_POST
def address_remove(request, pk: int):
    return _act(
        request,
        _back(request, reverse("customers:contact_list")),
        lambda: records.address_remove(**_ws(request), address_id=pk),
        gettext("The address was removed."),
    )


@page
@require_POST
def record_point_add(request, kind: str, pk: int):
    object_key = _kind(kind)
    _seen(request, object_key, pk)
    return _act(
        request,
        _record_url(kind, pk),
        lambda: records.point_add(
            **_ws(request),
            object_key=object_key,
            record_id=pk,
            kind=request.POST.get("kind", ""),
            value=request.POST.get("value", ""),
            label=request.POST.get("label", ""),
        ),
        gettext("Added."),
    )


@page
@require_POST
def point_remove(request, pk: int):
    return _act(
        request,
        _back(request, reverse("customers:contact_list")),
        lambda: records.point_remove(**_ws(request), point_id=pk),
        gettext("Removed."),
    )


@page
@require_POST
def bank_account_add(request, pk: int):
    _seen(request, ACCOUNT, pk)
    return _act(
        request,
        _record_url("accounts", pk),
        lambda: records.bank_account_add(
            **_ws(request),
            account_id=pk,
            bank_name=request.POST.get("bank_name", ""),
            account_name=request.POST.get("account_name", ""),
            account_number=request.POST.get("account_number", ""),
            is_primary=bool(request.POST.get("is_primary")),
        ),
        gettext("The bank account was added."),
    )


@page
@require_POST
def bank_account_remove(request, pk: int):
    return _act(
        request,
        _back(request, reverse("customers:account_list")),
        lambda: records.bank_account_remove(**_ws(request), bank_account_id=pk),
        gettext("The bank account was removed."),
    )


@page
@require_POST
def membership_add(request, pk: int):
    _seen(request, CONTACT, pk)

    def run():
        permissions.require(request.user, CONTACT, Action.UPDATE)
        account = _account_by_code(request, request.POST.get("account_code", ""))
        if account is None:
            raise ApplicationError(gettext("No account you can see has this customer code."))
        records.membership_set(
            **_ws(request),
            contact_id=pk,
            account_id=account.pk,
            role=request.POST.get("role", ""),
            level=request.POST.get("level", ""),
            is_primary=bool(request.POST.get("is_primary")),
        )

    return _act(request, _record_url("contacts", pk), run, gettext("Saved."))


@page
@require_POST
def membership_remove(request, pk: int, account_pk: int):
    _seen(request, CONTACT, pk)
    return _act(
        request,
        _record_url("contacts", pk),
        lambda: records.membership_remove(**_ws(request), contact_id=pk, account_id=account_pk),
        gettext("Removed."),
    )
