"""The customer file: accounts (companies) and contacts (people), their addresses, phones,
e-mails, bank accounts, tags and interests, stages and their history, consent, the customer
pool's settings, duplicate candidates, merges, and import runs.

The primary phone, mobile, e-mail and address of a record live on the record itself (what
a list shows, what a business card holds, what an import row fills); further ones are rows
of ``ContactPoint`` and ``Address``. The ``search_*`` and ``name_*`` columns are derived by
``search_keys`` whenever a service writes the record; nothing else writes them.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.models import OwnedModel, WorkspaceModel


class LifecycleStage(models.TextChoices):
    POTENTIAL = "potential", _("Potential")
    NEW = "new", pgettext_lazy("lifecycle stage", "New")
    SATISFIED = "satisfied", _("Satisfied")
    RETAINED = "retained", _("Retained")
    LONG_STANDING = "long_standing", _("Long-standing")
    LOST = "lost", _("Lost")


class LoyaltyStage(models.TextChoices):
    SUSPICION = "suspicion", _("Suspicion")
    EXPECTATION = "expectation", _("Expectation")
    FIRST_PURCHASE = "first_purchase", _("First purchase")
    REPEAT_PURCHASE = "repeat_purchase", _("Repeat purchase")
    ADVOCATE = "advocate", _("Advocate")


class AccountType(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    PROSPECT = "prospect", _("Prospect")
    AGENT = "agent", _("Agent / distributor")
    PARTNER = "partner", _("Partner")
    SUPPLIER = "supplier", _("Supplier")
    COMPETITOR = "competitor", _("Competitor")
    OTHER = "other", _("Other")


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class IncomeBand(models.TextChoices):
    LOW = "low", _("Low")
    LOWER_MIDDLE = "lower_middle", _("Lower middle")
    MIDDLE = "middle", _("Middle")
    UPPER_MIDDLE = "upper_middle", _("Upper middle")
    HIGH = "high", _("High")


class Education(models.TextChoices):
    SECONDARY = "secondary", _("Secondary school")
    VOCATIONAL = "vocational", _("Vocational college")
    BACHELOR = "bachelor", _("Bachelor's degree")
    MASTER = "master", _("Master's degree")
    DOCTORATE = "doctorate", _("Doctorate")
    OTHER = "other", pgettext_lazy("education", "Other")


class Channel(models.TextChoices):
    """Channels of contact: for preferences and for consent."""

    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    MAIL = "mail", _("Post")
    WECHAT = "wechat", _("WeChat")
    VISIT = "visit", _("Visit")


class ContactRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    BUYER = "buyer", _("Buyer")
    USER = "user", _("User")
    FINANCE = "finance", _("Finance")
    TECHNICAL = "technical", _("Technical")
    OTHER = "other", pgettext_lazy("contact role", "Other")


class ContactLevel(models.TextChoices):
    """The layer of a relationship: who talks to whom at the customer."""

    EXECUTIVE = "executive", _("Executive")
    MANAGEMENT = "management", _("Management")
    OPERATIONAL = "operational", _("Operational")


class AddressKind(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    OFFICE = "office", _("Office")
    DELIVERY = "delivery", _("Delivery")
    INVOICE = "invoice", _("Invoice")
    HOME = "home", _("Home")
    OTHER = "other", pgettext_lazy("address", "Other")


class PointKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")


class PointLabel(models.TextChoices):
    WORK = "work", _("Work")
    MOBILE = "mobile", _("Mobile")
    HOME = "home", _("Home")
    FAX = "fax", _("Fax")
    OTHER = "other", pgettext_lazy("phone or e-mail", "Other")


class AddressFields(models.Model):
    """A postal address with coordinates (entered, imported or picked; never geocoded)."""

    country = models.CharField(_("country"), max_length=2, blank=True, default="CN")
    province = models.CharField(_("province"), max_length=60, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    district = models.CharField(_("district"), max_length=60, blank=True)
    street = models.CharField(_("address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )

    class Meta:
        abstract = True


class CustomerFields(OwnedModel, AddressFields):
    """What accounts and contacts share: the code, the stages, the owner and the pool, the
    customer-file classifications, custom fields and the derived search columns.

    ``owner`` empty means the record is in the customer pool (公海).
    """

    code = models.CharField(_("customer code"), max_length=64)
    name = models.CharField(_("name"), max_length=200)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=20,
        choices=LifecycleStage.choices,
        default=LifecycleStage.POTENTIAL,
    )
    loyalty_stage = models.CharField(
        _("loyalty stage"), max_length=20, choices=LoyaltyStage.choices, blank=True
    )
    source = models.CharField(_("source"), max_length=60, blank=True)
    region = models.CharField(_("region"), max_length=60, blank=True)
    industry = models.CharField(_("industry"), max_length=60, blank=True)
    commission_code = models.CharField(_("commission code"), max_length=30, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)  # E.164
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    # When the owner took it (claim, assignment, creation); the pool rules count from the
    # later of this and the last activity.
    owned_since = models.DateTimeField(_("owned since"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    # The ABC value class (A, B, C; empty before the first computation), written by the
    # analytics' customer-value run through ``services.records.set_value_classes``.
    value_class = models.CharField(_("value class"), max_length=1, blank=True)
    # Set while the customer has an open complaint (the service keeps it): marketing holds
    # off, and the 360° page says so.
    open_complaint = models.BooleanField(_("open complaint"), default=False)
    created_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Derived by search_keys (t2s, lower case, pinyin); never edited directly.
    name_pinyin = models.CharField(max_length=255, blank=True, editable=False)
    name_initials = models.CharField(max_length=64, blank=True, editable=False)
    search_text = models.TextField(blank=True, editable=False)
    search_grams = models.TextField(blank=True, editable=False)

    class Meta:
        abstract = True


class Account(CustomerFields):
    """A company (or a branch of a group) that the workspace does business with."""

    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="branches",
    )
    account_type = models.CharField(
        _("customer type"),
        max_length=20,
        choices=AccountType.choices,
        default=AccountType.CUSTOMER,
    )
    website = models.CharField(_("website"), max_length=200, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    payment_terms = models.CharField(_("payment terms"), max_length=60, blank=True)
    tax_number = models.CharField(_("tax number"), max_length=40, blank=True)
    invoice_title = models.CharField(_("invoice title"), max_length=200, blank=True)
    credit_limit = models.DecimalField(
        _("credit limit"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    credit_rating = models.CharField(_("credit rating"), max_length=20, blank=True)
    credit_record = models.TextField(_("credit record"), blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    # The company name without legal suffixes (有限公司, Co., Ltd.), t2s and lower case:
    # the duplicate check compares companies by it.
    name_core = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "code"], name="account_code_unique"),
        ]
        indexes = [
            models.Index(fields=["workspace", "name", "id"], name="account_ws_name"),
            models.Index(fields=["workspace", "owner", "name", "id"], name="account_ws_owner"),
            models.Index(fields=["workspace", "-created_at", "-id"], name="account_ws_created"),
            models.Index(fields=["workspace", "name_core"], name="account_ws_core"),
            models.Index(fields=["workspace", "name_pinyin"], name="account_ws_pinyin"),
            models.Index(fields=["workspace", "name_initials"], name="account_ws_initials"),
            models.Index(fields=["workspace", "phone"], name="account_ws_phone"),
            models.Index(fields=["workspace", "parent"], name="account_ws_parent"),
            models.Index(
                fields=["workspace", "lifecycle_stage", "name", "id"], name="account_ws_stage"
            ),
            models.Index(
                fields=["workspace", "industry", "name", "id"], name="account_ws_industry"
            ),
            models.Index(
                fields=["workspace", "value_class", "name", "id"], name="account_ws_class"
            ),
            models.Index(
                fields=["workspace", "tax_number"],
                name="account_ws_tax_number",
                condition=~Q(tax_number=""),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(CustomerFields):
    """A person: someone at an account, or an individual customer with no account."""

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    # The primary account; further memberships (and this one) are AccountContact rows.
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="primary_contacts",
    )
    # The company as written on a card or an import row, kept even with no account.
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    department = models.CharField(_("department"), max_length=120, blank=True)
    mobile = models.CharField(_("mobile"), max_length=32, blank=True)  # E.164
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    id_number = models.CharField(_("ID number"), max_length=40, blank=True)
    family = models.TextField(_("family"), blank=True)
    income_band = models.CharField(
        _("income band"), max_length=20, choices=IncomeBand.choices, blank=True
    )
    education = models.CharField(
        _("education"), max_length=20, choices=Education.choices, blank=True
    )
    hobbies = models.TextField(_("hobbies"), blank=True)
    habits = models.TextField(_("habits"), blank=True)
    personality = models.TextField(_("personality notes"), blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, blank=True
    )
    preferred_time = models.CharField(_("preferred contact time"), max_length=60, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    payment_terms = models.CharField(_("payment terms"), max_length=60, blank=True)
    # Erasure (PIPL/GDPR) anonymises the personal fields and stamps this; business facts stay.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "code"], name="contact_code_unique"),
        ]
        indexes = [
            models.Index(fields=["workspace", "name", "id"], name="contact_ws_name"),
            models.Index(fields=["workspace", "owner", "name", "id"], name="contact_ws_owner"),
            models.Index(fields=["workspace", "-created_at", "-id"], name="contact_ws_created"),
            models.Index(fields=["workspace", "account"], name="contact_ws_account"),
            models.Index(fields=["workspace", "name_pinyin"], name="contact_ws_pinyin"),
            models.Index(fields=["workspace", "name_initials"], name="contact_ws_initials"),
            models.Index(fields=["workspace", "mobile"], name="contact_ws_mobile"),
            models.Index(fields=["workspace", "phone"], name="contact_ws_phone"),
            models.Index(fields=["workspace", "email"], name="contact_ws_email"),
            models.Index(
                fields=["workspace", "lifecycle_stage", "name", "id"], name="contact_ws_stage"
            ),
            models.Index(fields=["workspace", "city", "name", "id"], name="contact_ws_city"),
            models.Index(
                fields=["workspace", "value_class", "name", "id"], name="contact_ws_class"
            ),
            models.Index(
                fields=["workspace", "province", "name", "id"], name="contact_ws_province"
            ),
            # The 撞单 check and the duplicate check look ID numbers up; most rows have none.
            models.Index(
                fields=["workspace", "id_number"],
                name="contact_ws_id_number",
                condition=~Q(id_number=""),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_individual(self) -> bool:
        return self.account_id is None


class AccountContact(WorkspaceModel):
    """A person's place at an account: their role and level. One may be the primary."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=ContactRole.choices, blank=True)
    level = models.CharField(_("level"), max_length=20, choices=ContactLevel.choices, blank=True)
    is_primary = models.BooleanField(_("primary account"), default=False)

    class Meta:
        verbose_name = _("account membership")
        verbose_name_plural = _("account memberships")
        constraints = [
            models.UniqueConstraint(fields=["account", "contact"], name="accountcontact_unique"),
        ]
        indexes = [
            models.Index(fields=["workspace", "account"], name="accountcontact_ws_account"),
            models.Index(fields=["workspace", "contact"], name="accountcontact_ws_contact"),
        ]


