"""The service's knowledge pages (``service:`` namespace, under ``/service/kb/``)."""

from django.urls import path

from . import knowledge_views as views

urlpatterns: list = [
    path("kb/", views.kb_home, name="kb_home"),
    path("kb/suggest/", views.kb_suggest, name="kb_suggest"),
    path("kb/categories/", views.kb_categories, name="kb_categories"),
    path("kb/categories/<int:category_id>/", views.kb_category, name="kb_category"),
    path("kb/articles/new/", views.article_create, name="kb_article_create"),
    path("kb/articles/<int:article_id>/", views.article_detail, name="kb_article"),
    path("kb/articles/<int:article_id>/edit/", views.article_edit, name="kb_article_edit"),
    path("kb/articles/<int:article_id>/status/", views.article_status, name="kb_article_status"),
    path("kb/articles/<int:article_id>/helpful/", views.article_helpful, name="kb_article_helpful"),
    path(
        "kb/articles/<int:article_id>/versions/<int:version>/",
        views.article_version,
        name="kb_article_version",
    ),
    path(
        "kb/articles/<int:article_id>/versions/<int:version>/restore/",
        views.article_restore,
        name="kb_article_restore",
    ),
]
