"""The customers' self-service portal: sign-in by a one-time code sent to an e-mail address
or mobile number on file (no password), its sessions, and the searches made there (to
measure deflection: searches that ended without a case)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.common.models import WorkspaceModel


class PortalCode(WorkspaceModel):
    """A one-time sign-in code (hashed), for one contact, valid for minutes and a few tries."""

    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")
    destination = models.CharField(max_length=254)  # the e-mail address or E.164 mobile
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("portal sign-in code")
        verbose_name_plural = _("portal sign-in codes")
        indexes = [
            models.Index(fields=["workspace", "destination", "-created_at"], name="portalcode_dest")
        ]


class PortalSession(WorkspaceModel):
    """A signed-in portal visitor (a contact); the cookie holds the token, the row its hash."""

    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    last_seen_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("portal session")
        verbose_name_plural = _("portal sessions")


class PortalSearch(WorkspaceModel):
    """A knowledge-base search in the portal (signed in or not). ``case`` is set when the
    same visitor filed a case afterwards: a search without one was deflected."""

    visitor_key = models.CharField(max_length=64)
    contact = models.ForeignKey(
        "customers.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    query = models.CharField(max_length=200)
    results = models.PositiveSmallIntegerField(default=0)
    opened_article = models.ForeignKey(
        "service.Article", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    helpful = models.BooleanField(null=True, blank=True)
    case = models.ForeignKey(
        "service.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("portal search")
        verbose_name_plural = _("portal searches")
        indexes = [
            models.Index(fields=["workspace", "visitor_key", "-id"], name="portalsearch_visitor"),
            models.Index(fields=["workspace", "created_at"], name="portalsearch_ws_time"),
        ]


class PortalSettings(WorkspaceModel):
    """How a workspace's portal behaves: whether it is open at all, the welcome text
    customers see first, and which case types customers may file (none chosen: every
    active type). One row per workspace, made on first change."""

    enabled = models.BooleanField(_("portal open"), default=True)
    welcome = models.TextField(_("welcome text"), blank=True)
    # Ids of the case types offered in the portal's "New case" form.
    case_type_ids = models.JSONField(_("case types customers may file"), default=list, blank=True)

    class Meta:
        verbose_name = _("portal settings")
        verbose_name_plural = _("portal settings")
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="portalsettings_workspace_unique")
        ]
