"""Cases in the portal: the "New case" form first suggests public articles (htmx) and only
then files the case (the cases part's ``case_create``, portal channel, the signed-in
contact and their primary account), linking the visitor's searches of the last half hour;
"My cases" and the case page show the contact's own cases only, with the public
conversation (never internal notes); replying and "this is solved". Another contact,
another workspace and a signed-out visitor get 404 and change nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.customers.tests.factories import ContactFactory
from guanxi.platform.tests.factories import WorkspaceFactory
from guanxi.sales.models import Product
from guanxi.service.models import (
    Case,
    CaseMessage,
    CaseStatus,
    CaseType,
    MessageKind,
    PortalSearch,
)
from guanxi.service.services import cases as case_services
from guanxi.service.services import portal as services
from guanxi.service.services.case_types import service_setup

from .portal_support import *  # noqa: F403
from .portal_support import MOBILE, article, last_sms_code, portal_url, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(portal_ws, customer):
    client = Client()
    sign_in(client, portal_ws, MOBILE, code_of=lambda: last_sms_code(portal_ws))
    return client


@pytest.fixture
def repair(portal_ws):
    return CaseType.objects.in_workspace(portal_ws).get(kind="repair")


def _case_for(admin, contact, subject="打印机不出纸", **values):
    ws = admin.workspace
    case_type = CaseType.objects.in_workspace(ws).get(kind=values.pop("kind", "fault"))
    return case_services.case_create(
        actor=admin,
        workspace=ws,
        values={"case_type": case_type.pk, "subject": subject, "description": "描述", **values},
        channel="phone",
        contact=contact,
    )


def _searches(ws):
    return PortalSearch.objects.in_workspace(ws).order_by("id")


# --- filing ------------------------------------------------------------------------------------


def test_new_case_needs_signing_in(client, portal_ws, customer):
    response = client.get(portal_url(portal_ws, "case_new"))
    assert response.status_code == 302
    assert response["Location"] == (
        portal_url(portal_ws, "sign_in")
        + "?next=%2Fportal%2F"
        + portal_ws.slug
        + "%2Fcases%2Fnew%2F"
    )
    posted = client.post(
        portal_url(portal_ws, "case_new"), {"op": "file", "subject": "x", "description": "y"}
    )
    assert posted.status_code == 302
    assert not Case.objects.in_workspace(portal_ws).exists()


def test_sign_in_comes_back_to_the_page_asked_for(client, portal_ws, customer):
    target = portal_url(portal_ws, "case_new")
    client.post(portal_url(portal_ws, "sign_in"), {"destination": MOBILE, "next": target})
    response = client.post(
        portal_url(portal_ws, "sign_in_code"),
        {"destination": MOBILE, "code": last_sms_code(portal_ws), "next": target},
    )
    assert response["Location"] == target
    # Another site is never a target.
    client.post(portal_url(portal_ws, "sign_out"))
    client.post(portal_url(portal_ws, "sign_in"), {"destination": MOBILE})
    response = client.post(
        portal_url(portal_ws, "sign_in_code"),
        {"destination": MOBILE, "code": last_sms_code(portal_ws), "next": "//evil.example/x"},
    )
    assert response["Location"] == portal_url(portal_ws, "cases")


def test_suggestions_first_then_filing_links_the_searches(
    signed_in, portal_ws, customer, admin_user, repair
):
    article(admin_user, "打印机卡纸怎么办", "打开前盖，取出卡住的纸张。")
    Product.objects.create(workspace=portal_ws, code="P-1", name="激光打印机 X1")
    product = Product.objects.in_workspace(portal_ws).get()
    Product.objects.create(workspace=portal_ws, code="P-2", name="停产型号", active=False)

    page = signed_in.get(portal_url(portal_ws, "case_new"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="suggest"' in html and 'value="file"' not in html  # suggestions come first
    assert "激光打印机 X1" in html and "停产型号" not in html

    # An older search (an hour ago) and another visitor's search stay unlinked.
    old, _hits = services.portal_search(
        workspace=portal_ws, visitor_key=signed_in.cookies["guanxi_portal_visitor"].value,
        query="卡纸",
    )  # fmt: skip
    PortalSearch.objects.in_workspace(portal_ws).filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=1)
    )
    stranger, _hits = services.portal_search(
        workspace=portal_ws, visitor_key="someone-else-entirely", query="卡纸"
    )
    recent = signed_in.get(portal_url(portal_ws, "search"), {"q": "打印机 卡纸"})
    assert recent.status_code == 200

    form = {
        "case_type": repair.pk,
        "subject": "打印机卡纸",
        "description": "每次打印第二页就卡纸，已经取出过纸张。",
        "product": product.pk,
    }
    suggested = signed_in.post(
        portal_url(portal_ws, "case_new"), {**form, "op": "suggest"}, headers={"HX-Request": "true"}
    )
    fragment = suggested.content.decode()
    assert suggested.status_code == 200 and "<html" not in fragment
    assert "打印机卡纸怎么办" in fragment or "<mark>" in fragment
    assert 'value="file"' in fragment and "Still need help?" in fragment
    assert Case.objects.in_workspace(portal_ws).count() == 0  # nothing filed yet

    filed = signed_in.post(portal_url(portal_ws, "case_new"), {**form, "op": "file"})
    case = Case.objects.in_workspace(portal_ws).get()
    assert filed.status_code == 302
    assert filed["Location"] == portal_url(portal_ws, "case", case.number)
    assert (case.channel, case.contact_id, case.account_id, case.product_id) == (
        "portal",
        customer.pk,
        customer.account_id,
        product.pk,
    )
    assert case.case_type_id == repair.pk and case.created_by is None
    assert case.subject == "打印机卡纸" and case.language == "en"
    first = CaseMessage.objects.in_workspace(portal_ws).get(case=case)
    assert (first.kind, first.channel, first.body) == ("in", "portal", form["description"])
    linked = set(
        PortalSearch.objects.in_workspace(portal_ws).filter(case=case).values_list("pk", flat=True)
    )
    mine = _searches(portal_ws).exclude(pk__in=[old.pk, stranger.pk])
    assert linked == set(mine.values_list("pk", flat=True)) and len(linked) == 2
    assert PortalSearch.objects.in_workspace(portal_ws).get(pk=old.pk).case_id is None
    assert PortalSearch.objects.in_workspace(portal_ws).get(pk=stranger.pk).case_id is None


def test_filing_without_javascript_shows_the_suggestions_on_the_page(signed_in, portal_ws, repair):
    form = {"case_type": repair.pk, "subject": "空调不制冷", "description": "开机半小时仍是热风"}
    page = signed_in.post(portal_url(portal_ws, "case_new"), {**form, "op": "suggest"})
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html
    assert "We found no answer for this yet." in html and 'value="file"' in html
    assert _searches(portal_ws).get().results == 0


def test_bad_input_files_nothing(signed_in, portal_ws, customer, admin_user, repair):
    services.portal_settings_update(
        actor=admin_user, workspace=portal_ws, case_type_ids=[repair.pk]
    )
    complaint = CaseType.objects.in_workspace(portal_ws).get(kind="complaint")
    Product.objects.create(workspace=portal_ws, code="P-1", name="激光打印机 X1")
    page = signed_in.get(portal_url(portal_ws, "case_new"))
    assert complaint.name not in page.content.decode()
    for form in (
        {"case_type": complaint.pk, "subject": "s", "description": "d"},  # not offered
        {"case_type": repair.pk, "subject": "", "description": "d"},
        {"case_type": repair.pk, "subject": "s", "description": ""},
        {"case_type": repair.pk, "subject": "s", "description": "d", "product": 999999},
    ):
        response = signed_in.post(portal_url(portal_ws, "case_new"), {**form, "op": "file"})
        assert response.status_code == 400, form
    assert not Case.objects.in_workspace(portal_ws).exists()
    # The service itself refuses what the page's choices would not offer.
    from guanxi.common.errors import ApplicationError

    with pytest.raises(ApplicationError) as caught:
        services.portal_case_file(
            workspace=portal_ws,
            contact=customer,
            visitor_key="v" * 20,
            values={"case_type": complaint.pk, "subject": "s", "description": "d", "product": "x"},
        )
    assert set(caught.value.fields) == {"case_type", "product"}
    assert not Case.objects.in_workspace(portal_ws).exists()


# --- my cases and a case's page ----------------------------------------------------------------


def test_my_cases_lists_only_my_own(
    signed_in, portal_ws, customer, other_customer, admin_user, django_assert_max_num_queries
):
    mine = _case_for(admin_user, customer, "我的打印机")
    theirs = _case_for(admin_user, other_customer, "同事的电脑")
    with django_assert_max_num_queries(6):
        page = signed_in.get(portal_url(portal_ws, "cases"))
    html = page.content.decode()
    assert mine.number in html and "我的打印机" in html
    assert theirs.number not in html and "同事的电脑" not in html


def test_my_cases_pages_with_a_cursor(signed_in, portal_ws, customer, admin_user):
    made = [_case_for(admin_user, customer, f"问题 {n}") for n in range(22)]
    first = signed_in.get(portal_url(portal_ws, "cases")).content.decode()
    assert made[-1].number in first and made[0].number not in first
    assert "Older cases" in first
    cursor = re.search(r'\?cursor=([^"]+)"', first).group(1)
    second = signed_in.get(portal_url(portal_ws, "cases") + f"?cursor={cursor}").content.decode()
    assert made[0].number in second and made[-1].number not in second
    assert signed_in.get(portal_url(portal_ws, "cases"), {"cursor": "bad!"}).status_code == 404


def test_the_case_page_shows_the_public_conversation_only(
    signed_in, portal_ws, customer, admin_user
):
    case = _case_for(admin_user, customer)
    case_services.case_reply(
        actor=admin_user, workspace=portal_ws, case_id=case.pk, body="您好，我们已收到，正在处理"
    )
    case_services.case_reply(
        actor=admin_user,
        workspace=portal_ws,
        case_id=case.pk,
        body="机密备注：退款审批中",
        internal=True,
    )
    page = signed_in.get(portal_url(portal_ws, "case", case.number))
    html = page.content.decode()
    assert page.status_code == 200
    assert "描述" in html and "您好，我们已收到，正在处理" in html
    assert "机密备注" not in html and "退款审批中" not in html
    assert CaseMessage.objects.in_workspace(portal_ws).filter(kind=MessageKind.NOTE).count() == 1


def test_the_case_page_keeps_its_query_count(signed_in, portal_ws, customer, admin_user):
    case = _case_for(admin_user, customer)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert signed_in.get(portal_url(portal_ws, "case", case.number)).status_code == 200
        return len(ctx)

    before = count()
    for n in range(6):
        case_services.case_reply(
            actor=admin_user, workspace=portal_ws, case_id=case.pk, body=f"答复 {n}"
        )
    assert count() == before


def test_replying_and_closing_as_solved(signed_in, portal_ws, customer, admin_user):
    case = _case_for(admin_user, customer)
    case_services.case_reply(
        actor=admin_user, workspace=portal_ws, case_id=case.pk, body="请提供型号"
    )
    case_services.case_change_status(
        actor=admin_user, workspace=portal_ws, case_id=case.pk, status="waiting"
    )
    response = signed_in.post(
        portal_url(portal_ws, "case_reply", case.number), {"body": "型号是 X1"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN  # the customer answered: no longer waiting
    last = CaseMessage.objects.in_workspace(portal_ws).filter(case=case).order_by("-id").first()
    assert (last.kind, last.channel, last.contact_id, last.body) == (
        "in",
        "portal",
        customer.pk,
        "型号是 X1",
    )
    empty = signed_in.post(portal_url(portal_ws, "case_reply", case.number), {"body": "  "})
    assert empty.status_code == 400

    solved = signed_in.post(portal_url(portal_ws, "case_solved", case.number))
    assert solved.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    assert "Solved, says the customer" in case.resolution
    page = signed_in.get(portal_url(portal_ws, "case", case.number)).content.decode()
    assert "This case is closed" in page and "case_reply" not in page
    assert 'action="' + portal_url(portal_ws, "case_reply", case.number) not in page


def test_a_new_case_can_be_closed_by_its_customer(signed_in, portal_ws, customer, admin_user):
    case = _case_for(admin_user, customer)
    assert case.status == CaseStatus.NEW
    signed_in.post(portal_url(portal_ws, "case_solved", case.number))
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


# --- other people's cases -------------------------------------------------------------------------


def _untouched(ws, case):
    row = Case.objects.in_workspace(ws).get(pk=case.pk)
    return (
        row.status,
        row.lock_version,
        CaseMessage.objects.in_workspace(ws).filter(case=row).count(),
    )


def test_another_contacts_case_is_not_found_and_stays_as_it_was(
    signed_in, portal_ws, other_customer, admin_user
):
    theirs = _case_for(admin_user, other_customer)
    before = _untouched(portal_ws, theirs)
    assert signed_in.get(portal_url(portal_ws, "case", theirs.number)).status_code == 404
    reply = signed_in.post(portal_url(portal_ws, "case_reply", theirs.number), {"body": "hi"})
    solved = signed_in.post(portal_url(portal_ws, "case_solved", theirs.number))
    assert reply.status_code == solved.status_code == 404
    assert _untouched(portal_ws, theirs) == before


def test_a_signed_out_visitor_gets_not_found(client, portal_ws, customer, admin_user):
    mine = _case_for(admin_user, customer)
    before = _untouched(portal_ws, mine)
    assert client.get(portal_url(portal_ws, "case", mine.number)).status_code == 404
    assert (
        client.post(portal_url(portal_ws, "case_reply", mine.number), {"body": "hi"}).status_code
        == 404
    )
    assert client.post(portal_url(portal_ws, "case_solved", mine.number)).status_code == 404
    assert client.get(portal_url(portal_ws, "cases")).status_code == 302  # to sign in
    assert _untouched(portal_ws, mine) == before


def test_another_workspaces_case_is_not_found(portal_ws, customer, admin_user):
    mine = _case_for(admin_user, customer)
    before = _untouched(portal_ws, mine)
    other_ws = WorkspaceFactory(name="别家公司")
    service_setup(other_ws)
    ContactFactory(workspace=other_ws, name="王芳", mobile=MOBILE)
    visitor = Client()
    sign_in(visitor, other_ws, MOBILE, code_of=lambda: last_sms_code(other_ws))
    assert visitor.get(portal_url(other_ws, "case", mine.number)).status_code == 404
    assert (
        visitor.post(portal_url(other_ws, "case_reply", mine.number), {"body": "hi"}).status_code
        == 404
    )
    assert visitor.post(portal_url(other_ws, "case_solved", mine.number)).status_code == 404
    # Nor with the other workspace's session sent to this one's URLs.
    token = visitor.cookies["guanxi_portal"].value
    forged = Client()
    forged.cookies["guanxi_portal"] = token
    assert forged.get(portal_url(portal_ws, "case", mine.number)).status_code == 404
    assert _untouched(portal_ws, mine) == before
    assert mine.number not in visitor.get(portal_url(other_ws, "cases")).content.decode()


def test_case_pages_fit_a_phone(signed_in, portal_ws, customer, admin_user):
    case = _case_for(admin_user, customer)
    for url in (
        portal_url(portal_ws, "cases"),
        portal_url(portal_ws, "case", case.number),
        portal_url(portal_ws, "case_new"),
    ):
        html = signed_in.get(url).content.decode()
        assert 'content="width=device-width, initial-scale=1"' in html
        assert "service-portal.css" in html and "sidenav" not in html
