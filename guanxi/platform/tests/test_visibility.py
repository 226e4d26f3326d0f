"""Record visibility: what a selector returns equals what the rules allow, for random
team trees, users, roles, records and shares (Hypothesis)."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanxi.platform import permissions, selectors
from guanxi.platform.models import Job, RecordShare, Role, Team, User, Visibility
from guanxi.platform.services import _refresh_paths

VISIBILITIES = [v.value for v in Visibility]

world = st.fixed_dictionaries(
    {
        # parent index for each team (None = top level); team i may only hang below j < i
        "teams": st.lists(st.integers(min_value=-1, max_value=10), min_size=1, max_size=6),
        # team index (or -1 for none) for each user
        "users": st.lists(st.integers(min_value=-1, max_value=5), min_size=2, max_size=6),
        "visibility": st.sampled_from(VISIBILITIES),
        "can_read": st.booleans(),
        # owner index for each record
        "records": st.lists(st.integers(min_value=0, max_value=5), min_size=0, max_size=10),
        # (record index, user index or None, team index or None)
        "shares": st.lists(
            st.tuples(
                st.integers(0, 9), st.one_of(st.none(), st.integers(0, 5)), st.integers(0, 5)
            ),
            max_size=4,
        ),
        "actor": st.integers(min_value=0, max_value=5),
    }
)


def expected_ids(actor, records, shares, visibility, can_read, team_paths):
    if not can_read:
        return set()
    ids = set()
    for job in records:
        owner = job.owner
        if (
            visibility == Visibility.ALL
            or owner.pk == actor.pk
            or (actor.team_id and visibility == Visibility.TEAM and owner.team_id == actor.team_id)
            or (
                actor.team_id
                and visibility == Visibility.TEAM_AND_BELOW
                and owner.team_id
                and team_paths[owner.team_id].startswith(team_paths[actor.team_id])
            )
        ):
            ids.add(job.pk)
    for share in shares:
        if share.user_id == actor.pk or (share.team_id and share.team_id == actor.team_id):
            ids.add(share.object_id)
    return ids


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=world)
def test_selector_returns_exactly_what_the_rules_allow(workspace, data):
    with transaction.atomic():
        role = Role.objects.in_workspace(workspace).get(code="sales_rep")
        role.rights = {
            "platform.job": {
                "actions": ["read"] if data["can_read"] else [],
                "visibility": data["visibility"],
            }
        }
        role.save()
        teams: list[Team] = []
        for i, parent in enumerate(data["teams"]):
            parent_team = teams[parent] if 0 <= parent < i else None
            team = Team.objects.create(workspace=workspace, name=f"T{i}", parent=parent_team)
            _refresh_paths(team)
            teams.append(team)
        users: list[User] = []
        for i, team_index in enumerate(data["users"]):
            team = teams[team_index] if 0 <= team_index < len(teams) else None
            users.append(
                User.objects.create(
                    workspace=workspace,
                    email=f"v{i}-{workspace.pk}@example.com",
                    full_name=f"U{i}",
                    role=role,
                    team=team,
                )
            )
        records = [
            Job.objects.create(
                workspace=workspace,
                owner=users[o % len(users)],
                kind="k",
                idempotency_key=f"r{i}",
            )
            for i, o in enumerate(data["records"])
        ]
        shares = []
        for record_index, user_index, team_index in data["shares"]:
            if not records:
                break
            record = records[record_index % len(records)]
            if user_index is not None:
                share = RecordShare(
                    workspace=workspace,
                    object_key="platform.job",
                    object_id=record.pk,
                    user=users[user_index % len(users)],
                )
            else:
                share = RecordShare(
                    workspace=workspace,
                    object_key="platform.job",
                    object_id=record.pk,
                    team=teams[team_index % len(teams)],
                )
            share.save()
            shares.append(share)
        actor = User.objects.select_related("role", "team").get(
            pk=users[data["actor"] % len(users)].pk
        )
        team_paths = {t.pk: Team.objects.in_workspace(workspace).get(pk=t.pk).path for t in teams}

        got = set(selectors.job_list(workspace=workspace, actor=actor).values_list("pk", flat=True))
        want = expected_ids(
            actor, records, shares, data["visibility"], data["can_read"], team_paths
        )
        assert got == want
        transaction.set_rollback(True)


def test_other_workspaces_records_are_never_visible(
    workspace, other_workspace, admin_user, other_admin
):
    Job.objects.create(workspace=other_workspace, owner=other_admin, kind="k", idempotency_key="x")
    mine = Job.objects.create(workspace=workspace, owner=admin_user, kind="k", idempotency_key="y")
    assert list(selectors.job_list(workspace=workspace, actor=admin_user)) == [mine]


def test_denied_right_is_audited(workspace):
    from guanxi.common.errors import PermissionDenied
    from guanxi.platform.models import AuditEntry
    from guanxi.platform.tests.factories import UserFactory

    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    with pytest.raises(PermissionDenied) as info:
        permissions.require(rep, "platform.job", "delete")
    assert "Sales rep" in str(info.value.message)
    entry = AuditEntry.objects.filter(workspace=workspace, action="permission_denied").get()
    assert entry.actor == rep and entry.changes == {"action": [None, "delete"]}
