# ruff: noqa: F811  (pytest fixtures imported from test_quotes_support)
"""The quote endpoints: the whole path (create, lines, submit, approve, send, accept, PDF),
the 409 of a stale ``lock_version``, bad input answered with the documented error shape and
nothing written, another workspace's ids (404) and users without the right (403)."""

from __future__ import annotations

import pytest

from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import assert_error
from guanxi.sales.models import Order, Quote, QuoteLine

from .test_quotes_support import (  # noqa: F401
    _media_in_tmp,
    account,
    api_for,
    cabinet,
    catalog,
    contact,
    make_catalog,
    manager,
    outsider,
    pump,
    reader,
    rep,
    rep2,
    team,
)

pytestmark = pytest.mark.django_db


def create(api, account, product, **extra):
    body = {
        "account_id": account.pk,
        "lines": [{"product_id": product.pk, "quantity": "2", "discount_percent": "0"}],
        **extra,
    }
    return api.post("/quotes", body)


def test_the_whole_path(workspace, rep, manager, account, pump, cabinet):
    api = api_for(rep)
    response = create(api, account, pump, discount_percent="0")
    assert response.status_code == 201, response.content
    quote = response.json()
    assert quote["status"] == "draft" and quote["total"] == "226.00"
    assert quote["lines"][0]["list_price"] == "100.0000"
    response = api.post(
        f"/quotes/{quote['id']}/lines",
        {
            "lock_version": quote["lock_version"],
            "product_id": cabinet.pk,
            "quantity": "1",
            "discount_percent": "25",
        },
    )
    assert response.status_code == 201, response.content
    quote = response.json()
    assert [r["code"] for r in quote["approval_reasons"]] == ["line_discount", "overall_discount"]
    assert "25" in quote["approval_reasons"][0]["text"]
    assert_error(
        api.post(
            f"/quotes/{quote['id']}/send", {"lock_version": quote["lock_version"], "email": False}
        ),
        409,
        "approval_required",
    )
    response = api.post(
        f"/quotes/{quote['id']}/submit", {"lock_version": quote["lock_version"], "note": "战略客户"}
    )
    assert response.status_code == 201, response.content
    approval = response.json()
    assert approval["status"] == "pending" and approval["approver"]["id"] == manager.pk
    inbox = api_for(manager).get("/quote-approvals").json()
    assert [item["id"] for item in inbox["items"]] == [approval["id"]]
    assert_error(api.post(f"/quotes/{quote['id']}/approve", {}), 403)
    response = api_for(manager).post(f"/quotes/{quote['id']}/approve", {"comment": "好"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    quote = api.get(f"/quotes/{quote['id']}").json()
    assert quote["status"] == "approved"
    response = api.post(
        f"/quotes/{quote['id']}/send", {"lock_version": quote["lock_version"], "email": False}
    )
    assert response.status_code == 200, response.content
    quote = response.json()
    assert quote["status"] == "sent"
    response = api.post(f"/quotes/{quote['id']}/accept", {"lock_version": quote["lock_version"]})
    assert response.status_code == 200, response.content
    quote = response.json()
    assert quote["status"] == "accepted" and quote["order_id"]
    assert Order.objects.in_workspace(workspace).get(pk=quote["order_id"]).lines.count() == 2
    pdf = api.get(f"/quotes/{quote['id']}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_stale_lock_version_is_409_and_nothing_is_written(workspace, rep, manager, account, pump):
    quote = create(api_for(rep), account, pump).json()
    line_id = quote["lines"][0]["id"]
    ok = api_for(rep).patch(
        f"/quotes/{quote['id']}/lines/{line_id}",
        {"lock_version": quote["lock_version"], "quantity": "3"},
    )
    assert ok.status_code == 200, ok.content
    error = assert_error(
        api_for(manager).patch(
            f"/quotes/{quote['id']}/lines/{line_id}",
            {"lock_version": quote["lock_version"], "quantity": "9"},
        ),
        409,
        "stale_version",
    )
    assert "reload" in error["message"]
    assert_error(
        api_for(manager).patch(
            f"/quotes/{quote['id']}", {"lock_version": quote["lock_version"], "notes": "x"}
        ),
        409,
        "stale_version",
    )
    line = QuoteLine.objects.in_workspace(workspace).get(pk=line_id)
    assert str(line.quantity) == "3.000"
    assert Quote.objects.in_workspace(workspace).get().notes == ""


def test_lines_patch_delete_and_versions(workspace, rep, account, pump, cabinet):
    api = api_for(rep)
    quote = create(api, account, pump).json()
    quote = api.post(
        f"/quotes/{quote['id']}/lines",
        {"lock_version": quote["lock_version"], "product_id": cabinet.pk},
    ).json()
    assert len(api.get(f"/quotes/{quote['id']}/lines").json()) == 2
    second = quote["lines"][1]["id"]
    response = api.request(
        "DELETE", f"/quotes/{quote['id']}/lines/{second}", lock_version=quote["lock_version"]
    )
    assert response.status_code == 200, response.content
    quote = response.json()
    assert len(quote["lines"]) == 1
    quote = api.patch(
        f"/quotes/{quote['id']}",
        {"lock_version": quote["lock_version"], "discount_percent": "3", "language": "en"},
    ).json()
    assert quote["discount_total"] == "6.00" and quote["language"] == "en"
    quote = api.post(
        f"/quotes/{quote['id']}/send", {"lock_version": quote["lock_version"], "email": False}
    ).json()
    assert_error(
        api.patch(f"/quotes/{quote['id']}", {"lock_version": quote["lock_version"], "notes": "x"}),
        409,
        "quote_not_editable",
    )
    response = api.post(f"/quotes/{quote['id']}/versions", {"lock_version": quote["lock_version"]})
    assert response.status_code == 201, response.content
    new = response.json()
    assert new["version_number"] == 2 and new["number"] == quote["number"]
    versions = api.get(f"/quotes/{new['id']}/versions").json()
    assert [(v["version_number"], v["status"]) for v in versions] == [
        (2, "draft"),
        (1, "superseded"),
    ]
    history = api.get(f"/quotes/{new['id']}/price-history").json()
    assert history[0]["product_id"] == pump.pk
    assert [p["reference"] for p in history[0]["quotes"]] == []  # its own versions excluded


def test_the_list_filters_and_pages(workspace, rep, manager, account, pump):
    for _ in range(3):
        create(api_for(rep), account, pump)
    page = api_for(rep).get("/quotes", scope="mine", limit=2).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api_for(rep).get("/quotes", scope="mine", limit=2, cursor=page["next_cursor"]).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert len(api_for(manager).get("/quotes", scope="team").json()["items"]) == 3
    assert api_for(manager).get("/quotes", scope="mine").json()["items"] == []
    assert len(api_for(rep).get("/quotes", status="draft").json()["items"]) == 3
    assert api_for(rep).get("/quotes", status="sent").json()["items"] == []


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"quantity": "-1"}, "lines.0.quantity"),
        ({"discount_percent": "101"}, "lines.0.discount_percent"),
        ({"discount_percent": "-5"}, "lines.0.discount_percent"),
    ],
)
def test_bad_input_is_400_and_writes_nothing(workspace, rep, account, pump, line, field):
    body = {"account_id": account.pk, "lines": [{"product_id": pump.pk, "quantity": "1", **line}]}
    error = assert_error(api_for(rep).post("/quotes", body), 400)
    assert field in error["fields"]
    assert not Quote.objects.in_workspace(workspace).exists()


