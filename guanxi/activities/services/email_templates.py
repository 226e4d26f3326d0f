"""E-mail templates: create, change, delete, and render them for one contact.

The renderer is deliberately tiny: it replaces the placeholders below and nothing else.
No tags, no filters, no attribute access beyond the listed names — a template is data an
administrator types, and must not be able to reach into the application. A placeholder
it does not know is refused when the template is saved (and when a message is sent), so
no customer ever receives "Dear ," with a blank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, User, Workspace

from ..models import EmailPurpose, EmailTemplate
from ..objects import EMAIL

LANGUAGES = (
    ("zh-hans", _("Simplified Chinese")),
    ("zh-hant", _("Traditional Chinese")),
    ("en", _("English")),
)
PLACEHOLDERS = (
    "contact.name",
    "contact.title",
    "account.name",
    "user.full_name",
    "user.email",
    "today",
)
# Anything that looks like template syntax: {{ … }}, {% … %} and {# … #}.
_SYNTAX = re.compile(r"\{\{(.*?)\}\}|\{%|\{#", re.S)
_NAME = re.compile(r"^\s*([a-z_]+(?:\.[a-z_]+)?)\s*$")


@dataclass(frozen=True)
class RenderContext:
    """Plain values only: the renderer never touches a model."""

    values: dict[str, str]


def unknown_placeholders(text: str) -> list[str]:
    """The template syntax in ``text`` that is not one of ``PLACEHOLDERS``."""
    bad = []
    for match in _SYNTAX.finditer(text or ""):
        inner = match.group(1)
        name = _NAME.match(inner) if inner is not None else None
        if name is None or name.group(1) not in PLACEHOLDERS:
            bad.append(match.group(0) if inner is None else "{{" + inner + "}}")
    return bad


def check_placeholders(*, subject: str, body: str) -> None:
    """Refuse a subject or body with a placeholder the renderer does not know."""
    fields: dict[str, list] = {}
    for field, text in (("subject", subject), ("body", body)):
        bad = unknown_placeholders(text)
        if bad:
            fields[field] = [
                _("Unknown placeholder %(found)s. Use one of: %(known)s.")
                % {
                    "found": ", ".join(bad[:3]),
                    "known": ", ".join(f"{{{{ {p} }}}}" for p in PLACEHOLDERS),
                }
            ]
    if fields:
        raise ApplicationError(
            next(iter(fields.values()))[0], code="unknown_placeholder", fields=fields
        )


def render_text(text: str, context: RenderContext) -> str:
    """Replace the placeholders of ``text`` with ``context``'s plain values (no escaping:
    the result is a plain-text mail). Call ``check_placeholders`` first."""

    def replace(match: re.Match) -> str:
        inner = match.group(1)
        name = _NAME.match(inner) if inner is not None else None
        if name is None or name.group(1) not in PLACEHOLDERS:
            raise ApplicationError(
                _("Unknown placeholder %(found)s.") % {"found": match.group(0)},
                code="unknown_placeholder",
            )
        return context.values.get(name.group(1), "")

    return _SYNTAX.sub(replace, text or "")


def context_for(*, contact=None, account=None, user: User | None = None) -> RenderContext:
    """The placeholder values for one recipient and sender."""
    if account is None and contact is not None:
        account = contact.account
    return RenderContext(
        values={
            "contact.name": contact.name if contact is not None else "",
            "contact.title": contact.title if contact is not None else "",
            "account.name": account.name if account is not None else "",
            "user.full_name": user.full_name if user is not None else "",
            "user.email": user.email if user is not None else "",
            "today": date_format(timezone.localdate(), "DATE_FORMAT"),
        }
    )


def _clean(values: dict, *, partial: bool) -> dict:
    out: dict = {}
    limits = {"name": 100, "subject": 200, "body": 20000}
    for field, limit in limits.items():
        if field not in values:
            if not partial:
                message = _("This field is required.")
                raise ApplicationError(message, fields={field: [message]})
            continue
        text = str(values[field] or "")
        if "\x00" in text:
            message = _("Text may not contain NUL characters.")
            raise ApplicationError(message, fields={field: [message]})
        text = text.strip() if field != "body" else text.rstrip()
        if not text:
            message = _("This field is required.")
            raise ApplicationError(message, fields={field: [message]})
        if len(text) > limit:
            message = _("At most %(n)s characters.") % {"n": limit}
            raise ApplicationError(message, fields={field: [message]})
        out[field] = text
    if "language" in values:
        if values["language"] not in dict(LANGUAGES):
            message = _("Choose one of: %(choices)s.") % {
                "choices": ", ".join(code for code, _label in LANGUAGES)
            }
            raise ApplicationError(message, fields={"language": [message]})
        out["language"] = values["language"]
    if "purpose" in values:
        if values["purpose"] not in EmailPurpose.values:
            message = _("Choose one of: %(choices)s.") % {"choices": ", ".join(EmailPurpose.values)}
            raise ApplicationError(message, fields={"purpose": [message]})
        out["purpose"] = values["purpose"]
    if "is_active" in values:
        out["is_active"] = bool(values["is_active"])
    return out


def template_create(
    *,
    actor: User,
    workspace: Workspace,
    name: str,
    subject: str,
    body: str,
    language: str = "zh-hans",
    purpose: str = EmailPurpose.SERVICE,
    is_active: bool = True,
) -> EmailTemplate:
    """Create a template; placeholders are checked now, not when a customer gets it.
    Needs the update right on e-mail (managers, administrators)."""
    permissions.require(actor, EMAIL, Action.UPDATE)
    values = _clean(
        {
            "name": name,
            "subject": subject,
            "body": body,
            "language": language,
            "purpose": purpose,
            "is_active": is_active,
        },
        partial=False,
    )
    check_placeholders(subject=values["subject"], body=values["body"])
    with transaction.atomic():
        template = EmailTemplate.objects.create(workspace=workspace, created_by=actor, **values)
        audit.log_create(actor=actor, instance=template)
    return template


def template_get(*, workspace: Workspace, template_id) -> EmailTemplate:
    try:
        return EmailTemplate.objects.in_workspace(workspace).get(pk=int(template_id))
    except (EmailTemplate.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound() from None


def template_update(
    *, actor: User, workspace: Workspace, template_id: int, **changes
) -> EmailTemplate:
    """Change the fields given; the result's placeholders are checked as on create."""
    permissions.require(actor, EMAIL, Action.UPDATE)
    unknown = set(changes) - {"name", "subject", "body", "language", "purpose", "is_active"}
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    values = _clean(changes, partial=True)
    with transaction.atomic():
        template = template_get(workspace=workspace, template_id=template_id)
        template = (
            EmailTemplate.objects.in_workspace(workspace).select_for_update().get(pk=template.pk)
        )
        before = audit.snapshot(template)
        for field, value in values.items():
            setattr(template, field, value)
        check_placeholders(subject=template.subject, body=template.body)
        template.save()
        audit.log_update(actor=actor, instance=template, before=before)
    return template


def template_delete(*, actor: User, workspace: Workspace, template_id: int) -> None:
    """Delete a template; messages sent with it keep their text."""
    permissions.require(actor, EMAIL, Action.DELETE)
    with transaction.atomic():
        template = template_get(workspace=workspace, template_id=template_id)
        audit.log_delete(actor=actor, instance=template)
        template.delete()
