"""Cases by SMS: a text from a known number opens a case for its contact, the next one
threads onto it, an unknown number opens a case and creates no customer; the customer gets
one acknowledgement and hears the agent's answers by SMS."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.customers.models import Account, Contact
from guanxi.customers.tests.factories import ContactFactory
from guanxi.integrations import sms
from guanxi.integrations.models import ProviderAccount, ProviderKind, SmsMessage, SmsState
from guanxi.integrations.tests.sms_hooks import post_inbound
from guanxi.service.models import Case, CaseChannel, CaseMessage, CaseStatus, CaseTypeKind
from guanxi.service.services import cases as case_services
from guanxi.service.services import customer_messages

from .cases_support import *  # noqa: F403
from .channels_support import *  # noqa: F403

MOBILE = "+8613812345678"


@pytest.fixture
def texter(service_ws, account):
    return ContactFactory(workspace=service_ws, name="李雷", account=account, mobile=MOBILE)


def _cases(ws):
    return Case.objects.in_workspace(ws)


def _text(client, account, text, sender=MOBILE, **kwargs):
    response = post_inbound(client, account, sender=sender, text=text, **kwargs)
    assert response.status_code == 200, response.content
    return SmsMessage.objects.in_workspace(account.workspace_id).get(pk=response.json()["id"])


def _outbound(ws, **filters):
    return SmsMessage.objects.in_workspace(ws).filter(direction="out", **filters)


@pytest.mark.django_db
def test_a_text_from_a_known_mobile_opens_a_case_for_its_contact(
    client, service_ws, sms_account, texter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = _text(client, sms_account, "打印机坏了，一直卡纸\n型号 HP-1020")
    case = _cases(service_ws).get()
    assert case.channel == CaseChannel.SMS
    assert case.contact_id == texter.pk
    assert case.account_id == texter.account_id
    assert case.kind == CaseTypeKind.INQUIRY
    assert case.subject == "打印机坏了，一直卡纸"
    assert case.reply_phone == MOBILE
    assert case.language == "zh-hans"
    [first] = CaseMessage.objects.in_workspace(service_ws).filter(case=case)
    assert first.sms_id == message.pk
    assert first.body.startswith("打印机坏了")
    message.refresh_from_db()
    assert (message.related_object_key, message.related_object_id) == ("service.case", case.pk)
    # The acknowledgement: one text with the case number, sent (console) after commit.
    [ack] = _outbound(service_ws)
    assert ack.phone == MOBILE
    assert ack.purpose == "case_ack"
    assert case.number in ack.body
    assert ack.state == SmsState.SENT
    assert ack.related_object_id == case.pk
    case.refresh_from_db()
    assert case.acknowledged_at is not None


@pytest.mark.django_db
def test_the_next_text_threads_onto_the_open_case(client, service_ws, sms_account, texter):
    _text(client, sms_account, "打印机坏了")
    case = _cases(service_ws).get()
    case_services.case_change_status(
        actor=None, workspace=service_ws, case_id=case.pk, status=CaseStatus.OPEN
    )
    case_services.case_change_status(
        actor=None, workspace=service_ws, case_id=case.pk, status=CaseStatus.WAITING
    )
    second = _text(client, sms_account, "还是不行")
    assert _cases(service_ws).count() == 1
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN  # the customer answered: back from waiting
    last = CaseMessage.objects.in_workspace(service_ws).filter(case=case).order_by("-id").first()
    assert (last.body, last.sms_id, last.channel) == ("还是不行", second.pk, "sms")
    assert last.contact_id == texter.pk
    second.refresh_from_db()
    assert second.related_object_id == case.pk


@pytest.mark.django_db
def test_a_text_after_the_thread_window_opens_a_new_case(client, service_ws, sms_account, texter):
    _text(client, sms_account, "第一次")
    old = _cases(service_ws).get()
    long_ago = old.created_at - dt.timedelta(days=15)
    SmsMessage.objects.in_workspace(service_ws).update(created_at=long_ago)
    _text(client, sms_account, "又坏了")
    assert _cases(service_ws).count() == 2
    assert _cases(service_ws).exclude(pk=old.pk).get().subject == "又坏了"


@pytest.mark.django_db
def test_the_thread_window_is_a_setting(client, service_ws, sms_account, texter, admin_user):
    from guanxi.service.services import channels

    channels.channel_settings_update(
        actor=admin_user, workspace=service_ws, values={"sms_thread_days": 30}
    )
    _text(client, sms_account, "第一次")
    old = _cases(service_ws).get()
    SmsMessage.objects.in_workspace(service_ws).update(
        created_at=old.created_at - dt.timedelta(days=15)
    )
    _text(client, sms_account, "还是坏的")
    assert _cases(service_ws).count() == 1


@pytest.mark.django_db
def test_a_text_on_a_resolved_case_opens_a_new_one(client, service_ws, sms_account, texter):
    _text(client, sms_account, "第一次")
    old = _cases(service_ws).get()
    for status in (CaseStatus.OPEN, CaseStatus.RESOLVED):
        case_services.case_change_status(
            actor=None, workspace=service_ws, case_id=old.pk, status=status, resolution="好了"
        )
    _text(client, sms_account, "谢谢")
    assert _cases(service_ws).count() == 2
    old.refresh_from_db()
    assert old.status == CaseStatus.RESOLVED


@pytest.mark.django_db
def test_an_unknown_number_opens_a_case_and_creates_no_customer(
    client, service_ws, sms_account, texter, django_capture_on_commit_callbacks
):
    contacts, accounts = (
        Contact.objects.in_workspace(service_ws).count(),
        Account.objects.in_workspace(service_ws).count(),
    )
    stranger = "+8613900001111"
    with django_capture_on_commit_callbacks(execute=True):
        _text(client, sms_account, "my router is broken", sender="139 0000 1111")
    case = _cases(service_ws).get()
    assert case.contact_id is None and case.account_id is None
    assert case.reply_phone == stranger
    assert case.language == "en"
    assert Contact.objects.in_workspace(service_ws).count() == contacts
    assert Account.objects.in_workspace(service_ws).count() == accounts
    [ack] = _outbound(service_ws)
    assert ack.phone == stranger and case.number in ack.body
    # The stranger's next text joins their case; the known contact's text does not.
    _text(client, sms_account, "still broken", sender=stranger)
    assert _cases(service_ws).count() == 1
    _text(client, sms_account, "我的打印机")
    assert _cases(service_ws).count() == 2
    assert _cases(service_ws).get(contact=texter).reply_phone == MOBILE


@pytest.mark.django_db
def test_a_number_shared_by_two_contacts_belongs_to_neither(
    client, service_ws, sms_account, texter
):
    ContactFactory(workspace=service_ws, name="韩梅梅", phone=MOBILE)
    _text(client, sms_account, "谁的电话")
    case = _cases(service_ws).get()
    assert case.contact_id is None
    assert case.reply_phone == MOBILE


@pytest.mark.django_db
def test_a_further_number_on_file_finds_the_contact(client, service_ws, sms_account, contact):
    from guanxi.customers.models import ContactPoint, PointKind

    ContactPoint.objects.create(
        workspace=service_ws, contact=contact, kind=PointKind.PHONE, value="+8613700002222"
    )
    _text(client, sms_account, "你好", sender="+8613700002222")
    assert _cases(service_ws).get().contact_id == contact.pk


@pytest.mark.django_db
def test_another_customers_open_case_is_not_joined(client, service_ws, sms_account, texter):
    _text(client, sms_account, "李雷的问题")
    other_mobile = "+8613711112222"
    ContactFactory(workspace=service_ws, name="韩梅梅", mobile=other_mobile)
    _text(client, sms_account, "韩梅梅的问题", sender=other_mobile)
    assert _cases(service_ws).count() == 2
    assert {c.subject for c in _cases(service_ws)} == {"李雷的问题", "韩梅梅的问题"}


@pytest.mark.django_db
def test_a_short_code_or_empty_text_opens_no_case(client, service_ws, sms_account):
    _text(client, sms_account, "您的余额不足", sender="10086")
    _text(client, sms_account, "   ")
    assert not _cases(service_ws).exists()
    assert SmsMessage.objects.in_workspace(service_ws).filter(direction="in").count() == 2


@pytest.mark.django_db
def test_the_acknowledgement_goes_once(
    service_ws, agent, texter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(agent, contact=texter, channel="sms")  # noqa: F405
        customer_messages.case_acknowledge(case)
        case.acknowledged_at = None  # a caller holding a stale copy
        customer_messages.case_acknowledge(case)
    assert _outbound(service_ws, purpose="case_ack").count() == 1


@pytest.mark.django_db
def test_no_address_no_acknowledgement(service_ws, agent, account):
    case = make_case(agent, account=account, channel="phone")  # noqa: F405
    case.refresh_from_db()
    assert case.acknowledged_at is None
    assert not _outbound(service_ws).exists()


@pytest.mark.django_db
def test_the_agents_answer_reaches_the_customer_by_sms(
    client, service_ws, sms_account, texter, agent, django_capture_on_commit_callbacks
):
    _text(client, sms_account, "打印机坏了")
    case = _cases(service_ws).get()
    with django_capture_on_commit_callbacks(execute=True):
        answer = case_services.case_reply(
            actor=agent, workspace=service_ws, case_id=case.pk, body="请重启打印机试试"
        )
    answer.refresh_from_db()
    reply = _outbound(service_ws, purpose="case_reply").get()
    assert answer.sms_id == reply.pk
    assert reply.phone == MOBILE
    assert reply.body.startswith("请重启打印机试试")
    assert case.number in reply.body
    assert reply.state == SmsState.SENT
    # An internal note goes nowhere.
    case_services.case_reply(
        actor=agent, workspace=service_ws, case_id=case.pk, body="内部备注", internal=True
    )
    assert _outbound(service_ws, purpose="case_reply").count() == 1
    # The customer's answer threads onto the case.
    _text(client, sms_account, "重启好了")
    assert _cases(service_ws).count() == 1


@pytest.mark.django_db
def test_a_long_answer_is_shortened_to_one_text(service_ws, sms_account, texter, agent):
    case = make_case(agent, contact=texter, channel="sms")  # noqa: F405
    case_services.case_reply(actor=agent, workspace=service_ws, case_id=case.pk, body="很" * 3000)
    reply = _outbound(service_ws, purpose="case_reply").get()
    assert len(reply.body) <= sms.BODY_MAX
    assert case.number in reply.body


@pytest.mark.django_db
def test_a_contact_who_refused_service_texts_gets_none(service_ws, texter, agent):
    from guanxi.customers.models import Consent, ConsentPurpose, ConsentStatus

    Consent.objects.create(
        workspace=service_ws,
        contact=texter,
        channel="sms",
        purpose=ConsentPurpose.SERVICE,
        status=ConsentStatus.WITHDRAWN,
        effective_at=timezone.now(),
    )
    make_case(agent, contact=texter, channel="sms")  # noqa: F405
    assert not _outbound(service_ws).exists()


@pytest.mark.django_db
def test_another_workspaces_key_opens_cases_only_there(
    client, service_ws, sms_account, texter, other_workspace
):
    from guanxi.service.services.case_types import service_setup

    service_setup(other_workspace)
    theirs = ProviderAccount.objects.create(
        workspace=other_workspace, kind=ProviderKind.SMS, provider="webhook"
    )
    # Our secret on their key is refused; their own request stays in their workspace.
    response = post_inbound(
        client, sms_account, sender=MOBILE, text="hi", public_key=theirs.public_key
    )
    assert response.status_code == 401
    _text(client, theirs, "他们的工单")
    assert not _cases(service_ws).exists()
    case = _cases(other_workspace).get()
    assert case.contact_id is None  # our contact with that number is not theirs


@pytest.mark.django_db
def test_end_to_end_through_a_webhook_gateway(
    client, service_ws, texter, django_capture_on_commit_callbacks
):
    """The gateway (a local HTTP server that checks our signature) posts a text in; the
    case is opened and its acknowledgement goes out through the gateway, signed."""
    from guanxi.integrations.tests.http_provider import ProviderServer

    server = ProviderServer().start()
    try:
        account = ProviderAccount.objects.create(
            workspace=service_ws,
            kind=ProviderKind.SMS,
            provider="webhook",
            options={"send_url": server.url},
        )
        server.secret = account.secret
        with django_capture_on_commit_callbacks(execute=True):
            _text(client, account, "空调不制冷")
        case = _cases(service_ws).get()
        [(_headers, payload, signature_ok)] = server.requests
        assert signature_ok
        assert payload["to"] == MOBILE and case.number in payload["text"]
        ack = _outbound(service_ws).get()
        assert (ack.state, ack.provider, ack.provider_message_id) == ("sent", "webhook", "gw-1")
    finally:
        server.stop()
