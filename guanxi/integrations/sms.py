"""SMS: the one way the application sends a text message, and where incoming ones land.

Sending. ``sms_send`` writes an outbound ``SmsMessage`` (state *queued*) and enqueues its
delivery when the transaction commits; the same idempotency key returns the row made the
first time and sends nothing more. The worker's ``deliver`` claims the row (*queued* →
*sending*, a conditional UPDATE) before it talks to the provider and marks it *sent* or
*failed* after. ``sweep`` re-queues rows whose task was lost and fails rows left in
*sending* by a worker that died: nobody can know whether the provider took those, and a
customer getting the same text twice is worse than a visible "may not have been sent".

Providers. A workspace's active ``ProviderAccount`` of kind *sms* says which provider sends
its messages; without one, ``console`` does (it logs the text, which is what development
wants). ``webhook`` is the generic shape of cloud SMS gateways: we POST
``{"to", "text", "id"}`` as JSON to ``options["send_url"]``, signed with the account's
secret (see ``signatures``), and a 2xx answer means the gateway took it. Further providers
are classes named in the ``SMS_PROVIDERS`` setting (``{"name": "dotted.path.Class"}``).

Receiving. The provider POSTs to ``/hooks/sms/<public key>/`` (``views``); a valid request
stores one inbound row per provider message id (``sms_receive``) and hands it to the
inbound handlers the higher apps registered (``register_inbound_handler``) — integrations
sits below them and imports none of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import phonenumbers
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError
from guanxi.platform import registry

from . import providers, signatures
from .models import ProviderAccount, ProviderKind, SmsDirection, SmsMessage, SmsState

logger = logging.getLogger(__name__)

DEFAULT_REGION = "CN"
BODY_MAX = 1000  # about 15 Chinese segments; longer texts belong in e-mail or a link
PURPOSE_MAX = 40
IDEMPOTENCY_KEY_MAX = 120
# A row still "sending" after this long belongs to a worker that died mid-send.
STUCK_AFTER = dt.timedelta(minutes=10)
# A queued row this old has lost its task (the queue was flushed, the worker was down).
REQUEUE_AFTER = dt.timedelta(minutes=5)
HTTP_TIMEOUT = 10
PROVIDER_CHOICES = (("console", _("Console (development)")), ("webhook", _("Webhook")))


# --- phone numbers ---------------------------------------------------------------------------


def phone_e164(raw, *, region: str = DEFAULT_REGION) -> str | None:
    """``raw`` as E.164 (+8613812345678), or None when it is not a valid number."""
    text = str(raw or "").strip()
    if not text or len(text) > 40:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_phone(raw, *, field: str = "phone") -> str:
    """``raw`` as E.164, or an ``ApplicationError`` on ``field`` saying it is no number."""
    number = phone_e164(raw)
    if number is None:
        message = _("“%(value)s” is not a valid phone number.") % {"value": str(raw or "")[:40]}
        raise ApplicationError(message, code="invalid_phone", fields={field: [message]})
    return number


# --- providers -------------------------------------------------------------------------------


class SmsNotSent(Exception):
    """The provider certainly did not take the message. ``retryable``: worth another try
    (it could not be reached, or said "busy")."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


class SmsProvider:
    """A way of sending texts. ``send`` returns the provider's id of the message (may be
    empty) or raises ``SmsNotSent``; any other exception means "it may have gone", and the
    message is not sent again."""

    name = ""

    def __init__(self, account: ProviderAccount | None):
        self.account = account

    @property
    def options(self) -> dict:
        return dict(self.account.options or {}) if self.account is not None else {}

    def send(self, message: SmsMessage) -> str:  # pragma: no cover - the interface
        raise NotImplementedError


class ConsoleProvider(SmsProvider):
    """Development: the text goes to the log; it counts as sent."""

    name = "console"

    def send(self, message: SmsMessage) -> str:
        logger.info("SMS to %s (%s): %s", message.phone, message.purpose or "-", message.body)
        return f"console-{message.pk}"


