"""Starting the full duplicate scan from the page and the API: rights, workspaces, one at a
time."""

import pytest
from django.urls import reverse

from guanxi.customers.models import DuplicateCandidate
from guanxi.customers.services.duplicates import duplicate_scan_start
from guanxi.platform.models import Job, JobState
from guanxi.platform.tests.factories import UserFactory
from guanxi.platform.tests.test_api_support import ApiClient, assert_error, make_token

from .factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins(workspace):
    ContactFactory(workspace=workspace, name="李雷", mobile="+8613912345678")
    ContactFactory(workspace=workspace, name="李雷", mobile="+8613912345678")


def test_the_page_starts_a_scan_that_finds_the_pair(
    client, workspace, admin_user, twins, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customers:duplicates") + "?object=contacts")
    assert response.status_code == 302 and "job=" in response["Location"]
    assert DuplicateCandidate.objects.in_workspace(workspace).count() == 1
    page = client.get(response["Location"])
    assert page.status_code == 200 and "李雷" in page.content.decode()


def test_a_rep_without_the_bulk_right_cannot_scan(client, workspace, twins):
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    client.force_login(rep)
    assert client.post(reverse("customers:duplicates")).status_code == 403
    api = ApiClient(make_token(rep, scopes=["read", "write"]))
    assert_error(api.post("/duplicates/scan", {"objects": ["contacts"]}), 403)
    assert not Job.objects.in_workspace(workspace).exists()
    assert not DuplicateCandidate.objects.in_workspace(workspace).exists()


def test_a_scan_finds_nothing_of_another_workspace(workspace, other_admin, twins):
    api = ApiClient(make_token(other_admin))
    assert api.post("/duplicates/scan", {"objects": ["contacts"]}).status_code == 202
    assert not DuplicateCandidate.objects.in_workspace(workspace).exists()
    assert not Job.objects.in_workspace(workspace).exists()


def test_a_running_scan_is_not_started_twice(workspace, admin_user):
    first = Job.objects.create(
        workspace=workspace,
        owner=admin_user,
        kind="customers.dedupe_scan",
        state=JobState.RUNNING,
        params={"objects": ["customers.contact"]},
        idempotency_key="running-scan",
    )
    again = duplicate_scan_start(
        actor=admin_user, workspace=workspace, object_keys=["customers.contact"]
    )
    assert again.pk == first.pk


def test_a_rep_typing_another_reps_customer_is_told_who_owns_it(client, workspace):
    owner = UserFactory(workspace=workspace, role_code="sales_rep", full_name="李四")
    ContactFactory(workspace=workspace, name="王五", mobile="+8613700001111", owner=owner)
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    client.force_login(rep)
    url = reverse("customers:duplicate_check")
    warning = client.get(url, {"object_key": "customers.contact", "mobile": "137 0000 1111"})
    assert "李四" in warning.content.decode()
    assert "李四" not in client.get(url, {"mobile": "137 0000 2222"}).content.decode()
    assert "李四" not in client.get(url, {"mobile": "137 00"}).content.decode()
