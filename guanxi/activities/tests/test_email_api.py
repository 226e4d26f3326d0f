"""The e-mail endpoints: they work, refuse another workspace's ids (404) and users without
the right (403), and answer bad input with the documented error shape."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from guanxi.activities.models import (
    EmailAttachment,
    EmailMessage,
    EmailStatus,
    EmailTemplate,
    Mailbox,
)
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.models import AuditEntry
from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token

pytestmark = pytest.mark.django_db


def api_for(user, scopes=None) -> ApiClient:
    if scopes is None:
        scopes = ["read", "write", "admin"] if user.role.is_admin else ["read", "write"]
    return ApiClient(make_token(user, scopes=scopes))


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace)


@pytest.fixture
def manager(workspace):
    return UserFactory(workspace=workspace, role_code="sales_manager")


@pytest.fixture
def contact(workspace, rep):
    account = AccountFactory(workspace=workspace, owner=rep)
    return ContactFactory(workspace=workspace, owner=rep, account=account, email="c@cust.cn")


def inbound(workspace, **kwargs) -> EmailMessage:
    values = {
        "direction": "in",
        "status": EmailStatus.TRIAGE,
        "from_address": "x@unknown.cn",
        "subject": "hello",
        "body_text": "hi",
    }
    values.update(kwargs)
    return EmailMessage.objects.create(workspace=workspace, **values)


def attach(email, data=b"data", name="a.pdf") -> EmailAttachment:
    att = EmailAttachment(
        workspace_id=email.workspace_id, message=email, filename=name, size=len(data)
    )
    att.file.save("x.pdf", ContentFile(data), save=False)
    att.save()
    return att


# --- templates -------------------------------------------------------------------------------


def test_templates_crud(manager, rep):
    api = api_for(manager)
    response = api.post(
        "/email-templates",
        {"name": "跟进", "subject": "{{ account.name }}", "body": "{{ contact.name }}您好"},
    )
    assert response.status_code == 201, response.content
    tid = response.json()["id"]
    assert api_for(rep).get("/email-templates").json()["items"][0]["id"] == tid
    assert api_for(rep).get(f"/email-templates/{tid}").json()["language"] == "zh-hans"
    response = api.patch(f"/email-templates/{tid}", {"language": "en"})
    assert response.status_code == 200 and response.json()["language"] == "en"
    assert api.delete(f"/email-templates/{tid}").status_code == 204


def test_templates_bad_input_and_rights(workspace, manager, rep, other_admin):
    api = api_for(manager)
    error = assert_error(
        api.post("/email-templates", {"name": "x", "subject": "s", "body": "{{ secret }}"}),
        400,
        "unknown_placeholder",
    )
    assert "body" in error["fields"]
    assert_error(
        api.post("/email-templates", {"name": "x", "subject": "s", "body": "b", "language": "fr"}),
        422,
    )
    assert not EmailTemplate.objects.filter(workspace=workspace).exists()
    assert_error(
        api_for(rep).post("/email-templates", {"name": "x", "subject": "s", "body": "b"}), 403
    )
    tid = api.post("/email-templates", {"name": "x", "subject": "s", "body": "b"}).json()["id"]
    assert_error(api_for(rep).patch(f"/email-templates/{tid}", {"name": "y"}), 403)
    assert_error(api_for(rep).delete(f"/email-templates/{tid}"), 403)
    foreign = api_for(other_admin)
    assert_error(foreign.get(f"/email-templates/{tid}"), 404)
    assert_error(foreign.patch(f"/email-templates/{tid}", {"name": "y"}), 404)
    assert_error(foreign.delete(f"/email-templates/{tid}"), 404)


# --- sending and reading ------------------------------------------------------------------------


def test_send_list_get(workspace, rep, contact, smtp_server, django_capture_on_commit_callbacks):
    api = api_for(rep)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/emails", {"contact_id": contact.pk, "subject": "报价", "body": "{{ contact.name }}"}
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and body["to"] == ["c@cust.cn"]
    assert len(smtp_server.messages) == 1
    items = api.get("/emails", contact_id=contact.pk).json()["items"]
    assert [i["id"] for i in items] == [body["id"]] and items[0]["status"] == "sent"
    assert api.get("/emails", direction="in").json()["items"] == []
    assert api.get(f"/emails/{body['id']}").json()["message_id"] == body["message_id"]


def test_send_refusals(workspace, rep, contact, other_admin, django_capture_on_commit_callbacks):
    api = api_for(rep)
    error = assert_error(
        api.post(
            "/emails",
            {"contact_id": contact.pk, "subject": "s", "body": "b", "purpose": "marketing"},
        ),
        400,
        "no_marketing_consent",
    )
    assert "service mail" in error["message"]
    assert_error(
        api.post(
            "/emails", {"contact_id": contact.pk, "to": ["nope"], "subject": "s", "body": "b"}
        ),
        400,
        "invalid_address",
    )
    assert_error(api.post("/emails", {"subject": "s", "body": "b"}), 400, "no_customer")
    assert_error(
        api.post("/emails", {"contact_id": contact.pk, "subject": "s\x00", "body": "b"}), 422
    )
    assert not EmailMessage.objects.filter(workspace=workspace).exists()
    assert_error(
        api_for(other_admin).post(
            "/emails", {"contact_id": contact.pk, "subject": "s", "body": "b"}
        ),
        404,
    )
    reader = UserFactory(workspace=workspace, role_code="read_only")
    assert_error(
        api_for(reader).post("/emails", {"contact_id": contact.pk, "subject": "s", "body": "b"}),
        403,
    )
    assert_error(api_for(rep, scopes=["read"]).post("/emails", {"contact_id": contact.pk}), 403)


def test_reading_follows_customer_visibility_and_workspace(workspace, rep, contact, other_admin):
    email = inbound(workspace, status=EmailStatus.FILED, contact=contact)
    att = attach(email, b"%PDF")
    api = api_for(rep)
    response = api.get(f"/emails/{email.pk}/attachments/{att.pk}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF"
    assert "attachment" in response["Content-Disposition"]
    other_rep = UserFactory(workspace=workspace)
    assert_error(api_for(other_rep).get(f"/emails/{email.pk}"), 404)
    assert_error(api_for(other_rep).get(f"/emails/{email.pk}/attachments/{att.pk}"), 404)
    assert api_for(other_rep).get("/emails").json()["items"] == []
    foreign = api_for(other_admin)
    assert_error(foreign.get(f"/emails/{email.pk}"), 404)
    assert_error(foreign.get(f"/emails/{email.pk}/attachments/{att.pk}"), 404)
    assert foreign.get("/emails").json()["items"] == []
    other_email = inbound(workspace, status=EmailStatus.FILED, contact=contact)
    assert_error(api.get(f"/emails/{other_email.pk}/attachments/{att.pk}"), 404)


# --- triage ----------------------------------------------------------------------------------------


def test_triage_file_and_dismiss(workspace, rep, manager, contact, other_admin):
    mine = inbound(workspace, assigned_to=rep, subject="mine")
    theirs = inbound(workspace, subject="unassigned")
    api = api_for(rep)
    assert [i["id"] for i in api.get("/email-triage").json()["items"]] == [mine.pk]
    assert {i["id"] for i in api_for(manager).get("/email-triage").json()["items"]} == {
        mine.pk,
        theirs.pk,
    }
    assert_error(api.post(f"/emails/{theirs.pk}/dismiss"), 404)
    assert_error(api.post(f"/emails/{mine.pk}/file", {}), 400, "no_customer")
    response = api.post(f"/emails/{mine.pk}/file", {"contact_id": contact.pk, "add_address": True})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "filed" and response.json()["contact_id"] == contact.pk
    assert_error(api.post(f"/emails/{mine.pk}/dismiss"), 409, "not_in_triage")
    assert_error(api_for(other_admin).post(f"/emails/{theirs.pk}/dismiss"), 404)
    assert_error(
        api_for(other_admin).post(f"/emails/{theirs.pk}/file", {"contact_id": contact.pk}), 404
    )
    assert api_for(manager).post(f"/emails/{theirs.pk}/dismiss").json()["status"] == "dismissed"
    reader = UserFactory(workspace=workspace, role_code="read_only")
    third = inbound(workspace, assigned_to=reader)
    assert_error(api_for(reader).post(f"/emails/{third.pk}/dismiss"), 403)
    assert_error(api_for(reader).post(f"/emails/{third.pk}/file", {"contact_id": contact.pk}), 403)


# --- mailboxes -------------------------------------------------------------------------------------


def test_mailboxes_crud_never_shows_the_password(workspace, admin_user, rep, other_admin):
    api = api_for(admin_user)
    payload = {
        "name": "销售",
        "address": "Sales@CRM.example.com",
        "host": "imap.example.com",
        "username": "sales",
        "password": "s3cret-pass",
        "triage_owner_id": rep.pk,
    }
    response = api.post("/mailboxes", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert "password" not in body and body["address"] == "sales@crm.example.com"
    mid = body["id"]
    assert "s3cret" not in api.get("/mailboxes").content.decode()
    assert api.get(f"/mailboxes/{mid}").json()["host"] == "imap.example.com"
    response = api.patch(f"/mailboxes/{mid}", {"password": "n3w-secret", "port": 1993})
    assert response.status_code == 200 and response.json()["port"] == 1993
    assert Mailbox.objects.get(workspace=workspace, pk=mid).password == "n3w-secret"
    logged = AuditEntry.objects.filter(workspace=workspace, object_id=str(mid))
    assert logged.count() >= 2
    assert not any("secret" in str(entry.changes) for entry in logged)
    assert_error(api.patch(f"/mailboxes/{mid}", {"port": 0}), 422)
    assert_error(api.patch(f"/mailboxes/{mid}", {"triage_owner_id": other_admin.pk}), 400)
    assert_error(api.post("/mailboxes", {**payload, "address": "nope"}), 400)
    for user in (rep,):
        denied = api_for(user)
        assert_error(denied.get("/mailboxes"), 403)
        assert_error(denied.get(f"/mailboxes/{mid}"), 403)
        assert_error(denied.post("/mailboxes", payload), 403)
        assert_error(denied.patch(f"/mailboxes/{mid}", {"name": "x"}), 403)
        assert_error(denied.delete(f"/mailboxes/{mid}"), 403)
        assert_error(denied.post(f"/mailboxes/{mid}/test"), 403)
        assert_error(denied.post(f"/mailboxes/{mid}/fetch"), 403)
    assert_error(api_for(admin_user, scopes=["read", "write"]).get("/mailboxes"), 403)
    foreign = api_for(other_admin)
    assert_error(foreign.get(f"/mailboxes/{mid}"), 404)
    assert_error(foreign.patch(f"/mailboxes/{mid}", {"name": "x"}), 404)
    assert_error(foreign.delete(f"/mailboxes/{mid}"), 404)
    assert_error(foreign.post(f"/mailboxes/{mid}/test"), 404)
    assert_error(foreign.post(f"/mailboxes/{mid}/fetch"), 404)
    assert api.delete(f"/mailboxes/{mid}").status_code == 204


def test_mailbox_test_and_fetch_against_dovecot(
    workspace, admin_user, dovecot, imap_folder, django_capture_on_commit_callbacks
):
    api = api_for(admin_user)
    mid = api.post(
        "/mailboxes",
        {
            "name": "m",
            "address": "m@crm.example.com",
            "host": "127.0.0.1",
            "port": dovecot.port,
            "use_ssl": False,
            "username": dovecot.user,
            "password": dovecot.password,
            "folder": imap_folder,
        },
    ).json()["id"]
    dovecot.deliver(b"From: a@b.cn\r\nSubject: hi\r\n\r\nbody\r\n", imap_folder)
    assert api.post(f"/mailboxes/{mid}/test").json() == {"ok": True, "messages": 1}
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/mailboxes/{mid}/fetch").status_code == 202
    assert api.get("/email-triage").json()["items"][0]["subject"] == "hi"
    api.patch(f"/mailboxes/{mid}", {"password": "wrong"})
    assert_error(api.post(f"/mailboxes/{mid}/test"), 409, "imap_failed")
