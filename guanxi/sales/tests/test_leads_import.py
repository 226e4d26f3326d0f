"""Importing leads: CSV in GBK or UTF-8 and XLSX, columns by English or Chinese headers,
all or nothing (every row error reported, nothing written), run as a platform job."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanxi.common.errors import ApplicationError, PermissionDenied
from guanxi.platform import jobs
from guanxi.platform.models import Job
from guanxi.platform.tests.factories import UserFactory
from guanxi.sales.models import Lead
from guanxi.sales.services import lead_import

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _import_dir(settings, tmp_path):
    settings.IMPORT_DIR = tmp_path / "imports"


def start(actor, content: bytes, name="leads.csv", **kwargs):
    return lead_import.lead_import_start(
        actor=actor, workspace=actor.workspace, file_name=name, chunks=[content], **kwargs
    )


def run(job) -> Job:
    jobs.run_job(job.pk)
    return Job.objects.in_workspace(job.workspace_id).get(pk=job.pk)


def test_gbk_csv_with_chinese_headers(workspace, admin_user):
    text = "姓名,公司,手机,邮箱,行业,人数,省份\n张三,甲公司,13812345678,,制造业,300,江苏\n李四,乙公司,,LI@EXAMPLE.COM,零售,,广东\n"
    job = run(start(admin_user, text.encode("gbk"), campaign="展会"))
    assert job.state == "succeeded", job.error
    assert job.result["created"] == 2
    rows = {lead.name: lead for lead in Lead.objects.in_workspace(workspace)}
    assert rows["张三"].phone == "+8613812345678" and rows["张三"].employees == 300
    assert rows["李四"].email == "li@example.com" and rows["李四"].employees is None
    assert {lead.source for lead in rows.values()} == {"import"}
    assert {lead.campaign for lead in rows.values()} == {"展会"}


def test_one_bad_row_and_nothing_is_imported(workspace, admin_user):
    admin_user.language = "en"  # the job speaks its owner's language
    admin_user.save(update_fields=["language"])
    text = (
        "name,phone,email,employees\n"
        "Good,13812345678,,\n"
        ",13812345679,,\n"  # row 3: no name
        "Bad Mail,,not-mail,\n"  # row 4: e-mail
        "Bad Size,13812345670,,many\n"  # row 5: employees
    )
    job = run(start(admin_user, text.encode()))
    assert job.state == "failed"
    assert "3 rows have errors" in job.error
    for fragment in ("row 3, name", "row 4, email", "row 5, employees"):
        assert fragment in job.error
    assert not Lead.objects.in_workspace(workspace).exists()


def test_xlsx(workspace, admin_user):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Name", "Company", "Mobile", "Employees"])
    sheet.append(["王五", "丙公司", "13712345678", 50])
    buffer = io.BytesIO()
    book.save(buffer)
    job = run(start(admin_user, buffer.getvalue(), name="leads.xlsx"))
    assert job.state == "succeeded", job.error
    lead = Lead.objects.in_workspace(workspace).get()
    assert (lead.company, lead.employees) == ("丙公司", 50)


def test_file_checks_and_rights(workspace):
    rep = UserFactory(workspace=workspace)
    with pytest.raises(ApplicationError) as err:
        start(rep, b"company,phone\nA,13812345678\n")
    assert err.value.code == "no_name_column"
    with pytest.raises(ApplicationError):
        start(rep, b"")
    technician = UserFactory(workspace=workspace, role_code="technician")
    with pytest.raises(PermissionDenied):
        start(technician, b"name\nA\n")


def test_import_page_starts_the_job(workspace, admin_user, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(admin_user)
    upload = SimpleUploadedFile("l.csv", "name,email\n赵六,z@example.com\n".encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/sales/leads/import/", {"file": upload})
    assert response.status_code == 200
    assert "job-progress" in response.content.decode()
    assert Lead.objects.in_workspace(workspace).filter(name="赵六").exists()
