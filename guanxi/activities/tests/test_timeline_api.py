"""``/timeline`` and ``/commitments``: reading and logging, promises made and closed; other
workspaces get 404, missing rights 403, bad input the documented 400/422."""

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.activities.models import Commitment, TimelineEntry
from guanxi.activities.services.commitments import commitment_create
from guanxi.activities.services.timeline import record_entry
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.tests.factories import TeamFactory, UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace)


@pytest.fixture
def rep(workspace, team):
    return UserFactory(workspace=workspace, role_code="sales_rep", full_name="王伟", team=team)


@pytest.fixture
def manager(workspace, team):
    return UserFactory(workspace=workspace, role_code="sales_manager", team=team)


@pytest.fixture
def account(workspace, rep):
    return AccountFactory(workspace=workspace, owner=rep)


@pytest.fixture
def contact(workspace, rep, account):
    return ContactFactory(workspace=workspace, owner=rep, account=account, name="李经理")


def api_for(user, scopes=None) -> ApiClient:
    if scopes is None:
        scopes = ["read", "write", "admin"] if user.role.is_admin else ["read", "write"]
    return ApiClient(make_token(user, scopes=scopes))


def now_iso(minutes=-5) -> str:
    return (timezone.now() + dt.timedelta(minutes=minutes)).isoformat()