class Address(WorkspaceModel, AddressFields):
    """A further typed address of an account or a contact (the primary one is on the row)."""

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AddressKind.choices)
    label = models.CharField(_("label"), max_length=60, blank=True)
    recipient = models.CharField(_("recipient"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False, contact__isnull=True)
                | Q(account__isnull=True, contact__isnull=False),
                name="address_account_xor_contact",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "account"], name="address_ws_account"),
            models.Index(fields=["workspace", "contact"], name="address_ws_contact"),
        ]

    def __str__(self) -> str:
        return " ".join(p for p in (self.province, self.city, self.district, self.street) if p)


class ContactPoint(WorkspaceModel):
    """A further phone number or e-mail address (the primary ones are on the row).
    ``value`` is normalised: E.164 for phones, lower case for e-mail."""

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="points"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="points"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=PointKind.choices)
    label = models.CharField(_("label"), max_length=10, choices=PointLabel.choices, blank=True)
    value = models.CharField(_("value"), max_length=254)

    class Meta:
        verbose_name = _("phone or e-mail")
        verbose_name_plural = _("phones and e-mails")
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False, contact__isnull=True)
                | Q(account__isnull=True, contact__isnull=False),
                name="point_account_xor_contact",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "kind", "value"], name="point_ws_value"),
            models.Index(fields=["workspace", "account"], name="point_ws_account"),
            models.Index(fields=["workspace", "contact"], name="point_ws_contact"),
        ]


