"""The knowledge base in the portal: no sign-in needed; search (every search a PortalSearch
row with the visitor's cookie id, and the contact when signed in), topics, the article
page (opening and "Did this help?" recorded on the search that led there), only public
published articles, a closed portal, another workspace's articles, a fixed number of
queries, and pages made for a phone's width."""

from __future__ import annotations

import pytest
from django.test import Client

from guanxi.platform.tests.factories import WorkspaceFactory
from guanxi.service.models import Article, PortalSearch
from guanxi.service.portal_views import VISITOR_COOKIE
from guanxi.service.services import knowledge
from guanxi.service.services import portal as services

from .portal_support import *  # noqa: F403
from .portal_support import MOBILE, article, last_sms_code, portal_url, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def kb(portal_ws, admin_user):
    """Two public articles in a topic, an internal one and a public draft."""
    topic = knowledge.category_create(
        actor=admin_user, workspace=portal_ws, name="打印机", name_en="Printers"
    )
    return {
        "topic": topic,
        "jam": article(
            admin_user,
            "打印机卡纸怎么办",
            "打开前盖，取出卡住的纸张，再合上前盖。",
            category_id=topic.pk,
        ),
        "toner": article(
            admin_user,
            "更换墨粉盒",
            "打印机提示墨粉不足时，按以下步骤更换墨粉盒。",
            category_id=topic.pk,
        ),
        "internal": article(
            admin_user, "打印机维修内部流程", "仅限工程师：拆机检查定影器。", public=False
        ),
        "draft": article(admin_user, "打印机固件升级", "草稿", publish=False),
    }


def _searches(ws):
    return PortalSearch.objects.in_workspace(ws).order_by("id")


