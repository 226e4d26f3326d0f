"""Every endpoint, listed once: another workspace's ids are "not found" (never "forbidden"),
and administration (or a right the role lacks) refuses a sales rep with a reason.

A new endpoint goes into ENDPOINTS; ``test_every_operation_is_listed`` fails until it does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from guanxi.platform import services
from guanxi.platform.api import router as platform_router
from guanxi.platform.models import AuditEntry, CustomField, Job, RecordShare, Role, Team, User
from guanxi.platform.tests.factories import TeamFactory, UserFactory
from guanxi.platform.tests.test_api_support import (  # noqa: F401  (fixtures)
    ApiClient,
    api_fixture,
    assert_error,
    make_token,
    rep_api_fixture,
    sales_rep_fixture,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    method: str
    # Placeholders: {user} {team} {role} {field} {job} {token} {share}, filled per workspace.
    path: str
    body: dict[str, Any] | None = None
    # Only administrators may call it (a sales rep gets 403 with the reason).
    admin_only: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    # Needs a right on the record a sales rep's role lacks (403 naming their role).
    needs_right: bool = False

    @property
    def has_id(self) -> bool:
        return "{" in self.path or any("{" in str(v) for v in self.params.values())

    def __str__(self) -> str:
        extra = "?" + "&".join(f"{k}={v}" for k, v in self.params.items()) if self.params else ""
        return f"{self.method} {self.path}{extra}"


ENDPOINTS = [
    Endpoint("GET", "/me"),
    Endpoint("GET", "/users"),
    Endpoint("GET", "/users/{user}"),
    Endpoint(
        "POST",
        "/users",
        {"email": "n@example.com", "full_name": "N", "role_id": "{role}"},
        admin_only=True,
    ),
    Endpoint("PATCH", "/users/{user}", {"full_name": "Renamed"}, admin_only=True),
    Endpoint("POST", "/users/{user}/sign-out-everywhere", admin_only=True),
    Endpoint("GET", "/teams"),
    Endpoint("GET", "/teams/{team}"),
    Endpoint("POST", "/teams", {"name": "New team"}, admin_only=True),
    Endpoint("PATCH", "/teams/{team}", {"name": "Renamed"}, admin_only=True),
    Endpoint("DELETE", "/teams/{team}", admin_only=True),
    Endpoint("GET", "/roles"),
    Endpoint("GET", "/roles/{role}"),
    Endpoint("POST", "/roles", {"name": "New role"}, admin_only=True),
    Endpoint("PATCH", "/roles/{role}", {"description": "Changed"}, admin_only=True),
    Endpoint("DELETE", "/roles/{role}", admin_only=True),
    Endpoint("GET", "/roles/{role}/field-rules"),
    Endpoint(
        "PUT",
        "/roles/{role}/field-rules",
        {"object_key": "platform.user", "field": "phone", "access": "hidden"},
        admin_only=True,
    ),
    Endpoint("GET", "/custom-fields"),
    Endpoint("GET", "/custom-fields/{field}"),
    Endpoint(
        "POST",
        "/custom-fields",
        {"object_key": "platform.user", "label": "Level", "field_type": "text"},
        admin_only=True,
    ),
    Endpoint("PATCH", "/custom-fields/{field}", {"label": "Changed"}, admin_only=True),
    Endpoint("DELETE", "/custom-fields/{field}", admin_only=True),
    Endpoint("GET", "/objects"),
    Endpoint("GET", "/objects/platform.user/schema"),
    Endpoint("GET", "/audit", needs_right=True),
    Endpoint("GET", "/audit/platform.user/{user}"),
    Endpoint("GET", "/audit/platform.team/{team}"),
    Endpoint("GET", "/jobs"),
    Endpoint("GET", "/jobs/{job}"),
    Endpoint("GET", "/tokens"),
    Endpoint("GET", "/tokens", params={"all_users": "true"}, admin_only=True),
    Endpoint("POST", "/tokens", {"name": "for someone", "user_id": "{user}"}, admin_only=True),
    Endpoint("POST", "/tokens", {"name": "mine"}),
    Endpoint("DELETE", "/tokens/{token}", admin_only=True),
    Endpoint("GET", "/shares", params={"object_key": "platform.job", "object_id": "{job}"}),
    Endpoint(
        "POST",
        "/shares",
        {"object_key": "platform.job", "object_id": "{job}", "team_id": "{team}"},
        needs_right=True,
    ),
    Endpoint("DELETE", "/shares/{share}", needs_right=True),
]


def _records(admin: User, other: User) -> dict[str, int]:
    """One of each record in ``admin``'s workspace, none of them ``other``'s own."""
    workspace = admin.workspace
    team = TeamFactory(workspace=workspace)
    role = services.role_create(actor=admin, workspace=workspace, name="Spare role")
    definition = services.custom_field_create(
        actor=admin,
        workspace=workspace,
        object_key="platform.user",
        label="Spare",
        field_type="text",
    )
    job = Job.objects.create(workspace=workspace, owner=admin, kind="export", idempotency_key="x")
    token, _secret = services.api_token_create(
        actor=admin, workspace=workspace, name="spare", scopes=["read"]
    )
    share = services.record_share(
        actor=admin,
        workspace=workspace,
        object_key="platform.job",
        object_id=job.pk,
        user_id=admin.pk,
    )
    # Give the records a history, as the services would have.
    services.team_update(actor=admin, workspace=workspace, team_id=team.pk, name="Spare team")
    services.user_update(actor=admin, workspace=workspace, user_id=admin.pk, phone="13800138000")
    assert other.pk != admin.pk
    return {
        "user": admin.pk,
        "team": team.pk,
        "role": role.pk,
        "field": definition.pk,
        "job": job.pk,
        "token": token.pk,
        "share": share.pk,
    }


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str):
        match = re.fullmatch(r"\{(\w+)\}", value)
        if match:
            return ids[match[1]]
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _call(client: ApiClient, endpoint: Endpoint, ids: dict[str, int]):
    path = _fill(endpoint.path, ids)
    if endpoint.params:
        return client.request(endpoint.method, path, **_fill(endpoint.params, ids))
    body = _fill(endpoint.body, ids) if endpoint.body is not None else None
    if endpoint.method in {"POST", "PUT", "PATCH"} and body is None:
        body = {}
    return client.request(endpoint.method, path, body)


def _snapshot(workspace) -> tuple:
    return (
        sorted(
            User.objects.filter(workspace=workspace).values_list(
                "pk", "full_name", "phone", "session_salt"
            )
        ),
        sorted(Team.objects.in_workspace(workspace).values_list("pk", "name")),
        sorted(Role.objects.in_workspace(workspace).values_list("pk", "name", "description")),
        sorted(CustomField.objects.in_workspace(workspace).values_list("pk", "label")),
        sorted(
            RecordShare.objects.in_workspace(workspace).values_list(
                "pk", "object_key", "object_id", "user", "team", "can_edit"
            )
        ),
    )


def test_every_operation_is_listed():
    operations = {
        (method, path)
        for path, view in platform_router.path_operations.items()
        for operation in view.operations
        for method in operation.methods
    }

    def template(path: str) -> str:
        path = re.sub(r"\{\w+\}", "{}", path)
        return re.sub(r"/platform\.\w+(/|$)", r"/{}\1", path)

    listed = {(e.method, template(e.path)) for e in ENDPOINTS}
    declared = {(method, template(path)) for method, path in operations}
    assert len(declared) >= 30
    missing = declared - listed
    assert not missing, f"add these operations to ENDPOINTS: {sorted(missing)}"


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.has_id], ids=str)
def test_another_workspaces_id_is_404(endpoint, other_admin, admin_user):
    their_ids = _records(other_admin, admin_user)
    before = _snapshot(other_admin.workspace)
    response = _call(ApiClient(make_token(admin_user)), endpoint, their_ids)
    assert_error(response, 404, "not_found")
    assert _snapshot(other_admin.workspace) == before


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.admin_only], ids=str)
def test_a_sales_rep_may_not_administer(endpoint, admin_user, sales_rep, rep_api):
    UserFactory(workspace=admin_user.workspace)
    ids = _records(admin_user, sales_rep)
    before = _snapshot(admin_user.workspace)
    response = _call(rep_api, endpoint, ids)
    error = assert_error(response, 403, "permission_denied")
    assert "administrator" in error["message"].lower()
    assert _snapshot(admin_user.workspace) == before
    assert AuditEntry.objects.filter(
        workspace=admin_user.workspace, actor=sales_rep, action="permission_denied"
    ).exists()


def _rep_ids(admin_user, sales_rep) -> dict[str, int]:
    """Records in the sales rep's workspace that they may see: their own user and job, a
    team, their role, a custom field, and a share of their job."""
    ids = {
        "user": sales_rep.pk,
        "team": TeamFactory(workspace=admin_user.workspace).pk,
        "role": sales_rep.role_id,
        "field": 0,
        "job": 0,
        "token": 0,
    }
    services.user_update(
        actor=sales_rep, workspace=admin_user.workspace, user_id=sales_rep.pk, phone="1"
    )
    services.team_update(
        actor=admin_user, workspace=admin_user.workspace, team_id=ids["team"], name="T"
    )
    ids["field"] = services.custom_field_create(
        actor=admin_user,
        workspace=admin_user.workspace,
        object_key="platform.user",
        label="L",
        field_type="text",
    ).pk
    ids["job"] = Job.objects.create(
        workspace=admin_user.workspace, owner=sales_rep, kind="export", idempotency_key="y"
    ).pk
    ids["share"] = services.record_share(
        actor=admin_user,
        workspace=admin_user.workspace,
        object_key="platform.job",
        object_id=ids["job"],
        user_id=admin_user.pk,
    ).pk
    return ids


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if not e.admin_only and not e.needs_right], ids=str
)
def test_a_sales_rep_may_call_the_rest(endpoint, admin_user, sales_rep, rep_api):
    """The other operations answer a sales rep without a server error, within their rights."""
    response = _call(rep_api, endpoint, _rep_ids(admin_user, sales_rep))
    assert response.status_code in {200, 201, 204}, response.content


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.needs_right], ids=str)
def test_a_sales_rep_lacks_the_right(endpoint, admin_user, sales_rep, rep_api):
    """On records they can see (their own), a right their role lacks is a 403 naming it."""
    ids = _rep_ids(admin_user, sales_rep)
    before = _snapshot(admin_user.workspace)
    response = _call(rep_api, endpoint, ids)
    error = assert_error(response, 403, "permission_denied")
    assert sales_rep.role.name in error["message"]
    assert _snapshot(admin_user.workspace) == before
    assert AuditEntry.objects.filter(
        workspace=admin_user.workspace, actor=sales_rep, action="permission_denied"
    ).exists()