class BankAccount(WorkspaceModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="bank_accounts")
    bank_name = models.CharField(_("bank"), max_length=120)
    account_name = models.CharField(_("account name"), max_length=200, blank=True)
    account_number = models.CharField(_("account number"), max_length=40)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        indexes = [models.Index(fields=["workspace", "account"], name="bankaccount_ws_account")]


class TagKind(models.TextChoices):
    TAG = "tag", _("Tag")
    INTEREST = "interest", _("Interest")


class Tag(WorkspaceModel):
    """A label on customers; ``interest`` tags are the topics a person follows."""

    name = models.CharField(_("name"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=TagKind.choices, default="tag")
    color = models.CharField(_("colour"), max_length=7, blank=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "kind", "name"], name="tag_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class AccountTag(WorkspaceModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="taggings")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "tag"], name="accounttag_unique"),
        ]
        indexes = [models.Index(fields=["workspace", "tag", "account"], name="accounttag_ws_tag")]


class ContactTag(WorkspaceModel):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="taggings")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "tag"], name="contacttag_unique"),
        ]
        indexes = [models.Index(fields=["workspace", "tag", "contact"], name="contacttag_ws_tag")]


class StageKind(models.TextChoices):
    LIFECYCLE = "lifecycle", _("Lifecycle stage")
    LOYALTY = "loyalty", _("Loyalty stage")


