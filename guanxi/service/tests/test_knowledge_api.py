# ruff: noqa: F811  (pytest fixtures imported from knowledge_support)
"""The knowledge base's REST endpoints: articles (create, read, change with versions and
the stale check, publish/unpublish/archive, restore, feedback), search and suggestions,
categories; bad input, another workspace (404) and a user without the right (403) for
each of them."""

from __future__ import annotations

import pytest

from guanxi.platform.tests.test_api_support import assert_error
from guanxi.service.models import Article
from guanxi.service.services import knowledge as services

from .knowledge_support import api_for, article, editor, nobody, reader  # noqa: F401

pytestmark = pytest.mark.django_db


def test_articles_create_read_update_versions_restore(editor):
    api = api_for(editor)
    category = api.post("/service/kb/categories", {"name": "安装", "name_en": "Installation"})
    assert category.status_code == 201, category.content
    created = api.post(
        "/service/kb/articles",
        {
            "title": "路由器安装步骤",
            "body": "1. 接通电源\n2. 连接网线",
            "category_id": category.json()["id"],
            "visibility": "public",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    pk = body["id"]
    assert (body["status"], body["version"], body["category"]["name_en"]) == (
        "draft",
        1,
        "Installation",
    )
    changed = api.patch(
        f"/service/kb/articles/{pk}",
        {"body": "1. 接通电源\n2. 连接网线\n3. 打开浏览器", "note": "第三步", "lock_version": 1},
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    # Not the text: no new version.
    assert (
        api.patch(f"/service/kb/articles/{pk}", {"visibility": "internal"}).json()["version"] == 2
    )
    stale = api.patch(f"/service/kb/articles/{pk}", {"title": "旧稿", "lock_version": 1})
    assert_error(stale, 409, "stale")
    versions = api.get(f"/service/kb/articles/{pk}/versions").json()
    assert [(v["version"], v["note"]) for v in versions] == [(2, "第三步"), (1, "")]
    first = api.get(f"/service/kb/articles/{pk}/versions/1").json()
    assert first["body"] == "1. 接通电源\n2. 连接网线"
    restored = api.post(f"/service/kb/articles/{pk}/versions/1/restore", {"lock_version": 2})
    assert restored.status_code == 200 and restored.json()["version"] == 3
    assert restored.json()["body"] == "1. 接通电源\n2. 连接网线"
    assert_error(api.post(f"/service/kb/articles/{pk}/versions/3/restore", {}), 400, "unchanged")
    assert_error(api.post(f"/service/kb/articles/{pk}/versions/9/restore", {}), 404)
    assert_error(api.get(f"/service/kb/articles/{pk}/versions/9"), 404)
    for action, status in (
        ("publish", "published"),
        ("unpublish", "draft"),
        ("archive", "archived"),
    ):
        response = api.post(f"/service/kb/articles/{pk}/{action}")
        assert response.status_code == 200 and response.json()["status"] == status
    listed = api.get("/service/kb/articles", status="archived").json()
    assert [a["id"] for a in listed["items"]] == [pk]


def test_bad_input(editor):
    api = api_for(editor)
    assert_error(api.post("/service/kb/articles", {"title": "", "body": "x"}), 422)
    assert_error(
        api.post("/service/kb/articles", {"title": "t", "body": "x", "language": "fr"}), 422
    )
    error = assert_error(
        api.post("/service/kb/articles", {"title": "t", "body": "   ", "category_id": 999999}), 400
    )
    assert set(error["fields"]) == {"body", "category_id"}
    original = article(editor, "密码", "正文")
    error = assert_error(
        api.post(
            "/service/kb/articles",
            {"title": "同语言", "body": "正文", "translation_of_id": original.pk},
        ),
        400,
    )
    assert "translation_of_id" in error["fields"]
    assert_error(api.post("/service/kb/articles", {"title": "t\x00", "body": "x"}), 422)
    assert_error(api.get("/service/kb/search"), 422)
    assert_error(api.get("/service/kb/search", q="x" * 201), 422)
    assert_error(api.get("/service/kb/articles", cursor="nonsense"), 400, "invalid_cursor")
    assert_error(api.post("/service/kb/categories", {"name": "  "}), 400)
    api.post("/service/kb/categories", {"name": "网络"})
    assert_error(api.post("/service/kb/categories", {"name": "网络"}), 409, "duplicate")


def test_translations_link_to_the_original(editor):
    api = api_for(editor)
    zh = article(editor, "如何重置密码", "正文")
    en = api.post(
        "/service/kb/articles",
        {
            "title": "How to reset a password",
            "body": "Text",
            "language": "en",
            "translation_of_id": zh.pk,
        },
    ).json()
    assert en["translation_of_id"] == zh.pk
    # A translation of the translation links to the original too.
    zh_hant = api.post(
        "/service/kb/articles",
        {"title": "另一稿", "body": "正文", "language": "en", "translation_of_id": en["id"]},
    ).json()
    assert zh_hant["translation_of_id"] == zh.pk


def test_search_and_suggest(editor, reader):
    article(editor, "如何重置登录密码", "点击“忘记密码”，输入手机验证码。", visibility="public")
    article(editor, "内部：密码策略", "员工密码每90天更换。")
    article(
        editor, "Reset your password", "Click Forgot password.", language="en", visibility="public"
    )
    article(editor, "草稿密码", "未发布", publish=False)
    api = api_for(reader)
    hits = api.get("/service/kb/search", q="密码").json()
    titles = [h["article"]["title"] for h in hits]
    assert set(titles) == {"如何重置登录密码", "内部：密码策略"}
    assert "<mark>密码</mark>" in hits[0]["title_html"]
    public = api.get("/service/kb/search", q="密码", public_only="true").json()
    assert [h["article"]["title"] for h in public] == ["如何重置登录密码"]
    english = api.get("/service/kb/search", q="password", language="en").json()
    assert [h["article"]["title"] for h in english] == ["Reset your password"]
    suggested = api.get("/service/kb/suggest", text="客户说忘了登录密码，手机收不到验证码").json()
    assert suggested[0]["article"]["title"] == "如何重置登录密码"
    assert_error(api.get("/service/kb/suggest"), 422)


def test_feedback_and_reader_sees_only_published(editor, reader):
    published = article(editor, "已发布", "正文")
    draft = article(editor, "草稿", "正文", publish=False)
    api = api_for(reader)
    response = api.post(f"/service/kb/articles/{published.pk}/feedback", {"helpful": True})
    assert response.json() == {"helpful_yes": 1, "helpful_no": 0}
    assert_error(api.get(f"/service/kb/articles/{draft.pk}"), 404)
    assert [a["id"] for a in api.get("/service/kb/articles").json()["items"]] == [published.pk]
    assert_error(api.post(f"/service/kb/articles/{draft.pk}/feedback", {"helpful": True}), 404)


def _endpoints(pk: int, category_id: int) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", "/service/kb/articles", None),
        ("post", "/service/kb/articles", {"title": "t", "body": "b"}),
        ("get", f"/service/kb/articles/{pk}", None),
        ("patch", f"/service/kb/articles/{pk}", {"title": "新"}),
        ("post", f"/service/kb/articles/{pk}/publish", None),
        ("post", f"/service/kb/articles/{pk}/unpublish", None),
        ("post", f"/service/kb/articles/{pk}/archive", None),
        ("get", f"/service/kb/articles/{pk}/versions", None),
        ("get", f"/service/kb/articles/{pk}/versions/1", None),
        ("post", f"/service/kb/articles/{pk}/versions/1/restore", {}),
        ("post", f"/service/kb/articles/{pk}/feedback", {"helpful": True}),
        ("get", "/service/kb/search?q=密码", None),
        ("get", "/service/kb/suggest?text=忘记密码", None),
        ("get", "/service/kb/categories", None),
        ("post", "/service/kb/categories", {"name": "新分类"}),
        ("patch", f"/service/kb/categories/{category_id}", {"name": "改名"}),
        ("delete", f"/service/kb/categories/{category_id}", None),
    ]


def _call(api, method, path, body):
    if method in ("get", "delete"):
        return getattr(api, method)(path)
    return getattr(api, method)(path, body)


def test_another_workspace_is_404(editor, other_admin):
    category = services.category_create(actor=editor, workspace=editor.workspace, name="分类")
    own = article(editor, "密码", "正文", category_id=category.pk)
    api = api_for(other_admin)
    collections = {"/service/kb/articles", "/service/kb/categories"}
    for method, path, body in _endpoints(own.pk, category.pk):
        response = _call(api, method, path, body)
        if path in collections or path.startswith(("/service/kb/search", "/service/kb/suggest")):
            assert response.status_code in (200, 201), (path, response.content)
            assert "密码" not in response.content.decode() or method == "post", path
            continue
        assert_error(response, 404)
    own.refresh_from_db()
    assert (own.title, own.status) == ("密码", "published")


def test_users_without_the_right_are_refused(editor, nobody, reader):
    category = services.category_create(actor=editor, workspace=editor.workspace, name="分类")
    own = article(editor, "密码", "正文", category_id=category.pk)
    api = api_for(nobody)
    for method, path, body in _endpoints(own.pk, category.pk):
        assert_error(_call(api, method, path, body), 403)
    # A reader may read, search and give feedback, not write.
    api = api_for(reader)
    writes = {"post", "patch", "delete"}
    for method, path, body in _endpoints(own.pk, category.pk):
        response = _call(api, method, path, body)
        if method in writes and not path.endswith("/feedback"):
            assert_error(response, 403)
        else:
            assert response.status_code == 200, (path, response.content)
    assert Article.objects.in_workspace(editor.workspace).count() == 1
