"""The reusable list on the users page: sort, filters, keyset pages, saved views, columns,
bulk actions (all or nothing), export, field restrictions, constant query count."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.platform import services
from guanxi.platform.models import AuditEntry, Job, SavedView, User
from guanxi.platform.tests.factories import UserFactory

URL = "/settings/users/"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def names_in(response):
    return re.findall(r'<a href="/settings/users/\d+/">([^<]+)</a>', response.content.decode())


def test_query_count_does_not_grow_with_rows(admin_client, workspace, admin_user):
    services.custom_field_create(
        actor=admin_user,
        workspace=workspace,
        object_key="platform.user",
        label="Level",
        key="level",
        field_type="choice",
        choices=["A", "B"],
    )
    UserFactory.create_batch(3, workspace=workspace)
    admin_client.get(URL)  # the first request of a session also writes the session
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(URL + "?cols=full_name,team__name,custom.level").status_code == 200
    UserFactory.create_batch(60, workspace=workspace)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(URL + "?cols=full_name,team__name,custom.level").status_code == 200
    assert len(many) == len(few)


def test_keyset_pages_cover_every_row_once(admin_client, workspace):
    UserFactory.create_batch(23, workspace=workspace)
    seen = []
    url = URL + "?sort=full_name&limit=10"
    for _ in range(5):
        response = admin_client.get(url)
        seen += names_in(response)
        match = re.search(r'href="\?([^"]*cursor=[^"]*)"', response.content.decode())
        if not match:
            break
        url = URL + "?" + match.group(1).replace("&amp;", "&")
    expected = sorted(User.objects.filter(workspace=workspace).values_list("full_name", flat=True))
    assert sorted(seen) == expected and len(seen) == 24


def test_sort_and_filter_on_a_custom_field(admin_client, workspace, admin_user):
    services.custom_field_create(
        actor=admin_user,
        workspace=workspace,
        object_key="platform.user",
        label="Score",
        key="score",
        field_type="number",
    )
    services.custom_field_create(
        actor=admin_user,
        workspace=workspace,
        object_key="platform.user",
        label="Tier",
        key="tier",
        field_type="choice",
        choices=["gold", "silver"],
    )
    UserFactory(workspace=workspace, full_name="Low", custom={"score": 9, "tier": "gold"})
    UserFactory(workspace=workspace, full_name="High", custom={"score": 100, "tier": "gold"})
    UserFactory(workspace=workspace, full_name="Mid", custom={"score": 20, "tier": "silver"})
    response = admin_client.get(URL + "?sort=custom.score&dir=desc&f_custom.tier=gold")
    assert names_in(response)[:2] == ["High", "Low"]
    response = admin_client.get(URL + "?f_custom.score__gte=abc")
    assert "not valid" in response.content.decode()


def test_saved_view_restores_filters_and_columns(admin_client, workspace, admin_user):
    admin_client.post(
        URL,
        {"op": "save_view", "name": "Reps", "params": "sort=email&dir=desc&cols=full_name,email"},
    )
    view = SavedView.objects.in_workspace(workspace).get(user=admin_user)
    assert view.params["cols"] == "full_name,email"
    response = admin_client.get(URL + f"?view={view.pk}")
    content = response.content.decode()
    assert '<th scope="col">' in content
    headers = re.findall(r'<th scope="col">(.*?)</th>', content)
    assert len(headers) == 2 and "E-mail" in headers[1]


def test_bulk_action_is_all_or_nothing(admin_client, workspace, admin_user):
    rep = UserFactory(workspace=workspace)
    # Deactivating the only administrator fails, so the rep stays active too.
    response = admin_client.post(
        URL, {"op": "bulk", "action": "deactivate", "ids": [rep.pk, admin_user.pk]}, follow=True
    )
    assert "Nothing was changed" in response.content.decode()
    rep.refresh_from_db()
    assert rep.is_active
    admin_client.post(URL, {"op": "bulk", "action": "deactivate", "ids": [rep.pk]})
    rep.refresh_from_db()
    assert not rep.is_active
    assert AuditEntry.objects.filter(
        workspace=workspace, object_id=str(rep.pk), action="update"
    ).exists()


def test_export_runs_as_a_job_and_only_its_owner_downloads(
    admin_client, client, workspace, admin_user, django_capture_on_commit_callbacks
):
    UserFactory(workspace=workspace, full_name="=cmd|' /C calc'!A0")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            URL, {"op": "export", "format": "csv", "params": "sort=full_name"}
        )
    assert response.status_code == 200
    job = Job.objects.in_workspace(workspace).get(kind="platform.list_export")
    assert job.state == "succeeded" and job.result["rows"] == 2
    download = admin_client.get(reverse("platform:export_download", args=[job.pk]))
    body = b"".join(download.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")  # BOM: Excel reads the Chinese names
    assert "'=cmd" in body  # formula injection is defused
    other = UserFactory(workspace=workspace, role_code="administrator")
    client.force_login(other)
    assert client.get(reverse("platform:export_download", args=[job.pk])).status_code == 404
    assert AuditEntry.objects.filter(workspace=workspace, action="export").count() == 1


def test_xlsx_export(admin_client, workspace, admin_user, django_capture_on_commit_callbacks):
    from io import BytesIO

    from openpyxl import load_workbook

    admin_user.language = "en"  # the job writes headers in its owner's language
    admin_user.save()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(URL, {"op": "export", "format": "xlsx", "params": ""})
    job = Job.objects.in_workspace(workspace).get(kind="platform.list_export")
    content = b"".join(
        admin_client.get(reverse("platform:export_download", args=[job.pk])).streaming_content
    )
    rows = list(load_workbook(BytesIO(content)).active.values)
    assert rows[0][0] == "Full name" and len(rows) == 2


def test_hidden_field_is_not_listed_nor_exported(client, workspace, admin_user):
    manager = UserFactory(workspace=workspace, role_code="sales_manager", phone="13800138000")
    services.role_set_field_rule(
        actor=admin_user,
        workspace=workspace,
        role_id=manager.role_id,
        object_key="platform.user",
        field="phone",
        access="hidden",
    )
    client.force_login(manager)
    content = client.get(URL + "?cols=full_name,phone").content.decode()
    assert "13800138000" not in content


def test_rep_sees_list_without_bulk_or_export(client, workspace):
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    client.force_login(rep)
    content = client.get(URL).content.decode()
    assert 'name="ids"' not in content and 'value="export"' not in content
    response = client.post(
        URL, {"op": "bulk", "action": "deactivate", "ids": [rep.pk]}, follow=True
    )
    assert "does not allow" in response.content.decode()
    rep.refresh_from_db()
    assert rep.is_active


def test_other_workspace_user_detail_is_404(admin_client, other_admin):
    assert admin_client.get(f"/settings/users/{other_admin.pk}/").status_code == 404


def test_money_is_shown_in_the_readers_language(admin_client, workspace, admin_user):
    services.custom_field_create(
        actor=admin_user,
        workspace=workspace,
        object_key="platform.user",
        label="Quota",
        key="quota",
        field_type="money",
    )
    UserFactory(workspace=workspace, custom={"quota": "1234.50"})
    content = admin_client.get(
        URL + "?cols=full_name,custom.quota", headers={"Accept-Language": "zh-CN"}
    ).content.decode()
    assert "¥1,234.50" in content


def test_count_only_when_asked(admin_client, workspace):
    UserFactory.create_batch(3, workspace=workspace)
    assert "4 in all" in admin_client.get(URL + "?count=1").content.decode()
    assert "in all" not in admin_client.get(URL).content.decode()


def test_profile_respects_a_read_only_phone(client, workspace, admin_user):
    rep = UserFactory(workspace=workspace, role_code="sales_rep", phone="13800138000")
    services.role_set_field_rule(
        actor=admin_user,
        workspace=workspace,
        role_id=rep.role_id,
        object_key="platform.user",
        field="phone",
        access="read_only",
    )
    client.force_login(rep)
    response = client.post(
        reverse("platform:profile"),
        {"full_name": "New Name", "phone": "1", "language": "", "time_zone": ""},
    )
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.full_name == "New Name" and rep.phone == "13800138000"
