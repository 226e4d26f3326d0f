"""Leads: people who may buy, before they are customers. From web forms, imports, manual
entry, calls and inbound e-mail; scored by rules and by a model trained on the workspace's
own won and lost deals; assigned by rules; converted into account, contact and deal."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.common.models import OwnedModel, WorkspaceModel


class LeadSource(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    IMPORT = "import", pgettext_lazy("lead source", "Import")
    MANUAL = "manual", _("Entered by hand")
    CALL = "call", _("Phone call")
    EMAIL = "email", _("Inbound e-mail")
    CAMPAIGN = "campaign", _("Campaign")
    REFERRAL = "referral", _("Referral")
    OTHER = "other", _("Other")


class LeadStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("lead status", "New")
    WORKING = "working", _("Working")
    QUALIFIED = "qualified", _("Qualified")
    UNQUALIFIED = "unqualified", _("Not a buyer")
    CONVERTED = "converted", _("Converted")


def _form_key() -> str:
    return secrets.token_urlsafe(12)


class LeadForm(WorkspaceModel):
    """An embeddable web form (per campaign or page). Its public key is in the embed URL;
    spam is kept out by a honeypot field, a minimum fill time and a rate limit per address."""

    name = models.CharField(_("name"), max_length=120)
    public_key = models.CharField(max_length=32, default=_form_key, editable=False)
    campaign = models.CharField(_("campaign"), max_length=120, blank=True)
    # The optional fields shown besides name and one of phone/e-mail, in order.
    fields = models.JSONField(_("fields"), default=list, blank=True)
    thank_you = models.TextField(_("thank-you message"), blank=True)
    # Where the browser goes after sending (optional; else the thank-you message).
    redirect_url = models.URLField(_("redirect after sending"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    submissions = models.PositiveIntegerField(_("submissions"), default=0)
    # Submissions refused as spam (honeypot, too fast, bad token, rate limit, junk fields):
    # they got a normal "thanks" and made nothing.
    spam_blocked = models.PositiveIntegerField(_("spam blocked"), default=0)

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        constraints = [
            models.UniqueConstraint(fields=["public_key"], name="leadform_public_key_unique"),
        ]
        indexes = [models.Index(fields=["workspace", "name"], name="leadform_ws_name")]

    def __str__(self) -> str:
        return self.name


class Lead(OwnedModel):
    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("job title"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)  # E.164
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    industry = models.CharField(_("industry"), max_length=60, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    region = models.CharField(_("region"), max_length=60, blank=True)
    province = models.CharField(_("province"), max_length=60, blank=True)
    city = models.CharField(_("city"), max_length=60, blank=True)
    interest = models.CharField(_("interested in"), max_length=200, blank=True)
    message = models.TextField(_("message"), blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=LeadSource.choices, default=LeadSource.MANUAL
    )
    campaign = models.CharField(_("campaign"), max_length=120, blank=True)
    form = models.ForeignKey(
        LeadForm, verbose_name=_("web form"), null=True, blank=True, on_delete=models.SET_NULL
    )
    status = models.CharField(
        _("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    unqualified_reason = models.CharField(_("why not a buyer"), max_length=200, blank=True)
    # Scores: rules (fit + engagement, points) and the trained model (0–100, with its top
    # factors as [{"feature", "label", "weight"}]).
    fit_score = models.IntegerField(_("fit score"), default=0)
    engagement_score = models.IntegerField(_("engagement score"), default=0)
    score = models.IntegerField(_("score"), default=0)
    predicted_score = models.FloatField(_("predicted score"), null=True, blank=True)
    score_factors = models.JSONField(default=list, blank=True, editable=False)
    # The first-response timer: due when assigned; stopped by the owner's first activity.
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    # When the owner and their manager were told the first response is late (once).
    response_overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    deal = models.ForeignKey(
        "sales.Deal",
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    # Lower-cased name, company, phone digits and e-mail, for the list's search box.
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="lead_ws_created"),
            models.Index(fields=["workspace", "status", "-score", "id"], name="lead_ws_status"),
            models.Index(
                fields=["workspace", "owner", "status", "-created_at"], name="lead_ws_owner"
            ),
            models.Index(fields=["workspace", "email"], name="lead_ws_email"),
            models.Index(fields=["workspace", "phone"], name="lead_ws_phone"),
            models.Index(
                fields=["workspace", "first_response_due_at"],
                name="lead_ws_response_due",
                condition=Q(first_response_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ScoreKind(models.TextChoices):
    FIT = "fit", _("Fit")
    ENGAGEMENT = "engagement", _("Engagement")


class LeadScoringRule(WorkspaceModel):
    """Points for a lead that matches: fit (industry, size, region, title, source) or
    engagement (activities, replies, visits at or above a count)."""

    kind = models.CharField(_("kind"), max_length=12, choices=ScoreKind.choices)
    # industry | employees | region | province | title | source | activities | replies | visits
    attribute = models.CharField(_("attribute"), max_length=20)
    # equals | in | contains | at_least | at_most
    operator = models.CharField(_("operator"), max_length=10)
    value = models.CharField(pgettext_lazy("scoring rule", "value"), max_length=200)
    points = models.IntegerField(_("points"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        indexes = [models.Index(fields=["workspace", "kind"], name="leadrule_ws_kind")]


class LeadScoreModel(WorkspaceModel):
    """The predictive score's trained parameters (a logistic regression over one-hot and
    numeric features), kept as JSON — never a pickle — so scoring needs no scikit-learn."""

    trained_at = models.DateTimeField(_("trained"))
    samples = models.PositiveIntegerField(_("samples"))
    positives = models.PositiveIntegerField(_("won"))
    # Cross-validated ROC AUC, or null with too few samples to tell.
    auc = models.FloatField(_("AUC"), null=True, blank=True)
    parameters = models.JSONField(default=dict)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("lead score model")
        verbose_name_plural = _("lead score models")
        indexes = [models.Index(fields=["workspace", "-trained_at"], name="leadmodel_ws_trained")]


class AssignmentMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round-robin")
    TERRITORY = "territory", _("By region / territory")
    LOAD = "load", _("By load (fewest open leads)")
    SKILL = "skill", _("By skill")


class AssignmentRule(WorkspaceModel):
    """Who gets a new lead. Rules are tried in order; the first whose conditions match picks
    one of its reps by its method. No match leaves the lead unassigned (the pool)."""

    name = models.CharField(_("name"), max_length=120)
    order = models.PositiveIntegerField(_("sort order"), default=100)
    method = models.CharField(_("method"), max_length=12, choices=AssignmentMethod.choices)
    # Conditions on the lead, all must hold: {"source": [...], "region": [...],
    # "province": [...], "industry": [...], "campaign": [...]}; empty matches every lead.
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    reps = models.ManyToManyField(
        "platform.User", through="AssignmentRuleRep", related_name="+", verbose_name=_("reps")
    )
    # The round-robin's position: the id of the rep who got the last lead.
    last_assigned = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        indexes = [models.Index(fields=["workspace", "order", "id"], name="assignrule_ws_order")]

    def __str__(self) -> str:
        return self.name


class AssignmentRuleRep(WorkspaceModel):
    rule = models.ForeignKey(AssignmentRule, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("platform.User", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "rule", "user"], name="assignrulerep_unique"
            ),
        ]


class RepProfile(WorkspaceModel):
    """What assignment needs to know about a rep: territories, skills, capacity, presence."""

    user = models.OneToOneField("platform.User", on_delete=models.CASCADE, related_name="+")
    # Regions or provinces the rep covers, and skills (industries, product lines, languages).
    territories = models.JSONField(_("territories"), default=list, blank=True)
    skills = models.JSONField(_("skills"), default=list, blank=True)
    max_open_leads = models.PositiveIntegerField(_("most open leads"), null=True, blank=True)
    available = models.BooleanField(_("taking new leads"), default=True)

    class Meta:
        verbose_name = _("rep profile")
        verbose_name_plural = _("rep profiles")
        indexes = [models.Index(fields=["workspace", "user"], name="repprofile_ws_user")]
