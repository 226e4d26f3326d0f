"""Record sharing: the services, the REST endpoints and the share panel of detail pages.

Background jobs are the owned object the platform has today, so they stand in for any
record with an owner: a role with "own" visibility sees a job only when it is theirs or
shared with them (or their team).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from guanxi.common.errors import NotFound, PermissionDenied
from guanxi.platform import selectors, services
from guanxi.platform.models import AuditAction, AuditEntry, Job, RecordShare
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

JOB = "platform.job"


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def keeper_role(admin_user):
    """Reads the directory; may change background jobs but sees only their own (and those
    shared with them)."""
    return services.role_create(
        actor=admin_user,
        workspace=admin_user.workspace,
        name="Job keeper",
        rights={
            "platform.user": {"actions": ["read"], "visibility": "all"},
            "platform.team": {"actions": ["read"], "visibility": "all"},
            JOB: {"actions": ["read", "update"], "visibility": "own"},
        },
    )


@pytest.fixture
def owner(admin_user, keeper_role):
    user = UserFactory(workspace=admin_user.workspace)
    user.role = keeper_role
    user.save(update_fields=["role"])
    return user


@pytest.fixture
def team(workspace):
    return TeamFactory(workspace=workspace, name="East")


@pytest.fixture
def colleague(workspace, team):
    """A sales rep: reads background jobs, only their own."""
    return UserFactory(workspace=workspace, team=team, role_code="sales_rep", full_name="Bob Li")


@pytest.fixture
def job(owner):
    return Job.objects.create(
        workspace=owner.workspace, owner=owner, kind="k", idempotency_key="shared-job"
    )


@pytest.fixture
def other_job(other_admin):
    return Job.objects.create(
        workspace=other_admin.workspace, owner=other_admin, kind="k", idempotency_key="theirs"
    )


def _share(actor, job, **kwargs) -> RecordShare:
    return services.record_share(
        actor=actor, workspace=actor.workspace, object_key=JOB, object_id=job.pk, **kwargs
    )


def _sees(user, job) -> bool:
    return selectors.job_list(workspace=user.workspace, actor=user).filter(pk=job.pk).exists()


def _share_audit(workspace):
    return AuditEntry.objects.filter(workspace=workspace, action=AuditAction.SHARE).order_by("pk")


# --- services and selectors ------------------------------------------------------------------------


def test_sharing_with_a_user_lets_them_see_the_record_until_it_is_unshared(owner, colleague, job):
    assert not _sees(colleague, job)

    share = _share(owner, job, user_id=colleague.pk)
    assert _sees(colleague, job)

    services.record_unshare(actor=owner, workspace=owner.workspace, share_id=share.pk)
    assert not _sees(colleague, job)
    assert not RecordShare.objects.across_workspaces().filter(pk=share.pk).exists()

    shared, unshared = _share_audit(owner.workspace)
    assert (shared.actor, shared.object_key, shared.object_id) == (owner, JOB, str(job.pk))
    assert shared.changes["shared_with"] == [None, str(colleague)]
    assert (unshared.actor, unshared.object_key, unshared.object_id) == (owner, JOB, str(job.pk))
    assert unshared.changes == {"shared_with": [str(colleague), None]}


def test_sharing_with_a_team_reaches_its_members(owner, colleague, team, job):
    share = _share(owner, job, team_id=team.pk, can_edit=True)
    assert _sees(colleague, job)
    services.record_unshare(actor=owner, workspace=owner.workspace, share_id=share.pk)
    assert not _sees(colleague, job)
    assert _share_audit(owner.workspace).last().changes == {"shared_with": [str(team), None]}


def test_unsharing_needs_the_right_to_change_the_record(owner, colleague, job):
    share = _share(owner, job, user_id=colleague.pk)
    with pytest.raises(PermissionDenied) as denied:
        services.record_unshare(actor=colleague, workspace=owner.workspace, share_id=share.pk)
    assert colleague.role.name in str(denied.value.message)
    assert RecordShare.objects.across_workspaces().filter(pk=share.pk).exists()
    assert _share_audit(owner.workspace).count() == 1


def test_unsharing_needs_to_see_the_record(admin_user, owner, keeper_role, job, colleague):
    """Another keeper has the right but cannot see this job: it is not there for them."""
    share = _share(owner, job, user_id=colleague.pk)
    stranger = UserFactory(workspace=owner.workspace)
    stranger.role = keeper_role
    stranger.save(update_fields=["role"])
    with pytest.raises(NotFound):
        services.record_unshare(actor=stranger, workspace=owner.workspace, share_id=share.pk)
    assert RecordShare.objects.across_workspaces().filter(pk=share.pk).exists()


def test_another_workspaces_share_is_not_found(owner, colleague, job, other_admin):
    share = _share(owner, job, user_id=colleague.pk)
    with pytest.raises(NotFound):
        services.record_unshare(
            actor=other_admin, workspace=other_admin.workspace, share_id=share.pk
        )
    assert RecordShare.objects.across_workspaces().filter(pk=share.pk).exists()


def test_record_shares_lists_them_only_to_someone_who_sees_the_record(
    owner, colleague, team, job, other_admin
):
    _share(owner, job, user_id=colleague.pk)
    _share(owner, job, team_id=team.pk)
    shares = selectors.record_shares(
        workspace=owner.workspace, actor=owner, object_key=JOB, object_id=job.pk
    )
    assert [(s.user, s.team) for s in shares] == [(colleague, None), (None, team)]
    # The colleague sees the job through the share, so may see who else it is shared with.
    assert (
        selectors.record_shares(
            workspace=owner.workspace, actor=colleague, object_key=JOB, object_id=job.pk
        ).count()
        == 2
    )
    stranger = UserFactory(workspace=owner.workspace, role_code="sales_rep")
    for actor, object_key, object_id in [
        (stranger, JOB, job.pk),
        (other_admin, JOB, job.pk),
        (owner, "no.such", job.pk),
        (owner, JOB, "x"),
    ]:
        with pytest.raises(NotFound):
            selectors.record_shares(
                workspace=actor.workspace, actor=actor, object_key=object_key, object_id=object_id
            )


# --- API ------------------------------------------------------------------------------------------


def test_api_create_list_and_delete(api, admin_user, owner, colleague, job):
    team = TeamFactory(workspace=admin_user.workspace, name="West")  # without the colleague
    created = api.post("/shares", {"object_key": JOB, "object_id": job.pk, "user_id": colleague.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["user"] == {"id": colleague.pk, "full_name": colleague.full_name}
    assert body["team"] is None
    assert (body["object_key"], body["object_id"], body["can_edit"]) == (JOB, job.pk, False)
    assert _sees(colleague, job)

    second = api.post(
        "/shares", {"object_key": JOB, "object_id": job.pk, "team_id": team.pk, "can_edit": True}
    )
    assert second.status_code == 201, second.content
    assert second.json()["team"] == {"id": team.pk, "name": team.name}

    first_page = api.get("/shares", object_key=JOB, object_id=job.pk, limit=1)
    assert first_page.status_code == 200, first_page.content
    assert [s["id"] for s in first_page.json()["items"]] == [body["id"]]
    rest = api.get(
        "/shares", object_key=JOB, object_id=job.pk, cursor=first_page.json()["next_cursor"]
    )
    assert [s["id"] for s in rest.json()["items"]] == [second.json()["id"]]
    assert rest.json()["next_cursor"] is None

    deleted = api.delete(f"/shares/{body['id']}")
    assert deleted.status_code == 204, deleted.content
    assert not _sees(colleague, job)
    assert_error(api.delete(f"/shares/{body['id']}"), 404, "not_found")
    assert [a.changes.get("shared_with") for a in _share_audit(admin_user.workspace)] == [
        [None, str(colleague)],
        [None, str(team)],
        [str(colleague), None],
    ]


def test_api_another_workspaces_record_or_share_is_404(api, owner, colleague, job, other_job):
    theirs = _share(other_job.owner, other_job, user_id=other_job.owner.pk)
    assert_error(api.get("/shares", object_key=JOB, object_id=other_job.pk), 404, "not_found")
    response = api.post(
        "/shares", {"object_key": JOB, "object_id": other_job.pk, "user_id": colleague.pk}
    )
    assert_error(response, 404, "not_found")
    assert_error(api.delete(f"/shares/{theirs.pk}"), 404, "not_found")
    assert list(RecordShare.objects.across_workspaces().values_list("pk", flat=True)) == [theirs.pk]


def test_api_sharing_needs_the_right_to_change_the_record(
    admin_user, sales_rep, rep_api, colleague
):
    rep_job = Job.objects.create(
        workspace=admin_user.workspace, owner=sales_rep, kind="k", idempotency_key="rep"
    )
    share = _share(admin_user, rep_job, user_id=colleague.pk)
    # The rep sees the job (their own) and its shares, but may not change who sees it.
    listed = rep_api.get("/shares", object_key=JOB, object_id=rep_job.pk)
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["items"]] == [share.pk]
    for response in [
        rep_api.post(
            "/shares", {"object_key": JOB, "object_id": rep_job.pk, "user_id": admin_user.pk}
        ),
        rep_api.delete(f"/shares/{share.pk}"),
    ]:
        error = assert_error(response, 403, "permission_denied")
        assert sales_rep.role.name in error["message"]
    assert list(RecordShare.objects.across_workspaces().values_list("pk", flat=True)) == [share.pk]
    assert _share_audit(admin_user.workspace).count() == 1
    assert AuditEntry.objects.filter(
        workspace=admin_user.workspace, actor=sales_rep, action="permission_denied"
    ).exists()


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"user_id": "{colleague}", "team_id": "{team}"}, 400, "invalid"),
        ({}, 400, "invalid"),
        ({"user_id": "{stranger}"}, 400, "invalid"),
        ({"team_id": "{their_team}"}, 400, "invalid"),
        ({"user_id": 0}, 422, "validation_error"),
        ({"user_id": "{colleague}", "can_edit": "maybe"}, 422, "validation_error"),
    ],
    ids=["user-and-team", "neither", "unknown-user", "unknown-team", "bad-id", "bad-flag"],
)
def test_api_bad_input_changes_nothing(
    api, admin_user, colleague, team, job, other_admin, extra, status, code
):
    ids = {
        "{colleague}": colleague.pk,
        "{team}": team.pk,
        "{stranger}": other_admin.pk,
        "{their_team}": TeamFactory(workspace=other_admin.workspace).pk,
    }
    body = {"object_key": JOB, "object_id": job.pk}
    body |= {k: ids.get(v, v) if isinstance(v, str) else v for k, v in extra.items()}
    assert_error(api.post("/shares", body), status, code)
    assert not RecordShare.objects.across_workspaces().exists()
    assert not _share_audit(admin_user.workspace).exists()


def test_api_an_object_without_owners_cannot_be_shared(api, admin_user, colleague):
    response = api.post(
        "/shares",
        {"object_key": "platform.user", "object_id": admin_user.pk, "user_id": colleague.pk},
    )
    assert_error(response, 400, "invalid")
    assert_error(api.get("/shares", object_key="no.such", object_id=1), 404, "not_found")
    assert not RecordShare.objects.across_workspaces().exists()


# --- the share panel ---------------------------------------------------------------------------


def _panel_url(job) -> str:
    return reverse("platform:share_panel", args=[JOB, job.pk])


def _remove_url(job, share) -> str:
    return reverse("platform:share_remove", args=[JOB, job.pk, share.pk])


def _htmx(client, method: str, url: str, data=None):
    return getattr(client, method)(url, data or {}, headers={"HX-Request": "true"})


def test_a_detail_page_includes_a_placeholder_that_loads_the_panel(job):
    html = render_to_string("components/share_panel.html", {"object_key": JOB, "object_id": job.pk})
    assert f'hx-get="{_panel_url(job)}"' in html
    assert 'hx-trigger="load"' in html
    assert f'id="share-panel-platformjob-{job.pk}"' in html


def test_the_panel_lists_shares_and_offers_users_and_teams(client, owner, colleague, team, job):
    _share(owner, job, team_id=team.pk, can_edit=True)
    client.force_login(owner)
    response = _htmx(client, "get", _panel_url(job))
    assert response.status_code == 200
    html = response.content.decode()
    panel_id = f"share-panel-platformjob-{job.pk}"
    assert f'id="{panel_id}"' in html
    assert f'hx-target="#{panel_id}"' in html
    assert 'hx-swap="outerHTML"' in html
    assert team.name in html
    assert f'<option value="{colleague.pk}">{colleague.full_name}</option>' in html
    assert f'<option value="{team.pk}">{team.name}</option>' in html
    assert 'hx-trigger="load"' not in html


def test_the_panel_runs_a_fixed_number_of_queries(client, owner, job, workspace):
    client.force_login(owner)
    _share(owner, job, user_id=UserFactory(workspace=workspace).pk)
    _htmx(client, "get", _panel_url(job))  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        _htmx(client, "get", _panel_url(job))
    for _ in range(3):
        _share(owner, job, team_id=TeamFactory(workspace=workspace).pk)
        _share(owner, job, user_id=UserFactory(workspace=workspace).pk)
    with CaptureQueriesContext(connection) as seven:
        response = _htmx(client, "get", _panel_url(job))
    assert response.content.decode().count('class="share"') == 7
    assert len(seven) == len(one)


def test_sharing_and_removing_from_the_panel(client, owner, colleague, job):
    client.force_login(owner)
    response = _htmx(client, "post", _panel_url(job), {"user_id": colleague.pk, "can_edit": "on"})
    assert response.status_code == 200
    share = RecordShare.objects.across_workspaces().get()
    assert (share.user, share.can_edit, share.object_id) == (colleague, True, job.pk)
    html = response.content.decode()
    assert colleague.full_name in html
    assert _remove_url(job, share) in html
    assert 'role="alert"' not in html

    response = _htmx(client, "post", _remove_url(job, share))
    assert response.status_code == 200
    assert not RecordShare.objects.across_workspaces().exists()
    assert _remove_url(job, share) not in response.content.decode()
    assert not _sees(colleague, job)
    assert _share_audit(owner.workspace).count() == 2


def test_the_panel_shows_errors_in_the_users_language(client, owner, colleague, team, job):
    owner.language = "zh-hans"
    owner.save(update_fields=["language"])
    client.force_login(owner)
    for data in [{}, {"user_id": colleague.pk, "team_id": team.pk}]:
        response = _htmx(client, "post", _panel_url(job), data)
        assert response.status_code == 200
        with translation.override("zh-hans"):
            expected = gettext("Share with either a user or a team.")
        assert (
            f'<div class="notice error" role="alert">{expected}</div>' in response.content.decode()
        )
    response = _htmx(client, "post", _panel_url(job), {"user_id": 10**9})
    with translation.override("zh-hans"):
        expected = gettext("Choose a user of this workspace.")
    assert expected in response.content.decode()
    assert not RecordShare.objects.across_workspaces().exists()


def test_without_the_right_the_panel_only_lists_and_refuses_with_the_reason(
    client, admin_user, sales_rep, colleague, job
):
    rep_job = Job.objects.create(
        workspace=admin_user.workspace, owner=sales_rep, kind="k", idempotency_key="rep"
    )
    share = _share(admin_user, rep_job, user_id=colleague.pk)
    client.force_login(sales_rep)
    html = _htmx(client, "get", _panel_url(rep_job)).content.decode()
    assert colleague.full_name in html
    assert "<form" not in html

    response = _htmx(client, "post", _panel_url(rep_job), {"user_id": admin_user.pk})
    assert response.status_code == 200
    assert sales_rep.role.name in response.content.decode()
    response = _htmx(client, "post", _remove_url(rep_job, share))
    assert sales_rep.role.name in response.content.decode()
    assert list(RecordShare.objects.across_workspaces().all()) == [share]


def test_the_panel_of_another_workspaces_record_is_404(client, owner, colleague, other_job):
    theirs = _share(other_job.owner, other_job, user_id=other_job.owner.pk)
    client.force_login(owner)
    assert _htmx(client, "get", _panel_url(other_job)).status_code == 404
    assert (
        _htmx(client, "post", _panel_url(other_job), {"user_id": colleague.pk}).status_code == 404
    )
    assert _htmx(client, "post", _remove_url(other_job, theirs)).status_code == 404
    assert list(RecordShare.objects.across_workspaces().all()) == [theirs]


def test_removing_a_share_of_another_record_is_404(client, owner, colleague, job):
    second = Job.objects.create(
        workspace=owner.workspace, owner=owner, kind="k", idempotency_key="second"
    )
    share = _share(owner, second, user_id=colleague.pk)
    client.force_login(owner)
    assert _htmx(client, "post", _remove_url(job, share)).status_code == 404
    assert RecordShare.objects.across_workspaces().filter(pk=share.pk).exists()


def test_a_record_someone_cannot_see_is_404_in_the_panel(client, colleague, job):
    client.force_login(colleague)
    assert _htmx(client, "get", _panel_url(job)).status_code == 404
    assert _htmx(client, "post", _panel_url(job), {"user_id": colleague.pk}).status_code == 404


def test_removing_the_share_one_sees_the_record_through(client, admin_user, keeper_role, job):
    """A keeper who sees the job only through a share may remove it; the panel says so."""
    keeper = UserFactory(workspace=admin_user.workspace)
    keeper.role = keeper_role
    keeper.save(update_fields=["role"])
    share = _share(admin_user, job, user_id=keeper.pk)
    client.force_login(keeper)
    response = _htmx(client, "post", _remove_url(job, share))
    assert response.status_code == 200
    assert not RecordShare.objects.across_workspaces().exists()
    assert "<form" not in response.content.decode()


def test_unknown_or_huge_ids_are_404(client, owner, job):
    client.force_login(owner)
    huge = 2**64
    assert (
        _htmx(client, "get", reverse("platform:share_panel", args=[JOB, huge])).status_code == 404
    )
    url = reverse("platform:share_remove", args=[JOB, job.pk, huge])
    assert _htmx(client, "post", url).status_code == 404
    url = reverse("platform:share_panel", args=["no.such", job.pk])
    assert _htmx(client, "get", url).status_code == 404