class WebhookProvider(SmsProvider):
    """The generic gateway: a signed JSON POST to ``options["send_url"]``; 2xx is sent."""

    name = "webhook"

    def send(self, message: SmsMessage) -> str:
        url = str(self.options.get("send_url") or "").strip()
        if not url.lower().startswith(("http://", "https://")):
            raise SmsNotSent("the SMS provider has no send URL (http or https)")
        payload = {"to": message.phone, "text": message.body, "id": str(message.pk)}
        sender = str(self.options.get("sender") or "").strip()
        if sender:
            payload["from"] = sender
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        headers.update(signatures.signed_headers(self.account.secret, body))
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
                answer = response.read(10_000)
                status = response.status
        except urllib.error.HTTPError as exc:
            # The gateway answered and refused: "busy" is worth another try, the rest not.
            raise SmsNotSent(
                f"the SMS provider answered {exc.code}", retryable=exc.code in (429, 503)
            ) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ConnectionRefusedError | socket.gaierror):
                # Nothing left this machine: certainly not sent.
                raise SmsNotSent(
                    f"the SMS provider could not be reached: {reason}", retryable=True
                ) from None
            raise
        if not 200 <= status < 300:
            raise SmsNotSent(f"the SMS provider answered {status}")
        try:
            provider_id = str(json.loads(answer or b"{}").get("id") or "")
        except (ValueError, AttributeError):
            provider_id = ""
        return provider_id[:100]


_builtin_providers: dict[str, type[SmsProvider]] = {
    ConsoleProvider.name: ConsoleProvider,
    WebhookProvider.name: WebhookProvider,
}


def provider_class(name: str) -> type[SmsProvider] | None:
    """The provider class of ``name``: the built-in ones, then the ``SMS_PROVIDERS`` setting."""
    return providers.provider_class(_builtin_providers, "SMS_PROVIDERS", name)


def provider_names() -> list[str]:
    return providers.provider_names(_builtin_providers, "SMS_PROVIDERS")


def sms_account(workspace) -> ProviderAccount | None:
    """The workspace's active SMS provider account, or None (then ``console`` sends)."""
    return providers.active_account(workspace, ProviderKind.SMS)


def provider_for(workspace) -> SmsProvider:
    account = sms_account(workspace)
    name = account.provider if account is not None else ConsoleProvider.name
    cls = provider_class(name)
    if cls is None:
        raise SmsNotSent(f"unknown SMS provider {name!r}")
    return cls(account)


# --- sending ---------------------------------------------------------------------------------


def _normalise_key(key: str) -> str:
    key = str(key or "").strip()
    if len(key) <= IDEMPOTENCY_KEY_MAX:
        return key
    # Long keys stay idempotent: the same long key always hashes to the same short one.
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _related(related) -> tuple[str, int | None]:
    if related is None:
        return "", None
    if isinstance(related, tuple | list):
        key, pk = related
        return str(key)[:60], int(pk)
    if isinstance(related, models.Model):
        key = registry.key_for_model(type(related)) or related._meta.label_lower
        return key[:60], related.pk
    raise TypeError("related is a model instance or an (object key, id) pair")


def _body(body) -> str:
    text = str(body or "")
    if "\x00" in text:
        message = _("Text may not contain NUL characters.")
        raise ApplicationError(message, fields={"body": [message]})
    text = text.strip()
    if not text:
        message = _("This field is required.")
        raise ApplicationError(message, fields={"body": [message]})
    if len(text) > BODY_MAX:
        message = _("At most %(n)s characters.") % {"n": BODY_MAX}
        raise ApplicationError(message, fields={"body": [message]})
    return text


