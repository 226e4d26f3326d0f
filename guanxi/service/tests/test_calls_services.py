"""The call centre's services: an incoming call pops the right customer for the right agent
(one match: the 360° page; none: the new-caller form and no customer made; several: the
chooser); an unknown extension pops nothing; a replayed event does nothing; an ended call
is logged once on the timeline; click-to-call through the console provider; the
new-caller form's customer gets the call."""

from __future__ import annotations

import pytest
from django.urls import reverse

from guanxi.activities.models import EntryContact, TimelineEntry
from guanxi.common.errors import ApplicationError, PermissionDenied
from guanxi.customers.models import Account, Contact
from guanxi.integrations import telephony
from guanxi.integrations.models import ProviderAccount, ProviderKind
from guanxi.integrations.telephony import CallEventData
from guanxi.service.models import CallEvent, ScreenPop
from guanxi.service.services import telephony as services

from .calls_support import *  # noqa: F403
from .calls_support import KNOWN, SHARED, UNKNOWN

pytestmark = pytest.mark.django_db


def ring(ws, *, caller=KNOWN, agent="8001", call_id="c1", event_id=None, kind="ringing", **kw):
    event = CallEventData(
        event_id=event_id or f"{call_id}-{kind}",
        call_id=call_id,
        kind=kind,
        direction=kw.pop("direction", "in"),
        caller=caller,
        callee="+862100000000",
        agent=agent,
        **kw,
    )
    return services.call_receive(workspace=ws, provider="webhook", event=event)


def test_a_known_caller_pops_their_page_for_the_right_agent(service_ws, agent_a, agent_b, caller):
    received = ring(service_ws)
    assert received.created and received.popped == 1
    pop = ScreenPop.objects.in_workspace(service_ws).get()
    assert pop.user_id == agent_a.pk
    assert pop.contact_id == caller.pk and pop.account_id == caller.account_id
    assert pop.url == reverse("customers:contact_detail", args=[caller.pk])
    head = CallEvent.objects.in_workspace(service_ws).get()
    assert head.agent_id == agent_a.pk and head.contact_id == caller.pk
    # Agent B has nothing to claim; agent A claims it once.
    assert services.pops_new(actor=agent_b, workspace=service_ws) == []
    assert not services.pop_claim(actor=agent_b, workspace=service_ws, pop_id=pop.pk)
    assert [p.pk for p in services.pops_new(actor=agent_a, workspace=service_ws)] == [pop.pk]
    assert services.pop_claim(actor=agent_a, workspace=service_ws, pop_id=pop.pk)
    assert not services.pop_claim(actor=agent_a, workspace=service_ws, pop_id=pop.pk)
    assert services.pops_new(actor=agent_a, workspace=service_ws) == []


def test_a_company_line_pops_the_account(service_ws, agent_a, caller):
    ring(service_ws, caller="+862188888888")
    pop = ScreenPop.objects.in_workspace(service_ws).get()
    assert pop.account_id == caller.account_id and pop.contact_id is None
    assert pop.url == reverse("customers:account_detail", args=[caller.account_id])


def test_an_unknown_caller_gets_the_new_caller_form_and_no_customer(service_ws, agent_a, caller):
    accounts, contacts = (
        Account.objects.across_workspaces().count(),
        Contact.objects.across_workspaces().count(),
    )
    ring(service_ws, caller=UNKNOWN, call_id="c-unknown")
    pop = ScreenPop.objects.in_workspace(service_ws).get()
    assert pop.url.startswith(reverse("service:call_new_caller"))
    assert "phone=%2B8613911112222" in pop.url and "call=c-unknown" in pop.url
    assert pop.contact_id is None and pop.account_id is None
    ring(service_ws, caller=UNKNOWN, call_id="c-unknown", kind="ended", duration_seconds=30)
    assert (
        Account.objects.across_workspaces().count(),
        Contact.objects.across_workspaces().count(),
    ) == (accounts, contacts)
    assert not TimelineEntry.objects.filter(workspace=service_ws, kind="call").exists()