def test_log_read_and_page_through_a_timeline(workspace, rep, account, contact):
    api = api_for(rep)
    response = api.post(
        "/timeline",
        {
            "kind": "call",
            "occurred_at": now_iso(),
            "account_id": account.pk,
            "contact_ids": [contact.pk],
            "direction": "out",
            "outcome": "connected",
            "duration_seconds": 600,
            "subject": "回访",
            "commitment_text": "周五前寄样品",
            "commitment_due": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["summary"] == "Call · Outbound · Connected · 10 min"
    assert body["contacts"] == [{"id": contact.pk, "code": contact.code, "name": "李经理"}]
    assert body["author"] == {"id": rep.pk, "full_name": "王伟"}
    assert api.get(f"/timeline/{body['id']}").json()["subject"] == "回访"
    for i in range(5):
        record_entry(
            workspace=workspace,
            author=rep,
            kind="note",
            account=account,
            subject=f"n{i}",
            occurred_at=timezone.now() - dt.timedelta(days=i + 1),
        )
    first = api.get("/timeline", account_id=account.pk, limit=3).json()
    assert [e["kind"] for e in first["items"]] == ["commitment", "call", "note"]
    second = api.get(
        "/timeline", account_id=account.pk, limit=3, cursor=first["next_cursor"]
    ).json()
    third = api.get(
        "/timeline", account_id=account.pk, limit=3, cursor=second["next_cursor"]
    ).json()
    assert [e["subject"] for e in second["items"] + third["items"]] == ["n1", "n2", "n3", "n4"]
    assert third["next_cursor"] is None
    by_contact = api.get("/timeline", contact_id=contact.pk).json()["items"]
    assert [e["kind"] for e in by_contact] == ["commitment", "call"]
    calls = api.get("/timeline", account_id=account.pk, kind="call").json()["items"]
    assert [e["kind"] for e in calls] == ["call"]
    since = (timezone.now() - dt.timedelta(days=2, hours=12)).isoformat()
    recent = api.get("/timeline", account_id=account.pk, since=since, kind="note").json()
    assert [e["subject"] for e in recent["items"]] == ["n0", "n1"]
    until = (timezone.now() - dt.timedelta(days=4, hours=12)).isoformat()
    old = api.get("/timeline", account_id=account.pk, until=until).json()
    assert [e["subject"] for e in old["items"]] == ["n4"]
    by_author = api.get("/timeline", account_id=account.pk, author_id=999).json()
    assert by_author["items"] == []


def test_bad_input_is_a_documented_error_and_writes_nothing(workspace, rep, account):
    api = api_for(rep)
    error = assert_error(
        api.post(
            "/timeline", {"kind": "visit", "occurred_at": now_iso(60), "account_id": account.pk}
        ),
        400,
    )
    assert {"occurred_at", "subtype"} <= set(error["fields"])
    assert_error(api.post("/timeline", {"kind": "system", "occurred_at": now_iso()}), 422)
    assert_error(api.post("/timeline", {"kind": "note", "occurred_at": "soon"}), 422)
    error = assert_error(
        api.post("/timeline", {"kind": "note", "occurred_at": now_iso(), "body": "x"}), 400
    )
    assert "account_id" in error["fields"]
    assert_error(api.get("/timeline"), 400, "customer_required")
    assert_error(
        api.get("/timeline", account_id=account.pk, contact_id=1), 400, "customer_required"
    )
    assert_error(
        api.get("/timeline", account_id=account.pk, cursor="garbage"), 400, "invalid_cursor"
    )
    assert_error(api.get("/timeline", account_id=account.pk, kind="fax"), 422)
    assert not TimelineEntry.objects.in_workspace(workspace).exists()


def test_another_workspace_gets_404(workspace, rep, account, contact, other_admin):
    entry = record_entry(workspace=workspace, author=rep, kind="note", account=account, subject="x")
    promise = commitment_create(actor=rep, workspace=workspace, text="x", account_id=account.pk)
    api = api_for(other_admin)
    assert_error(api.get("/timeline", account_id=account.pk), 404)
    assert_error(api.get("/timeline", contact_id=contact.pk), 404)
    assert_error(api.get(f"/timeline/{entry.pk}"), 404)
    assert_error(
        api.post(
            "/timeline",
            {"kind": "note", "occurred_at": now_iso(), "body": "x", "account_id": account.pk},
        ),
        404,
    )
    assert_error(api.get(f"/commitments/{promise.pk}"), 404)
    assert_error(api.patch(f"/commitments/{promise.pk}", {"text": "y"}), 404)
    assert_error(api.post(f"/commitments/{promise.pk}/close", {"status": "kept"}), 404)
    assert_error(api.post("/commitments", {"text": "x", "account_id": account.pk}), 404)
    assert api.get("/commitments").json()["items"] == []
    assert api.get("/commitments", account_id=account.pk).json()["items"] == []
    promise.refresh_from_db()
    assert promise.status == "open" and promise.text == "x"


def test_a_colleague_who_cannot_see_the_customer_gets_404(workspace, rep, account):
    entry = record_entry(workspace=workspace, author=rep, kind="note", account=account, subject="x")
    colleague = UserFactory(workspace=workspace, role_code="sales_rep")  # reps see their own
    api = api_for(colleague)
    assert_error(api.get("/timeline", account_id=account.pk), 404)
    assert_error(api.get(f"/timeline/{entry.pk}"), 404)
    commitment_create(actor=rep, workspace=workspace, text="x", account_id=account.pk)
    assert api.get("/commitments").json()["items"] == []


def test_without_the_rights_403(workspace, rep, account):
    viewer = UserFactory(workspace=workspace, role_code="read_only")
    api = api_for(viewer)
    assert_error(
        api.post(
            "/timeline",
            {"kind": "note", "occurred_at": now_iso(), "body": "x", "account_id": account.pk},
        ),
        403,
    )
    assert_error(api.post("/commitments", {"text": "x", "account_id": account.pk}), 403)
    promise = commitment_create(actor=rep, workspace=workspace, text="x", account_id=account.pk)
    assert_error(api.post(f"/commitments/{promise.pk}/close", {"status": "kept"}), 403)
    assert_error(api.patch(f"/commitments/{promise.pk}", {"text": "y"}), 403)
    # A read-only token may read but not write.
    token_api = api_for(rep, scopes=["read"])
    assert token_api.get("/timeline", account_id=account.pk).status_code == 200
    assert_error(token_api.post("/commitments", {"text": "x", "account_id": account.pk}), 403)
    # A role without the entry read right: the timeline is empty; an entry is not found.
    from guanxi.platform.models import Role

    role = Role.objects.in_workspace(workspace).get(code="sales_rep")
    rights = dict(role.rights)
    rights.pop("activities.entry")
    role.rights = rights
    role.save()
    entry = record_entry(workspace=workspace, author=rep, kind="note", account=account, subject="x")
    api = api_for(rep)
    assert api.get("/timeline", account_id=account.pk).json()["items"] == []
    assert_error(api.get(f"/timeline/{entry.pk}"), 404)


def test_private_entries(workspace, rep, manager, account, team):
    private = record_entry(
        workspace=workspace, author=rep, kind="note", account=account, subject="私", is_private=True
    )
    outsider = UserFactory(
        workspace=workspace, role_code="sales_manager", team=TeamFactory(workspace=workspace)
    )
    from guanxi.platform.models import RecordShare

    RecordShare.objects.create(
        workspace=workspace, object_key="customers.account", object_id=account.pk, user=outsider
    )
    assert api_for(manager).get(f"/timeline/{private.pk}").status_code == 200
    assert_error(api_for(outsider).get(f"/timeline/{private.pk}"), 404)
    assert api_for(outsider).get("/timeline", account_id=account.pk).json()["items"] == []


def test_commitments_flow(workspace, rep, manager, account, contact):
    api = api_for(rep)
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    response = api.post(
        "/commitments", {"text": "两天内答复", "due_date": due, "contact_id": contact.pk}
    )
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["status"] == "open" and made["account_id"] == account.pk
    assert made["promised_by"] == {"id": rep.pk, "full_name": "王伟"} and not made["is_overdue"]
    error = assert_error(
        api.post(
            "/commitments",
            {"text": "x", "due_date": "2000-01-01", "account_id": account.pk},
        ),
        400,
    )
    assert "due_date" in error["fields"]
    assert_error(
        api.post(
            "/commitments", {"text": "x", "account_id": account.pk, "promised_by_id": manager.pk}
        ),
        403,
        "assign_denied",
    )
    changed = api.patch(f"/commitments/{made['id']}", {"text": "三天内答复", "due_date": None})
    assert changed.status_code == 200 and changed.json()["due_date"] is None
    closed = api.post(
        f"/commitments/{made['id']}/close", {"status": "broken", "resolution": "客户失联"}
    )
    assert closed.json()["status"] == "broken" and closed.json()["resolution"] == "客户失联"
    assert_error(
        api.post(f"/commitments/{made['id']}/close", {"status": "kept"}), 409, "commitment_closed"
    )
    assert_error(api.post(f"/commitments/{made['id']}/close", {"status": "open"}), 422)
    assert_error(api.patch(f"/commitments/{made['id']}", {"text": "x"}), 409)
    for_manager = api_for(manager).post(
        "/commitments", {"text": "经理代记", "account_id": account.pk, "promised_by_id": rep.pk}
    )
    assert for_manager.status_code == 201
    assert for_manager.json()["promised_by"]["id"] == rep.pk
    listing = api.get("/commitments", account_id=account.pk).json()["items"]
    assert [c["text"] for c in listing] == ["经理代记", "三天内答复"]
    assert [c["text"] for c in api.get("/commitments", status="broken").json()["items"]] == [
        "三天内答复"
    ]
    assert api.get("/commitments", promised_by=manager.pk).json()["items"] == []
    assert len(api.get("/commitments", contact_id=contact.pk).json()["items"]) == 1
    assert_error(api.get("/commitments", status="done"), 422)
    kinds = [e["summary"] for e in api.get("/timeline", account_id=account.pk).json()["items"]]
    assert kinds == ["王伟 promised", "Promise broken", "王伟 promised"]
    assert Commitment.objects.in_workspace(workspace).count() == 2
