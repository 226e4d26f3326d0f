"""``/email-templates``, ``/emails`` (send, list, read, attachments, triage) and
``/mailboxes`` (administrators). Every endpoint calls the services the pages call."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import FileResponse, Http404
from ninja import Field, Query, Router, Schema, Status

from guanxi.common.api import Id, PageParams, PatchSchema, page_of, page_response, responses, text
from guanxi.common.views import actor_scope
from guanxi.platform.api.common import _admin_scope

from ..models import EmailDirection, EmailPurpose, EmailStatus
from ..selectors import email as email_selectors
from ..services import email_in, email_mailboxes, email_out, email_templates

router = Router(tags=["E-mail"])
TAGS = ["E-mail"]

PurposeIn = Literal[tuple(EmailPurpose.values)]  # type: ignore[valid-type]
LanguageIn = Literal[tuple(code for code, _label in email_templates.LANGUAGES)]  # type: ignore[valid-type]


# --- schemas -------------------------------------------------------------------------------


class TemplateIn(Schema):
    name: text(100, min_length=1)
    subject: text(200, min_length=1)
    body: text(20000, min_length=1)
    language: LanguageIn = "zh-hans"
    purpose: PurposeIn = "service"
    is_active: bool = True


class TemplatePatch(PatchSchema):
    name: text(100, min_length=1) | None = None
    subject: text(200, min_length=1) | None = None
    body: text(20000, min_length=1) | None = None
    language: LanguageIn | None = None
    purpose: PurposeIn | None = None
    is_active: bool | None = None


class TemplateOut(Schema):
    id: int
    name: str
    language: str
    purpose: str
    subject: str
    body: str
    is_active: bool


class SendIn(Schema):
    contact_id: Id | None = None
    account_id: Id | None = None
    to: list[text(254)] = Field(default_factory=list, max_length=20)
    cc: list[text(254)] = Field(default_factory=list, max_length=20)
    subject: text(300) = ""
    body: text(100_000) = ""
    template_id: Id | None = None
    purpose: PurposeIn = "service"
    in_reply_to_id: Id | None = Field(None, description="Our message this one answers.")


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class EmailOut(Schema):
    id: int
    direction: str
    status: str
    purpose: str
    message_id: str
    in_reply_to: str
    thread_root: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    body_text: str
    has_html: bool
    contact_id: int | None
    account_id: int | None
    sender_id: int | None
    assigned_to_id: int | None
    sent_at: dt.datetime | None
    received_at: dt.datetime | None
    created_at: dt.datetime
    error: str
    attachments: list[AttachmentOut]


class EmailFilters(Schema):
    contact_id: Id | None = None
    account_id: Id | None = None
    status: Literal[tuple(EmailStatus.values)] | None = None  # type: ignore[valid-type]
    direction: Literal[tuple(EmailDirection.values)] | None = None  # type: ignore[valid-type]


class FileIn(Schema):
    contact_id: Id | None = None
    account_id: Id | None = None
    add_address: bool = Field(False, description="Also add the sender's address to the contact.")


class MailboxIn(Schema):
    name: text(100, min_length=1)
    address: text(254, min_length=3)
    host: text(200, min_length=1)
    port: int = Field(993, ge=1, le=65535)
    use_ssl: bool = True
    username: text(200, min_length=1)
    password: text(200, min_length=1)
    folder: text(200, min_length=1) = "INBOX"
    is_active: bool = True
    triage_owner_id: Id | None = None


class MailboxPatch(PatchSchema):
    name: text(100, min_length=1) | None = None
    address: text(254, min_length=3) | None = None
    host: text(200, min_length=1) | None = None
    port: int | None = Field(None, ge=1, le=65535)
    use_ssl: bool | None = None
    username: text(200, min_length=1) | None = None
    password: text(200, min_length=1) | None = None
    folder: text(200, min_length=1) | None = None
    is_active: bool | None = None
    triage_owner_id: Id | None = None


class MailboxOut(Schema):
    """The password is never sent back."""

    id: int
    name: str
    address: str
    host: str
    port: int
    use_ssl: bool
    username: str
    folder: str
    is_active: bool
    triage_owner_id: int | None
    last_uid: int
    last_fetched_at: dt.datetime | None
    last_error: str


class MailboxTestOut(Schema):
    ok: bool
    messages: int | None


def _email_out(email) -> dict:
    return {
        **{
            f: getattr(email, f)
            for f in (
                "id",
                "direction",
                "status",
                "purpose",
                "message_id",
                "in_reply_to",
                "thread_root",
                "from_address",
                "from_name",
                "to",
                "cc",
                "subject",
                "body_text",
                "contact_id",
                "account_id",
                "sender_id",
                "assigned_to_id",
                "sent_at",
                "received_at",
                "created_at",
                "error",
            )
        },
        "has_html": bool(email.body_html),
        "attachments": list(email.attachments.all()),
    }


# --- templates -------------------------------------------------------------------------------


@router.get(
    "/email-templates",
    response=responses(page_of(TemplateOut)),
    tags=TAGS,
    operation_id="email_templates_list",
    summary="List e-mail templates",
)
def templates_list(request, page: Query[PageParams]):
    return page_response(email_selectors.template_list(**actor_scope(request)), page)


@router.post(
    "/email-templates",
    response=responses(TemplateOut, status=201),
    tags=TAGS,
    operation_id="email_templates_create",
    summary="Create a template (placeholders are checked: 400 unknown_placeholder)",
)
def templates_create(request, payload: TemplateIn):
    return Status(201, email_templates.template_create(**actor_scope(request), **payload.dict()))


@router.get(
    "/email-templates/{template_id}",
    response=responses(TemplateOut),
    tags=TAGS,
    operation_id="email_templates_get",
    summary="Get a template",
)
def templates_get(request, template_id: Id):
    return email_selectors.template_get(**actor_scope(request), template_id=template_id)


@router.patch(
    "/email-templates/{template_id}",
    response=responses(TemplateOut),
    tags=TAGS,
    operation_id="email_templates_update",
    summary="Change a template",
)
def templates_update(request, template_id: Id, payload: TemplatePatch):
    return email_templates.template_update(
        **actor_scope(request), template_id=template_id, **payload.changes()
    )


@router.delete(
    "/email-templates/{template_id}",
    response=responses(None, status=204),
    tags=TAGS,
    operation_id="email_templates_delete",
    summary="Delete a template",
)
def templates_delete(request, template_id: Id):
    email_templates.template_delete(**actor_scope(request), template_id=template_id)
    return Status(204, None)


# --- messages ----------------------------------------------------------------------------------


@router.post(
    "/emails",
    response=responses(EmailOut, status=201),
    tags=TAGS,
    operation_id="emails_send",
    summary="Send an e-mail to a customer (queued; the worker sends it)",
    description="400 `no_marketing_consent` for marketing mail to a contact without e-mail "
    "marketing consent (one-to-one service mail is allowed); 400 `invalid_address`, "
    "`no_recipient`, `unknown_placeholder`.",
)
def emails_send(request, payload: SendIn):
    email = email_out.email_send(**actor_scope(request), **payload.dict())
    return Status(201, _email_out(email))


@router.get(
    "/emails",
    response=responses(page_of(EmailOut)),
    tags=TAGS,
    operation_id="emails_list",
    summary="List e-mails, newest first (filter by customer, status, direction)",
)
def emails_list(request, filters: Query[EmailFilters], page: Query[PageParams]):
    qs = email_selectors.email_list(**actor_scope(request)).prefetch_related("attachments")
    for name in ("contact_id", "account_id", "status", "direction"):
        value = getattr(filters, name)
        if value is not None:
            qs = qs.filter(**{name: value})
    return page_response(qs, page, _email_out, key="created_at", descending=True)


@router.get(
    "/emails/{email_id}",
    response=responses(EmailOut),
    tags=TAGS,
    operation_id="emails_get",
    summary="Get an e-mail",
)
def emails_get(request, email_id: Id):
    return _email_out(email_selectors.email_get(**actor_scope(request), email_id=email_id))


@router.get(
    "/emails/{email_id}/attachments/{attachment_id}",
    response=responses(None),
    tags=TAGS,
    operation_id="emails_attachment",
    summary="Download an attachment",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def emails_attachment(request, email_id: Id, attachment_id: Id):
    _email, attachment = email_selectors.attachment_get(
        **actor_scope(request), email_id=email_id, attachment_id=attachment_id
    )
    try:
        handle = attachment.file.open("rb")
    except OSError:
        raise Http404() from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.filename,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.get(
    "/email-triage",
    response=responses(page_of(EmailOut)),
    tags=TAGS,
    operation_id="emails_triage",
    summary="Messages waiting to be filed (yours, or all for managers), newest first",
)
def emails_triage(request, page: Query[PageParams]):
    qs = email_selectors.triage_list(**actor_scope(request))
    return page_response(qs, page, _email_out, key="created_at", descending=True)


@router.post(
    "/emails/{email_id}/file",
    response=responses(EmailOut),
    tags=TAGS,
    operation_id="emails_file",
    summary="File a triaged message to a contact or account (409 not_in_triage)",
)
def emails_file(request, email_id: Id, payload: FileIn):
    return _email_out(
        email_in.email_file(**actor_scope(request), email_id=email_id, **payload.dict())
    )


@router.post(
    "/emails/{email_id}/dismiss",
    response=responses(EmailOut),
    tags=TAGS,
    operation_id="emails_dismiss",
    summary="Dismiss a triaged message (spam)",
)
def emails_dismiss(request, email_id: Id):
    return _email_out(email_in.email_dismiss(**actor_scope(request), email_id=email_id))


# --- mailboxes (administrators) ------------------------------------------------------------------


@router.get(
    "/mailboxes",
    response=responses(page_of(MailboxOut)),
    tags=TAGS,
    operation_id="mailboxes_list",
    summary="List mailboxes (administrators)",
)
def mailboxes_list(request, page: Query[PageParams]):
    _admin_scope(request)
    return page_response(email_selectors.mailbox_list(**actor_scope(request)), page)


@router.get(
    "/mailboxes/{mailbox_id}",
    response=responses(MailboxOut),
    tags=TAGS,
    operation_id="mailboxes_get",
    summary="Get a mailbox (administrators; never its password)",
)
def mailboxes_get(request, mailbox_id: Id):
    _admin_scope(request)
    return email_selectors.mailbox_get(**actor_scope(request), mailbox_id=mailbox_id)


@router.post(
    "/mailboxes",
    response=responses(MailboxOut, status=201),
    tags=TAGS,
    operation_id="mailboxes_create",
    summary="Add a mailbox to fetch (administrators)",
)
def mailboxes_create(request, payload: MailboxIn):
    _admin_scope(request)
    return Status(201, email_mailboxes.mailbox_create(**actor_scope(request), **payload.dict()))


@router.patch(
    "/mailboxes/{mailbox_id}",
    response=responses(MailboxOut),
    tags=TAGS,
    operation_id="mailboxes_update",
    summary="Change a mailbox (administrators)",
)
def mailboxes_update(request, mailbox_id: Id, payload: MailboxPatch):
    _admin_scope(request)
    return email_mailboxes.mailbox_update(
        **actor_scope(request), mailbox_id=mailbox_id, **payload.changes()
    )


@router.delete(
    "/mailboxes/{mailbox_id}",
    response=responses(None, status=204),
    tags=TAGS,
    operation_id="mailboxes_delete",
    summary="Delete a mailbox (administrators)",
)
def mailboxes_delete(request, mailbox_id: Id):
    _admin_scope(request)
    email_mailboxes.mailbox_delete(**actor_scope(request), mailbox_id=mailbox_id)
    return Status(204, None)


@router.post(
    "/mailboxes/{mailbox_id}/test",
    response=responses(MailboxTestOut),
    tags=TAGS,
    operation_id="mailboxes_test",
    summary="Log in and open the folder (409 imap_failed with the server's reason)",
)
def mailboxes_test(request, mailbox_id: Id):
    _admin_scope(request)
    return email_mailboxes.mailbox_test(**actor_scope(request), mailbox_id=mailbox_id)


@router.post(
    "/mailboxes/{mailbox_id}/fetch",
    response=responses(MailboxOut, status=202),
    tags=TAGS,
    operation_id="mailboxes_fetch",
    summary="Start a fetch of the mailbox now",
)
def mailboxes_fetch(request, mailbox_id: Id):
    _admin_scope(request)
    return Status(
        202, email_mailboxes.mailbox_fetch_now(**actor_scope(request), mailbox_id=mailbox_id)
    )