class StageChange(WorkspaceModel):
    """One move of a customer's lifecycle or loyalty stage: from, to, who, when, why."""

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="stage_changes"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="stage_changes"
    )
    kind = models.CharField(max_length=10, choices=StageKind.choices)
    from_stage = models.CharField(max_length=20, blank=True)
    to_stage = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "account", "-id"], name="stagechange_ws_account"),
            models.Index(fields=["workspace", "contact", "-id"], name="stagechange_ws_contact"),
        ]


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ConsentPurpose(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    SERVICE = "service", _("Service messages")
    SURVEYS = "surveys", _("Surveys")
    PROFILING = "profiling", _("Analysis and profiling")
    THIRD_PARTY = "third_party", _("Sharing with partners")


class ConsentMethod(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    PAPER = "paper", _("Signed on paper")
    PHONE = "phone", _("By phone")
    EMAIL = "email", _("By e-mail")
    SMS = "sms", _("By SMS reply")
    IN_PERSON = "in_person", _("In person")
    IMPORT = "import", _("Imported")
    API = "api", _("Through the API")


class Consent(WorkspaceModel):
    """The current answer of one person for one channel and purpose — what marketing must
    obey. Every change also appends a ``ConsentEvent``."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    status = models.CharField(_("status"), max_length=10, choices=ConsentStatus.choices)
    method = models.CharField(_("how"), max_length=12, choices=ConsentMethod.choices)
    notice_version = models.CharField(_("notice version"), max_length=40, blank=True)
    recorded_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    effective_at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "channel", "purpose"], name="consent_contact_channel_purpose"
            ),
        ]
        indexes = [
            models.Index(
                fields=["workspace", "channel", "purpose", "status"], name="consent_ws_channel"
            ),
            models.Index(fields=["workspace", "contact"], name="consent_ws_contact"),
        ]


class ConsentEvent(WorkspaceModel):
    """Append-only history of consent: each grant and withdrawal as it was given."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_events")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    status = models.CharField(max_length=10, choices=ConsentStatus.choices)
    method = models.CharField(max_length=12, choices=ConsentMethod.choices)
    notice_version = models.CharField(max_length=40, blank=True)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    effective_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "contact", "-id"], name="consentevent_ws_contact"),
        ]