def test_search_without_signing_in_records_the_search(client, portal_ws, kb):
    response = client.get(portal_url(portal_ws, "search"), {"q": "打印机 卡纸"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "打印机卡纸怎么办" in html or "<mark>打印机</mark>" in html
    assert "内部流程" not in html and "固件升级" not in html  # internal and draft stay hidden
    row = _searches(portal_ws).get()
    visitor = response.cookies[VISITOR_COOKIE].value
    assert (row.query, row.visitor_key, row.contact_id, row.case_id) == (
        "打印机 卡纸",
        visitor,
        None,
        None,
    )
    assert row.results >= 1
    assert f"?s={row.pk}" in html
    # The same browser keeps its visitor id; a second search is a second row.
    client.get(portal_url(portal_ws, "search"), {"q": "墨粉"})
    assert [s.visitor_key for s in _searches(portal_ws)] == [visitor, visitor]


def test_a_search_that_finds_nothing_is_recorded_as_such(client, portal_ws, kb):
    response = client.get(portal_url(portal_ws, "search"), {"q": "发票抬头"})
    assert response.status_code == 200
    assert "No answer found" in response.content.decode()
    assert _searches(portal_ws).get().results == 0
    # An empty query is no search.
    client.get(portal_url(portal_ws, "search"), {"q": "   "})
    assert _searches(portal_ws).count() == 1


def test_a_signed_in_visitors_search_names_the_contact(client, portal_ws, customer, kb):
    sign_in(client, portal_ws, MOBILE, code_of=lambda: last_sms_code(portal_ws))
    client.get(portal_url(portal_ws, "search"), {"q": "墨粉盒"})
    assert _searches(portal_ws).get().contact_id == customer.pk


def test_opening_and_rating_an_article_are_recorded_on_the_search(client, portal_ws, kb):
    client.get(portal_url(portal_ws, "search"), {"q": "卡纸"})
    row = _searches(portal_ws).get()
    jam = kb["jam"]
    page = client.get(portal_url(portal_ws, "article", jam.pk), {"s": row.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "取出卡住的纸张" in html and "Did this help?" in html
    assert f'name="s" value="{row.pk}"' in html
    row.refresh_from_db()
    assert row.opened_article_id == jam.pk and row.helpful is None
    assert Article.objects.in_workspace(portal_ws).get(pk=jam.pk).views == 1

    answer = client.post(
        portal_url(portal_ws, "article_helpful", jam.pk),
        {"helpful": "yes", "s": row.pk},
        headers={"HX-Request": "true"},
    )
    assert answer.status_code == 200
    assert "<html" not in answer.content.decode() and "Glad it helped" in answer.content.decode()
    row.refresh_from_db()
    assert row.helpful is True
    jam.refresh_from_db()
    assert (jam.helpful_yes, jam.helpful_no) == (1, 0)
    # Answering again (changing one's mind) moves the search's answer, not the count.
    client.post(portal_url(portal_ws, "article_helpful", jam.pk), {"helpful": "no", "s": row.pk})
    row.refresh_from_db()
    jam.refresh_from_db()
    assert row.helpful is False and (jam.helpful_yes, jam.helpful_no) == (1, 0)


def test_another_visitors_search_is_not_touched(client, portal_ws, kb):
    client.get(portal_url(portal_ws, "search"), {"q": "卡纸"})
    row = _searches(portal_ws).get()
    stranger = Client()
    stranger.get(portal_url(portal_ws, "article", kb["jam"].pk), {"s": row.pk})
    stranger.post(
        portal_url(portal_ws, "article_helpful", kb["jam"].pk), {"helpful": "no", "s": row.pk}
    )
    row.refresh_from_db()
    assert row.opened_article_id is None and row.helpful is None


def test_only_public_published_articles_of_the_workspace_open(client, portal_ws, kb):
    for key in ("internal", "draft"):
        response = client.get(portal_url(portal_ws, "article", kb[key].pk))
        assert response.status_code == 404
        response = client.post(
            portal_url(portal_ws, "article_helpful", kb[key].pk), {"helpful": "yes"}
        )
        assert response.status_code == 404
    other = WorkspaceFactory()
    assert client.get(portal_url(other, "article", kb["jam"].pk)).status_code == 404
    assert client.get("/portal/no-such-workspace/").status_code == 404
    unchanged = Article.objects.in_workspace(portal_ws).get(pk=kb["internal"].pk)
    assert (unchanged.views, unchanged.helpful_yes) == (0, 0)


def test_topics_and_the_home_page(client, portal_ws, kb, django_assert_max_num_queries):
    services.portal_settings_update(
        actor=kb["jam"].author, workspace=portal_ws, welcome="欢迎来到帮助中心"
    )
    with django_assert_max_num_queries(6):
        home = client.get(portal_url(portal_ws, "home"))
    html = home.content.decode()
    assert home.status_code == 200 and "欢迎来到帮助中心" in html
    assert portal_url(portal_ws, "category", kb["topic"].pk) in html and "打印机" in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "sidenav" not in html  # no staff navigation
    with django_assert_max_num_queries(6):
        topic = client.get(portal_url(portal_ws, "category", kb["topic"].pk))
    assert "更换墨粉盒" in topic.content.decode() and "内部流程" not in topic.content.decode()
    english = client.get(
        portal_url(portal_ws, "category", kb["topic"].pk), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "<h1>Printers</h1>" in english.content.decode()


def test_pages_keep_their_query_count_whatever_the_data(client, portal_ws, kb, admin_user):
    def measure():
        counts = {}
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for name, args in (("home", ()), ("category", (kb["topic"].pk,))):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(portal_url(portal_ws, name, *args)).status_code == 200
            counts[name] = len(ctx)
        return counts

    client.get(portal_url(portal_ws, "home"))  # the visitor cookie is set
    before = measure()
    for n in range(15):
        article(admin_user, f"常见问题 {n}", f"答案 {n}", category_id=kb["topic"].pk)
    assert measure() == before


def test_a_closed_portal_shows_nothing(client, portal_ws, admin_user, kb):
    services.portal_settings_update(actor=admin_user, workspace=portal_ws, enabled=False)
    for url in (
        portal_url(portal_ws, "home"),
        portal_url(portal_ws, "search") + "?q=卡纸",
        portal_url(portal_ws, "article", kb["jam"].pk),
        portal_url(portal_ws, "sign_in"),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "not open" in response.content.decode()
    assert not _searches(portal_ws).exists()


def test_language_switch_and_chinese_pages(client, portal_ws, kb):
    response = client.get(portal_url(portal_ws, "home"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert 'action="/i18n/setlang/"' in html
    for code in ("zh-hans", "zh-hant", "en"):
        assert f'value="{code}"' in html
    assert portal_ws.name in html
