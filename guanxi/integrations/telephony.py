"""Telephony: the one way the application places a call, and where call events land.

Providers. A workspace's active ``ProviderAccount`` of kind *telephony* says which provider
places its calls; without one, ``console`` does (it logs the call, which is what
development wants). ``webhook`` is the generic shape of cloud call centres: to place a call
we POST ``{"agent", "number", "id"}`` as JSON to ``options["url"]``, signed with the
account's secret (see ``signatures``); a 2xx answer means the switch took it, and its
``{"call_id"}`` (when given) names the call in the events that follow. Further providers
are classes named in the ``TELEPHONY_PROVIDERS`` setting (``{"name": "dotted.path.Class"}``).

Events. The provider POSTs each event of a call (ringing, answered, ended, dialing) to
``/hooks/telephony/<public key>/`` (``telephony_views``). A valid request becomes a
``CallEventData`` and is handed to the handler the service registered
(``register_event_handler``): integrations sits below the service and imports none of it;
the handler stores the event once per ``event_id`` and pops the caller's page.
``ConsoleProvider.simulate_incoming`` hands the handler the same thing without HTTP, so a
developer sees a pop with no provider at all.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError

from . import providers, signatures
from .models import ProviderAccount, ProviderKind
from .sms import phone_e164

logger = logging.getLogger(__name__)

HTTP_TIMEOUT = 10
PROVIDER_CHOICES = (("console", _("Console (development)")), ("webhook", _("Webhook")))
KINDS = ("ringing", "answered", "ended", "dialing")
DIRECTIONS = ("in", "out")
ID_MAX = 100
NUMBER_MAX = 32
OUTCOME_MAX = 40
URL_MAX = 500


@dataclass(frozen=True)
class CallEventData:
    """One event of one call, as the provider told it (numbers in E.164 where they parse,
    as given otherwise: "anonymous", a short code)."""

    event_id: str
    call_id: str
    kind: str
    direction: str = "in"
    caller: str = ""
    callee: str = ""
    agent: str = ""  # the provider's name of the agent: an extension or an agent id
    occurred_at: dt.datetime | None = None
    duration_seconds: int | None = None
    outcome: str = ""
    recording_url: str = ""
    payload: dict = field(default_factory=dict)


def clean_number(raw) -> str:
    """A phone number in E.164 when it is one, else the text as given (at most 32)."""
    text = str(raw or "").replace("\x00", "").strip()
    return phone_e164(text) or text[:NUMBER_MAX]


# --- providers -------------------------------------------------------------------------------


class CallNotPlaced(Exception):
    """The provider certainly did not place the call."""


class TelephonyProvider:
    """A way of placing calls. ``dial`` rings the agent's phone (``agent``: their extension
    or number) and connects it to ``number``; it returns the provider's call id or raises
    ``CallNotPlaced``."""

    name = ""

    def __init__(self, account: ProviderAccount | None):
        self.account = account

    @property
    def options(self) -> dict:
        return dict(self.account.options or {}) if self.account is not None else {}

    def dial(self, *, agent: str, number: str) -> str:  # pragma: no cover - the interface
        raise NotImplementedError


class ConsoleProvider(TelephonyProvider):
    """Development: the call goes to the log and counts as placed. ``simulate_incoming``
    plays an incoming call through the same handler the webhook uses."""

    name = "console"

    def dial(self, *, agent: str, number: str) -> str:
        call_id = f"console-{uuid.uuid4().hex[:16]}"
        logger.info("Call %s: agent %s dials %s", call_id, agent or "-", number)
        return call_id

    def simulate_incoming(self, *, caller: str, agent: str) -> Received:
        """Hand the handler a ringing event from ``caller`` for ``agent`` (an extension),
        as if the provider had POSTed it; returns what the handler made of it."""
        if self.account is None:
            raise CallNotPlaced("simulating a call needs the workspace's telephony account")
        call_id = f"console-{uuid.uuid4().hex[:16]}"
        event = CallEventData(
            event_id=f"{call_id}-ringing",
            call_id=call_id,
            kind="ringing",
            direction="in",
            caller=clean_number(caller),
            agent=str(agent or "")[:ID_MAX],
            payload={"simulated": True},
        )
        return receive_event(account=self.account, event=event)


class WebhookProvider(TelephonyProvider):
    """The generic call centre: a signed JSON POST to ``options["url"]``; 2xx is placed."""

    name = "webhook"

    def dial(self, *, agent: str, number: str) -> str:
        url = str(self.options.get("url") or "").strip()
        if not url.lower().startswith(("http://", "https://")):
            raise CallNotPlaced("the telephony provider has no URL (http or https)")
        request_id = uuid.uuid4().hex
        payload = {"agent": agent, "number": number, "id": request_id}
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        headers.update(signatures.signed_headers(self.account.secret, body))
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
                answer = response.read(10_000)
                status = response.status
        except urllib.error.HTTPError as exc:
            raise CallNotPlaced(f"the telephony provider answered {exc.code}") from None
        except urllib.error.URLError as exc:
            # Placing a call twice is harmless (the agent's phone rings, they hang up), so
            # any failure to talk to the switch is "not placed": the agent can try again.
            raise CallNotPlaced(
                f"the telephony provider could not be reached: {exc.reason}"
            ) from None
        except TimeoutError:
            raise CallNotPlaced("the telephony provider did not answer in time") from None
        if not 200 <= status < 300:
            raise CallNotPlaced(f"the telephony provider answered {status}")
        try:
            call_id = str(json.loads(answer or b"{}").get("call_id") or "")
        except (ValueError, AttributeError):
            call_id = ""
        # Without its own id the call is known by ours (the provider echoes it in events).
        return (call_id or request_id)[:ID_MAX]


_builtin_providers: dict[str, type[TelephonyProvider]] = {
    ConsoleProvider.name: ConsoleProvider,
    WebhookProvider.name: WebhookProvider,
}


def provider_class(name: str) -> type[TelephonyProvider] | None:
    """The provider class of ``name``: the built-in ones, then ``TELEPHONY_PROVIDERS``."""
    return providers.provider_class(_builtin_providers, "TELEPHONY_PROVIDERS", name)


def provider_names() -> list[str]:
    return providers.provider_names(_builtin_providers, "TELEPHONY_PROVIDERS")


def telephony_account(workspace) -> ProviderAccount | None:
    """The workspace's active telephony account, or None (then nobody can click to call)."""
    return providers.active_account(workspace, ProviderKind.TELEPHONY)


def provider_for(account: ProviderAccount | None) -> TelephonyProvider:
    name = account.provider if account is not None else ConsoleProvider.name
    cls = provider_class(name)
    if cls is None:
        raise CallNotPlaced(f"unknown telephony provider {name!r}")
    return cls(account)


# --- events ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """What the handler made of an event: ``created`` False for a replay (nothing done);
    ``event_pk`` the stored row; ``popped`` how many screen pops it caused."""

    created: bool
    event_pk: int | None = None
    popped: int = 0


EventHandler = Callable[[ProviderAccount, CallEventData], Received]
_handler: dict[str, EventHandler] = {}


def register_event_handler(handler: EventHandler) -> None:
    """Have ``handler(account, event) -> Received`` take every call event (one handler: the
    service's call centre). It runs in the request that received the event; an
    ``ApplicationError`` it raises becomes the webhook's 400."""
    _handler["handler"] = handler


def receive_event(*, account: ProviderAccount, event: CallEventData) -> Received:
    """Hand one event to the registered handler."""
    handler = _handler.get("handler")
    if handler is None:
        raise ApplicationError(_("Nothing takes call events here."), code="no_handler", status=409)
    return handler(account, event)
