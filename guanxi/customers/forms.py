"""Page forms of accounts and contacts. They only collect input: the record services
validate it (through ``cleaning``, as the API and the importer do) and their errors are
mapped back onto the fields."""

from __future__ import annotations

from django import forms
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from guanxi.platform.forms import ServiceForm
from guanxi.platform.models import User

from .models import (
    AccountType,
    AddressKind,
    Channel,
    ContactLevel,
    ContactRole,
    Education,
    Gender,
    IncomeBand,
    LifecycleStage,
    LoyaltyStage,
    PointKind,
    PointLabel,
)
from .services.records import may_assign


def _choices(choices, blank: bool = True):
    return ([("", "—")] if blank else []) + list(choices)


def _text(label, max_length=255, **kwargs):
    return forms.CharField(label=label, max_length=max_length, required=False, **kwargs)


def _long(label):
    return forms.CharField(
        label=label, required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=10_000
    )


def _choice(label, choices, blank=True):
    return forms.ChoiceField(label=label, choices=_choices(choices, blank), required=False)


def duplicate_check_url() -> str | None:
    """The as-you-type duplicate check, when the dedupe part is installed."""
    try:
        return reverse("customers:duplicate_check")
    except NoReverseMatch:
        return None


class RecordForm(ServiceForm):
    """What account and contact forms share: owner (on create, for those who may assign),
    tags, and the as-you-type duplicate warning on the identifying inputs."""

    checked_inputs: tuple[str, ...] = ()
    # Shown first; the rest of the customer file is folded away (a short form on a phone).
    primary_fields: tuple[str, ...] = ()
    # Fields sent to the service under another name.
    relation_fields = {"owner": "owner_id", "tags": "tags", "interests": "interests"}

    def __init__(self, *args, creating: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.creating = creating
        if "owner" in self.fields:
            if creating and may_assign(self.actor, self.object_key):
                users = User.objects.filter(workspace=self.workspace, is_active=True).order_by(
                    "full_name"
                )
                self.fields["owner"].choices = [("", _("The pool (no owner)"))] + [
                    (str(pk), name) for pk, name in users.values_list("id", "full_name")
                ]
                self.initial.setdefault("owner", str(self.actor.pk))
            else:
                del self.fields["owner"]
        url = duplicate_check_url()
        if url and creating:
            for name in self.checked_inputs:
                if name in self.fields:
                    self.fields[name].widget.attrs.update(
                        {
                            "hx-get": url,
                            # keyup as typed; input also for pasting and autofill on phones
                            "hx-trigger": "keyup changed delay:500ms, input changed delay:500ms",
                            "hx-include": "closest form",
                            "hx-target": "#duplicate-warning",
                        }
                    )

    def service_values(self) -> dict:
        """The values for the record service: on create everything given, on edit only
        what changed (so a role's read-only fields and unchanged values stay untouched)."""
        names = [n for n in self.fields if not n.startswith("custom__")]
        if not self.creating:
            changed = set(self.changed_data)
            if changed & {"first_name", "last_name"}:
                changed.add("name")  # the name as shown, not one derived again
            names = [n for n in names if n in changed]
        values = {}
        for name in names:
            field = self.fields[name]
            if field.disabled:
                continue
            value = self.cleaned_data.get(name)
            if name in ("tags", "interests"):
                value = [
                    v.strip() for v in (value or "").replace("，", ",").split(",") if v.strip()
                ]
            elif name == "owner":
                value = int(value) if value else None
            if value is None and name not in ("owner",):
                value = ""
            values[self.relation_fields.get(name, name)] = value
        if self.custom_keys:
            values["custom"] = self.custom_values()
        return values


class AccountForm(RecordForm):
    object_key = "customers.account"
    checked_inputs = ("name", "phone", "email", "tax_number")
    primary_fields = (
        "name",
        "account_type",
        "owner",
        "lifecycle_stage",
        "industry",
        "phone",
        "email",
        "province",
        "city",
        "street",
        "tags",
    )

    name = forms.CharField(label=_("Name"), max_length=200)
    short_name = _text(_("Short name"), 100)
    code = _text(_("Customer code"), 64, help_text=_("If left empty, one is generated."))
    account_type = _choice(_("Customer type"), AccountType.choices, blank=False)
    parent = _text(_("Parent account (customer code)"), 64)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    lifecycle_stage = _choice(_("Lifecycle stage"), LifecycleStage.choices, blank=False)
    loyalty_stage = _choice(_("Loyalty stage"), LoyaltyStage.choices)
    industry = _text(_("Industry"), 60)
    region = _text(_("Region"), 60)
    source = _text(_("Source"), 60)
    phone = _text(_("Phone"), 40, widget=forms.TextInput(attrs={"type": "tel"}))
    email = _text(_("E-mail"), 254, widget=forms.EmailInput)
    website = _text(_("Website"), 200)
    country = _text(_("Country"), 60)
    province = _text(_("Province"), 60)
    city = _text(_("City"), 60)
    district = _text(_("District"), 60)
    street = _text(_("Address"), 255)
    postal_code = _text(_("Postal code"), 20)
    currency = _text(_("Currency"), 3)
    payment_terms = _text(_("Payment terms"), 60)
    tax_number = _text(_("Tax number"), 40)
    invoice_title = _text(_("Invoice title"), 200)
    credit_limit = _text(
        _("Credit limit"), 20, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    credit_rating = _text(_("Credit rating"), 20)
    credit_record = _long(_("Credit record"))
    employees = _text(_("Employees"), 12, widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    annual_revenue = _text(
        _("Annual revenue"), 24, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    commission_code = _text(_("Commission code"), 30)
    tags = _text(_("Tags"), 2000, help_text=_("Separated by commas."))
    notes = _long(_("Notes"))


class ContactForm(RecordForm):
    object_key = "customers.contact"
    checked_inputs = ("name", "mobile", "phone", "email", "id_number")
    primary_fields = (
        "name",
        "account",
        "role",
        "company",
        "title",
        "mobile",
        "phone",
        "email",
        "owner",
        "lifecycle_stage",
        "city",
        "tags",
    )

    name = forms.CharField(
        label=_("Name"),
        max_length=200,
        required=False,
        help_text=_("If left empty, it is made of the last and first name."),
    )
    last_name = _text(_("Last name"), 100)
    first_name = _text(_("First name"), 100)
    code = _text(_("Customer code"), 64, help_text=_("If left empty, one is generated."))
    account = _text(
        _("Account (customer code)"), 64, help_text=_("Empty for an individual customer.")
    )
    role = _choice(_("Role at the account"), ContactRole.choices)
    level = _choice(_("Level"), ContactLevel.choices)
    company = _text(_("Company"), 200)
    title = _text(_("Job title"), 120)
    department = _text(_("Department"), 120)
    mobile = _text(_("Mobile"), 40, widget=forms.TextInput(attrs={"type": "tel"}))
    phone = _text(_("Phone"), 40, widget=forms.TextInput(attrs={"type": "tel"}))
    email = _text(_("E-mail"), 254, widget=forms.EmailInput)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    lifecycle_stage = _choice(_("Lifecycle stage"), LifecycleStage.choices, blank=False)
    loyalty_stage = _choice(_("Loyalty stage"), LoyaltyStage.choices)
    gender = _choice(_("Gender"), Gender.choices)
    birthday = _text(_("Birthday"), 20, widget=forms.DateInput(attrs={"type": "date"}))
    id_number = _text(_("ID number"), 40)
    source = _text(_("Source"), 60)
    industry = _text(_("Industry"), 60)
    region = _text(_("Region"), 60)
    country = _text(_("Country"), 60)
    province = _text(_("Province"), 60)
    city = _text(_("City"), 60)
    district = _text(_("District"), 60)
    street = _text(_("Address"), 255)
    postal_code = _text(_("Postal code"), 20)
    preferred_channel = _choice(_("Preferred channel"), Channel.choices)
    preferred_time = _text(_("Preferred contact time"), 60)
    income_band = _choice(_("Income band"), IncomeBand.choices)
    education = _choice(_("Education"), Education.choices)
    family = _long(_("Family"))
    hobbies = _long(_("Hobbies"))
    habits = _long(_("Habits"))
    personality = _long(_("Personality notes"))
    tags = _text(_("Tags"), 2000, help_text=_("Separated by commas."))
    interests = _text(_("Interests"), 2000, help_text=_("Topics, separated by commas."))
    commission_code = _text(_("Commission code"), 30)
    notes = _long(_("Notes"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.creating:
            # Memberships (role, level, several accounts) are managed on the contact's page.
            for name in ("role", "level"):
                self.fields.pop(name, None)


class AddressForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AddressKind.choices)
    province = _text(_("Province"), 60)
    city = _text(_("City"), 60)
    district = _text(_("District"), 60)
    street = _text(_("Address"), 255)
    postal_code = _text(_("Postal code"), 20)
    recipient = _text(_("Recipient"), 120)
    phone = _text(_("Phone"), 40)


class PointForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=PointKind.choices)
    value = forms.CharField(label=_("Phone or e-mail"), max_length=254)
    label = forms.ChoiceField(
        label=_("Label"), choices=_choices(PointLabel.choices), required=False
    )
