"""The customers' self-service portal: sign-in by a one-time code, portal sessions, the
knowledge-base searches made there, cases filed and followed by customers, and the
portal's settings.

Sign-in. A visitor types an e-mail address or a mobile number. When it belongs to exactly
one contact of the workspace (the contact's own e-mail or mobile, or a further
``ContactPoint``), a 6-digit code is made — only its HMAC (keyed with ``SECRET_KEY``) is
stored — valid for 10 minutes and 5 tries; a new code voids the contact's older ones. It
goes by e-mail (Django mail through the worker: a sign-in code is no business e-mail, so it
gets no timeline entry) or by SMS (``sms_send``, idempotency key ``portal-code:<id>``).
The visitor sees the same answer whether or not the address is known, and a wrong code,
an expired one, a used one and one that was never sent all get the same message, so
neither step tells a stranger who is a customer. Requests are limited per destination and
per IP address (the same for known and unknown addresses).

Sessions. The right code starts a ``PortalSession``: the cookie holds a random token, the
row its SHA-256. Sessions last 30 days from the last visit (sliding, refreshed at most
every few minutes) and end on sign-out. Each workspace's portal has its own cookie path,
so one person who is a customer of two workspaces has two separate sessions.

Cases. Customers see and write on their own cases only (``contact`` = the session's
contact); the account's other cases stay hidden even from its primary contact.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, FieldErrors, NotFound
from guanxi.customers import normalize
from guanxi.customers.models import Contact, ContactPoint, PointKind
from guanxi.platform import audit, mail, permissions
from guanxi.platform.models import Action, AuditAction, User, Workspace

from ..models import (
    Article,
    ArticleStatus,
    ArticleVisibility,
    Case,
    CaseChannel,
    CaseStatus,
    CaseType,
    PortalCode,
    PortalSearch,
    PortalSession,
    PortalSettings,
)
from ..objects import CONFIGURATION

CODE_DIGITS = 6
CODE_TTL = dt.timedelta(minutes=10)
CODE_TRIES = 5
SESSION_TTL = dt.timedelta(days=30)
# A session's expiry moves on with each visit, written at most this often.
SESSION_TOUCH = dt.timedelta(minutes=5)
# Code requests: per destination and per IP address, in a sliding-ish fixed window.
RATE_WINDOW_SECONDS = 15 * 60
CODES_PER_DESTINATION = 3
CODES_PER_IP = 10
# A case links the visitor's searches of the last half hour (what they tried first).
SEARCH_LINK_WINDOW = dt.timedelta(minutes=30)
QUERY_MAX = 200
WELCOME_MAX = 5000
SEARCH_RESULTS = 10
OBJECT_KEY = "service.portal_code"


# --- settings --------------------------------------------------------------------------------


def portal_settings(workspace: Workspace) -> PortalSettings:
    """The workspace's portal settings (defaults, unsaved, when nobody changed them yet:
    open, no welcome text, every active case type)."""
    row = PortalSettings.objects.in_workspace(workspace).first()
    return row if row is not None else PortalSettings(workspace=workspace)


def portal_case_types(workspace: Workspace, row: PortalSettings | None = None) -> list[CaseType]:
    """The case types customers may file: the chosen ones that are still active, or every
    active type when none was chosen."""
    from .case_types import service_setup

    service_setup(workspace)
    row = row if row is not None else portal_settings(workspace)
    qs = CaseType.objects.in_workspace(workspace).filter(active=True).order_by("position", "id")
    chosen = [int(pk) for pk in row.case_type_ids or [] if str(pk).isdigit()]
    if chosen:
        qs = qs.filter(pk__in=chosen)
    return list(qs)


def portal_settings_update(
    *,
    actor: User,
    workspace: Workspace,
    enabled: bool | None = None,
    welcome: str | None = None,
    case_type_ids: list | None = None,
) -> PortalSettings:
    """Open or close the portal, change its welcome text, choose the case types customers
    may file (an empty list: every active type). Only what is given changes."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    errors = FieldErrors()
    clean: dict = {}
    if enabled is not None:
        clean["enabled"] = bool(enabled)
    if welcome is not None:
        text = str(welcome).strip()
        if "\x00" in text:
            errors.add("welcome", _("Text may not contain NUL characters."))
        elif len(text) > WELCOME_MAX:
            errors.add("welcome", _("At most %(n)s characters.") % {"n": WELCOME_MAX})
        clean["welcome"] = text
    if case_type_ids is not None:
        wanted: list[int] = []
        for raw in case_type_ids:
            try:
                wanted.append(int(getattr(raw, "pk", raw)))
            except (TypeError, ValueError):
                wanted.append(0)
        known = set(
            CaseType.objects.in_workspace(workspace)
            .filter(pk__in=[pk for pk in wanted if pk > 0])
            .values_list("pk", flat=True)
        )
        if any(pk not in known for pk in wanted):
            errors.add("case_type_ids", _("Choose case types of this workspace."))
        clean["case_type_ids"] = sorted(set(wanted))
    errors.raise_if_any()
    with transaction.atomic():
        row = PortalSettings.objects.in_workspace(workspace).select_for_update().first()
        if row is None:
            try:
                with transaction.atomic():
                    row = PortalSettings.objects.create(workspace=workspace, **clean)
            except IntegrityError:  # made meanwhile by another request: change that one
                row = PortalSettings.objects.in_workspace(workspace).select_for_update().get()
            else:
                audit.log_create(actor=actor, instance=row)
                return row
        before = audit.snapshot(row)
        for key, value in clean.items():
            setattr(row, key, value)
        row.save()
        audit.log_update(actor=actor, instance=row, before=before)
    return row


