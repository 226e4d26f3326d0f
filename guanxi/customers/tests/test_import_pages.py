"""The import pages: upload, mapping, saved mappings, start, progress, report; rights."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from guanxi.customers.models import Contact, ImportMapping, ImportRun
from guanxi.platform.tests.factories import UserFactory

CSV = "Who,手机,生日\n张三,13812345678,1990-01-02\n李四,12,\n".encode("utf-8-sig")


@pytest.fixture(autouse=True)
def _import_dir(tmp_path, settings):
    settings.IMPORT_DIR = tmp_path / "imports"


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def upload(client):
    return client.post(
        reverse("customers:import"),
        {"object": "contacts", "file": SimpleUploadedFile("c.csv", CSV, "text/csv")},
    )


def test_upload_map_save_and_run(admin_user, django_capture_on_commit_callbacks):
    client = signed_in(admin_user)
    assert client.get(reverse("customers:import")).status_code == 200
    response = upload(client)
    assert response.status_code == 302
    run = ImportRun.objects.in_workspace(admin_user.workspace).get()
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "utf-8-sig" in html
    assert '<option value="mobile" selected>' in html  # 手机 matched automatically
    form = {
        "col-0": "name",
        "col-1": "mobile",
        "col-2": "birthday",
        "on_duplicate": "skip",
        "strict": "1",
    }
    saved = client.post(
        response["Location"], {**form, "action": "save_mapping", "mapping_name": "Mine"}
    )
    assert saved.status_code == 200
    mapping = ImportMapping.objects.in_workspace(admin_user.workspace).get()
    assert mapping.mapping == {"Who": "name", "手机": "mobile", "生日": "birthday"}
    loaded = client.get(response["Location"] + f"?mapping={mapping.pk}").content.decode()
    assert '<option value="name" selected>' in loaded
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(response["Location"], {**form, "action": "start"})
    assert started.status_code == 302
    run.refresh_from_db()
    assert (run.created, run.failed) == (1, 1)
    result = client.get(response["Location"]).content.decode()
    assert "job-progress" in result and "Download the report" in result
    report = client.get(reverse("customers:import_report", args=[run.pk]))
    assert report.status_code == 200
    assert Contact.objects.in_workspace(admin_user.workspace).count() == 1


def test_bad_file_shows_a_message(admin_user):
    client = signed_in(admin_user)
    response = client.post(
        reverse("customers:import"),
        {"object": "contacts", "file": SimpleUploadedFile("c.csv", b"\x00\x01", "text/csv")},
    )
    assert response.status_code == 200
    assert "binary data" in response.content.decode()


def test_other_workspace_and_other_user_get_404(admin_user, other_admin):
    upload(signed_in(admin_user))
    run = ImportRun.objects.in_workspace(admin_user.workspace).get()
    other = signed_in(other_admin)
    assert other.get(reverse("customers:import_detail", args=[run.pk])).status_code == 404
    assert (
        other.post(
            reverse("customers:import_detail", args=[run.pk]), {"action": "start"}
        ).status_code
        == 404
    )
    assert other.get(reverse("customers:import_report", args=[run.pk])).status_code == 404
    rep = UserFactory(workspace=admin_user.workspace, role_code="sales_rep")
    assert signed_in(rep).get(reverse("customers:import_detail", args=[run.pk])).status_code == 404


def test_without_the_create_right_403(workspace):
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    role = rep.role
    role.rights = {**role.rights, "customers.contact": {"actions": ["read"], "visibility": "own"}}
    role.save()
    response = upload(signed_in(rep))
    assert response.status_code == 403
    assert ImportRun.objects.in_workspace(workspace).count() == 0
