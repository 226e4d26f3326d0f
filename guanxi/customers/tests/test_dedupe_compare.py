"""The compare page and the record's "possible duplicates" panel: defaults, swap, merge with
chosen values, dismiss, on-the-fly pairs, other workspaces and rights."""

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.customers.models import CandidateStatus, Contact, DuplicateCandidate
from guanxi.platform.models import CustomField
from guanxi.platform.tests.factories import UserFactory

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db
BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def pair(workspace):
    old = ContactFactory(
        workspace=workspace,
        name="张三",
        mobile="+8613812345678",
        email="",
        city="上海",
        code="C1",
        custom={"vip": "gold"},
    )
    new = ContactFactory(
        workspace=workspace,
        name="張三",
        mobile="+8613812345678",
        email="zs@example.com",
        city="北京",
        code="C2",
        custom={"vip": "silver"},
    )
    Contact.objects.in_workspace(workspace).filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=3)
    )
    cand = DuplicateCandidate.objects.create(
        workspace=workspace,
        object_key="customers.contact",
        left_id=old.pk,
        right_id=new.pk,
        score=0.9,
        reasons=["same_mobile"],
    )
    CustomField.objects.create(
        workspace=workspace,
        object_key="customers.contact",
        key="vip",
        label="VIP level",
        field_type="text",
    )
    return old, new, cand


def login(client, user):
    client.force_login(user, backend=BACKEND)
    return client


def test_compare_defaults_and_swap(client, admin_user, workspace, pair):
    old, new, cand = pair
    login(client, admin_user)
    r = client.get(f"/customers/duplicates/{cand.pk}/")
    assert r.status_code == 200
    ctx = r.context
    assert ctx["survivor"].pk == old.pk  # the older record stays by default
    rows = {row["name"]: row for row in ctx["rows"]}
    assert rows["city"]["differs"] and rows["city"]["choice"] == "survivor"
    assert rows["email"]["differs"] and rows["email"]["choice"] == "merged"  # survivor's empty
    assert not rows["mobile"]["differs"]
    assert rows["custom.vip"]["differs"] and rows["custom.vip"]["survivor"] == "gold"
    html = r.content.decode()
    assert 'name="choice:city"' in html and "VIP level" in html and "zs@example.com" in html
    r = client.get(f"/customers/duplicates/{cand.pk}/", {"survivor": new.pk})
    assert r.context["survivor"].pk == new.pk
    rows = {row["name"]: row for row in r.context["rows"]}
    assert rows["email"]["choice"] == "survivor"
    # The list links every pair to the compare page.
    assert (
        f"/customers/duplicates/{cand.pk}/" in client.get("/customers/duplicates/").content.decode()
    )


def test_compare_merge_with_choices(client, admin_user, workspace, pair):
    old, new, cand = pair
    login(client, admin_user)
    r = client.post(
        f"/customers/duplicates/{cand.pk}/",
        {
            "survivor": old.pk,
            "action": "merge",
            "choice:city": "merged",
            "choice:email": "merged",
            "choice:custom.vip": "merged",
        },
    )
    assert r.status_code == 302 and r["Location"].endswith(f"/customers/contacts/{old.pk}/")
    old.refresh_from_db()
    assert old.city == "北京" and old.email == "zs@example.com" and old.custom["vip"] == "silver"
    assert not Contact.objects.in_workspace(workspace).filter(pk=new.pk).exists()
    cand.refresh_from_db()
    assert cand.status == CandidateStatus.MERGED


def test_compare_merge_swapped_keeps_survivor_values(client, admin_user, workspace, pair):
    old, new, cand = pair
    login(client, admin_user)
    r = client.post(f"/customers/duplicates/{cand.pk}/", {"survivor": new.pk, "action": "merge"})
    assert r.status_code == 302
    new.refresh_from_db()
    assert (
        new.city == "北京"
        and not Contact.objects.in_workspace(workspace).filter(pk=old.pk).exists()
    )


def test_compare_dismiss(client, admin_user, workspace, pair):
    _old, _new, cand = pair
    login(client, admin_user)
    r = client.post(f"/customers/duplicates/{cand.pk}/", {"action": "dismiss"})
    assert r.status_code == 302
    cand.refresh_from_db()
    assert cand.status == CandidateStatus.DISMISSED
    assert Contact.objects.in_workspace(workspace).count() == 2


