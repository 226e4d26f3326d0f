"""The call centre: call events from the telephony provider, screen pops, click-to-call, the
telephony provider's configuration and the new-caller form.

Events. ``call_receive`` takes one provider event (the webhook's, or the console's
simulation) — once per ``event_id``: a replay does nothing. The first event stored for a
call is its *head*: the call's one row in the log, which later events of the call bring up
to date (agent, customer, duration, outcome, recording link).

- *ringing* finds the agent by ``AgentProfile.phone_extension`` (or, failing that, by the
  user's own phone number) and the caller by their E.164 number among the workspace's
  contacts (mobile, phone, further numbers) and accounts (phone, further numbers). One
  customer: a screen pop to their 360° page. Nobody: a pop to the new-caller form, and no
  customer is made — only the agent's submitting that form makes one. Several: a pop to a
  chooser listing them. An unknown extension stores the event, pops nothing and logs a
  warning.
- *answered* updates the call; *ended* logs the call on the customer's timeline once (one
  call entry with its duration, outcome and recording link, linked from ``entry_id``): a
  second *ended* for the same call logs nothing more.

Pops are claimed, not broadcast: every open page of the agent's hears of a new pop, and the
first that claims it (a conditional UPDATE) shows it, so one pop shows once even with two
tabs open. The claim comes from the page, not from the stream: a stream whose page is
gone (the agent moved on; the server learns it only at the next write) cannot swallow a
pop. A pop nobody claimed within ``POP_TTL`` is not shown any more (the phone stopped
ringing).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.activities.services import timeline
from guanxi.common.errors import ApplicationError, FieldErrors, NotFound
from guanxi.customers.models import Account, Contact, ContactPoint, PointKind
from guanxi.integrations import telephony
from guanxi.integrations.models import ProviderAccount, ProviderKind
from guanxi.integrations.telephony import CallEventData, Received
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, AuditAction, User, Workspace

from ..models import AgentProfile, CallEvent, CallEventKind, ScreenPop
from ..objects import CALL, CONFIGURATION
from .channels import PROVIDER_AUDIT_KEY, provider_rotate_secret

logger = logging.getLogger(__name__)

POP_TTL = dt.timedelta(seconds=90)
MATCHES_MAX = 20
URL_MAX = 500
# The outcomes the timeline knows; anything else the provider says is kept in the entry's
# data and the call log.
TIMELINE_OUTCOMES = {"connected", "no_answer", "busy", "voicemail", "wrong_number"}
OUTCOME_ALIASES = {
    "answered": "connected",
    "completed": "connected",
    "missed": "no_answer",
    "noanswer": "no_answer",
    "no-answer": "no_answer",
    "unanswered": "no_answer",
}


# --- who is calling --------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A customer with the number: a contact (with their account, if any) or an account."""

    account: Account | None
    contact: Contact | None

    @property
    def name(self) -> str:
        if self.contact is not None:
            return self.contact.name
        return self.account.name if self.account is not None else ""

    @property
    def company(self) -> str:
        if self.contact is not None and self.account is not None:
            return self.account.name
        return ""

    @property
    def url(self) -> str:
        if self.contact is not None:
            return reverse("customers:contact_detail", args=[self.contact.pk])
        return reverse("customers:account_detail", args=[self.account.pk])


