"""Satisfaction surveys: a link sent when a case is resolved, answered once without a
login (a score of 1–5 and a comment)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.common.models import WorkspaceModel


class SurveyChannel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class Survey(WorkspaceModel):
    """One survey of one resolution of a case (a reopened and again resolved case gets a
    new one). Only the token's hash is stored; the link works once."""

    case = models.ForeignKey("service.Case", on_delete=models.CASCADE, related_name="surveys")
    round = models.PositiveSmallIntegerField(default=1)
    token_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(_("channel"), max_length=5, choices=SurveyChannel.choices)
    sent_to = models.CharField(_("sent to"), max_length=254)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    # Who served the customer and whom it was about, kept as they were at resolution.
    agent = models.ForeignKey(
        "platform.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    account = models.ForeignKey(
        "customers.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [
            models.UniqueConstraint(fields=["case", "round"], name="survey_case_round_unique"),
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=1, score__lte=5),
                name="survey_score_1_5",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "agent", "answered_at"], name="survey_ws_agent"),
            models.Index(fields=["workspace", "answered_at"], name="survey_ws_answered"),
            # A customer's last scores (the 360° page's section).
            models.Index(fields=["workspace", "account", "-answered_at"], name="survey_ws_account"),
            models.Index(fields=["workspace", "contact", "-answered_at"], name="survey_ws_contact"),
        ]


class SurveySettings(WorkspaceModel):
    """A workspace's survey settings: surveys on or off, and which case types get one (an
    empty list: every type). One row per workspace, made when first changed."""

    enabled = models.BooleanField(_("send satisfaction surveys"), default=True)
    # CaseType ids; [] means every type.
    case_type_ids = models.JSONField(_("case types surveyed"), default=list, blank=True)

    class Meta:
        verbose_name = _("survey settings")
        verbose_name_plural = _("survey settings")
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="surveysettings_workspace_unique")
        ]
