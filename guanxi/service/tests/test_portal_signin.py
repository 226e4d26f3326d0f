"""Signing in to the portal with a one-time code: sent by e-mail (through a real SMTP server
on loopback) or SMS (the outbox), only a hash stored, wrong codes, expiry, five tries, one
use, a new code voiding the old, rate limits, the same answer for unknown addresses, the
session cookie (HttpOnly, SameSite=Lax, scoped to the workspace's portal), sliding expiry,
sign-out, separate sessions per workspace, and CSRF on the forms."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.customers.models import ContactPoint
from guanxi.customers.tests.factories import ContactFactory
from guanxi.integrations.models import SmsMessage
from guanxi.platform.models import AuditEntry
from guanxi.platform.tests.factories import WorkspaceFactory
from guanxi.service.models import PortalCode, PortalSession
from guanxi.service.portal_views import SESSION_COOKIE, VISITOR_COOKIE
from guanxi.service.services import portal as services
from guanxi.service.services.case_types import service_setup

from .portal_support import *  # noqa: F403
from .portal_support import EMAIL, MOBILE, code_from_text, last_sms_code, portal_url, sign_in

pytestmark = pytest.mark.django_db
# What differs between two renderings of one page: the CSRF token and the CSP nonce.
VOLATILE = re.compile(r'(name="csrfmiddlewaretoken" value="|Nonce": "|nonce="|CSRFToken": ")[^"]*"')


def _ask(client, ws, destination, **extra):
    return client.post(portal_url(ws, "sign_in"), {"destination": destination}, **extra)


def _enter(client, ws, destination, code):
    return client.post(portal_url(ws, "sign_in_code"), {"destination": destination, "code": code})


def _codes(ws):
    return PortalCode.objects.in_workspace(ws).order_by("id")


# --- the code by e-mail and by SMS ---------------------------------------------------------------


def test_code_by_email_signs_in_with_a_scoped_cookie(
    client, portal_ws, customer, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _ask(client, portal_ws, "  Wang.Fang@Example.com ")
    assert response.status_code == 200
    assert "a 6-digit code is on its way" in response.content.decode()
    row = _codes(portal_ws).get()
    assert (row.contact_id, row.destination, row.attempts) == (customer.pk, EMAIL, 0)
    assert len(smtp_server.messages) == 1 and smtp_server.recipients == [[EMAIL]]
    mail = smtp_server.messages[0]
    code = code_from_text(mail["Subject"])
    assert code in mail.get_content()
    # Only a keyed hash is stored: not the code, not its plain SHA-256.
    assert code not in row.code_hash and len(row.code_hash) == 64
    import hashlib

    assert row.code_hash != hashlib.sha256(code.encode()).hexdigest()

    response = _enter(client, portal_ws, EMAIL, code)
    assert response.status_code == 302
    assert response["Location"] == portal_url(portal_ws, "cases")
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["path"] == f"/portal/{portal_ws.slug}/"
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert int(cookie["max-age"]) == 30 * 24 * 3600
    session = PortalSession.objects.in_workspace(portal_ws).get()
    assert session.contact_id == customer.pk and session.ended_at is None
    assert cookie.value not in session.token_hash  # the token is not stored
    row.refresh_from_db()
    assert row.used_at is not None
    assert (
        AuditEntry.objects.in_workspace(portal_ws)
        .filter(action="sign_in", object_key="customers.contact", object_id=str(customer.pk))
        .exists()
    )
    page = client.get(portal_url(portal_ws, "cases"))
    assert page.status_code == 200 and "王芳" in page.content.decode()


def test_session_cookie_is_secure_where_the_session_cookie_is(
    client, portal_ws, customer, settings
):
    settings.SESSION_COOKIE_SECURE = True
    first = _ask(client, portal_ws, MOBILE)
    assert first.cookies[VISITOR_COOKIE]["secure"] and first.cookies[VISITOR_COOKIE]["httponly"]
    response = _enter(client, portal_ws, MOBILE, last_sms_code(portal_ws))
    assert response.cookies[SESSION_COOKIE]["secure"]


def test_code_by_sms_with_its_idempotency_key(client, portal_ws, customer):
    response = _ask(client, portal_ws, "138 1234 5678")
    assert response.status_code == 200
    row = _codes(portal_ws).get()
    sms = SmsMessage.objects.in_workspace(portal_ws).get()
    assert (sms.phone, sms.purpose, sms.idempotency_key) == (
        MOBILE,
        "portal_code",
        f"portal-code:{row.pk}",
    )
    assert (sms.related_object_key, sms.related_object_id) == ("service.portal_code", row.pk)
    assert _enter(client, portal_ws, MOBILE, code_from_text(sms.body)).status_code == 302


def test_a_further_address_of_the_contact_works(client, portal_ws, customer):
    ContactPoint.objects.create(
        workspace=portal_ws, contact=customer, kind="phone", label="mobile", value="+8613700001111"
    )
    _ask(client, portal_ws, "13700001111")
    assert _codes(portal_ws).get().contact_id == customer.pk
    sign_in(client, portal_ws, "13700001111", code_of=lambda: last_sms_code(portal_ws))


# --- no enumeration ------------------------------------------------------------------------------


def _page_text(response) -> str:
    return VOLATILE.sub("", response.content.decode()).replace("nobody@example.com", EMAIL)


def test_unknown_and_known_addresses_get_the_same_answer(client, portal_ws, customer, smtp_server):
    known = _ask(client, portal_ws, EMAIL)
    unknown = _ask(Client(), portal_ws, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert _page_text(known) == _page_text(unknown)
    assert _codes(portal_ws).count() == 1  # none for the stranger
    # Entering a code for the unknown address says what a wrong code says.
    wrong_known = _enter(client, portal_ws, EMAIL, "000000")
    wrong_unknown = _enter(Client(), portal_ws, "nobody@example.com", "000000")
    assert wrong_known.status_code == wrong_unknown.status_code == 400
    assert _page_text(wrong_known) == _page_text(wrong_unknown)


def test_an_address_shared_by_two_contacts_gets_no_code(client, portal_ws, customer):
    ContactFactory(workspace=portal_ws, name="王芳的丈夫", email=EMAIL)
    response = _ask(client, portal_ws, EMAIL)
    assert response.status_code == 200
    assert not _codes(portal_ws).exists()


def test_erased_contacts_and_other_workspaces_get_no_code(client, portal_ws, customer):
    other = WorkspaceFactory()
    ContactFactory(workspace=other, name="别家", email="someone@example.com")
    _ask(client, portal_ws, "someone@example.com")
    assert not _codes(portal_ws).exists()
    customer.erased_at = timezone.now()
    customer.save(update_fields=["erased_at"])
    _ask(client, portal_ws, EMAIL)
    assert not _codes(portal_ws).exists()


def test_malformed_addresses_are_refused(client, portal_ws, customer):
    for raw in ("", "not an address", "12345", "+86 21 6123 4567", "a@b"):
        response = _ask(client, portal_ws, raw)
        assert response.status_code == 400, raw
    assert not _codes(portal_ws).exists()


# --- wrong codes, expiry, tries, reuse, a new code -------------------------------------------------


def test_a_wrong_code_counts_a_try_and_five_end_the_code(client, portal_ws, customer):
    _ask(client, portal_ws, MOBILE)
    code = last_sms_code(portal_ws)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for n in range(1, services.CODE_TRIES + 1):
        response = _enter(client, portal_ws, MOBILE, wrong)
        assert response.status_code == 400
        assert "wrong or no longer valid" in response.content.decode()
        assert _codes(portal_ws).get().attempts == n
    # The right code is refused now: five wrong tries used the code up.
    assert _enter(client, portal_ws, MOBILE, code).status_code == 400
    assert not PortalSession.objects.in_workspace(portal_ws).exists()


def test_malformed_codes_are_refused(client, portal_ws, customer):
    _ask(client, portal_ws, MOBILE)
    for code in ("", "12345", "1234567", "abcdef"):
        assert _enter(client, portal_ws, MOBILE, code).status_code == 400
    assert not PortalSession.objects.in_workspace(portal_ws).exists()


def test_an_expired_code_is_refused(client, portal_ws, customer):
    _ask(client, portal_ws, MOBILE)
    row = _codes(portal_ws).get()
    lifetime = row.expires_at - row.created_at
    assert dt.timedelta(minutes=10) - dt.timedelta(seconds=5) < lifetime <= dt.timedelta(minutes=10)
    PortalCode.objects.in_workspace(portal_ws).filter(pk=row.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert _enter(client, portal_ws, MOBILE, last_sms_code(portal_ws)).status_code == 400
    assert not PortalSession.objects.in_workspace(portal_ws).exists()


def test_a_code_works_once(client, portal_ws, customer):
    _ask(client, portal_ws, MOBILE)
    code = last_sms_code(portal_ws)
    assert _enter(client, portal_ws, MOBILE, code).status_code == 302
    assert _enter(Client(), portal_ws, MOBILE, code).status_code == 400
    assert PortalSession.objects.in_workspace(portal_ws).count() == 1


def test_a_new_code_voids_the_older_ones(client, portal_ws, customer):
    _ask(client, portal_ws, MOBILE)
    first = last_sms_code(portal_ws)
    _ask(client, portal_ws, EMAIL)  # another address of the same contact
    _ask(client, portal_ws, MOBILE)
    second = last_sms_code(portal_ws)
    rows = list(_codes(portal_ws))
    assert len(rows) == 3
    assert all(r.expires_at <= timezone.now() for r in rows[:2])
    if first != second:
        assert _enter(client, portal_ws, MOBILE, first).status_code == 400
    assert _enter(client, portal_ws, MOBILE, second).status_code == 302


# --- rate limits -----------------------------------------------------------------------------------


def test_codes_per_destination_are_limited_for_known_and_unknown_alike(client, portal_ws, customer):
    for destination in (MOBILE, "+8613600000000"):
        for _n in range(services.CODES_PER_DESTINATION):
            assert _ask(Client(), portal_ws, destination).status_code == 200
        refused = _ask(Client(), portal_ws, destination)
        assert refused.status_code == 429
        assert "Too many codes" in refused.content.decode()
    assert _codes(portal_ws).count() == services.CODES_PER_DESTINATION


def test_codes_per_ip_address_are_limited(client, portal_ws, customer):
    for n in range(services.CODES_PER_IP):
        response = _ask(client, portal_ws, f"person{n}@example.com", REMOTE_ADDR="10.1.2.3")
        assert response.status_code == 200
    assert _ask(client, portal_ws, EMAIL, REMOTE_ADDR="10.1.2.3").status_code == 429
    assert _ask(client, portal_ws, EMAIL, REMOTE_ADDR="10.1.2.4").status_code == 200
    assert _codes(portal_ws).get().ip == "10.1.2.4"


# --- sessions --------------------------------------------------------------------------------------


def test_sliding_expiry_and_sign_out(client, portal_ws, customer):
    sign_in(client, portal_ws, MOBILE, code_of=lambda: last_sms_code(portal_ws))
    session = PortalSession.objects.in_workspace(portal_ws).get()
    token = client.cookies[SESSION_COOKIE].value
    later = timezone.now() + dt.timedelta(days=20)
    found, refreshed = services.portal_session_resolve(workspace=portal_ws, token=token, now=later)
    assert found.pk == session.pk and refreshed
    session.refresh_from_db()
    assert session.expires_at == later + services.SESSION_TTL
    # 45 days after sign-in it still works: it moved on at day 20.
    found, _r = services.portal_session_resolve(
        workspace=portal_ws, token=token, now=later + dt.timedelta(days=25)
    )
    assert found is not None
    gone, _r = services.portal_session_resolve(
        workspace=portal_ws, token=token, now=later + dt.timedelta(days=25 + 31)
    )
    assert gone is None

    response = client.post(portal_url(portal_ws, "sign_out"))
    assert response.status_code == 302
    assert response.cookies[SESSION_COOKIE].value == ""
    session.refresh_from_db()
    assert session.ended_at is not None
    # The old token is dead even if a copy of the cookie is sent again.
    replay = Client()
    replay.cookies[SESSION_COOKIE] = token
    assert replay.get(portal_url(portal_ws, "cases")).status_code == 302


def test_a_page_visit_renews_the_cookie_when_the_session_moved_on(client, portal_ws, customer):
    sign_in(client, portal_ws, MOBILE, code_of=lambda: last_sms_code(portal_ws))
    quiet = client.get(portal_url(portal_ws, "cases"))
    assert SESSION_COOKIE not in quiet.cookies  # just signed in: nothing to renew
    PortalSession.objects.in_workspace(portal_ws).update(
        last_seen_at=timezone.now() - dt.timedelta(hours=1)
    )
    renewed = client.get(portal_url(portal_ws, "cases"))
    assert renewed.cookies[SESSION_COOKIE]["path"] == f"/portal/{portal_ws.slug}/"


def test_one_person_in_two_workspaces_has_two_sessions(client, portal_ws, customer):
    other_ws = WorkspaceFactory(name="别家公司")
    service_setup(other_ws)
    ContactFactory(workspace=other_ws, name="王芳", mobile=MOBILE)
    sign_in(client, portal_ws, MOBILE, code_of=lambda: last_sms_code(portal_ws))
    token = client.cookies[SESSION_COOKIE].value
    # The cookie is only sent below its own portal's path; sent by hand to the other
    # workspace's portal anyway, it is not a session there.
    assert services.portal_session_resolve(workspace=other_ws, token=token)[0] is None
    stranger = Client()
    stranger.cookies[SESSION_COOKIE] = token
    assert stranger.get(portal_url(other_ws, "cases")).status_code == 302
    sign_in(client, other_ws, MOBILE, code_of=lambda: last_sms_code(other_ws))
    sessions = PortalSession.objects.across_workspaces().filter(contact__mobile=MOBILE)
    assert sorted(s.workspace_id for s in sessions) == sorted([portal_ws.pk, other_ws.pk])


# --- CSRF --------------------------------------------------------------------------------------------


def test_forms_need_the_csrf_token(portal_ws, customer):
    strict = Client(enforce_csrf_checks=True)
    page = strict.get(portal_url(portal_ws, "sign_in"))
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    assert strict.post(portal_url(portal_ws, "sign_in"), {"destination": MOBILE}).status_code == 403
    assert not _codes(portal_ws).exists()
    token = strict.cookies["csrftoken"].value
    ok = strict.post(
        portal_url(portal_ws, "sign_in"), {"destination": MOBILE, "csrfmiddlewaretoken": token}
    )
    assert ok.status_code == 200 and _codes(portal_ws).count() == 1
    code = last_sms_code(portal_ws)
    forged = strict.post(
        portal_url(portal_ws, "sign_in_code"), {"destination": MOBILE, "code": code}
    )
    assert forged.status_code == 403
    assert not PortalSession.objects.in_workspace(portal_ws).exists()