def caller_matches(workspace, phone: str) -> list[Match]:
    """The customers who have ``phone`` (E.164): contacts by mobile, phone or a further
    number, accounts by phone or a further number — each lookup on its own index
    (``contact_ws_mobile``, ``contact_ws_phone``, ``account_ws_phone``,
    ``point_ws_value``). A contact found with their own account counts once (the person);
    erased contacts are nobody."""
    if not phone:
        return []
    points = list(
        ContactPoint.objects.in_workspace(workspace)
        .filter(kind=PointKind.PHONE, value=phone)
        .values_list("account_id", "contact_id")[: MATCHES_MAX * 2]
    )
    point_contacts = {c for _a, c in points if c}
    point_accounts = {a for a, _c in points if a}
    contacts = list(
        Contact.objects.in_workspace(workspace)
        .filter(erased_at__isnull=True)
        .filter(Q(mobile=phone) | Q(phone=phone) | Q(pk__in=point_contacts))
        .select_related("account")
        .order_by("id")[:MATCHES_MAX]
    )
    accounts = list(
        Account.objects.in_workspace(workspace)
        .filter(Q(phone=phone) | Q(pk__in=point_accounts))
        .order_by("id")[:MATCHES_MAX]
    )
    people_accounts = {c.account_id for c in contacts if c.account_id}
    out = [Match(account=c.account if c.account_id else None, contact=c) for c in contacts]
    # A company line shared by a person at the company is that person's call.
    out += [Match(account=a, contact=None) for a in accounts if a.pk not in people_accounts]
    return out[:MATCHES_MAX]


def _agent_for(workspace_id: int, name: str) -> User | None:
    """The user the provider means by ``name``: an agent's extension, else the one active
    user whose own phone it is."""
    if not name:
        return None
    profile = (
        AgentProfile.objects.in_workspace(workspace_id)
        .filter(phone_extension=name, user__is_active=True)
        .select_related("user")
        .first()
    )
    if profile is not None:
        return profile.user
    number = telephony.clean_number(name)
    if not number.startswith("+"):
        return None
    users = list(User.objects.filter(workspace_id=workspace_id, is_active=True, phone=number)[:2])
    return users[0] if len(users) == 1 else None


# --- events ----------------------------------------------------------------------------------


def new_caller_url(phone: str, call_id: str) -> str:
    return f"{reverse('service:call_new_caller')}?{urlencode({'phone': phone, 'call': call_id})}"


def chooser_url(call_id: str) -> str:
    return f"{reverse('service:call_choose')}?{urlencode({'call': call_id})}"


def _customer_number(event: CallEventData) -> str:
    return event.caller if event.direction == "in" else event.callee


def _head(workspace_id: int, call_id: str, *, lock: bool = False) -> CallEvent | None:
    qs = CallEvent.objects.in_workspace(workspace_id).filter(call_id=call_id)
    if lock:
        qs = qs.select_for_update()
    return qs.order_by("id").first()


def call_receive(*, workspace: Workspace | int, provider: str, event: CallEventData) -> Received:
    """Store one provider event of a call (once per ``event_id``) and act on it: see the
    module. Runs as the system (the provider), not as a user."""
    workspace_id = getattr(workspace, "pk", workspace)
    rows = CallEvent.objects.in_workspace(workspace_id)
    existing = rows.filter(provider=provider, event_id=event.event_id).values_list("pk", flat=True)
    if existing:
        return Received(created=False, event_pk=existing[0])
    agent = _agent_for(workspace_id, event.agent)
    number = _customer_number(event)
    with transaction.atomic():
        head = _head(workspace_id, event.call_id, lock=True)
        try:
            with transaction.atomic():
                row = CallEvent.objects.create(
                    workspace_id=workspace_id,
                    provider=provider,
                    event_id=event.event_id,
                    call_id=event.call_id,
                    kind=event.kind,
                    direction=event.direction,
                    caller=event.caller or (head.caller if head else ""),
                    callee=event.callee or (head.callee if head else ""),
                    agent=agent or (head.agent if head else None),
                    account_id=head.account_id if head else None,
                    contact_id=head.contact_id if head else None,
                    duration_seconds=event.duration_seconds,
                    outcome=event.outcome,
                    recording_url=event.recording_url,
                    payload=event.payload,
                )
        except IntegrityError:
            pk = rows.filter(provider=provider, event_id=event.event_id).values_list(
                "pk", flat=True
            )
            return Received(created=False, event_pk=pk[0] if pk else None)
        if head is None:
            head = row
            matches = caller_matches(workspace_id, number or row.caller)
            if len(matches) == 1:
                head.account = matches[0].account
                head.contact = matches[0].contact
                head.save(update_fields=["account", "contact", "updated_at"])
        else:
            _update_head(head, row)
        if event.agent and agent is None:
            logger.warning(
                "Call %s: no agent has the extension %r; the event is stored, nothing pops",
                event.call_id,
                event.agent,
            )
        popped = 0
        if event.kind == CallEventKind.RINGING and agent is not None:
            popped = _pop(head, agent, number or row.caller)
        if event.kind == CallEventKind.ENDED:
            _log_on_timeline(head, row)
    return Received(created=True, event_pk=row.pk, popped=popped)