def test_no_rate_and_foreign_product(workspace, other_workspace, rep, account, pump):
    assert_error(create(api_for(rep), account, pump, currency="EUR"), 400, "no_exchange_rate")
    foreign = make_catalog(other_workspace)["products"]["P-100"]
    assert_error(create(api_for(rep), account, foreign), 404)
    assert_error(
        api_for(rep).post(
            "/quotes",
            {"account_id": account.pk, "lines": [{"product_id": pump.pk, "quantity": "abc"}]},
        ),
        422,
    )
    assert not Quote.objects.in_workspace(workspace).exists()


def test_another_workspace_sees_and_changes_nothing(
    workspace, other_admin, rep, manager, account, pump
):
    quote = create(api_for(rep), account, pump, discount_percent="30").json()
    api_for(rep).post(f"/quotes/{quote['id']}/submit", {"lock_version": quote["lock_version"]})
    approval_id = api_for(manager).get("/quote-approvals").json()["items"][0]["id"]
    other = api_for(other_admin)
    base = f"/quotes/{quote['id']}"
    for response in (
        other.get(base),
        other.get(f"{base}/lines"),
        other.get(f"{base}/pdf"),
        other.get(f"{base}/price-history"),
        other.get(f"{base}/versions"),
        other.patch(base, {"lock_version": 2, "notes": "x"}),
        other.post(f"{base}/lines", {"lock_version": 2, "product_id": pump.pk}),
        other.post(f"{base}/approve", {}),
        other.post(f"{base}/send", {"lock_version": 2, "email": False}),
        other.post(f"{base}/versions", {"lock_version": 2}),
        other.get(f"/quote-approvals/{approval_id}"),
        other.post(f"/quote-approvals/{approval_id}/approve", {}),
    ):
        assert_error(response, 404)
    assert other.get("/quotes").json()["items"] == []
    assert other.get("/quote-approvals").json()["items"] == []
    assert_error(create(other, account, pump), 404)
    assert Quote.objects.in_workspace(workspace).get().status == "pending"


