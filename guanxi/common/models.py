"""Base models: every business row belongs to a workspace, and queries must say which.

``WorkspaceModel`` gives a ``workspace`` foreign key and a default manager whose querysets
refuse to run unless they are filtered on that workspace (or reached through a related
manager of a row that already is). Code that truly works across workspaces — a sweeper, a
migration, a benchmark — says so with ``.across_workspaces()``.
"""

from __future__ import annotations

from django.db import models
from django.db.models.lookups import Lookup


class UnscopedQueryError(RuntimeError):
    """A query over a workspace-owned table ran without a workspace filter."""


def _filters_on_workspace(query, model) -> bool:
    where = query.where
    if where.connector != "AND" or where.negated:
        return False
    for child in where.children:
        if isinstance(child, Lookup) and child.lookup_name in ("exact", "in"):
            target = getattr(child.lhs, "target", None)
            if target is not None and target.name == "workspace" and target.model is model:
                return True
    return False


class WorkspaceQuerySet(models.QuerySet):
    _scope_checked = True

    def in_workspace(self, workspace) -> WorkspaceQuerySet:
        return self.filter(workspace=workspace)

    def across_workspaces(self) -> WorkspaceQuerySet:
        clone = self._chain()
        clone._scope_checked = False
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._scope_checked = self._scope_checked
        return clone

    def _assert_scoped(self) -> None:
        if not self._scope_checked or self._hints.get("instance") is not None:
            return
        if not _filters_on_workspace(self.query, self.model):
            raise UnscopedQueryError(
                f"{self.model._meta.label} queried without a workspace filter; "
                "use .in_workspace(ws), or .across_workspaces() where that is the intent"
            )

    def _fetch_all(self):
        if self._result_cache is None:
            self._assert_scoped()
        super()._fetch_all()

    def iterator(self, *args, **kwargs):
        self._assert_scoped()
        return super().iterator(*args, **kwargs)

    def count(self):
        if self._result_cache is None:
            self._assert_scoped()
        return super().count()

    def exists(self):
        if self._result_cache is None:
            self._assert_scoped()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._assert_scoped()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs):
        self._assert_scoped()
        return super().update(**kwargs)

    def delete(self):
        self._assert_scoped()
        return super().delete()

    def in_bulk(self, *args, **kwargs):
        self._assert_scoped()
        return super().in_bulk(*args, **kwargs)


WorkspaceManager = models.Manager.from_queryset(WorkspaceQuerySet)


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkspaceModel(TimestampedModel):
    """A business row. Composite indexes on subclasses lead with ``workspace``."""

    workspace = models.ForeignKey(
        "platform.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )

    objects = WorkspaceManager()

    class Meta:
        abstract = True


class OwnedModel(WorkspaceModel):
    """A business row with an owner, subject to record visibility (own/team/below/all)."""

    owner = models.ForeignKey(
        "platform.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True
