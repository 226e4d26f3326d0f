"""The platform's REST endpoints, one module per resource: the caller, users, teams, roles
and field rules, custom fields, business objects and their JSON Schemas, the audit log,
background jobs, API tokens and record sharing.

Every endpoint calls the same services and selectors as the pages; what happens here is
translation between HTTP and those calls, plus the API's own concerns (token scopes,
pages, hiding the fields a role may not see).

Importing a resource module registers its operations on ``router``; the order of the
imports is the order of the operations in the OpenAPI document.
"""

# isort: off
from . import me, users, teams, roles, custom_fields, objects, audit, jobs, tokens, shares

# isort: on
from .auth import API_AUTH, BearerAuth, _token_for
from .common import router
from .objects import object_json_schema

__all__ = [
    "API_AUTH",
    "BearerAuth",
    "_token_for",
    "audit",
    "custom_fields",
    "jobs",
    "me",
    "object_json_schema",
    "objects",
    "roles",
    "router",
    "shares",
    "teams",
    "tokens",
    "users",
]
