"""The knowledge base's pages: the home (search as you type, categories, the latest
articles, editors' drafts), a category's articles, an article (its text, translations,
versions, "was this helpful?"), a version (with the changes against another one, and
restore), the editor, the categories' admin, and the "Suggested articles" partial that
the case page and the new-case form load while the agent types. Every page calls the
same services and selectors as the API."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.common.errors import ApplicationError
from guanxi.common.pagination import paginate
from guanxi.common.views import actor_scope, error_message, page
from guanxi.platform import permissions
from guanxi.platform.models import Action
from guanxi.sales.models import Product

from . import knowledge_markup
from .knowledge_forms import ArticleForm, CategoryForm
from .models import Article, ArticleStatus
from .objects import ARTICLE
from .selectors import knowledge as selectors
from .services import kb_search
from .services import knowledge as services

SEARCH_LIMIT = 20
SUGGEST_LIMIT = 5
CATEGORY_PAGE = 50
RATED_SESSION_KEY = "kb_rated"


def _language(value) -> str:
    value = (value or "").strip().lower()
    return value if value in services.LANGUAGE_CODES else ""


# --- home and search -----------------------------------------------------------------------------


@page
def kb_home(request):
    """The knowledge base's home: a search box (results as you type, with htmx), the
    categories, the latest articles, and the editors' drafts."""
    scope = actor_scope(request)
    permissions.require(request.user, ARTICLE, Action.READ)
    q = request.GET.get("q", "")[: kb_search.MAX_QUERY_CHARS]
    language = _language(request.GET.get("language"))
    hits = None
    if q.strip():
        hits = kb_search.article_search(
            workspace=request.workspace,
            query=q,
            public_only=False,
            language=language or None,
            limit=SEARCH_LIMIT,
        )
    context = {
        "q": q,
        "language": language,
        "languages": services.LANGUAGES,
        "hits": hits,
    }
    if request.htmx and request.htmx.target == "kb-results":
        return render(request, "service/knowledge/_results.html", context)
    context.update(
        categories=selectors.category_list(**scope),
        recent=selectors.article_recent(**scope),
        drafts=selectors.article_drafts(**scope),
        can_create=permissions.can(request.user, ARTICLE, Action.CREATE),
        can_edit=selectors.can_edit(request.user),
    )
    return render(request, "service/knowledge/home.html", context)


@page
def kb_category(request, category_id: int):
    scope = actor_scope(request)
    category = selectors.category_get(**scope, category_id=category_id)
    qs = selectors.article_list(**scope, category_id=category.pk)
    try:
        result = paginate(
            qs,
            key="updated_at",
            descending=True,
            cursor=request.GET.get("cursor"),
            limit=CATEGORY_PAGE,
        )
    except ApplicationError:
        result = paginate(qs, key="updated_at", descending=True, limit=CATEGORY_PAGE)
    return render(
        request,
        "service/knowledge/category.html",
        {
            "category": category,
            "articles": result.items,
            "next_cursor": result.next_cursor,
            "can_create": permissions.can(request.user, ARTICLE, Action.CREATE),
        },
    )


@page
def kb_suggest(request):
    """``GET ?text=`` (or the new-case form's ``subject`` and ``description``) → the
    "Suggested articles" partial: published articles, internal ones included, that may
    answer the problem described."""
    permissions.require(request.user, ARTICLE, Action.READ)
    parts = [request.GET.get(name, "") for name in ("text", "subject", "description")]
    text = "\n".join(p for p in parts if p.strip())[: kb_search.SUGGEST_MAX_CHARS]
    hits = []
    if text.strip():
        hits = kb_search.article_suggest(
            workspace=request.workspace,
            text=text,
            public_only=False,
            language=_language(request.GET.get("language")) or None,
            limit=SUGGEST_LIMIT,
        )
    return render(
        request, "service/knowledge/_suggest.html", {"hits": hits, "asked": bool(text.strip())}
    )


# --- an article ----------------------------------------------------------------------------------


def _rated(request) -> list[int]:
    rated = request.session.get(RATED_SESSION_KEY, [])
    return rated if isinstance(rated, list) else []


