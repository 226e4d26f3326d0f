"""A person's export includes what the activities hold about them; erasure removes their words
and addresses from e-mails and from the timeline entries about them alone, and keeps the facts."""

import pytest

from guanxi.activities.models import EmailMessage, TimelineEntry
from guanxi.activities.services.timeline import record_entry
from guanxi.customers.services import privacy
from guanxi.customers.tests.factories import AccountFactory, ContactFactory
from guanxi.platform.tests.factories import UserFactory


@pytest.fixture
def manager(workspace):
    return UserFactory(workspace=workspace, role_code="sales_manager")


@pytest.fixture
def people(workspace, manager):
    account = AccountFactory(workspace=workspace, owner=manager)
    person = ContactFactory(
        workspace=workspace, account=account, owner=manager, email="li@example.cn"
    )
    other = ContactFactory(workspace=workspace, account=account, owner=manager)
    return account, person, other


def test_export_and_erase(workspace, manager, people):
    account, person, other = people
    alone = record_entry(
        workspace=workspace,
        author=manager,
        kind="call",
        contacts=[person],
        subject="李总说他母亲住院了",
        body="下月再联系",
    )
    shared = record_entry(
        workspace=workspace,
        author=manager,
        kind="meeting",
        contacts=[person, other],
        subject="三方会谈",
    )
    mail = EmailMessage.objects.create(
        workspace=workspace,
        direction="in",
        status="filed",
        from_address="li@example.cn",
        to=["sales@example.com"],
        subject="我的身份证复印件",
        body_text="见附件",
        contact=person,
        account=account,
    )

    data = privacy.contact_personal_data(actor=manager, workspace=workspace, contact_id=person.pk)
    assert {e["subject"] for e in data["timeline"]} == {"李总说他母亲住院了", "三方会谈"}
    assert data["emails"][0]["from"] == "li@example.cn"

    privacy.contact_erase(
        actor=manager, workspace=workspace, contact_id=person.pk, reason="本人要求"
    )

    alone.refresh_from_db()
    shared.refresh_from_db()
    mail.refresh_from_db()
    assert (alone.kind, alone.author_id, alone.body) == ("call", manager.pk, "")
    assert "李总" not in alone.subject
    assert shared.subject == "三方会谈"  # about someone else too: kept
    assert (mail.from_address, mail.to, mail.body_text) == ("", [], "")
    assert "身份证" not in mail.subject
    facts = TimelineEntry.objects.in_workspace(workspace).exclude(kind="system")
    assert facts.count() == 2  # the facts stay