class PoolSettings(WorkspaceModel):
    """The customer pool's rules for one workspace."""

    # A rep may hold at most this many customers (accounts and individual contacts); 0 = no cap.
    max_per_rep = models.PositiveIntegerField(_("customers per rep"), default=0)
    # Customers untouched this many days go back to the pool; 0 = never.
    return_after_days = models.PositiveIntegerField(
        _("return after days without activity"), default=0
    )
    # When a rep is deactivated their customers go back to the pool.
    return_on_departure = models.BooleanField(_("return customers when a rep leaves"), default=True)
    # A rep who released a customer may not claim it back for this many days.
    reclaim_after_days = models.PositiveIntegerField(_("days before reclaiming"), default=0)

    class Meta:
        verbose_name = _("customer pool settings")
        verbose_name_plural = _("customer pool settings")
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="poolsettings_one_per_workspace"),
        ]


class PoolEvent(WorkspaceModel):
    """One move into or out of the pool (claimed, released, returned by a rule, assigned)."""

    class Kind(models.TextChoices):
        CLAIMED = "claimed", _("Claimed")
        RELEASED = "released", _("Released")
        RETURNED = "returned", _("Returned by rule")
        ASSIGNED = "assigned", _("Assigned")

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_owner = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_owner = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "from_owner", "-id"], name="poolevent_ws_from"),
            models.Index(fields=["workspace", "account", "-id"], name="poolevent_ws_account"),
            models.Index(fields=["workspace", "contact", "-id"], name="poolevent_ws_contact"),
        ]


class CodeSequence(WorkspaceModel):
    """The next number of generated customer codes (A000001, C000001) per workspace."""

    prefix = models.CharField(max_length=8)
    next_value = models.PositiveBigIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "prefix"], name="codesequence_unique"),
        ]


class CandidateStatus(models.TextChoices):
    OPEN = "open", _("To review")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not a duplicate")


class DuplicateCandidate(WorkspaceModel):
    """A pair of records that may be one customer, with the matcher's score and reasons.
    ``left_id < right_id`` always; ``object_key`` is customers.contact or customers.account."""

    object_key = models.CharField(max_length=40)
    left_id = models.BigIntegerField()
    right_id = models.BigIntegerField()
    score = models.FloatField()
    reasons = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=CandidateStatus.choices, default=CandidateStatus.OPEN
    )
    reviewed_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "object_key", "left_id", "right_id"],
                name="duplicatecandidate_pair_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["workspace", "object_key", "status", "-score", "id"],
                name="dupcand_ws_status",
            ),
            models.Index(fields=["workspace", "object_key", "right_id"], name="dupcand_ws_right"),
        ]


class Merge(WorkspaceModel):
    """A merge: the survivor, the id and full snapshot of the record merged away, and the
    related rows moved. The survivor's history includes the merged record's history."""

    object_key = models.CharField(max_length=40)
    survivor_id = models.BigIntegerField()
    merged_id = models.BigIntegerField()
    merged_code = models.CharField(max_length=64)
    snapshot = models.JSONField(default=dict)
    moved = models.JSONField(default=dict)
    actor = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace", "object_key", "survivor_id"], name="merge_ws_survivor"
            ),
            models.Index(fields=["workspace", "object_key", "merged_id"], name="merge_ws_merged"),
        ]


class DuplicatePolicy(models.TextChoices):
    SKIP = "skip", _("Skip the row")
    UPDATE = "update", _("Update the existing record")
    CREATE = "create", _("Create a new record anyway")


class ImportMapping(WorkspaceModel):
    """A saved column mapping for imports: ``{"file column": "field name"}``."""

    object_key = models.CharField(max_length=40)
    name = models.CharField(_("name"), max_length=80)
    mapping = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "object_key", "name"], name="importmapping_name_unique"
            ),
        ]


class ImportRun(WorkspaceModel):
    """One import of one file: its settings, its checkpoint and its counts.

    Each batch of rows is written in one transaction together with ``rows_done``, so a run
    resumed after a crash starts after the last committed batch and creates no double rows.
    """

    job = models.OneToOneField(
        "platform.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    object_key = models.CharField(max_length=40)
    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500)
    encoding = models.CharField(max_length=20, blank=True)
    mapping = models.JSONField(default=dict)
    on_duplicate = models.CharField(
        max_length=10, choices=DuplicatePolicy.choices, default=DuplicatePolicy.CREATE
    )
    dry_run = models.BooleanField(default=False)
    # Bad optional values fail the row instead of being left empty (a warning).
    strict = models.BooleanField(default=False)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)
    error_path = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "-id"], name="importrun_ws_id")]
