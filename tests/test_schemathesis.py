"""Property-based tests of the whole REST API from its own OpenAPI schema (schemathesis).

Every operation — reads and writes — is called with generated valid and invalid input as a
workspace administrator holding a token with every scope. Two properties must hold: no
answer is a server error, and every status the API answers is one the schema documents.

The Django WSGI application is called in-process; each generated request runs inside a
savepoint that is rolled back, so one example's writes (a revoked token, a demoted
administrator) do not change what the next example sees. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from guanxi.platform import services
from guanxi.platform.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)

CHECKS = [not_a_server_error, status_code_conformance]


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes "old" database connections around each request; inside a
    test that would drop the test's transaction (Django's test client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_secret(admin_user, keep_test_connection) -> str:
    """A populated workspace (so small generated ids hit real rows) and an all-scope token."""
    workspace = admin_user.workspace
    team = TeamFactory(workspace=workspace)
    UserFactory.create_batch(3, workspace=workspace, team=team)
    services.custom_field_create(
        actor=admin_user,
        workspace=workspace,
        object_key="platform.user",
        label="Level",
        key="level",
        field_type="choice",
        choices=["A", "B"],
    )
    _token, secret = services.api_token_create(
        actor=admin_user,
        workspace=workspace,
        name="schemathesis",
        scopes=list(services.TOKEN_SCOPES),
    )
    return secret


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_conforms_to_its_schema(case, admin_secret):
    with transaction.atomic():
        case.call_and_validate(headers={"Authorization": f"Bearer {admin_secret}"}, checks=CHECKS)
        transaction.set_rollback(True)
