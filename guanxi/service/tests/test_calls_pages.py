"""The calls pages: the call log (one row per call, own calls for an agent, filters, a fixed
number of queries), one call, the telephony settings (webhook address and secret for those
who may change them, a simulated call), the new-caller form (nothing made until it is
submitted) and the chooser, click-to-call (CSRF, JSON), the screen-pop stream (SSE: a pop
once, for its agent only, Last-Event-ID honoured) and its polling fallback, the top bar's
call widget. Another workspace and a user without the right get nothing anywhere."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from guanxi.customers.models import Contact
from guanxi.integrations.models import ProviderAccount, ProviderKind
from guanxi.integrations.telephony import CallEventData
from guanxi.platform.tests.factories import UserFactory
from guanxi.service.models import CallEvent, ScreenPop
from guanxi.service.services import telephony as services

from .calls_support import *  # noqa: F403
from .calls_support import KNOWN, SHARED, UNKNOWN, make_agent

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ring(ws, call_id, *, caller=KNOWN, agent="8001", kind="ringing", **kw):
    return services.call_receive(
        workspace=ws,
        provider="webhook",
        event=CallEventData(
            event_id=f"{call_id}-{kind}",
            call_id=call_id,
            kind=kind,
            caller=caller,
            agent=agent,
            **kw,
        ),
    )


def queries(client, url) -> tuple[int, str]:
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx), response.content.decode()


def read_stream(client, **headers) -> str:
    response = client.get("/service/calls/pops/stream/", headers=headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    return b"".join(response.streaming_content).decode()


@pytest.fixture(autouse=True)
def short_stream(settings):
    settings.CALL_POP_STREAM_SECONDS = 0.5


# --- the log -----------------------------------------------------------------------------------


def test_the_log_has_one_row_per_call_and_a_fixed_query_count(service_ws, agent_a, caller):
    ring(service_ws, "c1")
    ring(service_ws, "c1", kind="answered")
    ring(
        service_ws,
        "c1",
        kind="ended",
        duration_seconds=65,
        recording_url="https://r.example.com/1.mp3",
    )
    client = client_for(agent_a)
    small, html = queries(client, "/service/calls/")
    assert html.count('href="/service/calls/') >= 1 and "张伟" in html and "65 s" in html
    assert "https://r.example.com/1.mp3" in html
    assert html.count("<tr>") == 2  # the header and one call
    for i in range(12):
        ring(service_ws, f"more-{i}", caller=UNKNOWN if i % 2 else KNOWN)
        ring(service_ws, f"more-{i}", kind="ended", duration_seconds=i)
    large, html = queries(client, "/service/calls/")
    assert large == small
    assert html.count("<tr>") == 14
    # Filters: direction, outcome, agent, dates.
    assert "张伟" not in client.get("/service/calls/?direction=out").content.decode()
    assert (
        client.get("/service/calls/?start=2026-01-01&end=2099-12-31&agent=&outcome=").status_code
        == 200
    )
    page = client.get("/service/calls/?start=not-a-date")
    assert page.status_code == 200


def test_an_agent_sees_their_own_calls_a_wider_role_more(service_ws, agent_a, agent_b, caller):
    ring(service_ws, "for-a", agent="8001")
    ring(service_ws, "for-b", agent="8002")
    a_html = client_for(agent_a).get("/service/calls/").content.decode()
    b_html = client_for(agent_b).get("/service/calls/").content.decode()
    head_a = CallEvent.objects.in_workspace(service_ws).get(call_id="for-a")
    head_b = CallEvent.objects.in_workspace(service_ws).get(call_id="for-b")
    assert f"/service/calls/{head_a.pk}/" in a_html and f"/service/calls/{head_b.pk}/" not in a_html
    assert f"/service/calls/{head_b.pk}/" in b_html and f"/service/calls/{head_a.pk}/" not in b_html
    assert client_for(agent_b).get(f"/service/calls/{head_a.pk}/").status_code == 404
    detail = client_for(agent_a).get(f"/service/calls/{head_a.pk}/")
    assert detail.status_code == 200 and "Ringing" in detail.content.decode()
    reader = UserFactory(workspace=service_ws, role_code="read_only")
    html = client_for(reader).get("/service/calls/").content.decode()
    assert f"/service/calls/{head_a.pk}/" in html and f"/service/calls/{head_b.pk}/" in html


# --- settings ------------------------------------------------------------------------------------


def test_settings_show_the_webhook_and_simulate_a_call(service_ws, agent_a, caller):
    admin = UserFactory(workspace=service_ws, role_code="administrator")
    client = client_for(admin)
    assert client.get("/service/calls/settings/").status_code == 200
    bad = client.post("/service/calls/settings/provider/", {"provider": "webhook", "url": ""})
    assert bad.status_code == 400
    assert not ProviderAccount.objects.in_workspace(service_ws).exists()
    saved = client.post("/service/calls/settings/provider/", {"provider": "console", "url": ""})
    assert saved.status_code == 302
    account = ProviderAccount.objects.in_workspace(service_ws).get(kind=ProviderKind.TELEPHONY)
    html = client.get("/service/calls/settings/").content.decode()
    assert f"/hooks/telephony/{account.public_key}/" in html and account.secret in html
    assert "Simulate an incoming call" in html
    # An agent may look (configuration read) but sees no secret.
    agent_html = client_for(agent_a).get("/service/calls/settings/").content.decode()
    assert account.secret not in agent_html
    assert client_for(agent_a).post("/service/calls/settings/secret/").status_code == 403
    response = client.post(
        "/service/calls/settings/simulate/", {"caller": KNOWN, "agent": str(agent_a.pk)}
    )
    assert response.status_code == 302
    assert ScreenPop.objects.in_workspace(service_ws).get().user_id == agent_a.pk
    assert client.post("/service/calls/settings/secret/").status_code == 302
    account.refresh_from_db()
    assert account.secret not in agent_html


# --- what a pop opens ------------------------------------------------------------------------------


def test_the_new_caller_form_makes_nothing_until_submitted(service_ws, agent_a):
    ring(service_ws, "c-new", caller=UNKNOWN)
    pop = ScreenPop.objects.in_workspace(service_ws).get()
    client = client_for(agent_a)
    before = Contact.objects.in_workspace(service_ws).count()
    page = client.get(pop.url)
    assert page.status_code == 200 and UNKNOWN in page.content.decode()
    assert Contact.objects.in_workspace(service_ws).count() == before
    bad = client.post("/service/calls/new-caller/", {"phone": UNKNOWN, "name": "", "call": "c-new"})
    assert bad.status_code == 400
    assert Contact.objects.in_workspace(service_ws).count() == before
    made = client.post(
        "/service/calls/new-caller/",
        {
            "phone": UNKNOWN,
            "name": "赵六",
            "company": "六六商贸",
            "call": "c-new",
            "open_case": "on",
        },
    )
    assert made.status_code == 302
    contact = Contact.objects.in_workspace(service_ws).get(name="赵六")
    assert made["Location"] == f"/service/cases/new/?contact={contact.pk}"
    assert contact.account.name == "六六商贸" and contact.mobile == UNKNOWN
    assert CallEvent.objects.in_workspace(service_ws).get(call_id="c-new").contact_id == contact.pk


def test_the_chooser_lists_who_has_the_number(service_ws, agent_a, agent_b, shared_number):
    ring(service_ws, "c-shared", caller=SHARED)
    pop = ScreenPop.objects.in_workspace(service_ws).get()
    html = client_for(agent_a).get(pop.url).content.decode()
    for person in shared_number:
        assert f"/customers/contacts/{person.pk}/" in html
    assert client_for(agent_b).get(pop.url).status_code == 404
    assert client_for(agent_a).get("/service/calls/choose/?call=nope").status_code == 404


# --- click-to-call -------------------------------------------------------------------------------


def test_dial_posts_with_csrf_and_answers_json(service_ws, agent_a, caller):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent_a)
    assert client.post("/service/calls/dial/", {"phone": KNOWN}).status_code == 403
    client.get("/service/calls/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    headers = {"X-CSRFToken": token}
    response = client.post("/service/calls/dial/", {"phone": KNOWN}, headers=headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_provider"
    ProviderAccount.objects.create(
        workspace=service_ws, kind=ProviderKind.TELEPHONY, provider="console"
    )
    response = client.post("/service/calls/dial/", {"phone": "abc"}, headers=headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_phone"
    response = client.post("/service/calls/dial/", {"phone": KNOWN}, headers=headers)
    assert response.status_code == 200 and KNOWN in response.json()["message"]
    row = CallEvent.objects.in_workspace(service_ws).get(kind="dialing")
    assert row.agent_id == agent_a.pk and row.contact_id == caller.pk
    assert client.get("/service/calls/dial/").status_code == 405


# --- pops ----------------------------------------------------------------------------------------


def test_the_stream_delivers_a_pop_once_to_its_agent(service_ws, agent_a, agent_b, caller):
    ring(service_ws, "c1")
    pop = ScreenPop.objects.in_workspace(service_ws).get()
    assert "event: pop" not in read_stream(client_for(agent_b))
    text = read_stream(client_for(agent_a))
    assert f"id: {pop.pk}\nevent: pop\n" in text
    assert "Incoming call from 张伟 (Acme)" in text and f"/customers/contacts/{caller.pk}/" in text
    assert f'"claim_url": "/service/calls/pops/{pop.pk}/claim/"' in text
    # A stream only tells; the page that claims it first shows it, a second tab does not.
    pop.refresh_from_db()
    assert pop.delivered_at is None
    assert client_for(agent_b).post(f"/service/calls/pops/{pop.pk}/claim/").status_code == 409
    first = client_for(agent_a).post(f"/service/calls/pops/{pop.pk}/claim/")
    assert first.status_code == 200 and first.json() == {"claimed": True}
    second = client_for(agent_a).post(f"/service/calls/pops/{pop.pk}/claim/")
    assert second.status_code == 409 and second.json() == {"claimed": False}
    assert client_for(agent_a).get(f"/service/calls/pops/{pop.pk}/claim/").status_code == 405
    pop.refresh_from_db()
    assert pop.delivered_at is not None
    assert "event: pop" not in read_stream(client_for(agent_a))


def test_the_stream_honours_last_event_id(service_ws, agent_a, caller):
    ring(service_ws, "c1")
    ring(service_ws, "c2")
    first, second = ScreenPop.objects.in_workspace(service_ws).order_by("id")
    text = read_stream(client_for(agent_a), **{"Last-Event-ID": str(first.pk)})
    assert f"id: {second.pk}\n" in text and f"id: {first.pk}\n" not in text


def test_the_polling_fallback(service_ws, agent_a, caller):
    client = client_for(agent_a)
    assert client.get("/service/calls/pops/next/").status_code == 204
    ring(service_ws, "c1")
    response = client.get("/service/calls/pops/next/")
    assert response.status_code == 200 and "data-call-pop" in response.content.decode()
    assert client.get("/service/calls/pops/next/").status_code == 204


def test_the_widget_brings_the_stream_and_the_dial_url(service_ws, agent_a, nobody):
    html = client_for(agent_a).get("/service/calls/widget/").content.decode()
    assert 'data-stream-url="/service/calls/pops/stream/"' in html and "js/calls.js" in html
    assert "data-dial-url" not in html  # no telephony provider yet
    ProviderAccount.objects.create(
        workspace=service_ws, kind=ProviderKind.TELEPHONY, provider="console"
    )
    html = client_for(agent_a).get("/service/calls/widget/").content.decode()
    assert 'data-dial-url="/service/calls/dial/"' in html
    # A caller without an agent profile dials but gets no stream.
    lineless = UserFactory(workspace=service_ws, role_code="service_agent")
    html = client_for(lineless).get("/service/calls/widget/").content.decode()
    assert "data-dial-url" in html and "data-stream-url" not in html
    assert client_for(nobody).get("/service/calls/widget/").content == b""
    # The page shell loads the widget for those who take calls, not for others.
    assert "/service/calls/widget/" in client_for(agent_a).get("/service/calls/").content.decode()
    assert "/service/calls/widget/" not in client_for(nobody).get("/").content.decode()


# --- rights and workspaces ---------------------------------------------------------------------------


def test_no_right_and_another_workspace_get_nothing(
    service_ws, agent_a, caller, nobody, other_workspace
):
    ring(service_ws, "c1")
    head = CallEvent.objects.in_workspace(service_ws).get()
    pop = ScreenPop.objects.in_workspace(service_ws).get()
    stranger = make_agent(other_workspace, "Stranger", "8001", role="administrator")
    for user, denied in ((nobody, 403), (stranger, None)):
        client = client_for(user)
        if denied:
            for url in (
                "/service/calls/",
                f"/service/calls/{head.pk}/",
                "/service/calls/settings/",
                "/service/calls/new-caller/?phone=%2B8613800138000",
                "/service/calls/choose/?call=c1",
                "/service/calls/pops/next/",
                "/service/calls/pops/stream/",
            ):
                assert client.get(url).status_code == denied, url
            for url in (
                "/service/calls/dial/",
                "/service/calls/settings/provider/",
                f"/service/calls/pops/{pop.pk}/claim/",
            ):
                assert client.post(url, {"phone": KNOWN, "provider": "console"}).status_code == 403
        else:
            assert client.get(f"/service/calls/{head.pk}/").status_code == 404
            assert client.get("/service/calls/choose/?call=c1").status_code == 404
            assert (
                f"/service/calls/{head.pk}/" not in client.get("/service/calls/").content.decode()
            )
            assert "event: pop" not in read_stream(client)
            assert client.get("/service/calls/pops/next/").status_code == 204
            assert client.post(f"/service/calls/pops/{pop.pk}/claim/").status_code == 409
    pop.refresh_from_db()
    assert pop.delivered_at is None
    assert not CallEvent.objects.in_workspace(other_workspace).exists()
    assert not ProviderAccount.objects.across_workspaces().exists()