@page
def article_detail(request, article_id: int):
    scope = actor_scope(request)
    article = selectors.article_get(**scope, article_id=article_id)
    if article.status == ArticleStatus.PUBLISHED:
        services.article_record_view(workspace=request.workspace, article_id=article.pk)
    return render(
        request,
        "service/knowledge/article_detail.html",
        {
            "article": article,
            "body_html": knowledge_markup.render(article.body),
            "translations": selectors.article_translations(**scope, article=article),
            "versions": selectors.article_versions(**scope, article_id=article.pk),
            "can_edit": selectors.can_edit(request.user),
            "can_create": permissions.can(request.user, ARTICLE, Action.CREATE),
            "can_read_products": permissions.can(request.user, "sales.product", Action.READ),
            "rated": article.pk in _rated(request),
        },
    )


def _product_id(workspace, code: str):
    """The id of the product with this code, None for none; an unknown code is an error
    on the field."""
    code = (code or "").strip()
    if not code:
        return None
    row = Product.objects.in_workspace(workspace).filter(code=code).values_list("pk").first()
    if row is None:
        message = _("No product has the code %(code)s.") % {"code": code}
        raise ApplicationError(message, fields={"product": [message]})
    return row[0]


def _form_values(request, form) -> dict:
    data = form.cleaned_data
    return {
        "title": data["title"],
        "body": data["body"],
        "category_id": data["category"],
        "language": data["language"],
        "visibility": data["visibility"],
        "product_id": _product_id(request.workspace, data["product"]),
        "translation_of_id": data["translation_of"],
    }


def _form_page(request, *, article: Article | None):
    scope = actor_scope(request)
    if request.method == "POST":
        form = ArticleForm(request.POST, workspace=request.workspace)
        if form.is_valid():
            try:
                values = _form_values(request, form)
                note = form.cleaned_data["note"]
                if article is None:
                    article = services.article_create(
                        **scope, **values, note=note, publish=bool(request.POST.get("publish"))
                    )
                else:
                    services.article_update(
                        **scope,
                        article_id=article.pk,
                        lock_version=form.cleaned_data["lock_version"],
                        note=note,
                        **values,
                    )
            except ApplicationError as exc:
                error_message(exc)
                form.add_service_error(exc)
            else:
                messages.success(request, _("Article saved."))
                return redirect("service:kb_article", article.pk)
    elif article is not None:
        form = ArticleForm(
            workspace=request.workspace,
            initial={
                "title": article.title,
                "body": article.body,
                "category": article.category_id,
                "language": article.language,
                "visibility": article.visibility,
                "product": article.product.code if article.product_id else "",
                "translation_of": article.translation_of_id,
                "lock_version": article.version,
            },
        )
    else:
        form = ArticleForm(workspace=request.workspace, initial=_translation_initial(request))
    return render(
        request,
        "service/knowledge/article_form.html",
        {"form": form, "article": article},
        status=400 if request.method == "POST" else 200,
    )


def _translation_initial(request) -> dict:
    """A new article that translates another (``?translation_of=``): the other language,
    the original's category, visibility and product."""
    original_id = request.GET.get("translation_of")
    if not original_id:
        return {"language": request.workspace.language or "zh-hans"}
    original = selectors.article_get(**actor_scope(request), article_id=original_id)
    return {
        "translation_of": original.translation_of_id or original.pk,
        "language": "en" if original.language != "en" else "zh-hans",
        "category": original.category_id,
        "visibility": original.visibility,
        "product": original.product.code if original.product_id else "",
    }


@page
def article_create(request):
    permissions.require(request.user, ARTICLE, Action.CREATE)
    return _form_page(request, article=None)


@page
def article_edit(request, article_id: int):
    permissions.require(request.user, ARTICLE, Action.UPDATE)
    article = selectors.article_get(**actor_scope(request), article_id=article_id)
    return _form_page(request, article=article)


_STATUS_ACTIONS = {
    "publish": (services.article_publish, _("Article published.")),
    "unpublish": (services.article_unpublish, _("Article taken back to draft.")),
    "archive": (services.article_archive, _("Article archived.")),
}


@page
@require_POST
def article_status(request, article_id: int):
    scope = actor_scope(request)
    article = selectors.article_get(**scope, article_id=article_id)
    action = _STATUS_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        messages.error(request, _("Unknown action."))
    else:
        service, done = action
        service(**scope, article_id=article.pk)
        messages.success(request, str(done))
    return redirect("service:kb_article", article.pk)


