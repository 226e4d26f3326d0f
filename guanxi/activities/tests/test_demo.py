"""The demo activities: history on the customers, open commitments, each sales person's day."""

import pytest
from django.utils import timezone

from guanxi.activities import demo
from guanxi.activities.models import Commitment, Task, TaskKind, TimelineEntry
from guanxi.customers import demo as customers_demo
from guanxi.customers.models import Account
from guanxi.platform.models import User
from guanxi.platform.tests.factories import UserFactory


@pytest.fixture
def users(workspace, admin_user):
    UserFactory.create_batch(2, workspace=workspace, role_code="sales_rep")
    return list(User.objects.filter(workspace=workspace).select_related("role"))


def test_seed_demo_fills_history_commitments_and_today(workspace, users, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    customers_demo.seed_demo(workspace=workspace, users=users, count=40)
    result = demo.seed_demo(workspace=workspace, users=users)

    entries = TimelineEntry.objects.in_workspace(workspace)
    assert result["entries"] == entries.count() > 0
    assert result["commitments"] == Commitment.objects.in_workspace(workspace).count()
    assert not Account.objects.in_workspace(workspace).filter(latitude__isnull=True).exists()
    reps = [u for u in users if u.role.code == "sales_rep"]
    today = timezone.localdate()
    for rep in reps:
        visits = Task.objects.in_workspace(workspace).filter(assignee=rep, kind=TaskKind.VISIT)
        assert visits.exists()
        assert {timezone.localtime(t.due_at).date() for t in visits} == {today}
    # Runs once.
    assert demo.seed_demo(workspace=workspace, users=users) == {"entries": 0}
    assert TimelineEntry.objects.in_workspace(workspace).count() == result["entries"]
