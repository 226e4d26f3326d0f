"""The seeder: counts, planted duplicates and their file, owners, the demo workspace."""

import csv

import pytest

from guanxi.customers import demo, search
from guanxi.customers.models import Account, Contact, ContactTag
from guanxi.platform.models import User
from guanxi.platform.tests.factories import UserFactory


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.fixture
def reps(workspace):
    return [UserFactory(workspace=workspace, role_code="sales_rep") for _ in range(3)]


def test_seed_contacts_makes_the_count_and_the_duplicates_file(
    workspace, admin_user, reps, var_dir
):
    result = demo.seed_contacts(workspace=workspace, actor=admin_user, count=600, seed=7)
    contacts = Contact.objects.in_workspace(workspace)
    assert result["contacts"] == 600 == contacts.count()
    assert contacts.values("code").distinct().count() == 600
    path = demo.duplicates_path(workspace)
    assert path.parent == var_dir and path.name.endswith(f"-{workspace.pk}.csv")
    assert result["duplicates_file"] == str(path)
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == result["duplicates"]
    assert 10 <= len(rows) <= 60  # about 5%
    codes = set(contacts.values_list("code", flat=True))
    for row in rows:
        assert row["original_code"] in codes and row["duplicate_code"] in codes
        assert row["kind"]
    # Owners spread over the users, some in the pool; accounts for companies; tags.
    owners = set(contacts.values_list("owner_id", flat=True))
    assert None in owners and len(owners - {None}) >= 2
    assert contacts.filter(account__isnull=False).exists()
    assert Account.objects.in_workspace(workspace).exists()
    assert ContactTag.objects.in_workspace(workspace).exists()
    assert contacts.exclude(email="").exists() and contacts.exclude(mobile="").exists()
    assert contacts.filter(name__regex=r"^[A-Za-z]").exists()  # some English names
    # Search keys are filled: the seeded people are found.
    someone = contacts.exclude(name_initials="").first()
    found = search.search_contacts(workspace=workspace, actor=admin_user, term=someone.name)
    assert someone in found


def test_seed_contacts_again_adds_and_appends(workspace, admin_user, var_dir):
    demo.seed_contacts(workspace=workspace, actor=admin_user, count=100)
    second = demo.seed_contacts(workspace=workspace, actor=admin_user, count=100)
    assert Contact.objects.in_workspace(workspace).count() == 200
    with demo.duplicates_path(workspace).open(encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0] == "original_code,duplicate_code,kind"
    assert second["contacts"] == 100


def test_seed_contacts_stays_in_its_workspace(
    workspace, admin_user, other_workspace, other_admin, var_dir
):
    demo.seed_contacts(workspace=workspace, actor=admin_user, count=50)
    assert Contact.objects.in_workspace(other_workspace).count() == 0
    assert Account.objects.in_workspace(other_workspace).count() == 0


def test_id_numbers_are_well_formed():
    import random
    from datetime import date

    number = demo.id_number(random.Random(1), date(1990, 5, 17), male=True)
    assert len(number) == 18 and number[6:14] == "19900517"
    assert int(number[16]) % 2 == 1


def test_seed_demo(workspace, admin_user, reps, var_dir):
    users = list(User.objects.filter(workspace=workspace).select_related("role"))
    result = demo.seed_demo(workspace=workspace, users=users)
    contacts = Contact.objects.in_workspace(workspace)
    assert result["contacts"] == contacts.count() == 300
    owners = set(contacts.values_list("owner_id", flat=True))
    assert None in owners
    assert owners - {None} <= {u.pk for u in reps}
    assert len(set(contacts.values_list("lifecycle_stage", flat=True))) >= 4
    assert ContactTag.objects.in_workspace(workspace).exists()
    # Only once.
    assert demo.seed_demo(workspace=workspace, users=users) == {"contacts": 0}
    assert contacts.count() == 300


def test_large_seed_rebuilds_the_search_index(workspace, admin_user, var_dir, monkeypatch):
    from guanxi.customers.tests.factories import ContactFactory

    monkeypatch.setattr(demo, "REBUILD_ABOVE", 10)
    demo.seed_contacts(workspace=workspace, actor=admin_user, count=200)
    seeded = Contact.objects.in_workspace(workspace).exclude(company="").first()
    found = search.search_contacts(
        workspace=workspace, actor=admin_user, term=seeded.company, limit=500
    )
    assert seeded in found
    # The triggers are back: a contact written afterwards is found too.
    ContactFactory(workspace=workspace, code="T1", name="欧阳娜娜", company="北京某某科技")
    found = search.search_contacts(workspace=workspace, actor=admin_user, term="某某科技")
    assert [c.name for c in found] == ["欧阳娜娜"]
