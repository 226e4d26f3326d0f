"""The account and contact lists: columns, filters, search and bulk actions, registered for
the pages and the export job (which replays the same list into a file)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from guanxi.common.errors import ApplicationError
from guanxi.platform.lists import BulkAction, Column, Filter, ListSpec, register
from guanxi.platform.models import User

from . import search, selectors
from .models import (
    AccountTag,
    AccountType,
    ContactTag,
    LifecycleStage,
    LoyaltyStage,
    Tag,
    TagKind,
)
from .services import records

ACCOUNT = "customers.account"
CONTACT = "customers.contact"
POOL = "pool"


# --- choices -------------------------------------------------------------------------------------


def _owner_choices(workspace, actor):
    users = User.objects.filter(workspace=workspace, is_active=True).order_by("full_name")
    return [(POOL, str(_("In the pool (no owner)")))] + [
        (str(pk), name) for pk, name in users.values_list("id", "full_name")
    ]


# The same source as the owner filter, so a page reads the users once.
_assign_choices = _owner_choices


def _tag_choices(kind: str):
    def choices(workspace, actor):
        tags = Tag.objects.in_workspace(workspace).filter(kind=kind).order_by("name")
        return [(str(pk), name) for pk, name in tags.values_list("id", "name")]

    return choices


_TAGS = _tag_choices(TagKind.TAG)
_INTERESTS = _tag_choices(TagKind.INTEREST)


def _stage_choices(workspace, actor):
    return list(LifecycleStage.choices)


# --- filters -------------------------------------------------------------------------------------


def _filter_owner(qs, value):
    if value == POOL:
        return qs.filter(owner__isnull=True)
    return qs.filter(owner_id=int(value)) if value.isdigit() else qs.none()


def _choice_filter(field: str, choices):
    def apply(qs, value):
        return qs.filter(**{field: value}) if value in choices.values else qs.none()

    return apply


def _text_filter(field: str):
    # Exact, not iexact: an equality the (workspace, city, name, id) index can serve.
    def apply(qs, value):
        return qs.filter(**{field: value.strip()})

    return apply


def _tag_filter(qs, value):
    return qs.filter(taggings__tag_id=int(value)) if value.isdigit() else qs.none()


def _date_filter(lookup: str, param: str):
    """Created on or after / on or before a day of the user's time zone, as a range on the
    timestamp (the index can serve it; ``__date`` could not)."""

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
        if lookup == "lt":
            day += dt.timedelta(days=1)
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        return qs.filter(**{f"created_at__{'gte' if lookup == 'gte' else 'lt'}": start})

    return apply


def _individual_filter(qs, value):
    if value == "yes":
        return qs.filter(account__isnull=True)
    if value == "no":
        return qs.filter(account__isnull=False)
    return qs.none()


def _value_class_filter(qs, value):
    # "none": not classified yet (before the first customer-value run, or a person at an
    # account, whose class is the account's business).
    if value == "none":
        return qs.filter(value_class="")
    return qs.filter(value_class=value) if value in ("A", "B", "C") else qs.none()


def _value_class_choices(workspace, actor):
    return [
        ("A", "A"),
        ("B", "B"),
        ("C", "C"),
        ("none", str(pgettext("value class", "Not classified"))),
    ]


def _shared_filters(tag_source) -> list[Filter]:
    return [
        Filter("owner", _("Owner"), choices=_owner_choices, apply=_filter_owner, field="owner"),
        Filter(
            "value_class",
            _("Value class"),
            choices=_value_class_choices,
            apply=_value_class_filter,
            field="value_class",
        ),
        Filter(
            "lifecycle_stage",
            _("Lifecycle stage"),
            choices=lambda w, a: list(LifecycleStage.choices),
            apply=_choice_filter("lifecycle_stage", LifecycleStage),
            field="lifecycle_stage",
        ),
        Filter(
            "loyalty_stage",
            _("Loyalty stage"),
            choices=lambda w, a: list(LoyaltyStage.choices),
            apply=_choice_filter("loyalty_stage", LoyaltyStage),
            field="loyalty_stage",
        ),
        Filter("tag", _("Tag"), choices=tag_source, apply=_tag_filter, field="tags"),
        Filter(
            "industry", _("Industry"), kind="text", apply=_text_filter("industry"), field="industry"
        ),
        Filter("region", _("Region"), kind="text", apply=_text_filter("region"), field="region"),
        Filter("source", _("Source"), kind="text", apply=_text_filter("source"), field="source"),
        Filter(
            "province", _("Province"), kind="text", apply=_text_filter("province"), field="province"
        ),
        Filter("city", _("City"), kind="text", apply=_text_filter("city"), field="city"),
        Filter(
            "created_from",
            _("Created from"),
            kind="date",
            apply=_date_filter("gte", "created_from"),
        ),
        Filter(
            "created_to", _("Created before"), kind="date", apply=_date_filter("lt", "created_to")
        ),
    ]


def _interest_filter(qs, value):
    return qs.filter(taggings__tag_id=int(value)) if value.isdigit() else qs.none()


# --- bulk actions ----------------------------------------------------------------------------------


def _assign(object_key: str):
    def run(*, actor, workspace, row, value):
        from .services.pool import customer_assign

        if value != POOL and not value.isdigit():
            raise ApplicationError(_("Choose the new owner, or the pool."))
        customer_assign(
            actor=actor,
            workspace=workspace,
            object_key=object_key,
            record_id=row.pk,
            owner_id=None if value == POOL else int(value),
        )

    return run


def _tag_name(workspace, value) -> str:
    tag = Tag.objects.in_workspace(workspace).filter(pk=value if value.isdigit() else None).first()
    if tag is None:
        raise ApplicationError(_("Choose a tag."))
    return tag.name


def _tag_action(service, object_key: str):
    """A bulk action that runs ``records.tag_add`` or ``records.tag_remove`` on each row."""

    def run(*, actor, workspace, row, value):
        service(
            actor=actor,
            workspace=workspace,
            object_key=object_key,
            record_id=row.pk,
            name=_tag_name(workspace, value),
        )

    return run


def _set_stage(object_key: str):
    def run(*, actor, workspace, row, value):
        records.stage_change(
            actor=actor,
            workspace=workspace,
            object_key=object_key,
            record_id=row.pk,
            kind="lifecycle",
            to_stage=value,
            reason=str(_("Bulk change")),
        )

    return run


def _bulk(object_key: str, tag_source) -> list[BulkAction]:
    return [
        BulkAction(
            "assign", _("Assign owner"), run=_assign(object_key), value_choices=_assign_choices
        ),
        BulkAction(
            "add_tag",
            _("Add tag"),
            run=_tag_action(records.tag_add, object_key),
            value_choices=tag_source,
        ),
        BulkAction(
            "remove_tag",
            _("Remove tag"),
            run=_tag_action(records.tag_remove, object_key),
            value_choices=tag_source,
        ),
        BulkAction(
            "set_stage",
            _("Set lifecycle stage"),
            run=_set_stage(object_key),
            value_choices=_stage_choices,
        ),
    ]


# --- columns -------------------------------------------------------------------------------------


def _tags_text(row) -> str:
    return ", ".join(t.tag.name for t in row.taggings.all() if t.tag.kind == TagKind.TAG)


def _interests_text(row) -> str:
    return ", ".join(t.tag.name for t in row.taggings.all() if t.tag.kind == TagKind.INTEREST)


def _owner_text(row) -> str:
    return row.owner.full_name if row.owner_id else str(_("Pool"))


def _shared_columns() -> list[Column]:
    return [
        Column("owner", _("Owner"), value=_owner_text, sort="owner__full_name", field="owner"),
        Column(
            "lifecycle_stage",
            _("Lifecycle stage"),
            value=lambda r: r.get_lifecycle_stage_display(),
            sort="lifecycle_stage",
            field="lifecycle_stage",
        ),
        Column(
            "loyalty_stage",
            _("Loyalty stage"),
            value=lambda r: r.get_loyalty_stage_display(),
            sort="loyalty_stage",
            default=False,
            field="loyalty_stage",
        ),
        Column(
            "value_class",
            _("Value class"),
            sort="value_class",
            default=False,
            field="value_class",
        ),
        Column("phone", _("Phone"), field="phone", default=False),
        Column("email", _("E-mail"), field="email"),
        Column("province", _("Province"), sort="province", default=False, field="province"),
        Column("city", _("City"), sort="city", field="city"),
        Column("industry", _("Industry"), sort="industry", default=False, field="industry"),
        Column("region", _("Region"), sort="region", default=False, field="region"),
        Column("source", _("Source"), sort="source", default=False, field="source"),
        Column("tags", _("Tags"), value=_tags_text, default=False, field="tags"),
        Column("created_at", _("Created"), sort="created_at", default=False),
    ]


def _owners(workspace) -> Prefetch:
    """Owners are read for the page's rows in one query rather than joined: with an owner
    filter, SQLite would otherwise start from the users table and sort every match."""
    return Prefetch("owner", queryset=User.objects.filter(workspace=workspace))


def _accounts(workspace, actor):
    qs = selectors.account_list(workspace=workspace, actor=actor)
    return (
        qs.select_related(None)
        .select_related("parent")
        .prefetch_related(
            _owners(workspace),
            Prefetch(
                "taggings",
                queryset=AccountTag.objects.in_workspace(workspace).select_related("tag"),
            ),
        )
    )


def _contacts(workspace, actor):
    qs = selectors.contact_list(workspace=workspace, actor=actor)
    return (
        qs.select_related(None)
        .select_related("account")
        .prefetch_related(
            _owners(workspace),
            Prefetch(
                "taggings",
                queryset=ContactTag.objects.in_workspace(workspace).select_related("tag"),
            ),
        )
    )


ACCOUNTS = register(
    ListSpec(
        key="customers.accounts",
        object_key=ACCOUNT,
        title=_("Accounts"),
        queryset=_accounts,
        search=search.filter_queryset,
        columns=[
            Column("name", _("Name"), sort="name", link=True),
            Column("code", _("Customer code"), sort="code"),
            Column("short_name", _("Short name"), default=False, field="short_name"),
            Column(
                "account_type",
                _("Customer type"),
                value=lambda r: r.get_account_type_display(),
                sort="account_type",
                field="account_type",
            ),
            Column("parent__name", _("Parent account"), default=False, field="parent"),
            *_shared_columns(),
            Column("tax_number", _("Tax number"), default=False, field="tax_number"),
            Column(
                "credit_limit",
                _("Credit limit"),
                sort="credit_limit",
                default=False,
                field="credit_limit",
                numeric=True,
            ),
        ],
        filters=[
            *_shared_filters(_TAGS),
            Filter(
                "account_type",
                _("Customer type"),
                choices=lambda w, a: list(AccountType.choices),
                apply=_choice_filter("account_type", AccountType),
                field="account_type",
            ),
        ],
        default_sort="name",
        bulk_actions=_bulk(ACCOUNT, _TAGS),
        detail_url=lambda row: reverse("customers:account_detail", args=[row.pk]),
    )
)


CONTACTS = register(
    ListSpec(
        key="customers.contacts",
        object_key=CONTACT,
        title=_("Contacts"),
        queryset=_contacts,
        search=search.filter_queryset,
        columns=[
            Column("name", _("Name"), sort="name", link=True),
            Column("code", _("Customer code"), sort="code", default=False),
            Column(
                "company",
                _("Company"),
                value=lambda r: r.account.name if r.account_id else r.company,
                sort="company",
                field="company",
            ),
            Column("title", _("Job title"), field="title"),
            Column("mobile", _("Mobile"), field="mobile"),
            *_shared_columns(),
            Column(
                "interests", _("Interests"), value=_interests_text, default=False, field="interests"
            ),
            Column("birthday", _("Birthday"), sort="birthday", default=False, field="birthday"),
        ],
        filters=[
            *_shared_filters(_TAGS),
            Filter(
                "interest",
                _("Interest"),
                choices=_INTERESTS,
                apply=_interest_filter,
                field="interests",
            ),
            Filter(
                "individual",
                _("Individual customer"),
                choices=lambda w, a: [
                    ("yes", str(_("Yes: a person with no account"))),
                    ("no", str(_("No: a person at an account"))),
                ],
                apply=_individual_filter,
                field="account",
            ),
        ],
        default_sort="name",
        bulk_actions=_bulk(CONTACT, _TAGS),
        detail_url=lambda row: reverse("customers:contact_detail", args=[row.pk]),
    )
)
