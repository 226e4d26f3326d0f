"""Keyset pages refuse forged cursors before the database sees them."""

import pytest

from guanxi.common.errors import ApplicationError
from guanxi.common.pagination import encode_cursor, paginate
from guanxi.platform.models import User


@pytest.mark.parametrize(
    ("key", "value", "pk"),
    [
        ("created_at", "not a date", 1),
        ("full_name", 12, 1),
        ("pk", None, "1"),
        ("pk", None, 2**70),
        ("is_active", "yes", 1),
        ("team__name", ["x"], 1),
    ],
)
def test_forged_cursor_is_refused(workspace, key, value, pk):
    qs = User.objects.filter(workspace=workspace)
    with pytest.raises(ApplicationError) as info:
        paginate(qs, key=key, cursor=encode_cursor(value, pk))
    assert info.value.code == "invalid_cursor"


def test_garbage_cursor_is_refused(workspace):
    with pytest.raises(ApplicationError):
        paginate(User.objects.filter(workspace=workspace), cursor="%%%not-base64")
