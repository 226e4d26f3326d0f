"""The importer: files in every encoding, header matching, bad rows, duplicates, resume."""

import csv
import datetime as dt

import pytest
from openpyxl import Workbook

from guanxi.common.errors import ApplicationError, PermissionDenied
from guanxi.customers.importing import reader, runner
from guanxi.customers.models import Account, Contact, ImportRun
from guanxi.customers.services import imports
from guanxi.customers.tests.factories import ContactFactory
from guanxi.platform.models import AuditEntry, CustomField, FieldType
from guanxi.platform.tests.factories import UserFactory

HEADER = [
    "code", "name", "first_name", "last_name", "company", "title", "phone", "mobile", "email",
    "address", "city", "province", "postal_code", "country", "birthday", "gender", "id_number",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _import_dir(tmp_path, settings):
    settings.IMPORT_DIR = tmp_path / "imports"


def write_csv(path, rows, *, encoding="utf-8", delimiter=","):
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        for row in rows:
            writer.writerow(row)
    return path


def contact_row(n, **over):
    row = {
        "code": "",
        "name": f"张三{n}",
        "mobile": f"1381234{n:04d}",
        "email": f"u{n}@example.com",
        "city": "上海",
        "birthday": "1990-01-02",
        "gender": "男",
    }
    row.update(over)
    return row


def rows_of(dicts, header=None):
    header = header or list(dicts[0])
    return [header] + [[d.get(h, "") for h in header] for d in dicts]


def run_import(actor, path, object_key="contacts", **options):
    run = imports.import_upload_path(
        actor=actor, workspace=actor.workspace, object_key=object_key, path=path
    )
    run = imports.import_start(
        actor=actor, workspace=actor.workspace, run_id=run.pk, background=False, **options
    )
    return runner.import_run_execute(run=run)


def report(run):
    with open(run.error_path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


ROWS = [
    ["姓名", "手机号", "电子邮件", "地址"],
    ["张三", "13812345678", "a@b.cn", "上海市人民路1号"],
    ["欧阳娜娜", "13912345678", "", "北京"],
]


@pytest.mark.parametrize(
    "encoding,expected",
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_encodings_are_detected(tmp_path, admin_user, encoding, expected):
    rows = [*ROWS, ["𠀀奇", "", "c@d.cn", ""]] if encoding == "gb18030" else ROWS
    path = write_csv(tmp_path / "c.csv", rows, encoding=encoding)
    table = reader.open_table(path)
    assert table.encoding == expected
    run = run_import(admin_user, path)
    assert run.encoding == expected
    assert run.failed == 0
    zhang = Contact.objects.across_workspaces().get(workspace=admin_user.workspace, name="张三")
    assert zhang.mobile == "+8613812345678"
    assert zhang.street == "上海市人民路1号"
    assert zhang.owner == admin_user and zhang.created_by == admin_user
    assert zhang.source == "import"
    assert zhang.code.startswith("C")
    assert zhang.name_pinyin == "zhangsan"
    ouyang = Contact.objects.across_workspaces().get(
        workspace=admin_user.workspace, name="欧阳娜娜"
    )
    assert ouyang.last_name == "欧阳"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_sniffed(tmp_path, admin_user, delimiter):
    path = write_csv(
        tmp_path / "c.csv",
        rows_of([contact_row(1), contact_row(2, city="北京; 朝阳")]),
        delimiter=delimiter,
    )
    assert reader.open_table(path).delimiter == delimiter
    run = run_import(admin_user, path)
    assert run.created == 2


def test_field_name_headers_need_no_mapping(tmp_path, admin_user):
    values = [
        "K1", "", "三", "张", "某某科技有限公司", "经理", "021-61234567", "13812345678",
        "Z@X.CN", "人民路1号", "上海", "上海", "200000", "CN", "1990/1/2", "male",
        "110101199001021234",
    ]  # fmt: skip
    row = dict(zip(HEADER, values, strict=True))
    path = write_csv(tmp_path / "c.csv", rows_of([row], HEADER))
    run = run_import(admin_user, path)
    assert run.created == 1 and run.failed == 0
    c = Contact.objects.across_workspaces().get(code="K1")
    assert (c.name, c.company, c.title, c.phone, c.email) == (
        "张三", "某某科技有限公司", "经理", "+862161234567", "z@x.cn"
    )  # fmt: skip
    assert (c.street, c.postal_code, c.birthday, c.gender) == (
        "人民路1号", "200000", dt.date(1990, 1, 2), "male"
    )  # fmt: skip


def test_xlsx_with_dates_numbers_and_custom_field(tmp_path, admin_user):
    CustomField.objects.create(
        workspace=admin_user.workspace,
        object_key="customers.contact",
        key="vip_level",
        label="VIP等级",
        field_type=FieldType.NUMBER,
    )
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机", "生日", "邮编", "VIP等级"])
    sheet.append(["李四", 13812345678, dt.datetime(1985, 5, 6), 200000, 3])
    sheet.append(["王五", "13912345678", 45293, "", "x"])
    path = tmp_path / "c.xlsx"
    book.save(path)
    run = run_import(admin_user, path)
    assert run.encoding == "xlsx"
    # The bad custom number is left empty (a warning), the row imported.
    assert (run.created, run.failed, run.warnings) == (2, 0, 1)
    wang = Contact.objects.across_workspaces().get(name="王五")
    assert wang.birthday == dt.date(2024, 1, 2) and not wang.custom.get("vip_level")
    assert report(run) == [
        {
            "row": "3",
            "column": "VIP等级",
            "value": "x",
            "message": "value left empty: Enter a number.",
            "kind": "warning",
        }
    ]
    Contact.objects.across_workspaces().all().delete()
    run = run_import(admin_user, path, strict=True)
    assert (run.created, run.failed) == (1, 1)
    li = Contact.objects.across_workspaces().get(name="李四")
    assert li.birthday == dt.date(1985, 5, 6)
    assert li.mobile == "+8613812345678"
    assert li.postal_code == "200000"
    assert li.custom == {"vip_level": 3}
    lines = report(run)
    assert lines == [
        {
            "row": "3",
            "column": "VIP等级",
            "value": "x",
            "message": "Enter a number.",
            "kind": "error",
        }
    ]


def test_bad_rows_are_reported_and_not_half_written(tmp_path, admin_user):
    dicts = [
        contact_row(1, code="K1"),
        contact_row(2, birthday="2023-02-30"),
        contact_row(3, mobile="12"),
        contact_row(4, name="名" * 201),
        contact_row(5, code="K1"),
        contact_row(6),
    ]
    path = write_csv(tmp_path / "c.csv", rows_of(dicts))
    run = run_import(admin_user, path, on_duplicate="create", strict=True)
    assert (run.created, run.failed, run.skipped) == (2, 4, 0)
    assert Contact.objects.across_workspaces().filter(workspace=admin_user.workspace).count() == 2
    lines = {(r["row"], r["column"]) for r in report(run)}
    assert lines == {("3", "birthday"), ("4", "mobile"), ("5", "name"), ("6", "code")}
    assert run.rows_done == 6 and run.finished_at is not None


def test_policy_skip_update_create(tmp_path, admin_user):
    ws = admin_user.workspace
    existing = ContactFactory(workspace=ws, name="老张", mobile="+8613812340001", city="北京")
    path = write_csv(tmp_path / "c.csv", rows_of([contact_row(1), contact_row(2)]))

    run = run_import(admin_user, path, on_duplicate="skip")
    assert (run.created, run.skipped) == (1, 1)
    assert report(run)[0]["column"] == "mobile"
    existing.refresh_from_db()
    assert existing.city == "北京"

    run = run_import(admin_user, path, on_duplicate="update")
    assert (run.created, run.updated) == (0, 2)
    existing.refresh_from_db()
    assert (existing.city, existing.name, existing.email) == ("上海", "张三1", "u1@example.com")
    assert existing.name_pinyin == "zhangsan"

    run = run_import(admin_user, path, on_duplicate="create")
    assert run.created == 2
    assert Contact.objects.across_workspaces().filter(workspace=ws).count() == 4


def test_duplicates_within_the_file(tmp_path, admin_user):
    dicts = [contact_row(1), contact_row(2, mobile="13812340001", city="广州")]
    path = write_csv(tmp_path / "c.csv", rows_of(dicts))
    run = run_import(admin_user, path, on_duplicate="skip")
    assert (run.created, run.skipped) == (1, 1)
    assert report(run)[0]["message"].startswith("Repeats an earlier row")
    path2 = write_csv(
        tmp_path / "d.csv",
        rows_of([contact_row(7), contact_row(8, mobile="13812340007", city="广州")]),
    )
    run = run_import(admin_user, path2, on_duplicate="update")
    assert (run.created, run.updated) == (1, 1)
    assert Contact.objects.across_workspaces().get(mobile="+8613812340007").city == "广州"


def test_resume_after_a_crash_makes_no_double_rows(tmp_path, admin_user, monkeypatch):
    monkeypatch.setattr(runner, "BATCH", 3)
    dicts = [contact_row(n) for n in range(1, 11)] + [contact_row(11, mobile="1")]
    path = write_csv(tmp_path / "c.csv", rows_of(dicts))
    run = imports.import_upload_path(
        actor=admin_user, workspace=admin_user.workspace, object_key="contacts", path=path
    )
    run = imports.import_start(
        actor=admin_user, workspace=admin_user.workspace, run_id=run.pk, background=False,
        strict=True,
    )  # fmt: skip

    def crash(r):
        if r.rows_done >= 6:
            raise RuntimeError("worker died")

    monkeypatch.setattr(runner, "after_batch", crash)
    with pytest.raises(RuntimeError):
        runner.import_run_execute(run=ImportRun.objects.across_workspaces().get(pk=run.pk))
    stored = ImportRun.objects.across_workspaces().get(pk=run.pk)
    assert (stored.rows_done, stored.created) == (6, 6)
    assert Contact.objects.across_workspaces().count() == 6
    monkeypatch.setattr(runner, "after_batch", None)
    done = runner.import_run_execute(run=ImportRun.objects.across_workspaces().get(pk=run.pk))
    assert (done.rows_done, done.created, done.failed) == (11, 10, 1)
    assert Contact.objects.across_workspaces().count() == 10
    assert len(set(Contact.objects.across_workspaces().values_list("mobile", flat=True))) == 10
    assert [r["row"] for r in report(done)] == ["12"]
    assert (
        AuditEntry.objects.across_workspaces()
        .filter(workspace=admin_user.workspace, object_key="customers.contact")
        .count()
        == 1
    )


def test_dry_run_writes_nothing_and_reports_the_same(tmp_path, admin_user):
    dicts = [contact_row(1), contact_row(2, birthday="bad"), contact_row(3, mobile="13812340001")]
    path = write_csv(tmp_path / "c.csv", rows_of(dicts))
    run = run_import(admin_user, path, dry_run=True, on_duplicate="skip", strict=True)
    assert (run.created, run.failed, run.skipped) == (1, 1, 1)
    assert Contact.objects.across_workspaces().count() == 0
    assert len(report(run)) == 2


def test_mapping_chosen_by_the_user(tmp_path, admin_user):
    path = write_csv(
        tmp_path / "c.csv", [["Who", "Handy", "Ignored"], ["张三", "13812345678", "x"]]
    )
    run = imports.import_upload_path(
        actor=admin_user, workspace=admin_user.workspace, object_key="contacts", path=path
    )
    assert run.mapping == {"Who": "", "Handy": "", "Ignored": ""}
    with pytest.raises(ApplicationError):
        imports.import_start(
            actor=admin_user, workspace=admin_user.workspace, run_id=run.pk, background=False
        )
    with pytest.raises(ApplicationError):
        imports.import_start(
            actor=admin_user, workspace=admin_user.workspace, run_id=run.pk, background=False,
            mapping={"Who": "mobile", "Handy": "mobile"},
        )  # fmt: skip
    imports.import_start(
        actor=admin_user, workspace=admin_user.workspace, run_id=run.pk, background=False,
        mapping={"Who": "name", "Handy": "mobile"},
    )  # fmt: skip
    done = runner.import_run_execute(run=ImportRun.objects.across_workspaces().get(pk=run.pk))
    assert done.created == 1
    saved = imports.import_mapping_save(
        actor=admin_user, workspace=admin_user.workspace, object_key="contacts", name="CRM export",
        mapping={"Who": "name", "Handy": "mobile"},
    )  # fmt: skip
    assert list(
        imports.import_mappings(actor=admin_user, workspace=admin_user.workspace, object_key="contacts")
    ) == [saved]  # fmt: skip


def test_accounts_match_on_name_core_and_tax_number(tmp_path, admin_user):
    path = write_csv(
        tmp_path / "a.csv",
        [["公司名称", "税号", "员工人数"], ["上海华为技术有限公司", "9131", "10"],
         ["上海華為技術", "", "20"], ["Acme Co., Ltd.", "X1", "abc"]],
    )  # fmt: skip
    run = run_import(admin_user, path, object_key="accounts", on_duplicate="skip", strict=True)
    assert (run.created, run.skipped, run.failed) == (1, 1, 1)
    account = Account.objects.across_workspaces().get()
    assert account.name_core == "上海华为技术" and account.employees == 10


def test_malformed_files_get_a_clear_message(tmp_path, admin_user):
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\x00\x01\x02binary")
    fake = tmp_path / "f.xlsx"
    fake.write_bytes(b"PK\x03\x04not really a zip")
    for path in (empty, binary):
        with pytest.raises(ApplicationError):
            run_import(admin_user, path)
    with pytest.raises(ApplicationError):
        reader.open_table(fake)
    assert ImportRun.objects.across_workspaces().count() == 0


def test_rights_are_required(tmp_path, workspace):
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    path = write_csv(tmp_path / "c.csv", rows_of([contact_row(1)]))
    from guanxi.platform.models import Role

    role = rep.role
    role.rights = {**role.rights, "customers.contact": {"actions": ["read"], "visibility": "own"}}
    role.save()
    rep = type(rep).objects.get(pk=rep.pk)
    with pytest.raises(PermissionDenied):
        run_import(rep, path)
    assert Role.objects.across_workspaces().filter(pk=role.pk).exists()
    assert Contact.objects.across_workspaces().count() == 0


def test_update_policy_needs_the_update_right(tmp_path, workspace):
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    role = rep.role
    role.rights = {**role.rights, "customers.contact": {"actions": ["read", "create"], "visibility": "own"}}  # fmt: skip
    role.save()
    rep = type(rep).objects.get(pk=rep.pk)
    path = write_csv(tmp_path / "c.csv", rows_of([contact_row(1)]))
    run = run_import(rep, path)
    assert run.created == 1
    with pytest.raises(PermissionDenied):
        run_import(rep, path, on_duplicate="update")


def test_pool_owner(tmp_path, admin_user):
    path = write_csv(tmp_path / "c.csv", rows_of([contact_row(1)]))
    run_import(admin_user, path, owner="pool")
    assert Contact.objects.across_workspaces().get().owner_id is None


def test_imported_contacts_are_found_by_search(tmp_path, admin_user):
    from guanxi.customers.search import search_contacts

    path = write_csv(tmp_path / "c.csv", rows_of([contact_row(1), contact_row(2, name="李四")]))
    run_import(admin_user, path)
    ws = admin_user.workspace
    found = search_contacts(workspace=ws, actor=admin_user, term="李四", limit=10)
    assert [c.name for c in found] == ["李四"]
    found = search_contacts(workspace=ws, actor=admin_user, term="13812340001", limit=10)
    assert [c.name for c in found] == ["张三1"]
    # The search index trigger is back after the batch.
    from guanxi.customers.tests.factories import ContactFactory as Factory

    Factory(workspace=ws, name="王五", code="X1")
    assert search_contacts(workspace=ws, actor=admin_user, term="王五", limit=10)


def test_chosen_owner(tmp_path, admin_user, other_admin):
    rep = UserFactory(workspace=admin_user.workspace, role_code="sales_rep")
    path = write_csv(tmp_path / "c.csv", rows_of([contact_row(1)]))
    run_import(admin_user, path, owner=rep.pk)
    assert Contact.objects.across_workspaces().get().owner == rep
    with pytest.raises(ApplicationError):
        run_import(admin_user, path, owner=other_admin.pk)  # another workspace's user


def test_generated_codes_skip_codes_the_workspace_already_has(tmp_path, admin_user):
    ws = admin_user.workspace
    ContactFactory(workspace=ws, code="C000002", name="已有")
    path = write_csv(tmp_path / "c.csv", rows_of([contact_row(n) for n in range(1, 4)]))
    run = run_import(admin_user, path)
    assert run.created == 3
    codes = set(Contact.objects.in_workspace(ws).values_list("code", flat=True))
    assert len(codes) == 4 and "C000002" in codes


def test_the_sweeper_resumes_a_run_whose_worker_died(
    tmp_path, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from guanxi.platform import jobs
    from guanxi.platform.models import Job, JobState

    monkeypatch.setattr(runner, "BATCH", 2)
    path = write_csv(tmp_path / "c.csv", rows_of([contact_row(n) for n in range(1, 8)]))
    run = imports.import_upload_path(
        actor=admin_user, workspace=admin_user.workspace, object_key="contacts", path=path
    )

    class WorkerDied(BaseException):  # not an Exception: the handler's error path never sees it
        pass

    def die(r):
        if r.rows_done >= 4:
            raise WorkerDied()

    monkeypatch.setattr(runner, "after_batch", die)
    with pytest.raises(WorkerDied), django_capture_on_commit_callbacks(execute=True):
        imports.import_start(actor=admin_user, workspace=admin_user.workspace, run_id=run.pk)
    run.refresh_from_db()
    job = Job.objects.in_workspace(admin_user.workspace).get(pk=run.job_id)
    assert job.state == JobState.RUNNING and run.rows_done == 4
    monkeypatch.setattr(runner, "after_batch", None)
    with django_capture_on_commit_callbacks(execute=True):
        requeued = jobs.sweep_stuck_jobs(now=timezone.now() + timedelta(minutes=10))
    assert requeued == [job.pk]
    job.refresh_from_db()
    run.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    assert (run.rows_done, run.created) == (7, 7)
    assert Contact.objects.in_workspace(admin_user.workspace).count() == 7
