"""Web forms: one per campaign or page, embedded with an ``<iframe>`` that shows the
public page ``/f/<public_key>/`` (no login, no CSRF cookie).

Spam protection, in the order it is checked:
1. a per-render token, signed with the site's secret, that names the form and the time it
   was shown: missing, forged, for another form or older than a day → spam;
2. the minimum fill time: sent less than ``MIN_FILL_SECONDS`` after it was shown → spam;
3. the honeypot: a field people cannot see (``website``) that bots fill in → spam;
4. a rate limit per sending address (Django's cache) → spam;
5. junk in the fields (links in the name or company, a message full of links) → spam.
Spam gets the same "thanks" page a person gets and creates nothing; it is counted on the
form. A person's mistake (no name, a malformed e-mail) shows the form again with errors.
A valid submission makes a lead (source "web form", the form's campaign), scored and
assigned as every lead is.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, FieldErrors, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import Lead, LeadForm, LeadSource
from ..objects import LEAD_FORM
from . import leads as lead_services

TOKEN_SALT = "guanxi.sales.lead_form"
MIN_FILL_SECONDS = 3
MAX_TOKEN_AGE = 24 * 3600
RATE_LIMIT = 5  # submissions per address per form
RATE_WINDOW = 3600  # seconds
HONEYPOT = "website"
MAX_LINKS_IN_MESSAGE = 2

# Fields a form may show besides the name and the phone/e-mail (which it always has).
OPTIONAL_FIELDS = {
    "company": _("Company"),
    "title": _("Job title"),
    "industry": _("Industry"),
    "employees": _("Employees"),
    "region": _("Region"),
    "province": _("Province"),
    "city": _("City"),
    "interest": _("Interested in"),
    "message": _("Message"),
}
ALWAYS = ("name", "phone", "email")
_LINK = re.compile(r"https?://|www\.|\[url|<a\s", re.IGNORECASE)


# --- the forms -------------------------------------------------------------------------------


def _clean(values: dict, *, partial: bool) -> dict:
    errors = FieldErrors()
    out = {}
    if "name" in values or not partial:
        name = str(values.get("name") or "").strip()
        if not name:
            errors.add("name", _("Give the form a name."))
        elif len(name) > 120:
            errors.add("name", _("At most %(n)s characters.") % {"n": 120})
        out["name"] = name
    if "campaign" in values:
        campaign = str(values.get("campaign") or "").strip()
        if len(campaign) > 120:
            errors.add("campaign", _("At most %(n)s characters.") % {"n": 120})
        out["campaign"] = campaign
    if "fields" in values:
        chosen = values.get("fields") or []
        if isinstance(chosen, str):
            chosen = [c.strip() for c in chosen.split(",") if c.strip()]
        if not isinstance(chosen, list | tuple) or any(c not in OPTIONAL_FIELDS for c in chosen):
            errors.add("fields", _("Choose among the optional fields."))
            chosen = []
        out["fields"] = list(dict.fromkeys(chosen))
    if "thank_you" in values:
        text = str(values.get("thank_you") or "").strip()
        if len(text) > 2000:
            errors.add("thank_you", _("At most %(n)s characters.") % {"n": 2000})
        out["thank_you"] = text
    if "redirect_url" in values:
        url = str(values.get("redirect_url") or "").strip()
        if url and (not url.startswith(("https://", "http://")) or len(url) > 200):
            errors.add("redirect_url", _("Enter a web address starting with https://."))
        out["redirect_url"] = url
    if "active" in values:
        active = values.get("active")
        out["active"] = bool(active) and active not in ("false", "0", "off")
    errors.raise_if_any()
    return out


def lead_form_create(*, actor: User, workspace: Workspace, **values) -> LeadForm:
    """A new web form: ``name``, ``campaign``, ``fields`` (optional ones shown, in order),
    ``thank_you``, ``redirect_url``, ``active``."""
    permissions.require(actor, LEAD_FORM, Action.CREATE)
    clean = _clean(values, partial=False)
    with transaction.atomic():
        form = LeadForm.objects.create(workspace=workspace, **clean)
        audit.log_create(actor=actor, instance=form)
    return form


def lead_form_update(*, actor: User, workspace: Workspace, form_id: int, **values) -> LeadForm:
    permissions.require(actor, LEAD_FORM, Action.UPDATE)
    clean = _clean(values, partial=True)
    with transaction.atomic():
        form = _locked(workspace, form_id)
        before = audit.snapshot(form)
        for name, value in clean.items():
            setattr(form, name, value)
        form.save()
        audit.log_update(actor=actor, instance=form, before=before)
    return form


def lead_form_delete(*, actor: User, workspace: Workspace, form_id: int) -> None:
    permissions.require(actor, LEAD_FORM, Action.DELETE)
    with transaction.atomic():
        form = _locked(workspace, form_id)
        audit.log_delete(actor=actor, instance=form)
        form.delete()


def _locked(workspace, form_id) -> LeadForm:
    try:
        form_id = int(form_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    form = LeadForm.objects.in_workspace(workspace).select_for_update().filter(pk=form_id).first()
    if form is None:
        raise NotFound()
    return form


# --- the public page -------------------------------------------------------------------------


def render_token(form: LeadForm, *, now: float | None = None) -> str:
    """The signed token a rendering of the public form carries."""
    return signing.dumps(
        {"f": form.pk, "t": int(now if now is not None else time.time())}, salt=TOKEN_SALT
    )


@dataclass
class Submission:
    lead: Lead | None = None
    spam: str = ""  # why it was taken for spam ("" for a person)
    errors: dict = field(default_factory=dict)  # a person's mistakes: show the form again

    @property
    def accepted(self) -> bool:
        return not self.errors


def _spam_reason(form: LeadForm, data, *, ip: str, now: float) -> str:
    try:
        token = signing.loads(str(data.get("token") or ""), salt=TOKEN_SALT, max_age=MAX_TOKEN_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return "token"
    if not isinstance(token, dict) or token.get("f") != form.pk:
        return "token"
    if now - float(token.get("t", 0)) < MIN_FILL_SECONDS:
        return "too_fast"
    if str(data.get(HONEYPOT) or "").strip():
        return "honeypot"
    key = f"sales:leadform:{form.pk}:{ip or 'unknown'}"
    cache.add(key, 0, RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW)
        count = 1
    if count > RATE_LIMIT:
        return "rate_limit"
    for name in ("name", "company", "title"):
        if _LINK.search(str(data.get(name) or "")):
            return "junk"
    if len(_LINK.findall(str(data.get("message") or ""))) > MAX_LINKS_IN_MESSAGE:
        return "junk"
    return ""


def lead_form_submit(*, form: LeadForm, data, ip: str = "", now: float | None = None) -> Submission:
    """A submission of the public form (no actor: the visitor). Spam is counted and
    dropped; a person's mistakes come back as field errors; else a lead is made."""
    now = time.time() if now is None else now
    reason = _spam_reason(form, data, ip=ip, now=now)
    if reason:
        LeadForm.objects.in_workspace(form.workspace_id).filter(pk=form.pk).update(
            spam_blocked=F("spam_blocked") + 1
        )
        return Submission(spam=reason)
    values = {name: data.get(name, "") for name in (*ALWAYS, *form.fields) if name in data}
    values.setdefault("name", "")
    values["campaign"] = form.campaign
    try:
        with transaction.atomic():
            lead = lead_services.create_lead(
                workspace=form.workspace,
                actor=None,
                values=values,
                source=LeadSource.WEB_FORM,
                form=form,
            )
            LeadForm.objects.in_workspace(form.workspace_id).filter(pk=form.pk).update(
                submissions=F("submissions") + 1
            )
    except ApplicationError as exc:
        return Submission(
            errors={k: [str(m) for m in v] for k, v in exc.fields.items()}
            or {"__all__": [str(exc.message)]}
        )
    return Submission(lead=lead)


def embed_snippet(form: LeadForm, *, base_url: str) -> str:
    """The HTML a site owner pastes into their page."""
    url = f"{base_url.rstrip('/')}/f/{form.public_key}/"
    return (
        f'<iframe src="{escape(url)}" title="{escape(form.name)}" loading="lazy" '
        'style="width:100%;max-width:520px;height:640px;border:0"></iframe>'
    )