# --- sign-in codes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    kind: str  # "email" or "phone"
    value: str  # lower-case e-mail or E.164 mobile


def destination_parse(raw) -> Destination:
    """An e-mail address (lower case) or a mobile number (E.164) from what a visitor typed;
    ``ApplicationError`` on the ``destination`` field for anything else."""
    text = str(raw or "").strip()
    if not text or "\x00" in text or len(text) > 254:
        raise _bad_destination()
    if "@" in text:
        address = normalize.email(text)
        try:
            validate_email(address)
        except ValidationError:
            raise _bad_destination() from None
        return Destination("email", address)
    try:
        number = normalize.phone(text)
    except normalize.InvalidPhone:
        raise _bad_destination() from None
    parsed = phonenumbers.parse(number, None)
    if phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise _bad_destination()
    return Destination("phone", number)


def _bad_destination() -> ApplicationError:
    message = _("Enter your e-mail address or your mobile number.")
    return ApplicationError(message, code="invalid_destination", fields={"destination": [message]})


def _hash_code(workspace_id: int, destination: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    text = f"portal-code:{workspace_id}:{destination}:{code}".encode()
    return hmac.new(key, text, hashlib.sha256).hexdigest()


def _hit(key: str, limit: int) -> bool:
    """Count one request on ``key``; whether it stays within ``limit`` in the window."""
    cache.add(key, 0, RATE_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW_SECONDS)
        count = 1
    return count <= limit


def _rate_limited() -> ApplicationError:
    return ApplicationError(
        _("Too many codes were asked for. Wait a few minutes, then try again."),
        code="rate_limited",
        status=429,
    )


def contacts_for_destination(workspace: Workspace, destination: Destination) -> list[int]:
    """Ids of the contacts (not erased) that have this e-mail address or mobile number."""
    contacts = Contact.objects.in_workspace(workspace).filter(erased_at__isnull=True)
    if destination.kind == "email":
        direct = Q(email=destination.value)
        kind = PointKind.EMAIL
    else:
        direct = Q(mobile=destination.value)
        kind = PointKind.PHONE
    ids = set(contacts.filter(direct).values_list("pk", flat=True)[:2])
    points = (
        ContactPoint.objects.in_workspace(workspace)
        .filter(kind=kind, value=destination.value, contact__isnull=False)
        .filter(contact__erased_at__isnull=True)
        .values_list("contact_id", flat=True)
    )
    ids.update(points[:2])
    return sorted(ids)


def portal_code_request(
    *, workspace: Workspace, destination: str, ip: str = "", language: str = ""
) -> None:
    """Send a sign-in code to ``destination`` if it belongs to exactly one contact; answer
    the same (nothing) either way. ``ApplicationError`` for a malformed address and, with
    status 429, for too many requests to that address or from that IP address."""
    target = destination_parse(destination)
    digest = hashlib.sha256(target.value.encode()).hexdigest()[:32]
    within_destination = _hit(f"portal:code:dest:{workspace.pk}:{digest}", CODES_PER_DESTINATION)
    within_ip = _hit(f"portal:code:ip:{workspace.pk}:{ip or 'unknown'}", CODES_PER_IP)
    if not (within_destination and within_ip):
        raise _rate_limited()
    contacts = contacts_for_destination(workspace, target)
    if len(contacts) != 1:
        # Unknown, or shared by several people (a family's one address): no code, and no
        # word about it — the page says "if this address is ours, a code is on its way".
        return None
    now = timezone.now()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    with transaction.atomic():
        # A new code voids the contact's older ones (whichever address they went to).
        PortalCode.objects.in_workspace(workspace).filter(
            contact_id=contacts[0], used_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        row = PortalCode.objects.create(
            workspace=workspace,
            contact_id=contacts[0],
            destination=target.value,
            code_hash=_hash_code(workspace.pk, target.value, code),
            expires_at=now + CODE_TTL,
            ip=ip or None,
        )
        _send_code(workspace, row, target, code, language=language)
    return None


def _send_code(workspace, row: PortalCode, target: Destination, code: str, *, language: str):
    from django.utils import translation

    minutes = int(CODE_TTL.total_seconds() // 60)
    lang = language or workspace.language or settings.LANGUAGE_CODE
    if target.kind == "email":
        mail.queue_template_email(
            to=[target.value],
            subject_template="service/portal/email/code_subject.txt",
            body_template="service/portal/email/code_body.txt",
            context={
                "code": code,
                "minutes": minutes,
                "workspace_name": workspace.name,
                "portal_url": mail.absolute_url(reverse("portal:home", args=[workspace.slug])),
            },
            language=lang,
        )
        return
    from guanxi.integrations.sms import sms_send

    with translation.override(lang):
        body = str(
            _("%(name)s: your sign-in code is %(code)s (valid for %(minutes)s minutes).")
            % {"name": workspace.name, "code": code, "minutes": minutes}
        )
    sms_send(
        workspace=workspace,
        phone=target.value,
        body=body,
        purpose="portal_code",
        idempotency_key=f"portal-code:{row.pk}",
        related=(OBJECT_KEY, row.pk),
    )


def _wrong_code() -> ApplicationError:
    message = _("That code is wrong or no longer valid. Check it, or ask for a new one.")
    return ApplicationError(message, code="invalid_code", fields={"code": [message]})


def portal_code_verify(
    *, workspace: Workspace, destination: str, code: str, ip: str = ""
) -> tuple[PortalSession, str]:
    """Check a sign-in code for ``destination``; the right one (unused, not expired, fewer
    than 5 wrong tries before it) starts a portal session. Returns the session and its
    token (for the cookie; only its hash is stored). Every failure is the same
    ``ApplicationError``; a wrong try is counted even so."""
    try:
        target = destination_parse(destination)
    except ApplicationError:
        raise _wrong_code() from None
    entered = "".join(str(code or "").split())
    if len(entered) != CODE_DIGITS or not entered.isdigit():
        raise _wrong_code()
    now = timezone.now()
    with transaction.atomic():
        row = (
            PortalCode.objects.in_workspace(workspace)
            .select_for_update(of=("self",))
            .filter(destination=target.value)
            .select_related("contact")
            .order_by("-id")
            .first()
        )
        if (
            row is None
            or row.used_at is not None
            or row.expires_at <= now
            or row.attempts >= CODE_TRIES
            or row.contact.erased_at is not None
        ):
            ok = False
        elif hmac.compare_digest(row.code_hash, _hash_code(workspace.pk, target.value, entered)):
            ok = True
            row.used_at = now
            row.save(update_fields=["used_at", "updated_at"])
            session, token = _session_start(workspace, row.contact, now=now)
            audit.log(
                actor=None,
                workspace=workspace,
                action=AuditAction.SIGN_IN,
                object_key="customers.contact",
                object_id=row.contact_id,
                object_repr=str(row.contact),
                changes={"portal": ["", "signed in with a one-time code"]},
                ip_address=ip or None,
            )
        else:
            ok = False
            PortalCode.objects.in_workspace(workspace).filter(pk=row.pk).update(
                attempts=F("attempts") + 1
            )
    if not ok:
        raise _wrong_code()
    return session, token


# --- sessions --------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(str(token).encode()).hexdigest()


def _session_start(workspace, contact, *, now) -> tuple[PortalSession, str]:
    token = secrets.token_urlsafe(32)
    session = PortalSession.objects.create(
        workspace=workspace,
        contact=contact,
        token_hash=_token_hash(token),
        expires_at=now + SESSION_TTL,
        last_seen_at=now,
    )
    return session, token


def portal_session_resolve(
    *, workspace: Workspace, token: str, now: dt.datetime | None = None
) -> tuple[PortalSession | None, bool]:
    """The live session of this workspace whose cookie holds ``token`` (with its contact),
    or None; and whether its expiry moved on now (the cookie is then sent again)."""
    if not token or len(token) > 100:
        return None, False
    now = now or timezone.now()
    session = (
        PortalSession.objects.in_workspace(workspace)
        .select_related("contact")
        .filter(
            token_hash=_token_hash(token),
            ended_at__isnull=True,
            expires_at__gt=now,
            contact__erased_at__isnull=True,
        )
        .first()
    )
    if session is None:
        return None, False
    if session.last_seen_at is None or now - session.last_seen_at >= SESSION_TOUCH:
        session.last_seen_at = now
        session.expires_at = now + SESSION_TTL
        PortalSession.objects.in_workspace(workspace).filter(pk=session.pk).update(
            last_seen_at=now, expires_at=session.expires_at
        )
        return session, True
    return session, False


def portal_session_end(*, workspace: Workspace, token: str) -> None:
    """Sign out: the session of this token ends (its cookie is useless from now on)."""
    if not token or len(token) > 100:
        return
    PortalSession.objects.in_workspace(workspace).filter(
        token_hash=_token_hash(token), ended_at__isnull=True
    ).update(ended_at=timezone.now())


# --- knowledge base --------------------------------------------------------------------------


def public_articles(workspace: Workspace):
    """The articles customers may read: published and public."""
    return Article.objects.in_workspace(workspace).filter(
        status=ArticleStatus.PUBLISHED, visibility=ArticleVisibility.PUBLIC
    )


def clean_query(query) -> str:
    text = " ".join(str(query or "").replace("\x00", " ").split())
    return text[:QUERY_MAX]


def portal_search(
    *,
    workspace: Workspace,
    visitor_key: str,
    query: str,
    contact: Contact | None = None,
    limit: int = SEARCH_RESULTS,
) -> tuple[PortalSearch | None, list]:
    """Search the public articles (in every language: a query in Chinese finds the Chinese
    ones) and record the search, for deflection. An empty query finds nothing and records
    nothing. Returns the search row and the hits (``kb_search.ArticleHit``)."""
    from .kb_search import article_search

    text = clean_query(query)
    if not text:
        return None, []
    hits = article_search(workspace=workspace, query=text, public_only=True, limit=limit)
    row = PortalSearch.objects.create(
        workspace=workspace,
        visitor_key=str(visitor_key or "")[:64],
        contact=contact,
        query=text,
        results=min(len(hits), 32767),
    )
    return row, hits


def portal_suggest(
    *,
    workspace: Workspace,
    visitor_key: str,
    text: str,
    contact: Contact | None = None,
    limit: int = 5,
) -> tuple[PortalSearch | None, list]:
    """Articles that may answer what a customer is about to file as a case (their subject
    and description); recorded as a search of the visitor, so a case not filed after it
    counts as deflected."""
    from .kb_search import article_suggest

    words = " ".join(str(text or "").replace("\x00", " ").split())[:2000]
    if not words:
        return None, []
    hits = article_suggest(workspace=workspace, text=words, public_only=True, limit=limit)
    row = PortalSearch.objects.create(
        workspace=workspace,
        visitor_key=str(visitor_key or "")[:64],
        contact=contact,
        query=words[:QUERY_MAX],
        results=min(len(hits), 32767),
    )
    return row, hits


def _visitor_search(workspace, visitor_key: str, search_id) -> PortalSearch | None:
    try:
        pk = int(search_id)
    except (TypeError, ValueError):
        return None
    if pk <= 0 or not visitor_key:
        return None
    return (
        PortalSearch.objects.in_workspace(workspace)
        .filter(pk=pk, visitor_key=visitor_key)
        .select_for_update()
        .first()
    )


def portal_article_opened(
    *, workspace: Workspace, article: Article, visitor_key: str, search_id=None
) -> None:
    """A visitor opened a public article (from a search of theirs: recorded on it)."""
    from .knowledge import article_record_view

    with transaction.atomic():
        article_record_view(workspace=workspace, article_id=article.pk, public_only=True)
        search = _visitor_search(workspace, visitor_key, search_id)
        if search is not None:
            search.opened_article = article
            search.save(update_fields=["opened_article", "updated_at"])


def portal_article_feedback(
    *,
    workspace: Workspace,
    article: Article,
    helpful: bool,
    visitor_key: str,
    search_id=None,
) -> None:
    """ "Did this help?" — counted on the article once per visitor and article a day (the
    first answer), and recorded on the visitor's search when it led there (the last
    answer)."""
    from .knowledge import article_rate

    helpful = bool(helpful)
    key = f"portal:helpful:{workspace.pk}:{visitor_key}:{article.pk}"
    with transaction.atomic():
        if not visitor_key or cache.add(key, helpful, 24 * 60 * 60):
            article_rate(
                workspace=workspace, article_id=article.pk, helpful=helpful, public_only=True
            )
        search = _visitor_search(workspace, visitor_key, search_id)
        if search is not None:
            search.opened_article = article
            search.helpful = helpful
            search.save(update_fields=["opened_article", "helpful", "updated_at"])


# --- cases -----------------------------------------------------------------------------------


def portal_case_get(*, workspace: Workspace, contact: Contact | None, number) -> Case:
    """One of the contact's own cases by its number; ``NotFound`` for anything else (another
    contact's case, another workspace's, nobody signed in)."""
    text = str(number or "").strip()
    if contact is None or not text or len(text) > 30:
        raise NotFound()
    case = (
        Case.objects.in_workspace(workspace)
        .select_related("case_type", "product")
        .filter(number=text, contact=contact)
        .first()
    )
    if case is None:
        raise NotFound()
    return case


def portal_case_file(
    *,
    workspace: Workspace,
    contact: Contact,
    visitor_key: str,
    values: dict,
    language: str = "",
) -> Case:
    """A signed-in customer files a case: a type among those the portal offers, a subject,
    a description and optionally a product of the workspace's active ones. The case is
    the contact's (and their primary account's), by the portal channel; the visitor's
    searches of the last half hour are linked to it."""
    from guanxi.sales.models import Product

    from .cases import case_create

    row = portal_settings(workspace)
    if not row.enabled:
        raise NotFound()
    errors = FieldErrors()
    allowed = {t.pk: t for t in portal_case_types(workspace, row)}
    try:
        type_id = int(values.get("case_type") or 0)
    except (TypeError, ValueError):
        type_id = 0
    if type_id not in allowed:
        errors.add("case_type", _("Choose what kind of help you need."))
    subject = str(values.get("subject") or "").strip()
    description = str(values.get("description") or "").strip()
    if not subject:
        errors.add("subject", _("Say in a few words what it is about."))
    if not description:
        errors.add("description", _("Describe what happened."))
    product = None
    raw_product = values.get("product")
    if raw_product not in (None, ""):
        try:
            product_id = int(raw_product)
        except (TypeError, ValueError):
            product_id = 0
        product = Product.objects.in_workspace(workspace).filter(pk=product_id, active=True).first()
        if product is None:
            errors.add("product", _("Choose a product from the list, or none."))
    errors.raise_if_any()
    now = timezone.now()
    with transaction.atomic():
        case = case_create(
            actor=None,
            workspace=workspace,
            values={
                "case_type": type_id,
                "subject": subject,
                "description": description,
                "product": product.pk if product is not None else None,
            },
            channel=CaseChannel.PORTAL,
            account=contact.account_id,
            contact=contact,
            language=language,
        )
        if visitor_key:
            PortalSearch.objects.in_workspace(workspace).filter(
                visitor_key=visitor_key,
                case__isnull=True,
                created_at__gte=now - SEARCH_LINK_WINDOW,
            ).update(case=case)
    return case


def portal_case_reply(*, workspace: Workspace, contact: Contact | None, number, body: str) -> Case:
    """The customer writes on their own case (a waiting one opens again, a resolved one
    reopens — the cases part decides)."""
    from .cases import case_customer_message

    case = portal_case_get(workspace=workspace, contact=contact, number=number)
    case_customer_message(
        workspace=workspace, case=case, body=body, channel=CaseChannel.PORTAL, contact=contact
    )
    return case


def portal_case_close(*, workspace: Workspace, contact: Contact | None, number) -> Case:
    """ "This is solved": the customer closes their own case. It passes through the steps
    of the status flow it still needs (open, resolved — with "solved, says the customer"
    as its resolution — then closed), each recorded in the case's history."""
    from .cases import FINAL_STATUSES, case_change_status

    case = portal_case_get(workspace=workspace, contact=contact, number=number)
    if case.status in FINAL_STATUSES:
        return case
    resolution = str(_("Solved, says the customer (portal)."))
    steps = {
        CaseStatus.NEW: (CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.CLOSED),
        CaseStatus.WAITING: (CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.CLOSED),
        CaseStatus.OPEN: (CaseStatus.RESOLVED, CaseStatus.CLOSED),
        CaseStatus.RESOLVED: (CaseStatus.CLOSED,),
    }[case.status]
    with transaction.atomic():
        for status in steps:
            case = case_change_status(
                actor=None,
                workspace=workspace,
                case_id=case.pk,
                status=status,
                resolution=resolution if status == CaseStatus.RESOLVED else "",
            )
    return case