def _update_head(head: CallEvent, row: CallEvent) -> None:
    changed = []
    if head.agent_id is None and row.agent_id is not None:
        head.agent_id = row.agent_id
        changed.append("agent")
    for name in ("duration_seconds", "outcome", "recording_url"):
        value = getattr(row, name)
        if value not in (None, "") and getattr(head, name) != value:
            setattr(head, name, value)
            changed.append(name)
    if row.kind == CallEventKind.ANSWERED and not head.outcome and not row.outcome:
        head.outcome = "connected"
        changed.append("outcome")
    if changed:
        head.save(update_fields=[*changed, "updated_at"])


def _pop(head: CallEvent, agent: User, number: str) -> int:
    """A screen pop for ``agent`` about the call's caller (see the module)."""
    if not permissions.can(agent, CALL, Action.READ):
        logger.warning("Call %s: %s may not take calls; nothing pops", head.call_id, agent.pk)
        return 0
    if head.contact_id or head.account_id:
        match = Match(account=head.account, contact=head.contact)
        url = match.url
    else:
        matches = caller_matches(head.workspace_id, number) if number else []
        url = (
            chooser_url(head.call_id) if len(matches) > 1 else new_caller_url(number, head.call_id)
        )
    ScreenPop.objects.create(
        workspace_id=head.workspace_id,
        user=agent,
        call_id=head.call_id,
        caller=number[:32],
        account_id=head.account_id,
        contact_id=head.contact_id,
        url=url[:300],
    )
    return 1


def _timeline_outcome(outcome: str) -> str:
    value = OUTCOME_ALIASES.get(outcome.lower(), outcome.lower())
    return value if value in TIMELINE_OUTCOMES else ""


def _log_on_timeline(head: CallEvent, ended: CallEvent | None = None) -> None:
    """The call's one timeline entry, when it has ended and has a customer (locked head)."""
    if head.entry_id is not None or not (head.account_id or head.contact_id):
        return
    if ended is None:
        ended = (
            CallEvent.objects.in_workspace(head.workspace_id)
            .filter(call_id=head.call_id, kind=CallEventKind.ENDED)
            .order_by("id")
            .first()
        )
        if ended is None:
            return
    number = head.caller if head.direction == "in" else head.callee
    data = {"call_id": head.call_id, "number": number}
    if head.recording_url:
        data["recording_url"] = head.recording_url
    if head.outcome:
        data["provider_outcome"] = head.outcome
    body = str(_("Recording: %(url)s") % {"url": head.recording_url}) if head.recording_url else ""
    subject = (_("Call from %(number)s") if head.direction == "in" else _("Call to %(number)s")) % {
        "number": number
    }
    entry = timeline.record_entry(
        workspace=head.workspace_id,
        author=head.agent_id,
        kind="call",
        occurred_at=head.created_at,
        account=head.account_id,
        contacts=[head.contact_id] if head.contact_id else [],
        direction=head.direction,
        channel="phone",
        subject=str(subject),
        body=body,
        duration_seconds=head.duration_seconds,
        outcome=_timeline_outcome(head.outcome),
        data=data,
        related_object_key=CALL,
        related_object_id=head.pk,
    )
    CallEvent.objects.in_workspace(head.workspace_id).filter(pk=head.pk).update(entry_id=entry.pk)
    head.entry_id = entry.pk
    if ended.pk != head.pk:
        CallEvent.objects.in_workspace(head.workspace_id).filter(pk=ended.pk).update(
            entry_id=entry.pk
        )


