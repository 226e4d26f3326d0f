"""Reads of the knowledge base. Agents (the read right on articles) see the published
articles, internal and public; editors (the update right) see drafts and archived ones
too. Categories are visible to every reader. Each function checks the read right; another
workspace's ids are "not found"."""

from __future__ import annotations

import difflib
import html

from django.db.models import Count, Q, QuerySet
from django.utils.safestring import SafeString, mark_safe

from guanxi.common.errors import NotFound
from guanxi.platform import permissions
from guanxi.platform.models import Action

from ..models import Article, ArticleCategory, ArticleStatus, ArticleVersion
from ..objects import ARTICLE

RECENT_LIMIT = 10
VERSIONS_LIMIT = 200


def _pk(value) -> int:
    if isinstance(value, bool):
        raise NotFound()
    try:
        pk = int(getattr(value, "pk", value))
    except (TypeError, ValueError):
        raise NotFound() from None
    if not 1 <= pk <= 2**63 - 1:
        raise NotFound()
    return pk


def can_edit(actor) -> bool:
    """Whether the actor writes articles (and so sees drafts and archived ones)."""
    return permissions.can(actor, ARTICLE, Action.UPDATE)


def articles_visible(*, workspace, actor) -> QuerySet:
    """The articles the actor may read: every one for editors, the published ones for
    other readers."""
    permissions.require(actor, ARTICLE, Action.READ)
    qs = Article.objects.in_workspace(workspace)
    if not can_edit(actor):
        qs = qs.filter(status=ArticleStatus.PUBLISHED)
    return qs


def article_list(
    *,
    workspace,
    actor,
    category_id=None,
    status: str = "",
    language: str = "",
    visibility: str = "",
) -> QuerySet:
    """The visible articles, filtered; newest change first (callers page by
    ``updated_at``)."""
    qs = articles_visible(workspace=workspace, actor=actor).select_related("category")
    if category_id:
        qs = qs.filter(category_id=_pk(category_id))
    if status:
        qs = qs.filter(status=status)
    if language:
        qs = qs.filter(language=language)
    if visibility:
        qs = qs.filter(visibility=visibility)
    return qs.order_by("-updated_at", "-pk")


def article_recent(*, workspace, actor, limit: int = RECENT_LIMIT) -> list[Article]:
    """The latest published articles (what the knowledge base's home shows)."""
    qs = articles_visible(workspace=workspace, actor=actor).filter(status=ArticleStatus.PUBLISHED)
    return list(qs.select_related("category").order_by("-updated_at", "-pk")[:limit])


def article_drafts(*, workspace, actor, limit: int = RECENT_LIMIT) -> list[Article]:
    """Editors' drafts, latest first (nothing for readers)."""
    if not can_edit(actor):
        return []
    qs = articles_visible(workspace=workspace, actor=actor).filter(status=ArticleStatus.DRAFT)
    return list(qs.select_related("category").order_by("-updated_at", "-pk")[:limit])


def article_get(*, workspace, actor, article_id) -> Article:
    row = (
        articles_visible(workspace=workspace, actor=actor)
        .select_related("category", "product", "author", "translation_of")
        .filter(pk=_pk(article_id))
        .first()
    )
    if row is None:
        raise NotFound()
    return row


def article_translations(*, workspace, actor, article: Article) -> list[Article]:
    """The same article in other languages: its original and the original's other
    translations, those the actor may read."""
    original = article.translation_of_id or article.pk
    return list(
        articles_visible(workspace=workspace, actor=actor)
        .filter(Q(pk=original) | Q(translation_of_id=original))
        .exclude(pk=article.pk)
        .order_by("language", "pk")
    )


def article_versions(*, workspace, actor, article_id) -> list[ArticleVersion]:
    """An article's versions, newest first (without their text)."""
    article = article_get(workspace=workspace, actor=actor, article_id=article_id)
    return list(
        ArticleVersion.objects.in_workspace(workspace)
        .filter(article=article)
        .select_related("author")
        .defer("body")
        .order_by("-version")[:VERSIONS_LIMIT]
    )


def article_version_get(*, workspace, actor, article_id, version) -> ArticleVersion:
    article = article_get(workspace=workspace, actor=actor, article_id=article_id)
    try:
        number = int(version)
    except (TypeError, ValueError):
        raise NotFound() from None
    row = (
        ArticleVersion.objects.in_workspace(workspace)
        .select_related("author")
        .filter(article=article, version=number)
        .first()
    )
    if row is None:
        raise NotFound()
    return row


def category_list(*, workspace, actor) -> list[ArticleCategory]:
    """Every category, in order, each with ``article_count``: the articles the actor
    sees in it (published ones for readers), and ``depth`` (0 at the top)."""
    articles = articles_visible(workspace=workspace, actor=actor)
    counts = dict(
        articles.exclude(category=None)
        .order_by()
        .values("category_id")
        .annotate(n=Count("pk"))
        .values_list("category_id", "n")
    )
    rows = list(ArticleCategory.objects.in_workspace(workspace))
    for row in rows:
        row.article_count = counts.get(row.pk, 0)
    return _tree(rows)


def _tree(rows: list[ArticleCategory]) -> list[ArticleCategory]:
    """Categories in tree order (each after its parent, siblings by position and name)."""
    children: dict[int | None, list[ArticleCategory]] = {}
    known = {row.pk for row in rows}
    for row in rows:
        parent = row.parent_id if row.parent_id in known else None
        children.setdefault(parent, []).append(row)
    out: list[ArticleCategory] = []

    def walk(parent, depth):
        for row in sorted(children.get(parent, []), key=lambda r: (r.position, r.name, r.pk)):
            if depth > 20 or row in out:
                continue
            row.depth = depth
            out.append(row)
            walk(row.pk, depth + 1)

    walk(None, 0)
    return out


def category_get(*, workspace, actor, category_id) -> ArticleCategory:
    permissions.require(actor, ARTICLE, Action.READ)
    row = ArticleCategory.objects.in_workspace(workspace).filter(pk=_pk(category_id)).first()
    if row is None:
        raise NotFound()
    return row


# --- comparing two versions ----------------------------------------------------------------------


def text_diff(old: str, new: str) -> SafeString:
    """HTML of the changes from ``old`` to ``new``: paragraphs (lines) kept, removed
    (``<del>``) and added (``<ins>``); within a changed line, the changed characters (a
    Chinese sentence has no spaces to compare words by)."""
    old_lines, new_lines = (old or "").split("\n"), (new or "").split("\n")
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out += [
                f'<div class="kb-diff-same">{html.escape(line)}&nbsp;</div>'
                for line in old_lines[a1:a2]
            ]
        elif op == "replace" and a2 - a1 == b2 - b1:
            for before, after in zip(old_lines[a1:a2], new_lines[b1:b2], strict=True):
                out.append(f'<div class="kb-diff-changed">{_char_diff(before, after)}&nbsp;</div>')
        else:
            out += [
                f'<div class="kb-diff-removed"><del>{html.escape(line)}</del></div>'
                for line in old_lines[a1:a2]
            ]
            out += [
                f'<div class="kb-diff-added"><ins>{html.escape(line)}</ins></div>'
                for line in new_lines[b1:b2]
            ]
    return mark_safe("".join(out))


def _char_diff(before: str, after: str) -> str:
    parts = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(html.escape(before[a1:a2]))
            continue
        if a2 > a1:
            parts.append(f"<del>{html.escape(before[a1:a2])}</del>")
        if b2 > b1:
            parts.append(f"<ins>{html.escape(after[b1:b2])}</ins>")
    return "".join(parts)