def test_several_customers_with_the_number_get_the_chooser(service_ws, agent_a, shared_number):
    ring(service_ws, caller=SHARED, call_id="c-shared")
    pop = ScreenPop.objects.in_workspace(service_ws).get()
    assert pop.url == services.chooser_url("c-shared")
    assert {m.contact.pk for m in services.caller_matches(service_ws, SHARED)} == {
        c.pk for c in shared_number
    }


def test_an_unknown_extension_stores_the_event_and_pops_nothing(
    service_ws, agent_a, caller, caplog
):
    received = ring(service_ws, agent="9999")
    assert received.created and received.popped == 0
    assert CallEvent.objects.in_workspace(service_ws).count() == 1
    assert not ScreenPop.objects.across_workspaces().exists()
    assert "9999" in caplog.text


def test_the_agents_own_phone_finds_them(service_ws, agent_a, caller):
    from guanxi.platform.tests.factories import UserFactory

    user = UserFactory(workspace=service_ws, role_code="service_agent", phone="+8613700001111")
    ring(service_ws, agent="+8613700001111")
    assert ScreenPop.objects.in_workspace(service_ws).get().user_id == user.pk


def test_a_replayed_event_does_nothing(service_ws, agent_a, caller):
    first = ring(service_ws, event_id="same")
    again = ring(service_ws, event_id="same")
    assert first.created and not again.created and again.event_pk == first.event_pk
    assert (
        ScreenPop.objects.across_workspaces().count() == 1
        and CallEvent.objects.across_workspaces().count() == 1
    )


def test_an_ended_call_is_logged_once_on_the_timeline(service_ws, agent_a, caller):
    ring(service_ws)
    ring(service_ws, kind="answered")
    ring(
        service_ws,
        kind="ended",
        duration_seconds=125,
        outcome="answered",
        recording_url="https://rec.example.com/c1.mp3",
    )
    ring(service_ws, kind="ended", event_id="c1-ended-again", duration_seconds=125)
    entries = TimelineEntry.objects.filter(workspace=service_ws, kind="call")
    assert entries.count() == 1
    entry = entries.get()
    assert entry.duration_seconds == 125 and entry.outcome == "connected"
    assert entry.direction == "in" and entry.account_id == caller.account_id
    assert entry.data["recording_url"] == "https://rec.example.com/c1.mp3"
    assert entry.author_id == agent_a.pk
    links = EntryContact.objects.in_workspace(service_ws).filter(entry=entry)
    assert list(links.values_list("contact_id", flat=True)) == [caller.pk]
    head = CallEvent.objects.in_workspace(service_ws).order_by("id").first()
    assert head.entry_id == entry.pk and head.duration_seconds == 125
    assert head.recording_url.endswith("c1.mp3")
    ended = CallEvent.objects.in_workspace(service_ws).get(event_id="c1-ended")
    assert ended.entry_id == entry.pk


def test_dial_through_the_console(service_ws, agent_a, caller):
    with pytest.raises(ApplicationError) as exc:
        services.call_dial(actor=agent_a, workspace=service_ws, phone=KNOWN)
    assert exc.value.code == "no_provider"
    ProviderAccount.objects.create(
        workspace=service_ws, kind=ProviderKind.TELEPHONY, provider="console"
    )
    with pytest.raises(ApplicationError) as exc:
        services.call_dial(actor=agent_a, workspace=service_ws, phone="12")
    assert exc.value.code == "invalid_phone"
    row = services.call_dial(actor=agent_a, workspace=service_ws, phone="138 0013 8000")
    assert row.kind == "dialing" and row.direction == "out" and row.callee == KNOWN
    assert row.caller == "8001" and row.agent_id == agent_a.pk
    assert row.contact_id == caller.pk and row.call_id.startswith("console-")


