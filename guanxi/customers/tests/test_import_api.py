"""``/imports``: upload, status, report; other workspaces and missing rights."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanxi.customers.models import Contact
from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import assert_error, make_token

CSV = "姓名,手机号,生日\n张三,13812345678,1990-01-02\n李四,12,1990-01-02\n".encode("gbk")


@pytest.fixture(autouse=True)
def _import_dir(tmp_path, settings):
    settings.IMPORT_DIR = tmp_path / "imports"


def upload(user, body=None, *, scopes=None):
    client = Client(headers={"authorization": f"Bearer {make_token(user, scopes)}"})
    data = {"file": SimpleUploadedFile("客户.csv", CSV, "text/csv"), "object": "contacts"}
    data.update(body or {})
    return client, client.post("/api/v1/imports", data=data)


def test_upload_runs_and_reports(admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client, response = upload(admin_user, {"strict": "true"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["encoding"] == "gb18030"
    assert body["mapping"] == {"姓名": "name", "手机号": "mobile", "生日": "birthday"}
    run = client.get(f"/api/v1/imports/{body['id']}").json()
    assert run["status"] == "finished"
    assert (run["created"], run["failed"], run["progress"]) == (1, 1, 100)
    report = client.get(run["report_url"])
    assert report.status_code == 200
    text = b"".join(report.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[1].startswith("3,手机号,12,")
    assert Contact.objects.in_workspace(admin_user.workspace).get().name == "张三"


def test_dry_run_and_mapping(admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client, response = upload(
            admin_user,
            {
                "dry_run": "true",
                "mapping": '{"生日": ""}',
                "on_duplicate": "update",
                "strict": "true",
            },
        )
    assert response.status_code == 202, response.content
    run = client.get(f"/api/v1/imports/{response.json()['id']}").json()
    assert run["dry_run"] and run["mapping"]["生日"] == ""
    assert run["created"] == 1
    assert Contact.objects.in_workspace(admin_user.workspace).count() == 0


def test_bad_input_is_400_not_500(admin_user):
    _client, response = upload(admin_user, {"mapping": "{not json"})
    assert_error(response, 400, "invalid_mapping")
    client = Client(headers={"authorization": f"Bearer {make_token(admin_user)}"})
    response = client.post(
        "/api/v1/imports",
        data={"file": SimpleUploadedFile("x.csv", b"\x00\x01"), "object": "contacts"},
    )
    assert_error(response, 400, "not_a_table")
    response = client.post(
        "/api/v1/imports",
        data={"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n"), "object": "contacts"},
    )
    assert_error(response, 400, "invalid_mapping")


def test_other_workspace_gets_404(admin_user, other_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _client, response = upload(admin_user)
    run_id = response.json()["id"]
    other = Client(headers={"authorization": f"Bearer {make_token(other_admin)}"})
    assert_error(other.get(f"/api/v1/imports/{run_id}"), 404)
    assert_error(other.get(f"/api/v1/imports/{run_id}/errors"), 404)
    # Another user of the same workspace does not see someone else's run either.
    rep = UserFactory(workspace=admin_user.workspace, role_code="sales_rep")
    same = Client(headers={"authorization": f"Bearer {make_token(rep, ['read', 'write'])}"})
    assert_error(same.get(f"/api/v1/imports/{run_id}"), 404)


def test_without_the_right_403(workspace):
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    role = rep.role
    role.rights = {**role.rights, "customers.contact": {"actions": ["read"], "visibility": "own"}}
    role.save()
    _client, response = upload(rep, scopes=["read", "write"])
    assert_error(response, 403)
    assert Contact.objects.in_workspace(workspace).count() == 0


def test_read_only_token_cannot_upload(admin_user):
    _client, response = upload(admin_user, scopes=["read"])
    assert_error(response, 403)
