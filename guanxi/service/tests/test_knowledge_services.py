# ruff: noqa: F811  (pytest fixtures imported from knowledge_support)
"""The knowledge base's services: versions (a new one for each change of title or text,
none otherwise, restore as a new version, the stale check), statuses, translations,
categories, counters and the audit log; nothing written on bad input."""

from __future__ import annotations

import pytest

from guanxi.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from guanxi.platform.models import AuditEntry
from guanxi.service.models import Article, ArticleCategory, ArticleVersion
from guanxi.service.services import knowledge as services

from .knowledge_support import article, editor, nobody, reader  # noqa: F401

pytestmark = pytest.mark.django_db


def _versions(row) -> list[tuple[int, str, str]]:
    return list(
        ArticleVersion.objects.in_workspace(row.workspace_id)
        .filter(article=row)
        .order_by("version")
        .values_list("version", "title", "body")
    )


def test_versions_grow_with_each_change_of_title_or_text(editor):
    ws = editor.workspace
    row = article(editor, "安装指南", "第一版", publish=False, note="初稿")
    assert (row.version, row.status, row.author) == (1, "draft", editor)
    assert _versions(row) == [(1, "安装指南", "第一版")]
    services.article_update(actor=editor, workspace=ws, article_id=row.pk, body="第二版")
    services.article_update(actor=editor, workspace=ws, article_id=row.pk, title="安装指南（新）")
    # Same text, or other fields only: no new version.
    services.article_update(
        actor=editor, workspace=ws, article_id=row.pk, body="第二版", visibility="public"
    )
    row.refresh_from_db()
    assert row.version == 3 and row.visibility == "public"
    assert _versions(row) == [
        (1, "安装指南", "第一版"),
        (2, "安装指南", "第二版"),
        (3, "安装指南（新）", "第二版"),
    ]
    assert {"第二", "版"} <= set(row.search_text.split()) and "新" in row.search_title.split()
    restored = services.article_restore(actor=editor, workspace=ws, article_id=row.pk, version=1)
    assert (restored.version, restored.title, restored.body) == (4, "安装指南", "第一版")
    assert _versions(row)[-1] == (4, "安装指南", "第一版")
    note = ArticleVersion.objects.in_workspace(ws).get(article=row, version=4).note
    assert note == "Restored version 1"
    assert "第一版" in restored.search_text and "第二版" not in restored.search_text
    with pytest.raises(ApplicationError) as unchanged:
        services.article_restore(actor=editor, workspace=ws, article_id=row.pk, version=4)
    assert unchanged.value.code == "unchanged"
    with pytest.raises(NotFound):
        services.article_restore(actor=editor, workspace=ws, article_id=row.pk, version=99)


def test_stale_save_is_refused_and_writes_nothing(editor):
    ws = editor.workspace
    row = article(editor, "标题", "正文")
    services.article_update(
        actor=editor, workspace=ws, article_id=row.pk, body="别人先存", lock_version=1
    )
    with pytest.raises(Conflict) as stale:
        services.article_update(
            actor=editor, workspace=ws, article_id=row.pk, body="我的旧稿", lock_version=1
        )
    assert stale.value.code == "stale"
    row.refresh_from_db()
    assert (row.body, row.version) == ("别人先存", 2)
    with pytest.raises(Conflict):
        services.article_restore(
            actor=editor, workspace=ws, article_id=row.pk, version=1, lock_version=1
        )


def test_bad_input_reports_every_field_and_writes_nothing(editor, other_admin):
    ws = editor.workspace
    foreign = services.category_create(
        actor=other_admin, workspace=other_admin.workspace, name="别家"
    )
    with pytest.raises(ApplicationError) as bad:
        services.article_create(
            actor=editor,
            workspace=ws,
            title=" ",
            body="",
            language="fr",
            visibility="secret",
            category_id=foreign.pk,
            product_id="abc",
        )
    assert set(bad.value.fields) == {
        "title",
        "body",
        "language",
        "visibility",
        "category_id",
        "product_id",
    }
    with pytest.raises(ApplicationError):
        services.article_create(actor=editor, workspace=ws, title="x" * 201, body="正文")
    with pytest.raises(ApplicationError):
        services.article_create(actor=editor, workspace=ws, title="标题", body="a\x00b")
    with pytest.raises(ApplicationError) as unknown:
        services.article_update(actor=editor, workspace=ws, article_id=1, author_id=3)
    assert "author_id" in unknown.value.fields
    assert not Article.objects.in_workspace(ws).exists()
    assert not ArticleVersion.objects.in_workspace(ws).exists()


