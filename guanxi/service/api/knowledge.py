"""The knowledge base's endpoints: ``/service/kb/articles`` (with their versions, publish,
unpublish, archive, restore and feedback), ``/service/kb/search``, ``/service/kb/suggest``
and ``/service/kb/categories``. The same services and selectors as the pages; another
workspace's ids are 404, missing rights 403. Readers see published articles; editors (the
update right) drafts and archived ones too; search and suggestions only ever return
published articles."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from guanxi.common.api import Id, PageParams, PatchSchema, page_of, page_response
from guanxi.common.api import responses as documented
from guanxi.common.api import text as bounded_text
from guanxi.common.views import actor_scope
from guanxi.platform import permissions
from guanxi.platform.models import Action

from ..models import Article, ArticleCategory, ArticleVersion
from ..objects import ARTICLE
from ..selectors import knowledge as selectors
from ..services import kb_search
from ..services import knowledge as services

router = Router()
ARTICLE_TAGS = ["Knowledge base"]

LanguageName = Literal["zh-hans", "en"]
VisibilityName = Literal["internal", "public"]
StatusName = Literal["draft", "published", "archived"]


# --- schemas ---------------------------------------------------------------------------------


class CategoryRef(Schema):
    id: int
    name: str
    name_en: str


class ArticleSummaryOut(Schema):
    id: int
    title: str
    category: CategoryRef | None
    language: LanguageName
    visibility: VisibilityName
    status: StatusName
    version: int
    translation_of_id: int | None
    product_id: int | None
    published_at: dt.datetime | None
    updated_at: dt.datetime
    views: int
    helpful_yes: int
    helpful_no: int


class ArticleOut(ArticleSummaryOut):
    body: str = Field(..., description="The text, in Markdown.")
    author_id: int | None
    created_at: dt.datetime


class ArticleIn(Schema):
    title: bounded_text(services.TITLE_MAX, min_length=1)
    body: bounded_text(services.BODY_MAX, min_length=1) = Field(..., description="Markdown.")
    language: LanguageName = "zh-hans"
    visibility: VisibilityName = Field(
        "internal", description="`public` articles are shown to customers in the portal."
    )
    category_id: Id | None = None
    product_id: Id | None = Field(None, description="The catalogue product it is about.")
    translation_of_id: Id | None = Field(
        None, description="The same article in the other language (linked to its original)."
    )
    publish: bool = Field(False, description="Publish at once (needs the update right).")
    note: bounded_text(services.NOTE_MAX) = Field("", description="For the version history.")


class ArticlePatch(PatchSchema):
    title: bounded_text(services.TITLE_MAX, min_length=1) | None = None
    body: bounded_text(services.BODY_MAX, min_length=1) | None = None
    language: LanguageName | None = None
    visibility: VisibilityName | None = None
    category_id: Id | None = None
    product_id: Id | None = None
    translation_of_id: Id | None = None
    note: bounded_text(services.NOTE_MAX) | None = Field(
        None, description="For the version history, when the title or text changes."
    )
    lock_version: int | None = Field(
        None,
        ge=1,
        description="The version the change is based on: a newer one saved meanwhile is 409 `stale`.",
    )


class ArticleFilters(Schema):
    category_id: Id | None = None
    status: StatusName | None = Field(None, description="Readers only ever see published ones.")
    language: LanguageName | None = None
    visibility: VisibilityName | None = None


class VersionOut(Schema):
    version: int
    title: str
    author_id: int | None
    note: str
    created_at: dt.datetime


class VersionDetailOut(VersionOut):
    body: str


class RestoreIn(Schema):
    lock_version: int | None = Field(None, ge=1, description="As for PATCH.")


class FeedbackIn(Schema):
    helpful: bool


class FeedbackOut(Schema):
    helpful_yes: int
    helpful_no: int


class SearchQuery(Schema):
    q: bounded_text(kb_search.MAX_QUERY_CHARS, min_length=1) = Field(
        ..., description="Words in Chinese (simplified or traditional) or English."
    )
    language: LanguageName | None = None
    public_only: bool = Field(False, description="Only what customers see in the portal.")
    limit: int = Field(10, ge=1, le=50)


class SuggestQuery(Schema):
    text: bounded_text(2000, min_length=1) = Field(
        ..., description="A problem in free text, e.g. a case's subject and description."
    )
    language: LanguageName | None = None
    public_only: bool = False
    limit: int = Field(5, ge=1, le=20)


class HitOut(Schema):
    article: ArticleSummaryOut
    score: float
    title_html: str = Field(..., description="The title, HTML-escaped, matches in `<mark>`.")
    snippet_html: str = Field(..., description="A passage of the text, matches in `<mark>`.")
    snippet: str = Field(..., description="The same passage as plain text.")


class CategoryOut(Schema):
    id: int
    name: str
    name_en: str
    parent_id: int | None
    position: int
    depth: int
    article_count: int = Field(..., description="The articles in it the caller can see.")


class CategoryIn(Schema):
    name: bounded_text(services.CATEGORY_NAME_MAX, min_length=1)
    name_en: bounded_text(services.CATEGORY_NAME_MAX) = ""
    parent_id: Id | None = None
    position: int = Field(0, ge=0, le=32767)


class CategoryPatch(PatchSchema):
    name: bounded_text(services.CATEGORY_NAME_MAX, min_length=1) | None = None
    name_en: bounded_text(services.CATEGORY_NAME_MAX) | None = None
    parent_id: Id | None = None
    position: int | None = Field(None, ge=0, le=32767)


# --- serializers -----------------------------------------------------------------------------


def _category_ref(row: ArticleCategory | None) -> dict | None:
    if row is None:
        return None
    return {"id": row.pk, "name": row.name, "name_en": row.name_en}


def summary_out(row: Article) -> dict:
    return {
        "id": row.pk,
        "title": row.title,
        "category": _category_ref(row.category),
        "language": row.language,
        "visibility": row.visibility,
        "status": row.status,
        "version": row.version,
        "translation_of_id": row.translation_of_id,
        "product_id": row.product_id,
        "published_at": row.published_at,
        "updated_at": row.updated_at,
        "views": row.views,
        "helpful_yes": row.helpful_yes,
        "helpful_no": row.helpful_no,
    }


def article_out(row: Article) -> dict:
    return {
        **summary_out(row),
        "body": row.body,
        "author_id": row.author_id,
        "created_at": row.created_at,
    }


def version_out(row: ArticleVersion, *, body=False) -> dict:
    data = {
        "version": row.version,
        "title": row.title,
        "author_id": row.author_id,
        "note": row.note,
        "created_at": row.created_at,
    }
    if body:
        data["body"] = row.body
    return data


def category_out(row: ArticleCategory) -> dict:
    return {
        "id": row.pk,
        "name": row.name,
        "name_en": row.name_en,
        "parent_id": row.parent_id,
        "position": row.position,
        "depth": getattr(row, "depth", 0),
        "article_count": getattr(row, "article_count", 0),
    }


def hit_out(hit: kb_search.ArticleHit) -> dict:
    return {
        "article": summary_out(hit.article),
        "score": hit.score,
        "title_html": str(hit.title_html),
        "snippet_html": str(hit.snippet_html),
        "snippet": hit.snippet,
    }


def _article(request, article_id) -> dict:
    return article_out(selectors.article_get(**actor_scope(request), article_id=article_id))


# --- articles --------------------------------------------------------------------------------


@router.get(
    "/service/kb/articles",
    response=documented(page_of(ArticleSummaryOut)),
    tags=ARTICLE_TAGS,
    operation_id="kb_articles_list",
    summary="List the articles, latest change first",
)
def kb_articles_list(request, filters: Query[ArticleFilters], page: Query[PageParams]):
    qs = selectors.article_list(
        **actor_scope(request),
        category_id=filters.category_id,
        status=filters.status or "",
        language=filters.language or "",
        visibility=filters.visibility or "",
    )
    return page_response(qs, page, summary_out, key="updated_at", descending=True)


@router.post(
    "/service/kb/articles",
    response=documented(ArticleOut, status=201),
    tags=ARTICLE_TAGS,
    operation_id="kb_articles_create",
    summary="Write an article (a draft unless `publish`); its first version",
)
def kb_articles_create(request, payload: ArticleIn):
    row = services.article_create(**actor_scope(request), **payload.model_dump())
    return Status(201, _article(request, row.pk))


@router.get(
    "/service/kb/articles/{article_id}",
    response=documented(ArticleOut),
    tags=ARTICLE_TAGS,
    operation_id="kb_articles_get",
    summary="An article with its text",
)
def kb_articles_get(request, article_id: Id):
    return _article(request, article_id)


@router.patch(
    "/service/kb/articles/{article_id}",
    response=documented(ArticleOut),
    tags=ARTICLE_TAGS,
    operation_id="kb_articles_update",
    summary="Change an article; a new title or text is a new version",
)
def kb_articles_update(request, article_id: Id, payload: ArticlePatch):
    changes = payload.changes()
    lock_version = changes.pop("lock_version", None)
    note = changes.pop("note", None) or ""
    services.article_update(
        **actor_scope(request),
        article_id=article_id,
        lock_version=lock_version,
        note=note,
        **changes,
    )
    return _article(request, article_id)


def _status_endpoint(name: str, service, summary: str):
    @router.post(
        f"/service/kb/articles/{{article_id}}/{name}",
        response=documented(ArticleOut),
        tags=ARTICLE_TAGS,
        operation_id=f"kb_articles_{name}",
        summary=summary,
    )
    def endpoint(request, article_id: Id):
        service(**actor_scope(request), article_id=article_id)
        return _article(request, article_id)

    endpoint.__name__ = f"kb_articles_{name}"
    return endpoint


kb_articles_publish = _status_endpoint(
    "publish", services.article_publish, "Publish (agents and, if public, customers find it)"
)
kb_articles_unpublish = _status_endpoint(
    "unpublish", services.article_unpublish, "Take back to draft"
)
kb_articles_archive = _status_endpoint(
    "archive", services.article_archive, "Archive (out of search and lists, history kept)"
)


@router.get(
    "/service/kb/articles/{article_id}/versions",
    response=documented(list[VersionOut]),
    tags=ARTICLE_TAGS,
    operation_id="kb_articles_versions",
    summary="The article's versions, newest first (without their text)",
)
def kb_articles_versions(request, article_id: Id):
    rows = selectors.article_versions(**actor_scope(request), article_id=article_id)
    return [version_out(v) for v in rows]


@router.get(
    "/service/kb/articles/{article_id}/versions/{version}",
    response=documented(VersionDetailOut),
    tags=ARTICLE_TAGS,
    operation_id="kb_articles_version_get",
    summary="One version with its text",
)
def kb_articles_version_get(request, article_id: Id, version: Id):
    row = selectors.article_version_get(
        **actor_scope(request), article_id=article_id, version=version
    )
    return version_out(row, body=True)


@router.post(
    "/service/kb/articles/{article_id}/versions/{version}/restore",
    response=documented(ArticleOut),
    tags=ARTICLE_TAGS,
    operation_id="kb_articles_restore",
    summary="Restore a version: a new version with its title and text",
)
def kb_articles_restore(request, article_id: Id, version: Id, payload: RestoreIn):
    services.article_restore(
        **actor_scope(request),
        article_id=article_id,
        version=version,
        lock_version=payload.lock_version,
    )
    return _article(request, article_id)


@router.post(
    "/service/kb/articles/{article_id}/feedback",
    response=documented(FeedbackOut),
    tags=ARTICLE_TAGS,
    operation_id="kb_articles_feedback",
    summary="“Was this helpful?” — count a yes or a no (published articles)",
)
def kb_articles_feedback(request, article_id: Id, payload: FeedbackIn):
    article = selectors.article_get(**actor_scope(request), article_id=article_id)
    services.article_rate(
        workspace=request.workspace, article_id=article.pk, helpful=payload.helpful
    )
    article.refresh_from_db(fields=["helpful_yes", "helpful_no"])
    return {"helpful_yes": article.helpful_yes, "helpful_no": article.helpful_no}


# --- search and suggestions ------------------------------------------------------------------


@router.get(
    "/service/kb/search",
    response=documented(list[HitOut]),
    tags=ARTICLE_TAGS,
    operation_id="kb_search",
    summary="Search the published articles (Chinese-aware), best first",
)
def kb_search_endpoint(request, query: Query[SearchQuery]):
    permissions.require(request.user, ARTICLE, Action.READ)
    hits = kb_search.article_search(
        workspace=request.workspace,
        query=query.q,
        public_only=query.public_only,
        language=query.language,
        limit=query.limit,
    )
    return [hit_out(h) for h in hits]


@router.get(
    "/service/kb/suggest",
    response=documented(list[HitOut]),
    tags=ARTICLE_TAGS,
    operation_id="kb_suggest",
    summary="Articles that may answer a problem described in free text",
)
def kb_suggest_endpoint(request, query: Query[SuggestQuery]):
    permissions.require(request.user, ARTICLE, Action.READ)
    hits = kb_search.article_suggest(
        workspace=request.workspace,
        text=query.text,
        public_only=query.public_only,
        language=query.language,
        limit=query.limit,
    )
    return [hit_out(h) for h in hits]


# --- categories ------------------------------------------------------------------------------


@router.get(
    "/service/kb/categories",
    response=documented(list[CategoryOut]),
    tags=ARTICLE_TAGS,
    operation_id="kb_categories_list",
    summary="The categories in tree order",
)
def kb_categories_list(request):
    return [category_out(c) for c in selectors.category_list(**actor_scope(request))]


@router.post(
    "/service/kb/categories",
    response=documented(CategoryOut, status=201),
    tags=ARTICLE_TAGS,
    operation_id="kb_categories_create",
    summary="Add a category (a name used by a sibling: 409)",
)
def kb_categories_create(request, payload: CategoryIn):
    row = services.category_create(**actor_scope(request), **payload.model_dump())
    return Status(201, category_out(row))


@router.patch(
    "/service/kb/categories/{category_id}",
    response=documented(CategoryOut),
    tags=ARTICLE_TAGS,
    operation_id="kb_categories_update",
    summary="Rename, move or reorder a category",
)
def kb_categories_update(request, category_id: Id, payload: CategoryPatch):
    row = services.category_update(
        **actor_scope(request), category_id=category_id, **payload.changes()
    )
    return category_out(row)


@router.delete(
    "/service/kb/categories/{category_id}",
    response=documented(None, status=204),
    tags=ARTICLE_TAGS,
    operation_id="kb_categories_delete",
    summary="Delete a category without sub-categories (its articles become uncategorised)",
)
def kb_categories_delete(request, category_id: Id):
    services.category_delete(**actor_scope(request), category_id=category_id)
    return Status(204, None)
