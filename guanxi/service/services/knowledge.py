"""The knowledge base: categories, articles and their versions.

Every save that changes an article's title or text is a new version (``ArticleVersion``,
``Article.version`` + 1); restoring an old version is a new version with its text, so the
history only grows. An article is a draft, published or archived; agents (the read right
on articles) read the published ones, internal and public alike; editors (create and
update) write them and see drafts and archived ones too; customers see published public
ones in the portal. A Chinese article and its English translation are linked by
``translation_of`` (to the original).

Every function checks the actor's right before it opens its transaction, reports every
bad field at once, writes nothing on bad input, and leaves an audit row. The search
columns are recomputed on every change of title or text (``kb_search.index_columns``).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.common.errors import ApplicationError, Conflict, FieldErrors, NotFound
from guanxi.platform import audit, permissions
from guanxi.platform.models import Action, AuditAction
from guanxi.sales.models import Product

from ..models import (
    Article,
    ArticleCategory,
    ArticleStatus,
    ArticleVersion,
    ArticleVisibility,
)
from ..objects import ARTICLE
from . import kb_search

LANGUAGES = (("zh-hans", _("Chinese")), ("en", _("English")))
LANGUAGE_CODES = frozenset(code for code, _label in LANGUAGES)
TITLE_MAX = 200
BODY_MAX = 100_000
NOTE_MAX = 200
CATEGORY_NAME_MAX = 80
ARTICLE_FIELDS = (
    "title",
    "body",
    "category_id",
    "language",
    "visibility",
    "product_id",
    "translation_of_id",
)
# What the audit log keeps of an article: not its text (the versions keep that).
AUDITED = [
    "title",
    "category",
    "language",
    "translation_of",
    "visibility",
    "status",
    "version",
    "product",
]


# --- input cleaning ----------------------------------------------------------------------------


def _pk(value) -> int:
    """A record id from the caller, or "not found" for anything that is not one."""
    if hasattr(value, "pk"):
        value = value.pk
    if isinstance(value, bool):
        raise NotFound()
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise NotFound() from None
    if pk < 1 or pk > 2**63 - 1:
        raise NotFound()
    return pk


def _text(errors: FieldErrors, value, *, name: str, max_length: int, required=False) -> str:
    text = "" if value is None else str(value)
    if "\x00" in text:
        errors.add(name, _("Text may not contain NUL characters."))
        return ""
    text = text.strip()
    if required and not text:
        errors.add(name, _("This field is required."))
    elif len(text) > max_length:
        errors.add(name, _("At most %(n)s characters.") % {"n": max_length})
    return text


def _body(errors: FieldErrors, value) -> str:
    # The text keeps its inner layout (Markdown); only trailing space goes.
    text = "" if value is None else str(value).replace("\r\n", "\n")
    if "\x00" in text:
        errors.add("body", _("Text may not contain NUL characters."))
        return ""
    text = text.rstrip()
    if not text.strip():
        errors.add("body", _("This field is required."))
    elif len(text) > BODY_MAX:
        errors.add("body", _("At most %(n)s characters.") % {"n": BODY_MAX})
    return text


def _optional_id(errors: FieldErrors, workspace, model, value, *, name: str, message):
    """The id of a row of ``model`` in the workspace, None for none; an unknown one is a
    field error (it is input, not the record the request is about)."""
    if value in (None, "", 0):
        return None
    try:
        pk = _pk(value)
    except NotFound:
        errors.add(name, message)
        return None
    if not model.objects.in_workspace(workspace).filter(pk=pk).exists():
        errors.add(name, message)
        return None
    return pk


def _known(changes: dict, allowed: tuple[str, ...]) -> dict:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ApplicationError(
            _("Unknown fields: %(names)s.") % {"names": ", ".join(unknown)},
            fields={name: [_("Unknown field.")] for name in unknown},
        )
    return changes


def _clean_article(errors: FieldErrors, workspace, values: dict, *, article=None) -> dict:
    out: dict = {}
    if "title" in values:
        out["title"] = _text(
            errors, values["title"], name="title", max_length=TITLE_MAX, required=True
        )
    if "body" in values:
        out["body"] = _body(errors, values["body"])
    if "language" in values:
        language = str(values["language"] or "").strip().lower()
        if language not in LANGUAGE_CODES:
            errors.add("language", _("Choose Chinese (zh-hans) or English (en)."))
        out["language"] = language
    if "visibility" in values:
        visibility = str(values["visibility"] or "").strip()
        if visibility not in ArticleVisibility.values:
            errors.add("visibility", _("Choose internal or public."))
        out["visibility"] = visibility
    if "category_id" in values:
        out["category_id"] = _optional_id(
            errors,
            workspace,
            ArticleCategory,
            values["category_id"],
            name="category_id",
            message=_("Choose one of the knowledge base's categories."),
        )
    if "product_id" in values:
        out["product_id"] = _optional_id(
            errors,
            workspace,
            Product,
            values["product_id"],
            name="product_id",
            message=_("Choose one of the catalogue's products."),
        )
    if "translation_of_id" in values:
        out["translation_of_id"] = _translation_target(
            errors, workspace, values["translation_of_id"], article=article
        )
    return out


def _translation_target(errors: FieldErrors, workspace, value, *, article) -> int | None:
    """The original of a translation: another article of the workspace; a translation of
    a translation links to their original, so a set of translations has one centre."""
    pk = _optional_id(
        errors,
        workspace,
        Article,
        value,
        name="translation_of_id",
        message=_("Choose an article of this knowledge base."),
    )
    if pk is None:
        return None
    target = (
        Article.objects.in_workspace(workspace)
        .filter(pk=pk)
        .values("pk", "translation_of_id")
        .first()
    )
    original = target["translation_of_id"] or target["pk"]
    if article is not None and original == article.pk:
        errors.add("translation_of_id", _("An article cannot be a translation of itself."))
        return None
    return original


def _check_translation_language(errors: FieldErrors, workspace, values: dict) -> None:
    original = values.get("translation_of_id")
    if not original:
        return
    language = (
        Article.objects.in_workspace(workspace)
        .filter(pk=original)
        .values_list("language", flat=True)
        .first()
    )
    if language == values.get("language"):
        errors.add(
            "translation_of_id",
            _("A translation is in another language than the article it translates."),
        )


# --- categories ----------------------------------------------------------------------------------


def _category(workspace, category_id, *, lock=False) -> ArticleCategory:
    qs = ArticleCategory.objects.in_workspace(workspace)
    if lock:
        qs = qs.select_for_update()
    row = qs.filter(pk=_pk(category_id)).first()
    if row is None:
        raise NotFound()
    return row


def _clean_category(errors: FieldErrors, workspace, values: dict, *, row=None) -> dict:
    out: dict = {}
    if "name" in values:
        out["name"] = _text(
            errors, values["name"], name="name", max_length=CATEGORY_NAME_MAX, required=True
        )
    if "name_en" in values:
        out["name_en"] = _text(
            errors, values["name_en"], name="name_en", max_length=CATEGORY_NAME_MAX
        )
    if "position" in values:
        try:
            position = int(values["position"] or 0)
        except (TypeError, ValueError):
            position = -1
        if not 0 <= position <= 32767:
            errors.add("position", _("A whole number from 0 to 32767."))
            position = 0
        out["position"] = position
    if "parent_id" in values:
        parent = _optional_id(
            errors,
            workspace,
            ArticleCategory,
            values["parent_id"],
            name="parent_id",
            message=_("Choose one of the knowledge base's categories."),
        )
        if parent is not None and row is not None and _is_below(workspace, parent, row.pk):
            errors.add("parent_id", _("A category cannot be placed inside itself."))
            parent = None
        out["parent_id"] = parent
    return out


def _is_below(workspace, candidate: int, category: int) -> bool:
    """Whether ``candidate`` is ``category`` or one of its descendants."""
    parents = dict(ArticleCategory.objects.in_workspace(workspace).values_list("pk", "parent_id"))
    seen: set[int] = set()
    node: int | None = candidate
    while node is not None and node not in seen:
        if node == category:
            return True
        seen.add(node)
        node = parents.get(node)
    return False


def _duplicate_category(workspace, name: str, parent_id, exclude=None) -> bool:
    qs = ArticleCategory.objects.in_workspace(workspace).filter(name=name, parent_id=parent_id)
    if exclude:
        qs = qs.exclude(pk=exclude)
    return qs.exists()


def category_create(
    *, actor, workspace, name, name_en="", parent_id=None, position=0
) -> ArticleCategory:
    """A category of articles (with an English name for the English portal), optionally
    inside another one. Names are unique among siblings."""
    permissions.require(actor, ARTICLE, Action.CREATE)
    errors = FieldErrors()
    values = _clean_category(
        errors,
        workspace,
        {"name": name, "name_en": name_en, "parent_id": parent_id, "position": position},
    )
    errors.raise_if_any()
    with transaction.atomic():
        if _duplicate_category(workspace, values["name"], values["parent_id"]):
            raise _duplicate_name()
        row = ArticleCategory.objects.create(workspace=workspace, **values)
        audit.log_create(actor=actor, instance=row)
    return row


def _duplicate_name() -> Conflict:
    message = _("A category with this name exists already here.")
    return Conflict(message, code="duplicate", fields={"name": [message]})


def category_update(*, actor, workspace, category_id, **changes) -> ArticleCategory:
    """Rename, move or reorder a category."""
    permissions.require(actor, ARTICLE, Action.UPDATE)
    _known(changes, ("name", "name_en", "parent_id", "position"))
    with transaction.atomic():
        row = _category(workspace, category_id, lock=True)
        errors = FieldErrors()
        values = _clean_category(errors, workspace, changes, row=row)
        errors.raise_if_any()
        name = values.get("name", row.name)
        parent = values.get("parent_id", row.parent_id)
        if _duplicate_category(workspace, name, parent, exclude=row.pk):
            raise _duplicate_name()
        before = audit.snapshot(row)
        for field, value in values.items():
            setattr(row, field, value)
        row.save()
        audit.log_update(actor=actor, instance=row, before=before)
    return row


def category_delete(*, actor, workspace, category_id) -> None:
    """Delete an empty-of-subcategories category; its articles become uncategorised."""
    permissions.require(actor, ARTICLE, Action.DELETE)
    with transaction.atomic():
        row = _category(workspace, category_id, lock=True)
        if ArticleCategory.objects.in_workspace(workspace).filter(parent=row).exists():
            raise Conflict(
                _("Move or delete the categories inside this one first."), code="has_children"
            )
        Article.objects.in_workspace(workspace).filter(category=row).update(category=None)
        audit.log_delete(actor=actor, instance=row)
        row.delete()


# --- articles ------------------------------------------------------------------------------------


def _article(workspace, article_id, *, lock=False) -> Article:
    qs = Article.objects.in_workspace(workspace)
    if lock:
        qs = qs.select_for_update()
    row = qs.filter(pk=_pk(article_id)).first()
    if row is None:
        raise NotFound()
    return row


def _log_article(actor, article: Article, before: dict | None, *, note: str = "") -> None:
    after = audit.snapshot(article, fields=AUDITED)
    if before is None:
        changes = {k: [None, v] for k, v in after.items() if v not in (None, "", [], {})}
        action = AuditAction.CREATE
    else:
        changes = audit.diff(before, after)
        action = AuditAction.UPDATE
        if not changes:
            return
    if note:
        changes["note"] = [None, note]
    audit.log(
        actor=actor,
        workspace=article.workspace_id,
        action=action,
        object_key=ARTICLE,
        object_id=article.pk,
        object_repr=str(article),
        changes=changes,
    )


def _new_version(actor, article: Article, note: str) -> ArticleVersion:
    return ArticleVersion.objects.create(
        workspace_id=article.workspace_id,
        article=article,
        version=article.version,
        title=article.title,
        body=article.body,
        author=actor,
        note=note[:NOTE_MAX],
    )


def article_create(
    *,
    actor,
    workspace,
    title,
    body,
    language="zh-hans",
    visibility=ArticleVisibility.INTERNAL,
    category_id=None,
    product_id=None,
    translation_of_id=None,
    publish=False,
    note="",
) -> Article:
    """A new article (a draft unless ``publish``), its first version written with it."""
    permissions.require(actor, ARTICLE, Action.CREATE)
    errors = FieldErrors()
    values = _clean_article(
        errors,
        workspace,
        {
            "title": title,
            "body": body,
            "language": language,
            "visibility": visibility,
            "category_id": category_id,
            "product_id": product_id,
            "translation_of_id": translation_of_id,
        },
    )
    note = _text(errors, note, name="note", max_length=NOTE_MAX)
    _check_translation_language(errors, workspace, values)
    errors.raise_if_any()
    if publish:
        permissions.require(actor, ARTICLE, Action.UPDATE)
    with transaction.atomic():
        article = Article(workspace=workspace, author=actor, version=1, **values)
        if publish:
            article.status = ArticleStatus.PUBLISHED
            article.published_at = timezone.now()
        kb_search.apply_index_columns(article)
        article.save()
        _new_version(actor, article, note)
        _log_article(actor, article, None, note=note)
        if publish:
            kb_search.forget_totals(workspace)
    return article


def article_update(
    *, actor, workspace, article_id, lock_version=None, note="", **changes
) -> Article:
    """Change an article. A change of title or text is a new version (with ``note``);
    ``lock_version`` (the version the editor started from) refuses the save with a 409
    when someone saved a newer version meanwhile."""
    permissions.require(actor, ARTICLE, Action.UPDATE)
    _known(changes, ARTICLE_FIELDS)
    errors = FieldErrors()
    note = _text(errors, note, name="note", max_length=NOTE_MAX)
    with transaction.atomic():
        article = _article(workspace, article_id, lock=True)
        values = _clean_article(errors, workspace, changes, article=article)
        merged = {
            "language": values.get("language", article.language),
            "translation_of_id": values.get("translation_of_id", article.translation_of_id),
        }
        if "language" in values or "translation_of_id" in values:
            _check_translation_language(errors, workspace, merged)
        errors.raise_if_any()
        if lock_version is not None and str(lock_version) != str(article.version):
            raise Conflict(
                _(
                    "Someone saved a newer version of this article (version %(version)s) "
                    "while you were editing. Open it again to see their changes."
                )
                % {"version": article.version},
                code="stale",
            )
        return _apply(actor, article, values, note)


def _apply(actor, article: Article, values: dict, note: str) -> Article:
    before = audit.snapshot(article, fields=AUDITED)
    text_changed = any(
        name in values and values[name] != getattr(article, name) for name in ("title", "body")
    )
    for field, value in values.items():
        setattr(article, field, value)
    if text_changed:
        article.version += 1
        kb_search.apply_index_columns(article)
    article.save()
    if text_changed:
        _new_version(actor, article, note)
    if "visibility" in values or "language" in values:
        kb_search.forget_totals(article.workspace_id)
    _log_article(actor, article, before, note=note if text_changed else "")
    return article


def article_restore(*, actor, workspace, article_id, version, lock_version=None) -> Article:
    """Bring back an old version's title and text: a new version with them, the history
    kept."""
    permissions.require(actor, ARTICLE, Action.UPDATE)
    with transaction.atomic():
        article = _article(workspace, article_id, lock=True)
        if lock_version is not None and str(lock_version) != str(article.version):
            raise Conflict(
                _("Someone saved a newer version of this article meanwhile."), code="stale"
            )
        try:
            number = int(version)
        except (TypeError, ValueError):
            raise NotFound() from None
        old = (
            ArticleVersion.objects.in_workspace(workspace)
            .filter(article=article, version=number)
            .first()
        )
        if old is None:
            raise NotFound(_("This article has no such version."))
        if old.title == article.title and old.body == article.body:
            raise ApplicationError(
                _("Version %(version)s is the same as the current text.") % {"version": number},
                code="unchanged",
            )
        note = str(_("Restored version %(version)s") % {"version": number})
        return _apply(actor, article, {"title": old.title, "body": old.body}, note)


def _set_status(actor, workspace, article_id, status: str) -> Article:
    permissions.require(actor, ARTICLE, Action.UPDATE)
    with transaction.atomic():
        article = _article(workspace, article_id, lock=True)
        if article.status == status:
            return article
        before = audit.snapshot(article, fields=AUDITED)
        article.status = status
        fields = ["status", "updated_at"]
        if status == ArticleStatus.PUBLISHED:
            article.published_at = timezone.now()
            fields.append("published_at")
        article.save(update_fields=fields)
        _log_article(actor, article, before)
        kb_search.forget_totals(workspace)
    return article


def article_publish(*, actor, workspace, article_id) -> Article:
    """Publish an article: agents (internal and public) and customers (public) find it."""
    return _set_status(actor, workspace, article_id, ArticleStatus.PUBLISHED)


def article_unpublish(*, actor, workspace, article_id) -> Article:
    """Take an article back to draft: only editors see it."""
    return _set_status(actor, workspace, article_id, ArticleStatus.DRAFT)


def article_archive(*, actor, workspace, article_id) -> Article:
    """Archive an outdated article: out of search and lists, kept with its history."""
    return _set_status(actor, workspace, article_id, ArticleStatus.ARCHIVED)


# --- readers' counters ---------------------------------------------------------------------------


def _published(workspace, article_id, public_only: bool):
    qs = Article.objects.in_workspace(workspace).filter(
        pk=_pk(article_id), status=ArticleStatus.PUBLISHED
    )
    if public_only:
        qs = qs.filter(visibility=ArticleVisibility.PUBLIC)
    return qs


def article_record_view(*, workspace, article_id, public_only: bool = False) -> None:
    """Count a reading of a published article (an agent's page, or the portal's with
    ``public_only``). A counter only: no audit row."""
    _published(workspace, article_id, public_only).update(views=F("views") + 1)


def article_rate(*, workspace, article_id, helpful: bool, public_only: bool = False) -> None:
    """ "Was this helpful?" — yes or no, from an agent or (``public_only``) a customer. The
    pages let each browser session answer once per article."""
    field = "helpful_yes" if helpful else "helpful_no"
    if not _published(workspace, article_id, public_only).update(**{field: F(field) + 1}):
        raise NotFound()