def call_link_customer(
    *, actor: User, workspace: Workspace, call_id: str, account_id=None, contact_id=None
) -> CallEvent | None:
    """Say who an unknown caller was (the new-caller form, the chooser): the call gets the
    customer, and a call that has already ended is logged on their timeline. A call that
    already has a customer keeps it."""
    permissions.require(actor, CALL, Action.READ)
    with transaction.atomic():
        head = _head(workspace.pk, call_id, lock=True)
        if head is None:
            return None
        if not _may_see(actor, head):
            raise NotFound()
        if head.account_id or head.contact_id:
            return head
        if contact_id:
            contact = Contact.objects.in_workspace(workspace).filter(pk=contact_id).first()
            if contact is None:
                raise NotFound()
            head.contact = contact
            head.account_id = contact.account_id
        elif account_id:
            account = Account.objects.in_workspace(workspace).filter(pk=account_id).first()
            if account is None:
                raise NotFound()
            head.account = account
        else:
            return head
        head.save(update_fields=["account", "contact", "updated_at"])
        _log_on_timeline(head)
    return head


def _may_see(actor: User, head: CallEvent) -> bool:
    from ..selectors import calls as selectors

    return (
        selectors.calls_visible(workspace=actor.workspace, actor=actor).filter(pk=head.pk).exists()
    )


# --- screen pops -----------------------------------------------------------------------------


def _pending(actor: User, workspace, *, after_id: int = 0):
    since = timezone.now() - POP_TTL
    return ScreenPop.objects.in_workspace(workspace).filter(
        user=actor, delivered_at__isnull=True, created_at__gte=since, pk__gt=after_id
    )


def pops_new(*, actor: User, workspace: Workspace | int, after_id: int = 0) -> list[ScreenPop]:
    """The actor's pops nobody has claimed yet, newer than ``after_id``, oldest first, with
    their customer loaded: what the pop stream sends (it asks five times a second; one
    indexed query, ``screenpop_ws_user``)."""
    return list(
        _pending(actor, workspace, after_id=after_id)
        .select_related("account", "contact")
        .order_by("id")[:10]
    )


def pop_claim(*, actor: User, workspace: Workspace | int, pop_id: int) -> bool:
    """Claim one of the actor's pops for the page that will show it: True for the first
    page that asks, False for any other (a second tab) and for a pop that is not the
    actor's. One conditional UPDATE, so two tabs asking at once cannot both win."""
    return bool(
        ScreenPop.objects.in_workspace(workspace)
        .filter(pk=pop_id, user=actor, delivered_at__isnull=True)
        .update(delivered_at=timezone.now())
    )


def pops_claim_next(*, actor: User, workspace: Workspace | int) -> list[ScreenPop]:
    """The polling fallback: the actor's unclaimed pops, each claimed by this call."""
    return [
        pop
        for pop in pops_new(actor=actor, workspace=workspace)
        if pop_claim(actor=actor, workspace=workspace, pop_id=pop.pk)
    ]


def pops_pending(*, actor: User, workspace: Workspace) -> list[ScreenPop]:
    """The actor's pops not yet shown (for the API's client, which acks them itself)."""
    permissions.require(actor, CALL, Action.READ)
    return list(_pending(actor, workspace).select_related("account", "contact").order_by("id")[:50])


def pop_ack(*, actor: User, workspace: Workspace, pop_id: int) -> ScreenPop:
    """Mark one of the actor's pops shown (another user's or workspace's is not found)."""
    permissions.require(actor, CALL, Action.READ)
    pop = ScreenPop.objects.in_workspace(workspace).filter(pk=pop_id, user=actor).first()
    if pop is None:
        raise NotFound()
    if pop.delivered_at is None:
        now = timezone.now()
        ScreenPop.objects.in_workspace(workspace).filter(
            pk=pop.pk, delivered_at__isnull=True
        ).update(delivered_at=now)
        pop.delivered_at = now
    return pop


