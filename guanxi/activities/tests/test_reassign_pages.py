# ruff: noqa: F811  (the shared fixtures are imported by name, and pytest passes them in)
"""The reassignment pages: the people list (fixed queries), a person's holdings and the form
(page and htmx), errors on the form with nothing started, the job page with its result,
retry, the side navigation, and refusals (403 for reps and other teams, 404 elsewhere)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from guanxi.activities.services import reassign
from guanxi.activities.tests.test_reassign_support import (  # noqa: F401
    book_of,
    leaver,
    manager_a,
    manager_b,
    rep_a1,
    rep_a2,
    run,
    team_a,
    team_b,
)
from guanxi.customers.models import Account, PoolSettings
from guanxi.platform.models import Job, JobState
from guanxi.platform.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def jobs_of(workspace):
    return Job.objects.in_workspace(workspace).filter(kind=reassign.JOB_KIND)


def test_people_list_shows_what_each_holds(client, workspace, manager_a, leaver, rep_a1, team_b):
    UserFactory(workspace=workspace, full_name="陈静", team=team_b)
    book_of(workspace, leaver, accounts=2, individuals=1)
    client.force_login(manager_a)
    response = client.get(reverse("activities:reassign_home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "王伟" in body and "李娜" in body
    assert "陈静" not in body  # another team
    assert reverse("activities:reassign_user", args=[leaver.pk]) in body
    # The side navigation offers the page to managers.
    assert reverse("activities:reassign_home") in body
    response = client.get(reverse("activities:reassign_home"), {"q": "王"}, **HX)
    body = response.content.decode()
    assert "王伟" in body and "李娜" not in body and "<html" not in body


def test_people_list_runs_fixed_queries(client, workspace, admin_user, leaver, team_a):
    book_of(workspace, leaver, accounts=1)
    client.force_login(admin_user)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(reverse("activities:reassign_home"))  # the session's first-request reads
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("activities:reassign_home")).status_code == 200
    for i in range(15):
        person = UserFactory(workspace=workspace, team=team_a, full_name=f"销售{i}")
        book_of(workspace, person, accounts=2, individuals=1)
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse("activities:reassign_home")).status_code == 200
    assert len(large) == len(small)


def test_user_page_runs_fixed_queries(client, workspace, admin_user, leaver, team_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    book_of(workspace, leaver, accounts=1)
    client.force_login(admin_user)
    url = reverse("activities:reassign_user", args=[leaver.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    book_of(workspace, leaver, accounts=40, individuals=20)
    for i in range(10):
        UserFactory(workspace=workspace, team=team_a, full_name=f"销售{i}")
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(large) == len(small)


def test_the_nav_entry_is_for_managers_and_administrators(client, workspace, rep_a1, manager_a):
    url = reverse("activities:reassign_home")
    client.force_login(rep_a1)
    assert url not in client.get(reverse("platform:profile")).content.decode()
    client.force_login(manager_a)
    assert url in client.get(reverse("platform:profile")).content.decode()


def test_user_page_previews_and_starts(client, workspace, admin_user, leaver, rep_a1):
    book_of(workspace, leaver, accounts=2, individuals=1)
    client.force_login(admin_user)
    url = reverse("activities:reassign_user", args=[leaver.pk])
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "王伟" in body and 'name="mode"' in body and 'name="deactivate"' in body
    assert response.context["holdings"].customers == 3
    response = client.post(
        url,
        {"mode": "one", "to_user": rep_a1.pk, "include": ["customers", "tasks", "commitments"]},
    )
    job = jobs_of(workspace).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("activities:reassign_job", args=[job.pk])


def test_user_page_by_htmx_redirects_to_the_job(client, workspace, manager_a, leaver, team_a):
    book_of(workspace, leaver, accounts=1)
    client.force_login(manager_a)
    url = reverse("activities:reassign_user", args=[leaver.pk])
    body = client.get(url).content.decode()
    assert 'name="deactivate"' not in body  # managers do not deactivate users
    response = client.post(url, {"mode": "team", "team": team_a.pk, "include": ["customers"]}, **HX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse(
        "activities:reassign_job", args=[jobs_of(workspace).get().pk]
    )


def test_errors_land_on_the_form_and_nothing_starts(client, workspace, admin_user, leaver, rep_a1):
    book_of(workspace, leaver, accounts=3, individuals=0)
    client.force_login(admin_user)
    url = reverse("activities:reassign_user", args=[leaver.pk])
    response = client.post(url, {"mode": "one", "include": ["customers"]}, **HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose who receives the work." in body and "<html" not in body
    PoolSettings.objects.create(workspace=workspace, max_per_rep=1)
    response = client.post(url, {"mode": "one", "to_user": rep_a1.pk, "include": ["customers"]})
    assert response.status_code == 200
    assert "over the cap of 1 per rep" in response.content.decode()
    response = client.post(url, {"mode": "one", "to_user": rep_a1.pk})  # nothing chosen
    assert response.context["form"].errors["include"]
    assert not jobs_of(workspace).exists()
    assert Account.objects.in_workspace(workspace).filter(owner=leaver).count() == 3


def test_job_page_shows_progress_then_who_received_what(
    client, workspace, admin_user, leaver, rep_a1
):
    book_of(workspace, leaver, accounts=2)
    job = reassign.reassign_start(
        actor=admin_user,
        workspace=workspace,
        from_user_id=leaver.pk,
        mode="one",
        to_user_id=rep_a1.pk,
    )
    client.force_login(admin_user)
    url = reverse("activities:reassign_job", args=[job.pk])
    body = client.get(url).content.decode()
    assert f"job-progress-{job.pk}" in body  # the platform's progress bar
    assert 'hx-trigger="every 2s"' in body
    run(job)
    response = client.get(url, **HX)
    body = response.content.decode()
    assert "<html" not in body and "every 2s" not in body
    assert "李娜" in body and '<td data-label="Customers">3</td>' in body


def test_a_failed_job_offers_to_run_again(
    client, workspace, admin_user, leaver, rep_a1, monkeypatch
):
    book_of(workspace, leaver, accounts=1)

    def die(*args, **kwargs):
        raise RuntimeError("worker died")

    real = reassign._move_batch
    monkeypatch.setattr(reassign, "_move_batch", die)
    job = run(
        reassign.reassign_start(
            actor=admin_user,
            workspace=workspace,
            from_user_id=leaver.pk,
            mode="one",
            to_user_id=rep_a1.pk,
        )
    )
    monkeypatch.setattr(reassign, "_move_batch", real)
    assert job.state == JobState.FAILED
    client.force_login(admin_user)
    body = client.get(reverse("activities:reassign_job", args=[job.pk])).content.decode()
    retry_url = reverse("activities:reassign_retry", args=[job.pk])
    assert retry_url in body
    response = client.post(retry_url)
    again = jobs_of(workspace).exclude(pk=job.pk).get()
    assert response["Location"] == reverse("activities:reassign_job", args=[again.pk])
    # A second press shows the refusal instead of starting a third job.
    run(again)
    response = client.post(reverse("activities:reassign_retry", args=[again.pk]), follow=True)
    assert "Only a failed reassignment can be run again." in response.content.decode()


def test_a_rep_is_refused(client, workspace, leaver, rep_a1):
    book_of(workspace, leaver, accounts=1)
    client.force_login(rep_a1)
    assert client.get(reverse("activities:reassign_home")).status_code == 403
    url = reverse("activities:reassign_user", args=[leaver.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"mode": "one", "to_user": rep_a1.pk}).status_code == 403
    assert not jobs_of(workspace).exists()


def test_a_manager_of_another_team_is_refused(client, workspace, leaver, manager_b):
    book_of(workspace, leaver, accounts=1)
    client.force_login(manager_b)
    response = client.get(reverse("activities:reassign_user", args=[leaver.pk]))
    assert response.status_code == 403
    assert "王伟 is not in your team" in response.content.decode()


def test_another_workspace_is_404(client, workspace, admin_user, leaver, rep_a1, other_admin):
    book_of(workspace, leaver, accounts=1)
    job = reassign.reassign_start(
        actor=admin_user,
        workspace=workspace,
        from_user_id=leaver.pk,
        mode="one",
        to_user_id=rep_a1.pk,
    )
    client.force_login(other_admin)
    assert client.get(reverse("activities:reassign_user", args=[leaver.pk])).status_code == 404
    assert client.get(reverse("activities:reassign_job", args=[job.pk])).status_code == 404
    assert client.post(reverse("activities:reassign_retry", args=[job.pk])).status_code == 404


def test_a_job_of_another_kind_is_not_a_reassignment(client, workspace, admin_user):
    other = Job.objects.create(
        workspace=workspace, owner=admin_user, kind="customers.import", idempotency_key="x"
    )
    client.force_login(admin_user)
    assert client.get(reverse("activities:reassign_job", args=[other.pk])).status_code == 404


def test_the_user_page_of_the_admin_area_links_here(client, workspace, admin_user, leaver):
    client.force_login(admin_user)
    body = client.get(reverse("platform:user_detail", args=[leaver.pk])).content.decode()
    assert reverse("activities:reassign_user", args=[leaver.pk]) in body
