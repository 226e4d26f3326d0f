"""Consent: recording, history, the current state and may_contact."""

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.common.errors import ApplicationError, NotFound, PermissionDenied
from guanxi.customers.models import Consent, ConsentEvent
from guanxi.customers.services import consent
from guanxi.customers.tests.factories import ContactFactory
from guanxi.platform.models import AuditEntry, RoleFieldRule
from guanxi.platform.tests.factories import UserFactory


@pytest.fixture
def rep(workspace):
    return UserFactory(workspace=workspace)


@pytest.fixture
def person(workspace, rep):
    return ContactFactory(workspace=workspace, owner=rep, name="张三")


def record(actor, workspace, person, **kw):
    args = {
        "channel": "email",
        "purpose": "marketing",
        "status": "granted",
        "method": "web_form",
        "notice_version": "v1",
    }
    args.update(kw)
    return consent.consent_record(actor=actor, workspace=workspace, contact_id=person.pk, **args)


def test_record_keeps_current_state_and_appends_history(workspace, rep, person):
    assert not consent.may_contact(
        workspace=workspace, contact_id=person.pk, channel="email", purpose="marketing"
    )
    record(rep, workspace, person)
    assert consent.may_contact(
        workspace=workspace, contact_id=person.pk, channel="email", purpose="marketing"
    )
    record(rep, workspace, person, status="withdrawn", method="sms", note="回T退订")
    assert not consent.may_contact(
        workspace=workspace, contact_id=person.pk, channel="email", purpose="marketing"
    )
    current = Consent.objects.in_workspace(workspace).get(contact=person)
    assert (current.status, current.method, current.recorded_by_id) == ("withdrawn", "sms", rep.pk)
    history = list(consent.consent_history(workspace=workspace, contact=person))
    assert [e.status for e in history] == ["withdrawn", "granted"]
    assert history[0].note == "回T退订"
    entries = AuditEntry.objects.in_workspace(workspace).filter(
        object_key="customers.contact", object_id=str(person.pk)
    )
    assert entries.count() == 2
    assert entries.last().changes["consent.email.marketing"] == ["granted", "withdrawn"]


def test_an_older_answer_joins_the_history_but_not_the_state(workspace, rep, person):
    record(rep, workspace, person, status="withdrawn")
    record(
        rep,
        workspace,
        person,
        status="granted",
        effective_at=timezone.now() - dt.timedelta(days=30),
    )
    assert Consent.objects.in_workspace(workspace).get(contact=person).status == "withdrawn"
    assert ConsentEvent.objects.in_workspace(workspace).filter(contact=person).count() == 2


def test_may_contact_defaults(workspace, person):
    ask = dict(workspace=workspace, contact_id=person.pk, channel="sms")
    assert consent.may_contact(**ask, purpose="service")
    assert not consent.may_contact(**ask, purpose="marketing")
    assert not consent.may_contact(**ask, purpose="surveys")
    assert not consent.may_contact(
        workspace=workspace, contact_id=10**9, channel="sms", purpose="service"
    )
    assert not consent.may_contact(
        workspace=workspace, contact_id="x", channel="sms", purpose="service"
    )


def test_may_contact_is_per_workspace(workspace, other_workspace, rep, person):
    record(rep, workspace, person)
    assert not consent.may_contact(
        workspace=other_workspace, contact_id=person.pk, channel="email", purpose="marketing"
    )


def test_state_and_grid(workspace, rep, person):
    record(rep, workspace, person, channel="sms", purpose="surveys")
    state = consent.consent_state(person)
    assert set(state) == {("sms", "surveys")}
    grid = consent.consent_grid(person)
    cells = {(c.channel, c.purpose): c for row in grid for c in row}
    assert cells[("sms", "surveys")].allowed
    assert not cells[("email", "marketing")].allowed
    assert cells[("email", "service")].allowed


@pytest.mark.parametrize(
    "bad",
    [
        {"channel": "pigeon"},
        {"channel": "visit"},
        {"purpose": "spam"},
        {"status": "maybe"},
        {"method": "telepathy"},
        {"notice_version": "x" * 41},
        {"note": "bad\x00"},
        {"effective_at": "yesterday"},
        {"effective_at": timezone.now() + dt.timedelta(days=2)},
    ],
)
def test_bad_input_is_a_field_error_and_writes_nothing(workspace, rep, person, bad):
    with pytest.raises(ApplicationError) as exc:
        record(rep, workspace, person, **bad)
    assert set(exc.value.fields) == set(bad)
    assert not ConsentEvent.objects.in_workspace(workspace).exists()
    assert not Consent.objects.in_workspace(workspace).exists()


def test_rights_visibility_and_workspaces(workspace, other_workspace, rep, person):
    reader = UserFactory(workspace=workspace, role_code="read_only")
    with pytest.raises(PermissionDenied):
        record(reader, workspace, person)
    other_rep = UserFactory(workspace=workspace)
    with pytest.raises(NotFound):
        record(other_rep, workspace, person)
    foreign = UserFactory(workspace=other_workspace, role_code="administrator")
    with pytest.raises(NotFound):
        record(foreign, other_workspace, person)
    assert not ConsentEvent.objects.in_workspace(workspace).exists()


def test_read_only_consent_field_refuses(workspace, rep, person):
    RoleFieldRule.objects.create(
        workspace=workspace,
        role=rep.role,
        object_key="customers.contact",
        field="consent",
        access="read_only",
    )
    with pytest.raises(PermissionDenied):
        record(rep, workspace, person)


def test_system_caller_may_record_without_an_actor(workspace, person):
    consent.consent_record(
        actor=None,
        workspace=workspace,
        contact_id=person.pk,
        channel="sms",
        purpose="marketing",
        status="withdrawn",
        method="sms",
        check_rights=False,
    )
    assert ConsentEvent.objects.in_workspace(workspace).get().recorded_by is None