def test_compare_other_workspace_and_rights(client, workspace, other_admin, pair):
    old, new, cand = pair
    login(client, other_admin)
    assert client.get(f"/customers/duplicates/{cand.pk}/").status_code == 404
    r = client.post(f"/customers/duplicates/{cand.pk}/", {"action": "merge"})
    assert r.status_code == 404 and Contact.objects.in_workspace(workspace).count() == 2
    reader = UserFactory(workspace=workspace, role_code="read_only")
    login(client, reader)
    r = client.get(f"/customers/duplicates/{cand.pk}/")
    if r.status_code == 200:
        assert 'value="merge"' not in r.content.decode()
    r = client.post(f"/customers/duplicates/{cand.pk}/", {"action": "merge"})
    assert Contact.objects.in_workspace(workspace).count() == 2
    r = client.post(f"/customers/duplicates/{cand.pk}/", {"action": "dismiss"})
    cand.refresh_from_db()
    assert cand.status == CandidateStatus.OPEN
    # A rep who cannot see one of the records gets "not found".
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    Contact.objects.in_workspace(workspace).filter(pk=old.pk).update(owner=rep)
    Contact.objects.in_workspace(workspace).filter(pk=new.pk).update(
        owner=UserFactory(workspace=workspace)
    )
    login(client, rep)
    assert client.get(f"/customers/duplicates/{cand.pk}/").status_code == 404


def test_compare_bad_input(client, admin_user, workspace, pair):
    _old, _new, cand = pair
    login(client, admin_user)
    assert client.get("/customers/duplicates/999999/").status_code == 404
    r = client.get(f"/customers/duplicates/{cand.pk}/", {"survivor": "x"})
    assert r.status_code == 200
    r = client.post(
        f"/customers/duplicates/{cand.pk}/", {"action": "merge", "choice:city": "bogus"}
    )
    assert r.status_code == 302  # an unknown value keeps the survivor's
    assert Contact.objects.in_workspace(workspace).count() == 1


def test_panel_lists_open_pairs_and_matches(client, admin_user, workspace, pair):
    old, _new, cand = pair
    third = ContactFactory(workspace=workspace, name="张三", mobile="+8613812345678", code="C3")
    login(client, admin_user)
    r = client.get(f"/customers/duplicates/of/contact/{old.pk}/")
    html = r.content.decode()
    assert r.status_code == 200
    assert f"/customers/duplicates/{cand.pk}/" in html and "C2" in html and "C3" in html
    # No candidate row is written by reading the panel.
    assert DuplicateCandidate.objects.in_workspace(workspace).count() == 1
    r = client.post(f"/customers/duplicates/of/contact/{old.pk}/", {"other": third.pk})
    made = DuplicateCandidate.objects.in_workspace(workspace).get(left_id=old.pk, right_id=third.pk)
    assert r.status_code == 302 and r["Location"] == f"/customers/duplicates/{made.pk}/"
    # Again: the same row.
    client.post(f"/customers/duplicates/of/contact/{old.pk}/", {"other": third.pk})
    assert DuplicateCandidate.objects.in_workspace(workspace).count() == 2


def test_panel_empty_renders_nothing_visible(client, admin_user, workspace):
    lonely = ContactFactory(workspace=workspace, name="王五", code="C9")
    acct = AccountFactory(workspace=workspace, name="独一无二有限公司")
    login(client, admin_user)
    for url in (
        f"/customers/duplicates/of/contact/{lonely.pk}/",
        f"/customers/duplicates/of/account/{acct.pk}/",
    ):
        r = client.get(url)
        assert r.status_code == 200 and "duplicates-none" in r.content.decode()
    assert client.get(f"/customers/duplicates/of/deal/{lonely.pk}/").status_code == 404


def test_panel_other_workspace_and_rights(client, workspace, other_admin, pair):
    old, new, _cand = pair
    login(client, other_admin)
    assert client.get(f"/customers/duplicates/of/contact/{old.pk}/").status_code == 404
    assert (
        client.post(f"/customers/duplicates/of/contact/{old.pk}/", {"other": new.pk}).status_code
        == 404
    )
    reader = UserFactory(workspace=workspace, role_code="read_only")
    login(client, reader)
    r = client.post(f"/customers/duplicates/of/contact/{old.pk}/", {"other": new.pk})
    assert r.status_code in (403, 404)
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    Contact.objects.in_workspace(workspace).filter(pk=old.pk).update(owner=rep)
    Contact.objects.in_workspace(workspace).filter(pk=new.pk).update(
        owner=UserFactory(workspace=workspace)
    )
    login(client, rep)
    html = client.get(f"/customers/duplicates/of/contact/{old.pk}/").content.decode()
    assert "C2" not in html  # a record the rep cannot see is not offered


def test_a_read_only_user_sees_the_pair_but_no_merge_and_is_refused(client, workspace, pair):
    _old, _new, cand = pair
    login(client, UserFactory(workspace=workspace, role_code="read_only"))
    page = client.get(f"/customers/duplicates/{cand.pk}/")
    assert page.status_code == 200 and 'value="merge"' not in page.content.decode()
    assert client.post(f"/customers/duplicates/{cand.pk}/", {"action": "merge"}).status_code == 403
    assert (
        client.post(f"/customers/duplicates/{cand.pk}/", {"action": "dismiss"}).status_code == 403
    )