def test_dial_needs_the_right_and_an_extension(service_ws, nobody, caller):
    from guanxi.platform.tests.factories import UserFactory

    ProviderAccount.objects.create(
        workspace=service_ws, kind=ProviderKind.TELEPHONY, provider="console"
    )
    with pytest.raises(PermissionDenied):
        services.call_dial(actor=nobody, workspace=service_ws, phone=KNOWN)
    lineless = UserFactory(workspace=service_ws, role_code="service_agent")
    with pytest.raises(ApplicationError) as exc:
        services.call_dial(actor=lineless, workspace=service_ws, phone=KNOWN)
    assert exc.value.code == "no_extension"
    assert not CallEvent.objects.across_workspaces().exists()


def test_simulated_call_pops_through_the_console(service_ws, agent_a, caller):
    from guanxi.platform.tests.factories import UserFactory

    admin = UserFactory(workspace=service_ws, role_code="administrator")
    services.telephony_provider_update(actor=admin, workspace=service_ws, provider="console")
    received = services.call_simulate(
        actor=admin, workspace=service_ws, caller=KNOWN, agent_id=agent_a.pk
    )
    assert received.popped == 1
    pop = ScreenPop.objects.in_workspace(service_ws).get()
    assert pop.user_id == agent_a.pk and pop.contact_id == caller.pk
    with pytest.raises(ApplicationError):
        services.call_simulate(actor=admin, workspace=service_ws, caller="x", agent_id=0)


def test_the_new_caller_form_makes_the_customer_and_logs_the_call(service_ws, agent_a):
    ring(service_ws, caller=UNKNOWN, call_id="c-new")
    ring(service_ws, caller=UNKNOWN, call_id="c-new", kind="ended", duration_seconds=40)
    assert not TimelineEntry.objects.filter(workspace=service_ws, kind="call").exists()
    contact = services.new_caller_create(
        actor=agent_a, workspace=service_ws, phone=UNKNOWN, name="赵六", call_id="c-new"
    )
    assert contact.mobile == UNKNOWN
    head = CallEvent.objects.in_workspace(service_ws).order_by("id").first()
    assert head.contact_id == contact.pk and head.entry_id is not None
    entry = TimelineEntry.objects.in_workspace(service_ws).get(pk=head.entry_id)
    assert entry.duration_seconds == 40
    with pytest.raises(ApplicationError):
        services.new_caller_create(actor=agent_a, workspace=service_ws, phone=UNKNOWN, name="")


def test_provider_settings_and_secret(service_ws, agent_a):
    from guanxi.platform.tests.factories import UserFactory

    admin = UserFactory(workspace=service_ws, role_code="administrator")
    with pytest.raises(ApplicationError):
        services.telephony_provider_update(actor=admin, workspace=service_ws, provider="webhook")
    account = services.telephony_provider_update(
        actor=admin, workspace=service_ws, provider="webhook", url="https://cc.example.com/dial"
    )
    secret = account.secret
    rotated = services.telephony_provider_rotate_secret(actor=admin, workspace=service_ws)
    assert rotated.secret != secret and rotated.pk == account.pk
    assert telephony.telephony_account(service_ws).options["url"] == "https://cc.example.com/dial"
    with pytest.raises(PermissionDenied):
        services.telephony_provider_update(actor=agent_a, workspace=service_ws, provider="console")


def test_simulate_with_no_provider_and_the_command(service_ws, agent_a, caller):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from guanxi.platform.tests.factories import UserFactory

    UserFactory(workspace=service_ws, role_code="administrator")
    out = StringIO()
    call_command(
        "call_simulate", workspace=str(service_ws.pk), caller=KNOWN, extension="8001", stdout=out
    )
    assert "Agent A" in out.getvalue()
    pop = ScreenPop.objects.in_workspace(service_ws).get()
    assert pop.user_id == agent_a.pk and pop.contact_id == caller.pk
    assert not ProviderAccount.objects.in_workspace(service_ws).exists()
    with pytest.raises(CommandError):
        call_command("call_simulate", workspace=str(service_ws.pk), caller=KNOWN, extension="0")
    ProviderAccount.objects.create(
        workspace=service_ws, kind=ProviderKind.TELEPHONY, provider="webhook"
    )
    with pytest.raises(CommandError):
        call_command("call_simulate", workspace=str(service_ws.pk), caller=KNOWN, extension="8001")
