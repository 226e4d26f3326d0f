# ruff: noqa: F811  (pytest fixtures imported from knowledge_support)
"""The knowledge base's pages: the home with search as you type, a category, an article
(markup rendered safely, translations, versions, helpful), the editor (new, publish, edit,
a stale save refused), versions with their changes and restore, the categories' admin, the
"Suggested articles" partial; fixed query counts at two sizes, another workspace's
records (404) and users without the right (403)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.service.models import Article, ArticleCategory, ArticleVersion
from guanxi.service.services import knowledge as services

from .knowledge_support import article, editor, nobody, reader  # noqa: F401

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def category(editor):
    return services.category_create(
        actor=editor, workspace=editor.workspace, name="账户与登录", name_en="Accounts"
    )


@pytest.fixture
def kb(editor, category):
    password = article(
        editor,
        "如何重置登录密码",
        "# 步骤\n忘记密码时，点击登录页的**忘记密码**。\n\n- 输入手机号\n- 输入验证码",
        category_id=category.pk,
        visibility="public",
    )
    printer = article(editor, "打印机卡纸怎么办", "打开前盖，取出卡住的纸张。")
    draft = article(editor, "草稿：新功能说明", "尚未发布的密码策略。", publish=False)
    return {"password": password, "printer": printer, "draft": draft}


def _count(client, url, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
        assert response.status_code == 200, response.content[:500]
    return len(ctx)


def _more(editor, category, n):
    for i in range(n):
        a = article(
            editor, f"常见问题{i}", f"第{i}个问题的答案，与密码有关。", category_id=category.pk
        )
        services.article_update(
            actor=editor, workspace=editor.workspace, article_id=a.pk, body=f"改过的答案{i}，密码"
        )
        services.category_create(actor=editor, workspace=editor.workspace, name=f"分类{i}")


@pytest.mark.parametrize(
    "name", ["home", "search", "category", "article", "version", "categories", "suggest"]
)
def test_fixed_query_counts(editor, category, kb, name):
    client = client_for(editor)
    pk = kb["password"].pk
    services.article_update(
        actor=editor, workspace=editor.workspace, article_id=pk, body="新的正文，密码。"
    )
    urls = {
        "home": (reverse("service:kb_home"), {}),
        "search": (reverse("service:kb_home"), {"q": "密码"}),
        "category": (reverse("service:kb_category", args=[category.pk]), {}),
        "article": (reverse("service:kb_article", args=[pk]), {}),
        "version": (reverse("service:kb_article_version", args=[pk, 2]), {}),
        "categories": (reverse("service:kb_categories"), {}),
        "suggest": (reverse("service:kb_suggest"), {"text": "客户忘记了登录密码"}),
    }
    url, params = urls[name]
    client.get(url, params)
    small = _count(client, url, **params)
    _more(editor, category, 12)
    client.get(url, params)  # the searchable total, forgotten when articles were published
    big = _count(client, url, **params)
    assert big == small


def test_home_search_and_results_partial(editor, reader, kb):
    client = client_for(reader)
    page = client.get(reverse("service:kb_home")).content.decode()
    assert "如何重置登录密码" in page and "Accounts" in page  # English page: English name
    assert "草稿" not in page  # readers do not see drafts
    page = client.get(reverse("service:kb_home"), {"q": "忘記密碼"}).content.decode()
    results = page[page.index('id="kb-results"') :]
    assert "如何重置登录<mark>密码</mark>" in results
    assert "打印机卡纸怎么办</a>" not in results.split("<h2>")[0]
    partial = client.get(
        reverse("service:kb_home"),
        {"q": "卡纸"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="kb-results",
    ).content.decode()
    assert "打印机" in partial and "<html" not in partial
    page = client.get(reverse("service:kb_home"), {"q": "没有这种东西xyz"}).content.decode()
    assert "No article matches" in page
    # Editors see their drafts on the home, never in results.
    page = client_for(editor).get(reverse("service:kb_home")).content.decode()
    assert "草稿：新功能说明" in page
    partial = (
        client_for(editor)
        .get(
            reverse("service:kb_home"),
            {"q": "密码策略"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="kb-results",
        )
        .content.decode()
    )
    assert "草稿" not in partial and "如何重置登录" in partial


def test_article_page_renders_markup_safely_and_counts_views(editor, reader, kb):
    evil = article(
        editor,
        "<script>alert(1)</script>",
        "正文 <img src=x onerror=alert(1)> [点我](javascript:alert(1)) [好](https://example.com)",
    )
    client = client_for(reader)
    page = client.get(reverse("service:kb_article", args=[evil.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<img" not in page and 'href="javascript' not in page
    assert 'href="https://example.com" rel="noopener nofollow"' in page
    page = client.get(reverse("service:kb_article", args=[kb["password"].pk])).content.decode()
    assert "<h2>步骤</h2>" in page and "<strong>忘记密码</strong>" in page and "<li>" in page
    kb["password"].refresh_from_db()
    assert kb["password"].views == 1
    # A reader cannot open a draft.
    assert client.get(reverse("service:kb_article", args=[kb["draft"].pk])).status_code == 404
    assert (
        client_for(editor).get(reverse("service:kb_article", args=[kb["draft"].pk])).status_code
        == 200
    )


def test_helpful_once_per_session(reader, kb):
    client = client_for(reader)
    url = reverse("service:kb_article_helpful", args=[kb["printer"].pk])
    response = client.post(url, {"helpful": "yes"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Thank you" in response.content.decode()
    client.post(url, {"helpful": "no"}, HTTP_HX_REQUEST="true")
    kb["printer"].refresh_from_db()
    assert (kb["printer"].helpful_yes, kb["printer"].helpful_no) == (1, 0)
    page = client.get(reverse("service:kb_article", args=[kb["printer"].pk])).content.decode()
    assert "Thank you for your feedback" in page


def test_editor_creates_publishes_edits_and_stale_save_is_refused(editor, category):
    client = client_for(editor)
    url = reverse("service:kb_article_create")
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"title": "", "body": "", "language": "zh-hans", "visibility": "internal"}
    )
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    response = client.post(
        url,
        {
            "title": "路由器无法上网",
            "body": "重启路由器。",
            "language": "zh-hans",
            "visibility": "public",
            "category": category.pk,
            "publish": "1",
        },
    )
    assert response.status_code == 302
    row = Article.objects.in_workspace(editor.workspace).get(title="路由器无法上网")
    assert row.status == "published" and row.version == 1
    edit = reverse("service:kb_article_edit", args=[row.pk])
    page = client.get(edit).content.decode()
    assert 'name="lock_version" value="1"' in page
    values = {
        "title": "路由器无法上网",
        "body": "先重启路由器，再检查网线。",
        "language": "zh-hans",
        "visibility": "public",
        "note": "加了网线",
        "lock_version": 1,
    }
    assert client.post(edit, values).status_code == 302
    row.refresh_from_db()
    assert row.version == 2 and row.category is None
    stale = client.post(edit, {**values, "body": "别人的旧稿"})
    assert stale.status_code == 400 and "newer version" in stale.content.decode()
    row.refresh_from_db()
    assert row.body == "先重启路由器，再检查网线。"
    bad_product = client.post(edit, {**values, "lock_version": 2, "product": "NOPE"})
    assert (
        bad_product.status_code == 400
        and "No product has the code NOPE" in bad_product.content.decode()
    )


def test_translate_prefills_the_other_language(editor, kb):
    client = client_for(editor)
    page = client.get(
        reverse("service:kb_article_create"), {"translation_of": kb["password"].pk}
    ).content.decode()
    assert 'value="en" selected' in page and f'value="{kb["password"].pk}"' in page


def test_status_actions(editor, kb):
    client = client_for(editor)
    url = reverse("service:kb_article_status", args=[kb["draft"].pk])
    assert client.post(url, {"action": "publish"}).status_code == 302
    kb["draft"].refresh_from_db()
    assert kb["draft"].status == "published" and kb["draft"].published_at
    client.post(url, {"action": "archive"})
    kb["draft"].refresh_from_db()
    assert kb["draft"].status == "archived"


def test_versions_diff_and_restore(editor, kb):
    client = client_for(editor)
    pk = kb["printer"].pk
    services.article_update(
        actor=editor,
        workspace=editor.workspace,
        article_id=pk,
        body="打开后盖，取出卡住的纸张。",
        note="前盖改后盖",
    )
    page = client.get(reverse("service:kb_article_version", args=[pk, 2])).content.decode()
    assert "<del>前</del><ins>后</ins>" in page and "前盖改后盖" in page
    page = client.get(
        reverse("service:kb_article_version", args=[pk, 1]), {"compare": 2}
    ).content.decode()
    assert "Restore this version" in page
    response = client.post(reverse("service:kb_article_restore", args=[pk, 1]), {"lock_version": 2})
    assert response.status_code == 302
    row = Article.objects.in_workspace(editor.workspace).get(pk=pk)
    assert row.version == 3 and row.body == "打开前盖，取出卡住的纸张。"
    assert ArticleVersion.objects.in_workspace(editor.workspace).filter(article=row).count() == 3
    page = client.get(reverse("service:kb_article", args=[pk])).content.decode()
    assert "Restored version 1" in page


def test_categories_admin(editor, category, admin_user):
    client = client_for(editor)
    url = reverse("service:kb_categories")
    client.post(url, {"action": "create", "name": "网络", "name_en": "Network", "position": 2})
    child = ArticleCategory.objects.in_workspace(editor.workspace).get(name="网络")
    client.post(
        url,
        {
            "action": "update",
            "id": child.pk,
            "name": "网络故障",
            "parent": category.pk,
            "position": 1,
        },
    )
    child.refresh_from_db()
    assert (child.name, child.parent_id) == ("网络故障", category.pk)
    # Inside itself (or below itself): not offered, and refused.
    response = client.post(
        url,
        {"action": "update", "id": category.pk, "name": "账户与登录", "parent": child.pk},
        follow=True,
    )
    assert "not one of the available choices" in response.content.decode()
    category.refresh_from_db()
    assert category.parent_id is None
    page = client.get(url).content.decode()
    assert "网络故障" in page and "Delete" not in page  # editors may not delete
    # An administrator deletes: not while it has a sub-category.
    admin = client_for(admin_user)
    response = admin.post(url, {"action": "delete", "id": category.pk}, follow=True)
    assert "categories inside this one" in response.content.decode()
    admin.post(url, {"action": "delete", "id": child.pk})
    assert not ArticleCategory.objects.in_workspace(editor.workspace).filter(pk=child.pk).exists()


def test_suggest_partial(reader, kb):
    client = client_for(reader)
    url = reverse("service:kb_suggest")
    html = client.get(
        url, {"subject": "登录不了", "description": "客户说忘记了密码，收不到验证码"}
    ).content.decode()
    pk = kb["password"].pk
    assert f'href="/service/kb/articles/{pk}/" target="_blank"' in html
    assert "打印机" not in html
    assert "Articles that may answer" in client.get(url).content.decode()


def test_other_workspace_is_404(editor, kb, other_admin):
    client = client_for(other_admin)
    pk = kb["password"].pk
    category_id = kb["password"].category_id
    for url in (
        reverse("service:kb_article", args=[pk]),
        reverse("service:kb_article_edit", args=[pk]),
        reverse("service:kb_article_version", args=[pk, 1]),
        reverse("service:kb_category", args=[category_id]),
    ):
        assert client.get(url).status_code == 404, url
    for url in (
        reverse("service:kb_article_status", args=[pk]),
        reverse("service:kb_article_helpful", args=[pk]),
        reverse("service:kb_article_restore", args=[pk, 1]),
    ):
        assert client.post(url, {"action": "archive", "helpful": "yes"}).status_code == 404, url
    response = client.post(
        reverse("service:kb_categories"), {"action": "delete", "id": category_id}
    )
    assert response.status_code == 404
    # Other workspaces' articles never appear in its search or suggestions.
    page = client.get(reverse("service:kb_home"), {"q": "密码"}).content.decode()
    assert "如何重置登录密码" not in page
    page = client.get(reverse("service:kb_suggest"), {"text": "忘记登录密码"}).content.decode()
    assert "如何重置登录密码" not in page


def test_users_without_the_right_are_refused(nobody, reader, kb):
    client = client_for(nobody)
    pk = kb["password"].pk
    for url in (
        reverse("service:kb_home"),
        reverse("service:kb_suggest"),
        reverse("service:kb_article", args=[pk]),
        reverse("service:kb_category", args=[kb["password"].category_id]),
        reverse("service:kb_article_create"),
        reverse("service:kb_categories"),
    ):
        assert client.get(url).status_code == 403, url
    # A reader may not write.
    client = client_for(reader)
    for url in (
        reverse("service:kb_article_create"),
        reverse("service:kb_article_edit", args=[pk]),
        reverse("service:kb_categories"),
    ):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(
            reverse("service:kb_article_status", args=[pk]), {"action": "archive"}
        ).status_code
        == 403
    )
    assert client.post(reverse("service:kb_article_restore", args=[pk, 1])).status_code == 403


def test_suggest_box_include(rf, reader):
    from django.template import Context, Template

    request = rf.get("/")
    request.user = reader
    in_form = Template('<form>{% include "service/knowledge/_suggest_box.html" %}</form>').render(
        Context({"request": request})
    )
    assert 'hx-get="/service/kb/suggest/"' in in_form
    assert "keyup changed delay:500ms from:closest form" in in_form
    assert 'hx-include="closest form"' in in_form
    on_case = Template(
        '{% include "service/knowledge/_suggest_box.html" with text=subject|add:" "|add:body %}'
    ).render(Context({"subject": "打印机卡纸", "body": "纸张皱 & <b>"}))
    assert "/service/kb/suggest/?text=%E6%89%93" in on_case and 'hx-trigger="load"' in on_case
    assert "<b>" not in on_case
