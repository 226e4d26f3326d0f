"""The calls API: the log (one row per call, filters, cursor pages), one call with its
events, click-to-call with declared errors, my pops and their acknowledgement; another
workspace's ids are 404, users without the right 403."""

from __future__ import annotations

import pytest

from guanxi.integrations.models import ProviderAccount, ProviderKind
from guanxi.integrations.telephony import CallEventData
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token
from guanxi.service.models import CallEvent, ScreenPop
from guanxi.service.services import telephony as services

from .calls_support import *  # noqa: F403
from .calls_support import KNOWN, UNKNOWN, make_agent

pytestmark = pytest.mark.django_db


def api_for(user) -> ApiClient:
    return ApiClient(make_token(user, scopes=["read", "write"]))


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


def test_the_log_and_one_call(service_ws, agent_a, agent_b, caller):
    ring(service_ws, "c1")
    ring(service_ws, "c1", kind="ended", duration_seconds=30, outcome="completed")
    for i in range(3):
        ring(service_ws, f"u{i}", caller=UNKNOWN)
    ring(service_ws, "for-b", agent="8002")
    api = api_for(agent_a)
    body = api.get("/service/calls", limit=2).json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    rest = api.get("/service/calls", limit=10, cursor=body["next_cursor"]).json()
    items = body["items"] + rest["items"]
    assert [i["call_id"] for i in items] == ["u2", "u1", "u0", "c1"]
    c1 = items[-1]
    assert c1["contact"]["name"] == "张伟" and c1["duration_seconds"] == 30
    assert c1["outcome"] == "completed" and c1["entry_id"] and c1["number"] == KNOWN
    assert api.get("/service/calls", direction="out").json()["items"] == []
    assert [
        i["call_id"] for i in api.get("/service/calls", outcome="completed").json()["items"]
    ] == ["c1"]
    one = api.get(f"/service/calls/{c1['id']}").json()
    assert [e["kind"] for e in one["events"]] == ["ringing", "ended"]
    # Agent B's call is not agent A's to see.
    head_b = CallEvent.objects.in_workspace(service_ws).get(call_id="for-b")
    assert_error(api.get(f"/service/calls/{head_b.pk}"), 404)
    assert_error(api.get("/service/calls", direction="sideways"), 422)


def test_dial_and_its_errors(service_ws, agent_a, caller):
    api = api_for(agent_a)
    assert_error(api.post("/service/calls/dial", {"phone": KNOWN}), 409, "no_provider")
    ProviderAccount.objects.create(
        workspace=service_ws, kind=ProviderKind.TELEPHONY, provider="console"
    )
    assert_error(api.post("/service/calls/dial", {"phone": "nope"}), 400, "invalid_phone")
    assert_error(api.post("/service/calls/dial", {}), 422)
    response = api.post("/service/calls/dial", {"phone": KNOWN})
    assert response.status_code == 200, response.content
    assert response.json()["number"] == KNOWN
    assert CallEvent.objects.in_workspace(service_ws).get().kind == "dialing"


def test_my_pops_and_ack(service_ws, agent_a, agent_b, caller):
    ring(service_ws, "c1")
    pop = ScreenPop.objects.in_workspace(service_ws).get()
    mine = api_for(agent_a).get("/service/calls/pops").json()
    assert [p["id"] for p in mine] == [pop.pk] and mine[0]["contact"]["name"] == "张伟"
    assert api_for(agent_b).get("/service/calls/pops").json() == []
    assert_error(api_for(agent_b).post(f"/service/calls/pops/{pop.pk}/ack"), 404)
    acked = api_for(agent_a).post(f"/service/calls/pops/{pop.pk}/ack").json()
    assert acked["delivered_at"] is not None
    assert api_for(agent_a).get("/service/calls/pops").json() == []


def test_no_right_and_another_workspace(service_ws, agent_a, caller, nobody, other_workspace):
    ring(service_ws, "c1")
    head = CallEvent.objects.in_workspace(service_ws).get()
    pop = ScreenPop.objects.in_workspace(service_ws).get()
    api = api_for(nobody)
    assert_error(api.get("/service/calls"), 403)
    assert_error(api.get(f"/service/calls/{head.pk}"), 403)
    assert_error(api.get("/service/calls/pops"), 403)
    assert_error(api.post(f"/service/calls/pops/{pop.pk}/ack"), 403)
    assert_error(api.post("/service/calls/dial", {"phone": KNOWN}), 403)
    stranger = make_agent(other_workspace, "Stranger", "8001", role="administrator")
    api = api_for(stranger)
    assert api.get("/service/calls").json()["items"] == []
    assert_error(api.get(f"/service/calls/{head.pk}"), 404)
    assert api.get("/service/calls/pops").json() == []
    assert_error(api.post(f"/service/calls/pops/{pop.pk}/ack"), 404)
    pop.refresh_from_db()
    assert pop.delivered_at is None
    read_only = ApiClient(make_token(agent_a, scopes=["read"]))
    assert_error(read_only.post("/service/calls/dial", {"phone": KNOWN}), 403)