def sms_send(
    *,
    workspace,
    phone: str,
    body: str,
    purpose: str,
    idempotency_key: str,
    related=None,
) -> SmsMessage:
    """Queue one text to ``phone`` (any form phonenumbers reads; region CN by default) and
    send it after commit. The same ``idempotency_key`` in the workspace returns the row
    written the first time — whatever else differs — and sends nothing more.

    ``related`` is what it is about: a model instance (a case, a portal code) or an
    ``(object key, id)`` pair. ``purpose`` is a short word for the outbox ("case_ack",
    "portal_code", "survey"). The caller checks rights and consent; this function sends.
    Raises ``ApplicationError`` for a bad number, an empty or too long text, or no key.
    """
    key = _normalise_key(idempotency_key)
    if not key:
        raise ApplicationError(
            _("An idempotency key is required to send a text message."), code="no_idempotency_key"
        )
    existing = SmsMessage.objects.in_workspace(workspace).filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    number = normalise_phone(phone)
    text = _body(body)
    related_key, related_id = _related(related)
    account = sms_account(workspace)
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint, so a lost race leaves no broken tx
                message = SmsMessage.objects.create(
                    workspace_id=getattr(workspace, "pk", workspace),
                    direction=SmsDirection.OUTBOUND,
                    state=SmsState.QUEUED,
                    phone=number,
                    body=text,
                    purpose=str(purpose or "")[:PURPOSE_MAX],
                    idempotency_key=key,
                    provider=account.provider if account is not None else ConsoleProvider.name,
                    related_object_key=related_key,
                    related_object_id=related_id,
                )
        except IntegrityError:
            return SmsMessage.objects.in_workspace(workspace).get(idempotency_key=key)
        transaction.on_commit(partial(enqueue_send, message.pk))
    return message


def enqueue_send(sms_id: int) -> None:
    from .sms_jobs import send_sms_message

    send_sms_message(sms_id)


def _claim(sms_id: int) -> SmsMessage | None:
    """Move one queued outbound row to *sending*, or None if another worker has it or it is
    done. The conditional UPDATE is the guard on every database; ``skip_locked`` spares a
    second PostgreSQL worker the wait."""
    rows = SmsMessage.objects.across_workspaces()
    with transaction.atomic():
        row = (
            rows.select_for_update(skip_locked=True)
            .filter(pk=sms_id, direction=SmsDirection.OUTBOUND, state=SmsState.QUEUED)
            .first()
        )
        if row is None:
            return None
        claimed = rows.filter(pk=sms_id, state=SmsState.QUEUED).update(
            state=SmsState.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
        )
        if not claimed:
            return None
    row.state = SmsState.SENDING
    row.attempts += 1
    return row


def _mark(sms_id: int, state: str, **fields) -> None:
    SmsMessage.objects.across_workspaces().filter(pk=sms_id, state=SmsState.SENDING).update(
        state=state, updated_at=timezone.now(), **fields
    )


def deliver(sms_id: int, *, retries_left: int = 0) -> str:
    """Send one queued text (the worker's task). Returns the state it ended in, or
    ``"skipped"`` when the row is not queued (claimed, done, or not ours to send).

    Only what certainly sent nothing (``SmsNotSent(retryable=True)``) is retried, by raising
    with the row queued again. Anything else the provider raises may have delivered the
    text: that row fails with a message saying so and is never sent again."""
    message = _claim(sms_id)
    if message is None:
        return "skipped"
    try:
        provider = provider_for(message.workspace_id)
        provider_id = provider.send(message)
    except SmsNotSent as exc:
        if exc.retryable and retries_left > 0:
            _mark(sms_id, SmsState.QUEUED, error=str(exc)[:300])
            raise
        _mark(sms_id, SmsState.FAILED, error=str(exc)[:300])
        return SmsState.FAILED
    except Exception as exc:
        logger.exception("SMS %s: the provider failed while sending", sms_id)
        note = _(
            "The provider failed while sending; this message may have been delivered. "
            "It is not sent again automatically."
        )
        _mark(sms_id, SmsState.FAILED, error=f"{note} ({type(exc).__name__})"[:300])
        return SmsState.FAILED
    _mark(
        sms_id,
        SmsState.SENT,
        sent_at=timezone.now(),
        error="",
        provider=provider.name,
        provider_message_id=str(provider_id or "")[:100],
    )
    return SmsState.SENT


def sweep(*, now: dt.datetime | None = None) -> dict[str, list[int]]:
    """Fail outbound rows stuck in *sending* (never re-sent) and re-queue queued rows whose
    task was lost, in every workspace. Returns the ids of each."""
    now = now or timezone.now()
    rows = SmsMessage.objects.across_workspaces().filter(direction=SmsDirection.OUTBOUND)
    stuck = list(
        rows.filter(state=SmsState.SENDING, updated_at__lt=now - STUCK_AFTER)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )
    if stuck:
        rows.filter(pk__in=stuck, state=SmsState.SENDING).update(
            state=SmsState.FAILED,
            updated_at=now,
            error=str(
                _(
                    "The worker stopped while sending; this message may not have been sent. "
                    "It is not sent again automatically."
                )
            )[:300],
        )
    lost = list(
        rows.filter(state=SmsState.QUEUED, updated_at__lt=now - REQUEUE_AFTER)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )
    for sms_id in lost:
        # Touch the row so the next sweep waits again; the claim makes a double enqueue
        # harmless.
        if rows.filter(pk=sms_id, state=SmsState.QUEUED).update(updated_at=now):
            enqueue_send(sms_id)
    if stuck or lost:
        logger.warning("SMS sweep: %s failed as stuck, %s re-queued", len(stuck), len(lost))
    return {"failed": stuck, "requeued": lost}


