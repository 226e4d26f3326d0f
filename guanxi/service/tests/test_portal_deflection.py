"""Deflection figures on a hand-made set of portal searches (days in the workspace's time
zone; a search is deflected when its visitor — the same browser, or the same signed-in
contact — filed no case within 24 hours after it), the staff's deflection page and API,
and the portal's settings (page and API): rights, other workspaces, bad periods."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.common.errors import ApplicationError, PermissionDenied
from guanxi.platform.tests.factories import UserFactory
from guanxi.service.models import Case, CaseType, PortalSearch, PortalSettings
from guanxi.service.selectors import portal as selectors
from guanxi.service.services import cases as case_services
from guanxi.service.services import portal as services

from .portal_support import *  # noqa: F403
from .portal_support import api_for, article, portal_url

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY1, DAY3 = dt.date(2026, 11, 1), dt.date(2026, 11, 3)
LATER = dt.datetime(2026, 11, 10, 12, tzinfo=SHANGHAI)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def dataset(portal_ws, customer, other_customer, admin_user):
    """13 searches in the period (4, 5 and 4 a day), 8 of them deflected; two outside it."""
    ws = portal_ws
    art1 = article(admin_user, "打印机卡纸怎么办", "取出卡纸。")
    art2 = article(admin_user, "如何退货", "七天无理由退货。")
    fault = CaseType.objects.in_workspace(ws).get(kind="fault")

    def case(contact, when):
        row = case_services.case_create(
            actor=None,
            workspace=ws,
            values={"case_type": fault.pk, "subject": "问题", "description": "描述"},
            channel="portal",
            contact=contact,
        )
        Case.objects.in_workspace(ws).filter(pk=row.pk).update(created_at=when)
        return row

    def search(visitor, query, when, results=1, **extra):
        row = PortalSearch.objects.create(
            workspace=ws, visitor_key=visitor, query=query, results=results, **extra
        )
        PortalSearch.objects.in_workspace(ws).filter(pk=row.pk).update(created_at=when)
        return row

    c1 = case(customer, at(1, 10, 20))
    c2 = case(other_customer, at(3, 9))
    c3 = case(customer, at(3, 9))
    c4 = case(customer, at(3, 7))
    # Day 1 (one just after midnight Shanghai time, still 31 October in UTC).
    search("visitor-g", "安装", at(1, 0, 10))  # deflected
    search("visitor-a", "打印机卡纸", at(1, 10), 2, opened_article=art1, helpful=True)  # defl.
    search("visitor-b", "发票", at(1, 10, 5), 0)  # B filed c1 within 24 h
    search("visitor-b", "发票抬头错误", at(1, 10, 15), 0, case=c1)
    # Day 2.
    search(  # the signed-in contact filed c2 21 hours later (from another browser)
        "visitor-c",
        "退货",
        at(2, 12),
        1,
        contact=other_customer,
        opened_article=art2,
        helpful=False,
    )
    search("visitor-d", "发票", at(2, 8), 0)  # D filed c3 25 hours later: deflected
    search("visitor-h", "Invoice", at(2, 9), 0)  # deflected
    search("visitor-h", "invoice", at(2, 9, 1), 0)  # deflected
    search("visitor-h", "INVOICE", at(2, 9, 2), 0)  # deflected
    # Day 3.
    search("visitor-d", "发票 怎么开", at(3, 8, 55), 0, case=c3)
    search("visitor-e", "打印机卡纸", at(3, 11), 2, opened_article=art1, helpful=True)  # defl.
    search("visitor-f", "保修", at(3, 6, 50), 1, case=c4)
    search("visitor-f", "保修期", at(3, 7, 30))  # F's case came before it: deflected
    # Outside the period.
    search("visitor-x", "发票", at(31, 23, 30, month=10), 0)
    search("visitor-x", "发票", at(4, 0, 10), 0)
    return {"art1": art1, "art2": art2, "cases": [c1, c2, c3, c4]}


def test_deflection_figures(portal_ws, admin_user, dataset):
    report = selectors.deflection_report(
        workspace=portal_ws, actor=admin_user, date_from=DAY1, date_to=DAY3, now=LATER
    )
    assert [(d.day, d.searches, d.deflected) for d in report.days] == [
        (dt.date(2026, 11, 1), 4, 2),
        (dt.date(2026, 11, 2), 5, 4),
        (dt.date(2026, 11, 3), 4, 2),
    ]
    assert (report.searches, report.deflected, report.rate) == (13, 8, round(8 / 13, 4))
    assert report.days[1].rate == 0.8
    assert (report.cases, report.no_result_searches, report.pending) == (3, 7, 0)
    gaps = report.content_gaps
    assert gaps[:2] == [{"query": "invoice", "searches": 3}, {"query": "发票", "searches": 2}]
    assert sorted(g["query"] for g in gaps[2:]) == ["发票 怎么开", "发票抬头错误"]
    assert report.helpful_articles == [
        {"id": dataset["art1"].pk, "title": "打印机卡纸怎么办", "yes": 2, "no": 0}
    ]


def test_recent_deflections_are_pending_and_empty_days_are_listed(portal_ws, admin_user, dataset):
    report = selectors.deflection_report(
        workspace=portal_ws, actor=admin_user, date_from=DAY1, date_to=DAY3, now=at(3, 20)
    )
    assert report.pending == 2  # E's and F's searches of day 3
    wide = selectors.deflection_report(
        workspace=portal_ws,
        actor=admin_user,
        date_from=dt.date(2026, 10, 30),
        date_to=dt.date(2026, 11, 5),
        now=LATER,
    )
    assert len(wide.days) == 7 and wide.days[0].searches == 0 and wide.days[0].rate is None
    assert wide.searches == 15


def test_bad_periods_and_rights(portal_ws, admin_user, nobody, dataset):
    with pytest.raises(ApplicationError):
        selectors.deflection_report(
            workspace=portal_ws, actor=admin_user, date_from=DAY3, date_to=DAY1
        )
    with pytest.raises(ApplicationError):
        selectors.deflection_report(
            workspace=portal_ws,
            actor=admin_user,
            date_from=dt.date(2025, 1, 1),
            date_to=dt.date(2026, 11, 3),
        )
    with pytest.raises(ApplicationError):
        selectors.deflection_report(
            workspace=portal_ws, actor=admin_user, date_to=dt.date(9999, 12, 31)
        )
    with pytest.raises(PermissionDenied):
        selectors.deflection_report(workspace=portal_ws, actor=nobody)


# --- the staff's page ----------------------------------------------------------------------------


def _page(client, **params):
    return client.get(reverse("service:portal_deflection"), params)


def test_deflection_page(client, portal_ws, admin_user, nobody, other_admin, dataset):
    client.force_login(admin_user)
    response = _page(client, date_from="2026-11-01", date_to="2026-11-03")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="figure-searches">13<' in html and 'id="figure-deflected">8<' in html
    assert 'id="figure-rate">62%<' in html and 'id="figure-cases">3<' in html
    assert "invoice" in html and "打印机卡纸怎么办" in html
    assert 'data-chart="portal-deflection-chart"' in html
    assert portal_url(portal_ws, "home") in html
    bad = _page(client, date_from="2026-11-03", date_to="2026-11-01")
    assert bad.status_code == 200  # the last 30 days instead, with the message
    client.force_login(nobody)
    assert _page(client).status_code == 403
    client.force_login(other_admin)
    theirs = _page(client, date_from="2026-11-01", date_to="2026-11-03").content.decode()
    assert 'id="figure-searches">0<' in theirs and "invoice" not in theirs


def test_deflection_page_gives_its_chart_a_height(client, portal_ws, admin_user):
    """ECharts draws into the box it is given: without a stylesheet that sizes ``.chart``
    the chart is 0 px high, an empty band on the page."""
    client.force_login(admin_user)
    html = _page(client).content.decode()
    sheets = re.findall(r'<link rel="stylesheet" href="/static/([^"?]+)', html)
    rules = "".join((Path(settings.BASE_DIR) / "static" / sheet).read_text() for sheet in sheets)
    assert re.search(r"\.chart\s*\{[^}]*\bheight:\s*[1-9]", rules), sheets


def test_deflection_page_keeps_its_query_count(client, portal_ws, admin_user, dataset):
    client.force_login(admin_user)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert _page(client, date_from="2026-11-01", date_to="2026-11-03").status_code == 200
        return len(ctx)

    count()  # the first page of a session writes the session's marks
    before = count()
    for n in range(10):
        PortalSearch.objects.create(
            workspace=portal_ws, visitor_key=f"more-{n}", query=f"问题 {n}", results=0
        )
        PortalSearch.objects.in_workspace(portal_ws).filter(visitor_key=f"more-{n}").update(
            created_at=at(2, 15)
        )
    assert count() == before


def test_deflection_is_in_the_service_navigation(client, admin_user, nobody):
    client.force_login(admin_user)
    html = client.get(reverse("service:portal_settings")).content.decode()
    assert reverse("service:portal_deflection") in html
    client.force_login(nobody)
    assert client.get(reverse("service:portal_settings")).status_code == 403


# --- the API -------------------------------------------------------------------------------------


def test_deflection_api(portal_ws, admin_user, nobody, other_admin, dataset):
    response = api_for(admin_user).get(
        "/service/portal/deflection", **{"from": "2026-11-01", "to": "2026-11-03"}
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["from"], data["to"], data["searches"], data["deflected"]) == (
        "2026-11-01",
        "2026-11-03",
        13,
        8,
    )
    assert data["rate"] == round(8 / 13, 4)
    assert [d["searches"] for d in data["days"]] == [4, 5, 4]
    assert data["content_gaps"][0] == {"query": "invoice", "searches": 3}
    assert data["helpful_articles"][0]["yes"] == 2
    bad = api_for(admin_user).get(
        "/service/portal/deflection", **{"from": "2026-11-03", "to": "2026-11-01"}
    )
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["from"]
    junk = api_for(admin_user).get("/service/portal/deflection", **{"from": "yesterday"})
    assert junk.status_code == 422
    assert api_for(nobody).get("/service/portal/deflection").status_code == 403
    theirs = api_for(other_admin).get(
        "/service/portal/deflection", **{"from": "2026-11-01", "to": "2026-11-03"}
    )
    assert theirs.status_code == 200 and theirs.json()["searches"] == 0


# --- settings ------------------------------------------------------------------------------------


def test_settings_page(client, portal_ws, admin_user, nobody):
    repair = CaseType.objects.in_workspace(portal_ws).get(kind="repair")
    client.force_login(admin_user)
    page = client.get(reverse("service:portal_settings"))
    assert page.status_code == 200 and repair.name in page.content.decode()
    saved = client.post(
        reverse("service:portal_settings"),
        {"enabled": "on", "welcome": "您好！", "case_type_ids": [repair.pk]},
    )
    assert saved.status_code == 302
    row = PortalSettings.objects.in_workspace(portal_ws).get()
    assert (row.enabled, row.welcome, row.case_type_ids) == (True, "您好！", [repair.pk])
    assert client.post(reverse("service:portal_settings"), {"welcome": ""}).status_code == 302
    row.refresh_from_db()
    assert row.enabled is False and row.case_type_ids == []
    client.force_login(nobody)
    assert client.get(reverse("service:portal_settings")).status_code == 403
    assert client.post(reverse("service:portal_settings"), {"enabled": "on"}).status_code == 403
    row.refresh_from_db()
    assert row.enabled is False


def test_agents_read_the_settings_but_do_not_change_them(client, portal_ws):
    agent = UserFactory(workspace=portal_ws, role_code="service_agent")
    client.force_login(agent)
    page = client.get(reverse("service:portal_settings"))
    assert page.status_code == 200 and "<fieldset disabled>" in page.content.decode()
    assert client.post(reverse("service:portal_settings"), {"enabled": ""}).status_code == 403
    assert services.portal_settings(portal_ws).enabled is True
    assert client.get(reverse("service:portal_deflection")).status_code == 200


def test_settings_api(portal_ws, admin_user, nobody, other_admin):
    repair = CaseType.objects.in_workspace(portal_ws).get(kind="repair")
    api = api_for(admin_user)
    got = api.get("/service/portal/settings")
    assert got.status_code == 200
    assert got.json() == {
        "enabled": True,
        "welcome": "",
        "case_type_ids": [],
        "portal_url": portal_url(portal_ws, "home"),
    }
    changed = api.patch(
        "/service/portal/settings", {"welcome": "欢迎", "case_type_ids": [repair.pk]}
    )
    assert changed.status_code == 200
    assert changed.json()["welcome"] == "欢迎" and changed.json()["case_type_ids"] == [repair.pk]
    assert changed.json()["enabled"] is True  # not sent, not changed
    # Another workspace's case type is refused, as is another workspace's admin's change.
    foreign = api_for(other_admin).patch("/service/portal/settings", {"enabled": False})
    assert foreign.status_code == 200 and foreign.json()["enabled"] is False
    assert services.portal_settings(portal_ws).enabled is True
    from guanxi.service.services.case_types import service_setup

    service_setup(other_admin.workspace)
    theirs = CaseType.objects.in_workspace(other_admin.workspace).first()
    refused = api.patch("/service/portal/settings", {"case_type_ids": [theirs.pk]})
    assert refused.status_code == 400 and refused.json()["error"]["fields"]["case_type_ids"]
    assert api_for(nobody).get("/service/portal/settings").status_code == 403
    assert api_for(nobody).patch("/service/portal/settings", {"enabled": False}).status_code == 403
    assert services.portal_settings(portal_ws).case_type_ids == [repair.pk]


def test_demo_searches_give_the_deflection_page_figures(client, portal_ws, admin_user):
    from guanxi.service import portal_demo

    article(admin_user, "打印机卡纸怎么办", "取出卡纸。")
    portal_demo.seed(workspace=portal_ws, users=[admin_user])
    portal_demo.seed(workspace=portal_ws, users=[admin_user])  # once only
    report = selectors.deflection_report(workspace=portal_ws, actor=admin_user)
    made = PortalSearch.objects.in_workspace(portal_ws).count()
    assert 14 * 3 <= made <= 14 * 9 and report.searches == made
    assert report.deflected == made  # no demo visitor filed a case
    assert {g["query"] for g in report.content_gaps} <= set(portal_demo.GAPS)
    assert sum(d.searches > 0 for d in report.days) >= 10  # two weeks of them
    assert services.portal_settings(portal_ws).welcome == portal_demo.WELCOME