# --- click-to-call ---------------------------------------------------------------------------


def agent_line(user: User) -> str:
    """What the provider rings for ``user``: their extension, else their own phone."""
    profile = AgentProfile.objects.in_workspace(user.workspace_id).filter(user=user).first()
    if profile is not None and profile.phone_extension:
        return profile.phone_extension
    return telephony.clean_number(user.phone) if user.phone else ""


def call_dial(*, actor: User, workspace: Workspace, phone: str) -> CallEvent:
    """Place a call from the actor's phone (extension) to ``phone`` through the workspace's
    telephony provider, and store it as a *dialing* event — the call's head, with the
    customer who has the number when there is exactly one."""
    permissions.require(actor, CALL, Action.CREATE)
    number = telephony.phone_e164(phone)
    if number is None:
        message = _("“%(value)s” is not a valid phone number.") % {"value": str(phone or "")[:40]}
        raise ApplicationError(message, code="invalid_phone", fields={"phone": [message]})
    account = telephony.telephony_account(workspace)
    if account is None:
        raise ApplicationError(
            _("No telephony provider is set up: ask an administrator."),
            code="no_provider",
            status=409,
        )
    line = agent_line(actor)
    if not line:
        raise ApplicationError(
            _("You have no phone extension: ask an administrator to set one on the agents page."),
            code="no_extension",
            status=409,
        )
    try:
        call_id = telephony.provider_for(account).dial(agent=line, number=number)
    except telephony.CallNotPlaced as exc:
        logger.warning("Dial by %s failed: %s", actor.pk, exc)
        raise ApplicationError(
            _("The telephony provider did not place the call. Try again, or dial by hand."),
            code="not_placed",
            status=409,
        ) from None
    matches = caller_matches(workspace, number)
    match = matches[0] if len(matches) == 1 else None
    with transaction.atomic():
        row = CallEvent.objects.create(
            workspace=workspace,
            provider=account.provider,
            event_id=f"dial-{call_id}",
            call_id=call_id,
            kind=CallEventKind.DIALING,
            direction="out",
            caller=line[:32],
            callee=number,
            agent=actor,
            account=match.account if match else None,
            contact=match.contact if match else None,
            payload={"placed_by": actor.pk},
        )
    return row


# --- configuration ---------------------------------------------------------------------------


def telephony_provider(*, actor: User, workspace: Workspace) -> ProviderAccount | None:
    """The workspace's active telephony account (None: no click-to-call, no webhook)."""
    permissions.require(actor, CONFIGURATION, Action.READ)
    return telephony.telephony_account(workspace)


def _provider_changes(account: ProviderAccount) -> dict:
    # The secret is never part of the audit trail.
    return {"provider": account.provider, "url": (account.options or {}).get("url", "")}