# --- receiving -------------------------------------------------------------------------------

InboundHandler = Callable[[SmsMessage], bool]


@dataclass(frozen=True)
class _Registered:
    key: str
    handler: InboundHandler
    order: int


_inbound_handlers: dict[str, _Registered] = {}


def register_inbound_handler(key: str, handler: InboundHandler, *, order: int = 100) -> None:
    """Have ``handler(message) -> bool`` see every stored inbound text, lowest ``order``
    first; the first that returns True took it and the rest are not asked. A handler runs in
    the transaction that stores the message (inside its own savepoint): an
    ``ApplicationError`` it raises is logged and the next handler is asked; anything else
    rolls the whole request back, so the provider's retry gets another chance."""
    _inbound_handlers[key] = _Registered(key=key, handler=handler, order=order)


def unregister_inbound_handler(key: str) -> None:
    _inbound_handlers.pop(key, None)


def inbound_handlers() -> list[_Registered]:
    return sorted(_inbound_handlers.values(), key=lambda r: (r.order, r.key))


@dataclass(frozen=True)
class Received:
    message: SmsMessage
    created: bool
    handled_by: str = ""


def sms_receive(
    *,
    account: ProviderAccount,
    sender: str,
    text: str,
    provider_message_id: str,
    received_at: dt.datetime | None = None,
) -> Received:
    """Store one incoming text for ``account``'s workspace — once per provider message id
    (a replay returns the stored row with ``created=False`` and runs nothing) — and hand it
    to the inbound handlers. The sender is kept in E.164 when it is a valid number, as
    given otherwise (short codes)."""
    workspace_id = account.workspace_id
    provider_id = str(provider_message_id or "").strip()[:100]
    phone = phone_e164(sender) or str(sender or "").strip()[:32]
    body = str(text or "").replace("\x00", "").strip()[:10_000]
    rows = SmsMessage.objects.in_workspace(workspace_id)
    if provider_id:
        existing = rows.filter(
            direction=SmsDirection.INBOUND,
            provider=account.provider,
            provider_message_id=provider_id,
        ).first()
        if existing is not None:
            return Received(message=existing, created=False)
    with transaction.atomic():
        try:
            with transaction.atomic():
                message = SmsMessage.objects.create(
                    workspace_id=workspace_id,
                    direction=SmsDirection.INBOUND,
                    state=SmsState.RECEIVED,
                    phone=phone,
                    body=body,
                    provider=account.provider,
                    provider_message_id=provider_id,
                    sent_at=received_at or timezone.now(),
                )
        except IntegrityError:
            existing = rows.get(
                direction=SmsDirection.INBOUND,
                provider=account.provider,
                provider_message_id=provider_id,
            )
            return Received(message=existing, created=False)
        handled_by = _hand_over(message)
    return Received(message=message, created=True, handled_by=handled_by)


def _hand_over(message: SmsMessage) -> str:
    for registered in inbound_handlers():
        try:
            with transaction.atomic():
                taken = registered.handler(message)
        except ApplicationError as exc:
            logger.warning(
                "SMS %s: inbound handler %s refused it: %s", message.pk, registered.key, exc
            )
            continue
        if taken:
            return registered.key
    return ""


def sms_link(message: SmsMessage, *, object_key: str, object_id: int) -> None:
    """Record on an inbound message what a handler made of it (a case)."""
    SmsMessage.objects.in_workspace(message.workspace_id).filter(pk=message.pk).update(
        related_object_key=object_key[:60], related_object_id=object_id
    )
    message.related_object_key = object_key[:60]
    message.related_object_id = object_id