def test_users_without_the_right(workspace, rep, reader, outsider, account, pump):
    quote = create(api_for(rep), account, pump).json()
    base = f"/quotes/{quote['id']}"
    # A reader sees every quote but may change none.
    assert api_for(reader).get(base).status_code == 200
    assert_error(api_for(reader).patch(base, {"lock_version": 1, "notes": "x"}), 403)
    assert_error(create(api_for(reader), account, pump), 403)
    assert_error(api_for(reader).post(f"{base}/send", {"lock_version": 1, "email": False}), 403)
    # A rep of another team does not see this rep's quote at all.
    assert_error(api_for(outsider).get(base), 404)
    assert_error(api_for(outsider).get(f"{base}/pdf"), 404)
    assert api_for(outsider).get("/quotes").json()["items"] == []
    # A role without quote rights at all.
    from guanxi.platform.models import Role

    role = Role.objects.create(workspace=workspace, name="No sales", code="no_sales", rights={})
    nobody = UserFactory(workspace=workspace, role=role)
    assert_error(api_for(nobody).get("/quotes"), 403)
    assert_error(api_for(nobody).get("/quote-approvals"), 403)
    assert_error(api_for(nobody).get(base), 404)
    # A read-only token cannot write.
    assert_error(create(api_for(rep, scopes=["read"]), account, pump), 403)
    assert Quote.objects.in_workspace(workspace).count() == 1


def test_schema_documents_the_errors(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/quotes/{quote_id}"]["patch"]
    assert {"400", "401", "403", "404", "409", "422"} <= set(operation["responses"])
    pdf = schema["paths"]["/api/v1/quotes/{quote_id}/pdf"]["get"]["responses"]["200"]
    assert "application/pdf" in pdf["content"]


def test_delete_a_first_draft_only(workspace, rep, manager, account, pump):
    quote = create(api_for(rep), account, pump).json()
    path = f"/quotes/{quote['id']}"
    assert_error(api_for(rep).request("DELETE", path, lock_version=quote["lock_version"]), 403)
    assert_error(api_for(manager).request("DELETE", path, lock_version=99), 409, "stale_version")
    sent = api_for(rep).post(
        f"{path}/send", {"lock_version": quote["lock_version"], "email": False}
    )
    sent = sent.json()
    assert_error(
        api_for(manager).request("DELETE", path, lock_version=sent["lock_version"]),
        409,
        "quote_not_deletable",
    )
    other = create(api_for(rep), account, pump).json()
    response = api_for(manager).request(
        "DELETE", f"/quotes/{other['id']}", lock_version=other["lock_version"]
    )
    assert response.status_code == 204, response.content
    assert list(Quote.objects.in_workspace(workspace).values_list("pk", flat=True)) == [sent["id"]]
