"""Merging contacts and accounts: values, moved rows, audit trail, refusals."""

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.customers.models import (
    AccountContact,
    CandidateStatus,
    Consent,
    ConsentEvent,
    Contact,
    ContactPoint,
    ContactTag,
    DuplicateCandidate,
    Merge,
    StageChange,
    Tag,
)
from guanxi.customers.services import merge
from guanxi.platform.models import AuditEntry
from guanxi.platform.tests.factories import UserFactory

from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db


def _consent(ws, contact, status, when):
    Consent.objects.create(
        workspace=ws,
        contact=contact,
        channel="sms",
        purpose="marketing",
        status=status,
        method="web_form",
        effective_at=when,
    )
    ConsentEvent.objects.create(
        workspace=ws,
        contact=contact,
        channel="sms",
        purpose="marketing",
        status=status,
        method="web_form",
        effective_at=when,
    )


def test_contact_merge_moves_everything_and_audits(workspace, admin_user):
    ws = workspace
    acc = AccountFactory(workspace=ws)
    keep = ContactFactory(workspace=ws, name="张三", mobile="+8613812345678", code="C1")
    gone = ContactFactory(workspace=ws, name="張三", email="zs@example.com", title="CEO", code="C2")
    tag1 = Tag.objects.create(workspace=ws, name="VIP")
    tag2 = Tag.objects.create(workspace=ws, name="Expo")
    ContactTag.objects.create(workspace=ws, contact=keep, tag=tag1)
    ContactTag.objects.create(workspace=ws, contact=gone, tag=tag1)
    ContactTag.objects.create(workspace=ws, contact=gone, tag=tag2)
    ContactPoint.objects.create(workspace=ws, contact=gone, kind="phone", value="+8613812345678")
    ContactPoint.objects.create(workspace=ws, contact=gone, kind="phone", value="+8613900000000")
    AccountContact.objects.create(workspace=ws, account=acc, contact=gone)
    StageChange.objects.create(workspace=ws, contact=gone, kind="lifecycle", to_stage="new")
    now = timezone.now()
    _consent(ws, keep, "granted", now - dt.timedelta(days=3))
    _consent(ws, gone, "withdrawn", now)
    third = ContactFactory(workspace=ws, name="Other")
    DuplicateCandidate.objects.create(
        workspace=ws, object_key="customers.contact", left_id=keep.pk, right_id=gone.pk, score=0.9
    )
    DuplicateCandidate.objects.create(
        workspace=ws, object_key="customers.contact", left_id=gone.pk, right_id=third.pk, score=0.6
    )

    survivor = merge.contact_merge(
        actor=admin_user,
        workspace=ws,
        survivor_id=keep.pk,
        merged_id=gone.pk,
        choices={"email": "merged", "title": "merged", "name": "survivor"},
    )

    assert not Contact.objects.in_workspace(ws).filter(pk=gone.pk).exists()
    survivor.refresh_from_db()
    assert (survivor.name, survivor.email, survivor.title) == ("张三", "zs@example.com", "CEO")
    assert "zs@example.com" in survivor.search_text
    assert set(
        ContactTag.objects.in_workspace(ws).filter(contact=keep).values_list("tag__name", flat=True)
    ) == {"VIP", "Expo"}
    # The same phone as the survivor's mobile is dropped, the other moves.
    assert list(
        ContactPoint.objects.in_workspace(ws).filter(contact=keep).values_list("value", flat=True)
    ) == ["+8613900000000"]
    assert AccountContact.objects.in_workspace(ws).filter(contact=keep, account=acc).exists()
    assert StageChange.objects.in_workspace(ws).filter(contact=keep).count() == 1
    # The newest consent wins; the whole history moves.
    assert Consent.objects.in_workspace(ws).get(contact=keep).status == "withdrawn"
    assert ConsentEvent.objects.in_workspace(ws).filter(contact=keep).count() == 2
    cands = DuplicateCandidate.objects.in_workspace(ws)
    assert list(cands.values_list("status", flat=True)) == [CandidateStatus.MERGED]
    m = Merge.objects.in_workspace(ws).get()
    assert (m.survivor_id, m.merged_id, m.merged_code) == (keep.pk, gone.pk, "C2")
    assert m.snapshot["title"] == "CEO" and m.moved["tags"] == 1
    entries = AuditEntry.objects.in_workspace(ws).filter(object_key="customers.contact")
    assert entries.filter(action="delete", object_id=str(gone.pk)).exists()
    assert entries.filter(action="update", object_id=str(keep.pk)).exists()


def test_account_merge_moves_contacts_and_branches(workspace, admin_user):
    ws = workspace
    keep = AccountFactory(workspace=ws, name="上海华为技术有限公司")
    gone = AccountFactory(workspace=ws, name="上海華為技術股份有限公司")
    branch = AccountFactory(workspace=ws, parent=gone)
    person = ContactFactory(workspace=ws, account=gone)
    merge.account_merge(
        actor=admin_user, workspace=ws, survivor_id=keep.pk, merged_id=gone.pk, choices={}
    )
    person.refresh_from_db()
    branch.refresh_from_db()
    assert person.account_id == keep.pk and branch.parent_id == keep.pk


def test_refusals(workspace, admin_user, other_workspace, other_admin):
    a = ContactFactory(workspace=workspace)
    b = ContactFactory(workspace=workspace)
    foreign = ContactFactory(workspace=other_workspace)
    with pytest.raises(NotFound):
        merge.contact_merge(
            actor=admin_user, workspace=workspace, survivor_id=a.pk, merged_id=foreign.pk
        )
    with pytest.raises(NotFound):
        merge.contact_merge(
            actor=other_admin, workspace=other_workspace, survivor_id=foreign.pk, merged_id=a.pk
        )
    with pytest.raises(ApplicationError):
        merge.contact_merge(actor=admin_user, workspace=workspace, survivor_id=a.pk, merged_id=a.pk)
    with pytest.raises(ApplicationError):
        merge.contact_merge(
            actor=admin_user,
            workspace=workspace,
            survivor_id=a.pk,
            merged_id=b.pk,
            choices={"code": "merged"},
        )
    rep = UserFactory(workspace=workspace, role_code="sales_rep")
    a.owner = rep
    a.save()
    b.owner = rep
    b.save()
    with pytest.raises(PermissionDenied):
        merge.contact_merge(actor=rep, workspace=workspace, survivor_id=a.pk, merged_id=b.pk)
    assert Contact.objects.in_workspace(workspace).count() == 2
    assert not Merge.objects.in_workspace(workspace).exists()


def test_register_mover_runs_in_merges(workspace, admin_user):
    seen = []

    def mover(*, workspace, survivor, merged):
        seen.append((survivor.pk, merged.pk))
        return 1

    merge.register_mover("customers.contact", mover, name="test_mover")
    try:
        a = ContactFactory(workspace=workspace)
        b = ContactFactory(workspace=workspace)
        merge.contact_merge(actor=admin_user, workspace=workspace, survivor_id=a.pk, merged_id=b.pk)
        assert seen == [(a.pk, b.pk)]
        assert Merge.objects.in_workspace(workspace).get().moved["test_mover"] == 1
    finally:
        merge._movers["customers.contact"] = [
            m for m in merge._movers["customers.contact"] if m[0] != "test_mover"
        ]