def test_statuses_and_rights(editor, reader, nobody):
    ws = editor.workspace
    row = article(editor, "标题", "正文", publish=False)
    services.article_publish(actor=editor, workspace=ws, article_id=row.pk)
    row.refresh_from_db()
    assert row.status == "published" and row.published_at is not None
    services.article_unpublish(actor=editor, workspace=ws, article_id=row.pk)
    services.article_archive(actor=editor, workspace=ws, article_id=row.pk)
    row.refresh_from_db()
    assert row.status == "archived"
    for user in (reader, nobody):
        with pytest.raises(PermissionDenied):
            services.article_publish(actor=user, workspace=ws, article_id=row.pk)
        with pytest.raises(PermissionDenied):
            services.article_create(actor=user, workspace=ws, title="t", body="b")
        with pytest.raises(PermissionDenied):
            services.category_create(actor=user, workspace=ws, name="分类")
    # Editors write but do not delete categories.
    category = services.category_create(actor=editor, workspace=ws, name="分类")
    with pytest.raises(PermissionDenied):
        services.category_delete(actor=editor, workspace=ws, category_id=category.pk)


def test_another_workspace_is_not_found(editor, other_admin):
    row = article(editor, "标题", "正文")
    category = services.category_create(actor=editor, workspace=editor.workspace, name="分类")
    ws = other_admin.workspace
    calls = [
        lambda: services.article_update(actor=other_admin, workspace=ws, article_id=row.pk, title="x"),
        lambda: services.article_publish(actor=other_admin, workspace=ws, article_id=row.pk),
        lambda: services.article_restore(actor=other_admin, workspace=ws, article_id=row.pk, version=1),
        lambda: services.article_rate(workspace=ws, article_id=row.pk, helpful=True),
        lambda: services.category_update(actor=other_admin, workspace=ws, category_id=category.pk, name="x"),
        lambda: services.category_delete(actor=other_admin, workspace=ws, category_id=category.pk),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(NotFound):
            call()
    with pytest.raises(ApplicationError) as linked:
        services.article_create(
            actor=other_admin, workspace=ws, title="t", body="b", translation_of_id=row.pk
        )
    assert "translation_of_id" in linked.value.fields


def test_translations(editor):
    ws = editor.workspace
    zh = article(editor, "重置密码", "正文")
    en = article(editor, "Reset a password", "Text", language="en", translation_of_id=zh.pk)
    assert en.translation_of_id == zh.pk
    with pytest.raises(ApplicationError) as same:
        article(editor, "另一篇", "正文", translation_of_id=zh.pk)
    assert "translation_of_id" in same.value.fields
    with pytest.raises(ApplicationError) as itself:
        services.article_update(
            actor=editor, workspace=ws, article_id=zh.pk, translation_of_id=en.pk
        )
    assert "translation_of_id" in itself.value.fields


def test_categories(editor, admin_user):
    ws = editor.workspace
    top = services.category_create(actor=editor, workspace=ws, name="产品")
    child = services.category_create(actor=editor, workspace=ws, name="路由器", parent_id=top.pk)
    with pytest.raises(Conflict):
        services.category_create(actor=editor, workspace=ws, name="路由器", parent_id=top.pk)
    services.category_create(actor=editor, workspace=ws, name="路由器")  # another parent: fine
    with pytest.raises(ApplicationError) as loop:
        services.category_update(actor=editor, workspace=ws, category_id=top.pk, parent_id=child.pk)
    assert "parent_id" in loop.value.fields
    row = article(editor, "标题", "正文", category_id=child.pk)
    with pytest.raises(Conflict):
        services.category_delete(actor=admin_user, workspace=ws, category_id=top.pk)
    services.category_delete(actor=admin_user, workspace=ws, category_id=child.pk)
    row.refresh_from_db()
    assert row.category_id is None
    assert not ArticleCategory.objects.in_workspace(ws).filter(pk=child.pk).exists()


def test_counters_only_for_published_and_public_for_customers(editor):
    ws = editor.workspace
    internal = article(editor, "内部", "正文")
    draft = article(editor, "草稿", "正文", publish=False, visibility="public")
    services.article_record_view(workspace=ws, article_id=internal.pk)
    services.article_record_view(workspace=ws, article_id=internal.pk, public_only=True)
    services.article_rate(workspace=ws, article_id=internal.pk, helpful=False)
    internal.refresh_from_db()
    assert (internal.views, internal.helpful_no) == (1, 1)
    with pytest.raises(NotFound):
        services.article_rate(workspace=ws, article_id=draft.pk, helpful=True)
    with pytest.raises(NotFound):
        services.article_rate(workspace=ws, article_id=internal.pk, helpful=True, public_only=True)


def test_audit_rows_keep_fields_not_the_text(editor):
    ws = editor.workspace
    row = article(editor, "标题", "很长的正文" * 100)
    services.article_update(
        actor=editor, workspace=ws, article_id=row.pk, body="新正文", note="缩短"
    )
    entries = list(
        AuditEntry.objects.in_workspace(ws)
        .filter(object_key="service.article", object_id=str(row.pk))
        .order_by("pk")
    )
    assert [e.action for e in entries] == ["create", "update"]
    assert "body" not in entries[0].changes and entries[0].changes["title"] == [None, "标题"]
    assert entries[1].changes == {"version": [1, 2], "note": [None, "缩短"]}
