"""The customers' business objects, registered for roles, field rules, custom fields,
the audit log and the global search box."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from guanxi.platform import registry
from guanxi.platform.registry import FieldSpec

from .models import Account, Contact

_SHARED = (
    FieldSpec("code", _("customer code"), restrictable=False),
    FieldSpec("name", _("name"), restrictable=False),
    FieldSpec("owner", _("owner")),
    FieldSpec("lifecycle_stage", _("lifecycle stage")),
    FieldSpec("loyalty_stage", _("loyalty stage")),
    FieldSpec("source", _("source")),
    FieldSpec("region", _("region")),
    FieldSpec("industry", _("industry")),
    FieldSpec("commission_code", _("commission code")),
    FieldSpec("phone", _("phone")),
    FieldSpec("email", _("e-mail")),
    FieldSpec("country", _("country")),
    FieldSpec("province", _("province")),
    FieldSpec("city", _("city")),
    FieldSpec("district", _("district")),
    FieldSpec("street", _("address")),
    FieldSpec("postal_code", _("postal code")),
    FieldSpec("latitude", _("latitude")),
    FieldSpec("longitude", _("longitude")),
    FieldSpec("notes", _("notes")),
    FieldSpec("tags", _("tags")),
)


def _search_accounts(*, workspace, actor, term, limit):
    from .search import search_accounts

    return [
        (a.name, reverse("customers:account_detail", args=[a.pk]))
        for a in search_accounts(workspace=workspace, actor=actor, term=term, limit=limit)
    ]


def _search_contacts(*, workspace, actor, term, limit):
    from .search import search_contacts

    return [
        (
            f"{c.name} · {c.company}" if c.company else c.name,
            reverse("customers:contact_detail", args=[c.pk]),
        )
        for c in search_contacts(workspace=workspace, actor=actor, term=term, limit=limit)
    ]


registry.register(
    registry.BusinessObject(
        key="customers.account",
        model=Account,
        label=_("account"),
        label_plural=_("accounts"),
        fields=(
            *_SHARED,
            FieldSpec("short_name", _("short name")),
            FieldSpec("parent", _("parent account")),
            FieldSpec("account_type", _("customer type")),
            FieldSpec("website", _("website")),
            FieldSpec("currency", _("currency")),
            FieldSpec("payment_terms", _("payment terms")),
            FieldSpec("tax_number", _("tax number")),
            FieldSpec("invoice_title", _("invoice title")),
            FieldSpec("credit_limit", _("credit limit")),
            FieldSpec("credit_rating", _("credit rating")),
            FieldSpec("credit_record", _("credit record")),
            FieldSpec("employees", _("employees")),
            FieldSpec("annual_revenue", _("annual revenue")),
            FieldSpec("bank_accounts", _("bank accounts")),
        ),
        supports_custom_fields=True,
        owner_field="owner",
        search=_search_accounts,
        detail_url=lambda pk: reverse("customers:account_detail", args=[pk]),
    )
)
registry.register(
    registry.BusinessObject(
        key="customers.contact",
        model=Contact,
        label=_("contact"),
        label_plural=_("contacts"),
        fields=(
            *_SHARED,
            FieldSpec("first_name", _("first name")),
            FieldSpec("last_name", _("last name")),
            FieldSpec("account", _("account")),
            FieldSpec("company", _("company")),
            FieldSpec("title", _("job title")),
            FieldSpec("department", _("department")),
            FieldSpec("mobile", _("mobile")),
            FieldSpec("gender", _("gender")),
            FieldSpec("birthday", _("birthday")),
            FieldSpec("id_number", _("ID number")),
            FieldSpec("family", _("family")),
            FieldSpec("income_band", _("income band")),
            FieldSpec("education", _("education")),
            FieldSpec("hobbies", _("hobbies")),
            FieldSpec("habits", _("habits")),
            FieldSpec("personality", _("personality notes")),
            FieldSpec("preferred_channel", _("preferred channel")),
            FieldSpec("preferred_time", _("preferred contact time")),
            FieldSpec("interests", _("interests")),
            FieldSpec("currency", _("currency")),
            FieldSpec("payment_terms", _("payment terms")),
            FieldSpec("consent", _("consent")),
        ),
        supports_custom_fields=True,
        owner_field="owner",
        search=_search_contacts,
        detail_url=lambda pk: reverse("customers:contact_detail", args=[pk]),
    )
)
