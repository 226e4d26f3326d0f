"""The call centre in the browser: two agents signed in side by side; a signed webhook for
agent A's extension with a known customer's number pops that customer on A's page within a
second and on nobody else's; A opens the pop and lands on the customer's 360° page; an
unknown number pops the new-caller form; a click on a phone number dials through the
console provider."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from guanxi.integrations import signatures

pytestmark = pytest.mark.e2e

KNOWN = "+8613800138000"
UNKNOWN = "+8613911112222"


def _signed_post(base: str, account, payload: dict) -> dict:
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    headers.update(signatures.signed_headers(account.secret, body))
    request = urllib.request.Request(
        f"{base}/hooks/telephony/{account.public_key}/", data=body, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _ringing(call_id: str, caller: str, agent: str) -> dict:
    return {
        "event_id": f"{call_id}-ringing",
        "call_id": call_id,
        "kind": "ringing",
        "direction": "in",
        "caller": caller,
        "callee": "+862100000000",
        "agent": agent,
        "timestamp": int(time.time()),
    }


def _agent_page(browser, live_server, email, password, login):
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    login(page, email, password)
    page.goto("/service/calls/")
    # The widget loads after the page and opens the stream.
    page.wait_for_function(
        "() => window.guanxiCalls && window.guanxiCalls.source "
        "&& window.guanxiCalls.source.readyState === 1"
    )
    return context, page


def test_an_incoming_call_pops_the_right_customer_for_the_right_agent(
    browser, live_server, workspace_admin, login, screenshot
):
    from guanxi.customers.tests.factories import AccountFactory, ContactFactory
    from guanxi.integrations.models import ProviderAccount, ProviderKind
    from guanxi.platform.tests.factories import TEST_PASSWORD, UserFactory
    from guanxi.service.models import AgentProfile, CallEvent
    from guanxi.service.services.case_types import service_setup

    workspace = workspace_admin.workspace
    service_setup(workspace)
    agents = []
    for n, extension in ((1, "8001"), (2, "8002")):
        user = UserFactory(
            workspace=workspace,
            role_code="service_agent",
            email=f"agent{n}@calls.example.com",
            full_name=f"Agent {n}",
        )
        AgentProfile.objects.create(workspace=workspace, user=user, phone_extension=extension)
        agents.append(user)
    company = AccountFactory(workspace=workspace, name="Acme")
    customer = ContactFactory(workspace=workspace, name="张伟", account=company, mobile=KNOWN)
    account = ProviderAccount.objects.create(
        workspace=workspace, kind=ProviderKind.TELEPHONY, provider="console"
    )

    context_a, page_a = _agent_page(browser, live_server, agents[0].email, TEST_PASSWORD, login)
    context_b, page_b = _agent_page(browser, live_server, agents[1].email, TEST_PASSWORD, login)
    try:
        sent = time.monotonic()
        answer = _signed_post(live_server.url, account, _ringing("e2e-1", KNOWN, "8001"))
        assert answer["pops"] == 1
        banner = page_a.locator(".call-pop")
        banner.wait_for(timeout=5_000)
        seen = time.monotonic() - sent
        assert seen < 1.0, f"the pop took {seen:.2f} s"
        assert "Incoming call from 张伟 (Acme)" in banner.inner_text()
        page_b.wait_for_timeout(800)
        assert page_b.locator(".call-pop").count() == 0
        screenshot(page_a, "calls-pop")
        banner.locator("a.call-pop-open").click()
        page_a.wait_for_url(f"**/customers/contacts/{customer.pk}/")
        assert "张伟" in page_a.content()

        # An unknown number: the new-caller form, and no customer made.
        page_a.wait_for_function(
            "() => window.guanxiCalls && window.guanxiCalls.source "
            "&& window.guanxiCalls.source.readyState === 1"
        )
        _signed_post(live_server.url, account, _ringing("e2e-2", UNKNOWN, "8001"))
        unknown = page_a.locator(".call-pop")
        unknown.wait_for(timeout=5_000)
        unknown.locator("a.call-pop-open").click()
        page_a.wait_for_url("**/service/calls/new-caller/**")
        assert UNKNOWN in page_a.content()
        screenshot(page_a, "calls-new-caller")

        # Click-to-call on the customer's phone number: the console provider dials.
        page_a.goto(f"/customers/contacts/{customer.pk}/")
        page_a.wait_for_function("() => document.body.dataset.dialUrl")
        page_a.locator(f'a[href="tel:{KNOWN}"]').first.click()
        page_a.locator(".toast").first.wait_for()
        dialled = CallEvent.objects.in_workspace(workspace).filter(kind="dialing")
        assert dialled.count() == 1
        row = dialled.get()
        assert row.callee == KNOWN and row.agent_id == agents[0].pk and row.caller == "8001"

        # The call log on a phone: one row per call, nothing scrolls sideways.
        page_a.set_viewport_size({"width": 390, "height": 844})
        page_a.goto("/service/calls/")
        rows = page_a.locator("#call-rows tr")
        assert rows.count() == 3  # two incoming calls and the one dialled
        assert "张伟" in page_a.locator("#call-rows").inner_text()
        width = page_a.evaluate("document.scrollingElement.scrollWidth")
        assert width <= 390, f"the call log is {width}px wide on a 390px screen"
        screenshot(page_a, "calls-log-phone")
    finally:
        context_a.close()
        context_b.close()
