"""The knowledge base's demo data: categories, Chinese articles with English translations,
public and internal ones, a version history and a draft; found by search; made once."""

from __future__ import annotations

import random

import pytest

from guanxi.sales import catalog_demo
from guanxi.sales.services.setup import ensure_sales_defaults
from guanxi.service import knowledge_demo
from guanxi.service.models import Article, ArticleCategory, ArticleVersion
from guanxi.service.services import kb_search

pytestmark = pytest.mark.django_db


def test_demo_knowledge_base(workspace, admin_user):
    ensure_sales_defaults(workspace)
    catalog_demo.seed(workspace=workspace, users=[admin_user], rng=random.Random(1))
    knowledge_demo.seed(workspace=workspace, users=[admin_user], rng=random.Random(1))
    articles = Article.objects.in_workspace(workspace)
    expected = len(knowledge_demo.ARTICLES) + len(knowledge_demo.TRANSLATIONS) + 1
    assert articles.count() == expected >= 12
    assert ArticleCategory.objects.in_workspace(workspace).count() == len(knowledge_demo.CATEGORIES)
    assert articles.filter(language="en").exclude(translation_of=None).count() == 3
    assert articles.filter(visibility="internal").count() == 2
    assert articles.filter(status="draft").count() == 1
    assert articles.exclude(product=None).count() >= 8
    errors = articles.get(title__startswith="变频器常见故障代码")
    assert errors.version == 2 and "GF" in errors.body
    assert ArticleVersion.objects.in_workspace(workspace).filter(article=errors).count() == 2
    hits = kb_search.article_search(workspace=workspace, query="忘記密碼", public_only=True)
    assert hits[0].article.title == "忘记设备管理密码怎么办"
    hits = kb_search.article_suggest(
        workspace=workspace, text="水泵运行时声音很大，还在振动", public_only=True
    )
    assert hits[0].article.title == "水泵噪音大、振动大的原因"
    # Once.
    knowledge_demo.seed(workspace=workspace, users=[admin_user], rng=random.Random(1))
    assert Article.objects.in_workspace(workspace).count() == expected


def test_demo_needs_someone_who_writes_articles(workspace):
    from guanxi.platform.models import Role
    from guanxi.platform.tests.factories import UserFactory

    role = Role.objects.create(workspace=workspace, name="Nothing", code="nothing", rights={})
    knowledge_demo.seed(workspace=workspace, users=[UserFactory(workspace=workspace, role=role)])
    assert not Article.objects.in_workspace(workspace).exists()
