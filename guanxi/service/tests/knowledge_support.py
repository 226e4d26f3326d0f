"""Fixtures of the knowledge base's tests: an editor (writes articles), a reader (an agent
who only reads), a user whose role grants nothing of the knowledge base, and helpers that
write articles through the services."""

from __future__ import annotations

import pytest

from guanxi.platform.models import Role
from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, make_token
from guanxi.service.services import knowledge as services


def _role(workspace, code: str, actions: list[str]) -> Role:
    rights = {"service.article": {"actions": actions, "visibility": "all"}} if actions else {}
    return Role.objects.create(workspace=workspace, name=code.title(), code=code, rights=rights)


@pytest.fixture
def editor(workspace):
    return UserFactory(
        workspace=workspace, role=_role(workspace, "kb_editor", ["create", "read", "update"])
    )


@pytest.fixture
def reader(workspace):
    return UserFactory(workspace=workspace, role=_role(workspace, "kb_reader", ["read"]))


@pytest.fixture
def nobody(workspace):
    """Signed in, but the role grants nothing of the knowledge base."""
    return UserFactory(workspace=workspace, role=_role(workspace, "warehouse", []))


def api_for(user, scopes=None) -> ApiClient:
    if scopes is None:
        scopes = ["read", "write", "admin"] if user.role.is_admin else ["read", "write"]
    return ApiClient(make_token(user, scopes=scopes))


def article(actor, title, body, *, publish=True, **values):
    """A published article (unless ``publish=False``) written by ``actor``."""
    return services.article_create(
        actor=actor, workspace=actor.workspace, title=title, body=body, publish=publish, **values
    )