@page
@require_POST
def article_helpful(request, article_id: int):
    """ "Was this helpful?": once per article per browser session."""
    article = selectors.article_get(**actor_scope(request), article_id=article_id)
    rated = _rated(request)
    if article.pk not in rated and article.status == ArticleStatus.PUBLISHED:
        services.article_rate(
            workspace=request.workspace,
            article_id=article.pk,
            helpful=request.POST.get("helpful") == "yes",
        )
        request.session[RATED_SESSION_KEY] = [*rated[-199:], article.pk]
    if request.htmx:
        return render(
            request, "service/knowledge/_helpful.html", {"article": article, "rated": True}
        )
    return redirect("service:kb_article", article.pk)


# --- versions ------------------------------------------------------------------------------------


@page
def article_version(request, article_id: int, version: int):
    """One version of an article, and what changed from another one (by default the
    version before it) to it."""
    scope = actor_scope(request)
    article = selectors.article_get(**scope, article_id=article_id)
    shown = selectors.article_version_get(**scope, article_id=article.pk, version=version)
    versions = selectors.article_versions(**scope, article_id=article.pk)
    numbers = [v.version for v in versions]
    try:
        compare = int(request.GET.get("compare", shown.version - 1))
    except ValueError:
        compare = shown.version - 1
    diff = None
    other = None
    if compare in numbers and compare != shown.version:
        other = selectors.article_version_get(**scope, article_id=article.pk, version=compare)
        diff = {
            "title": selectors.text_diff(other.title, shown.title),
            "body": selectors.text_diff(other.body, shown.body),
        }
    return render(
        request,
        "service/knowledge/version.html",
        {
            "article": article,
            "shown": shown,
            "other": other,
            "diff": diff,
            "versions": versions,
            "body_html": knowledge_markup.render(shown.body),
            "can_edit": selectors.can_edit(request.user),
            "is_current": shown.version == article.version,
        },
    )


@page
@require_POST
def article_restore(request, article_id: int, version: int):
    scope = actor_scope(request)
    article = selectors.article_get(**scope, article_id=article_id)
    try:
        services.article_restore(
            **scope,
            article_id=article.pk,
            version=version,
            lock_version=request.POST.get("lock_version") or None,
        )
    except ApplicationError as exc:
        messages.error(request, error_message(exc))
        return redirect("service:kb_article_version", article.pk, version)
    messages.success(
        request, _("Version %(version)s restored as a new version.") % {"version": version}
    )
    return redirect("service:kb_article", article.pk)


# --- categories ----------------------------------------------------------------------------------


def _category_action(request, scope) -> None:
    post = request.POST
    action = post.get("action", "")
    if action == "delete":
        services.category_delete(**scope, category_id=post.get("id"))
        return
    exclude = None
    if action == "update":
        exclude = selectors.category_get(**scope, category_id=post.get("id")).pk
    form = CategoryForm(post, workspace=request.workspace, exclude=exclude)
    if not form.is_valid():
        first = next(iter(form.errors.values()))[0]
        raise ApplicationError(first)
    if action == "create":
        services.category_create(**scope, **form.values())
    elif action == "update":
        services.category_update(**scope, category_id=exclude, **form.values())
    else:
        raise ApplicationError(_("Unknown action."))


@page
def kb_categories(request):
    """The categories' admin: add, rename, move, reorder and delete (editors)."""
    scope = actor_scope(request)
    permissions.require(request.user, ARTICLE, Action.UPDATE)
    if request.method == "POST":
        try:
            _category_action(request, scope)
        except ApplicationError as exc:
            messages.error(request, error_message(exc))
        else:
            messages.success(request, _("Saved."))
        return redirect("service:kb_categories")
    categories = selectors.category_list(**scope)
    return render(
        request,
        "service/knowledge/categories.html",
        {
            "categories": categories,
            "form": CategoryForm(workspace=request.workspace),
            "parents": [(c.pk, "\u00a0\u00a0" * c.depth + c.name) for c in categories],
            "can_create": permissions.can(request.user, ARTICLE, Action.CREATE),
            "can_delete": permissions.can(request.user, ARTICLE, Action.DELETE),
        },
    )