def telephony_provider_update(
    *, actor: User, workspace: Workspace, provider: str, url: str = ""
) -> ProviderAccount:
    """Choose the telephony provider: ``console`` (development: calls go to the log, the
    settings page simulates incoming ones) or ``webhook`` (a cloud call centre: ``url``
    takes the signed click-to-call requests). Makes the account on first use; its webhook
    key and secret stay."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    errors = FieldErrors()
    provider = str(provider or "").strip()
    if provider not in telephony.provider_names():
        errors.add(
            "provider",
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(telephony.provider_names())},
        )
    url = str(url or "").strip()
    if len(url) > URL_MAX:
        errors.add("url", _("At most %(n)s characters.") % {"n": URL_MAX})
    elif url and not url.lower().startswith(("http://", "https://")):
        errors.add("url", _("Enter an address starting with http:// or https://."))
    elif provider == telephony.WebhookProvider.name and not url:
        errors.add("url", _("Enter the address the call centre takes calls at."))
    errors.raise_if_any()
    with transaction.atomic():
        account = (
            ProviderAccount.objects.in_workspace(workspace)
            .select_for_update()
            .filter(kind=ProviderKind.TELEPHONY, active=True)
            .first()
        )
        created = account is None
        if created:
            account = ProviderAccount(workspace=workspace, kind=ProviderKind.TELEPHONY)
        before = {} if created else _provider_changes(account)
        account.provider = provider
        account.options = {**(account.options or {}), "url": url}
        account.save()
        after = _provider_changes(account)
        audit.log(
            actor=actor,
            workspace=workspace,
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            object_key=PROVIDER_AUDIT_KEY,
            object_id=account.pk,
            object_repr=str(_("Telephony provider")),
            changes=audit.diff(before, after)
            if not created
            else {k: [None, v] for k, v in after.items()},
        )
    return account


def telephony_provider_rotate_secret(*, actor: User, workspace: Workspace) -> ProviderAccount:
    """A new shared secret (the old one stops working at once: give the new one to the
    call centre)."""
    return provider_rotate_secret(
        actor=actor,
        workspace=workspace,
        kind=ProviderKind.TELEPHONY,
        label=_("Telephony provider"),
        missing=_("Choose the telephony provider first."),
    )


def call_simulate(*, actor: User, workspace: Workspace, caller: str, agent_id: int) -> Received:
    """Development: an incoming call from ``caller`` for the agent ``agent_id`` through the
    console provider, as if the switch had sent it (the agent's page pops). Works with no
    provider set up; refused while a real provider is."""
    permissions.require(actor, CONFIGURATION, Action.UPDATE)
    errors = FieldErrors()
    number = telephony.phone_e164(caller)
    if number is None:
        errors.add("caller", _("Enter a valid phone number."))
    profile = (
        AgentProfile.objects.in_workspace(workspace)
        .filter(user_id=agent_id)
        .exclude(phone_extension="")
        .first()
        if str(agent_id or "").isdigit()
        else None
    )
    if profile is None:
        errors.add("agent", _("Choose an agent with a phone extension."))
    errors.raise_if_any()
    account = telephony.telephony_account(workspace)
    if account is None:
        # No provider yet: the console's stand-in for the workspace, never saved.
        account = ProviderAccount(
            workspace_id=workspace.pk,
            kind=ProviderKind.TELEPHONY,
            provider=telephony.ConsoleProvider.name,
        )
    if account.provider != telephony.ConsoleProvider.name:
        raise ApplicationError(
            _("Incoming calls can be simulated with the console provider only."),
            code="not_console",
            status=409,
        )
    provider = telephony.provider_for(account)
    return provider.simulate_incoming(caller=number, agent=profile.phone_extension)


# --- the new-caller form ---------------------------------------------------------------------


def new_caller_create(
    *,
    actor: User,
    workspace: Workspace,
    phone: str,
    name: str,
    company: str = "",
    call_id: str = "",
) -> Contact:
    """The agent's answer to an unknown caller: a contact ``name`` with the number as their
    mobile (and an account ``company`` they join, when given), and the call linked to them
    (logged on their timeline if it has ended). One transaction: an error leaves nothing
    behind. The customers' own rules apply (rights, a number another rep owns)."""
    from guanxi.customers.services import records

    errors = FieldErrors()
    number = telephony.phone_e164(phone)
    if number is None:
        errors.add("phone", _("Enter a valid phone number."))
    name = str(name or "").replace("\x00", "").strip()
    if not name:
        errors.add("name", _("This field is required."))
    company = str(company or "").replace("\x00", "").strip()
    errors.raise_if_any()
    with transaction.atomic():
        account = None
        if company:
            account = records.account_create(actor=actor, workspace=workspace, name=company)
        contact = records.contact_create(
            actor=actor,
            workspace=workspace,
            account_id=account.pk if account else None,
            name=name,
            mobile=number,
        )
        if call_id and permissions.can(actor, CALL, Action.READ):
            call_link_customer(
                actor=actor, workspace=workspace, call_id=call_id, contact_id=contact.pk
            )
    return contact
