"""Helpers for the API tests: a JSON client with a bearer token, and fixtures that make one.

(No tests here; the name keeps it among the API test files.) Test modules import the
fixtures by their function names (``api_fixture``…) and use them as ``api``….
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from guanxi.platform import services

API = "/api/v1"
ALL_SCOPES = ["read", "write", "admin"]


class ApiClient:
    """Calls ``/api/v1`` with ``Authorization: Bearer <secret>`` (or none) and JSON bodies."""

    def __init__(self, secret: str | None = None, *, client: Client | None = None, **headers):
        self.client = client or Client()
        self.headers = dict(headers)
        if secret:
            self.headers["authorization"] = f"Bearer {secret}"

    def request(self, method: str, path: str, body: Any = None, **params):
        url = path if path.startswith(API) else f"{API}{path}"
        if params:
            from urllib.parse import urlencode

            url = f"{url}?{urlencode(params)}"
        data = json.dumps(body) if body is not None else ""
        return self.client.generic(
            method.upper(), url, data=data, content_type="application/json", headers=self.headers
        )

    def get(self, path: str, **params):
        return self.request("GET", path, **params)

    def post(self, path: str, body: Any = None):
        return self.request("POST", path, body if body is not None else {})

    def patch(self, path: str, body: Any):
        return self.request("PATCH", path, body)

    def put(self, path: str, body: Any):
        return self.request("PUT", path, body)

    def delete(self, path: str):
        return self.request("DELETE", path)


def make_token(user, scopes=None, **kwargs) -> str:
    _token, secret = services.api_token_create(
        actor=user, workspace=user.workspace, name="test", scopes=scopes or ALL_SCOPES, **kwargs
    )
    return secret


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The response is ``status`` with the documented error shape; returns the error."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["fields"], dict)
    assert all(isinstance(msgs, list) for msgs in error["fields"].values())
    if code is not None:
        assert error["code"] == code, error
    return error


@pytest.fixture(name="api")
def api_fixture(admin_user) -> ApiClient:
    """The workspace administrator, with a token holding every scope."""
    return ApiClient(make_token(admin_user))


@pytest.fixture(name="sales_rep")
def sales_rep_fixture(workspace):
    from guanxi.platform.tests.factories import UserFactory

    return UserFactory(workspace=workspace, role_code="sales_rep")


@pytest.fixture(name="rep_api")
def rep_api_fixture(sales_rep) -> ApiClient:
    """A sales rep, with a read+write token (only administrators may hold admin)."""
    return ApiClient(make_token(sales_rep, ["read", "write"]))
