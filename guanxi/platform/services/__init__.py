"""State changes of the platform. Each service checks the actor's rights *before* its
transaction (so a denial's audit row survives), then writes the change and its audit row
in one ``transaction.atomic`` block."""

from ._base import _refresh_paths, hash_secret
from .fields import custom_field_create, custom_field_delete, custom_field_move, custom_field_update
from .invitations import invitation_accept, invitation_create, invitation_revoke
from .roles import role_create, role_delete, role_set_field_rule, role_update
from .saved_views import saved_view_delete, saved_view_save
from .security import (
    two_factor_confirm,
    two_factor_device,
    two_factor_disable,
    two_factor_start,
)
from .sharing import record_share, record_unshare
from .teams import team_create, team_delete, team_update
from .tokens import TOKEN_SCOPES, api_token_create, api_token_revoke
from .users import (
    USER_EDITABLE,
    user_change_password,
    user_create,
    user_sign_out_everywhere,
    user_update,
)
from .workspaces import workspace_create

__all__ = [
    "TOKEN_SCOPES",
    "USER_EDITABLE",
    "_refresh_paths",
    "api_token_create",
    "api_token_revoke",
    "custom_field_create",
    "custom_field_delete",
    "custom_field_move",
    "custom_field_update",
    "hash_secret",
    "invitation_accept",
    "invitation_create",
    "invitation_revoke",
    "record_share",
    "record_unshare",
    "role_create",
    "role_delete",
    "role_set_field_rule",
    "role_update",
    "saved_view_delete",
    "saved_view_save",
    "team_create",
    "team_delete",
    "team_update",
    "two_factor_confirm",
    "two_factor_device",
    "two_factor_disable",
    "two_factor_start",
    "user_change_password",
    "user_create",
    "user_sign_out_everywhere",
    "user_update",
    "workspace_create",
]
